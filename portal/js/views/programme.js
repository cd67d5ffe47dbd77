// #/programme: the organisation's partner tier, its benefits, how it stands against the criteria of its tier and of
// the next one (value, threshold, a progress bar and what is missing), a grace period or a pending upgrade, and the
// tier's history.
import { api } from '../api.js';
import { append, badge, clear, dataTable, dateish, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import { moneyText } from '../money.js';
import { statusLabel } from '../reference.js';

export async function renderProgramme(ctx) {
  const body = h('div', {}, loading('Loading your programme tier…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'programme-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'programme-title' }, 'Programme'),
        'Your organisation’s tier in the partner programme, what it brings, and what the next tier needs.',
        h('a', { class: 'button', href: '#/training', 'data-testid': 'programme-training-link' }, 'Training'),
      ),
      body,
    ),
  );

  let standing;
  try {
    standing = await api.get('/programme');
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    if (error.status === 404) {
      body.replaceChildren(noTierYet());
      return;
    }
    body.replaceChildren(errorPanel(`We could not load your programme tier. ${error.message}`, ctx.rerender));
    return;
  }
  if (!ctx.isCurrent()) return;
  append(clear(body), standingView(standing)); // skips the parts that do not apply (null)
}

/**
 * The page's content for `GET /programme`: `tier` ({tier_id, name, rank, since, benefits}); `current` and `next`
 * ({tier: {tier_id, name, rank}, criteria: [{kind, key, label, currency, value, threshold, met, missing}], missing});
 * `pending_upgrade`, `grace_period` and `history` (newest first).
 */
export function standingView(standing, { who = null } = {}) {
  if (!standing.tier?.tier_id) return [noTierYet()];
  const { current, next } = standing;
  // `who`: the organisation's name when vendor staff read it (the partner's own page says "your organisation")
  const names = who ? { subject: who, object: who, tier: `${who}’s tier ` } : OWN;
  return [
    tierCard(standing, names),
    pendingUpgrade(standing.pending_upgrade, names),
    gracePeriod(standing.grace_period, standing.tier, names),
    h(
      'div',
      { class: 'grid-2 criteria-grid' },
      next ? criteriaCard(next, { role: 'next', names }) : topTier(standing.tier),
      current && (current.criteria || []).length ? criteriaCard(current, { role: 'current', names }) : null,
    ),
    historySection(standing.history || []),
  ];
}

const OWN = { subject: 'Your organisation', object: 'your organisation', tier: 'Your tier ' };

function noTierYet() {
  return h(
    'div',
    { class: 'empty-state', 'data-testid': 'programme-empty' },
    h('h2', {}, 'No tier yet'),
    h(
      'p',
      { class: 'muted' },
      'The vendor has not published the programme’s tiers yet, or your tier is being set up.',
    ),
  );
}

function tierCard(standing, names) {
  const { tier } = standing;
  const benefits = Array.isArray(tier.benefits) ? tier.benefits : [];
  return h(
    'section',
    { class: 'card tier-card', 'aria-labelledby': 'tier-heading', 'data-testid': 'programme-current' },
    h(
      'div',
      { class: 'tier-head' },
      h(
        'h2',
        { id: 'tier-heading' },
        h('span', { class: 'muted tier-label' }, names.tier),
        h(
          'span',
          { class: 'tier-name', 'data-testid': 'programme-tier', 'data-tier-id': tier.tier_id },
          tier.name || '—',
        ),
      ),
      tier.since
        ? h('p', { class: 'muted small tier-since' }, 'Since ', dateish(tier.since, 'programme-tier-since'))
        : null,
    ),
    benefits.length
      ? [
          h('h3', { id: 'benefits-heading' }, `${tier.name || 'Tier'} benefits`),
          h(
            'ul',
            { class: 'benefits', 'aria-labelledby': 'benefits-heading', 'data-testid': 'programme-benefits' },
            benefits.map((benefit) => h('li', { 'data-testid': 'programme-benefit' }, benefit)),
          ),
        ]
      : h('p', { class: 'muted', 'data-testid': 'programme-benefits-none' }, 'This tier has no listed benefits.'),
    standing.criteria_version
      ? h(
          'p',
          { class: 'muted small' },
          'Judged by the criteria version ',
          h('code', { 'data-testid': 'programme-criteria-version' }, standing.criteria_version),
          '.',
        )
      : null,
  );
}

