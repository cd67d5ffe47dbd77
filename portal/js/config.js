// Loads the per-environment config.json that sits next to index.html:
// {"apiBaseUrl", "region", "cognito": {"endpoint", "userPoolId", "clientId"}}.

export class ConfigError extends Error {}

let cached = null;

export async function loadConfig() {
  if (cached) return cached;
  let response;
  try {
    response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  } catch {
    throw new ConfigError('The portal could not load its settings. Check your connection and try again.');
  }
  if (!response.ok) {
    throw new ConfigError(`The portal settings are not available (HTTP ${response.status}). Try again in a moment.`);
  }
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('The portal settings are not valid JSON.');
  }
  cached = normaliseConfig(raw);
  return cached;
}

export function normaliseConfig(raw) {
  const cognito = raw?.cognito || {};
  const region = raw?.region || 'us-east-1';
  if (!raw?.apiBaseUrl || !cognito.clientId) {
    throw new ConfigError('The portal settings are incomplete (apiBaseUrl and cognito.clientId are required).');
  }
  const endpoint = cognito.endpoint || `https://cognito-idp.${region}.amazonaws.com/`;
  return Object.freeze({
    apiBaseUrl: String(raw.apiBaseUrl).replace(/\/+$/, ''),
    region,
    cognito: Object.freeze({
      endpoint: `${String(endpoint).replace(/\/+$/, '')}/`,
      userPoolId: cognito.userPoolId || '',
      clientId: cognito.clientId,
    }),
  });
}
