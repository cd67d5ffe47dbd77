// #/content: the partner's content library and co-branded kits.
// Library: a search box and filters (type, language, product, tag; sorted by relevance or newest, kept in the hash
// as `#/content?q=…`), cards of the assets open to the organisation (title, type, file facts, version, dates, the
// minimum tier) with Preview and Download buttons that ask the API for a short-lived link each time ("Load more"
// pages on). Kits: the campaign kits open to the organisation, each with its assets; "Generate my copy" fills the
// kit's template with the organisation's brand profile and shows it in a sandboxed frame (no scripts run in it) with
// download links to the stored files.
import { api, path } from '../api.js';
import { announce, daysUntil, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import { bindForm, field, formAlert, maxLength, newId } from '../forms.js';
import { actionNotice } from '../record.js';
import {
  LANGUAGES,
  TYPES,
  downloadButton,
  fileFacts,
  isSku,
  isTag,
  languageLabel,
  productChoices,
  typeLabel,
} from './content-common.js';

const PAGE = 12;
const Q_MAX = 200;
const SORTS = [
  ['relevance', 'Most relevant'],
  ['newest', 'Newest first'],
];
const SOON_DAYS = 14;

export async function renderContent(ctx) {
  const notice = actionNotice(ctx.takeFlash());
  const library = h('section', { class: 'content-library', 'aria-labelledby': 'library-heading' });
  const kits = h('section', { class: 'content-kits', 'aria-labelledby': 'kits-heading', 'data-testid': 'kits' });
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'content-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'content-title' }, 'Content library'),
        'Sales and marketing material open to your organisation, always the latest version, and campaign kits ' +
          'co-branded with your logo and details.',
      ),
      notice,
      library,
      kits,
    ),
  );
  library.append(h('h2', { id: 'library-heading', class: 'visually-hidden' }, 'Library'));
  kits.append(h('h2', { id: 'kits-heading' }, 'Campaign kits'), loading('Loading the kits…'));
  await Promise.all([showLibrary(ctx, library), showKits(ctx, kits)]);
}

// ------------------------------------------------------------------ the library: search and filters

function readFilters(query) {
  const sort = query.get('sort');
  return {
    q: (query.get('q') || '').slice(0, Q_MAX),
    type: TYPES.some(([v]) => v === query.get('type')) ? query.get('type') : '',
    language: LANGUAGES.some(([v]) => v === query.get('language')) ? query.get('language') : '',
    product: query.get('product') || '',
    tag: query.get('tag') || '',
    sort: SORTS.some(([v]) => v === sort) ? sort : '',
  };
}

const FILTER_FIELDS = { q: 'content_q', type: 'content_type', language: 'content_language', product: 'content_product', tag: 'content_tag', sort: 'content_sort' };

/** The product filter: a choice from the product list (a product a shared link names is kept), or a SKU to type. */
function productFilter(products, chosen) {
  if (!products.length) {
    return field({ id: 'content_product', label: 'Product SKU', optional: true, hint: 'For example NET-FW-100.', attrs: { value: chosen, autocomplete: 'off' } });
  }
  const sku = chosen.trim().toUpperCase();
  const listed = !sku || !isSku(sku) || products.some(([value]) => value === sku);
  const options = listed ? products : [...products, [sku, `${sku} (not in the product list)`]];
  return field({ id: 'content_product', label: 'Product', control: 'select', optional: true, placeholder: 'Any product', options });
}

/**
 * Filters as the API gets them: words trimmed (line breaks dropped, as the form's fields drop them), the SKU in
 * capitals, the tag in lower case, "most relevant" only with search words. The form's values and a link's alike.
 */
function asSent({ q, type, language, product, tag, sort }) {
  const line = (value) => value.replace(/[\r\n]/g, '').trim();
  const words = line(q);
  return {
    q: words,
    type,
    language,
    product: line(product).toUpperCase(),
    tag: line(tag).toLowerCase(),
    sort: sort === 'relevance' && !words ? 'newest' : sort,
  };
}

/** The sort a link's filters start the form with: most relevant when it has search words, else newest. */
function startingSort(filters) {
  return filters.sort || (filters.q ? 'relevance' : 'newest');
}

