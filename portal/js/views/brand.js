// The organisation's brand profile for co-branded kits, a section of #/organisation: the display name, website,
// contact and address partner kits are filled with, and the logo (PNG or SVG, at most 200 KB, sent straight to
// storage by presigned POST and sanitised by the server before any kit uses it). Everyone in the organisation sees
// it; partner admins edit it. Every value is shown as text; the logo only ever as an <img> of a data: URI.
import { api, path, request } from '../api.js';
import { announce, h, loading, timeEl } from '../dom.js';
import { LIMITS, bindForm, field, formAlert, idempotencyKeeper, isEmail, maxLength, newId, required } from '../forms.js';
import { COUNTRIES, countryName } from '../reference.js';
import { UploadError, formatBytes, postToStorage } from '../uploads.js';
import { checkLogoFile, logoContentType } from './content-common.js';

const DISPLAY_NAME_MAX = 120;
const ADDRESS_LINE_MAX = 100;
const CITY_MAX = 120;
const POSTCODE_MAX = 20;
const PHONE = /^[0-9+() .-]+$/;
const POLL_MS = 1000;
const POLL_LIMIT_MS = 60_000;

/** The brand section: loads `GET /content/brand` itself and draws into the section it returns. */
export function brandSection(ctx) {
  const section = h(
    'section',
    { class: 'card brand-profile', 'aria-labelledby': 'brand-heading', 'data-testid': 'brand-profile' },
    h('h2', { id: 'brand-heading' }, 'Brand for co-branded kits'),
    loading('Loading your brand profile…'),
  );
  load(ctx, section);
  return section;
}

async function load(ctx, section, notice = '') {
  let brand;
  try {
    brand = await api.get('/content/brand');
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !section.isConnected) return;
    fill(section, h('p', { class: 'notice notice-bad', role: 'alert', 'data-testid': 'brand-error' }, `We could not load your brand profile. ${error.message}`));
    return;
  }
  if (!section.isConnected) return;
  draw(ctx, section, brand || {}, notice);
}

function fill(section, ...nodes) {
  const heading = section.querySelector('h2');
  section.replaceChildren(heading, ...nodes.flat().filter(Boolean));
}

/** The stored logo as an image when the API gives it as a data: URI of an image (the only form the page shows). */
function logoImage(logo, testid) {
  const uri = logo?.data_uri;
  if (typeof uri !== 'string' || !/^data:image\/(png|svg\+xml);base64,[A-Za-z0-9+/=]+$/.test(uri)) return null;
  return h('img', { src: uri, alt: 'Your logo', class: 'brand-logo', 'data-testid': testid, width: '160' });
}

function addressText(address) {
  if (!address) return null;
  const lines = [...(address.lines || []), [address.postcode, address.city].filter(Boolean).join(' '), address.country ? countryName(address.country) : ''];
  const text = lines.filter((line) => String(line || '').trim()).join('\n');
  return text ? h('span', { class: 'pre' }, text) : null;
}

