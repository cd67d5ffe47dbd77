// The vendor's content administration, three tabs and an asset's page:
// #/admin/content                  assets: upload one (metadata, audience, dates and its file, sent straight to storage
//                                  by presigned POST with its progress, then the processing status until the file is
//                                  checked), and the list by status, newest change first.
// #/admin/content/assets/{id}      one asset: its versions (status, reason, notes, dates), a new version with notes,
//                                  its metadata edited on its revision, and its downloads per partner and version.
// #/admin/content/kits             co-branded kits: the list, create or edit one (template HTML with placeholders,
//                                  optional one-page PDF, the assets it groups, its audience, draft or published).
// #/admin/content/stats            downloads per asset, and a CSV export of the download records.
import { api, path } from '../api.js';
import { announce, dataTable, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import {
  bindForm,
  cardForm,
  checkboxGroup,
  field,
  formAlert,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  required,
  sendForm,
  today,
} from '../forms.js';
import { statusList } from '../paging.js';
import { PARTNER_TYPES } from '../reference.js';
import { loadRecord, subPage } from '../record.js';
import { UploadError, formatBytes, postToStorage } from '../uploads.js';
import { adminBlock, clearResult, resultSlot, showResult, submitAdmin } from './admin-common.js';
import {
  DESCRIPTION_MAX,
  LANGUAGES,
  NOTES_MAX,
  REGIONS,
  TITLE_MAX,
  TYPES,
  audienceWords,
  checkAssetFile,
  checkSkus,
  checkTags,
  contentBadge,
  contentTabs,
  contentTypeFor,
  downloadButton,
  fileFacts,
  languageLabel,
  productChoices,
  splitList,
  typeLabel,
} from './content-common.js';

const ASSET_STATUSES = ['draft', 'processing', 'ready', 'rejected', 'expired'];
const KIT_NAME_MAX = 120;
const CAMPAIGN_MAX = 120;
const SUBJECT_MAX = 200;
const HTML_MAX_BYTES = 100 * 1024;
const PDF_TEXT_MAX = 3000;
const KIT_ASSETS_MAX = 20;
const PLACEHOLDERS = ['name', 'logo', 'website', 'contact_name', 'contact_email', 'phone', 'address'].map((p) => `partner.${p}`);
const POLL_MS = 1000;
const POLL_LIMIT_MS = 90_000;

function adminPage(ctx, current, title, lead) {
  const body = h('div', {}, loading('Loading…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'content-admin-title' },
      pageHead(h('h1', { tabindex: '-1', id: 'content-admin-title' }, title), lead),
      contentTabs(current),
      body,
    ),
  );
  return body;
}

async function loadInto(ctx, box, what, load, draw) {
  box.replaceChildren(loading(`Loading ${what}…`));
  let data;
  try {
    data = await load();
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    box.replaceChildren(errorPanel(`We could not load ${what}. ${error.message}`, () => loadInto(ctx, box, what, load, draw)));
    return;
  }
  if (!ctx.isCurrent()) return;
  box.replaceChildren(...[draw(data)].flat().filter(Boolean));
}

/** The tiers in force ([[tier_id, name]], lowest first) for the audience pickers; none when tiers cannot say. */
async function tiersInForce(ctx) {
  try {
    const data = await api.get('/programme/tiers');
    return (Array.isArray(data?.tiers) ? data.tiers : []).map((t) => [t.tier_id, t.name || t.tier_id]);
  } catch (error) {
    ctx.handleAuthErrors(error);
    return [];
  }
}

/** The asset of `GET /content/assets/{id}` (the vendor's answer may wrap it) and its versions, newest first. */
function assetOf(answer) {
  return answer?.asset || answer || {};
}

function versionsOf(answer) {
  const list = answer?.versions || answer?.asset?.versions || [];
  return [...list].sort((a, b) => Number(b.number) - Number(a.number));
}

/** A calendar day typed in a date field as the API's instant: the start (publish) or the end (expiry) of it, UTC. */
function dayToInstant(ymd, { end = false } = {}) {
  return `${ymd}T${end ? '23:59:59' : '00:00:00'}Z`;
}

function instantToDay(iso) {
  return iso ? String(iso).slice(0, 10) : '';
}

// ------------------------------------------------------------------ audience fields (assets and kits)

function audienceFields(prefix, tiers) {
  const fields = h(
    'fieldset',
    { class: 'field' },
    h('legend', {}, 'Who may see it (nothing chosen: every partner)'),
    field({
      id: `${prefix}_min_tier`,
      label: 'Lowest tier',
      control: 'select',
      optional: true,
      placeholder: 'Every tier',
      options: tiers,
      hint: 'Partners of this tier and every higher one. A partner that drops below it loses access at once.',
    }),
    checkboxGroup({ id: `${prefix}_regions`, legend: 'Regions', options: REGIONS.map(([v, l]) => [v, `${l} (${v})`]) }),
    checkboxGroup({ id: `${prefix}_types`, legend: 'Partner types', options: PARTNER_TYPES.map(([v, l]) => [v, l]) }),
  );
  for (const box of fields.querySelectorAll('fieldset.checkbox-group input')) box.required = false;
  return fields;
}

function checkedValues(form, id) {
  return [...form.querySelectorAll(`input[data-field="${id}"]:checked`)].map((el) => el.value);
}

function setChecked(form, id, values) {
  for (const el of form.querySelectorAll(`input[data-field="${id}"]`)) el.checked = (values || []).includes(el.value);
}

function readAudience(form, prefix) {
  return {
    min_tier_id: form.elements[`${prefix}_min_tier`].value || null,
    regions: checkedValues(form, `${prefix}_regions`),
    partner_types: checkedValues(form, `${prefix}_types`),
  };
}

function fillAudience(form, prefix, audience = {}) {
  const select = form.elements[`${prefix}_min_tier`];
  if (audience.min_tier_id && ![...select.options].some((o) => o.value === audience.min_tier_id)) {
    select.append(h('option', { value: audience.min_tier_id }, audience.min_tier_id));
  }
  select.value = audience.min_tier_id || '';
  setChecked(form, `${prefix}_regions`, audience.regions);
  setChecked(form, `${prefix}_types`, audience.partner_types);
}

function audienceMap(prefix) {
  return {
    audience: `${prefix}_min_tier`,
    'audience.min_tier_id': `${prefix}_min_tier`,
    'audience.regions': `${prefix}_regions`,
    'audience.partner_types': `${prefix}_types`,
  };
}

// ------------------------------------------------------------------ upload progress and processing status

/** The progress of one file: sent to storage (a bar), then checked by the processing (the version's status). */
function uploadStatus() {
  const bar = h('progress', { max: '100', value: '0', 'data-testid': 'upload-progress', hidden: true, 'aria-label': 'Upload progress' });
  const text = h('p', { class: 'small', role: 'status', 'data-testid': 'upload-state' });
  const el = h('div', { class: 'upload-status' }, bar, text);
  return {
    el,
    say(message, link) {
      text.replaceChildren(message, ...(link ? [' ', h('a', { href: link.href, 'data-testid': 'upload-state-link' }, link.text)] : []));
    },
    progress(loaded, total) {
      bar.hidden = false;
      bar.max = total || 1;
      bar.value = loaded;
      text.textContent = `Uploading… ${total ? Math.floor((100 * loaded) / total) : 0} %`;
    },
    done() {
      bar.hidden = true;
    },
  };
}

/**
 * Send `file` to the presigned `upload`, then ask for the asset until version `number` is processed (ready or
 * rejected) or POLL_LIMIT_MS passed; says each step in `status`. Resolves to the version (or null when still
 * processing at the end).
 */
async function uploadAndWatch(ctx, status, upload, file, assetId, number) {
  try {
    await postToStorage(upload, file, { onProgress: (loaded, total) => status.progress(loaded, total) });
  } catch (error) {
    status.done();
    const why = error instanceof UploadError ? `The file was not stored. ${error.message}` : 'The upload was cancelled.';
    status.say(why, { href: `#/admin/content/assets/${encodeURIComponent(assetId)}`, text: 'Open the asset to send its file again.' });
    return null;
  }
  status.done();
  status.say('Uploaded. Checking the file (type, checksum, pages)…');
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (Date.now() < deadline && ctx.isCurrent()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    let answer;
    try {
      answer = await api.get(path`/content/assets/${assetId}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error)) return null;
      continue; // a passing failure: ask again
    }
    const version = versionsOf(answer).find((v) => Number(v.number) === Number(number));
    if (version?.status === 'ready') {
      const asset = assetOf(answer);
      const live = asset.status === 'ready' && new Date(asset.publish_at).getTime() <= Date.now();
      status.say(
        `Version ${number} is ready: ${fileFacts(version)}. ${
          live ? 'Partners in its audience see it now.' : `Partners see it from ${new Date(asset.publish_at).toUTCString()}.`
        }`,
      );
      return version;
    }
    if (version?.status === 'rejected') {
      status.say(`Version ${number} was rejected: ${version.reason || 'the file is not what its type says'}. Upload another file.`);
      return version;
    }
  }
  status.say('The file is still being checked. Its status appears in the asset list.');
  return null;
}

// ====================================================================== assets

export async function renderContentAdmin(ctx) {
  const body = adminPage(
    ctx,
    '/admin/content',
    'Content library',
    'Assets partners find in the library: upload one with who may see it and when, follow its processing, and open it for its versions and downloads.',
  );
  const [tiers, products] = await Promise.all([tiersInForce(ctx), productChoices(ctx)]);
  if (!ctx.isCurrent()) return;
  const list = statusList(ctx, {
    url: '/content/admin/assets',
    statuses: ASSET_STATUSES,
    idKey: 'asset_id',
    rowAttr: 'data-asset-id',
    noun: ['asset', 'assets'],
    countTestid: 'assets-count',
    emptyTestid: 'assets-empty',
    limit: 25,
    loadingText: 'Loading the assets…',
    failedText: 'We could not load the assets.',
    resultsClass: 'asset-list',
    table: (items) => assetsTable(items, tiers),
    empty: () => [h('p', {}, 'No asset yet. Upload the first one above.')],
  });
  body.replaceChildren(
    adminBlock('asset-form-title', 'Upload an asset', 'The file goes straight to storage; partners see the asset once the file is checked and its publish date has come.', assetForm(ctx, tiers, products, () => list.load())),
    adminBlock('asset-list-title', 'Assets', 'Newest change first.', ...list.nodes),
  );
  await list.load();
}

function tierName(tiers, id) {
  return tiers.find(([t]) => t === id)?.[1] || id;
}

function assetsTable(items, tiers) {
  return dataTable({
    testid: 'assets-table',
    captionId: 'assets-caption',
    caption: `Assets (${items.length} shown)`,
    columns: ['Asset', 'Status', 'Version', 'Audience', 'Dates', 'Updated'],
    rows: items.map((a) =>
      h(
        'tr',
        { 'data-testid': 'asset-row', 'data-asset-id': a.asset_id, 'data-status': a.status },
        h(
          'td',
          { 'data-label': 'Asset' },
          h('a', { href: `#/admin/content/assets/${encodeURIComponent(a.asset_id)}`, class: 'strong-link', 'data-testid': 'asset-title' }, a.title),
          h('span', { class: 'muted small block' }, `${typeLabel(a.type)} · ${languageLabel(a.language)}`),
        ),
        h('td', { 'data-label': 'Status' }, contentBadge(a.status, 'asset-status'), a.pending_version ? h('span', { class: 'small block', 'data-testid': 'asset-pending' }, `Version ${a.pending_version} processing`) : null),
        h('td', { 'data-label': 'Version', 'data-testid': 'asset-version' }, a.current_version ? `${a.current_version} · ${fileFacts(a.current)}` : '—'),
        h('td', { 'data-label': 'Audience', 'data-testid': 'asset-audience' }, audienceWords(a.audience, tierName(tiers, a.audience?.min_tier_id))),
        h(
          'td',
          { 'data-label': 'Dates' },
          h('span', { class: 'block small' }, 'From ', timeEl(a.publish_at, { dateOnly: true, testid: 'asset-publish-at' })),
          h('span', { class: 'block small' }, a.expires_at ? ['Until ', timeEl(a.expires_at, { dateOnly: true, testid: 'asset-expires-at' })] : 'No end date'),
        ),
        h('td', { 'data-label': 'Updated' }, timeEl(a.updated_at, { testid: 'asset-updated-at' })),
      ),
    ),
  });
}