/** The library's query string for one page of `sent` filters. */
function libraryQuery(sent, cursor = null) {
  const params = new URLSearchParams(Object.entries(sent).filter(([, v]) => v));
  params.set('limit', String(PAGE));
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

function libraryPage(query) {
  return api.get(`/content/library?${query}`);
}

async function showLibrary(ctx, section) {
  const filters = readFilters(ctx.query);
  // The first page is asked for beside the product list the form needs, not after it; the form uses the answer only
  // if it then asks exactly the same. A link's malformed SKU is not asked for: the form will not send it as it is.
  const asked = asSent({ ...filters, sort: startingSort(filters) });
  let first = null;
  if (!asked.product || isSku(asked.product)) {
    const query = libraryQuery(asked);
    first = { query, page: libraryPage(query) };
    first.page.catch(() => {}); // its error is reported where it is awaited, or not at all when it goes unused
  }
  const products = await productChoices(ctx);
  if (!ctx.isCurrent()) return;
  const form = h(
    'form',
    { class: 'form card content-search', role: 'search', novalidate: true, 'data-testid': 'library-search', 'aria-label': 'Search the library' },
    formAlert(),
    field({
      id: 'content_q',
      label: 'Search',
      type: 'search',
      optional: true,
      hint: 'Words in the title, description or tags.',
      attrs: { value: filters.q, autocomplete: 'off', maxlength: String(Q_MAX) },
    }),
    h(
      'div',
      { class: 'grid-3' },
      field({ id: 'content_type', label: 'Type', control: 'select', optional: true, placeholder: 'Any type', options: TYPES }),
      field({ id: 'content_language', label: 'Language', control: 'select', optional: true, placeholder: 'Any language', options: LANGUAGES }),
      field({
        id: 'content_sort',
        label: 'Sort by',
        control: 'select',
        optional: true,
        options: SORTS,
        hint: 'Most relevant needs search words; without them the newest come first.',
      }),
      productFilter(products, filters.product),
      field({ id: 'content_tag', label: 'Tag', optional: true, hint: 'For example product-launch.', attrs: { value: filters.tag, autocomplete: 'off' } }),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'library-search-submit' }, 'Search'),
      h('button', { type: 'button', class: 'button button-link', 'data-testid': 'library-clear', onclick: () => clearFilters() }, 'Clear'),
    ),
  );
  const els = form.elements;
  els.content_type.value = filters.type;
  els.content_language.value = filters.language;
  els.content_sort.value = startingSort(filters);
  if (els.content_product.tagName === 'SELECT') els.content_product.value = filters.product.trim().toUpperCase();
  const count = h('p', { class: 'muted small toolbar-count', role: 'status', 'data-testid': 'library-count' });
  const results = h('div', { 'data-testid': 'library-results' }, loading('Loading the library…'));
  const more = h('div', { class: 'load-more' });
  const status = { seq: 0, items: [], cursor: null };

  const controller = bindForm(form, {
    validators: {
      content_q: (v) => maxLength(v, Q_MAX, 'The search'),
      content_product: (v) => (!v.trim() || isSku(v.trim().toUpperCase()) ? '' : 'Enter a product SKU such as NET-FW-100.'),
      content_tag: (v) => (!v.trim() || isTag(v.trim().toLowerCase()) ? '' : 'Enter one tag such as product-launch.'),
    },
    busyLabel: 'Searching…',
    onSubmit: async () => {
      ctx.setQuery(current());
      await load();
    },
  });

  function current() {
    return asSent({
      q: els.content_q.value,
      type: els.content_type.value,
      language: els.content_language.value,
      product: els.content_product.value,
      tag: els.content_tag.value,
      sort: els.content_sort.value,
    });
  }

  function clearFilters() {
    controller.reset();
    els.content_sort.value = 'newest';
    ctx.setQuery({});
    load();
    els.content_q.focus();
  }

  async function load({ next = false } = {}) {
    const seq = ++status.seq;
    const query = libraryQuery(current(), next ? status.cursor : null);
    const prefetched = first?.query === query ? first.page : null;
    first = null;
    if (next) more.replaceChildren(loading('Loading more assets…'));
    else {
      results.setAttribute('aria-busy', 'true');
      results.replaceChildren(loading('Searching the library…'));
      more.replaceChildren();
      count.textContent = '';
    }
    let data;
    try {
      data = await (prefetched || libraryPage(query));
    } catch (error) {
      if (seq !== status.seq || !ctx.isCurrent() || ctx.handleAuthErrors(error)) return;
      results.removeAttribute('aria-busy');
      if (error.fieldErrors?.length) {
        controller.showServerErrors(error, FILTER_FIELDS);
        results.replaceChildren();
      } else if (next) {
        more.replaceChildren(
          h('p', { class: 'form-alert', role: 'alert', 'data-testid': 'library-more-error' }, `We could not load more assets. ${error.message}`),
          moreButton('Try again'),
        );
      } else {
        results.replaceChildren(errorPanel(`We could not load the library. ${error.message}`, () => load()));
      }
      return;
    }
    if (seq !== status.seq || !ctx.isCurrent()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const known = new Set(next ? status.items.map((a) => a.asset_id) : []);
    const added = items.filter((a) => !known.has(a.asset_id));
    status.items = next ? [...status.items, ...added] : items;
    status.cursor = data?.next_cursor || null;
    results.removeAttribute('aria-busy');
    const n = status.items.length;
    const filtered = Object.entries(current()).some(([key, v]) => v && key !== 'sort');
    count.textContent = n ? `${n} asset${n === 1 ? '' : 's'}${status.cursor ? ' shown; there are more' : ''}` : '';
    results.replaceChildren(
      n
        ? h('div', { class: 'cert-grid', 'data-testid': 'asset-cards' }, status.items.map((asset) => assetCard(ctx, asset)))
        : h(
            'div',
            { class: 'empty-state', 'data-testid': 'library-empty' },
            h('p', {}, filtered ? 'Nothing in the library matches your search.' : 'Nothing has been published to your organisation yet.'),
            filtered ? h('button', { type: 'button', class: 'button', onclick: clearFilters }, 'Show everything') : null,
          ),
    );
    more.replaceChildren(...(status.cursor ? [moreButton()] : []));
    if (next) {
      announce(`${added.length} more asset${added.length === 1 ? '' : 's'} loaded.`);
      results.querySelector(`[data-asset-id="${CSS.escape(String(added[0]?.asset_id || ''))}"] h3`)?.focus();
    } else if (filtered) {
      announce(n ? `${n} asset${n === 1 ? '' : 's'} found.` : 'Nothing found.');
    }
  }

  function moreButton(label = 'Load more') {
    return h('button', { type: 'button', class: 'button', 'data-testid': 'library-load-more', onclick: () => load({ next: true }) }, label);
  }

  section.append(form, h('div', { class: 'toolbar' }, count), results, more);
  await load();
}

