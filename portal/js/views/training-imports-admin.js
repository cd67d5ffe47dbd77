// CSV imports of completions (on #/admin/training/connections): choose a file, the API opens an import and gives a
// presigned upload (`POST /training/imports`), the file goes straight to storage (uploads.js), the import is submitted
// (`POST /training/imports/{id}/submission`), then its progress is followed (`GET /training/imports/{id}`) until it is
// completed, with the report per row (accepted, duplicate, unknown learner, invalid…), or failed. The import shown is
// kept in the hash (`?import=imp_…`): a reload follows it again.
//
// Recent imports are listed from `GET /training/imports` (newest first, a page at a time, the same view of each job
// as `GET /training/imports/{id}` without its rows); "Open" follows one as if it had been started here.
import { api, path } from '../api.js';
import { announce, badge, dataTable, errorPanel, h, loading, timeEl } from '../dom.js';
import { bindForm, cardForm, field, idempotencyKeeper, sendForm } from '../forms.js';
import { formatBytes, postToStorage } from '../uploads.js';
import { adminBlock } from './admin-common.js';

export const IMPORT_ID = /^imp_[0-9a-z]{26}$/;
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024; // TrainingImportMaxBytes' default; the API's `max_bytes` replaces it
const REPORT_PAGE = 100;
const RECENT_PAGE = 10;
const POLL_MS = 1500;
const COLUMNS = 'learner_email, lms_course_id, result, completed_at and optionally score';

const STATUSES = {
  awaiting_upload: ['Waiting for the file', 'pending', 'Upload the file, then submit the import.'],
  queued: ['Queued', 'pending', 'The rows are read in the background; this page follows the progress.'],
  processing: ['Processing', 'pending', 'The rows are read in the background; this page follows the progress.'],
  completed: ['Completed', 'ok', 'Review the rows that were not accepted: unknown learners go to the review list.'],
  failed: ['Failed', 'bad', 'Correct the file and import it again.'],
};

const ROW_STATUSES = {
  accepted: ['Accepted', 'ok'],
  duplicate: ['Duplicate', 'neutral'],
  unknown_learner: ['Unknown learner', 'warn'],
  unknown_account: ['Unknown account', 'warn'],
  unknown_course: ['Unknown course', 'warn'],
  invalid: ['Invalid', 'bad'],
};

export function importStatusLabel(status) {
  return (STATUSES[status] || [status])[0];
}

/** '' when the file may be imported, otherwise why not. */
export function checkCsvFile(file, maxBytes = IMPORT_MAX_BYTES) {
  if (!file) return 'Choose a CSV file.';
  if (!String(file.name || '').toLowerCase().endsWith('.csv')) return 'Choose a .csv file.';
  if (/[/\\]/.test(file.name) || file.name.length > 200) return 'Rename the file: at most 200 characters, no folders.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > maxBytes) return `Files can be at most ${formatBytes(maxBytes)}; this one is ${formatBytes(file.size)}.`;
  return '';
}

