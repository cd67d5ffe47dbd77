// #/mdf/requests/{request_id}: one fund request with its amounts, approvals, timeline and due dates; a rejected or
// expired request can be revised and resubmitted; an approved one (or a returned claim) takes the claim form, whose
// proof files go straight to storage by presigned POST before the claim is filed. Vendor admins read any partner's
// request here (from #/admin/mdf?partner=…): the same record and proof downloads, none of the partner's actions.
import { api, path } from '../api.js';
import { append, dateish, daysUntil, errorPanel, h, loading, timeEl } from '../dom.js';
import {
  LIMITS,
  bindForm,
  field,
  formAlert,
  idempotencyKeeper,
  maxLength,
  parseCount,
  required,
  sendForm,
  today,
} from '../forms.js';
import { amountError, moneyOf, moneyText, moneyToInput } from '../money.js';
import {
  actionNotice,
  afterAction,
  loadRecord,
  nextStep,
  recordHeader,
  statusBadge,
  subPage,
  summaryRow,
  timelineCard,
} from '../record.js';
import { activityLabel, statusLabel } from '../reference.js';
import {
  PROOF_ACCEPT,
  PROOF_MAX_BYTES,
  PROOF_MAX_FILES,
  checkProofFile,
  formatBytes,
  proofContentType,
} from '../uploads.js';
import { proofField } from '../proofs.js';
import { claimBadge, mdfTabs } from './mdf.js';
import { loadRequestOptions, requestForm } from './mdf-request-new.js';

const INVOICE_MAX = 64;
const COUNT_MAX = 10_000_000; // the API's limit for leads and attendees

export async function renderMdfRequest(ctx) {
  const vendor = ctx.vendorView;
  // Vendor staff go back to the partner they came from on their admin page.
  const partnerId = vendor ? ctx.query.get('partner') : null;
  const adminHref = `#/admin/mdf${partnerId ? `?${new URLSearchParams({ partner: partnerId })}` : ''}`;
  const page = subPage(ctx, {
    id: 'mdf-request-title',
    title: 'Fund request',
    back: vendor ? [adminHref, 'MDF administration'] : ['#/mdf/requests', 'All fund requests'],
    backTestid: vendor ? 'back-to-admin' : null,
    loadingText: 'Loading the request…',
  });
  const request = await loadRecord(ctx, page, {
    get: () => api.get(path`/mdf/requests/${ctx.params.requestId}`),
    what: 'the request',
    notFound: {
      title: 'Request not found',
      testid: 'request-not-found',
      text: vendor
        ? 'There is no fund request with this ID.'
        : 'There is no fund request with this ID in your organisation.',
      back: vendor ? [adminHref, 'Back to MDF administration'] : ['#/mdf/requests', 'Back to your requests'],
    },
  });
  if (!request || !ctx.isCurrent()) return;
  render(ctx, page, request, { result: ctx.takeFlash() });
}

function render(ctx, page, request, { result } = {}) {
  const vendor = ctx.vendorView;
  const title = request.title || request.request_id;
  page.heading.textContent = title;
  ctx.setTitle(`${title} · Fund request`);
  const rerender = afterAction(page.body, (updated, message) => render(ctx, page, updated, { result: message }));
  page.body.replaceChildren();
  append(page.body, [
    vendor ? null : mdfTabs(null, '/mdf/requests'),
    header(request),
    vendor ? readOnlyNotice() : null,
    actionNotice(result),
    dueNotice(request, { vendor }),
    h(
      'div',
      { class: 'record-layout' },
      h('div', { class: 'record-main' }, detailsCard(request), approvalsCard(request), claimCard(ctx, request)),
      timelineCard(request.timeline),
    ),
    vendor ? null : actions(ctx, request, rerender),
  ]);
}

/** What vendor staff see instead of the partner's actions. */
function readOnlyNotice() {
  return h(
    'p',
    { class: 'notice', 'data-testid': 'vendor-read-only' },
    'Read-only: the partner revises its request and files the claim here; approvers decide from the links in ' +
      'their email.',
  );
}