function assetCard(ctx, asset) {
  const id = `asset-${String(asset.asset_id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const status = h('p', { class: 'small', role: 'status', 'data-testid': 'asset-link-state' });
  const version = asset.current || {};
  const expiresIn = asset.expires_at ? daysUntil(asset.expires_at) : NaN;
  const tags = Array.isArray(asset.tags) ? asset.tags : [];
  const skus = Array.isArray(asset.product_skus) ? asset.product_skus : [];
  return h(
    'article',
    { class: 'card fund-card', 'data-testid': 'asset-card', 'data-asset-id': asset.asset_id, 'aria-labelledby': id },
    h(
      'div',
      { class: 'fund-head' },
      h('h3', { id, tabindex: '-1', 'data-testid': 'asset-title' }, asset.title),
      h('span', { class: 'badge badge-neutral', 'data-testid': 'asset-type' }, typeLabel(asset.type)),
    ),
    asset.min_tier ? h('p', { class: 'small', 'data-testid': 'asset-tier' }, `For ${asset.min_tier} partners and above`) : null,
    asset.description ? h('p', { class: 'pre small', 'data-testid': 'asset-description' }, asset.description) : null,
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'File'),
      h('dd', { 'data-testid': 'asset-file' }, h('span', { class: 'block' }, version.file_name || '—'), h('span', { class: 'muted small', 'data-testid': 'asset-facts' }, fileFacts(version))),
      h('dt', {}, 'Version'),
      h('dd', { 'data-testid': 'asset-version' }, version.number ? `Version ${version.number}` : '—', version.processed_at ? [' · updated ', timeEl(version.processed_at, { dateOnly: true, testid: 'asset-updated' })] : null),
      h('dt', {}, 'Language'),
      h('dd', { 'data-testid': 'asset-language' }, languageLabel(asset.language)),
      h('dt', {}, 'Published'),
      h('dd', {}, timeEl(asset.publish_at, { dateOnly: true, testid: 'asset-published' })),
      h('dt', {}, 'Available until'),
      h(
        'dd',
        { 'data-testid': 'asset-expires', class: expiresIn <= SOON_DAYS ? 'overdue' : null },
        asset.expires_at
          ? [timeEl(asset.expires_at, { dateOnly: true }), expiresIn <= SOON_DAYS ? ` (${expiresIn <= 1 ? 'ends within a day' : `${expiresIn} days left`})` : '']
          : 'No end date',
      ),
      tags.length ? [h('dt', {}, 'Tags'), h('dd', { 'data-testid': 'asset-tags' }, tags.join(', '))] : null,
      skus.length ? [h('dt', {}, 'Products'), h('dd', { 'data-testid': 'asset-products' }, skus.join(', '))] : null,
    ),
    h(
      'div',
      { class: 'actions' },
      downloadButton(ctx, asset, 'preview', status),
      downloadButton(ctx, asset, 'download', status),
    ),
    status,
  );
}

// ------------------------------------------------------------------ kits

async function showKits(ctx, section) {
  let data;
  try {
    data = await api.get('/content/kits');
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    fillSection(section, errorPanel(`We could not load the kits. ${error.message}`, () => showKits(ctx, section)));
    return;
  }
  if (!ctx.isCurrent()) return;
  const kits = (Array.isArray(data?.items) ? data.items : []).filter((k) => (k.status || 'published') === 'published');
  fillSection(
    section,
    h('p', { class: 'muted small' }, 'Your copy uses your organisation’s brand profile (name, logo, website, contact and address on the Organisation page).'),
    kits.length
      ? h('div', { class: 'kit-list' }, kits.map((kit) => kitCard(ctx, kit)))
      : h('p', { class: 'empty', 'data-testid': 'kits-empty' }, 'No campaign kit is open to your organisation right now.'),
  );
}

function fillSection(section, ...nodes) {
  const heading = section.querySelector('h2');
  section.replaceChildren(heading, ...nodes.flat().filter(Boolean));
}

function kitCard(ctx, kit) {
  const id = `kit-${String(kit.kit_id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const assetsBox = h('div', { 'data-testid': 'kit-assets-box' });
  const drawAssets = (assets) =>
    assetsBox.replaceChildren(
      ...(assets.length
        ? [h('p', { class: 'small strong' }, 'Assets in this kit'), h('ul', { class: 'plain-list', 'data-testid': 'kit-assets' }, assets.map((a) => kitAsset(ctx, a)))]
        : []),
    );
  if (Array.isArray(kit.assets)) drawAssets(kit.assets);
  else {
    // the list names no assets: the kit's own answer lists the ones this organisation may use
    api.get(path`/content/kits/${kit.kit_id}`).then(
      (full) => assetsBox.isConnected && drawAssets(Array.isArray(full?.assets) ? full.assets : []),
      (error) => ctx.handleAuthErrors(error),
    );
  }
  const copyBox = h('div', { 'data-testid': 'kit-copy' });
  const state = h('p', { class: 'small', role: 'status', 'data-testid': 'kit-state' });
  const generate = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'kit-generate' }, 'Generate my copy');
  const open = h('button', { type: 'button', class: 'button', 'data-testid': 'kit-open' }, 'Show my copy');

  async function run(action) {
    generate.disabled = true;
    open.disabled = true;
    state.textContent = action === 'generate' ? 'Generating your copy…' : 'Loading your copy…';
    let answer;
    try {
      answer =
        action === 'generate'
          ? await api.post(path`/content/kits/${kit.kit_id}/copies`, {}, { idempotencyKey: newId() })
          : await api.get(path`/content/kits/${kit.kit_id}/copy`);
    } catch (error) {
      generate.disabled = false;
      open.disabled = false;
      if (ctx.handleAuthErrors(error)) return;
      state.textContent =
        action === 'open' && error.status === 404
          ? 'You have no copy of this kit yet: generate it first.'
          : `Your copy could not be ${action === 'generate' ? 'generated' : 'loaded'}. ${error.message}`;
      return;
    }
    generate.disabled = false;
    open.disabled = false;
    state.textContent = action === 'generate' ? 'Your copy is ready.' : '';
    copyBox.replaceChildren(copyView(kit, answer));
    announce(action === 'generate' ? 'Your co-branded copy is ready; the preview is below.' : 'Your copy is shown below.');
  }
  generate.addEventListener('click', () => run('generate'));
  open.addEventListener('click', () => run('open'));

  return h(
    'article',
    { class: 'card', 'data-testid': 'kit-card', 'data-kit-id': kit.kit_id, 'aria-labelledby': id },
    h('div', { class: 'fund-head' }, h('h3', { id, 'data-testid': 'kit-name' }, kit.name), kit.template?.kind ? h('span', { class: 'badge badge-neutral', 'data-testid': 'kit-kind' }, kit.template.kind === 'email' ? 'Email' : 'Landing page') : null),
    kit.campaign ? h('p', { class: 'small', 'data-testid': 'kit-campaign' }, h('strong', {}, 'Campaign: '), kit.campaign) : null,
    kit.description ? h('p', { class: 'pre small', 'data-testid': 'kit-description' }, kit.description) : null,
    assetsBox,
    h('p', { class: 'muted small' }, 'Updated ', timeEl(kit.updated_at, { dateOnly: true, testid: 'kit-updated' })),
    h('div', { class: 'actions' }, generate, open),
    state,
    copyBox,
  );
}

