// #/mdf/requests: the partner's fund requests, newest first, with a status filter and "Load more"; each row shows
// the status, the next step and its due date, and the claim's status.
import { dataTable, dateish, h, pageHead, timeEl } from '../dom.js';
import { moneyText } from '../money.js';
import { statusList } from '../paging.js';
import { nextStep, statusBadge } from '../record.js';
import { MDF_REQUEST_STATUSES, activityLabel } from '../reference.js';
import { claimBadge, mdfRequestHref, mdfTabs, requestFundsLink } from './mdf.js';

export async function renderMdfRequests(ctx) {
  const list = statusList(ctx, {
    url: '/mdf/requests',
    limit: 20,
    statuses: MDF_REQUEST_STATUSES,
    idKey: 'request_id',
    rowAttr: 'data-request-id',
    noun: ['request', 'requests'],
    loadingText: 'Loading fund requests…',
    failedText: 'We could not load your fund requests.',
    countTestid: 'requests-count',
    emptyTestid: 'requests-empty',
    table: requestsTable,
    empty: () => [
      h('h2', {}, 'No fund requests yet'),
      h(
        'p',
        { class: 'muted' },
        'Ask for funds before a marketing activity. Once approved, the amount is reserved for you; after the ' +
          'activity you file a claim with proof of performance and are paid.',
      ),
      requestFundsLink({ label: 'Request funds for an activity' }),
    ],
  });
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'mdf-requests-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'mdf-requests-title' }, 'Fund requests'),
        'Marketing activities you asked the vendor to fund, newest first.',
        requestFundsLink({ primary: true }),
      ),
      mdfTabs('/mdf/requests'),
      list.nodes,
    ),
  );
  await list.load();
}

/** The rows of a list of fund requests; `href(request)` is where each title links (its page by default). */
export function requestsTable(items, { href = (request) => mdfRequestHref(request.request_id) } = {}) {
  return dataTable({
    testid: 'requests-table',
    captionId: 'requests-caption',
    caption: `Fund requests (${items.length} shown)`,
    columns: ['Activity', ['Amount', 'num'], 'Status', 'Submitted', 'Next step', 'Claim'],
    rows: items.map((request) =>
      h(
        'tr',
        { 'data-testid': 'request-row', 'data-request-id': request.request_id },
        h(
          'td',
          { 'data-label': 'Activity', 'data-testid': 'request-title' },
          h('a', { href: href(request), class: 'strong-link' }, request.title || request.request_id),
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
        h('td', { 'data-label': 'Status' }, statusBadge(request.status, 'request-status')),
        h(
          'td',
          { 'data-label': 'Submitted' },
          timeEl(request.submitted_at, { dateOnly: true, testid: 'request-submitted-at' }),
        ),
        h(
          'td',
          { 'data-label': 'Next step', 'data-testid': 'request-next-step' },
          nextStep(request, { dueTestid: 'next-step-due' }),
        ),
        h('td', { 'data-label': 'Claim' }, claimBadge(request.claim_status, 'request-claim-status')),
      ),
    ),
  });
}
