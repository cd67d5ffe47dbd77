// #/mdf/requests: the partner's fund requests, newest first, with a status filter and "Load more"; each row shows
// the status, the next step and its due date, and the claim's status.
import { api } from '../api.js';
import { announce, badge, errorPanel, h, loading, timeEl } from '../dom.js';
import {
  MDF_REQUEST_STATUSES,
  activityLabel,
  claimStatusLabel,
  claimStatusTone,
  statusLabel,
  statusTone,
} from '../reference.js';
import { dateish, moneyText } from './deals.js';
import { mdfRequestHref, mdfTabs, requestFundsLink } from './mdf.js';

const PAGE_SIZE = 20;

export async function renderMdfRequests(ctx) {
  const requested = ctx.query.get('status') || '';
  const state = { status: MDF_REQUEST_STATUSES.includes(requested) ? requested : '', items: [], cursor: null, seq: 0 };

  const heading = h('h1', { tabindex: '-1', id: 'mdf-requests-title' }, 'Fund requests');
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
    MDF_REQUEST_STATUSES.map((status) => h('option', { value: status }, statusLabel(status))),
  );
  filter.value = state.status;
  const count = h('p', { class: 'muted small toolbar-count', 'data-testid': 'requests-count', role: 'status' });
  const results = h('div', {}, loading('Loading fund requests…'));
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
      { class: 'page', 'aria-labelledby': 'mdf-requests-title' },
      h(
        'div',
        { class: 'page-head' },
        h(
          'div',
          {},
          heading,
          h('p', { class: 'lead' }, 'Marketing activities you asked the vendor to fund, newest first.'),
        ),
        requestFundsLink({ primary: true }),
      ),
      mdfTabs('/mdf/requests'),
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
      more.replaceChildren(loading('Loading more requests…'));
    } else {
      results.setAttribute('aria-busy', 'true');
      results.replaceChildren(loading('Loading fund requests…'));
      more.replaceChildren();
      count.textContent = '';
    }
    let data;
    try {
      data = await api.get(`/mdf/requests?${params}`);
    } catch (error) {
      if (seq !== state.seq || !ctx.isCurrent() || ctx.handleAuthErrors(error)) return;
      if (next) {
        more.replaceChildren(
          h(
            'p',
            { class: 'form-alert', role: 'alert', 'data-testid': 'load-more-error' },
            `We could not load more requests. ${error.message} `,
          ),
          loadMoreButton('Try again'),
        );
      } else {
        results.removeAttribute('aria-busy');
        results.replaceChildren(errorPanel(`We could not load your fund requests. ${error.message}`, () => load()));
      }
      return;
    }
    if (seq !== state.seq || !ctx.isCurrent()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const known = new Set(next ? state.items.map((r) => r.request_id) : []);
    const added = items.filter((r) => !known.has(r.request_id));
    state.items = next ? [...state.items, ...added] : items;
    state.cursor = data?.next_cursor || null;
    render();
    if (next) {
      announce(`${added.length} more request${added.length === 1 ? '' : 's'} loaded.`);
      results.querySelector(`[data-request-id="${CSS.escape(added[0]?.request_id ?? '')}"] a`)?.focus();
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
      ? `${n} request${n === 1 ? '' : 's'}${state.cursor ? ' shown; there are more' : ''}${
          state.status ? ` · ${statusLabel(state.status)}` : ''
        }`
      : '';
    more.replaceChildren(...(state.cursor ? [loadMoreButton()] : []));
    toolbar.hidden = !n && !state.status;
    if (!n) {
      results.replaceChildren(
        emptyState(state.status, () => {
          state.status = '';
          filter.value = '';
          ctx.setQuery({});
          load();
          filter.focus();
        }),
      );
      return;
    }
    results.replaceChildren(requestsTable(state.items));
  }

  await load();
}

function emptyState(status, showAll) {
  if (status) {
    return h(
      'div',
      { class: 'empty-state', 'data-testid': 'requests-empty' },
      h('p', {}, `No requests are ${statusLabel(status).toLowerCase()}.`),
      h('button', { type: 'button', class: 'button', onclick: showAll }, 'Show all requests'),
    );
  }
  return h(
    'div',
    { class: 'empty-state', 'data-testid': 'requests-empty' },
    h('h2', {}, 'No fund requests yet'),
    h(
      'p',
      { class: 'muted' },
      'Ask for funds before a marketing activity. Once approved, the amount is reserved for you; after the ' +
        'activity you file a claim with proof of performance and are paid.',
    ),
    requestFundsLink({ label: 'Request funds for an activity' }),
  );
}

function requestsTable(items) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': 'requests-caption', tabindex: '0' },
    h(
      'table',
      { class: 'table', 'data-testid': 'requests-table' },
      h('caption', { id: 'requests-caption', class: 'visually-hidden' }, `Fund requests (${items.length} shown)`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Activity'),
          h('th', { scope: 'col', class: 'num' }, 'Amount'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Submitted'),
          h('th', { scope: 'col' }, 'Next step'),
          h('th', { scope: 'col' }, 'Claim'),
        ),
      ),
      h(
        'tbody',
        {},
        items.map((request) =>
          h(
            'tr',
            { 'data-testid': 'request-row', 'data-request-id': request.request_id },
            h(
              'td',
              { 'data-label': 'Activity', 'data-testid': 'request-title' },
              h(
                'a',
                { href: mdfRequestHref(request.request_id), class: 'strong-link' },
                request.title || request.request_id,
              ),
              h(
                'span',
                { class: 'muted small block' },
                activityLabel(request.activity_type),
                request.starts_on ? [' · ', dateish(request.starts_on), ' – ', dateish(request.ends_on)] : null,
              ),
            ),
            h(
              'td',
              { 'data-label': 'Amount', class: 'num' },
              h('span', { class: 'block', 'data-testid': 'request-requested' }, moneyText(request.requested)),
              request.granted
                ? h(
                    'span',
                    { class: 'block muted small', 'data-testid': 'request-granted' },
                    `granted ${moneyText(request.granted)}`,
                  )
                : null,
            ),
            h(
              'td',
              { 'data-label': 'Status' },
              badge(statusLabel(request.status), statusTone(request.status), 'request-status'),
            ),
            h(
              'td',
              { 'data-label': 'Submitted' },
              timeEl(request.submitted_at, { dateOnly: true, testid: 'request-submitted-at' }),
            ),
            h('td', { 'data-label': 'Next step', 'data-testid': 'request-next-step' }, nextStep(request)),
            h(
              'td',
              { 'data-label': 'Claim' },
              request.claim_status
                ? badge(
                    claimStatusLabel(request.claim_status),
                    claimStatusTone(request.claim_status),
                    'request-claim-status',
                  )
                : h('span', { class: 'muted', 'data-testid': 'request-claim-status' }, '—'),
            ),
          ),
        ),
      ),
    ),
  );
}

export function nextStep(item) {
  if (!item.next_step) return h('span', { class: 'muted' }, 'None');
  if (!item.next_step_due) return item.next_step;
  const overdue = isPast(item.next_step_due);
  return [
    h('span', { class: 'block' }, item.next_step),
    h(
      'span',
      { class: `small ${overdue ? 'overdue' : 'muted'}` },
      overdue ? 'Overdue since ' : 'Due ',
      dateish(item.next_step_due, 'next-step-due'),
    ),
  ];
}

function isPast(value) {
  const text = String(value);
  const when = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T23:59:59Z`) : new Date(text);
  return !Number.isNaN(when.getTime()) && when.getTime() < Date.now();
}