export function importsSection(ctx) {
  const jobBox = h('div', { 'data-testid': 'import-slot' });
  const follower = { seq: 0 };
  const recent = { jobs: [], cursor: null };
  const recentBox = h('div', { 'data-testid': 'imports-recent' }, loading('Loading recent imports…'));
  const open = (job) => {
    follow(ctx, jobBox, follower, job.import_id, job);
    jobBox.scrollIntoView?.({ block: 'nearest' });
  };
  follower.onJob = (job) => {
    // the followed job's progress, in its row of the list too (in place: a focused "Open" keeps its focus)
    recent.jobs = recent.jobs.map((j) => (j.import_id === job.import_id ? { ...j, ...job } : j));
    const row = recentBox.querySelector(`[data-testid=imports-row][data-import-id="${job.import_id}"]`);
    if (!row) return;
    const [label, tone] = STATUSES[job.status] || [job.status, 'neutral'];
    row.dataset.status = job.status;
    row.querySelector('[data-label=Status]')?.replaceChildren(badge(label, tone, 'imports-row-status'));
    const rows = row.querySelector('[data-testid=imports-row-rows]');
    if (rows) rows.textContent = rowsText(job);
  };
  const form = importForm(ctx, (job) => {
    recent.jobs = [job, ...recent.jobs.filter((j) => j.import_id !== job.import_id)];
    drawRecent();
    follow(ctx, jobBox, follower, job.import_id, job);
  });

  function drawRecent() {
    const more = recent.cursor
      ? h(
          'div',
          { class: 'load-more' },
          h(
            'button',
            { type: 'button', class: 'button', 'data-testid': 'imports-more', onclick: () => loadRecent(recent.cursor) },
            'Show older imports',
          ),
        )
      : '';
    recentBox.replaceChildren(recentTable(recent.jobs, open), more);
  }

  async function loadRecent(cursor = null) {
    const query = `?limit=${RECENT_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    let page;
    try {
      page = await api.get(`/training/imports${query}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent() || !recentBox.isConnected) return;
      const retry = () => {
        recentBox.replaceChildren(loading('Loading recent imports…'));
        loadRecent(cursor);
      };
      recentBox.replaceChildren(errorPanel(`We could not load the recent imports. ${error.message}`, retry));
      return;
    }
    if (!ctx.isCurrent() || !recentBox.isConnected) return;
    const seen = new Set(recent.jobs.map((j) => j.import_id));
    const added = (page.items || []).filter((j) => !seen.has(j.import_id));
    recent.jobs = [...recent.jobs, ...added];
    recent.cursor = page.next_cursor || null;
    drawRecent();
    if (cursor && added.length) recentBox.querySelector(`[data-import-id="${added[0].import_id}"] button`)?.focus();
  }

  const wanted = ctx.query.get('import');
  if (wanted && IMPORT_ID.test(wanted)) follow(ctx, jobBox, follower, wanted);
  loadRecent();
  return adminBlock(
    'imports-title',
    'CSV imports',
    `A UTF-8 CSV file with a header row: ${COLUMNS} (0 to 100). The same row in another file counts once.`,
    h('div', { class: 'action-grid' }, form),
    jobBox,
    h('h3', { id: 'imports-recent-title' }, 'Recent imports'),
    recentBox,
  );
}

function rowsText(job) {
  const total = job.total_rows;
  if (total === null || total === undefined) return 'Not read yet';
  return `${(Number(job.rows_processed) || 0).toLocaleString()} of ${total.toLocaleString()}`;
}

function recentTable(jobs, open) {
  if (!jobs.length) {
    return h('p', { class: 'empty', 'data-testid': 'imports-empty' }, 'No import yet.');
  }
  return dataTable({
    testid: 'imports-table',
    captionId: 'imports-caption',
    caption: `Recent imports, newest first (${jobs.length})`,
    columns: ['File', 'Status', 'Rows', 'Started', 'Action'],
    rows: jobs.map((job) => {
      const [label, tone] = STATUSES[job.status] || [job.status, 'neutral'];
      return h(
        'tr',
        { 'data-testid': 'imports-row', 'data-import-id': job.import_id, 'data-status': job.status },
        h('td', { 'data-label': 'File', 'data-testid': 'imports-row-file' }, job.file_name || job.import_id),
        h('td', { 'data-label': 'Status' }, badge(label, tone, 'imports-row-status')),
        h('td', { 'data-label': 'Rows', 'data-testid': 'imports-row-rows' }, rowsText(job)),
        h('td', { 'data-label': 'Started' }, timeEl(job.created_at, { testid: 'imports-row-created-at' })),
        h(
          'td',
          { 'data-label': 'Action' },
          h(
            'button',
            {
              type: 'button',
              class: 'button button-small',
              'data-testid': 'imports-open',
              'aria-label': `Open the import of ${job.file_name || job.import_id}`,
              onclick: () => open(job),
            },
            'Open',
          ),
        ),
      );
    }),
  });
}

