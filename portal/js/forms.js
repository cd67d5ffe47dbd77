// Form helpers: validators, counts and rates, live validation, sending a form and showing its errors (money: money.js).
import { h } from './dom.js';

export const LIMITS = Object.freeze({
  companyName: 200,
  personName: 120,
  email: 254,
  website: 253,
  domain: 253,
  phone: 40,
  description: 2000,
});

// ------------------------------------------------------------------ validators (value -> message or '')

export function required(value, message) {
  return String(value ?? '').trim() === '' ? message : '';
}

/** Characters as the API counts them (Unicode code points of the trimmed value, as Python's len()). */
export function charCount(value) {
  return [...String(value ?? '').trim()].length;
}

export function maxLength(value, max, what = 'This field') {
  const length = charCount(value);
  return length > max ? `${what} must be ${max} characters or fewer (now ${length}).` : '';
}

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

/** A pragmatic email shape check: local@domain with a real-looking domain. */
export function isEmail(value) {
  const v = String(value ?? '').trim();
  if (v.length > LIMITS.email) return false;
  const at = v.lastIndexOf('@');
  if (at < 1 || at === v.length - 1) return false;
  const local = v.slice(0, at);
  const domain = v.slice(at + 1);
  if (local.length > 64 || !EMAIL_LOCAL.test(local)) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return isDomainName(domain.toLowerCase());
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** True for an ASCII (punycode) host name with at least two labels and an alphabetic TLD. */
export function isDomainName(host) {
  if (!host || host.length > LIMITS.domain) return false;
  const labels = host.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((label) => LABEL.test(label))) return false;
  return TLD.test(labels[labels.length - 1]);
}

/**
 * The host name of a website given as a URL ("https://www.acme.example/about") or a bare domain
 * ("acme.example"), lower-cased and in punycode; null when it is not a public-looking domain.
 */
