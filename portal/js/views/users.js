// #/users: the organisation's users with status and dates; partner admins can invite colleagues.
import { api, path } from '../api.js';
import { announce, badge, errorPanel, formatDate, h, loading, timeEl } from '../dom.js';
import { LIMITS, bindForm, field, formAlert, idempotencyKeeper, isEmail, maxLength, required } from '../forms.js';
import { ROLES, roleLabel, statusLabel, statusTone } from '../reference.js';

// Temporary passwords expire after TemporaryPasswordValidityDays (template.yaml: 7 days).
const TEMPORARY_PASSWORD_DAYS = 7;

export async function renderUsers(ctx) {
  const heading = h('h1', { tabindex: '-1', id: 'users-title' }, 'Users');
  const list = h('div', {}, loading('Loading users…'));
  const section = h(
    'section',
    { class: 'page', 'aria-labelledby': 'users-title' },
    heading,
    h('p', { class: 'lead' }, 'People in your organisation who can sign in to the partner portal.'),
    list,
  );
  ctx.main.append(section);

  const state = { items: [] };
  const partnerId = ctx.me.partner_id;
  if (ctx.isPartnerAdmin()) section.append(inviteForm(ctx, partnerId, state, () => renderTable(list, state.items)));

  try {
    const data = await api.get(path`/partners/${partnerId}/users`);
    state.items = data?.items || [];
  } catch (error) {
    if (!ctx.handleAuthErrors(error)) {
      list.replaceChildren(errorPanel(`We could not load the users. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  renderTable(list, state.items);
}

function nextStep(user) {
  if (user.status === 'invited') {
    const invited = new Date(user.invited_at);
    if (Number.isNaN(invited.getTime())) return 'First sign-in with the temporary password';
    const due = new Date(invited.getTime() + TEMPORARY_PASSWORD_DAYS * 24 * 3600 * 1000);
    const overdue = due.getTime() < Date.now();
    return h(
      'span',
      { class: overdue ? 'overdue' : null },
      overdue ? 'Temporary password expired on ' : 'First sign-in due by ',
      h('time', { datetime: due.toISOString() }, formatDate(due.toISOString(), { dateOnly: true })),
    );
  }
  return h('span', { class: 'muted' }, 'None');
}

function renderTable(container, items) {
  if (!items.length) {
    container.replaceChildren(h('p', { class: 'empty', 'data-testid': 'users-empty' }, 'No users yet.'));
    return;
  }
  const sorted = [...items].sort((a, b) => String(b.invited_at || '').localeCompare(String(a.invited_at || '')));
  container.replaceChildren(
    h(
      'div',
      { class: 'table-wrap', role: 'region', 'aria-labelledby': 'users-caption', tabindex: '0' },
      h(
        'table',
        { class: 'table', 'data-testid': 'users-table' },
        h('caption', { id: 'users-caption', class: 'visually-hidden' }, `Users (${items.length})`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Email', 'Name', 'Role', 'Status', 'Invited', 'Next step'].map((text) => h('th', { scope: 'col' }, text)),
          ),
        ),
        h(
          'tbody',
          {},
          sorted.map((user) =>
            h(
              'tr',
              { 'data-testid': 'user-row', 'data-email': user.email },
              h('td', { 'data-label': 'Email', 'data-testid': 'user-email' }, user.email),
              h('td', { 'data-label': 'Name', 'data-testid': 'user-name' }, user.name || '—'),
              h('td', { 'data-label': 'Role', 'data-testid': 'user-role' }, roleLabel(user.role)),
              h('td', { 'data-label': 'Status' }, badge(statusLabel(user.status), statusTone(user.status), 'user-status')),
              h(
                'td',
                { 'data-label': 'Invited' },
                timeEl(user.invited_at, { dateOnly: true, testid: 'user-invited-at' }),
                user.invited_by ? h('span', { class: 'muted small' }, ` by ${user.invited_by}`) : null,
              ),
              h('td', { 'data-label': 'Next step', 'data-testid': 'user-next-step' }, nextStep(user)),
            ),
          ),
        ),
      ),
    ),
  );
}

function inviteForm(ctx, partnerId, state, refresh) {
  const keeper = idempotencyKeeper();
  const success = h('p', { class: 'notice notice-ok', role: 'status', 'data-testid': 'invite-success', hidden: true });
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'invite-form', 'aria-labelledby': 'invite-title' },
    formAlert(),
    h(
      'div',
      { class: 'grid-3' },
      field({
        id: 'invite_email',
        name: 'email',
        label: 'Email',
        type: 'email',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
      }),
      field({ id: 'invite_name', name: 'name', label: 'Full name', attrs: { autocomplete: 'off' } }),
      field({
        id: 'invite_role',
        name: 'role',
        label: 'Role',
        control: 'select',
        options: ROLES,
        attrs: { 'aria-describedby': 'invite_role-hint invite_role-error' },
      }),
    ),
    h('p', { class: 'hint', id: 'invite_role-hint' }, 'Partner admins can edit the organisation’s details and invite colleagues.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Send invitation')),
  );
  const controller = bindForm(form, {
    validators: {
      invite_email: (v) =>
        required(v, 'Enter your colleague’s email address.') ||
        maxLength(v, LIMITS.email, 'Email address') ||
        (isEmail(v) ? '' : 'Enter an email address such as name@example.com.'),
      invite_name: (v) => required(v, 'Enter your colleague’s full name.') || maxLength(v, LIMITS.personName, 'Name'),
      invite_role: (v) => required(v, 'Choose a role.'),
    },
    busyLabel: 'Sending invitation…',
    onSubmit: async () => {
      success.hidden = true;
      const body = JSON.stringify({
        email: form.elements.invite_email.value.trim(),
        name: form.elements.invite_name.value.trim(),
        role: form.elements.invite_role.value,
      });
      try {
        const user = await api.post(path`/partners/${partnerId}/users`, body, { idempotencyKey: keeper.keyFor(body) });
        const invited = user || JSON.parse(body);
        state.items = [invited, ...state.items.filter((u) => u.email !== invited.email)];
        refresh();
        controller.reset();
        keeper.reset();
        success.textContent = `Invitation sent to ${invited.email}. They will get an email with a temporary password.`;
        success.hidden = false;
        announce(success.textContent);
      } catch (error) {
        if (ctx.handleAuthErrors(error)) return;
        const fields = { email: 'invite_email', name: 'invite_name', role: 'invite_role' };
        if (error.code === 'user_exists') {
          controller.showServerErrors(
            {
              fieldErrors: error.fieldErrors.length
                ? error.fieldErrors
                : [{ field: 'email', message: 'This email address already belongs to a portal user.' }],
            },
            fields,
            { summary: 'This person already has a portal account.' },
          );
        } else if (error.fieldErrors?.length) {
          controller.showServerErrors(error, fields);
        } else {
          controller.showAlert(
            error.isNetwork || error.status >= 500 ? `${error.message} Select “Send invitation” to try again.` : error.message,
          );
        }
      }
    },
  });
  return h(
    'section',
    { class: 'card invite', 'aria-labelledby': 'invite-title' },
    h('h2', { id: 'invite-title' }, 'Invite a colleague'),
    success,
    form,
  );
}
