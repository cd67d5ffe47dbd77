// #/apply: the public partner application form and its receipt.
import { api } from '../api.js';
import { programmeName } from '../config.js';
import { announce, h, timeEl } from '../dom.js';
import {
  LIMITS,
  bindForm,
  field,
  formAlert,
  idempotencyKeeper,
  isEmail,
  maxLength,
  required,
  websiteHost,
} from '../forms.js';
import { amountError, amountPreview, moneyOf } from '../money.js';
import { COUNTRIES, CURRENCIES, PARTNER_TYPES } from '../reference.js';

// API field path -> control id.
const FIELD_MAP = {
  company_name: 'company_name',
  website: 'website',
  domain: 'website',
  country: 'country',
  partner_type: 'partner_type',
  contact_name: 'contact_name',
  contact_email: 'contact_email',
  expected_annual_revenue: 'revenue_amount',
  'expected_annual_revenue.amount_minor': 'revenue_amount',
  'expected_annual_revenue.currency': 'revenue_currency',
};

const VALIDATORS = {
  company_name: (v) =>
    required(v, 'Enter your company’s name.') || maxLength(v, LIMITS.companyName, 'Company name'),
  website: (v) =>
    required(v, 'Enter your company’s website or domain.') ||
    maxLength(v, LIMITS.website, 'Website') ||
    (websiteHost(v) ? '' : 'Enter a website such as https://www.example.com or a domain such as example.com.'),
  country: (v) => required(v, 'Choose the country your company is based in.'),
  partner_type: (v) => required(v, 'Choose how you want to partner with us.'),
  contact_name: (v) => required(v, 'Enter the contact’s full name.') || maxLength(v, LIMITS.personName, 'Name'),
  contact_email: (v) =>
    required(v, 'Enter the contact’s email address.') ||
    maxLength(v, LIMITS.email, 'Email address') ||
    (isEmail(v) ? '' : 'Enter an email address such as name@example.com.'),
  revenue_amount: (v, form) =>
    amountError(v, form.elements.revenue_currency.value, { empty: 'Enter your expected annual revenue with us.' }),
  revenue_currency: (v) => required(v, 'Choose a currency.'),
};

