// #/admin/training/connections (vendor admins): how completions reach the PRM. LMS connections (listed from
// `GET /training/connections`, newest first, a page at a time; create one: its signing secret is shown once, with a
// copy button, and never again; rotate any listed connection's secret from its row, the previous one keeps working
// for a while) and CSV imports (training-imports-admin.js). The list never carries a secret: only when each was
// made and, once replaced, when it retires.
import { api, path } from '../api.js';
import { announce, dataTable, errorPanel, h, loading, timeEl } from '../dom.js';
import { bindForm, cardForm, field, idempotencyKeeper, maxLength, required, sendForm } from '../forms.js';
import { adminBlock } from './admin-common.js';
import { importsSection } from './training-imports-admin.js';

const NAME_MAX = 120;
const PAGE = 50;
export const CONNECTION_ID = /^lms_[0-9a-z]{26}$/;

/** A listed connection's status and next step, from its secrets (`now` in ms). */
export function connectionState(connection, now = Date.now()) {
  const store = 'Enter the secret in the learning system; it is not shown again.';
  if (connection.rotated_at) return ['Secret rotated', store];
  if (connection.created_here) return ['Created', store];
  const retiring = (connection.secrets || []).filter((s) => s.retires_at && Date.parse(s.retires_at) > now);
  if (retiring.length) {
    return ['Previous secret retiring', 'Update the learning system before the previous secret stops working.'];
  }
  return ['Active', ''];
}

export async function renderTrainingConnectionsAdmin(ctx) {
  // {connection_id, name, created_at, created_by, secrets, created_here?, rotated_at?}, newest first
  const state = { connections: [], cursor: null, loaded: false };
  const listBox = h('div', { 'data-testid': 'connections-slot' }, loading('Loading the connections…'));
  const secretBox = h('div', { 'data-testid': 'secret-slot' });
  const rotate = rotateForm(ctx, (answer) => {
    const now = new Date().toISOString();
    const known = state.connections.find((c) => c.connection_id === answer.connection_id);
    const previous = (known?.secrets || []).map((s) => ({
      ...s,
      retires_at: s.retires_at || answer.previous_valid_until || now,
    }));
    remember(state, {
      connection_id: answer.connection_id,
      rotated_at: now,
      secrets: [{ created_at: now, retires_at: null }, ...previous],
    });
    drawList();
    showSecret(ctx, secretBox, answer, { rotated: true });
  });
  const create = createForm(ctx, (answer) => {
    remember(state, {
      connection_id: answer.connection_id,
      name: answer.name,
      created_at: answer.created_at,
      secrets: [{ created_at: answer.created_at, retires_at: null }],
      created_here: true,
    });
    drawList();
    showSecret(ctx, secretBox, answer, { rotated: false });
  });

  function drawList() {
    const more = state.cursor
      ? h(
          'div',
          { class: 'load-more' },
          h(
            'button',
            { type: 'button', class: 'button', 'data-testid': 'connections-more', onclick: () => load(state.cursor) },
            'Show more connections',
          ),
        )
      : '';
    listBox.replaceChildren(connectionsTable(state.connections, (connection) => rotate.choose(connection)), more);
  }

  async function load(cursor = null) {
    const query = `?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    let page;
    try {
      page = await api.get(`/training/connections${query}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent() || !listBox.isConnected) return;
      const retry = () => {
        listBox.replaceChildren(loading('Loading the connections…'));
        load(cursor);
      };
      listBox.replaceChildren(errorPanel(`We could not load the connections. ${error.message}`, retry));
      return;
    }
    if (!ctx.isCurrent() || !listBox.isConnected) return;
    const seen = new Set(state.connections.map((c) => c.connection_id));
    const added = (page.items || []).filter((c) => !seen.has(c.connection_id));
    state.connections = [...state.connections, ...added];
    state.cursor = page.next_cursor || null;
    state.loaded = true;
    drawList();
    if (cursor && added.length) {
      listBox.querySelector(`[data-connection-id="${added[0].connection_id}"] [data-testid=connection-rotate]`)?.focus();
    }
  }

  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'connections-admin-title' },
      h('h1', { tabindex: '-1', id: 'connections-admin-title' }, 'LMS connections and imports'),
      h(
        'p',
        { class: 'lead' },
        'Completions arrive from the learning system through a connection (signed webhooks or xAPI statements), ' +
          'or from a CSV file you upload. Either way the same completion twice counts once.',
      ),
      adminBlock(
        'connections-title',
        'LMS connections',
        'Each connection has its own signing secret. The secret is shown once, when the connection is created or ' +
          'its secret rotated: store it in the learning system straight away.',
        secretBox,
        listBox,
        h('div', { class: 'action-grid' }, create, rotate.form),
      ),
      importsSection(ctx),
    ),
  );
  await load();
}