const ASSET_FIELDS = {
  title: 'asset_title',
  description: 'asset_description',
  type: 'asset_type',
  language: 'asset_language',
  tags: 'asset_tags',
  product_skus: 'asset_skus',
  publish_at: 'asset_publish_on',
  expires_at: 'asset_expires_on',
  file: 'asset_file',
  'file.notes': 'asset_notes',
  ...audienceMap('asset'),
};

/** The details an asset is described by; `products` ([[sku, label]]) names the product list in the SKUs' hint. */
function metadataFields(prefix, tiers, { withType = true, products = [] } = {}) {
  const skuHint = products.length
    ? `Separated by commas, from the product list: ${products.slice(0, 3).map(([sku]) => sku).join(', ')}${products.length > 3 ? ', …' : ''}.`
    : 'Separated by commas, e.g. NET-FW-100.';
  return [
    field({ id: `${prefix}_title`, label: 'Title', attrs: { autocomplete: 'off' } }),
    field({ id: `${prefix}_description`, label: 'Description', control: 'textarea', optional: true, attrs: { rows: 3 } }),
    withType
      ? h(
          'div',
          { class: 'grid-2-tight' },
          field({ id: `${prefix}_type`, label: 'Type', control: 'select', placeholder: 'Choose…', options: TYPES }),
          field({ id: `${prefix}_language`, label: 'Language', control: 'select', options: LANGUAGES }),
        )
      : null,
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: `${prefix}_tags`, label: 'Tags', optional: true, hint: 'Separated by commas, e.g. product-launch, firewall.', attrs: { autocomplete: 'off' } }),
      field({ id: `${prefix}_skus`, label: 'Product SKUs', optional: true, hint: skuHint, attrs: { autocomplete: 'off' } }),
    ),
    audienceFields(prefix, tiers),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: `${prefix}_publish_on`, label: 'Publish on', type: 'date', optional: true, hint: 'Empty: as soon as the file is checked. Days are UTC.' }),
      field({ id: `${prefix}_expires_on`, label: 'Available until', type: 'date', optional: true, hint: 'The last day partners can open it (UTC). Empty: no end.' }),
    ),
  ];
}