export function renderApply(ctx) {
  const keeper = idempotencyKeeper();
  const heading = h('h1', { tabindex: '-1' }, 'Become a partner');
  const preview = h('p', { class: 'hint money-preview', id: 'revenue-preview', 'data-testid': 'revenue-preview' });

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'apply-form', 'aria-labelledby': 'apply-title' },
    formAlert(),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Your company'),
      field({ id: 'company_name', label: 'Company name', attrs: { autocomplete: 'organization', maxlength: 400 } }),
      field({
        id: 'website',
        label: 'Website or domain',
        hint: 'For example https://www.example.com or example.com.',
        attrs: { autocomplete: 'url', inputmode: 'url', spellcheck: 'false', autocapitalize: 'none' },
      }),
      field({
        id: 'country',
        label: 'Country',
        control: 'select',
        placeholder: 'Choose a country…',
        options: COUNTRIES.map(([code, name]) => [code, `${name} (${code})`]),
        attrs: { autocomplete: 'country' },
      }),
      field({
        id: 'partner_type',
        label: 'Partner type',
        control: 'select',
        placeholder: 'Choose a partner type…',
        hint: 'Resellers and distributors sell our products; ISVs build on them; referral partners introduce customers.',
        options: PARTNER_TYPES.map(([value, label]) => [value, label]),
      }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Contact'),
      field({ id: 'contact_name', label: 'Full name', attrs: { autocomplete: 'name', maxlength: 240 } }),
      field({
        id: 'contact_email',
        label: 'Work email',
        type: 'email',
        hint: 'We send the decision and, once approved, your sign-in details to this address.',
        attrs: { autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none' },
      }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Business'),
      h('p', { class: 'hint', id: 'revenue_amount-hint' }, 'Expected yearly revenue with us, e.g. 250000 or 250000.00.'),
      h(
        'div',
        { class: 'money-row' },
        field({
          id: 'revenue_amount',
          label: 'Expected annual revenue',
          attrs: {
            inputmode: 'decimal',
            autocomplete: 'off',
            'aria-describedby': 'revenue_amount-hint revenue_amount-error revenue-preview',
          },
        }),
        field({
          id: 'revenue_currency',
          label: 'Currency',
          control: 'select',
          options: CURRENCIES.map(([code, name]) => [code, `${code} – ${name}`]),
        }),
      ),
      preview,
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Submit application')),
  );

  const updatePreview = () => {
    const amount = amountPreview(form.elements.revenue_amount.value, form.elements.revenue_currency.value);
    preview.textContent = amount ? `${amount} per year` : '';
  };
  form.addEventListener('input', updatePreview);
  form.addEventListener('change', updatePreview);

  const controller = bindForm(form, {
    validators: VALIDATORS,
    dependents: { revenue_currency: ['revenue_amount'] },
    busyLabel: 'Submitting…',
    onSubmit: async () => {
      const values = form.elements;
      const body = JSON.stringify({
        company_name: values.company_name.value.trim(),
        website: values.website.value.trim(),
        country: values.country.value,
        partner_type: values.partner_type.value,
        contact_name: values.contact_name.value.trim(),
        contact_email: values.contact_email.value.trim(),
        expected_annual_revenue: moneyOf(values.revenue_amount.value, values.revenue_currency.value),
      });
      try {
        const receipt = await api.post('/applications', body, { auth: false, idempotencyKey: keeper.keyFor(body) });
        showReceipt(receipt, JSON.parse(body));
      } catch (error) {
        if (error.code === 'duplicate_application') {
          controller.showServerErrors(
            {
              ...error,
              fieldErrors: error.fieldErrors.length
                ? error.fieldErrors
                : [{ field: 'website', message: error.message }],
            },
            FIELD_MAP,
            { summary: 'An application for this company’s domain is already pending or approved.' },
          );
        } else if (error.fieldErrors?.length) {
          controller.showServerErrors(error, FIELD_MAP);
        } else if (error.isNetwork || error.status >= 500) {
          controller.showAlert(
            `${error.message} Your answers are kept: select “Submit application” again to retry.`,
          );
        } else {
          controller.showAlert(error.message || 'Your application was not accepted.');
        }
      }
    },
  });

  const section = h(
    'section',
    { class: 'page page-narrow', 'aria-labelledby': 'apply-title' },
    heading,
    h(
      'p',
      { class: 'lead' },
      `Apply to join the ${programmeName()}. It takes about two minutes; every field is required.`,
    ),
    form,
    h('p', { class: 'aside' }, 'Already a partner? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
  heading.id = 'apply-title';

  const RECEIPT_STATUS = {
    unconfirmed: 'Waiting for your email confirmation',
    pending: 'Pending review',
    approved: 'Approved',
    rejected: 'Rejected',
    expired: 'Lapsed',
  };

  function showReceipt(receipt, sent) {
    const title = h('h1', { tabindex: '-1', id: 'receipt-title' }, 'Check your email to confirm');
    const panel = h(
      'section',
      { class: 'page page-narrow', 'aria-labelledby': 'receipt-title', 'data-testid': 'receipt' },
      title,
      h(
        'p',
        { class: 'lead' },
        `Thank you. We have received the application for ${sent.company_name}. We sent a confirmation link to ` +
          `${sent.contact_email}: open it and press “Confirm my application”. Only confirmed applications are ` +
          'reviewed. Keep the application ID for reference.',
      ),
      h(
        'dl',
        { class: 'summary' },
        h('dt', {}, 'Application ID'),
        h('dd', {}, h('code', { 'data-testid': 'receipt-application-id' }, receipt.application_id)),
        h('dt', {}, 'Submitted'),
        h('dd', {}, timeEl(receipt.submitted_at, { testid: 'receipt-submitted-at' })),
        h('dt', {}, 'Domain'),
        h('dd', { 'data-testid': 'receipt-domain' }, receipt.domain),
        h('dt', {}, 'Status'),
        h('dd', { 'data-testid': 'receipt-status' }, RECEIPT_STATUS[receipt.status] || receipt.status),
        ...(receipt.status === 'unconfirmed' && receipt.confirm_by
          ? [h('dt', {}, 'Confirm by'), h('dd', {}, timeEl(receipt.confirm_by, { testid: 'receipt-confirm-by' }))]
          : []),
      ),
      h('h2', {}, 'What happens next'),
      h(
        'ol',
        { class: 'steps' },
        h('li', {}, `Confirm your email address with the link we sent to ${sent.contact_email}.`),
        h('li', {}, 'Our partner team then reviews your application, usually within five business days.'),
        h('li', {}, `We email the decision to ${sent.contact_email}.`),
        h(
          'li',
          {},
          'If you are approved, that email contains a temporary password for this portal. At your first sign-in ' +
            'you choose your own password and accept the partner programme agreement.',
        ),
      ),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button', href: '#/signin' }, 'Go to sign in'),
        h(
          'button',
          {
            type: 'button',
            class: 'button button-link',
            onclick: () => {
              keeper.reset();
              ctx.rerender();
            },
          },
          'Submit another application',
        ),
      ),
    );
    section.replaceWith(panel);
    announce('Application received. Check your email to confirm it.');
    title.focus();
  }

  ctx.main.append(section);
}
