// #/mdf: the partner's market development funds (one card per period and currency) and the chosen fund's ledger,
// newest first, with "Load more". Also the pieces the other MDF pages share (tabs, fund cards, badges, links).
import { api, path } from '../api.js';
import { badge, dataTable, daysUntil, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import { moneyText, signedMoney } from '../money.js';
import { pager } from '../paging.js';
import { statusBadge } from '../record.js';
import { LEDGER_KINDS, claimStatusLabel, claimStatusTone, statusLabel } from '../reference.js';
import { dealHref } from './deals.js';

const EXPIRY_WARNING_DAYS = 30; // the first expiry warning email goes out 30 days before the claim window ends
const LEDGER_PAGE = 25;

export async function renderFunds(ctx) {
  const heading = h('h1', { tabindex: '-1', id: 'mdf-title' }, 'Market development funds');
  const cards = h('div', { class: 'fund-grid', 'data-testid': 'funds' }, loading('Loading your funds…'));
  const ledger = h('section', { class: 'ledger', 'aria-labelledby': 'ledger-title', hidden: true });
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'mdf-title' },
      pageHead(
        heading,
        'Funds for marketing activities, per programme period and currency.',
        requestFundsLink({ primary: true }),
      ),
      mdfTabs('/mdf'),
      cards,
      ledger,
    ),
  );

  let funds;
  try {
    const data = await api.get('/mdf/funds');
    funds = Array.isArray(data?.items) ? data.items : [];
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    cards.replaceChildren(errorPanel(`We could not load your funds. ${error.message}`, ctx.rerender));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!funds.length) {
    cards.replaceChildren(
      h(
        'div',
        { class: 'empty-state', 'data-testid': 'funds-empty' },
        h('h2', {}, 'No funds yet'),
        h(
          'p',
          { class: 'muted' },
          'Funds appear here when the vendor allocates them to your organisation or when won deals accrue them.',
        ),
      ),
    );
    return;
  }

  const wanted = ctx.query.get('fund');
  let selected = funds.find((f) => f.fund_id === wanted) || funds.find((f) => f.status !== 'closed') || funds[0];
  const select = (fund) => {
    selected = fund;
    ctx.setQuery({ fund: fund.fund_id });
    drawCards();
    showLedger(ctx, ledger, fund);
  };
  function drawCards() {
    cards.replaceChildren(...funds.map((fund) => fundCard(fund, { selected: fund === selected, onSelect: select })));
  }
  drawCards();
  showLedger(ctx, ledger, selected);
}

// ------------------------------------------------------------------ shared by the MDF pages

/** The MDF pages' own tabs; `section` marks the tab whose sub-page is shown (a request). */
export function mdfTabs(current, section = null) {
  const tabs = [
    ['/mdf', 'Funds', 'mdf-tab-funds'],
    ['/mdf/requests', 'Fund requests', 'mdf-tab-requests'],
  ];
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Market development funds' },
    h(
      'ul',
      {},
      tabs.map(([target, label, testid]) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: `#${target}`,
              'aria-current': target === current ? 'page' : target === section ? 'true' : null,
              'data-testid': testid,
            },
            label,
          ),
        ),
      ),
    ),
  );
}

export function requestFundsLink({ primary = false, label = 'Request funds' } = {}) {
  return h(
    'a',
    { class: `button${primary ? ' button-primary' : ''}`, href: '#/mdf/requests/new', 'data-testid': 'request-funds' },
    label,
  );
}

/** A request's page; `partnerId`: opened by a vendor admin from that partner's requests (read-only, back to them). */
export function mdfRequestHref(requestId, { partnerId } = {}) {
  const query = partnerId ? `?${new URLSearchParams({ partner: partnerId })}` : '';
  return `#/mdf/requests/${encodeURIComponent(requestId)}${query}`;
}

/** A period as a choice in a list: "Q1 FY2027 (FY27-Q1)". */
export function periodLabel(period) {
  return period.name ? `${period.name} (${period.period_id})` : period.period_id;
}

/** The claim's status as a badge, or an em dash while there is no claim. */
export function claimBadge(status, testid) {
  return status
    ? badge(claimStatusLabel(status), claimStatusTone(status), testid)
    : h('span', { class: 'muted', 'data-testid': testid }, '—');
}