function draw(ctx, section, brand, notice) {
  const isAdmin = brand.editable ?? ctx.isPartnerAdmin();
  const row = (label, key, value) => [h('dt', {}, label), h('dd', { 'data-testid': `brand-${key}` }, value || '—')];
  const logo = brand.logo || null;
  const summary = h(
    'dl',
    { class: 'summary' },
    row('Display name', 'display_name', brand.display_name),
    row('Website', 'website', brand.website),
    row('Contact', 'contact', [brand.contact_name, brand.contact_email ? `<${brand.contact_email}>` : ''].filter(Boolean).join(' ')),
    row('Phone', 'phone', brand.phone),
    row('Address', 'address', addressText(brand.address)),
    row(
      'Logo',
      'logo',
      logo
        ? [
            logoImage(logo, 'brand-logo-image'),
            h(
              'span',
              { class: 'muted small block', 'data-testid': 'brand-logo-facts' },
              [logo.content_type === 'image/svg+xml' ? 'SVG' : 'PNG', formatBytes(logo.size_bytes), logo.width && logo.height ? `${logo.width} × ${logo.height}` : ''].filter(Boolean).join(' · '),
            ),
          ]
        : 'No logo yet',
    ),
    brand.updated_at ? row('Updated', 'updated_at', timeEl(brand.updated_at)) : null,
  );
  fill(
    section,
    h('p', { class: 'muted small' }, 'Campaign kits are filled with these details. Until they are set, your company name, domain and primary contact are used.'),
    notice ? h('p', { class: 'notice notice-ok', role: 'status', 'data-testid': 'brand-saved' }, notice) : null,
    summary,
    isAdmin
      ? [brandForm(ctx, section, brand), logoForm(ctx, section, brand)]
      : h('p', { class: 'muted', 'data-testid': 'brand-readonly' }, 'Partner admins in your organisation can change the brand profile and the logo.'),
  );
}

const BRAND_FIELDS = {
  display_name: 'brand_display_name',
  website: 'brand_website',
  contact_name: 'brand_contact_name',
  contact_email: 'brand_contact_email',
  phone: 'brand_phone',
  'address.lines.0': 'brand_line1',
  'address.lines.1': 'brand_line2',
  'address.lines': 'brand_line1',
  'address.city': 'brand_city',
  'address.postcode': 'brand_postcode',
  'address.country': 'brand_country',
  address: 'brand_line1',
  revision: 'brand_display_name',
};