export function websiteHost(value) {
  const v = String(value ?? '').trim();
  if (!v || /\s/.test(v)) return null;
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(v) && v.includes('://');
  if (hasScheme && !/^https?:\/\//i.test(v)) return null;
  let url;
  try {
    url = new URL(hasScheme ? v : `https://${v}`);
  } catch {
    return null;
  }
  if (url.username || url.password) return null;
  const host = url.hostname.replace(/\.$/, '');
  return isDomainName(host) ? host : null;
}

// ------------------------------------------------------------------ counts and rates

/** A count typed by a person ("1,200" -> 1200): digits only, at most `max`. {ok, value} or {ok: false, error}. */
export function parseCount(input, { max = 1_000_000_000, what = 'a number' } = {}) {
  const text = String(input ?? '').trim();
  if (text === '') return { ok: false, error: `Enter ${what}.` };
  if (!/^(\d{1,3}(?:,\d{3})+|\d+)$/.test(text)) return { ok: false, error: 'Enter a whole number such as 25 (0 or more).' };
  const value = Number(text.replaceAll(',', ''));
  if (!Number.isSafeInteger(value) || value > max) return { ok: false, error: `Enter at most ${max.toLocaleString()}.` };
  return { ok: true, value };
}

/**
 * A percentage typed by a person as basis points, exactly ("1.5" -> 150, "0.25" -> 25, "100" -> 10000), at most
 * two decimals and 100 %. {ok, bp} or {ok: false, error}.
 */
export function parsePercent(input) {
  const text = String(input ?? '').trim().replace(/\s*%$/, '');
  if (text === '') return { ok: false, error: 'Enter a rate such as 1.5 (per cent).' };
  const match = /^(\d{1,3})(?:\.(\d+))?$/.exec(text);
  if (!match) return { ok: false, error: 'Enter a rate such as 1.5 (per cent).' };
  const fraction = match[2] ?? '';
  if (fraction.length > 2) return { ok: false, error: 'Use at most two decimal places (0.01 % is one basis point).' };
  const bp = Number(match[1]) * 100 + Number(fraction.padEnd(2, '0') || '0');
  if (bp > 10000) return { ok: false, error: 'The rate cannot be more than 100 %.' };
  return { ok: true, bp };
}

/** Basis points as a percentage ("150" -> "1.5 %"), exactly. */
export function formatBasisPoints(bp) {
  const value = Number(bp);
  if (!Number.isInteger(value)) return '—';
  const whole = Math.trunc(value / 100);
  const fraction = String(value % 100).padStart(2, '0').replace(/0+$/, '');
  return `${whole}${fraction ? `.${fraction}` : ''} %`;
}

/** Basis points as the text a person would type ("150" -> "1.5"). */
export function basisPointsToInput(bp) {
  return formatBasisPoints(bp).replace(' %', '');
}

// ------------------------------------------------------------------ calendar dates (YYYY-MM-DD)

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD (what `<input type=date>` gives and the API takes). */
export function isIsoDate(value) {
  const match = ISO_DAY.exec(String(value ?? ''));
  if (!match) return false;
  const d = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** Today's date as YYYY-MM-DD, in UTC (the API's clock) or in the reader's time zone. */
export function today({ utc = true } = {}) {
  const now = new Date();
  if (utc) return now.toISOString().slice(0, 10);
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** YYYY-MM-DD plus `days` calendar days. */
export function addDays(ymd, days) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ------------------------------------------------------------------ ids and idempotency

export function newId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Fallback for non-secure contexts (randomUUID needs https or localhost): an RFC 4122 v4 UUID.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * One Idempotency-Key per distinct form fill: re-sending the same body (double click, retry after a network
 * failure) reuses the key, so the server answers once; changing the body after an error gets a fresh key
 * (re-using a key with a different body would be rejected with 422).
 */
export function idempotencyKeeper() {
  let lastBody = null;
  let key = null;
  return {
    keyFor(body) {
      const serialised = typeof body === 'string' ? body : JSON.stringify(body);
      if (serialised !== lastBody) {
        lastBody = serialised;
        key = newId();
      }
      return key;
    },
    reset() {
      lastBody = null;
      key = null;
    },
  };
}

// ------------------------------------------------------------------ live validation

/**
 * Wire live validation into a form built with field(): `validators` maps a control id to
 * (value, form) -> message | ''. Fields validate as the user types (once touched) and on blur;
 * submit validates everything, focuses the first invalid control and calls onSubmit otherwise.
 * A group of controls (checkboxes in a fieldset, see checkboxGroup()) validates as one field: the group
 * element carries the id and each control names it in `data-field`.
 */
export function bindForm(form, { validators, onSubmit, dependents = {}, busyLabel = 'Sending…' }) {
  const touched = new Set();
  const serverErrors = new Map();
  let busy = false;
  const alertBox = form.querySelector('[data-form-alert]');

  const control = (id) => form.querySelector(`#${CSS.escape(id)}`);
  const fieldId = (target) => target?.dataset?.field || target?.id;

  /** Focus a control, or the first control of a group. */
  function focusControl(id) {
    const el = control(id);
    if (!el) return;
    const target = el.matches('input, select, textarea, button') ? el : el.querySelector('input, select, textarea');
    (target || el).focus();
  }

  function setFieldError(id, message) {
    const input = control(id);
    const error = form.querySelector(`#${CSS.escape(id)}-error`);
    if (!input || !error) return false;
    error.textContent = message || '';
    error.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    input.closest('.field')?.classList.toggle('has-error', Boolean(message));
    return true;
  }

  function validateField(id) {
    const validator = validators[id];
    const input = control(id);
    if (!validator || !input) return '';
    const value = input.type === 'checkbox' ? input.checked : (input.value ?? '');
    const message = serverErrors.get(id) || validator(value, form) || '';
    setFieldError(id, message);
    return message;
  }

  function onEdit(event) {
    const id = fieldId(event.target);
    if (!(id in validators)) return;
    touched.add(id);
    serverErrors.delete(id);
    validateField(id);
    for (const dependent of dependents[id] || []) {
      if (touched.has(dependent)) {
        serverErrors.delete(dependent);
        validateField(dependent);
      }
    }
    if (alertBox && !alertBox.hidden && alertBox.dataset.kind === 'validation') showAlert('');
  }

  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  form.addEventListener('focusout', (event) => {
    const id = fieldId(event.target);
    if (event.target.type === 'checkbox') return; // validated on change and on submit
    if (id in validators && (touched.has(id) || event.target.value)) {
      touched.add(id);
      validateField(id);
    }
  });

  function validateAll() {
    let first = null;
    for (const id of Object.keys(validators)) {
      touched.add(id);
      if (validateField(id) && !first) first = id;
    }
    return first;
  }

  function showAlert(message, kind = 'error') {
    if (!alertBox) return;
    alertBox.replaceChildren();
    alertBox.hidden = !message;
    alertBox.dataset.kind = kind;
    if (message) alertBox.append(message);
  }

  const submitButton = form.querySelector('button[type=submit]');
  const idleLabel = submitButton?.textContent;

  function setBusy(isBusy, label = busyLabel) {
    busy = isBusy;
    form.setAttribute('aria-busy', String(isBusy));
    if (submitButton) {
      submitButton.disabled = isBusy;
      submitButton.textContent = isBusy ? label : idleLabel;
    }
  }

  /**
   * Show an ApiError: each errors[].field on its control (via fieldMap: dotted API path -> control id; the
   * longest mapped prefix wins, so `products.3` finds `products`), anything unmapped in the form's alert.
   * Returns true when at least one field got a message.
   */
  function showServerErrors(error, fieldMap = {}, { summary } = {}) {
    const unmapped = [];
    let firstId = null;
    for (const item of error.fieldErrors || []) {
      const path = String(item.field || '').replace(/^body\./, '');
      const id = mapPath(fieldMap, path) ?? (control(path) ? path : null);
      if (id && control(id)) {
        const message = readable(item.message) || 'This value was not accepted.';
        const existing = serverErrors.get(id);
        serverErrors.set(id, existing ? `${existing} ${message}` : message);
        touched.add(id);
        setFieldError(id, serverErrors.get(id));
        firstId ??= id;
      } else {
        unmapped.push(item.field ? `${item.field}: ${item.message}` : item.message);
      }
    }
    const base = summary || (firstId ? 'Please correct the highlighted fields.' : error.message);
    const text = unmapped.length ? `${base} ${unmapped.join('; ')}` : base;
    showAlert(text, firstId ? 'validation' : 'error');
    if (firstId) focusControl(firstId);
    return Boolean(firstId);
  }

  function setServerError(id, message) {
    serverErrors.set(id, message);
    touched.add(id);
    setFieldError(id, message);
  }

  /** The server refused one field: its message on the field, the alert asks for a correction, focus goes there. */
  function showFieldError(id, message) {
    setServerError(id, message);
    showAlert('Please correct the highlighted fields.', 'validation');
    focusControl(id);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return; // a second click while the first request is in flight does nothing
    serverErrors.clear();
    const firstInvalid = validateAll();
    if (firstInvalid) {
      showAlert('Please correct the highlighted fields.', 'validation');
      focusControl(firstInvalid);
      return;
    }
    showAlert('');
    setBusy(true);
    try {
      await onSubmit();
    } finally {
      if (form.isConnected) setBusy(false);
    }
  });

  return {
    validateAll,
    validateField,
    setFieldError,
    showAlert,
    showServerErrors,
    setBusy,
    setServerError,
    showFieldError,
    reset() {
      touched.clear();
      serverErrors.clear();
      form.reset();
      for (const id of Object.keys(validators)) setFieldError(id, '');
      showAlert('');
    },
    get busy() {
      return busy;
    },
  };
}

/**
 * Send a form's JSON `body` (`send(text, idempotencyKey)`, one key per distinct fill) and call `done(answer)` when
 * it was accepted and the form is still shown. A failure is shown on the form: by `onError` first (it returns true
 * when it showed the error itself), then field errors by `fieldMap`, with `reload` (a button label) a 409 as
 * `[data-testid=invalid-state]` with a button that reloads the page, a network or server failure with `retry` (how
 * to try again), anything else as its message or `fallback`.
 */
export async function sendForm(ctx, form, controller, spec) {
  const { keeper, body, send, done, fieldMap = {}, onError, reload, retry, fallback } = spec;
  const text = JSON.stringify(body);
  let answer;
  try {
    answer = await send(text, keeper.keyFor(text));
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !form.isConnected || onError?.(error)) return;
    if (error.fieldErrors?.length) {
      controller.showServerErrors(error, fieldMap);
    } else if (reload && (error.code === 'invalid_state' || error.status === 409)) {
      controller.showAlert(
        h(
          'span',
          { 'data-testid': 'invalid-state' },
          `This is not possible now. ${error.message} `,
          h('button', { type: 'button', class: 'button-inline', onclick: () => ctx.rerender() }, reload),
        ),
      );
    } else if (error.isNetwork || error.status >= 500) {
      controller.showAlert(`${error.message} ${retry}`);
    } else {
      controller.showAlert(error.message || fallback);
    }
    return;
  }
  if (form.isConnected) done(answer);
}

