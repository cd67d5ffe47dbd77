// The frame and parts of the pages about one record (a deal, a fund request) and their sub-pages: breadcrumb and
// title, loading by ID with a not-found panel, the header line, summary rows, the timeline, the next step and the
// notice after an action.
import { announce, badge, dateish, errorPanel, h, isPast, loading, timeEl } from './dom.js';
import { statusLabel, statusTone } from './reference.js';

/**
 * Append a sub-page to `ctx.main`: a breadcrumb `back` ([href, text]) to its list, the title (`id` is the heading's
 * id), an optional lead sentence and a body that says `loadingText` until the page fills it. `backTestid` names the
 * breadcrumb's link.
 */
export function subPage(ctx, { id, title, back: [href, text], backTestid, lead, loadingText, narrow = false }) {
  const heading = h('h1', { tabindex: '-1', id }, title);
  const body = h('div', {}, loading(loadingText));
  const section = h(
    'section',
    { class: `page${narrow ? ' page-narrow' : ''}`, 'aria-labelledby': id },
    h('p', { class: 'breadcrumb' }, h('a', { href, 'data-testid': backTestid }, `← ${text}`)),
    heading,
    lead ? h('p', { class: 'lead' }, lead) : null,
    body,
  );
  ctx.main.append(section);
  return { section, heading, body };
}

/**
 * The record `get()` resolves to, for a page made by subPage(). A 404 retitles the page `notFound.title` and shows
 * `notFound.text` with a way `back` ([href, text]) in `[data-testid=notFound.testid]`; any other failure an error
 * panel about `what` with "Try again". Resolves to null when there is nothing to show.
 */
export async function loadRecord(ctx, { heading, body }, { get, what, notFound }) {
  try {
    return await get();
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return null;
    if (error.status === 404) {
      const [href, text] = notFound.back;
      heading.textContent = notFound.title;
      body.replaceChildren(
        h(
          'div',
          { class: 'panel', 'data-testid': notFound.testid },
          h('p', {}, notFound.text),
          h('a', { class: 'button', href }, text),
        ),
      );
    } else {
      body.replaceChildren(errorPanel(`We could not load ${what}. ${error.message}`, ctx.rerender));
    }
    return null;
  }
}

/**
 * The function an action calls with the server's answer: `draw(record, message)` shows the record again with the
 * message as its notice, which is then announced and focused.
 */
export function afterAction(body, draw) {
  return (updated, message) => {
    draw(updated, message);
    announce(message);
    body.querySelector('[data-testid=action-result]')?.focus();
  };
}

/** The notice an action leaves (`[data-testid=action-result]`), or nothing. */
export function actionNotice(message) {
  return message
    ? h('p', { class: 'notice notice-ok', role: 'status', tabindex: '-1', 'data-testid': 'action-result' }, message)
    : null;
}

/** The line under a record's title: its status `badges` and facts, then "<label> <code id>" at the end. */
export function recordHeader(parts, { label, id, testid, prefix = '' }) {
  return h(
    'div',
    { class: 'record-header' },
    parts,
    h('span', { class: 'muted small record-id' }, prefix, `${label} `, h('code', { 'data-testid': testid }, id)),
  );
}

/** The record's status as a badge (`[data-testid=testid]`). */
export function statusBadge(status, testid) {
  return badge(statusLabel(status), statusTone(status), testid);
}

/** One term and its value in a summary list (`<dl class=summary>`); an em dash when there is no value. */
export function summaryRow(label, testid, value) {
  return [h('dt', {}, label), h('dd', { 'data-testid': testid }, value ?? '—')];
}

/** What happened to the record, oldest first: `[data-testid=timeline-entry]` with its status, time and note. */
export function timelineCard(entries) {
  const items = Array.isArray(entries) ? entries : [];
  return h(
    'section',
    { class: 'card record-timeline', 'aria-labelledby': 'timeline-heading' },
    h('h2', { id: 'timeline-heading' }, 'Timeline'),
    items.length
      ? h(
          'ol',
          { class: 'timeline', 'data-testid': 'timeline' },
          items.map((entry) =>
            h(
              'li',
              { class: `timeline-entry tone-${statusTone(entry.status)}`, 'data-testid': 'timeline-entry' },
              h('span', { class: 'timeline-dot', 'aria-hidden': 'true' }),
              h('p', { class: 'timeline-status', 'data-testid': 'timeline-status' }, statusLabel(entry.status)),
              h('p', { class: 'timeline-at small muted' }, timeEl(entry.at)),
              entry.note ? h('p', { class: 'timeline-note pre', 'data-testid': 'timeline-note' }, entry.note) : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing has happened yet.'),
  );
}

/** A record's `next_step` and its due date ("Due …", or "Overdue since …" once past); "None" without one. */
export function nextStep(item, { dueTestid } = {}) {
  if (!item.next_step) return h('span', { class: 'muted' }, 'None');
  if (!item.next_step_due) return item.next_step;
  const overdue = isPast(item.next_step_due);
  return [
    h('span', { class: 'block' }, item.next_step),
    h(
      'span',
      { class: `small ${overdue ? 'overdue' : 'muted'}` },
      overdue ? 'Overdue since ' : 'Due ',
      dateish(item.next_step_due, dueTestid),
    ),
  ];
}
