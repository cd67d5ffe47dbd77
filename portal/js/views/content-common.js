// What the content pages (the partner's #/content library and kits, the vendor's #/admin/content…, the brand section of
// #/organisation) share: asset types and the files each accepts, languages, statuses with their labels and tones, an
// asset's file facts and audience in plain words, opening a short-lived download link, and the vendor's tabs.
import { api, path } from '../api.js';
import { badge, h } from '../dom.js';
import { newId } from '../forms.js';
import { PARTNER_TYPES, statusLabel } from '../reference.js';
import { formatBytes } from '../uploads.js';

export const TYPES = [
  ['document', 'Document'],
  ['presentation', 'Presentation'],
  ['video', 'Video'],
  ['image', 'Image'],
  ['archive', 'Archive'],
];

export const REGIONS = [
  ['AMER', 'Americas'],
  ['EMEA', 'Europe, Middle East and Africa'],
  ['APAC', 'Asia Pacific'],
];

export const LANGUAGES = [
  ['en', 'English'],
  ['de', 'German'],
  ['fr', 'French'],
  ['es', 'Spanish'],
  ['it', 'Italian'],
  ['nl', 'Dutch'],
  ['pt', 'Portuguese'],
  ['ja', 'Japanese'],
  ['zh', 'Chinese'],
  ['ko', 'Korean'],
];

// Extension -> the content type an upload declares; per asset type the extensions it accepts (domain/assets.py: the
// magic bytes are checked again after the upload).
const EXTENSIONS = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  csv: 'text/csv',
  txt: 'text/plain',
  mp4: 'video/mp4',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
};
export const ACCEPTED = {
  document: ['pdf', 'docx', 'csv', 'txt'],
  presentation: ['pdf', 'pptx'],
  video: ['mp4'],
  image: ['png', 'jpg', 'jpeg'],
  archive: ['zip'],
};
export const ASSET_MAX_BYTES = 50 * 1024 * 1024; // MaxAssetBytes' default
export const LOGO_MAX_BYTES = 200 * 1024;
export const TITLE_MAX = 120;
export const DESCRIPTION_MAX = 2000;
export const NOTES_MAX = 1000;
export const TAGS_MAX = 10;
export const SKUS_MAX = 20;
const TAG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SKU = /^[A-Z0-9][A-Z0-9-]{1,39}$/;

export function typeLabel(value) {
  return TYPES.find(([v]) => v === value)?.[1] || statusLabel(value);
}

export function languageLabel(value) {
  const found = LANGUAGES.find(([v]) => v === value);
  return found ? found[1] : String(value || '').toUpperCase();
}

function extension(fileName) {
  const name = String(fileName || '').toLowerCase();
  return name.includes('.') ? name.split('.').pop() : '';
}

/** The content type a file of this asset type declares, from its name's extension; null when the type refuses it. */
export function contentTypeFor(fileName, type) {
  const ext = extension(fileName);
  return (ACCEPTED[type] || []).includes(ext) ? EXTENSIONS[ext] : null;
}

/** '' when `file` may be uploaded as an asset of `type`, otherwise why not. */
export function checkAssetFile(file, type, maxBytes = ASSET_MAX_BYTES) {
  if (!file) return 'Choose the file to upload.';
  if (!type) return 'Choose the asset type first.';
  if (!contentTypeFor(file.name, type)) {
    return `A ${typeLabel(type).toLowerCase()} is one of these files: ${ACCEPTED[type].map((e) => `.${e}`).join(', ')}.`;
  }
  if ([...file.name].length > 200) return 'Rename the file: its name can be at most 200 characters.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > maxBytes) return `Files can be at most ${formatBytes(maxBytes)}; this one is ${formatBytes(file.size)}.`;
  return '';
}

