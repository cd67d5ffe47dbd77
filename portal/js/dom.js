// Tiny DOM helpers, dates as <time> elements and the panels pages share. Data is only ever inserted as text (never
// innerHTML), so API values cannot inject markup.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'htmlFor', 'textContent']);

/**
 * h('p', {class: 'x', onclick: fn}, 'text', child, [more]) -> HTMLElement.
 * Attributes with null/undefined/false values are skipped; `true` sets an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPS.has(key)) {
      el[key] = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/**
 * A `<time>` element with a readable rendering of an ISO-8601 timestamp: local time, or `utc: true` for UTC
 * (labelled "UTC").
 */
export function timeEl(iso, { dateOnly = false, utc = false, testid } = {}) {
  if (!iso) return h('span', { class: 'muted', 'data-testid': testid }, '—');
  return h('time', { datetime: iso, 'data-testid': testid, title: iso }, formatDate(iso, { dateOnly, utc }));
}

export function formatDate(iso, { dateOnly = false, utc = false } = {}) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const opts = dateOnly ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' };
  if (utc) Object.assign(opts, { timeZone: 'UTC', hourCycle: 'h23' }); // UTC reads as 16:00 UTC
  const text = new Intl.DateTimeFormat(undefined, opts).format(d);
  return utc && !dateOnly ? `${text} UTC` : text;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A `<time>` element for a calendar date ("2027-03-31"), shown as that same day wherever the reader is
 * (a plain date is not an instant, so it is never shifted into the local time zone).
 */
export function dayEl(ymd, { testid } = {}) {
  if (!ymd) return h('span', { class: 'muted', 'data-testid': testid }, '—');
  if (!DAY.test(ymd)) return h('span', { 'data-testid': testid }, String(ymd));
  const text = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${ymd}T00:00:00Z`),
  );
  return h('time', { datetime: ymd, 'data-testid': testid }, text);
}

/** A date the API may give as YYYY-MM-DD or as a timestamp, shown as a day. */
export function dateish(value, testid) {
  return DAY.test(String(value ?? '')) ? dayEl(value, { testid }) : timeEl(value, { dateOnly: true, testid });
}

const DAY_MS = 24 * 3600 * 1000;

/** Whole days from now until an instant (rounded up); NaN when unreadable. */
export function daysUntil(iso) {
  return Math.ceil((new Date(iso).getTime() - Date.now()) / DAY_MS);
}

/** True once a day (YYYY-MM-DD, to its end in UTC) or an instant has passed. */
export function isPast(value) {
  const text = String(value);
  const when = DAY.test(text) ? new Date(`${text}T23:59:59Z`) : new Date(text);
  return !Number.isNaN(when.getTime()) && when.getTime() < Date.now();
}

/** A status pill; `tone` picks the colour (ok, pending, warn, bad, neutral). */
export function badge(text, tone = 'neutral', testid) {
  return h('span', { class: `badge badge-${tone}`, 'data-testid': testid }, text);
}

/** A panel that explains a failure and offers to try again (never a blank page). */
export function errorPanel(message, onRetry, { title = 'Something went wrong' } = {}) {
  return h(
    'div',
    { class: 'panel panel-error', role: 'alert', 'data-testid': 'error-panel' },
    h('h2', { class: 'panel-title' }, title),
    h('p', {}, message),
    onRetry
      ? h('button', { type: 'button', class: 'button', 'data-testid': 'retry', onclick: onRetry }, 'Try again')
      : null,
  );
}

/** The top of a page: its heading and lead sentence, with the page's main action beside them. */
export function pageHead(heading, lead, action) {
  return h('div', { class: 'page-head' }, h('div', {}, heading, h('p', { class: 'lead' }, lead)), action);
}

/**
 * A table in a scrollable, labelled region with a caption for screen readers. A column is its header text, or
 * [text, class] ('num' right-aligns it); `rows` are the <tr> elements.
 */
export function dataTable({ testid, captionId, caption, columns, rows }) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
    h(
      'table',
      { class: 'table', 'data-testid': testid },
      h('caption', { id: captionId, class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((column) => {
            const [text, className] = Array.isArray(column) ? column : [column, null];
            return h('th', { scope: 'col', class: className }, text);
          }),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** Announce a message to screen readers through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A separate task so repeated identical messages are still announced.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}
