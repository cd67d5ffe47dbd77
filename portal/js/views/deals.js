// #/deals: the partner's deal registrations, newest first, with a status filter and "Load more".
import { api } from '../api.js';
import { announce, badge, dayEl, errorPanel, h, loading, timeEl } from '../dom.js';
import { formatMinor } from '../forms.js';
import { DEAL_STATUSES, statusLabel, statusTone } from '../reference.js';

const PAGE_SIZE = 20;

export async function renderDeals(ctx) {
  const requested = ctx.query.get('status') || '';
  const state = { status: DEAL_STATUSES.includes(requested) ? requested : '', items: [], cursor: null, seq: 0 };

  const heading = h('h1', { tabindex: '-1', id: 'deals-title' }, 'Deals');
  const filter = h(
    'select',
    {
      id: 'status_filter',
      name: 'status',
      'data-testid': 'status-filter',
      onchange: () => {
        state.status = filter.value;
        ctx.setQuery({ status: state.status });
        load();
      },
    },
    h('option', { value: '' }, 'All statuses'),
    DEAL_STATUSES.map((status) => h('option', { value: status }, statusLabel(status))),
  );
  filter.value = state.status;
  const count = h('p', { class: 'muted small toolbar-count', 'data-testid': 'deals-count', role: 'status' });
  const results = h('div', { class: 'deals-results' }, loading('Loading deals…'));
  const more = h('div', { class: 'load-more' });
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('div', { class: 'toolbar-field' }, h('label', { for: 'status_filter' }, 'Status'), filter),
    count,
  );

  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'deals-title' },
      h(
        'div',
        { class: 'page-head' },
        h(
          'div',
          {},
          heading,
          h('p', { class: 'lead' }, 'Opportunities your organisation has registered, newest first.'),
        ),
        registerLink({ primary: true }),
      ),
      toolbar,
      results,
      more,
    ),
  );

  async function load({ next = false } = {}) {
    const seq = ++state.seq;
    const params = new URLSearchParams();
    if (state.status) params.set('status', state.status);
    params.set('limit', String(PAGE_SIZE));
    if (next && state.cursor) params.set('cursor', state.cursor);
    if (next) {
      more.replaceChildren(loading('Loading more deals…'));
    } else {
      results.setAttribute('aria-busy', 'true');
      results.replaceChildren(loading('Loading deals…'));
      more.replaceChildren();
      count.textContent = '';
    }
    let data;
    try {
      data = await api.get(`/deals?${params}`);
    } catch (error) {
      if (seq !== state.seq || !ctx.isCurrent() || ctx.handleAuthErrors(error)) return;
      if (next) {
        more.replaceChildren(
          h(
            'p',
            { class: 'form-alert', role: 'alert', 'data-testid': 'load-more-error' },
            `We could not load more deals. ${error.message} `,
          ),
          loadMoreButton('Try again'),
        );
      } else {
        results.removeAttribute('aria-busy');
        results.replaceChildren(errorPanel(`We could not load your deals. ${error.message}`, () => load()));
      }
      return;
    }
    if (seq !== state.seq || !ctx.isCurrent()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const known = new Set(next ? state.items.map((deal) => deal.deal_id) : []);
    const added = items.filter((deal) => !known.has(deal.deal_id));
    state.items = next ? [...state.items, ...added] : items;
    state.cursor = data?.next_cursor || null;
    render();
    if (next) {
      announce(`${added.length} more deal${added.length === 1 ? '' : 's'} loaded.`);
      // Keyboard users continue where the new rows begin.
      results.querySelector(`[data-deal-id="${CSS.escape(added[0]?.deal_id ?? '')}"] a`)?.focus();
    }
  }

  function loadMoreButton(label = 'Load more') {
    return h(
      'button',
      { type: 'button', class: 'button', 'data-testid': 'load-more', onclick: () => load({ next: true }) },
      label,
    );
  }

  function render() {
    results.removeAttribute('aria-busy');
    const n = state.items.length;
    count.textContent = n
      ? `${n} deal${n === 1 ? '' : 's'}${state.cursor ? ' shown; there are more' : ''}${
          state.status ? ` · ${statusLabel(state.status)}` : ''
        }`
      : '';
    more.replaceChildren(...(state.cursor ? [loadMoreButton()] : []));
    toolbar.hidden = !n && !state.status; // nothing to filter yet
    if (!n) {
      results.replaceChildren(emptyState(state.status, () => {
        state.status = '';
        filter.value = '';
        ctx.setQuery({});
        load();
        filter.focus();
      }));
      return;
    }
    results.replaceChildren(dealsTable(state.items));
  }

  await load();
}

