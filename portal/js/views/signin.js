// #/signin: email + password against Cognito, then the NEW_PASSWORD_REQUIRED step for temporary passwords.
import { PASSWORD_RULES, completeNewPassword, signIn } from '../auth.js';
import { programmeName } from '../config.js';
import { announce, h } from '../dom.js';
import { bindForm, field, formAlert, isEmail, required } from '../forms.js';

export function renderSignIn(ctx) {
  const container = h('div', { class: 'page page-narrow' });
  ctx.main.append(container);
  showSignIn(ctx, container, ctx.takeFlash());
}

function showSignIn(ctx, container, flash, email = '') {
  const heading = h('h1', { tabindex: '-1', id: 'signin-title' }, 'Sign in');
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'signin-form', 'aria-labelledby': 'signin-title' },
    flash ? h('div', { class: 'notice', role: 'status', 'data-testid': 'flash' }, flash) : null,
    formAlert(),
    field({
      id: 'email',
      label: 'Email',
      type: 'email',
      attrs: { autocomplete: 'username', spellcheck: 'false', autocapitalize: 'none', value: email },
    }),
    field({ id: 'password', label: 'Password', type: 'password', attrs: { autocomplete: 'current-password' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Sign in')),
  );
  const controller = bindForm(form, {
    validators: {
      email: (v) => required(v, 'Enter your email address.') || (isEmail(v) ? '' : 'Enter a valid email address.'),
      password: (v) => required(v, 'Enter your password.'),
    },
    busyLabel: 'Signing in…',
    onSubmit: async () => {
      const address = form.elements.email.value.trim();
      try {
        const result = await signIn(address, form.elements.password.value);
        if (result.status === 'new_password_required') {
          showNewPassword(ctx, container, result.challenge);
        } else {
          await ctx.signedIn();
        }
      } catch (error) {
        controller.showAlert(error.message);
        if (error.code === 'NotAuthorizedException' || error.code === 'UserNotFoundException') {
          form.elements.password.value = '';
          form.elements.password.focus();
        }
      }
    },
  });

  container.replaceChildren(
    heading,
    h('p', { class: 'lead' }, `Sign in to the ${programmeName()}.`),
    form,
    h(
      'div',
      { class: 'aside card-muted' },
      h('h2', {}, 'Not a partner yet?'),
      h('p', {}, 'Tell us about your company and we will review your application.'),
      h('a', { href: '#/apply', class: 'button', 'data-testid': 'become-partner' }, 'Become a partner'),
    ),
  );
}

function showNewPassword(ctx, container, challenge) {
  const heading = h('h1', { tabindex: '-1', id: 'new-password-title' }, 'Set your new password');
  const rules = h(
    'ul',
    { class: 'password-rules', id: 'password-rules' },
    PASSWORD_RULES.map(([key, text]) => h('li', { 'data-rule': key, 'data-testid': `rule-${key}` }, text)),
  );
  const passwordField = field({
    id: 'new_password',
    label: 'New password',
    type: 'password',
    hint: 'Your password must contain:',
    attrs: { autocomplete: 'new-password' },
  });
  passwordField.querySelector('.hint').after(rules);
  passwordField.querySelector('input').setAttribute('aria-describedby', 'new_password-hint password-rules new_password-error');
  const form = h(
    'form',
    {
      class: 'form card',
      novalidate: true,
      'data-testid': 'new-password-form',
      'aria-labelledby': 'new-password-title',
    },
    formAlert(),
    passwordField,
    field({ id: 'confirm_password', label: 'Confirm new password', type: 'password', attrs: { autocomplete: 'new-password' } }),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-primary' }, 'Set password and continue'),
      h(
        'button',
        { type: 'button', class: 'button button-link', onclick: () => showSignIn(ctx, container, '', challenge.email) },
        'Cancel',
      ),
    ),
  );

  const updateRules = () => {
    const value = form.elements.new_password.value;
    for (const [key, , test] of PASSWORD_RULES) {
      const item = rules.querySelector(`[data-rule="${key}"]`);
      const met = test(value);
      item.classList.toggle('met', met);
      item.dataset.met = String(met);
    }
  };
  form.addEventListener('input', updateRules);

  const controller = bindForm(form, {
    validators: {
      new_password: (v) => {
        if (!v) return 'Choose a new password.';
        const missing = PASSWORD_RULES.filter(([, , test]) => !test(v)).map(([, text]) => text.toLowerCase());
        if (!missing.length) return '';
        const list = missing.length > 1 ? `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}` : missing[0];
        return `Your password needs ${list}.`;
      },
      confirm_password: (v, f) =>
        !v ? 'Enter the new password again.' : v !== f.elements.new_password.value ? 'The passwords do not match.' : '',
    },
    dependents: { new_password: ['confirm_password'] },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      try {
        await completeNewPassword(challenge, form.elements.new_password.value);
        announce('Password set. You are signed in.');
        await ctx.signedIn();
      } catch (error) {
        if (error.code === 'InvalidPasswordException') {
          controller.setServerError('new_password', error.detail || error.message);
          form.elements.new_password.focus();
        } else if (['NotAuthorizedException', 'ResourceNotFoundException', 'ExpiredCodeException'].includes(error.code)) {
          showSignIn(
            ctx,
            container,
            'Your sign-in session expired before the new password was set. Sign in again with your temporary password.',
            challenge.email,
          );
        } else {
          controller.showAlert(error.message);
        }
      }
    },
  });

  container.replaceChildren(
    heading,
    h(
      'p',
      { class: 'lead' },
      'You signed in with a temporary password. Choose your own password to continue.',
    ),
    form,
  );
  ctx.setTitle('Set your new password');
  heading.focus();
}