function kitAsset(ctx, asset) {
  const status = h('span', { class: 'small', role: 'status' });
  return h(
    'li',
    { 'data-testid': 'kit-asset', 'data-asset-id': asset.asset_id },
    h('span', { 'data-testid': 'kit-asset-title' }, asset.title || asset.asset_id),
    asset.current ? h('span', { class: 'muted small' }, ` · ${fileFacts(asset.current)} `) : ' ',
    downloadButton(ctx, asset, 'download', status, { testid: 'kit-asset-download' }),
    status,
  );
}

/** The organisation's copy: the preview in a sandboxed frame (no scripts, no same-origin access) and its files. */
function copyView(kit, answer) {
  const copy = answer?.copy || {};
  const html = typeof answer?.preview?.html === 'string' ? answer.preview.html : '';
  const files = Array.isArray(answer?.files) ? answer.files : [];
  const frame = h('iframe', {
    class: 'kit-preview',
    title: `Preview of your copy of ${kit.name}`,
    sandbox: '', // every restriction: no scripts, no forms, no pop-ups, an opaque origin
    referrerpolicy: 'no-referrer',
    'data-testid': 'kit-preview',
    width: '100%',
    height: '480',
  });
  frame.srcdoc = html;
  return h(
    'div',
    { class: 'kit-copy' },
    h(
      'p',
      { class: 'muted small', 'data-testid': 'kit-copy-facts' },
      copy.copy_revision ? `Copy ${copy.copy_revision}` : 'Your copy',
        copy.generated_at ? [', generated ', timeEl(copy.generated_at, { testid: 'kit-generated-at' })] : null,
      '.',
      answer?.preview?.subject ? h('span', { class: 'block', 'data-testid': 'kit-subject' }, `Subject: ${answer.preview.subject}`) : null,
    ),
    html ? frame : h('p', { class: 'empty' }, 'This kit has no preview.'),
    files.length
      ? h(
          'ul',
          { class: 'plain-list', 'data-testid': 'kit-files' },
          files
            .filter((f) => /^https?:\/\//i.test(String(f.url || '')))
            .map((f) =>
              h(
                'li',
                {},
                h(
                  'a',
                  { href: f.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'kit-file', 'data-file': f.name || f.file_name },
                  `Download ${f.name || f.file_name}`,
                ),
                f.expires_in ? h('span', { class: 'muted small' }, ` (the link works for ${Math.max(1, Math.round(f.expires_in / 60))} minutes)`) : null,
              ),
            ),
        )
      : null,
  );
}