function registerLink({ primary = false, label = 'Register a deal' } = {}) {
  return h(
    'a',
    { class: `button${primary ? ' button-primary' : ''}`, href: '#/deals/new', 'data-testid': 'register-deal' },
    label,
  );
}

function emptyState(status, showAll) {
  if (status) {
    return h(
      'div',
      { class: 'empty-state', 'data-testid': 'deals-empty' },
      h('p', {}, `No deals are ${statusLabel(status).toLowerCase()}.`),
      h('button', { type: 'button', class: 'button', onclick: showAll }, 'Show all deals'),
    );
  }
  return h(
    'div',
    { class: 'empty-state', 'data-testid': 'deals-empty' },
    h('h2', {}, 'No deals registered yet'),
    h(
      'p',
      { class: 'muted' },
      'Register an opportunity you are working on. Once the channel team approves it, the prospect is protected ' +
        'for you: no other partner can register it until the protection ends.',
    ),
    registerLink({ label: 'Register your first deal' }),
  );
}

function dealsTable(items) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': 'deals-caption', tabindex: '0' },
    h(
      'table',
      { class: 'table', 'data-testid': 'deals-table' },
      h('caption', { id: 'deals-caption', class: 'visually-hidden' }, `Deals (${items.length} shown)`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Prospect'),
          h('th', { scope: 'col', class: 'num' }, 'Value'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Submitted'),
          h('th', { scope: 'col' }, 'Protection ends'),
          h('th', { scope: 'col' }, 'Next step'),
        ),
      ),
      h(
        'tbody',
        {},
        items.map((deal) =>
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
            h('td', { 'data-label': 'Status' }, badge(statusLabel(deal.status), statusTone(deal.status), 'deal-status')),
            h('td', { 'data-label': 'Submitted' }, timeEl(deal.submitted_at, { dateOnly: true, testid: 'deal-submitted-at' })),
            h(
              'td',
              { 'data-label': 'Protection ends' },
              timeEl(deal.protection_ends_at, { dateOnly: true, testid: 'deal-protection-ends' }),
            ),
            h('td', { 'data-label': 'Next step', 'data-testid': 'deal-next-step' }, nextStep(deal)),
          ),
        ),
      ),
    ),
  );
}

function nextStep(deal) {
  if (!deal.next_step) return h('span', { class: 'muted' }, 'None');
  if (!deal.next_step_due) return deal.next_step;
  const overdue = isPast(deal.next_step_due);
  return [
    h('span', { class: 'block' }, deal.next_step),
    h('span', { class: `small ${overdue ? 'overdue' : 'muted'}` }, overdue ? 'Overdue since ' : 'Due ', dateish(deal.next_step_due)),
  ];
}

// ------------------------------------------------------------------ helpers shared with the deal pages

export function dealHref(dealId) {
  return `#/deals/${encodeURIComponent(dealId)}`;
}

/** Money {amount_minor, currency} as text, exactly; an em dash when absent or unreadable. */
export function moneyText(money) {
  if (!money || money.amount_minor === null || money.amount_minor === undefined || !money.currency) return '—';
  try {
    return formatMinor(money.amount_minor, money.currency) || `${money.amount_minor} ${money.currency} (minor units)`;
  } catch {
    return '—';
  }
}

/** A date the API may give as YYYY-MM-DD or as a timestamp. */
export function dateish(value, testid) {
  return /^\d{4}-\d{2}-\d{2}$/.test(String(value ?? ''))
    ? dayEl(value, { testid })
    : timeEl(value, { dateOnly: true, testid });
}

function isPast(value) {
  const text = String(value);
  const when = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T23:59:59Z`) : new Date(text);
  return !Number.isNaN(when.getTime()) && when.getTime() < Date.now();
}