function remember(state, change) {
  const known = state.connections.find((c) => c.connection_id === change.connection_id);
  if (known) Object.assign(known, Object.fromEntries(Object.entries(change).filter(([, v]) => v)));
  else state.connections = [change, ...state.connections];
}

function connectionsTable(connections, choose) {
  if (!connections.length) {
    return h(
      'p',
      { class: 'empty', 'data-testid': 'connections-empty' },
      'No LMS connection yet. Create one for each learning system or LRS that sends completions.',
    );
  }
  return dataTable({
    testid: 'connections-table',
    captionId: 'connections-caption',
    caption: `LMS connections (${connections.length}${connections.length === 1 ? '' : ', newest first'})`,
    columns: ['Connection', 'Status', 'Next step', 'Latest secret', 'Action'],
    rows: connections.map((c) => {
      const [status, next] = connectionState(c);
      const newest = (c.secrets || [])[0];
      const retiring = (c.secrets || []).filter((s) => s.retires_at).map((s) => s.retires_at).sort().pop();
      return h(
        'tr',
        { 'data-testid': 'connection-row', 'data-connection-id': c.connection_id },
        h(
          'td',
          { 'data-label': 'Connection' },
          h('span', { class: 'strong block', 'data-testid': 'connection-name' }, c.name || 'Existing connection'),
          h('code', { class: 'small', 'data-testid': 'connection-row-id' }, c.connection_id),
          c.created_by
            ? h('span', { class: 'muted small block', 'data-testid': 'connection-created-by' }, `by ${c.created_by}`)
            : null,
        ),
        h('td', { 'data-label': 'Status', 'data-testid': 'connection-status' }, status),
        h(
          'td',
          { 'data-label': 'Next step', 'data-testid': 'connection-next-step' },
          next,
          status === 'Previous secret retiring' && retiring
            ? [' Until ', timeEl(retiring, { testid: 'connection-retires' }), '.']
            : null,
        ),
        h(
          'td',
          { 'data-label': 'Latest secret' },
          timeEl(c.rotated_at || newest?.created_at || c.created_at, { testid: 'connection-date' }),
        ),
        h(
          'td',
          { 'data-label': 'Action' },
          h(
            'button',
            {
              type: 'button',
              class: 'button button-small',
              'data-testid': 'connection-rotate',
              'aria-label': `Rotate the secret of ${c.name || c.connection_id}`,
              onclick: () => choose(c),
            },
            'Rotate secret…',
          ),
        ),
      );
    }),
  });
}

/**
 * The one time a secret is shown: the connection id, the secret with a copy button, where the learning system sends
 * to (the webhook URL; the xAPI endpoint with the id and secret as HTTP Basic credentials), and "I have stored it",
 * which removes the secret from the page. Nothing keeps it: leaving the page forgets it too.
 */
function showSecret(ctx, box, answer, { rotated }) {
  const base = String(ctx.config?.apiBaseUrl || '').replace(/\/+$/, '');
  const copyState = h('span', { class: 'muted small', role: 'status', 'data-testid': 'copy-state' });
  const secret = h('code', { class: 'secret', 'data-testid': 'connection-secret' }, answer.secret);
  const panel = h(
    'div',
    {
      class: 'notice notice-warn',
      role: 'region',
      tabindex: '-1',
      'aria-labelledby': 'secret-heading',
      'data-testid': 'secret-panel',
    },
    h(
      'h3',
      { id: 'secret-heading' },
      rotated ? 'New secret: copy it now' : `Connection “${answer.name}” created: copy its secret now`,
    ),
    h(
      'p',
      {},
      'This secret is shown only once. If it is lost, rotate the connection’s secret and enter the new one in the ' +
        'learning system.',
    ),
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Connection id'),
      h('dd', {}, h('code', { 'data-testid': 'connection-id' }, answer.connection_id)),
      h('dt', {}, 'Secret'),
      h(
        'dd',
        {},
        secret,
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'button button-small',
            'data-testid': 'copy-secret',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(answer.secret);
                copyState.textContent = 'Copied.';
              } catch {
                // No clipboard (permission, an insecure context): select the text for a manual copy.
                const range = document.createRange();
                range.selectNodeContents(secret);
                const selection = getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                copyState.textContent = 'Copying is not allowed here: the secret is selected, press Ctrl+C or ⌘C.';
              }
            },
          },
          'Copy secret',
        ),
        ' ',
        copyState,
      ),
      h('dt', {}, 'Webhook URL'),
      h('dd', {}, h('code', { 'data-testid': 'connection-webhook-url' }, `${base}/training/webhooks/${answer.connection_id}`)),
      h('dt', {}, 'xAPI endpoint'),
      h(
        'dd',
        {},
        h('code', { 'data-testid': 'connection-xapi-url' }, `${base}/xapi/statements`),
        h('span', { class: 'muted small block' }, 'HTTP Basic: the connection id as user name, the secret as password.'),
      ),
      rotated && answer.previous_valid_until
        ? [
            h('dt', {}, 'Previous secret'),
            h(
              'dd',
              { 'data-testid': 'previous-valid-until' },
              'Keeps working until ',
              timeEl(answer.previous_valid_until),
              ', so deliveries signed with it are not refused while you update the learning system.',
            ),
          ]
        : null,
    ),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          'data-testid': 'dismiss-secret',
          onclick: () => {
            box.replaceChildren(
              h(
                'p',
                { class: 'muted small', 'data-testid': 'secret-dismissed' },
                'The secret is no longer shown. Rotate the secret if it was not stored.',
              ),
            );
            announce('The secret is no longer shown.');
          },
        },
        'I have stored the secret',
      ),
    ),
  );
  box.replaceChildren(panel);
  announce(rotated ? 'New secret shown once: copy it now.' : 'Connection created: copy its secret now.');
  panel.focus();
}