/** `known`: the product list's SKUs (empty: any well-formed SKU); `kept`: the asset's own, valid whatever the list. */
function metadataValidators(prefix, known = [], kept = []) {
  return {
    [`${prefix}_title`]: (v) => required(v, 'Give the asset a title.') || maxLength(v, TITLE_MAX, 'The title'),
    [`${prefix}_description`]: (v) => maxLength(v, DESCRIPTION_MAX, 'The description'),
    [`${prefix}_tags`]: (v) => checkTags(v),
    [`${prefix}_skus`]: (v) => checkSkus(v.toUpperCase(), known, kept),
    [`${prefix}_publish_on`]: (v) => (!v || isIsoDate(v) ? '' : 'Choose a day.'),
    [`${prefix}_expires_on`]: (v, f) => {
      if (!v) return '';
      if (!isIsoDate(v)) return 'Choose a day.';
      if (v < today()) return 'That day has passed: partners could never open it.';
      const from = f.elements[`${prefix}_publish_on`].value;
      return isIsoDate(from) && v < from ? 'It cannot end before it is published.' : '';
    },
  };
}

function readMetadata(form, prefix) {
  const els = form.elements;
  const publish = els[`${prefix}_publish_on`].value;
  const expires = els[`${prefix}_expires_on`].value;
  return {
    title: els[`${prefix}_title`].value.trim(),
    description: els[`${prefix}_description`].value.trim(),
    tags: splitList(els[`${prefix}_tags`].value.toLowerCase()),
    product_skus: splitList(els[`${prefix}_skus`].value.toUpperCase()),
    audience: readAudience(form, prefix),
    publish_at: publish && publish > today() ? dayToInstant(publish) : null,
    expires_at: expires ? dayToInstant(expires, { end: true }) : null,
  };
}

function assetForm(ctx, tiers, products, onUploaded) {
  const keeper = idempotencyKeeper();
  const status = uploadStatus();
  const fileInput = h('input', { type: 'file', id: 'asset_file', name: 'asset_file', class: 'file-input', 'aria-describedby': 'asset_file-hint asset_file-error', 'data-testid': 'asset-file-input' });
  const form = cardForm({
    testid: 'asset-form',
    title: 'New asset',
    result: resultSlot('asset'),
    fields: [
      ...metadataFields('asset', tiers, { products }),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'asset_file' }, 'File'),
        h('p', { class: 'hint', id: 'asset_file-hint' }, 'Documents: PDF, Word, CSV, text; presentations: PDF, PowerPoint; video: MP4; images: PNG, JPEG; archives: ZIP. Up to 50 MB.'),
        fileInput,
        h('p', { class: 'field-error', id: 'asset_file-error', 'data-testid': 'asset_file-error', hidden: true }),
      ),
      field({ id: 'asset_notes', label: 'Version notes', control: 'textarea', optional: true, hint: 'What this file is; later versions say what changed.', attrs: { rows: 2 } }),
      status.el,
    ],
    button: 'Upload asset',
    buttonTestid: 'upload-asset',
  });
  const els = form.elements;
  els.asset_language.value = 'en';
  const controller = bindForm(form, {
    validators: {
      ...metadataValidators('asset', products.map(([sku]) => sku)),
      asset_type: (v) => required(v, 'Choose the type.'),
      asset_language: (v) => required(v, 'Choose the language.'),
      asset_file: (_, f) => checkAssetFile(fileInput.files[0], f.elements.asset_type.value),
      asset_notes: (v) => maxLength(v, NOTES_MAX, 'The notes'),
    },
    dependents: { asset_type: ['asset_file'], asset_publish_on: ['asset_expires_on'] },
    busyLabel: 'Uploading…',
    onSubmit: async () => {
      clearResult(form);
      const file = fileInput.files[0];
      const type = els.asset_type.value;
      const body = {
        ...readMetadata(form, 'asset'),
        type,
        language: els.asset_language.value,
        file: { file_name: file.name, content_type: contentTypeFor(file.name, type), size_bytes: file.size, notes: els.asset_notes.value.trim() },
      };
      if (!body.publish_at) delete body.publish_at;
      if (!body.expires_at) delete body.expires_at;
      status.say('Creating the asset…');
      let created = null;
      await submitAdmin(ctx, form, controller, keeper, {
        url: '/content/assets',
        body,
        fieldMap: ASSET_FIELDS,
        button: 'Upload asset',
        done: (answer) => {
          created = answer;
          return '';
        },
      });
      if (!created?.upload) {
        status.say('');
        return;
      }
      controller.setBusy(true, 'Uploading…');
      const assetId = created.asset?.asset_id;
      const version = await uploadAndWatch(ctx, status, created.upload, file, assetId, created.version?.number || 1);
      if (!form.isConnected) return;
      controller.setBusy(false);
      if (version?.status === 'ready') {
        showResult(form, `“${created.asset.title}” is uploaded and checked.`);
        controller.reset();
        els.asset_language.value = 'en';
      }
      onUploaded();
    },
  });
  return form;
}

