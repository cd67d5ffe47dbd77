// Pieces the vendor-admin pages of training and the programme share: an admin form's result slot, sending an admin
// form (one Idempotency-Key per distinct fill, reset after success), a section's heading block, and labels.
import { api } from '../api.js';
import { announce, h } from '../dom.js';
import { sendForm } from '../forms.js';

/** The `[data-testid=admin-result]` slot of an admin form (`data-result` names the form). */
export function resultSlot(name) {
  return h('p', {
    class: 'notice notice-ok',
    role: 'status',
    tabindex: '-1',
    'data-testid': 'admin-result',
    'data-result': name,
    hidden: true,
  });
}

export function showResult(form, message) {
  const result = form.querySelector('[data-testid=admin-result]');
  if (!result) return;
  result.textContent = message;
  result.hidden = false;
  announce(message);
}

export function clearResult(form) {
  const result = form.querySelector('[data-testid=admin-result]');
  if (result) result.hidden = true;
}

/**
 * POST an admin form (see sendForm) to `url`; on success the keeper starts a new fill and the form's result slot
 * shows what `done(answer)` returns (nothing when it returns ''). A 409 without field errors goes to `conflictField`
 * when one is named.
 */
export function submitAdmin(ctx, form, controller, keeper, spec) {
  const { url, body, fieldMap = {}, conflictField, done, button, reload } = spec;
  return sendForm(ctx, form, controller, {
    keeper,
    body,
    send: (text, idempotencyKey) => api.post(url, text, { idempotencyKey }),
    done: (answer) => {
      keeper.reset();
      const message = done(answer);
      if (message) showResult(form, message);
    },
    fieldMap,
    onError: (error) => {
      if (error.fieldErrors?.length || error.status !== 409 || !conflictField) return false;
      controller.showFieldError(conflictField, error.message);
      return true;
    },
    reload,
    retry: `Select “${button}” again to retry.`,
    fallback: 'The change was not accepted.',
  });
}

/** An admin page's block: a level-2 heading, an optional lead sentence, then its children. */
export function adminBlock(id, title, lead, ...children) {
  return h(
    'section',
    { class: 'admin-block', 'aria-labelledby': id, 'data-testid': `${id.replace(/-title$/, '')}-block` },
    h('h2', { id }, title),
    lead ? h('p', { class: 'muted small' }, lead) : null,
    children,
  );
}

const LANGUAGES = {
  en: 'English',
  de: 'German',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  nl: 'Dutch',
  pt: 'Portuguese',
  ja: 'Japanese',
  zh: 'Chinese',
  ko: 'Korean',
};

/** A course's language as a person reads it ("English (en)"); the tag itself when the browser cannot name it. */
export function languageName(tag) {
  const text = String(tag || '');
  if (!text) return '—';
  try {
    const name = new Intl.DisplayNames(undefined, { type: 'language' }).of(text);
    if (name && name !== text) return `${name} (${text})`;
  } catch {
    // an odd tag: show it as it is
  }
  return LANGUAGES[text] ? `${LANGUAGES[text]} (${text})` : text;
}

/** Credit hours as text ("8 hours", "1.5 hours", "1 hour"). */
export function hoursText(hours) {
  const value = Number(hours);
  if (!Number.isFinite(value)) return '—';
  const text = value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return `${text} hour${value === 1 ? '' : 's'}`;
}

export function monthsText(months) {
  const value = Number(months);
  return Number.isInteger(value) ? `${value} month${value === 1 ? '' : 's'}` : '—';
}