function createForm(ctx, created) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'connection-form',
    title: 'Create a connection',
    hint: h('p', { class: 'hint' }, 'One per learning system or LRS that sends completions.'),
    fields: field({
      id: 'connection_name',
      name: 'name',
      label: 'Name',
      hint: 'For example “Docebo production”.',
      attrs: { autocomplete: 'off' },
    }),
    button: 'Create connection',
    buttonTestid: 'create-connection',
  });
  const controller = bindForm(form, {
    validators: {
      connection_name: (v) => required(v, 'Enter a name for the connection.') || maxLength(v, NAME_MAX, 'Name'),
    },
    busyLabel: 'Creating…',
    onSubmit: () =>
      sendForm(ctx, form, controller, {
        keeper,
        body: { name: form.elements.connection_name.value.trim() },
        send: (text, idempotencyKey) => api.post('/training/connections', text, { idempotencyKey }),
        done: (answer) => {
          keeper.reset(); // the same name again is another connection
          controller.reset();
          created(answer);
        },
        fieldMap: { name: 'connection_name' },
        retry: 'Select “Create connection” again to retry: it creates one connection, not two.',
        fallback: 'The connection was not created.',
      }),
  });
  return form;
}

function rotateForm(ctx, rotated) {
  const keepers = new Map(); // one fill per connection: a retry of a lost answer replays, a new rotation does not
  const form = cardForm({
    testid: 'rotate-form',
    title: 'Rotate a secret',
    hint: h(
      'p',
      { class: 'hint' },
      'Gives the connection a new secret. The previous one keeps working for a while, so the learning system can be ' +
        'updated without losing deliveries.',
    ),
    fields: field({
      id: 'rotate_connection',
      name: 'connection_id',
      label: 'Connection id',
      hint: 'Filled in by a connection’s “Rotate secret…” above; or lms_ followed by 26 letters and digits.',
      attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
    }),
    button: 'Rotate secret',
    buttonTestid: 'rotate-secret',
    primary: false,
  });
  const input = form.elements.rotate_connection;
  const controller = bindForm(form, {
    validators: {
      rotate_connection: (v) => {
        const text = String(v).trim();
        if (!text) return 'Enter the connection id.';
        return CONNECTION_ID.test(text) ? '' : 'A connection id reads lms_ followed by 26 letters and digits.';
      },
    },
    busyLabel: 'Rotating…',
    onSubmit: () => {
      const connectionId = input.value.trim();
      if (!keepers.has(connectionId)) keepers.set(connectionId, idempotencyKeeper());
      const keeper = keepers.get(connectionId);
      return sendForm(ctx, form, controller, {
        keeper,
        body: {},
        send: (text, idempotencyKey) =>
          api.post(path`/training/connections/${connectionId}/secrets`, text, { idempotencyKey }),
        done: (answer) => {
          keeper.reset(); // rotating again is a new rotation
          controller.reset();
          rotated(answer);
        },
        onError: (error) => {
          if (error.status !== 404) return false;
          controller.showFieldError('rotate_connection', 'No connection has this id.');
          return true;
        },
        fieldMap: { connection_id: 'rotate_connection' },
        retry: 'Select “Rotate secret” again to retry: a retry gives the same new secret.',
        fallback: 'The secret was not rotated.',
      });
    },
  });
  return {
    form,
    choose(connection) {
      input.value = connection.connection_id;
      controller.validateField('rotate_connection');
      input.focus();
    },
  };
}