function brandForm(ctx, section, brand) {
  const address = brand.address || {};
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'brand-form', 'aria-labelledby': 'brand-form-heading' },
    h('h3', { id: 'brand-form-heading' }, 'Edit the brand profile'),
    formAlert(),
    field({ id: 'brand_display_name', label: 'Display name', hint: 'Your organisation’s name as customers know it.', attrs: { autocomplete: 'organization' } }),
    field({ id: 'brand_website', label: 'Website', optional: true, hint: 'An https:// address.', attrs: { type: 'url', autocomplete: 'url' } }),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'brand_contact_name', label: 'Contact name', optional: true, attrs: { autocomplete: 'name' } }),
      field({ id: 'brand_contact_email', label: 'Contact email', optional: true, type: 'email', attrs: { autocomplete: 'email' } }),
    ),
    field({ id: 'brand_phone', label: 'Phone', type: 'tel', optional: true, attrs: { autocomplete: 'tel' } }),
    field({ id: 'brand_line1', label: 'Address line 1', optional: true, attrs: { autocomplete: 'address-line1' } }),
    field({ id: 'brand_line2', label: 'Address line 2', optional: true, attrs: { autocomplete: 'address-line2' } }),
    h(
      'div',
      { class: 'grid-3' },
      field({ id: 'brand_city', label: 'City', optional: true, attrs: { autocomplete: 'address-level2' } }),
      field({ id: 'brand_postcode', label: 'Postcode', optional: true, attrs: { autocomplete: 'postal-code' } }),
      field({ id: 'brand_country', label: 'Country', control: 'select', optional: true, placeholder: 'Choose…', options: COUNTRIES }),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-brand' }, 'Save brand profile')),
  );
  const els = form.elements;
  els.brand_display_name.value = brand.display_name || '';
  els.brand_website.value = brand.website || '';
  els.brand_contact_name.value = brand.contact_name || '';
  els.brand_contact_email.value = brand.contact_email || '';
  els.brand_phone.value = brand.phone || '';
  els.brand_line1.value = address.lines?.[0] || '';
  els.brand_line2.value = address.lines?.[1] || '';
  els.brand_city.value = address.city || '';
  els.brand_postcode.value = address.postcode || '';
  els.brand_country.value = address.country || '';
  const keeper = idempotencyKeeper();
  const controller = bindForm(form, {
    validators: {
      brand_display_name: (v) => required(v, 'Enter the name kits show.') || maxLength(v, DISPLAY_NAME_MAX, 'The display name'),
      brand_website: (v) => {
        const value = v.trim();
        if (!value) return '';
        let url;
        try {
          url = new URL(value);
        } catch {
          return 'Enter a full address such as https://www.example.com.';
        }
        if (url.protocol !== 'https:') return 'The website must start with https://.';
        return url.username || url.password ? 'Leave user names and passwords out of the address.' : maxLength(value, LIMITS.website, 'The website');
      },
      brand_contact_name: (v) => maxLength(v, LIMITS.personName, 'The contact name'),
      brand_contact_email: (v) => (!v.trim() || isEmail(v) ? '' : 'Enter an email address such as sales@example.com.'),
      brand_phone: (v) => {
        const value = v.trim();
        if (!value) return '';
        return maxLength(value, LIMITS.phone, 'The phone') || (PHONE.test(value) && value.replace(/\D/g, '').length >= 5 ? '' : 'Enter a phone number such as +44 20 7946 0000.');
      },
      brand_line1: (v) => maxLength(v, ADDRESS_LINE_MAX, 'The line'),
      brand_line2: (v, f) => maxLength(v, ADDRESS_LINE_MAX, 'The line') || (v.trim() && !f.elements.brand_line1.value.trim() ? 'Fill in line 1 first.' : ''),
      brand_city: (v) => maxLength(v, CITY_MAX, 'The city'),
      brand_postcode: (v) => maxLength(v, POSTCODE_MAX, 'The postcode') || (/^[A-Za-z0-9 -]*$/.test(v.trim()) ? '' : 'A postcode has letters, digits, spaces and dashes only.'),
    },
    dependents: { brand_line1: ['brand_line2'] },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      const lines = [els.brand_line1.value.trim(), els.brand_line2.value.trim()].filter(Boolean);
      const body = {
        display_name: els.brand_display_name.value.trim(),
        website: els.brand_website.value.trim() || null,
        contact_name: els.brand_contact_name.value.trim(),
        contact_email: els.brand_contact_email.value.trim() || null,
        phone: els.brand_phone.value.trim(),
        address: {
          lines,
          city: els.brand_city.value.trim(),
          postcode: els.brand_postcode.value.trim(),
          country: els.brand_country.value || null,
        },
        revision: Number(brand.revision || 0), // 0: the profile was never saved
      };
      const serialised = JSON.stringify(body);
      try {
        await request('PUT', '/content/brand', { body: serialised, idempotencyKey: keeper.keyFor(serialised) });
      } catch (error) {
        if (ctx.handleAuthErrors(error) || !form.isConnected) return;
        if (error.fieldErrors?.length) controller.showServerErrors(error, BRAND_FIELDS);
        else if (error.status === 409) controller.showAlert(`${error.message} Reload the page to see the profile now.`);
        else controller.showAlert(error.isNetwork || error.status >= 500 ? `${error.message} Select “Save brand profile” to try again.` : error.message);
        return;
      }
      announce('Brand profile saved.');
      load(ctx, section, 'Brand profile saved. Your next kit copy uses it.');
    },
  });
  return form;
}