// ====================================================================== one asset

export async function renderContentAssetAdmin(ctx) {
  const page = subPage(ctx, {
    id: 'asset-admin-title',
    title: 'Asset',
    back: ['#/admin/content', 'Content library'],
    backTestid: 'back-to-assets',
    loadingText: 'Loading the asset…',
  });
  const [answer, tiers, products] = await Promise.all([
    loadRecord(ctx, page, {
      get: () => api.get(path`/content/assets/${ctx.params.assetId}`),
      what: 'the asset',
      notFound: { title: 'Asset not found', text: 'There is no asset with this ID.', back: ['#/admin/content', 'Back to the library'], testid: 'asset-not-found' },
    }),
    tiersInForce(ctx),
    productChoices(ctx),
  ]);
  if (!answer || !ctx.isCurrent()) return;
  drawAsset(ctx, page, answer, tiers, products);
}

function drawAsset(ctx, page, answer, tiers, products) {
  const asset = assetOf(answer);
  const versions = versionsOf(answer);
  page.heading.textContent = asset.title;
  ctx.setTitle(asset.title);
  const reload = async () => {
    try {
      const fresh = await api.get(path`/content/assets/${asset.asset_id}`);
      if (ctx.isCurrent()) drawAsset(ctx, page, fresh, tiers, products);
    } catch (error) {
      if (!ctx.handleAuthErrors(error)) ctx.rerender();
    }
  };
  const linkState = h('span', { class: 'small', role: 'status' });
  const summary = h('div', { 'data-testid': 'download-summary' });
  page.body.replaceChildren(
    h(
      'div',
      { class: 'status-line' },
      contentBadge(asset.status, 'asset-status'),
      h('span', { class: 'muted' }, ` ${typeLabel(asset.type)} · ${languageLabel(asset.language)} · revision ${asset.revision}`),
    ),
    h(
      'dl',
      { class: 'summary card' },
      h('dt', {}, 'Asset ID'),
      h('dd', {}, h('code', { 'data-testid': 'asset-id' }, asset.asset_id)),
      h('dt', {}, 'Current version'),
      h('dd', { 'data-testid': 'asset-current' }, asset.current_version ? `Version ${asset.current_version}: ${asset.current?.file_name || ''} (${fileFacts(asset.current)})` : 'None yet'),
      h('dt', {}, 'Audience'),
      h('dd', { 'data-testid': 'asset-audience' }, audienceWords(asset.audience, tierName(tiers, asset.audience?.min_tier_id))),
      h('dt', {}, 'Published'),
      h('dd', {}, timeEl(asset.publish_at, { testid: 'asset-publish-at' })),
      h('dt', {}, 'Available until'),
      h('dd', {}, asset.expires_at ? timeEl(asset.expires_at, { testid: 'asset-expires-at' }) : 'No end date'),
      h('dt', {}, 'Created'),
      h('dd', {}, timeEl(asset.created_at), asset.created_by ? ` by ${asset.created_by}` : ''),
      h('dt', {}, 'Updated'),
      h('dd', {}, timeEl(asset.updated_at, { testid: 'asset-updated-at' })),
      asset.description ? [h('dt', {}, 'Description'), h('dd', { class: 'pre' }, asset.description)] : null,
      asset.tags?.length ? [h('dt', {}, 'Tags'), h('dd', {}, asset.tags.join(', '))] : null,
      asset.product_skus?.length ? [h('dt', {}, 'Products'), h('dd', {}, asset.product_skus.join(', '))] : null,
    ),
    asset.current_version ? h('div', { class: 'actions' }, downloadButton(ctx, asset, 'download', linkState, { label: 'Download the current file', testid: 'admin-download' }), linkState) : null,
    adminBlock('versions-title', 'Versions', 'Newest first. A new version replaces the current one once its file is checked; the asset keeps its ID.', versionsTable(versions)),
    adminBlock('version-form-title', 'Upload a new version', 'People who downloaded an earlier version get an email with your notes.', versionForm(ctx, asset, reload)),
    adminBlock('edit-asset-title', 'Edit the details', null, editForm(ctx, asset, tiers, products, reload)),
    asset.status === 'ready'
      ? adminBlock('take-down-title', 'Take it down', 'Partners lose it at once: it leaves search and downloads are refused. Set a later end date above to bring it back.', takeDownControl(ctx, asset, reload))
      : null,
    adminBlock('summary-title', 'Downloads', 'Downloads and previews by partner and by version.', summary),
  );
  loadInto(ctx, summary, 'the downloads', () => api.get(path`/content/assets/${asset.asset_id}/downloads/summary`), drawSummary);
}

/** "Take down now" asks once more, then expires the asset at once (on the revision shown). */
function takeDownControl(ctx, asset, reload) {
  const box = h('div', { class: 'actions' });
  const keeper = idempotencyKeeper();
  const ask = h('button', { type: 'button', class: 'button', 'data-testid': 'take-down' }, 'Take down now');
  const status = h('span', { class: 'small', role: 'status', 'data-testid': 'take-down-state' });
  ask.addEventListener('click', () => {
    const confirm = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'take-down-confirm' }, `Take ${asset.title} down now`);
    const cancel = h('button', { type: 'button', class: 'button-inline', onclick: () => box.replaceChildren(ask, status) }, 'Keep it available');
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      status.textContent = 'Taking it down…';
      try {
        await api.post(path`/content/assets/${asset.asset_id}/take-down`, { revision: asset.revision }, { idempotencyKey: keeper.keyFor(asset.asset_id) });
      } catch (error) {
        if (ctx.handleAuthErrors(error)) return;
        confirm.disabled = false;
        status.textContent = `It was not taken down. ${error.message}`;
        return;
      }
      announce('Taken down: partners no longer see it.');
      reload();
    });
    box.replaceChildren(confirm, cancel, status);
    confirm.focus();
  });
  box.append(ask, status);
  return box;
}