function pendingUpgrade(pending, names) {
  if (!pending) return null;
  const proposed = pending.proposed?.name || 'the next tier';
  return h(
    'p',
    { class: 'notice', role: 'note', 'data-testid': 'programme-pending-upgrade' },
    h('strong', {}, `Upgrade to ${proposed} requested. `),
    `${names.subject} meets the criteria; the channel team is confirming the upgrade`,
    pending.requested_at ? [' (requested ', timeEl(pending.requested_at, { dateOnly: true }), ')'] : null,
    '.',
  );
}

function gracePeriod(grace, tier, names) {
  if (!grace) return null;
  const missing = Array.isArray(grace.missing) ? grace.missing : [];
  return h(
    'section',
    { class: 'notice notice-warn grace', 'aria-labelledby': 'grace-heading', 'data-testid': 'programme-grace' },
    h('h2', { id: 'grace-heading' }, 'Grace period'),
    h(
      'p',
      {},
      `${names.subject} no longer meets every ${tier.name} criterion. It keeps ${tier.name} until `,
      dateish(grace.ends_on, 'grace-ends-on'),
      '; after that it would become ',
      h('strong', { 'data-testid': 'grace-would-become' }, grace.would_become?.name || '—'),
      ' unless it meets them again.',
    ),
    missing.length
      ? [
          h('p', { class: 'strong', id: 'grace-missing-heading' }, 'What is missing'),
          h(
            'ul',
            { 'aria-labelledby': 'grace-missing-heading', 'data-testid': 'grace-missing' },
            missing.map((text) => h('li', {}, text)),
          ),
        ]
      : null,
  );
}

function topTier(tier) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'top-tier-heading', 'data-testid': 'programme-top-tier' },
    h('h2', { id: 'top-tier-heading' }, 'Top tier'),
    h('p', {}, `${tier.name || 'This'} is the programme’s highest tier.`),
  );
}

/**
 * One tier's criteria: `role` "next" (what the next tier needs, with a summary of what is missing) or "current"
 * (what keeps the current tier).
 */
function criteriaCard(view, { role, names = OWN }) {
  const name = view.tier?.name || '';
  const criteria = Array.isArray(view.criteria) ? view.criteria : [];
  const missing = Array.isArray(view.missing) ? view.missing : [];
  const headingId = `${role}-criteria-heading`;
  return h(
    'section',
    {
      class: 'card criteria-card',
      'aria-labelledby': headingId,
      'data-testid': `criteria-${role}`,
      'data-tier-id': view.tier?.tier_id,
    },
    h('h2', { id: headingId }, role === 'next' ? `Next tier: ${name}` : `Keeping ${name}`),
    role === 'next'
      ? missing.length
        ? h(
            'div',
            { class: 'missing-summary', 'data-testid': 'next-missing' },
            h('p', { class: 'strong' }, `To reach ${name}:`),
            h('ul', {}, missing.map((text) => h('li', { 'data-testid': 'missing-sentence' }, text))),
          )
        : h(
            'p',
            { class: 'notice notice-ok', 'data-testid': 'next-missing' },
            `${names.subject} meets every ${name} criterion.`,
          )
      : h('p', { class: 'muted small' }, `What ${names.object} needs to keep ${name}.`),
    criteria.length
      ? h(
          'ul',
          { class: 'criteria plain-list' },
          criteria.map((criterion, i) => criterionItem(criterion, `${role}-${i}`)),
        )
      : h('p', { class: 'muted' }, 'This tier has no criteria.'),
  );
}

/**
 * A criterion's value and threshold as text, and as numbers for the progress bar. Won revenue comes in minor units of
 * its `currency`; a manual criterion (confirmed by the channel team) is met or not, so it has no bar.
 */
function measure(criterion) {
  const { value, threshold } = criterion;
  if (criterion.kind === 'manual' || typeof threshold === 'boolean') {
    const met = Boolean(criterion.met);
    return { text: met ? 'Confirmed by the channel team' : 'Not confirmed yet', now: met ? 1 : 0, max: 1, bar: false };
  }
  if (criterion.currency) {
    const money = (minor) => moneyText({ amount_minor: Number(minor ?? 0), currency: criterion.currency });
    const text = `${money(value)} of ${money(threshold)}`;
    return { text, now: Number(value ?? 0), max: Number(threshold), bar: true };
  }
  const now = Number(value ?? 0);
  const max = Number(threshold);
  return { text: `${now} of ${max}`, now, max, bar: true };
}