function importForm(ctx, started) {
  const keeper = idempotencyKeeper();
  const progress = h('progress', { max: 100, value: 0, 'data-testid': 'import-upload-progress', hidden: true });
  const stage = h('p', { class: 'muted small', role: 'status', 'data-testid': 'import-stage' });
  const form = cardForm({
    testid: 'import-form',
    title: 'Import completions from a file',
    fields: [
      field({
        id: 'import_file',
        name: 'file',
        label: 'CSV file',
        type: 'file',
        hint: `At most ${formatBytes(IMPORT_MAX_BYTES)} and 10,000 rows.`,
        attrs: { accept: '.csv,text/csv', class: 'file-input' },
      }),
      stage,
      progress,
    ],
    button: 'Upload and import',
    buttonTestid: 'start-import',
  });
  const input = form.elements.import_file;
  const controller = bindForm(form, {
    validators: { import_file: () => checkCsvFile(input.files?.[0]) },
    busyLabel: 'Importing…',
    onSubmit: async () => {
      const file = input.files[0];
      const fill = `${file.name}|${file.size}|${file.lastModified}`;
      stage.textContent = 'Opening the import…';
      let job;
      await sendForm(ctx, form, controller, {
        keeper: { keyFor: () => keeper.keyFor(fill) }, // the same file again (a retry) is the same import
        body: { file_name: file.name },
        send: (text, idempotencyKey) => api.post('/training/imports', text, { idempotencyKey }),
        done: (answer) => {
          job = answer;
        },
        fieldMap: { file_name: 'import_file' },
        retry: 'Select “Upload and import” again to retry.',
        fallback: 'The import could not be started.',
      });
      if (!job || !form.isConnected) {
        stage.textContent = '';
        return;
      }
      const limit = Number(job.max_bytes) || IMPORT_MAX_BYTES;
      if (file.size > limit) {
        stage.textContent = '';
        controller.showFieldError('import_file', checkCsvFile(file, limit));
        return;
      }
      stage.textContent = `Uploading ${file.name}…`;
      progress.hidden = false;
      progress.value = 0;
      try {
        await postToStorage(job.upload, file, {
          onProgress: (loaded, total) => {
            progress.value = total ? Math.round((loaded / total) * 100) : 0;
          },
        });
      } catch (error) {
        if (!form.isConnected) return;
        stage.textContent = '';
        progress.hidden = true;
        keeper.reset(); // the upload link may have expired: a new attempt opens a new import
        controller.showAlert(`${error.message || 'The file could not be uploaded.'} Select “Upload and import” to try again.`);
        return;
      }
      progress.value = 100;
      stage.textContent = 'Submitting the import…';
      const submitKeeper = idempotencyKeeper();
      let submitted = null;
      await sendForm(ctx, form, controller, {
        keeper: submitKeeper,
        body: {},
        send: (text, idempotencyKey) =>
          api.post(path`/training/imports/${job.import_id}/submission`, text, { idempotencyKey }),
        done: (answer) => {
          submitted = answer;
        },
        retry: 'The file is uploaded: select “Upload and import” again to retry.',
        fallback: 'The import was not accepted.',
      });
      if (!form.isConnected) return;
      progress.hidden = true;
      stage.textContent = '';
      if (!submitted) return; // the form shows why; "Upload and import" again reuses this import (the same key)
      keeper.reset();
      controller.reset();
      started(submitted);
    },
  });
  return form;
}

/** Show an import and follow it until it completes or fails (polling while the page is shown). */
async function follow(ctx, box, follower, importId, first = null) {
  const seq = ++follower.seq;
  const wanted = () => seq === follower.seq && ctx.isCurrent() && box.isConnected;
  ctx.setQuery({ import: importId });
  box.replaceChildren(loading('Loading the import…'));
  const report = { rows: [], total: null, offset: 0 };
  let job = first;
  let waited = 0;
  for (;;) {
    let data;
    try {
      data = await api.get(`${path`/training/imports/${importId}`}?offset=${report.offset}&limit=${REPORT_PAGE}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !wanted()) return;
      if (error.status === 404) {
        ctx.setQuery({});
        box.replaceChildren(h('p', { class: 'notice', 'data-testid': 'import-not-found' }, 'No such import.'));
        return;
      }
      box.replaceChildren(
        errorPanel(`We could not load the import. ${error.message}`, () => follow(ctx, box, follower, importId, job)),
      );
      return;
    }
    if (!wanted()) return;
    job = data;
    follower.onJob?.(job);
    if (job.status === 'completed') {
      report.rows = Array.isArray(data.rows) ? data.rows : [];
      report.total = data.total_rows ?? report.rows.length;
    }
    box.replaceChildren(importCard(job, report, () => more()));
    if (job.status === 'completed' || job.status === 'failed') {
      announce(`Import ${importStatusLabel(job.status).toLowerCase()}.`);
      return;
    }
    if (job.status === 'awaiting_upload') return; // nothing happens until it is submitted
    await new Promise((resolve) => setTimeout(resolve, POLL_MS + Math.min(waited, 10) * 200));
    waited += 1;
    if (!wanted()) return;
  }

  async function more() {
    const offset = report.rows.length;
    let data;
    try {
      data = await api.get(`${path`/training/imports/${importId}`}?offset=${offset}&limit=${REPORT_PAGE}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !wanted()) return;
      box.querySelector('[data-testid=report-more]')?.replaceWith(
        h('p', { class: 'form-alert', role: 'alert', 'data-testid': 'report-more-error' }, error.message),
      );
      return;
    }
    if (!wanted()) return;
    const added = Array.isArray(data.rows) ? data.rows : [];
    report.rows = [...report.rows, ...added];
    box.replaceChildren(importCard(data, report, () => more()));
    box.querySelector(`[data-row="${added[0]?.row}"]`)?.focus();
  }
}