/** The control id for a dotted API path: the entry for the path itself or for its longest prefix. */
function mapPath(fieldMap, path) {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const id = fieldMap[parts.slice(0, n).join('.')];
    if (id) return id;
  }
  return null;
}

/** Server messages are validator fragments ("Value error, not a domain"): make them read as sentences. */
function readable(message) {
  const text = String(message || '').replace(/^Value error, /, '').trim();
  // Capitalise a leading plain word, never a leading domain or email address ("acme.example has applied").
  return /^[a-z]+(?=[\s,:]|$)/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// ------------------------------------------------------------------ markup

/**
 * A labelled form control with an optional hint and an error slot wired through aria-describedby.
 * `control` is 'input' (default), 'select' (with `options` [[value, label], ...]) or 'textarea'.
 */
export function field({ id, label, name = id, control = 'input', type = 'text', hint, options, placeholder,
  optional = false, attrs = {}, after }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const common = {
    id,
    name,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    required: !optional,
    'aria-required': optional ? null : 'true',
    ...attrs,
  };
  let input;
  if (control === 'select') {
    input = h(
      'select',
      common,
      placeholder !== undefined ? h('option', { value: '' }, placeholder) : null,
      (options || []).map(([value, text]) => h('option', { value }, text)),
    );
  } else if (control === 'textarea') {
    input = h('textarea', common);
  } else {
    input = h('input', { type, ...common });
  }
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    after ? h('div', { class: 'control-row' }, input, after) : input,
    h('p', { class: 'field-error', id: errorId, 'data-testid': errorId, hidden: true }),
  );
}