// ------------------------------------------------------------------ read-only parts

function header(request) {
  return recordHeader(
    [
      statusBadge(request.status, 'request-status'),
      request.claim_status ? claimBadge(request.claim_status, 'request-claim-status') : null,
      h(
        'span',
        { class: 'request-next', 'data-testid': 'request-next-step' },
        h('span', { class: 'muted' }, 'Next step: '),
        nextStep(request, { dueTestid: 'next-step-due' }),
      ),
    ],
    {
      label: 'Request ID',
      id: request.request_id,
      testid: 'request-id',
      prefix: Number(request.round) > 1 ? `Round ${request.round} · ` : '',
    },
  );
}

/** The decision or claim due date, or the outcome; `vendor`: worded for vendor staff (it is the partner's to act). */
function dueNotice(request, { vendor = false } = {}) {
  const status = request.status;
  const claimStatus = request.claim?.status || request.claim_status;
  const reviewing = (testid, what) =>
    h(
      'p',
      { class: 'notice', 'data-testid': testid },
      `The channel team is reviewing ${what}. `,
      request.next_step_due ? ['Decision due ', dateish(request.next_step_due, 'decision-due-date'), '.'] : null,
    );
  if (status === 'submitted' || status === 'under_review') return reviewing('decision-due', 'this request');
  if (status === 'approved' || claimStatus === 'returned') {
    const days = request.claim_due_at ? daysUntil(request.claim_due_at) : Number.NaN;
    return h(
      'p',
      { class: `notice${days <= 14 ? ' notice-warn' : ''}`, 'data-testid': 'claim-due' },
      claimStatus === 'returned'
        ? `The reviewer asked for more proof. ${
            vendor ? 'The partner adds files and resubmits' : 'Add files and resubmit'
          } the claim `
        : `Approved: ${moneyText(request.granted)} is reserved for this activity. ${
            vendor ? 'The partner files its' : 'File your'
          } claim `,
      request.claim_due_at
        ? ['by ', timeEl(request.claim_due_at, { testid: 'claim-due-date' })]
        : 'before the claim window closes',
      Number.isFinite(days) && days > 0 ? ` (${days} day${days === 1 ? '' : 's'} left)` : '',
      '.',
    );
  }
  if (status === 'claimed') return reviewing('claim-review', vendor ? 'the partner’s claim' : 'your claim');
  if (status === 'rejected' || status === 'claim_rejected') {
    const reason = status === 'rejected' ? request.decision_reason : request.claim?.reason || request.decision_reason;
    return h(
      'p',
      { class: 'notice notice-bad', 'data-testid': 'request-decision' },
      h('strong', {}, status === 'rejected' ? 'Rejected. ' : 'Claim rejected. '),
      reasonText(reason) || 'No reason was given.',
    );
  }
  if (status === 'expired') {
    return h(
      'p',
      { class: 'notice notice-warn', 'data-testid': 'request-decision' },
      'Nobody decided on this request in time, so it expired. ',
      vendor ? 'The partner can revise and resubmit it.' : 'You can revise and resubmit it.',
    );
  }
  if (status === 'lapsed') {
    return h(
      'p',
      { class: 'notice notice-warn', 'data-testid': 'request-decision' },
      'No claim was filed by the claim due date, so the reserved funds were released.',
    );
  }
  if (status === 'paid') {
    return h(
      'p',
      { class: 'notice notice-ok', 'data-testid': 'request-decision' },
      h('strong', {}, 'Paid: '),
      moneyText(request.claim?.approved_amount || request.granted),
      '.',
    );
  }
  return null;
}

function reasonText(reason) {
  if (reason === 'insufficient_funds')
    return 'The fund no longer had enough available money when the request was approved.';
  return reason || '';
}