function versionsTable(versions) {
  if (!versions.length) return h('p', { class: 'empty' }, 'No version yet.');
  return dataTable({
    testid: 'versions-table',
    captionId: 'versions-caption',
    caption: `Versions (${versions.length})`,
    columns: ['Version', 'File', 'Status', 'Notes', 'Uploaded', 'Checked'],
    rows: versions.map((v) =>
      h(
        'tr',
        { 'data-testid': 'version-row', 'data-version': v.number, 'data-status': v.status },
        h('td', { 'data-label': 'Version' }, String(v.number)),
        h('td', { 'data-label': 'File' }, h('span', { class: 'block' }, v.file_name), h('span', { class: 'muted small block' }, fileFacts(v)), v.sha256 ? h('code', { class: 'small block', title: 'SHA-256' }, `${String(v.sha256).slice(0, 16)}…`) : null),
        h('td', { 'data-label': 'Status' }, contentBadge(v.status, 'version-status'), v.reason ? h('span', { class: 'small block', 'data-testid': 'version-reason' }, v.reason) : null),
        h('td', { 'data-label': 'Notes', class: 'pre small', 'data-testid': 'version-notes' }, v.notes || '—'),
        h('td', { 'data-label': 'Uploaded' }, timeEl(v.created_at, { testid: 'version-created-at' }), v.uploaded_by ? h('span', { class: 'muted small block' }, v.uploaded_by) : null),
        h('td', { 'data-label': 'Checked' }, timeEl(v.processed_at, { testid: 'version-processed-at' })),
      ),
    ),
  });
}

function versionForm(ctx, asset, reload) {
  const keeper = idempotencyKeeper();
  const status = uploadStatus();
  const fileInput = h('input', { type: 'file', id: 'version_file', name: 'version_file', class: 'file-input', 'aria-describedby': 'version_file-error' });
  const form = cardForm({
    testid: 'version-form',
    title: null,
    labelledBy: 'version-form-title',
    result: resultSlot('version'),
    fields: [
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'version_file' }, `File (${typeLabel(asset.type).toLowerCase()})`),
        fileInput,
        h('p', { class: 'field-error', id: 'version_file-error', 'data-testid': 'version_file-error', hidden: true }),
      ),
      field({ id: 'version_notes', label: 'What changed', control: 'textarea', hint: 'Sent to the people who downloaded an earlier version.', attrs: { rows: 3 } }),
      status.el,
    ],
    button: 'Upload version',
    buttonTestid: 'upload-version',
  });
  const controller = bindForm(form, {
    validators: {
      version_file: () => checkAssetFile(fileInput.files[0], asset.type),
      version_notes: (v) => required(v, 'Say what changed.') || maxLength(v, NOTES_MAX, 'The notes'),
    },
    busyLabel: 'Uploading…',
    onSubmit: async () => {
      clearResult(form);
      const file = fileInput.files[0];
      let created = null;
      await submitAdmin(ctx, form, controller, keeper, {
        url: path`/content/assets/${asset.asset_id}/versions`,
        body: { file_name: file.name, content_type: contentTypeFor(file.name, asset.type), size_bytes: file.size, notes: form.elements.version_notes.value.trim() },
        fieldMap: { file_name: 'version_file', content_type: 'version_file', size_bytes: 'version_file', notes: 'version_notes' },
        button: 'Upload version',
        done: (answer) => {
          created = answer;
          return '';
        },
      });
      if (!created?.upload) return;
      controller.setBusy(true, 'Uploading…');
      const version = await uploadAndWatch(ctx, status, created.upload, file, asset.asset_id, created.version?.number);
      if (!form.isConnected) return;
      controller.setBusy(false);
      if (version?.status === 'ready') {
        announce(`Version ${version.number} is now the current one.`);
        reload();
      }
    },
  });
  return form;
}

function editForm(ctx, asset, tiers, products, reload) {
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'edit-asset-form', 'aria-labelledby': 'edit-asset-title' },
    formAlert(),
    ...metadataFields('edit', tiers, { withType: false, products }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-asset' }, 'Save changes')),
  );
  const els = form.elements;
  els.edit_title.value = asset.title || '';
  els.edit_description.value = asset.description || '';
  els.edit_tags.value = (asset.tags || []).join(', ');
  els.edit_skus.value = (asset.product_skus || []).join(', ');
  els.edit_publish_on.value = instantToDay(asset.publish_at);
  els.edit_expires_on.value = instantToDay(asset.expires_at);
  fillAudience(form, 'edit', asset.audience);
  const controller = bindForm(form, {
    validators: {
      ...metadataValidators('edit', products.map(([sku]) => sku), asset.product_skus || []),
      edit_expires_on: (v, f) => metadataValidators('edit').edit_expires_on(v, f),
    },
    dependents: { edit_publish_on: ['edit_expires_on'] },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      const read = readMetadata(form, 'edit');
      const publish = els.edit_publish_on.value;
      const body = {
        ...read,
        publish_at: publish ? (publish === instantToDay(asset.publish_at) ? asset.publish_at : dayToInstant(publish)) : asset.publish_at,
        expires_at: read.expires_at && els.edit_expires_on.value === instantToDay(asset.expires_at) ? asset.expires_at : read.expires_at,
        revision: asset.revision,
      };
      await sendForm(ctx, form, controller, {
        keeper: idempotencyKeeper(),
        body,
        send: (text) => api.patch(path`/content/assets/${asset.asset_id}`, text),
        done: () => {
          announce('Changes saved.');
          reload();
        },
        fieldMap: {
          title: 'edit_title',
          description: 'edit_description',
          tags: 'edit_tags',
          product_skus: 'edit_skus',
          publish_at: 'edit_publish_on',
          expires_at: 'edit_expires_on',
          ...audienceMap('edit'),
        },
        reload: 'Reload the asset',
        retry: 'Select “Save changes” again to retry.',
        fallback: 'The changes were not saved.',
      });
    },
  });
  return form;
}