/**
 * A group of checkboxes validated as one field (bindForm validates it under `id`): a fieldset with a legend,
 * a hint and an error slot. `options` is [[value, label, group?], ...]; options with a group are listed under
 * that group's heading.
 */
export function checkboxGroup({ id, name = id, legend, hint, options = [], attrs = {} }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const groups = new Map();
  for (const [value, label, group = ''] of options) {
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push([value, label]);
  }
  const box = (value, label) => {
    const controlId = `${id}-${value}`.replace(/[^A-Za-z0-9_-]/g, '_');
    return h(
      'div',
      { class: 'field-checkbox' },
      h('input', { type: 'checkbox', id: controlId, name, value, 'data-field': id }),
      h('label', { for: controlId }, label),
    );
  };
  return h(
    'fieldset',
    { id, class: 'field checkbox-group', 'aria-describedby': [hintId, errorId].filter(Boolean).join(' '), ...attrs },
    h('legend', {}, legend),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    [...groups].map(([group, items]) =>
      group
        ? h(
            'div',
            { class: 'checkbox-family', role: 'group', 'aria-label': group },
            h('p', { class: 'checkbox-family-name', 'aria-hidden': 'true' }, group),
            items.map(([value, label]) => box(value, label)),
          )
        : items.map(([value, label]) => box(value, label)),
    ),
    h('p', { class: 'field-error', id: errorId, 'data-testid': errorId, hidden: true }),
  );
}

/** The form-level alert slot used by bindForm().showAlert. */
export function formAlert() {
  return h('div', { class: 'form-alert', role: 'alert', 'data-form-alert': '', 'data-testid': 'form-error', hidden: true });
}

/**
 * A small form in a card (an action on a record, an admin task): its title, an optional hint, the alert slot, an
 * optional `result` slot, the fields and one submit button. Labelled by its title, or by `labelledBy` when the title
 * is elsewhere on the page.
 */
export function cardForm({ testid, title, hint, result, fields, button, buttonTestid, primary = true, labelledBy }) {
  return h(
    'form',
    {
      class: 'form card action-card',
      novalidate: true,
      'data-testid': testid,
      'aria-labelledby': labelledBy || `${testid}-title`,
    },
    title ? h('h3', { id: `${testid}-title` }, title) : null,
    hint || null,
    formAlert(),
    result || null,
    fields,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'submit', class: `button${primary ? ' button-primary' : ''}`, 'data-testid': buttonTestid },
        button,
      ),
    ),
  );
}

/** A live "n / max" count of a text field's characters (as the API counts them), marked when over `max`. */
export function charCounter(max, attrs = {}) {
  const el = h('p', { class: 'hint counter', ...attrs });
  return {
    el,
    update(value) {
      const n = charCount(value);
      el.textContent = `${n} / ${max}`;
      el.classList.toggle('over', n > max);
    },
  };
}
