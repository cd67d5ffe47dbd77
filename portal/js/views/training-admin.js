// #/admin/training (vendor admins): completions the learning system reported that match no partner user or no
// course (the review list, "Load more"); each one is assigned to a known partner user or discarded
// with a reason.
import { api, path } from '../api.js';
import { announce, dataTable, h, loading, timeEl } from '../dom.js';
import {
  LIMITS,
  bindForm,
  cardForm,
  field,
  idempotencyKeeper,
  isEmail,
  maxLength,
  required,
  sendForm,
} from '../forms.js';
import { pager } from '../paging.js';
import { statusLabel } from '../reference.js';

const REVIEW_PAGE = 25;
const REASON_MAX = 500;
const REASONS = {
  unknown_learner: 'No partner user has this email address',
  unknown_course: 'No course has this LMS course id',
  unknown_account: 'The LMS account has no email address to match',
};

export async function renderTrainingAdmin(ctx) {
  const results = h('div', {}, loading('Loading the review list…'));
  const more = h('div', { class: 'load-more' });
  const resolver = h('div', { 'data-testid': 'review-resolver' });
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'training-admin-title' },
      h('h1', { tabindex: '-1', id: 'training-admin-title' }, 'Training review'),
      h(
        'p',
        { class: 'lead' },
        'Completions from the learning system that match no partner user or no course. Nothing is dropped: assign ' +
          'each one to the partner user it belongs to, or discard it with a reason.',
      ),
      results,
      more,
      resolver,
    ),
  );

  const state = { items: [] };
  const list = pager(ctx, {
    url: '/training/review',
    limit: REVIEW_PAGE,
    results,
    more,
    noun: ['item', 'items'],
    loadingText: 'Loading the review list…',
    failedText: 'We could not load the review list.',
    moreTestid: 'review-load-more',
    idOf: (item) => item.item_id,
    focusSelector: (id) => `[data-item-id="${id}"] button`,
    show: (items) => {
      state.items = items;
      draw();
    },
  });

  function draw() {
    const open = state.items.filter((item) => !item.resolved);
    results.replaceChildren(
      open.length
        ? reviewTable(open, choose)
        : h('p', { class: 'empty', 'data-testid': 'review-empty' }, 'Nothing to review: every completion matched.'),
    );
  }

  function resolved(item, message) {
    item.resolved = true;
    resolver.replaceChildren(
      h('p', { class: 'notice notice-ok', role: 'status', tabindex: '-1', 'data-testid': 'review-result' }, message),
    );
    draw();
    announce(message);
    resolver.firstChild.focus();
  }

  function choose(item) {
    resolver.replaceChildren(resolverPanel(ctx, item, resolved));
    resolver.querySelector('h2')?.focus();
  }

  await list.load();
}

function describe(item) {
  return `${item.learner_email || 'unknown learner'} · ${item.lms_course_id || 'unknown course'}`;
}

function reviewTable(items, choose) {
  return dataTable({
    testid: 'review-table',
    captionId: 'review-caption',
    caption: `Completions to review (${items.length} shown)`,
    columns: ['Learner', 'LMS course', 'Result', 'Completed', 'Why', 'Action'],
    rows: items.map((item) =>
      h(
        'tr',
        { 'data-testid': 'review-row', 'data-item-id': item.item_id },
        h(
          'td',
          { 'data-label': 'Learner', 'data-testid': 'review-learner' },
          item.learner_email || item.learner_ref || '—',
        ),
        h('td', { 'data-label': 'LMS course', 'data-testid': 'review-course' }, h('code', {}, item.lms_course_id)),
        h('td', { 'data-label': 'Result' }, item.passed ? 'Passed' : 'Not passed'),
        h('td', { 'data-label': 'Completed' }, timeEl(item.completed_at, { dateOnly: true })),
        h(
          'td',
          { 'data-label': 'Why', 'data-testid': 'review-reason' },
          REASONS[item.reason] || statusLabel(item.reason),
          item.source ? h('span', { class: 'muted small block' }, `From ${item.source}`) : null,
        ),
        h(
          'td',
          { 'data-label': 'Action' },
          h(
            'button',
            {
              type: 'button',
              class: 'button button-small',
              'data-testid': 'review-resolve',
              'aria-label': `Resolve ${describe(item)}`,
              onclick: () => choose(item),
            },
            'Resolve…',
          ),
        ),
      ),
    ),
  });
}

function resolverPanel(ctx, item, resolved) {
  return h(
    'section',
    { class: 'admin-block', 'aria-labelledby': 'resolve-heading' },
    h('h2', { id: 'resolve-heading', tabindex: '-1' }, `Resolve: ${describe(item)}`),
    h('div', { class: 'action-grid' }, assignForm(ctx, item, resolved), discardForm(ctx, item, resolved)),
  );
}

function assignForm(ctx, item, resolved) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'assign-form',
    title: 'Assign to a partner user',
    hint: h('p', { class: 'hint' }, 'The completion counts for this person as if the learning system had named them.'),
    fields: field({
      id: 'assign_email',
      name: 'learner_email',
      label: 'Partner user’s email',
      type: 'email',
      attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
    }),
    button: 'Assign',
    buttonTestid: 'assign',
  });
  const controller = bindForm(form, {
    validators: {
      assign_email: (v) =>
        required(v, 'Enter the partner user’s email address.') ||
        maxLength(v, LIMITS.email, 'Email address') ||
        (isEmail(v) ? '' : 'Enter an email address such as name@example.com.'),
    },
    busyLabel: 'Assigning…',
    onSubmit: () =>
      sendForm(ctx, form, controller, {
        keeper,
        body: { learner_email: form.elements.assign_email.value.trim() },
        send: (text, idempotencyKey) =>
          api.post(path`/training/review/${item.item_id}/assignment`, text, { idempotencyKey }),
        done: () => resolved(item, `Assigned to ${form.elements.assign_email.value.trim()}.`),
        fieldMap: { learner_email: 'assign_email' },
        reload: 'Reload the review list',
        retry: 'Select “Assign” again to retry.',
        fallback: 'The assignment was not accepted.',
      }),
  });
  return form;
}

function discardForm(ctx, item, resolved) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'discard-form',
    title: 'Discard',
    hint: h('p', { class: 'hint' }, 'For a test account, a person outside the programme, or a duplicate.'),
    fields: field({ id: 'discard_reason', name: 'reason', label: 'Reason', control: 'textarea', attrs: { rows: 2 } }),
    button: 'Discard',
    buttonTestid: 'discard',
    primary: false,
  });
  const controller = bindForm(form, {
    validators: {
      discard_reason: (v) => required(v, 'Say why this completion is discarded.') || maxLength(v, REASON_MAX, 'Reason'),
    },
    busyLabel: 'Discarding…',
    onSubmit: () =>
      sendForm(ctx, form, controller, {
        keeper,
        body: { reason: form.elements.discard_reason.value.trim() },
        send: (text, idempotencyKey) =>
          api.post(path`/training/review/${item.item_id}/discard`, text, { idempotencyKey }),
        done: () => resolved(item, 'Discarded.'),
        fieldMap: { reason: 'discard_reason' },
        reload: 'Reload the review list',
        retry: 'Select “Discard” again to retry.',
        fallback: 'The discard was not accepted.',
      }),
  });
  return form;
}
