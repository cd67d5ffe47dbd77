// What the rewards pages (the partner's #/rewards and the vendor's #/admin/rewards…) share: amounts in a campaign's
// unit (points, or minor units of a currency), rules in plain words, statuses with their labels, tones and next steps,
// and the tabs of the vendor's pages.
import { badge, h } from '../dom.js';
import { CURRENCIES, CURRENCY_DIGITS, statusLabel } from '../reference.js';
import { formatMinor, parseMoney } from '../money.js';

export const POINTS = 'points';
const MINUS = '\u2212';

/** The units a campaign may pay in: points, then the currencies the API accepts. */
export const UNITS = [[POINTS, 'Points'], ...CURRENCIES.map(([code, name]) => [code, `${code} – ${name}`])];

/** An amount in a unit as people read it: "1,500 points", "$50.00", "−$20.00" (U+2212). */
export function unitAmount(amount, unit) {
  const value = Number(amount);
  if (!Number.isFinite(value) || !unit) return '—';
  if (unit === POINTS) {
    const text = `${Math.abs(value).toLocaleString('en-US')} point${Math.abs(value) === 1 ? '' : 's'}`;
    return value < 0 ? `${MINUS}${text}` : text;
  }
  try {
    return formatMinor(value, unit) || `${value} ${unit}`;
  } catch {
    return `${value} ${unit}`;
  }
}

/**
 * A typed amount in `unit` as the API's integer (points, or minor units of the currency): {ok, value} or
 * {ok: false, error}. `positive` refuses zero.
 */
export function parseUnitAmount(input, unit, { positive = true, what = 'an amount' } = {}) {
  const text = String(input ?? '').trim();
  if (text === '') return { ok: false, error: `Enter ${what}.` };
  if (unit === POINTS) {
    if (!/^(\d{1,3}(?:,\d{3})+|\d+)$/.test(text)) return { ok: false, error: 'Enter a whole number of points.' };
    const value = Number(text.replaceAll(',', ''));
    if (!Number.isSafeInteger(value) || value > 1e15) return { ok: false, error: 'That amount is too large.' };
    if (positive && value === 0) return { ok: false, error: 'Enter an amount greater than zero.' };
    return { ok: true, value };
  }
  if (CURRENCY_DIGITS[unit] === undefined) return { ok: false, error: 'Choose the campaign’s unit first.' };
  const money = parseMoney(text, unit);
  if (!money.ok) return { ok: false, error: money.error };
  if (positive && money.minor === 0) return { ok: false, error: 'Enter an amount greater than zero.' };
  return { ok: true, value: money.minor };
}

/** An API integer in `unit` as the text a person would type (minor units back to "50.00"). */
export function unitInput(amount, unit) {
  if (amount === null || amount === undefined) return '';
  if (unit === POINTS || CURRENCY_DIGITS[unit] === undefined) return String(amount);
  const digits = CURRENCY_DIGITS[unit];
  if (!digits) return String(amount);
  const value = BigInt(amount);
  const scale = 10n ** BigInt(digits);
  return `${value / scale}.${(value % scale).toString().padStart(digits, '0')}`;
}

/**
 * An amount as the API words it in a rule (shared/money.py format_amount): "1,500 points", "2.50 USD", "1,200 JPY";
 * the rule preview then reads exactly as partners will read the rule.
 */
export function ruleAmount(amount, unit) {
  const value = BigInt(amount ?? 0);
  const grouped = (n) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (unit === POINTS) return `${grouped(value)} points`;
  const digits = CURRENCY_DIGITS[unit] ?? 2;
  if (!digits) return `${grouped(value)} ${unit}`;
  const scale = 10n ** BigInt(digits);
  return `${grouped(value / scale)}.${(value % scale).toString().padStart(digits, '0')} ${unit}`;
}

/**
 * A rule in plain words: the API's own wording (`in_words`) when it gives one, else said from the rule object the way
 * the API says it (rewards/domain/campaigns.py), rounding stated.
 */
export function ruleWords(rule, unit) {
  if (rule?.in_words) return rule.in_words;
  const amount = (value) => ruleAmount(value, unit);
  switch (rule?.kind) {
    case 'deal_won_fixed':
      return `${amount(rule.amount)} for each won deal`;
    case 'deal_won_per_sku':
      return `${amount(rule.amount)} for each won deal that includes ${rule.sku}`;
    case 'deal_won_per_thousand':
      return (
        `${amount(rule.amount_per_thousand)} per 1,000 ${rule.currency} of won deal value ` +
        `(deals won in ${rule.currency} only; rounded down)`
      );
    case 'certification_earned':
      return `${amount(rule.amount)} the first time a person earns certification ${rule.certification_id}`;
    case 'spiff_claim':
      return `${amount(rule.amount)} for an approved claim: ${rule.description}`;
    default:
      return 'A rule this page cannot describe.';
  }
}