function logoForm(ctx, section, brand) {
  const input = h('input', { type: 'file', id: 'brand_logo', name: 'brand_logo', accept: '.png,.svg,image/png,image/svg+xml', class: 'file-input', 'aria-describedby': 'brand_logo-hint brand_logo-error', 'data-testid': 'brand-logo-input' });
  const preview = h('div', { class: 'logo-preview', 'data-testid': 'logo-preview' });
  const bar = h('progress', { max: '100', value: '0', hidden: true, 'data-testid': 'logo-progress', 'aria-label': 'Logo upload progress' });
  const state = h('p', { class: 'small', role: 'status', 'data-testid': 'logo-state' });
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'logo-form', 'aria-labelledby': 'logo-form-heading' },
    h('h3', { id: 'logo-form-heading' }, brand.logo ? 'Replace the logo' : 'Upload a logo'),
    formAlert(),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'brand_logo' }, 'Logo file'),
      h('p', { class: 'hint', id: 'brand_logo-hint' }, 'PNG or SVG, at most 200 KB. SVG files are cleaned of scripts and links before use.'),
      input,
      h('p', { class: 'field-error', id: 'brand_logo-error', 'data-testid': 'brand_logo-error', hidden: true }),
    ),
    preview,
    bar,
    state,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', 'data-testid': 'upload-logo' }, 'Upload logo')),
  );
  // A local preview of the chosen file, read as a data: URI (the portal's policy allows images from data: only).
  input.addEventListener('change', () => {
    preview.replaceChildren();
    const file = input.files[0];
    if (!file || checkLogoFile(file)) return;
    const reader = new FileReader();
    reader.addEventListener('load', () => {
      const uri = String(reader.result || '');
      if (/^data:image\/(png|svg\+xml);base64,/.test(uri)) {
        preview.replaceChildren(h('img', { src: uri, alt: 'The chosen logo', class: 'brand-logo', width: '160', 'data-testid': 'logo-preview-image' }), h('p', { class: 'muted small' }, `${file.name} · ${formatBytes(file.size)}`));
      }
    });
    reader.readAsDataURL(new File([file], file.name, { type: logoContentType(file.name) }));
  });
  const controller = bindForm(form, {
    validators: { brand_logo: () => checkLogoFile(input.files[0]) },
    busyLabel: 'Uploading…',
    onSubmit: async () => {
      const file = input.files[0];
      const body = { content_type: logoContentType(file.name), size_bytes: file.size };
      let slot;
      try {
        slot = await api.post('/content/brand/logo', body, { idempotencyKey: newId() });
      } catch (error) {
        if (ctx.handleAuthErrors(error) || !form.isConnected) return;
        if (error.fieldErrors?.length) controller.showServerErrors(error, { content_type: 'brand_logo', size_bytes: 'brand_logo' });
        else controller.showAlert(error.message);
        return;
      }
      const upload = slot?.upload;
      try {
        await postToStorage(upload, file, {
          onProgress: (loaded, total) => {
            bar.hidden = false;
            bar.max = total || 1;
            bar.value = loaded;
            state.textContent = `Uploading… ${total ? Math.floor((100 * loaded) / total) : 0} %`;
          },
        });
      } catch (error) {
        bar.hidden = true;
        controller.showFieldError('brand_logo', error instanceof UploadError ? error.message : 'The upload was cancelled.');
        state.textContent = '';
        return;
      }
      bar.hidden = true;
      state.textContent = 'Uploaded. Checking the logo…';
      const outcome = await watchLogo(ctx, slot?.logo?.upload_id);
      if (!form.isConnected) return;
      if (outcome.ok) {
        announce('Logo saved.');
        load(ctx, section, 'Logo saved. Your next kit copy uses it.');
      } else {
        state.textContent = '';
        controller.showFieldError('brand_logo', outcome.message);
      }
    },
  });
  return form;
}

/** Ask for the upload's status until the logo is checked: {ok} or {ok: false, message}. */
async function watchLogo(ctx, uploadId) {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (uploadId && Date.now() < deadline && ctx.isCurrent()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    let upload;
    try {
      upload = await api.get(path`/content/brand/logo/${uploadId}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error)) return { ok: false, message: 'Your session ended.' };
      continue; // a passing failure: ask again
    }
    if (upload?.status === 'ready') return { ok: true };
    if (upload?.status === 'rejected') {
      return { ok: false, message: `The logo was not accepted: ${upload.reason || 'it is not a valid PNG or SVG file'}.` };
    }
  }
  return { ok: false, message: 'The logo is still being checked. Reload the page in a moment to see it.' };
}
