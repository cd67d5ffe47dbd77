// Money as the API has it (integer minor units with an ISO 4217 code) and as people type and read it: exact parsing
// (BigInt, never a binary float), formatting, and the checks and previews of amount fields.
import { CURRENCY_DIGITS } from './reference.js';

const AMOUNT = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;
// The API's ceiling for amount_minor (shared/money.py); also well inside Number.MAX_SAFE_INTEGER.
export const MAX_MINOR = 10n ** 15n;
const MINUS = '\u2212';

/**
 * Parse a decimal amount typed by a person into integer minor units of `currency`, exactly: the string is
 * split into digits and scaled with BigInt, never converted through a binary float.
 * "1234.56" USD -> 123456; "0.1" USD -> 10; "1,250,000" USD -> 125000000; "1.234" USD -> error.
 * Returns {ok: true, minor: <safe integer>} or {ok: false, error: <message>}.
 */
export function parseMoney(input, currency) {
  const text = String(input ?? '').trim();
  if (text === '') return { ok: false, error: 'Enter an amount.' };
  const digits = CURRENCY_DIGITS[currency];
  if (digits === undefined) return { ok: false, error: 'Choose a currency.' };
  const match = AMOUNT.exec(text);
  if (!match) {
    return {
      ok: false,
      error: digits > 0 ? 'Enter a number such as 250000 or 250000.00.' : 'Enter a whole number such as 250000.',
    };
  }
  const whole = match[1].replaceAll(',', '');
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    return {
      ok: false,
      error:
        digits === 0
          ? `${currency} amounts have no decimal places.`
          : `${currency} amounts have at most ${digits} decimal place${digits === 1 ? '' : 's'}.`,
    };
  }
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor > MAX_MINOR) return { ok: false, error: 'That amount is too large.' };
  return { ok: true, minor: Number(minor) };
}

/** The API's {amount_minor, currency} for a typed amount (call it once the field has validated). */
export function moneyOf(input, currency) {
  return { amount_minor: parseMoney(input, currency).minor, currency };
}

/**
 * The message for an amount field ('' when it is fine): `empty` when nothing is typed, the parse error, then
 * "greater than zero" when `positive`, then `over` when the amount is above `max` minor units.
 */
export function amountError(input, currency, { empty, positive = false, max = null, over = '' } = {}) {
  const result = parseMoney(input, currency);
  if (!result.ok) return String(input ?? '').trim() === '' ? empty : result.error;
  if (positive && result.minor === 0) return 'Enter an amount greater than zero.';
  if (max !== null && max !== undefined && result.minor > max) return over;
  return '';
}

/** A typed amount as it will be registered ("$1,234.56"), or `fallback` while it does not read as money. */
export function amountPreview(input, currency, fallback = '') {
  return parseMoney(input, currency).ok ? formatMoneyInput(input, currency) : fallback;
}

/** A display string for a decimal amount, e.g. "$1,234.56" (display only; Intl formats the string exactly). */
export function formatMoneyInput(input, currency) {
  const text = String(input ?? '').trim().replaceAll(',', '');
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(text);
  } catch {
    return '';
  }
}

/** Format integer minor units for display, exactly (BigInt arithmetic); a negative amount gets U+2212. */
export function formatMinor(minor, currency) {
  const digits = CURRENCY_DIGITS[currency] ?? 2;
  const value = BigInt(minor);
  if (value < 0n) return `${MINUS}${formatMinor(-value, currency)}`; // "-500.-50" is not a number
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const fraction = (value % scale).toString().padStart(digits, '0');
  return formatMoneyInput(digits ? `${whole}.${fraction}` : `${whole}`, currency);
}

/**
 * Integer minor units as the decimal text a person would type ("123456" USD -> "1234.56"), exactly (BigInt).
 */
export function minorToInput(minor, currency) {
  const digits = CURRENCY_DIGITS[currency] ?? 2;
  const value = BigInt(minor);
  if (!digits) return value.toString();
  const scale = 10n ** BigInt(digits);
  return `${value / scale}.${(value % scale).toString().padStart(digits, '0')}`;
}

/** Money {amount_minor, currency} as the text a person would type, to prefill a field. */
export function moneyToInput(money) {
  return minorToInput(money.amount_minor, money.currency);
}

/** Money {amount_minor, currency} as text, exactly; an em dash when absent or unreadable. */
export function moneyText(money) {
  if (!money || money.amount_minor === null || money.amount_minor === undefined || !money.currency) return '—';
  try {
    return formatMinor(money.amount_minor, money.currency) || `${money.amount_minor} ${money.currency} (minor units)`;
  } catch {
    return '—';
  }
}

/** Money with an explicit sign: "+$1,000.00", "−$250.00" (sign 0: no sign). */
export function signedMoney(money, sign) {
  if (!money || !money.currency) return '—';
  const minor = Number(money.amount_minor);
  const negative = minor < 0 || sign < 0;
  const text = moneyText({ amount_minor: Math.abs(minor), currency: money.currency });
  if (!sign && minor >= 0) return text;
  return `${negative ? MINUS : '+'}${text}`;
}