function drawSummary(data) {
  const partners = Array.isArray(data?.partners) ? data.partners : [];
  const versions = Array.isArray(data?.versions) ? data.versions : [];
  const totals = data?.totals || data?.total || {};
  const count = (row, kind) => Number(row?.[kind] ?? row?.[`${kind}s`] ?? 0).toLocaleString();
  return [
    h(
      'p',
      { 'data-testid': 'summary-totals' },
      `${count(totals, 'download')} downloads and ${count(totals, 'preview')} previews in all`,
      totals.last_at ? [', the last ', timeEl(totals.last_at, { testid: 'summary-last-at' })] : null,
      '.',
    ),
    partners.length
      ? dataTable({
          testid: 'summary-partners',
          captionId: 'summary-partners-caption',
          caption: 'Downloads per partner',
          columns: ['Partner', ['Downloads', 'num'], ['Previews', 'num'], 'Last'],
          rows: partners.map((p) =>
            h(
              'tr',
              { 'data-testid': 'summary-partner-row', 'data-partner-id': p.partner_id },
              h('td', { 'data-label': 'Partner' }, p.company_name || p.partner_id),
              h('td', { class: 'num', 'data-label': 'Downloads', 'data-testid': 'summary-downloads' }, count(p, 'download')),
              h('td', { class: 'num', 'data-label': 'Previews', 'data-testid': 'summary-previews' }, count(p, 'preview')),
              h('td', { 'data-label': 'Last' }, timeEl(p.last_at || p.last_downloaded_at)),
            ),
          ),
        })
      : h('p', { class: 'empty', 'data-testid': 'summary-empty' }, 'No partner has downloaded or previewed it yet.'),
    versions.length
      ? dataTable({
          testid: 'summary-versions',
          captionId: 'summary-versions-caption',
          caption: 'Downloads per version',
          columns: ['Version', ['Downloads', 'num'], ['Previews', 'num']],
          rows: versions.map((v) =>
            h(
              'tr',
              { 'data-testid': 'summary-version-row', 'data-version': v.version },
              h('td', { 'data-label': 'Version' }, String(v.version)),
              h('td', { class: 'num', 'data-label': 'Downloads' }, count(v, 'download')),
              h('td', { class: 'num', 'data-label': 'Previews' }, count(v, 'preview')),
            ),
          ),
        })
      : null,
  ];
}

// ====================================================================== stats and export

export async function renderContentStatsAdmin(ctx) {
  const body = adminPage(ctx, '/admin/content/stats', 'Content downloads', 'What partners use: downloads and previews per asset, and every download record as a CSV file.');
  const results = h('div', { 'data-testid': 'stats' });
  const more = h('div', { class: 'load-more' });
  const state = { items: [], cursor: null };
  async function load(next = false) {
    const params = new URLSearchParams({ limit: '25' });
    if (next && state.cursor) params.set('cursor', state.cursor);
    if (!next) results.replaceChildren(loading('Loading the downloads…'));
    let data;
    try {
      data = await api.get(`/content/stats?${params}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
      results.replaceChildren(errorPanel(`We could not load the downloads. ${error.message}`, () => load()));
      return;
    }
    if (!ctx.isCurrent()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    state.items = next ? [...state.items, ...items] : items;
    state.cursor = data?.next_cursor || null;
    results.replaceChildren(statsTable(state.items));
    more.replaceChildren(
      ...(state.cursor ? [h('button', { type: 'button', class: 'button', 'data-testid': 'stats-load-more', onclick: () => load(true) }, 'Load more')] : []),
    );
  }
  body.replaceChildren(
    adminBlock('stats-title', 'Downloads per asset', 'Most downloaded first.', results, more),
    adminBlock('export-title', 'Export the downloads', 'A CSV of who downloaded or previewed what, which version and when. The link works for a few minutes.', exportForm(ctx)),
  );
  await load();
}

function statsTable(items) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'stats-empty' }, 'No download yet.');
  const count = (row, kind) => Number(row?.[kind] ?? row?.[`${kind}s`] ?? 0).toLocaleString();
  return dataTable({
    testid: 'stats-table',
    captionId: 'stats-caption',
    caption: `Downloads per asset (${items.length} shown)`,
    columns: ['Asset', 'Status', ['Downloads', 'num'], ['Previews', 'num'], ['Partners', 'num'], 'Last'],
    rows: items.map((row) =>
      h(
        'tr',
        { 'data-testid': 'stats-row', 'data-asset-id': row.asset_id },
        h('td', { 'data-label': 'Asset' }, h('a', { href: `#/admin/content/assets/${encodeURIComponent(row.asset_id)}`, 'data-testid': 'stats-title' }, row.title || row.asset_id)),
        h('td', { 'data-label': 'Status' }, row.status ? contentBadge(row.status) : '—'),
        h('td', { class: 'num', 'data-label': 'Downloads', 'data-testid': 'stats-downloads' }, count(row, 'download')),
        h('td', { class: 'num', 'data-label': 'Previews', 'data-testid': 'stats-previews' }, count(row, 'preview')),
        h('td', { class: 'num', 'data-label': 'Partners' }, row.partners === undefined ? '—' : Number(row.partners).toLocaleString()),
        h('td', { 'data-label': 'Last' }, timeEl(row.last_at || row.last_downloaded_at, { testid: 'stats-last' })),
      ),
    ),
  });
}

function exportForm(ctx) {
  const keeper = idempotencyKeeper();
  const link = h('p', { 'data-testid': 'export-link' });
  const form = cardForm({
    testid: 'export-form',
    labelledBy: 'export-title',
    result: resultSlot('export'),
    fields: [
      field({ id: 'export_asset', label: 'Asset ID', optional: true, hint: 'Empty: every asset.', attrs: { autocomplete: 'off' } }),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: 'export_from', label: 'From', type: 'date', optional: true }),
        field({ id: 'export_to', label: 'To', type: 'date', optional: true }),
      ),
      link,
    ],
    button: 'Export CSV',
    buttonTestid: 'export-csv',
  });
  const els = form.elements;
  const controller = bindForm(form, {
    validators: {
      export_asset: (v) => (!v.trim() || /^ast_[a-f0-9]{24}$/.test(v.trim()) ? '' : 'An asset ID looks like ast_ and 24 letters and digits.'),
      export_from: (v) => (!v || isIsoDate(v) ? '' : 'Choose a day.'),
      export_to: (v, f) => {
        if (!v) return '';
        if (!isIsoDate(v)) return 'Choose a day.';
        const from = f.elements.export_from.value;
        return isIsoDate(from) && v < from ? 'The end comes before the start.' : '';
      },
    },
    dependents: { export_from: ['export_to'] },
    busyLabel: 'Exporting…',
    onSubmit: async () => {
      clearResult(form);
      link.replaceChildren();
      const body = {};
      if (els.export_asset.value.trim()) body.asset_id = els.export_asset.value.trim();
      if (els.export_from.value) body.from = dayToInstant(els.export_from.value);
      if (els.export_to.value) body.to = dayToInstant(els.export_to.value, { end: true });
      await submitAdmin(ctx, form, controller, keeper, {
        url: '/content/exports',
        body,
        fieldMap: { asset_id: 'export_asset', from: 'export_from', to: 'export_to' },
        button: 'Export CSV',
        done: (answer) => {
          const url = answer?.url || answer?.download?.url;
          if (!url || !/^https?:\/\//i.test(url)) return 'The export has no file to download.';
          const minutes = Math.max(1, Math.round((answer.expires_in || answer.download?.expires_in || 300) / 60));
          link.replaceChildren(
            h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'button', 'data-testid': 'export-download' }, 'Download the CSV'),
            h('span', { class: 'muted small' }, ` The link works for ${minutes} minute${minutes === 1 ? '' : 's'}.`),
          );
          const rows = answer.rows ?? answer.row_count;
          return rows === undefined ? 'The export is ready.' : `The export is ready: ${Number(rows).toLocaleString()} download record${Number(rows) === 1 ? '' : 's'}.`;
        },
      });
    },
  });
  return form;
}

