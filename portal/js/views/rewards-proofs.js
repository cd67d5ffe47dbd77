// Proof files of a SPIFF claim, the MDF claim's pattern: each chosen file is checked here (type, size), given an upload
// slot by the API (`POST /rewards/claims/uploads`), posted straight to storage by presigned POST with its progress,
// and can be removed or retried; the claim then names the files by id, and the server checks them again (a refused
// file comes back as `proof_files.<n>` and is marked here).
import { api } from '../api.js';
import { announce, h } from '../dom.js';
import { formatBytes, postToStorage } from '../uploads.js';

// The rewards API takes PDF, PNG and JPEG proofs (rewards/models/redemptions.py PROOF_TYPES).
const TYPES = { pdf: ['application/pdf', 'PDF'], png: ['image/png', 'PNG'], jpg: ['image/jpeg', 'JPEG'], jpeg: ['image/jpeg', 'JPEG'] };
export const CLAIM_PROOF_ACCEPT = '.pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg';
export const CLAIM_PROOF_MAX_FILES = 10;
// RewardProofMaxBytes' default; the server's `max_bytes` replaces it once an upload slot names it.
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

const STATE_TEXT = {
  attached: 'Attached',
  invalid: 'Not accepted',
  requesting: 'Preparing…',
  uploading: 'Uploading…',
  uploaded: 'Uploaded',
  failed: 'Upload failed',
  refused: 'Refused',
};

function typeOf(name) {
  const ext = String(name || '').toLowerCase().split('.').pop();
  return Object.hasOwn(TYPES, ext) ? TYPES[ext] : null;
}

/** '' when the file may be uploaded, otherwise why not. */
export function checkClaimProof(file, maxBytes = DEFAULT_MAX_BYTES) {
  if (!typeOf(file.name)) return 'Only PDF, PNG and JPEG files can be attached.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > maxBytes) return `Files can be at most ${formatBytes(maxBytes)}; this one is ${formatBytes(file.size)}.`;
  return '';
}

/**
 * The proof field (`#<id>` file input, `[data-testid=proof-item]` per file) for a form bound with bindForm:
 * `validate()` is its validator, `settled()` waits for uploads in flight, `fileIds()` names the files to send,
 * `refuse(fieldErrors)` marks files the server refused and returns the errors re-aimed at the field.
 * `kept` are files already attached to the claim (a resubmission keeps them unless removed).
 */
