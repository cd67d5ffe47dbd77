// Cognito sign-in from the browser through the Cognito Identity Provider JSON API, as the AWS SDKs do:
// InitiateAuth (USER_PASSWORD_AUTH), RespondToAuthChallenge (NEW_PASSWORD_REQUIRED), REFRESH_TOKEN_AUTH and,
// on sign-out, RevokeToken.
// The calls are unsigned (public app client without a secret). Tokens live in sessionStorage only.

const STORAGE_KEY = 'prm.auth';
const REFRESH_MARGIN_MS = 2 * 60 * 1000;

let settings = null;
let refreshing = null;
// Bumped by signOut(): a refresh that started before it must not write its session back afterwards.
let sessionEpoch = 0;
const listeners = new Set();

export class AuthError extends Error {
  constructor(code, message, detail = '') {
    super(message);
    this.name = 'AuthError';
    this.code = code;
    this.detail = detail;
  }
}

export function configureAuth(config) {
  settings = config.cognito;
}

/** Called with no argument whenever the stored session changes (sign-in, refresh, sign-out). */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// ------------------------------------------------------------------ token storage

export function decodeJwt(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function readSession() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function writeSession(session) {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

function storeResult(result, previous = null) {
  const claims = decodeJwt(result.IdToken);
  const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (result.ExpiresIn || 3600) * 1000;
  const session = {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    // REFRESH_TOKEN_AUTH answers without a new refresh token: keep the one we have.
    refreshToken: result.RefreshToken || previous?.refreshToken || null,
    expiresAt,
    email: claims.email || previous?.email || '',
  };
  writeSession(session);
  return session;
}

export function isSignedIn() {
  return Boolean(readSession()?.idToken);
}

/** The signed-in user's email and ID-token claims (unverified: for display only; the API verifies). */
export function currentUser() {
  const session = readSession();
  if (!session) return null;
  return { email: session.email, claims: decodeJwt(session.idToken) };
}

/**
 * End the session here and at Cognito: the session's refresh token is revoked (RevokeToken; the app client has
 * token revocation enabled), so no copy of it can mint new tokens. The user's other sessions are not touched.
 * Signing out here never waits for that call, nor fails with it (an ID token already issued still verifies until it
 * expires, 5 minutes at most).
 */
export function signOut() {
  const token = readSession()?.refreshToken;
  sessionEpoch += 1;
  refreshing = null;
  writeSession(null);
  if (token && settings?.clientId) {
    cognito('RevokeToken', { Token: token, ClientId: settings.clientId }).catch(() => {});
  }
}

// ------------------------------------------------------------------ Cognito JSON API

const FRIENDLY = {
  NotAuthorizedException: 'Incorrect email or password.',
  UserNotFoundException: 'Incorrect email or password.',
  UserNotConfirmedException: 'Your account is not confirmed yet. Please contact your partner manager.',
  PasswordResetRequiredException: 'A password reset is required for your account. Please contact your partner manager.',
  InvalidPasswordException: 'That password does not meet the password policy.',
  TooManyRequestsException: 'Too many attempts. Please wait a minute and try again.',
  LimitExceededException: 'Too many attempts. Please wait a minute and try again.',
  TooManyFailedAttemptsException: 'Too many failed attempts. Please wait a few minutes and try again.',
  ExpiredCodeException: 'Your sign-in session expired. Please sign in again.',
  CodeMismatchException: 'Your sign-in session expired. Please sign in again.',
  ResourceNotFoundException: 'Sign-in is not available right now (the portal is misconfigured).',
  InvalidParameterException: 'The sign-in request was not accepted. Check your details and try again.',
  InternalErrorException: 'The sign-in service had a problem. Please try again in a moment.',
};

function errorType(data, response) {
  const raw = data?.__type || response.headers.get('x-amzn-ErrorType') || '';
  return raw.split('#').pop().split(':')[0] || `HTTP${response.status}`;
}

async function cognito(action, body) {
  if (!settings) throw new AuthError('not_configured', 'Sign-in is not configured.');
  let response;
  try {
    response = await fetch(settings.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new AuthError(
      'network',
      'We could not reach the sign-in service. Check your connection and try again.',
    );
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const type = errorType(data, response);
    const detail = data?.message || data?.Message || '';
    const message =
      FRIENDLY[type] ||
      (response.status >= 500
        ? 'The sign-in service had a problem. Please try again in a moment.'
        : 'Sign-in failed. Please try again.');
    throw new AuthError(type, message, detail);
  }
  return data || {};
}

/**
 * Sign in with email and password. Resolves to {status: 'signed_in'} or, for a user who still has a
 * temporary password, {status: 'new_password_required', challenge} to pass to completeNewPassword().
 */
export async function signIn(email, password) {
  const data = await cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: settings?.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return handleAuthAnswer(data, email);
}

export async function completeNewPassword(challenge, newPassword) {
  const data = await cognito('RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: settings?.clientId,
    Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
  });
  return handleAuthAnswer(data, challenge.email);
}

function handleAuthAnswer(data, email) {
  if (data.AuthenticationResult?.IdToken) {
    storeResult(data.AuthenticationResult);
    return { status: 'signed_in' };
  }
  if (data.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    const params = data.ChallengeParameters || {};
    return {
      status: 'new_password_required',
      challenge: {
        session: data.Session,
        // Answer with the email the user signed in with, as the Amplify libraries do: Cognito accepts it in
        // an email-as-username pool, and moto writes this value into the ID token's `email` claim (the
        // internal user name from ChallengeParameters would end up there instead).
        username: email || params.USERNAME || params.USER_ID_FOR_SRP,
        email,
      },
    };
  }
  throw new AuthError(
    data.ChallengeName || 'unsupported',
    'This account needs a sign-in step the portal does not support yet. Please contact your partner manager.',
  );
}

/** Exchange the refresh token for a new ID token; single-flight so parallel callers share one request. */
export function refreshSession() {
  if (!refreshing) {
    const epoch = sessionEpoch;
    const signedOut = () => new AuthError('session_expired', 'You have signed out.');
    refreshing = (async () => {
      const session = readSession();
      if (!session?.refreshToken) {
        writeSession(null);
        throw new AuthError('session_expired', 'Your session has ended. Please sign in again.');
      }
      try {
        const data = await cognito('InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: settings?.clientId,
          AuthParameters: { REFRESH_TOKEN: session.refreshToken },
        });
        if (epoch !== sessionEpoch) throw signedOut(); // signed out meanwhile: the answer is not stored
        if (!data.AuthenticationResult?.IdToken) throw new AuthError('session_expired', '');
        return storeResult(data.AuthenticationResult, session);
      } catch (error) {
        if (epoch !== sessionEpoch) throw signedOut();
        if (error.code !== 'network') {
          writeSession(null);
          throw new AuthError('session_expired', 'Your session has ended. Please sign in again.', error.detail);
        }
        throw error;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** A valid ID token for the API, refreshed first when it is about to expire (or when forced). */
export async function getIdToken({ forceRefresh = false } = {}) {
  const session = readSession();
  if (!session?.idToken) return null;
  if (forceRefresh || session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    return (await refreshSession()).idToken;
  }
  return session.idToken;
}

export const PASSWORD_RULES = [
  ['length', 'At least 12 characters', (p) => p.length >= 12],
  ['upper', 'An upper-case letter', (p) => /[A-Z]/.test(p)],
  ['lower', 'A lower-case letter', (p) => /[a-z]/.test(p)],
  ['digit', 'A digit', (p) => /[0-9]/.test(p)],
];