// ====================================================================== kits

export async function renderContentKitsAdmin(ctx) {
  const body = adminPage(ctx, '/admin/content/kits', 'Co-branded kits', 'Campaign kits: assets grouped for a campaign, with an email or landing page that each partner fills with its own brand.');
  const [tiers, assets] = await Promise.all([
    tiersInForce(ctx),
    api.get('/content/admin/assets?status=ready&limit=50').then(
      (data) => (Array.isArray(data?.items) ? data.items : []),
      (error) => {
        ctx.handleAuthErrors(error);
        return [];
      },
    ),
  ]);
  if (!ctx.isCurrent()) return;
  const list = h('div', { 'data-testid': 'kits-admin' });
  const editor = kitEditor(ctx, tiers, assets, { onSaved: () => refresh() });
  const refresh = () =>
    loadInto(ctx, list, 'the kits', () => api.get('/content/kits'), (data) => kitsTable(Array.isArray(data?.items) ? data.items : [], tiers, editor.edit));
  body.replaceChildren(
    adminBlock('kit-list-title', 'Kits', 'Newest change first.', list),
    adminBlock('kit-form-title', 'Create or edit a kit', null, editor.form),
  );
  await refresh();
}

function kitsTable(kits, tiers, edit) {
  if (!kits.length) return h('p', { class: 'empty', 'data-testid': 'kits-admin-empty' }, 'No kit yet. Create the first one below.');
  const sorted = [...kits].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
  return dataTable({
    testid: 'kits-table',
    captionId: 'kits-caption',
    caption: `Kits (${kits.length})`,
    columns: ['Kit', 'Status', 'Audience', ['Assets', 'num'], 'Updated', 'Actions'],
    rows: sorted.map((k) =>
      h(
        'tr',
        { 'data-testid': 'kit-row', 'data-kit-id': k.kit_id, 'data-status': k.status },
        h('td', { 'data-label': 'Kit' }, h('span', { class: 'strong block', 'data-testid': 'kit-name' }, k.name), k.campaign ? h('span', { class: 'muted small block' }, k.campaign) : null),
        h('td', { 'data-label': 'Status' }, contentBadge(k.status, 'kit-status'), h('span', { class: 'muted small block' }, `template revision ${k.template_revision ?? '—'}`)),
        h('td', { 'data-label': 'Audience' }, audienceWords(k.audience, tierName(tiers, k.audience?.min_tier_id))),
        h('td', { class: 'num', 'data-label': 'Assets' }, String((k.asset_ids || []).length)),
        h('td', { 'data-label': 'Updated' }, timeEl(k.updated_at, { testid: 'kit-updated-at' })),
        h('td', { 'data-label': 'Actions' }, h('button', { type: 'button', class: 'button button-small', 'data-testid': 'edit-kit', onclick: () => edit(k) }, 'Edit')),
      ),
    ),
  });
}

/** Why a template's HTML is not accepted ('' when it is): too large, or a placeholder the renderer does not know. */
export function checkTemplateHtml(html) {
  if (!String(html).trim()) return 'Write the template’s HTML.';
  const bytes = new TextEncoder().encode(html).length;
  if (bytes > HTML_MAX_BYTES) return `The template can be at most ${formatBytes(HTML_MAX_BYTES)} (now ${formatBytes(bytes)}).`;
  const unknown = [...String(html).matchAll(/\{\{(.*?)\}\}/gs)].map((m) => m[1].trim()).filter((p) => !PLACEHOLDERS.includes(p));
  if (unknown.length) return `Unknown placeholder${unknown.length === 1 ? '' : 's'}: ${[...new Set(unknown)].map((p) => `{{${p}}}`).join(', ')}.`;
  return '';
}

const KIT_FIELDS = {
  name: 'kit_name',
  description: 'kit_description',
  campaign: 'kit_campaign',
  asset_ids: 'kit_assets',
  status: 'kit_status',
  'template.kind': 'kit_kind',
  'template.subject': 'kit_subject',
  'template.html': 'kit_html',
  template: 'kit_html',
  'template.pdf.headline': 'kit_pdf_headline',
  'template.pdf.body': 'kit_pdf_body',
  'template.pdf': 'kit_pdf_headline',
  revision: 'kit_name',
  ...audienceMap('kit'),
};