/** "certified engineer" -> "Certified engineer" (labels are the vendor's words, as in the missing sentence). */
function sentenceCase(text) {
  const value = String(text || '');
  return value.charAt(0).toUpperCase() + value.slice(1);
}

function criterionItem(criterion, slot) {
  const m = measure(criterion);
  const labelId = `criterion-${slot}-label`;
  const max = m.max > 0 ? m.max : 1; // thresholds are at least 1; never a division by zero
  const shown = Math.min(Math.max(m.now, 0), max); // over the threshold: a full bar
  const percent = Math.floor((shown / max) * 100);
  return h(
    'li',
    {
      class: `criterion${criterion.met ? ' is-met' : ''}`,
      'data-testid': 'criterion',
      'data-kind': criterion.kind,
      'data-criterion': criterion.key,
      'data-met': String(Boolean(criterion.met)),
    },
    h(
      'div',
      { class: 'criterion-head' },
      h(
        'span',
        { class: 'criterion-label', id: labelId, 'data-testid': 'criterion-label' },
        sentenceCase(criterion.label || criterion.kind),
      ),
      criterion.met ? badge('Met', 'ok', 'criterion-met') : badge('Not met', 'pending', 'criterion-met'),
    ),
    h('p', { class: 'criterion-value small', 'data-testid': 'criterion-value' }, m.text),
    m.bar
      ? h(
          'progress',
          {
            class: 'criterion-bar',
            max: String(max),
            value: String(shown),
            'aria-labelledby': labelId,
            'aria-valuetext': `${m.text} (${percent}%)`,
            'data-testid': 'criterion-progress',
          },
          `${percent}%`,
        )
      : null,
    !criterion.met && criterion.missing
      ? h('p', { class: 'criterion-missing small', 'data-testid': 'criterion-missing' }, criterion.missing)
      : null,
  );
}

// History entries by kind: tier changes and the steps around them (grace periods, upgrade requests).
const KINDS = {
  initial: 'Joined the programme',
  upgrade: 'Upgrade',
  downgrade: 'Downgrade',
  grace_started: 'Grace period started',
  grace_ended: 'Grace period ended',
  upgrade_requested: 'Upgrade requested',
  upgrade_rejected: 'Upgrade not approved',
  upgrade_lapsed: 'Upgrade request lapsed',
  upgrade_withdrawn: 'Upgrade request withdrawn',
};

function historySection(history) {
  return h(
    'section',
    { class: 'tier-history', 'aria-labelledby': 'history-heading' },
    h('h2', { id: 'history-heading' }, 'Tier history'),
    history.length
      ? dataTable({
          testid: 'tier-history',
          captionId: 'tier-history-caption',
          caption: `Tier history, newest first (${history.length})`,
          columns: ['Date', 'Change', 'Reason', 'Criteria version'],
          rows: history.map((entry) =>
            h(
              'tr',
              { 'data-testid': 'history-row', 'data-kind': entry.kind },
              h('td', { 'data-label': 'Date' }, timeEl(entry.at, { dateOnly: true, testid: 'history-at' })),
              h(
                'td',
                { 'data-label': 'Change', 'data-testid': 'history-change' },
                entry.previous ? `${entry.previous.name} → ${entry.tier.name}` : entry.tier.name,
                h(
                  'span',
                  { class: 'muted small block', 'data-testid': 'history-kind' },
                  KINDS[entry.kind] || statusLabel(entry.kind),
                ),
              ),
              h('td', { 'data-label': 'Reason', 'data-testid': 'history-reason', class: 'pre' }, entry.reason || '—'),
              h(
                'td',
                { 'data-label': 'Criteria version' },
                h('code', { 'data-testid': 'history-version' }, entry.criteria_version),
              ),
            ),
          ),
        })
      : h('p', { class: 'empty', 'data-testid': 'tier-history-empty' }, 'No tier changes yet.'),
  );
}