/** The claim window's end, and a warning when it ends within 30 days (unused funds expire then). */
function claimWindow(fund) {
  const ends = fund.claim_window_ends_at;
  const days = ends ? daysUntil(ends) : Number.NaN;
  let warning = null;
  if (fund.status === 'closed' || days <= 0) {
    warning = h('p', { class: 'fund-note muted small', 'data-testid': 'fund-closed' }, 'The claim window has ended.');
  } else if (days <= EXPIRY_WARNING_DAYS) {
    const hasMoney = Number(fund.available?.amount_minor) > 0;
    warning = h(
      'p',
      { class: 'fund-warning', role: 'note', 'data-testid': 'fund-expiry-warning' },
      `The claim window ends in ${days} day${days === 1 ? '' : 's'}.`,
      hasMoney ? ` ${moneyText(fund.available)} still available will expire then.` : '',
    );
  }
  return [
    h(
      'p',
      { class: 'small fund-window' },
      h('span', { class: 'muted' }, 'Claim window ends '),
      timeEl(ends, { dateOnly: true, testid: 'fund-claim-window' }),
    ),
    warning,
  ];
}

/** One fund: its period, currency and running balance; `onSelect` adds a "Show history" button. */
export function fundCard(fund, { selected = false, onSelect } = {}) {
  const amount = (label, key, testid, strong = false) =>
    h(
      'div',
      { class: `fund-amount${strong ? ' fund-amount-main' : ''}` },
      h('dt', {}, label),
      h('dd', { 'data-testid': testid }, moneyText(fund[key])),
    );
  return h(
    'article',
    {
      class: `card fund-card${selected ? ' is-selected' : ''}`,
      'data-testid': 'fund-card',
      'data-fund-id': fund.fund_id,
      'aria-labelledby': `fund-${cssId(fund.fund_id)}`,
    },
    h(
      'div',
      { class: 'fund-head' },
      h(
        'h2',
        { id: `fund-${cssId(fund.fund_id)}`, class: 'fund-title' },
        h('span', { 'data-testid': 'fund-period' }, fund.period_name || fund.period_id),
        ' ',
        h('span', { class: 'fund-currency', 'data-testid': 'fund-currency' }, fund.currency),
      ),
      statusBadge(fund.status || 'open', 'fund-status'),
    ),
    h(
      'dl',
      { class: 'fund-amounts' },
      amount('Available', 'available', 'fund-available', true),
      amount('Reserved', 'reserved', 'fund-reserved'),
      amount('Paid', 'paid', 'fund-paid'),
      amount('Expired', 'expired', 'fund-expired'),
    ),
    fund.allocated || fund.accrued ? fundSources(fund) : null,
    claimWindow(fund),
    onSelect
      ? h(
          'button',
          {
            type: 'button',
            class: 'button button-small',
            'aria-pressed': String(selected),
            'aria-controls': 'ledger',
            'data-testid': 'show-ledger',
            onclick: () => onSelect(fund),
          },
          selected ? 'History shown below' : 'Show history',
        )
      : null,
  );
}

/**
 * Where the fund's money came from and went, every running total of the fund the API gives (functions/mdf fund_view),
 * so that it adds up to what the fund holds: allocated + accrued + adjusted (the vendor's net corrections, may be
 * negative) − accruals reversed + clawback outstanding = available + reserved + paid + expired. The clawback is the
 * part of a reversed accrual the partner had already reserved or spent: it is still in reserved or paid, and owed
 * back. Adjusted, reversed and clawback are left out while zero.
 */
function fundSources(fund) {
  const minor = (money) => Number(money?.amount_minor) || 0;
  const term = (label, money, sign, testid) => [' · ', label, ' ', h('span', { 'data-testid': testid }, signedMoney(money, sign))];
  const optional = (label, money, sign, testid) => (minor(money) ? term(label, money, sign, testid) : null);
  const held = ['available', 'reserved', 'paid', 'expired'].reduce((sum, key) => sum + minor(fund[key]), 0);
  const clawback = minor(fund.clawback_outstanding);
  return h(
    'p',
    { class: 'muted small fund-totals', 'data-testid': 'fund-totals' },
    'Allocated ',
    h('span', { 'data-testid': 'fund-allocated' }, moneyText(fund.allocated)),
    term('accrued', fund.accrued, 1, 'fund-accrued'),
    optional('adjusted', fund.adjusted, Math.sign(minor(fund.adjusted)), 'fund-adjusted'),
    optional('accruals reversed', fund.accrual_reversed, -1, 'fund-accrual-reversed'),
    optional('clawback outstanding', fund.clawback_outstanding, 1, 'fund-clawback'),
    ' = ',
    h('span', { 'data-testid': 'fund-held' }, moneyText({ amount_minor: held, currency: fund.currency })),
    ' (available + reserved + paid + expired).',
    clawback
      ? h(
          'span',
          { class: 'block', 'data-testid': 'fund-clawback-note' },
          `${moneyText(fund.clawback_outstanding)} of the reversed accruals had already been reserved or spent: ` +
            'it stays in reserved or paid and is owed back to the vendor.',
        )
      : null,
  );
}

function cssId(value) {
  return String(value).replace(/[^A-Za-z0-9_-]/g, '_');
}

// ------------------------------------------------------------------ ledger