/** '' when `file` may be the organisation's logo (PNG or SVG, at most 200 KB), otherwise why not. */
export function checkLogoFile(file) {
  if (!file) return 'Choose a PNG or SVG file.';
  const ext = extension(file.name);
  if (ext !== 'png' && ext !== 'svg') return 'A logo is a PNG or an SVG file.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > LOGO_MAX_BYTES) return `A logo can be at most ${formatBytes(LOGO_MAX_BYTES)}; this one is ${formatBytes(file.size)}.`;
  return '';
}

export function logoContentType(fileName) {
  return extension(fileName) === 'svg' ? 'image/svg+xml' : 'image/png';
}

/** A comma-separated list as typed ("Launch, firewall") -> its distinct trimmed entries. */
export function splitList(text) {
  return [...new Set(String(text || '').split(',').map((part) => part.trim()).filter(Boolean))];
}

/** '' when every tag is a lower-case slug of at most 30 characters and there are at most 10, otherwise why not. */
export function checkTags(text) {
  const tags = splitList(text);
  if (tags.length > TAGS_MAX) return `At most ${TAGS_MAX} tags (now ${tags.length}).`;
  const bad = tags.find((t) => !TAG.test(t) || t.length > 30);
  return bad ? `“${bad}” is not a tag: lower-case letters, digits and dashes, 30 at most (e.g. product-launch).` : '';
}

/**
 * '' when the list holds at most 20 SKUs, each well formed and, when `known` (the product list's SKUs) is not empty,
 * each one of them or of `kept` (what the asset already carries); otherwise why not. A typo would otherwise file the
 * asset under a product no partner filters by.
 */
export function checkSkus(text, known = [], kept = []) {
  const skus = splitList(text);
  if (skus.length > SKUS_MAX) return `At most ${SKUS_MAX} product SKUs (now ${skus.length}).`;
  const bad = skus.find((s) => !SKU.test(s));
  if (bad) return `“${bad}” is not a product SKU: capital letters, digits and dashes (e.g. NET-FW-100).`;
  if (!known.length) return '';
  const unknown = skus.find((s) => !known.includes(s) && !kept.includes(s));
  if (!unknown) return '';
  const some = known.slice(0, 5).join(', ') + (known.length > 5 ? ', …' : '');
  return `“${unknown}” is not in the product list (${some}). Check the spelling, or add the product to the list first.`;
}

/**
 * The vendor's product list as [[sku, "Name (SKU)"]] (deals' GET /products) for the product pickers and checks;
 * none when it cannot be read (the pages then take any well-formed SKU, as the API does).
 */
export async function productChoices(ctx) {
  try {
    const data = await api.get('/products');
    const items = Array.isArray(data?.items) ? data.items : [];
    return items
      .filter((p) => p && typeof p.sku === 'string' && SKU.test(p.sku))
      .map((p) => [p.sku, p.name ? `${p.name} (${p.sku})` : p.sku])
      .sort(([a], [b]) => a.localeCompare(b));
  } catch (error) {
    ctx.handleAuthErrors(error);
    return [];
  }
}

export function isTag(value) {
  return TAG.test(value) && value.length <= 30;
}

export function isSku(value) {
  return SKU.test(value);
}

// ------------------------------------------------------------------ statuses

const TONES = {
  ready: 'ok',
  published: 'ok',
  processing: 'pending',
  awaiting_upload: 'pending',
  draft: 'neutral',
  rejected: 'bad',
  expired: 'warn',
};
const LABELS = {
  awaiting_upload: 'Waiting for the file',
  draft: 'Draft',
};

export function contentStatusLabel(status) {
  return LABELS[status] || statusLabel(status);
}

export function contentBadge(status, testid) {
  return badge(contentStatusLabel(status), TONES[status] || 'neutral', testid);
}

// ------------------------------------------------------------------ facts in plain words

/** "PDF · 12 KB · 3 pages" for a version (or an asset card's `current`). */
export function fileFacts(version) {
  if (!version) return '—';
  const ext = extension(version.file_name).toUpperCase();
  const parts = [ext || version.content_type, formatBytes(version.size_bytes)];
  if (Number(version.pages) > 0) parts.push(`${version.pages} page${Number(version.pages) === 1 ? '' : 's'}`);
  if (Number(version.duration_seconds) > 0) parts.push(durationText(version.duration_seconds));
  return parts.filter(Boolean).join(' · ');
}

