// Proof files straight to S3 by presigned POST: the client-side checks (type, size) and the upload itself
// (a multipart form with every presigned field first and the file last, as S3's POST policy requires).
import { PROOF_TYPES } from './reference.js';

// MdfProofMaxBytes' default (docs/mdf.md); the server's `max_bytes` replaces it once an upload slot names it.
export const PROOF_MAX_BYTES = 20 * 1024 * 1024;
export const PROOF_MAX_FILES = 10;
export const PROOF_ACCEPT = [
  ...Object.keys(PROOF_TYPES).map((ext) => `.${ext}`),
  ...new Set(Object.values(PROOF_TYPES).map(([type]) => type)),
].join(',');

/** The content type the upload declares, from the file name's extension (browsers disagree on `file.type`). */
export function proofContentType(fileName) {
  const ext = String(fileName || '')
    .toLowerCase()
    .split('.')
    .pop();
  return Object.hasOwn(PROOF_TYPES, ext) ? PROOF_TYPES[ext][0] : null;
}

/** '' when the file may be uploaded, otherwise why not. */
export function checkProofFile(file, maxBytes = PROOF_MAX_BYTES) {
  if (!proofContentType(file.name)) return 'Only PDF, PNG, JPEG, CSV and Excel (.xlsx) files can be attached.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > maxBytes) {
    const size = formatBytes(file.size);
    const limit = formatBytes(maxBytes);
    return `Files can be at most ${limit}; this one is ${size === limit ? 'larger' : size}.`;
  }
  return '';
}

export function formatBytes(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString(undefined, { maximumFractionDigits: value < 10 ? 1 : 0 })} ${units[unit]}`;
}

export class UploadError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = 'UploadError';
    this.status = status;
  }
}

/** S3 answers errors as XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
function s3Message(status, text) {
  const code = /<Code>([^<]*)<\/Code>/.exec(text || '')?.[1] || '';
  if (code === 'EntityTooLarge') return 'The file is larger than the storage accepts.';
  if (code === 'EntityTooSmall') return 'The file is empty.';
  if (code === 'AccessDenied' && /expired/i.test(text)) return 'The upload link expired. Try again.';
  if (status === 403) return 'The storage refused the file (the upload link may have expired). Try again.';
  return `The storage refused the file (HTTP ${status}${code ? `, ${code}` : ''}). Try again.`;
}

/**
 * POST `file` to a presigned `upload` {url, fields}: XMLHttpRequest rather than fetch, because only XHR reports
 * upload progress (its progress listener makes the request CORS-preflighted; the bucket's CORS rule allows that).
 * Resolves when the storage accepted the file; rejects with an UploadError; `signal` aborts.
 */
export function postToStorage(upload, file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
    form.append('file', file, file.name); // S3 ignores every field after the file
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new UploadError(s3Message(xhr.status, xhr.responseText), xhr.status));
    });
    xhr.addEventListener('error', () =>
      reject(new UploadError('The file could not be sent to the storage. Check your connection and try again.')),
    );
    xhr.addEventListener('abort', () => reject(new DOMException('Upload cancelled.', 'AbortError')));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
