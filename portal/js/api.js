// fetch wrapper for the PRM API: base URL, bearer ID token (refreshed when near expiry, and once on a 401),
// JSON bodies, and every failure turned into an ApiError {status, code, message, fieldErrors}.
import { AuthError, getIdToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message, fieldErrors = [], body = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
    this.body = body;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

let baseUrl = '';
let unauthorizedHandler = () => {};

export function configureApi(config, { onUnauthorized } = {}) {
  baseUrl = config.apiBaseUrl;
  if (onUnauthorized) unauthorizedHandler = onUnauthorized;
}

function fallbackMessage(status) {
  if (status === 0) return 'We could not reach the server. Check your connection and try again.';
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'You do not have access to this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return 'Something went wrong on our side. Please try again in a moment.';
  return 'The request was not accepted.';
}

async function toApiError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const status = response.status;
  const code = body?.code || (status >= 500 ? 'server_error' : `http_${status}`);
  const message = (status < 500 && body?.message) || fallbackMessage(status);
  const fieldErrors = Array.isArray(body?.errors) ? body.errors : [];
  return new ApiError(status, code, message, fieldErrors, body);
}

async function send(method, path, { body, token, idempotencyKey, signal }) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  try {
    return await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', fallbackMessage(0));
  }
}

async function bearer(forceRefresh) {
  try {
    return await getIdToken({ forceRefresh });
  } catch (error) {
    if (error instanceof AuthError && error.code === 'network') {
      throw new ApiError(0, 'network_error', fallbackMessage(0));
    }
    unauthorizedHandler(error.message);
    throw new ApiError(401, 'unauthorized', error.message || fallbackMessage(401));
  }
}

const ACCEPTED_AT_KEY = 'prm.agreementAcceptedAt';
const PROPAGATION_MS = 60_000;
// Right after an acceptance, how long to wait before each new try of a request refused with 403 agreement_required:
// the other contexts learn of the acceptance from onboarding's event a moment later (about 6 s in all).
const AGREEMENT_RETRY_DELAYS_MS = [250, 500, 750, 1000, 1500, 2000];
const AGREEMENT_PENDING_MESSAGE =
  'Your acceptance of the programme agreement is still being recorded. Please try again in a moment.';

function acceptedRecently() {
  const at = Number(sessionStorage.getItem(ACCEPTED_AT_KEY) || 0);
  return Date.now() - at < PROPAGATION_MS;
}

async function refusedForAgreement(response) {
  if (response.status !== 403) return false;
  const code = await response.clone().json().then((b) => b?.code, () => null);
  return code === 'agreement_required';
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
      },
      { once: true },
    );
  });
}

/**
 * request('POST', '/applications', {body, auth: false, idempotencyKey}) -> parsed JSON (null for 204).
 * `body` may be an object or an already serialised JSON string (so the key and the body stay in step).
 */
export async function request(method, path, { body, auth = true, idempotencyKey, signal } = {}) {
  let token = auth ? await bearer(false) : null;
  if (auth && !token) {
    unauthorizedHandler();
    throw new ApiError(401, 'unauthorized', fallbackMessage(401));
  }
  let response = await send(method, path, { body, token, idempotencyKey, signal });
  // A 401 is answered once more with a refreshed token; a second 401 ends the session.
  const reauthorised = async () => {
    if (!(auth && response.status === 401)) return;
    token = await bearer(true);
    response = await send(method, path, { body, token, idempotencyKey, signal });
    if (response.status === 401) {
      const error = await toApiError(response);
      unauthorizedHandler(fallbackMessage(401));
      throw error;
    }
  };
  await reauthorised();
  // Every context but onboarding learns of an acceptance from onboarding's event, a moment later: right after
  // accepting, a 403 agreement_required is retried with a short backoff before it is believed. Still refused at the
  // end, it is an error the page shows ("still being recorded"), not a reason to send the partner back to the
  // agreement they have just accepted.
  if (auth && acceptedRecently() && (await refusedForAgreement(response))) {
    for (const delay of AGREEMENT_RETRY_DELAYS_MS) {
      await pause(delay, signal);
      response = await send(method, path, { body, token, idempotencyKey, signal });
      if (!(await refusedForAgreement(response))) break;
    }
    await reauthorised(); // the token may expire during the retries
    if (await refusedForAgreement(response)) {
      const refused = await toApiError(response);
      throw new ApiError(403, 'agreement_pending', AGREEMENT_PENDING_MESSAGE, [], refused.body);
    }
  }
  if (!response.ok) throw await toApiError(response);
  if (method === 'POST' && path === '/agreements/current/acceptance') {
    sessionStorage.setItem(ACCEPTED_AT_KEY, String(Date.now()));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'invalid_response', 'The server sent an answer the portal cannot read.');
  }
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options = {}) => request('POST', path, { ...options, body }),
  patch: (path, body, options = {}) => request('PATCH', path, { ...options, body }),
};

/** Build a path from a template with encoded segments: path`/partners/${id}/users`. */
export function path(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ''), '');
}
