// "Load more" paging of the API's lists (`limit`, `next_cursor`) and the list page built on it: a status filter kept
// in the hash (`#/deals?status=approved`), a count, the results and an empty state.
import { api } from './api.js';
import { announce, errorPanel, h, loading } from './dom.js';
import { statusLabel } from './reference.js';

/**
 * Pages of `url` (newest first, `limit` at a time) into `results`, with a "Load more" button in `more` while the API
 * gives a `next_cursor`. `query()` adds the filter; `show(items, cursor)` draws what is loaded; `idOf` drops rows a
 * page repeats; after "Load more" focus moves to `focusSelector(id)` of the first new row. `noun` is
 * [one, many] for "Loading more entries…"; `loadingText` and `failedText` speak of the whole list. A late answer is
 * dropped once `isWanted()` is false or a newer load has started.
 */
export function pager(ctx, spec) {
  const { url, limit, results, more, query = () => ({}), show, idOf, focusSelector, onReset = () => {} } = spec;
  const { noun, loadingText, failedText, moreTestid = 'load-more', isWanted = ctx.isCurrent } = spec;
  const [one, many] = noun;
  const state = { items: [], cursor: null, seq: 0 };

  async function load({ next = false } = {}) {
    const seq = ++state.seq;
    const params = new URLSearchParams(query());
    params.set('limit', String(limit));
    if (next && state.cursor) params.set('cursor', state.cursor);
    if (next) {
      more.replaceChildren(loading(`Loading more ${many}…`));
    } else {
      results.setAttribute('aria-busy', 'true');
      results.replaceChildren(loading(loadingText));
      more.replaceChildren();
      onReset();
    }
    let data;
    try {
      data = await api.get(`${url}?${params}`);
    } catch (error) {
      if (seq !== state.seq || !isWanted() || ctx.handleAuthErrors(error)) return;
      if (next) {
        more.replaceChildren(
          h(
            'p',
            { class: 'form-alert', role: 'alert', 'data-testid': `${moreTestid}-error` },
            `We could not load more ${many}. ${error.message} `,
          ),
          moreButton('Try again'),
        );
      } else {
        results.removeAttribute('aria-busy');
        results.replaceChildren(errorPanel(`${failedText} ${error.message}`, () => load()));
      }
      return;
    }
    if (seq !== state.seq || !isWanted()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const known = new Set(next ? state.items.map(idOf) : []);
    const added = items.filter((item) => !known.has(idOf(item)));
    state.items = next ? [...state.items, ...added] : items;
    state.cursor = data?.next_cursor || null;
    results.removeAttribute('aria-busy');
    show(state.items, state.cursor);
    more.replaceChildren(...(state.cursor ? [moreButton()] : []));
    if (next) {
      announce(`${added.length} more ${added.length === 1 ? one : many} loaded.`);
      // Keyboard users continue where the new rows begin.
      results.querySelector(focusSelector(CSS.escape(String(added[0] ? idOf(added[0]) : ''))))?.focus();
    }
  }

  function moreButton(label = 'Load more') {
    return h(
      'button',
      { type: 'button', class: 'button', 'data-testid': moreTestid, onclick: () => load({ next: true }) },
      label,
    );
  }

  return { load };
}

/**
 * A list page's body: the status filter (`#status_filter`, kept in the hash as `?status=`), a count
 * (`countTestid`), the results and "Load more". `rowAttr` names the attribute that carries a row's `idKey` (its link
 * gets focus after "Load more"); `table(items)` draws the rows; `empty()` is what an unfiltered empty list says
 * (inside `[data-testid=emptyTestid]`, as is "No <many> are <status>." with a button that shows them all).
 * A list that is part of a larger page names its filter (`filterId`, `filterTestid`), adds to the API's query
 * (`query()`, e.g. the partner), and keeps the status itself: `status` is the one to start with, `onStatus(status)`
 * records a change (instead of the hash's `?status=`). Returns the nodes to place and `load()`.
 */
export function statusList(ctx, spec) {
  const { url, statuses, idKey, rowAttr, noun, countTestid, emptyTestid, table, empty } = spec;
  const { filterId = 'status_filter', filterTestid = 'status-filter', query = () => ({}) } = spec;
  const { status: initial = ctx.query.get('status'), onStatus = (status) => ctx.setQuery({ status }) } = spec;
  const [one, many] = noun;
  const requested = initial || '';
  const state = { status: statuses.includes(requested) ? requested : '' };

  const filter = h(
    'select',
    {
      id: filterId,
      name: 'status',
      'data-testid': filterTestid,
      onchange: () => {
        state.status = filter.value;
        onStatus(state.status);
        list.load();
      },
    },
    h('option', { value: '' }, 'All statuses'),
    statuses.map((status) => h('option', { value: status }, statusLabel(status))),
  );
  filter.value = state.status;
  const count = h('p', { class: 'muted small toolbar-count', 'data-testid': countTestid, role: 'status' });
  const results = h('div', { class: spec.resultsClass }, loading(spec.loadingText));
  const more = h('div', { class: 'load-more' });
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('div', { class: 'toolbar-field' }, h('label', { for: filterId }, 'Status'), filter),
    count,
  );

  function showAll() {
    state.status = '';
    filter.value = '';
    onStatus('');
    list.load();
    filter.focus();
  }

  function emptyState() {
    const children = state.status
      ? [
          h('p', {}, `No ${many} are ${statusLabel(state.status).toLowerCase()}.`),
          h('button', { type: 'button', class: 'button', onclick: showAll }, `Show all ${many}`),
        ]
      : empty();
    return h('div', { class: 'empty-state', 'data-testid': emptyTestid }, children);
  }

  const list = pager(ctx, {
    url,
    limit: spec.limit,
    results,
    more,
    noun,
    loadingText: spec.loadingText,
    failedText: spec.failedText,
    query: () => ({ ...query(), ...(state.status ? { status: state.status } : {}) }),
    idOf: (item) => item[idKey],
    focusSelector: (id) => `[${rowAttr}="${id}"] a`,
    onReset: () => {
      count.textContent = '';
    },
    show: (items, cursor) => {
      const n = items.length;
      count.textContent = n
        ? `${n} ${n === 1 ? one : many}${cursor ? ' shown; there are more' : ''}${
            state.status ? ` · ${statusLabel(state.status)}` : ''
          }`
        : '';
      toolbar.hidden = !n && !state.status; // nothing to filter yet
      results.replaceChildren(n ? table(items) : emptyState());
    },
  });

  return { nodes: [toolbar, results, more], load: list.load };
}