function durationText(seconds) {
  const s = Math.round(Number(seconds));
  const minutes = Math.floor(s / 60);
  return `${minutes}:${String(s % 60).padStart(2, '0')} min`;
}

/** Who an asset or kit is for: "Gold and above; regions: EMEA; partner types: Reseller", or "Every partner". */
export function audienceWords(audience, tierName) {
  const a = audience || {};
  const parts = [];
  if (a.min_tier_id) parts.push(`${tierName || a.min_tier_id} and above`);
  if (a.regions?.length) parts.push(`regions: ${a.regions.join(', ')}`);
  if (a.partner_types?.length) {
    parts.push(`partner types: ${a.partner_types.map((t) => PARTNER_TYPES.find(([v]) => v === t)?.[1] || t).join(', ')}`);
  }
  return parts.length ? parts.join('; ') : 'Every partner';
}

// ------------------------------------------------------------------ downloads

/**
 * A Preview or Download button for an asset: asks the API for a short-lived link (`POST …/downloads`, recorded as a
 * download or a preview) and opens it in a new tab, or says why not in `status`. The tab is opened during the
 * click, so pop-up blockers allow it.
 */
export function downloadButton(ctx, asset, kind, status, { label, testid, version } = {}) {
  const text = label || (kind === 'preview' ? 'Preview' : 'Download');
  const button = h(
    'button',
    {
      type: 'button',
      class: kind === 'preview' ? 'button button-small' : 'button button-small button-primary',
      'data-testid': testid || `asset-${kind}`,
      'aria-label': `${text}: ${asset.title}`,
    },
    text,
  );
  button.addEventListener('click', async () => {
    const win = window.open('', '_blank');
    button.disabled = true;
    status.textContent = kind === 'preview' ? 'Preparing the preview…' : 'Preparing the download…';
    let answer;
    try {
      const body = version ? { kind, version } : { kind };
      answer = await api.post(path`/content/assets/${asset.asset_id}/downloads`, body, { idempotencyKey: newId() });
    } catch (error) {
      win?.close();
      button.disabled = false;
      if (ctx.handleAuthErrors(error)) return;
      status.textContent =
        error.status === 404
          ? 'This asset is no longer available to your organisation.'
          : `The ${kind === 'preview' ? 'preview' : 'download'} could not be prepared. ${error.message}`;
      return;
    }
    button.disabled = false;
    if (!answer?.url || !/^https?:\/\//i.test(answer.url)) {
      win?.close();
      status.textContent = 'The link could not be prepared. Try again.';
      return;
    }
    const minutes = Math.max(1, Math.round((answer.expires_in || 300) / 60));
    if (win) {
      win.opener = null;
      win.location.href = answer.url;
      status.textContent = `Opened ${answer.file_name || 'the file'} (version ${answer.version}) in a new tab.`;
    } else {
      status.replaceChildren(
        h(
          'a',
          { href: answer.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'asset-link' },
          `Open ${answer.file_name || 'the file'} (the link works for ${minutes} minute${minutes === 1 ? '' : 's'})`,
        ),
      );
    }
  });
  return button;
}

// ------------------------------------------------------------------ the vendor's tabs

const ADMIN_TABS = [
  ['/admin/content', 'Assets', 'content-tab-assets'],
  ['/admin/content/kits', 'Kits', 'content-tab-kits'],
  ['/admin/content/stats', 'Downloads and export', 'content-tab-stats'],
];

export function contentTabs(current) {
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Content administration' },
    h(
      'ul',
      {},
      ADMIN_TABS.map(([href, text, testid]) =>
        h('li', {}, h('a', { href: `#${href}`, 'data-testid': testid, 'aria-current': href === current ? 'page' : null }, text)),
      ),
    ),
  );
}