let ledgerShown = 0; // a late answer for a fund no longer shown is dropped

function showLedger(ctx, section, fund) {
  const shown = ++ledgerShown;
  section.hidden = false;
  section.id = 'ledger';
  const title = h(
    'h2',
    { id: 'ledger-title', tabindex: '-1' },
    `History: ${fund.period_name || fund.period_id} ${fund.currency}`,
  );
  const results = h('div', {}, loading('Loading the history…'));
  const more = h('div', { class: 'load-more' });
  section.replaceChildren(
    title,
    h('p', { class: 'muted small' }, 'Every change to this fund, newest first, with the balance after it.'),
    results,
    more,
  );
  return pager(ctx, {
    url: path`/mdf/funds/${fund.fund_id}/ledger`,
    limit: LEDGER_PAGE,
    results,
    more,
    noun: ['entry', 'entries'],
    loadingText: 'Loading the history…',
    failedText: 'We could not load the history.',
    moreTestid: 'ledger-load-more',
    isWanted: () => shown === ledgerShown && ctx.isCurrent(),
    idOf: (entry) => entry.seq,
    focusSelector: (seq) => `[data-seq="${seq}"]`,
    show: (items) =>
      results.replaceChildren(
        items.length
          ? ledgerTable(items)
          : h('p', { class: 'empty', 'data-testid': 'ledger-empty' }, 'Nothing has been booked to this fund yet.'),
      ),
  }).load();
}

/**
 * The entry's effect as a sign: by its kind; an adjustment by its signed amount (a debit is negative), failing that
 * by how `available` moved.
 */
function entrySign(entry, older) {
  const sign = LEDGER_KINDS[entry.kind]?.[1] ?? 0;
  if (sign) return sign;
  const minor = Number(entry.amount?.amount_minor);
  if (minor) return Math.sign(minor);
  if (!older) return 0;
  const now = Number(entry.balance?.available?.amount_minor);
  const before = Number(older.balance?.available?.amount_minor);
  return Number.isFinite(now - before) ? Math.sign(now - before) : 0;
}

function referenceCell(reference) {
  if (!reference?.id) return h('span', { class: 'muted' }, '—');
  if (reference.type === 'request') return h('a', { href: mdfRequestHref(reference.id) }, `Request ${reference.id}`);
  if (reference.type === 'claim') {
    // A claim is named `<request_id>#<round>`: it links to its request.
    const [requestId, round] = String(reference.id).split('#');
    return h('a', { href: mdfRequestHref(requestId) }, `Claim on ${requestId}${round ? ` (round ${round})` : ''}`);
  }
  if (reference.type === 'deal') return h('a', { href: dealHref(reference.id) }, `Deal ${reference.id}`);
  return [h('span', { class: 'muted' }, `${statusLabel(reference.type || 'reference')} `), h('code', {}, reference.id)];
}

function ledgerTable(items) {
  return dataTable({
    testid: 'ledger-table',
    captionId: 'ledger-caption',
    caption: `Fund history (${items.length} entries shown)`,
    columns: ['Date', 'Entry', ['Amount', 'num'], 'Reference', ['Available after', 'num']],
    rows: items.map((entry, i) => {
      const [label, , explanation] = LEDGER_KINDS[entry.kind] || [statusLabel(entry.kind), 0, ''];
      const sign = entrySign(entry, items[i + 1]);
      const balance = entry.balance || {};
      return h(
        'tr',
        { 'data-testid': 'ledger-row', 'data-seq': entry.seq, 'data-kind': entry.kind, tabindex: '-1' },
        h('td', { 'data-label': 'Date' }, timeEl(entry.at, { testid: 'ledger-at' })),
        h(
          'td',
          { 'data-label': 'Entry' },
          h('span', { class: 'block strong', 'data-testid': 'ledger-kind' }, label),
          explanation ? h('span', { class: 'block muted small' }, explanation) : null,
          entry.note ? h('span', { class: 'block small pre', 'data-testid': 'ledger-note' }, entry.note) : null,
        ),
        h(
          'td',
          { 'data-label': 'Amount', class: `num ${sign < 0 ? 'amount-out' : sign > 0 ? 'amount-in' : ''}` },
          h('span', { 'data-testid': 'ledger-amount' }, signedMoney(entry.amount, sign)),
        ),
        h('td', { 'data-label': 'Reference', 'data-testid': 'ledger-reference' }, referenceCell(entry.reference)),
        h(
          'td',
          { 'data-label': 'Available after', class: 'num' },
          h('span', { class: 'block', 'data-testid': 'ledger-balance' }, moneyText(balance.available)),
          h(
            'span',
            { class: 'block muted small' },
            `reserved ${moneyText(balance.reserved)} · paid ${moneyText(balance.paid)}`,
          ),
        ),
      );
    }),
  });
}
