// #/deals: the partner's deal registrations, newest first, with a status filter and "Load more".
import { dataTable, h, pageHead, timeEl } from '../dom.js';
import { moneyText } from '../money.js';
import { statusList } from '../paging.js';
import { nextStep, statusBadge } from '../record.js';
import { DEAL_STATUSES } from '../reference.js';

export async function renderDeals(ctx) {
  const list = statusList(ctx, {
    url: '/deals',
    limit: 20,
    statuses: DEAL_STATUSES,
    idKey: 'deal_id',
    rowAttr: 'data-deal-id',
    noun: ['deal', 'deals'],
    loadingText: 'Loading deals…',
    failedText: 'We could not load your deals.',
    countTestid: 'deals-count',
    emptyTestid: 'deals-empty',
    resultsClass: 'deals-results',
    table: dealsTable,
    empty: () => [
      h('h2', {}, 'No deals registered yet'),
      h(
        'p',
        { class: 'muted' },
        'Register an opportunity you are working on. Once the channel team approves it, the prospect is protected ' +
          'for you: no other partner can register it until the protection ends.',
      ),
      registerLink({ label: 'Register your first deal' }),
    ],
  });
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'deals-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'deals-title' }, 'Deals'),
        'Opportunities your organisation has registered, newest first.',
        registerLink({ primary: true }),
      ),
      list.nodes,
    ),
  );
  await list.load();
}

function registerLink({ primary = false, label = 'Register a deal' } = {}) {
  return h(
    'a',
    { class: `button${primary ? ' button-primary' : ''}`, href: '#/deals/new', 'data-testid': 'register-deal' },
    label,
  );
}

function dealsTable(items) {
  return dataTable({
    testid: 'deals-table',
    captionId: 'deals-caption',
    caption: `Deals (${items.length} shown)`,
    columns: ['Prospect', ['Value', 'num'], 'Status', 'Submitted', 'Protection ends', 'Next step'],
    rows: items.map((deal) =>
      h(
        'tr',
        { 'data-testid': 'deal-row', 'data-deal-id': deal.deal_id },
        h(
          'td',
          { 'data-label': 'Prospect', 'data-testid': 'deal-prospect' },
          h('a', { href: dealHref(deal.deal_id), class: 'strong-link' }, deal.prospect?.company_name || deal.deal_id),
          deal.prospect?.domain ? h('span', { class: 'muted small block' }, deal.prospect.domain) : null,
        ),
        h('td', { 'data-label': 'Value', 'data-testid': 'deal-value', class: 'num' }, moneyText(deal.estimated_value)),
        h('td', { 'data-label': 'Status' }, statusBadge(deal.status, 'deal-status')),
        h('td', { 'data-label': 'Submitted' }, timeEl(deal.submitted_at, { dateOnly: true, testid: 'deal-submitted-at' })),
        h('td', { 'data-label': 'Protection ends' }, protectionValue(deal)),
        h('td', { 'data-label': 'Next step', 'data-testid': 'deal-next-step' }, nextStep(deal)),
      ),
    ),
  });
}

// A won or lost deal is closed, and a withdrawn win (win_reversed) is not protected either: its protection was
// released (the prospect check then says the prospect is available), so it has no end date any more, whatever
// `protection_ends_at` still records.
const RELEASED = new Set(['won', 'lost', 'win_reversed']);

/** True when the deal's protection was released: it closed, or its win was withdrawn. */
export function protectionReleased(deal) {
  return RELEASED.has(deal.status);
}

/**
 * The deal's protection in the list: the end date while it runs (`[data-testid=deal-protection-ends]`, an em dash
 * before approval), "Ended <date>" for an expired deal, "Released" (`[data-testid=deal-protection-released]`) once
 * the deal closed.
 */
function protectionValue(deal) {
  const testid = 'deal-protection-ends';
  if (protectionReleased(deal)) {
    return h(
      'span',
      { 'data-testid': 'deal-protection-released', title: 'The deal is closed, so the prospect can be registered again.' },
      'Released',
    );
  }
  const ends = timeEl(deal.protection_ends_at, { dateOnly: true, testid });
  return deal.status === 'expired' && deal.protection_ends_at ? ['Ended ', ends] : ends;
}

export function dealHref(dealId) {
  return `#/deals/${encodeURIComponent(dealId)}`;
}