function kitEditor(ctx, tiers, assets, { onSaved }) {
  const keeper = idempotencyKeeper();
  let editing = null;
  const heading = h('h3', { id: 'kit-form-heading', 'data-testid': 'kit-form-mode' }, 'New kit');
  const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-kit' }, 'Create kit');
  const stop = h('button', { type: 'button', class: 'button', 'data-testid': 'stop-editing-kit', hidden: true }, 'Stop editing');
  const result = resultSlot('kit');
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'kit-form', 'aria-labelledby': 'kit-form-heading' },
    heading,
    formAlert(),
    result,
    field({ id: 'kit_name', label: 'Name', attrs: { autocomplete: 'off' } }),
    field({ id: 'kit_campaign', label: 'Campaign', optional: true, hint: 'E.g. Firewall 900 launch, spring 2027.', attrs: { autocomplete: 'off' } }),
    field({ id: 'kit_description', label: 'Description', control: 'textarea', optional: true, attrs: { rows: 2 } }),
    assets.length
      ? checkboxGroup({
          id: 'kit_assets',
          legend: 'Assets in the kit',
          hint: `Ready assets, up to ${KIT_ASSETS_MAX}. Each partner sees the ones its own audience allows.`,
          options: assets.map((a) => [a.asset_id, `${a.title} (${typeLabel(a.type)})`]),
        })
      : h('fieldset', { id: 'kit_assets', class: 'field' }, h('legend', {}, 'Assets in the kit'), h('p', { class: 'muted small' }, 'No asset is ready yet: a kit can start with its template alone.'), h('p', { class: 'field-error', id: 'kit_assets-error', hidden: true })),
    audienceFields('kit', tiers),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'kit_kind', label: 'Template', control: 'select', options: [['email', 'Email'], ['landing_page', 'Landing page']] }),
      field({ id: 'kit_subject', label: 'Email subject', optional: true, attrs: { autocomplete: 'off' } }),
    ),
    field({
      id: 'kit_html',
      label: 'Template HTML',
      control: 'textarea',
      hint: `Placeholders: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}. Partner values are escaped; scripts and event handlers are removed.`,
      attrs: { rows: 10, spellcheck: 'false', class: 'code' },
    }),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', {}, 'One-page PDF'),
      h('div', { class: 'field-checkbox' }, h('input', { type: 'checkbox', id: 'kit_pdf', name: 'kit_pdf' }), h('label', { for: 'kit_pdf' }, 'Also make a one-page PDF with the partner’s details')),
      field({ id: 'kit_pdf_headline', label: 'PDF headline', optional: true, attrs: { autocomplete: 'off' } }),
      field({ id: 'kit_pdf_body', label: 'PDF text', control: 'textarea', optional: true, attrs: { rows: 3 } }),
    ),
    field({ id: 'kit_status', label: 'Status', control: 'select', options: [['draft', 'Draft (only you see it)'], ['published', 'Published to its audience']] }),
    h('div', { class: 'actions' }, submit, stop),
  );
  for (const box of form.querySelectorAll('#kit_assets input')) box.required = false;
  const els = form.elements;
  const isEmail = () => els.kit_kind.value === 'email';
  const pdfOn = () => els.kit_pdf.checked;
  const controller = bindForm(form, {
    validators: {
      kit_name: (v) => required(v, 'Name the kit.') || maxLength(v, KIT_NAME_MAX, 'The name'),
      kit_campaign: (v) => maxLength(v, CAMPAIGN_MAX, 'The campaign'),
      kit_description: (v) => maxLength(v, DESCRIPTION_MAX, 'The description'),
      kit_assets: () => (checkedValues(form, 'kit_assets').length > KIT_ASSETS_MAX ? `At most ${KIT_ASSETS_MAX} assets.` : ''),
      kit_subject: (v) => (isEmail() ? required(v, 'An email needs a subject.') || maxLength(v, SUBJECT_MAX, 'The subject') : ''),
      kit_html: (v) => checkTemplateHtml(v),
      kit_pdf_headline: (v) => (pdfOn() ? required(v, 'Give the PDF a headline.') || maxLength(v, TITLE_MAX, 'The headline') : ''),
      kit_pdf_body: (v) => (pdfOn() ? maxLength(v, PDF_TEXT_MAX, 'The text') : ''),
    },
    dependents: { kit_kind: ['kit_subject'], kit_pdf: ['kit_pdf_headline', 'kit_pdf_body'] },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      clearResult(form);
      const template = { kind: els.kit_kind.value, html: els.kit_html.value };
      if (isEmail()) template.subject = els.kit_subject.value.trim();
      template.pdf = pdfOn() ? { enabled: true, headline: els.kit_pdf_headline.value.trim(), body: els.kit_pdf_body.value.trim() } : null;
      const body = {
        name: els.kit_name.value.trim(),
        description: els.kit_description.value.trim(),
        campaign: els.kit_campaign.value.trim(),
        asset_ids: checkedValues(form, 'kit_assets'),
        audience: readAudience(form, 'kit'),
        template,
        status: els.kit_status.value,
      };
      const done = (answer) => {
        const message = `${editing ? 'Saved' : 'Created'} “${answer?.name || body.name}” (${answer?.status || body.status}).`;
        stopEditing();
        onSaved();
        return message;
      };
      if (editing) {
        await sendForm(ctx, form, controller, {
          keeper,
          body: { ...body, revision: editing.revision },
          send: (text) => api.patch(path`/content/kits/${editing.kit_id}`, text),
          done: (answer) => showResult(form, done(answer)),
          fieldMap: KIT_FIELDS,
          reload: 'Reload the kits',
          retry: 'Select “Save kit” again to retry.',
          fallback: 'The kit was not saved.',
        });
      } else {
        await submitAdmin(ctx, form, controller, keeper, { url: '/content/kits', body, fieldMap: KIT_FIELDS, button: 'Create kit', done });
      }
    },
  });

  function stopEditing() {
    editing = null;
    controller.reset();
    heading.textContent = 'New kit';
    submit.textContent = 'Create kit';
    stop.hidden = true;
  }
  stop.addEventListener('click', stopEditing);

  function edit(kit) {
    controller.reset();
    editing = kit;
    heading.textContent = `Edit ${kit.name}`;
    submit.textContent = 'Save kit';
    stop.hidden = false;
    els.kit_name.value = kit.name || '';
    els.kit_campaign.value = kit.campaign || '';
    els.kit_description.value = kit.description || '';
    setChecked(form, 'kit_assets', kit.asset_ids || []);
    fillAudience(form, 'kit', kit.audience);
    els.kit_kind.value = kit.template?.kind || 'email';
    els.kit_subject.value = kit.template?.subject || '';
    els.kit_html.value = kit.template?.html || '';
    els.kit_pdf.checked = Boolean(kit.template?.pdf?.enabled);
    els.kit_pdf_headline.value = kit.template?.pdf?.headline || '';
    els.kit_pdf_body.value = kit.template?.pdf?.body || '';
    els.kit_status.value = kit.status || 'draft';
    form.scrollIntoView({ block: 'start' });
    els.kit_name.focus();
  }

  return { form, edit };
}
