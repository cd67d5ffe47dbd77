// Loads the per-environment config.json that sits next to index.html:
// {"apiBaseUrl", "region", "programmeName", "cognito": {"endpoint", "userPoolId", "clientId"}}.
// The programme's name is the template's ProgrammeName parameter, as the emails name it.

export class ConfigError extends Error {}

let cached = null;

const DEFAULT_PROGRAMME = 'Partner portal'; // until the settings are loaded, or if they name no programme

/** The partner programme's name (the deployment's ProgrammeName), as headings and the page title show it. */
export function programmeName() {
  return cached?.programmeName || DEFAULT_PROGRAMME;
}

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
    programmeName: String(raw.programmeName || DEFAULT_PROGRAMME).slice(0, 80),
    cognito: Object.freeze({
      endpoint: `${String(endpoint).replace(/\/+$/, '')}/`,
      userPoolId: cognito.userPoolId || '',
      clientId: cognito.clientId,
    }),
  });
}