function detailsCard(request) {
  const outcome = request.expected_outcome || {};
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'request-details-heading' },
    h('h2', { id: 'request-details-heading' }, 'Activity'),
    h(
      'dl',
      { class: 'summary' },
      summaryRow('Type', 'request-activity', activityLabel(request.activity_type)),
      summaryRow('Period', 'request-period', request.period_id),
      summaryRow(
        'Dates',
        'request-dates',
        request.starts_on ? [dateish(request.starts_on), ' – ', dateish(request.ends_on)] : null,
      ),
      summaryRow('Requested', 'request-requested', moneyText(request.requested)),
      summaryRow('Granted', 'request-granted', request.granted ? moneyText(request.granted) : null),
      summaryRow(
        'Expected outcome',
        'request-expected',
        outcome.leads !== undefined || outcome.pipeline_value
          ? `${outcome.leads ?? 0} lead${outcome.leads === 1 ? '' : 's'}, pipeline ${moneyText(outcome.pipeline_value)}`
          : null,
      ),
      summaryRow('Submitted', 'request-submitted-at', timeEl(request.submitted_at)),
      summaryRow(
        'Description',
        'request-description',
        request.description ? h('span', { class: 'pre' }, request.description) : null,
      ),
    ),
  );
}

function approvalsCard(request) {
  const approvals = Array.isArray(request.approvals) ? request.approvals : [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'request-approvals-heading' },
    h('h2', { id: 'request-approvals-heading' }, 'Approvals'),
    approvals.length
      ? h(
          'ol',
          { class: 'approval-list', 'data-testid': 'approvals' },
          approvals.map((approval) =>
            h(
              'li',
              { class: 'approval', 'data-testid': 'approval-row' },
              h(
                'p',
                { class: 'approval-head' },
                h('span', { class: 'strong', 'data-testid': 'approval-step' }, statusLabel(approval.step)),
                approval.decision
                  ? statusBadge(approval.decision, 'approval-decision')
                  : h('span', { class: 'muted', 'data-testid': 'approval-decision' }, 'Waiting'),
                approval.amount
                  ? h(
                      'span',
                      { class: 'approval-amount', 'data-testid': 'approval-amount' },
                      moneyText(approval.amount),
                    )
                  : null,
              ),
              h(
                'p',
                { class: 'muted small' },
                h('span', { 'data-testid': 'approval-by' }, approval.by || '—'),
                approval.at ? [' · ', timeEl(approval.at, { testid: 'approval-at' })] : null,
              ),
              approval.reason
                ? h('p', { class: 'pre small', 'data-testid': 'approval-reason' }, reasonText(approval.reason))
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted', 'data-testid': 'approvals-empty' }, 'No decision yet.'),
  );
}

function claimCard(ctx, request) {
  const claim = request.claim;
  if (!claim) return null;
  const results = claim.results || {};
  const files = Array.isArray(claim.proof_files) ? claim.proof_files : [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'claim-heading', 'data-testid': 'claim-card' },
    h(
      'div',
      { class: 'fund-head' },
      h('h2', { id: 'claim-heading' }, 'Claim'),
      claimBadge(claim.status, 'claim-status'),
    ),
    claim.reason && (claim.status === 'returned' || claim.status === 'rejected')
      ? h(
          'p',
          {
            class: `notice ${claim.status === 'rejected' ? 'notice-bad' : 'notice-warn'}`,
            'data-testid': 'claim-reason',
          },
          h('strong', {}, claim.status === 'rejected' ? 'Reason: ' : 'What the reviewer needs: '),
          claim.reason,
        )
      : null,
    h(
      'dl',
      { class: 'summary' },
      summaryRow('Amount spent', 'claim-amount-spent', moneyText(claim.amount_spent)),
      claim.approved_amount ? summaryRow('Approved', 'claim-approved-amount', moneyText(claim.approved_amount)) : null,
      summaryRow(
        'Results',
        'claim-results',
        `${results.leads ?? 0} lead${results.leads === 1 ? '' : 's'}, ${results.attendees ?? 0} attendee${
          results.attendees === 1 ? '' : 's'
        }${results.invoice_number ? `, invoice ${results.invoice_number}` : ''}`,
      ),
      summaryRow('Notes', 'claim-notes', claim.notes ? h('span', { class: 'pre' }, claim.notes) : null),
      summaryRow('Submitted', 'claim-submitted-at', timeEl(claim.submitted_at)),
      claim.decided_at
        ? summaryRow('Decided', 'claim-decided', [timeEl(claim.decided_at), claim.decided_by ? ` by ${claim.decided_by}` : ''])
        : null,
      Number(claim.round) > 1 ? summaryRow('Round', 'claim-round', String(claim.round)) : null,
    ),
    h('h3', {}, 'Proof files'),
    files.length
      ? h(
          'ul',
          { class: 'file-list', 'data-testid': 'claim-files' },
          files.map((file) => claimFileItem(ctx, request, file)),
        )
      : h('p', { class: 'muted' }, 'No files.'),
  );
}

function claimFileItem(ctx, request, file) {
  const status = h('span', { class: 'small', role: 'status', 'data-testid': 'download-state' });
  const button = h(
    'button',
    { type: 'button', class: 'button button-small', 'data-testid': 'download-file' },
    'Download',
  );
  button.addEventListener('click', async () => {
    // Opened during the click, so pop-up blockers allow it; it is sent to the link once the API has made one.
    const win = window.open('', '_blank');
    button.disabled = true;
    status.textContent = 'Preparing the download…';
    let answer;
    try {
      answer = await api.get(path`/mdf/requests/${request.request_id}/claim/files/${file.file_id}`);
    } catch (error) {
      win?.close();
      button.disabled = false;
      if (ctx.handleAuthErrors(error)) return;
      status.textContent = `The download could not be prepared. ${error.message}`;
      return;
    }
    button.disabled = false;
    if (!answer?.url || !/^https?:\/\//i.test(answer.url)) {
      win?.close();
      status.textContent = 'The download could not be prepared.';
      return;
    }
    if (win) {
      win.opener = null;
      win.location.href = answer.url;
      status.textContent = `Opened in a new tab. The link works for ${Math.round((answer.expires_in || 300) / 60)} minutes.`;
    } else {
      status.replaceChildren(
        h(
          'a',
          { href: answer.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'download-link' },
          `Open ${file.file_name}`,
        ),
      );
    }
  });
  return h(
    'li',
    { class: 'file-item', 'data-testid': 'claim-file', 'data-file-id': file.file_id },
    h(
      'span',
      { class: 'file-name' },
      h('span', { class: 'strong', 'data-testid': 'claim-file-name' }, file.file_name || file.file_id),
      h(
        'span',
        { class: 'muted small block' },
        [typeLabel(file.content_type), formatBytes(file.size_bytes)].filter(Boolean).join(' · '),
      ),
    ),
    button,
    status,
  );
}

function typeLabel(contentType) {
  const names = {
    'application/pdf': 'PDF',
    'image/png': 'PNG',
    'image/jpeg': 'JPEG',
    'text/csv': 'CSV',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  };
  return names[contentType] || contentType || '';
}

// ------------------------------------------------------------------ actions

function actions(ctx, request, rerender) {
  if (request.status === 'rejected' || request.status === 'expired') return revisionSection(ctx, request, rerender);
  const claimStatus = request.claim?.status || request.claim_status;
  if (request.status === 'approved' || claimStatus === 'returned') return claimSection(ctx, request, rerender);
  return null;
}

function revisionSection(ctx, request, rerender) {
  const body = h('div', {}, loading('Loading the programme periods…'));
  const section = h(
    'section',
    { class: 'card record-actions', 'aria-labelledby': 'revision-heading', 'data-testid': 'revision-section' },
    h('h2', { id: 'revision-heading' }, 'Revise and resubmit'),
    h(
      'p',
      { class: 'muted' },
      'Change what the decision asked for and submit the request again. It is reviewed as a new round.',
    ),
    body,
  );
  loadRequestOptions().then(
    (options) => {
      if (!ctx.isCurrent() || !section.isConnected) return;
      body.replaceChildren(
        requestForm(ctx, {
          ...options,
          initial: request,
          submitLabel: 'Resubmit request',
          busyLabel: 'Resubmitting…',
          send: (sent, key) =>
            api.post(path`/mdf/requests/${request.request_id}/revision`, sent, { idempotencyKey: key }),
          onSaved: (updated) =>
            rerender(updated, `Your revised request was submitted${updated.round ? ` (round ${updated.round})` : ''}.`),
        }),
      );
    },
    (error) => {
      if (ctx.handleAuthErrors(error)) return;
      body.replaceChildren(errorPanel(`We could not load the programme periods. ${error.message}`, ctx.rerender));
    },
  );
  return section;
}

function claimSection(ctx, request, rerender) {
  const section = (...children) =>
    h(
      'section',
      { class: 'card record-actions', 'aria-labelledby': 'claim-form-heading', 'data-testid': 'claim-section' },
      h('h2', { id: 'claim-form-heading' }, request.claim ? 'Resubmit your claim' : 'File your claim'),
      ...children,
    );
  if (request.ends_on && request.ends_on > today({ utc: true })) {
    return section(
      h(
        'p',
        { 'data-testid': 'claim-not-yet' },
        'You can file the claim once the activity has ended (',
        dateish(request.ends_on),
        ').',
        request.claim_due_at ? [' It is due by ', timeEl(request.claim_due_at), '.'] : '',
      ),
    );
  }
  if (request.claim_due_at && new Date(request.claim_due_at).getTime() < Date.now()) {
    return section(
      h(
        'p',
        { 'data-testid': 'claim-closed' },
        'The claim was due by ',
        timeEl(request.claim_due_at),
        '; it can no longer be filed.',
      ),
    );
  }
  return section(
    h(
      'p',
      { class: 'muted' },
      'Tell us what the activity cost and achieved, and attach proof: invoices, photos, attendee lists. ',
      `Up to ${PROOF_MAX_FILES} files: PDF, PNG, JPEG, CSV or Excel, each up to ${formatBytes(PROOF_MAX_BYTES)}.`,
    ),
    claimForm(ctx, request, rerender),
  );
}

const CLAIM_FIELDS = {
  amount_spent: 'amount_spent',
  'amount_spent.amount_minor': 'amount_spent',
  'amount_spent.currency': 'amount_spent',
  results: 'result_leads',
  'results.leads': 'result_leads',
  'results.attendees': 'result_attendees',
  'results.invoice_number': 'invoice_number',
  notes: 'claim_notes',
  proof_files: 'proof_files',
};

function claimForm(ctx, request, rerender) {
  const keeper = idempotencyKeeper();
  const granted = request.granted || request.requested;
  const currency = granted?.currency;
  const previous = request.claim || null;
  let controller;
  const proofs = proofField(ctx, {
    id: 'proof_files',
    label: 'Proof of performance',
    hint: `Choose one or more files; each is uploaded straight away. PDF, PNG, JPEG, CSV or Excel (.xlsx), up to ${PROOF_MAX_FILES} files.`,
    kept: previous?.proof_files || [],
    onChange: () => {
      if (!form.querySelector('#proof_files-error').hidden) controller?.validateField('proof_files');
    },
    slotPath: path`/mdf/requests/${request.request_id}/claim/uploads`,
    accept: PROOF_ACCEPT,
    maxFiles: PROOF_MAX_FILES,
    maxBytes: PROOF_MAX_BYTES,
    contentType: proofContentType,
    check: checkProofFile,
    typeLabel: (entry) => typeLabel(entry.contentType),
  });

  const validators = {
    amount_spent: (v) =>
      amountError(v, currency, {
        empty: 'Enter what the activity cost.',
        positive: true,
        max: granted ? Number(granted.amount_minor) : null,
        over: `The amount spent cannot be more than the ${moneyText(granted)} granted.`,
      }),
    result_leads: (v) => parseCount(v, { max: COUNT_MAX, what: 'the number of leads' }).error ?? '',
    result_attendees: (v) => parseCount(v, { max: COUNT_MAX, what: 'the number of attendees' }).error ?? '',
    invoice_number: (v) => required(v, 'Enter the invoice number.') || maxLength(v, INVOICE_MAX, 'Invoice number'),
    claim_notes: (v) => maxLength(v, LIMITS.description, 'Notes'),
    proof_files: () => proofs.validate(), // files still uploading are waited for on submit
  };

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'claim-form', 'aria-labelledby': 'claim-form-heading' },
    formAlert(),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({
        id: 'amount_spent',
        label: 'Amount spent',
        hint: granted ? `At most the ${moneyText(granted)} granted.` : null,
        attrs: { inputmode: 'decimal', autocomplete: 'off' },
        after: h('span', { class: 'input-suffix', 'data-testid': 'amount-spent-currency' }, currency || ''),
      }),
      field({ id: 'invoice_number', label: 'Invoice number', attrs: { autocomplete: 'off' } }),
    ),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'result_leads', label: 'Leads generated', attrs: { inputmode: 'numeric', autocomplete: 'off' } }),
      field({ id: 'result_attendees', label: 'Attendees', attrs: { inputmode: 'numeric', autocomplete: 'off' } }),
    ),
    field({ id: 'claim_notes', label: 'Notes', control: 'textarea', optional: true, attrs: { rows: 3 } }),
    proofs.el,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'submit', class: 'button button-primary', 'data-testid': 'file-claim' },
        request.claim ? 'Resubmit claim' : 'File claim',
      ),
    ),
  );
  const els = form.elements;
  if (previous) {
    if (previous.amount_spent) els.amount_spent.value = moneyToInput(previous.amount_spent);
    const results = previous.results || {};
    if (results.leads !== undefined && results.leads !== null) els.result_leads.value = String(results.leads);
    if (results.attendees !== undefined && results.attendees !== null)
      els.result_attendees.value = String(results.attendees);
    els.invoice_number.value = results.invoice_number || '';
    els.claim_notes.value = previous.notes || '';
  }

  controller = bindForm(form, {
    validators,
    busyLabel: 'Filing…',
    onSubmit: async () => {
      if (!(await proofs.ready(controller, 'Filing…'))) return;
      const sent = {
        amount_spent: moneyOf(els.amount_spent.value, currency),
        proof_files: proofs.fileIds(),
        results: {
          leads: parseCount(els.result_leads.value).value,
          attendees: parseCount(els.result_attendees.value).value,
          invoice_number: els.invoice_number.value.trim(),
        },
        notes: els.claim_notes.value.trim(),
      };
      await sendForm(ctx, form, controller, {
        keeper,
        body: sent,
        send: async (text, idempotencyKey) => {
          const answer = await api.post(path`/mdf/requests/${request.request_id}/claim`, text, { idempotencyKey });
          return answer?.request_id ? answer : api.get(path`/mdf/requests/${request.request_id}`);
        },
        done: (answer) => rerender(answer, 'Your claim was filed. The channel team reviews it; the decision appears here.'),
        onError: (error) => {
          if (!error.fieldErrors?.length) return false;
          // A refused file (`proof_files.2`) was deleted by the server: mark it, so it is removed or replaced.
          const fieldErrors = proofs.refuse(error.fieldErrors);
          controller.showServerErrors({ ...error, fieldErrors }, CLAIM_FIELDS);
          return true;
        },
        reload: 'Reload the request',
        retry: 'Your answers and files are kept: select the button again to retry.',
        fallback: 'The claim was not accepted.',
      });
    },
  });
  return form;
}