export function proofField(ctx, { id, label = 'Proof files', kept = [], onChange = () => {} }) {
  let maxBytes = DEFAULT_MAX_BYTES;
  let nextKey = 0;
  const entries = kept.map((file) => ({
    key: ++nextKey,
    name: file.file_name,
    size: file.size_bytes,
    fileId: file.file_id,
    state: 'attached',
  }));
  const live = () => entries.filter((e) => e.state !== 'removed');
  const list = h('ul', { class: 'file-list proof-list', 'data-testid': 'proof-list', 'aria-live': 'polite' });
  const picker = h('input', {
    type: 'file',
    id,
    name: id,
    multiple: true,
    accept: CLAIM_PROOF_ACCEPT,
    class: 'file-input',
    'aria-describedby': `${id}-hint ${id}-error`,
  });

  function changed() {
    draw();
    onChange();
  }

  function draw() {
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const key = focused?.closest('[data-key]')?.dataset.key;
    const testid = focused?.dataset.testid;
    list.replaceChildren(...live().map(item));
    if (focused) {
      const again = key && testid && list.querySelector(`[data-key="${key}"] [data-testid="${testid}"]`);
      (again || picker).focus();
    }
  }

  function item(entry) {
    const percent = entry.state === 'uploading' && entry.total ? ` ${Math.floor((100 * entry.loaded) / entry.total)} %` : '';
    return h(
      'li',
      {
        class: `file-item proof-${entry.state}`,
        'data-testid': 'proof-item',
        'data-key': entry.key,
        'data-file-name': entry.name,
        'data-state': entry.state,
      },
      h(
        'span',
        { class: 'file-name' },
        h('span', { class: 'strong' }, entry.name),
        h('span', { class: 'muted small block' }, [typeOf(entry.name)?.[1], formatBytes(entry.size)].filter(Boolean).join(' · ')),
      ),
      h(
        'span',
        { class: 'file-state' },
        h('span', { class: 'small', 'data-testid': 'proof-state' }, `${STATE_TEXT[entry.state] || entry.state}${percent}`),
        entry.state === 'uploading'
          ? h('progress', {
              max: String(entry.total || entry.size || 1),
              value: String(entry.loaded || 0),
              'data-testid': 'proof-progress',
              'aria-label': `Uploading ${entry.name}`,
            })
          : null,
        entry.error ? h('span', { class: 'field-error small block', 'data-testid': 'proof-error' }, entry.error) : null,
      ),
      h(
        'span',
        { class: 'file-actions' },
        entry.state === 'failed' && entry.file
          ? h(
              'button',
              { type: 'button', class: 'button-inline', 'data-testid': 'proof-retry', onclick: () => start(entry) },
              `Retry ${entry.name}`,
            )
          : null,
        h(
          'button',
          {
            type: 'button',
            class: 'button-inline',
            'data-testid': 'proof-remove',
            'aria-label': `Remove ${entry.name}`,
            onclick: () => {
              entry.abort?.abort();
              entry.state = 'removed';
              changed();
              picker.focus();
            },
          },
          'Remove',
        ),
      ),
    );
  }

  async function upload(entry) {
    entry.state = 'requesting';
    entry.error = '';
    entry.fileId = null;
    changed();
    let slot;
    try {
      slot = await api.post('/rewards/claims/uploads', {
        file_name: entry.name,
        content_type: typeOf(entry.name)[0],
        size_bytes: entry.size,
      });
    } catch (error) {
      if (entry.state === 'removed' || ctx.handleAuthErrors(error)) return;
      entry.state = 'failed';
      entry.error = error.fieldErrors?.length ? error.fieldErrors.map((e) => e.message).join(' ') : error.message;
      changed();
      return;
    }
    if (entry.state === 'removed') return;
    if (Number(slot?.max_bytes) > 0) maxBytes = Number(slot.max_bytes);
    const problem = checkClaimProof(entry.file, maxBytes);
    if (problem || !slot?.upload?.url) {
      entry.state = 'invalid';
      entry.error = problem || 'The server did not offer an upload link.';
      changed();
      return;
    }
    entry.state = 'uploading';
    entry.loaded = 0;
    entry.total = entry.size;
    entry.abort = new AbortController();
    changed();
    try {
      await postToStorage(slot.upload, entry.file, {
        signal: entry.abort.signal,
        onProgress: (loaded, total) => {
          entry.loaded = loaded;
          entry.total = total;
          const row = list.querySelector(`[data-key="${entry.key}"]`);
          const bar = row?.querySelector('progress');
          if (bar) {
            bar.max = total || 1;
            bar.value = loaded;
          }
        },
      });
    } catch (error) {
      if (error?.name === 'AbortError' || entry.state === 'removed') return;
      entry.state = 'failed';
      entry.error = error.message;
      changed();
      return;
    }
    if (entry.state === 'removed') return;
    entry.fileId = slot.file_id;
    entry.state = 'uploaded';
    changed();
  }

  function start(entry) {
    entry.promise = upload(entry);
    return entry.promise;
  }

  picker.addEventListener('change', () => {
    const chosen = [...(picker.files || [])];
    picker.value = '';
    for (const file of chosen) {
      const entry = { key: ++nextKey, name: file.name, size: file.size, file };
      entries.push(entry);
      const problem =
        checkClaimProof(file, maxBytes) ||
        (live().length > CLAIM_PROOF_MAX_FILES ? `At most ${CLAIM_PROOF_MAX_FILES} files can be attached.` : '');
      if (problem) {
        entry.state = 'invalid';
        entry.error = problem;
      } else {
        start(entry);
      }
    }
    changed();
    announce(`${chosen.length} file${chosen.length === 1 ? '' : 's'} chosen.`);
  });

  draw();

  const el = h(
    'div',
    { class: 'field', 'data-testid': 'proof-field' },
    h('label', { for: id }, label),
    h(
      'p',
      { class: 'hint', id: `${id}-hint` },
      `Choose one or more files; each is uploaded straight away. PDF, PNG or JPEG, up to ${CLAIM_PROOF_MAX_FILES} files.`,
    ),
    picker,
    list,
    h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': `${id}-error`, hidden: true }),
  );

  return {
    el,
    picker,
    validate() {
      const files = live();
      if (!files.length) return 'Attach at least one proof file.';
      if (files.length > CLAIM_PROOF_MAX_FILES) return `Attach at most ${CLAIM_PROOF_MAX_FILES} files (now ${files.length}).`;
      if (files.some((e) => ['invalid', 'failed', 'refused'].includes(e.state))) {
        return 'Remove the files that were not accepted, or retry them.';
      }
      return '';
    },
    pending: () => live().some((e) => e.state === 'requesting' || e.state === 'uploading'),
    settled: () => Promise.all(live().map((e) => e.promise).filter(Boolean)),
    fileIds: () => live().map((e) => e.fileId),
    /** Mark the files the server refused (`proof_files.<n>`); returns the errors aimed at this field. */
    refuse(fieldErrors) {
      const files = live();
      const mapped = (fieldErrors || []).map((item) => {
        const match = /^(?:body\.)?proof_files\.(\d+)/.exec(String(item.field || ''));
        const entry = match ? files[Number(match[1])] : null;
        if (!entry) return item;
        entry.state = 'refused';
        entry.error = item.message;
        const named = String(item.message || '').startsWith(entry.name);
        return { field: 'proof_files', message: named ? item.message : `${entry.name}: ${item.message}` };
      });
      draw();
      return mapped;
    },
  };
}
