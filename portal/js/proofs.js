// The proof field of a claim form (MDF claims, SPIFF claims): each chosen file is checked here (type, size), given an
// upload slot by the API (`slotPath`), posted straight to storage by presigned POST with its progress, and can be
// removed or retried; the claim then names the files by id, and the server checks them again (a refused file comes
// back as `proof_files.<n>` and is marked here). Which types a context takes, and its limits, are the caller's.
import { api } from './api.js';
import { announce, h } from './dom.js';
import { formatBytes, postToStorage } from './uploads.js';

const STATE_TEXT = {
  attached: 'Attached',
  invalid: 'Not accepted',
  requesting: 'Preparing…',
  uploading: 'Uploading…',
  uploaded: 'Uploaded',
  failed: 'Upload failed',
  refused: 'Refused',
};

/**
 * The proof field (`#<id>` file input, `[data-testid=proof-item]` per file) for a form bound with bindForm:
 * `validate()` is its validator, `ready(controller, busyLabel)` waits for uploads in flight and checks the field
 * before a send, `fileIds()` names the files to send, `refuse(fieldErrors)` marks files the server refused and
 * returns the errors re-aimed at the field. `kept` are files already attached to the claim (a resubmission keeps
 * them unless removed).
 * The context gives: `slotPath` (POST for an upload slot), `accept`, `maxFiles`, `maxBytes` (until a slot names the
 * server's), `contentType(name)` (what an upload declares), `check(file, maxBytes)` ('' or why not), `typeLabel(entry)`.
 */
export function proofField(ctx, options) {
  const { id, label, hint, kept = [], slotPath, accept, maxFiles, contentType, check, typeLabel } = options;
  const onChange = options.onChange || (() => {});
  let maxBytes = options.maxBytes;
  let nextKey = 0;
  // Every file: {key, name, size, contentType, file?, fileId, state, error, loaded, total, promise, abort}
  const entries = kept.map((file) => ({
    key: ++nextKey,
    name: file.file_name,
    size: file.size_bytes,
    contentType: file.content_type,
    fileId: file.file_id,
    state: 'attached',
  }));
  const live = () => entries.filter((e) => e.state !== 'removed');
  const pending = () => live().some((e) => e.state === 'requesting' || e.state === 'uploading');
  const list = h('ul', { class: 'file-list proof-list', 'data-testid': 'proof-list', 'aria-live': 'polite' });
  const picker = h('input', {
    type: 'file',
    id,
    name: id,
    multiple: true,
    accept,
    class: 'file-input',
    'aria-describedby': `${id}-hint ${id}-error`,
  });

  function changed() {
    draw();
    onChange();
  }

  function draw() {
    // Keep keyboard focus on the same file's button when the list is redrawn.
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const key = focused?.closest('[data-key]')?.dataset.key;
    const testid = focused?.dataset.testid;
    list.replaceChildren(...live().map(item));
    if (focused) {
      const again = key && testid && list.querySelector(`[data-key="${key}"] [data-testid="${testid}"]`);
      (again || picker).focus();
    }
  }

  /** Progress events update the bar in place (a redraw per event would be wasteful). */
  function showProgress(entry) {
    const row = list.querySelector(`[data-key="${entry.key}"]`);
    if (!row) return;
    const bar = row.querySelector('progress');
    if (bar) {
      bar.max = entry.total || 1;
      bar.value = entry.loaded;
    }
    const percent = entry.total ? Math.floor((100 * entry.loaded) / entry.total) : 0;
    row.querySelector('[data-testid=proof-state]').textContent = `${STATE_TEXT.uploading} ${percent} %`;
  }

  function item(entry) {
    const percent =
      entry.state === 'uploading' && entry.total ? ` ${Math.floor((100 * entry.loaded) / entry.total)} %` : '';
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
        h('span', { class: 'muted small block' }, [typeLabel(entry), formatBytes(entry.size)].filter(Boolean).join(' · ')),
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
      slot = await api.post(slotPath, { file_name: entry.name, content_type: entry.contentType, size_bytes: entry.size });
    } catch (error) {
      if (entry.state === 'removed' || ctx.handleAuthErrors(error)) return;
      entry.state = 'failed';
      entry.error = error.fieldErrors?.length ? error.fieldErrors.map((e) => e.message).join(' ') : error.message;
      changed();
      return;
    }
    if (entry.state === 'removed') return;
    if (Number(slot?.max_bytes) > 0) maxBytes = Number(slot.max_bytes);
    const problem = check(entry.file, maxBytes);
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
          if (!list.isConnected) {
            entry.abort.abort(); // the page was left
            return;
          }
          entry.loaded = loaded;
          entry.total = total;
          showProgress(entry);
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
    picker.value = ''; // the same file can be chosen again after a removal
    for (const file of chosen) {
      const entry = { key: ++nextKey, name: file.name, size: file.size, contentType: contentType(file.name), file };
      entries.push(entry);
      const problem =
        check(file, maxBytes) || (live().length > maxFiles ? `At most ${maxFiles} files can be attached.` : '');
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
    h('p', { class: 'hint', id: `${id}-hint` }, hint),
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
      if (files.length > maxFiles) return `Attach at most ${maxFiles} files (now ${files.length}).`;
      if (files.some((e) => ['invalid', 'failed', 'refused'].includes(e.state))) {
        return 'Remove the files that were not accepted, or retry them.';
      }
      return ''; // files still uploading are waited for on submit
    },
    fileIds: () => live().map((e) => e.fileId),
    /**
     * Before the form is sent: wait for uploads in flight (the form says so, then shows `busyLabel` again) and check
     * the field; false when the form must not be sent (the page was left, or the field's error is shown).
     */
    async ready(controller, busyLabel) {
      if (pending()) {
        controller.setBusy(true, 'Waiting for uploads…');
        await Promise.all(live().map((e) => e.promise).filter(Boolean));
        if (!list.isConnected) return false;
        controller.setBusy(true, busyLabel);
      }
      if (controller.validateField(id)) {
        controller.showAlert('Please correct the highlighted fields.', 'validation');
        picker.focus();
        return false;
      }
      return true;
    },
    /** Mark the files the server refused (`proof_files.<n>`); returns the errors aimed at this field. */
    refuse(fieldErrors) {
      const files = live();
      const mapped = (fieldErrors || []).map((error) => {
        const match = /^(?:body\.)?proof_files\.(\d+)/.exec(String(error.field || ''));
        const entry = match ? files[Number(match[1])] : null;
        if (!entry) return error;
        entry.state = 'refused';
        entry.error = error.message;
        // The API names the file in its message ("invoice.pdf is not a PDF"); name it when it does not.
        const named = String(error.message || '').startsWith(entry.name);
        return { field: 'proof_files', message: named ? error.message : `${entry.name}: ${error.message}` };
      });
      draw();
      return mapped;
    },
  };
}