export const RULE_KINDS = [
  ['deal_won_fixed', 'Fixed amount per won deal'],
  ['deal_won_per_sku', 'Amount per won deal with a product (SKU)'],
  ['deal_won_per_thousand', 'Amount per 1,000 of won deal value'],
  ['certification_earned', 'Amount for a certification earned'],
  ['spiff_claim', 'SPIFF that partners claim with proof'],
];

export const REGIONS = [
  ['AMER', 'Americas'],
  ['EMEA', 'Europe, Middle East and Africa'],
  ['APAC', 'Asia Pacific'],
];

/** Who a campaign is open to, in words ("Everyone", "Gold partners in EMEA; resellers"). */
export function eligibilityWords(eligibility) {
  const e = eligibility || {};
  const parts = [];
  if (e.tiers?.length) parts.push(`tiers: ${e.tiers.join(', ')}`);
  if (e.regions?.length) parts.push(`regions: ${e.regions.join(', ')}`);
  if (e.partner_types?.length) parts.push(`partner types: ${e.partner_types.join(', ')}`);
  return parts.length ? `Open to ${parts.join('; ')}` : 'Open to every partner';
}

// ------------------------------------------------------------------ statuses

const LABELS = {
  on_hold: 'On hold',
  requested: 'Requested',
  returned: 'More proof needed',
  submitted: 'Under review',
};

export function rewardStatusLabel(status) {
  return LABELS[status] || statusLabel(status);
}

const TONES = {
  pending: 'pending',
  requested: 'pending',
  submitted: 'pending',
  building: 'pending',
  ready: 'pending',
  approved: 'ok',
  available: 'ok',
  open: 'ok',
  paid: 'ok',
  fulfilled: 'ok',
  on_hold: 'warn',
  returned: 'warn',
  declined: 'bad',
  rejected: 'bad',
  reversed: 'bad',
  expired: 'neutral',
  cancelled: 'neutral',
  closed: 'neutral',
};

export function rewardStatusBadge(status, testid) {
  return badge(rewardStatusLabel(status), TONES[status] || 'neutral', testid);
}

/** What happens next to a line of the history (a reward or a redemption), or '' when nothing more will. */
export function historyNextStep(entry) {
  const status = entry.status;
  if (entry.type === 'reward') {
    if (status === 'pending') return 'Waiting for the channel team’s approval';
    if (status === 'on_hold') return 'On hold until the channel team decides';
    if (status === 'approved') return 'Becomes available to redeem';
    if (status === 'available') return 'Ready to redeem';
    return '';
  }
  return redemptionNextStep(entry);
}

export function redemptionNextStep(redemption) {
  const status = redemption.status;
  if (status === 'requested') {
    return redemption.kind === 'item' ? 'The vendor sends the item' : 'Finance approves the payout';
  }
  if (status === 'approved') return 'Paid with the next payout batch';
  if (status === 'on_hold') return 'Paid once your organisation’s tax form is on file';
  return '';
}

export function claimNextStep(claim) {
  if (claim.status === 'submitted') return 'The channel team reviews the proof';
  if (claim.status === 'returned') return 'Add proof and resubmit';
  if (claim.status === 'approved') return 'Earned: the reward is in your history';
  return '';
}

/** A reward's source as a link or text: a won deal links to the deal's page. */
export function sourceText(source) {
  if (!source) return '—';
  const revision = Number(source.revision) > 1 ? ` (correction ${source.revision})` : '';
  if (source.kind === 'deal') {
    return h(
      'a',
      { href: `#/deals/${encodeURIComponent(source.id)}`, 'data-testid': 'source-deal-link' },
      `${source.label ? `Deal with ${source.label}` : `Deal ${source.id}`}${revision}`,
    );
  }
  if (source.kind === 'certification') return `Certification ${source.label || source.id}`;
  if (source.kind === 'claim') return `Claim ${source.id}`;
  return source.description || `${source.kind} ${source.id}`;
}

// ------------------------------------------------------------------ the vendor's tabs

export const ADMIN_TABS = [
  ['/admin/rewards', 'Campaigns', 'rewards-tab-campaigns'],
  ['/admin/rewards/attention', 'Needs attention', 'rewards-tab-attention'],
  ['/admin/rewards/catalogue', 'Catalogue', 'rewards-tab-catalogue'],
  ['/admin/rewards/payouts', 'Payouts and tax forms', 'rewards-tab-payouts'],
];

export function adminTabs(current) {
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Rewards administration' },
    h(
      'ul',
      {},
      ADMIN_TABS.map(([href, text, testid]) =>
        h(
          'li',
          {},
          h('a', { href: `#${href}`, 'data-testid': testid, 'aria-current': href === current ? 'page' : null }, text),
        ),
      ),
    ),
  );
}