function counts(job) {
  const entries = Object.entries(job.counts || {}).filter(([, n]) => n);
  if (!entries.length) return null;
  return h(
    'ul',
    { class: 'plain-list', 'data-testid': 'import-counts' },
    entries.map(([status, n]) =>
      h('li', { 'data-status': status }, `${(ROW_STATUSES[status] || [status])[0]}: ${n.toLocaleString()}`),
    ),
  );
}

function importCard(job, report, more) {
  const [label, tone, next] = STATUSES[job.status] || [job.status, 'neutral', ''];
  const total = job.total_rows;
  const done = Number(job.rows_processed) || 0;
  return h(
    'section',
    {
      class: 'card import-card',
      'aria-labelledby': 'import-heading',
      'data-testid': 'import-card',
      'data-import-id': job.import_id,
      'data-status': job.status,
    },
    h(
      'div',
      { class: 'fund-head' },
      h('h3', { id: 'import-heading', 'data-testid': 'import-file' }, job.file_name || job.import_id),
      badge(label, tone, 'import-status'),
    ),
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Import'),
      h('dd', {}, h('code', { 'data-testid': 'import-id' }, job.import_id)),
      h('dt', {}, 'Started'),
      h('dd', {}, timeEl(job.created_at, { testid: 'import-created-at' })),
      h('dt', {}, 'Submitted'),
      h('dd', {}, timeEl(job.submitted_at, { testid: 'import-submitted-at' })),
      job.finished_at ? [h('dt', {}, 'Finished'), h('dd', {}, timeEl(job.finished_at, { testid: 'import-finished-at' }))] : null,
      h('dt', {}, 'Rows'),
      h(
        'dd',
        {},
        h(
          'span',
          { 'data-testid': 'import-progress-text' },
          total === null || total === undefined ? 'Not read yet' : `${done.toLocaleString()} of ${total.toLocaleString()}`,
        ),
        total
          ? h('progress', {
              class: 'block',
              max: total,
              value: Math.min(done, total),
              'aria-label': 'Rows processed',
              'aria-valuetext': `${done} of ${total}`,
              'data-testid': 'import-progress',
            })
          : null,
      ),
      (job.ignored_columns || []).length
        ? [h('dt', {}, 'Ignored columns'), h('dd', { 'data-testid': 'import-ignored' }, job.ignored_columns.join(', '))]
        : null,
    ),
    counts(job),
    job.failure ? h('p', { class: 'form-alert', 'data-testid': 'import-failure' }, job.failure) : null,
    h('p', { class: 'muted small', 'data-testid': 'import-next-step' }, next),
    job.status === 'completed' ? reportTable(report, more) : null,
  );
}

function reportTable(report, more) {
  if (!report.rows.length) {
    return h('p', { class: 'empty', 'data-testid': 'import-report-empty' }, 'The file had no data rows.');
  }
  return h(
    'div',
    {},
    dataTable({
      testid: 'import-report',
      captionId: 'import-report-caption',
      caption: `Report per row (${report.rows.length} of ${report.total})`,
      columns: [['Row', 'num'], 'Outcome', 'Why'],
      rows: report.rows.map((row) => {
        const [text, tone] = ROW_STATUSES[row.status] || [row.status, 'neutral'];
        return h(
          'tr',
          { 'data-testid': 'report-row', 'data-row': row.row, 'data-status': row.status, tabindex: '-1' },
          h('td', { 'data-label': 'Row', class: 'num', 'data-testid': 'report-row-number' }, String(row.row)),
          h('td', { 'data-label': 'Outcome' }, badge(text, tone, 'report-status')),
          h('td', { 'data-label': 'Why', 'data-testid': 'report-reason' }, row.reason || ''),
        );
      }),
    }),
    report.total > report.rows.length
      ? h(
          'div',
          { class: 'load-more' },
          h('button', { type: 'button', class: 'button', 'data-testid': 'report-more', onclick: more }, 'Show more rows'),
        )
      : null,
  );
}
