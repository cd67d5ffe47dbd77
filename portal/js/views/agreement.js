// #/agreement: the current programme agreement; until it is accepted the router sends every route here.
import { api } from '../api.js';
import { announce, errorPanel, formatDate, h, loading, timeEl } from '../dom.js';
import { bindForm, formAlert, idempotencyKeeper } from '../forms.js';

export async function renderAgreement(ctx) {
  const heading = h('h1', { tabindex: '-1', id: 'agreement-title' }, 'Partner programme agreement');
  const body = h('div', { class: 'agreement-content' }, loading('Loading the agreement…'));
  const section = h('section', { class: 'page page-narrow', 'aria-labelledby': 'agreement-title' }, heading, body);
  ctx.main.append(section);

  let agreement;
  try {
    agreement = await api.get('/agreements/current');
  } catch (error) {
    if (error.status === 401) return;
    const message =
      error.status === 404
        ? 'No programme agreement has been published yet. Please try again later.'
        : `We could not load the agreement. ${error.message}`;
    body.replaceChildren(errorPanel(message, ctx.rerender, { title: 'Agreement not available' }));
    return;
  }
  if (!ctx.isCurrent()) return;

  const required = Boolean(ctx.me?.agreement?.required);
  const accepted = ctx.me?.agreement?.accepted_version;

  body.replaceChildren(
    required
      ? h(
          'p',
          { class: 'lead' },
          'Before you use the partner portal, please read and accept the current programme agreement.',
        )
      : h(
          'p',
          { class: 'notice', 'data-testid': 'agreement-accepted' },
          `You have accepted version ${accepted || agreement.version} of this agreement.`,
        ),
    h(
      'article',
      { class: 'agreement', 'aria-labelledby': 'agreement-doc-title', 'data-testid': 'agreement' },
      h('h2', { id: 'agreement-doc-title', 'data-testid': 'agreement-title' }, agreement.title),
      h(
        'p',
        { class: 'meta' },
        'Version ',
        h('span', { 'data-testid': 'agreement-version' }, agreement.version),
        agreement.published_at ? [' · published ', timeEl(agreement.published_at, { dateOnly: true })] : null,
      ),
      h(
        'div',
        {
          class: 'agreement-body',
          tabindex: '0',
          role: 'region',
          'aria-label': `${agreement.title} text`,
          'data-testid': 'agreement-body',
        },
        paragraphs(agreement.body),
      ),
    ),
    required ? acceptForm(ctx, agreement) : null,
  );
}

function paragraphs(text) {
  return String(text || '')
    .split(/\r?\n\s*\r?\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => h('p', {}, block));
}

function acceptForm(ctx, agreement) {
  const keeper = idempotencyKeeper();
  const form = h(
    'form',
    { class: 'form accept-form', novalidate: true, 'data-testid': 'agreement-form' },
    formAlert(),
    h(
      'div',
      { class: 'field field-checkbox' },
      h('input', {
        type: 'checkbox',
        id: 'accept_agreement',
        name: 'accept_agreement',
        'aria-describedby': 'accept_agreement-error',
      }),
      h('label', { for: 'accept_agreement' }, `I have read and accept the ${agreement.title} (version ${agreement.version}).`),
      h('p', { class: 'field-error', id: 'accept_agreement-error', 'data-testid': 'accept_agreement-error', hidden: true }),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Accept agreement')),
  );
  const controller = bindForm(form, {
    validators: {
      accept_agreement: (checked) => (checked ? '' : 'Tick the box to confirm you have read and accept the agreement.'),
    },
    busyLabel: 'Accepting…',
    onSubmit: async () => {
      const body = JSON.stringify({ version: agreement.version });
      try {
        const result = await api.post('/agreements/current/acceptance', body, { idempotencyKey: keeper.keyFor(body) });
        announce(`Agreement accepted on ${formatDate(result?.accepted_at || new Date().toISOString())}.`);
        await ctx.agreementAccepted();
      } catch (error) {
        if (error.status === 401) return;
        if (error.code === 'agreement_version_mismatch') {
          ctx.setFlash('The agreement was updated while you were reading it. Please review the new version.');
          ctx.rerender();
          return;
        }
        controller.showAlert(
          error.isNetwork || error.status >= 500 ? `${error.message} Select “Accept agreement” to try again.` : error.message,
        );
      }
    },
  });
  const flash = ctx.takeFlash();
  return h('div', {}, flash ? h('p', { class: 'notice', role: 'status', 'data-testid': 'flash' }, flash) : null, form);
}
