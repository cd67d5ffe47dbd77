// #/deals/new: register a deal (prospect, products, value, close date), check the prospect's availability,
// then show the receipt with the normalised prospect key the registration is judged on.
import { api } from '../api.js';
import { announce, errorPanel, h, timeEl } from '../dom.js';
import {
  LIMITS,
  addDays,
  bindForm,
  charCount,
  charCounter,
  checkboxGroup,
  field,
  formAlert,
  idempotencyKeeper,
  isEmail,
  isIsoDate,
  maxLength,
  required,
  sendForm,
  today,
  websiteHost,
} from '../forms.js';
import { amountError, amountPreview, moneyOf } from '../money.js';
import { subPage } from '../record.js';
import { COUNTRIES, CURRENCIES } from '../reference.js';
import { dealHref } from './deals.js';

const MAX_PRODUCTS = 20;
const TITLE_LIMIT = 120; // the API's limit for the contact's job title

// API field path -> control id (the longest matching prefix wins: `products.0` -> the products group).
const FIELD_MAP = {
  'prospect.company_name': 'prospect_company_name',
  'prospect.website': 'prospect_website',
  'prospect.domain': 'prospect_website',
  'prospect.country': 'prospect_country',
  'prospect.contact.name': 'contact_name',
  'prospect.contact.email': 'contact_email',
  'prospect.contact.title': 'contact_title',
  products: 'products',
  estimated_value: 'value_amount',
  'estimated_value.amount_minor': 'value_amount',
  'estimated_value.currency': 'value_currency',
  expected_close_date: 'expected_close_date',
  description: 'description',
};

/** The first day the API accepts as "in the future", whichever side of UTC midnight the reader is on. */
function firstFutureDay() {
  const utc = today({ utc: true });
  const local = today({ utc: false });
  return addDays(utc > local ? utc : local, 1);
}

const VALIDATORS = {
  prospect_company_name: (v) =>
    required(v, 'Enter the prospect’s company name.') || maxLength(v, LIMITS.companyName, 'Company name'),
  prospect_website: (v) =>
    required(v, 'Enter the prospect’s website or domain.') ||
    maxLength(v, LIMITS.website, 'Website') ||
    (websiteHost(v) ? '' : 'Enter a website such as https://www.example.com or a domain such as example.com.'),
  prospect_country: (v) => required(v, 'Choose the prospect’s country.'),
  contact_name: (v) => required(v, 'Enter the contact’s full name.') || maxLength(v, LIMITS.personName, 'Name'),
  contact_email: (v) =>
    required(v, 'Enter the contact’s email address.') ||
    maxLength(v, LIMITS.email, 'Email address') ||
    (isEmail(v) ? '' : 'Enter an email address such as name@example.com.'),
  contact_title: (v) => maxLength(v, TITLE_LIMIT, 'Job title'),
  products: (_v, form) => {
    const n = form.querySelectorAll('input[name=products]:checked').length;
    if (!n) return 'Choose at least one product.';
    return n > MAX_PRODUCTS ? `Choose at most ${MAX_PRODUCTS} products (now ${n}).` : '';
  },
  value_amount: (v, form) =>
    amountError(v, form.elements.value_currency.value, { empty: 'Enter the estimated deal value.' }),
  value_currency: (v) => required(v, 'Choose a currency.'),
  expected_close_date: (v) => {
    if (!v) return 'Enter the expected close date.';
    if (!isIsoDate(v)) return 'Enter a date such as 2027-03-31.';
    return v < firstFutureDay() ? 'The expected close date must be in the future.' : '';
  },
  description: (v) => maxLength(v, LIMITS.description, 'Description'),
};

export async function renderNewDeal(ctx) {
  const { section, body } = subPage(ctx, {
    id: 'deal-new-title',
    title: 'Register a deal',
    back: ['#/deals', 'All deals'],
    lead: 'Tell us about the opportunity. Once approved, the prospect is protected for your organisation.',
    loadingText: 'Loading the product list…',
    narrow: true,
  });

  let products;
  try {
    const data = await api.get('/products');
    products = Array.isArray(data?.items) ? data.items : [];
  } catch (error) {
    if (!ctx.handleAuthErrors(error) && ctx.isCurrent()) {
      body.replaceChildren(errorPanel(`We could not load the product list. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  body.replaceChildren(registrationForm(ctx, section, products));
}

function registrationForm(ctx, section, products) {
  const keeper = idempotencyKeeper();
  const VALUE_HINT = 'For example 120000 or 120000.00.';
  // Shows how to write the amount until it reads as money, then the amount as it will be registered.
  const preview = h('p', { class: 'hint money-preview', id: 'value-preview', 'data-testid': 'value-preview' }, VALUE_HINT);
  const counter = charCounter(LIMITS.description, { id: 'description-count', 'data-testid': 'description-count' });
  const availability = h('p', {
    class: 'availability',
    id: 'availability',
    role: 'status',
    'data-testid': 'availability',
    hidden: true,
  });
  const checkButton = h(
    'button',
    { type: 'button', class: 'button button-small', 'data-testid': 'check-availability' },
    'Check availability',
  );
  const minDate = firstFutureDay();

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'deal-form', 'aria-labelledby': 'deal-new-title' },
    formAlert(),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Prospect'),
      field({ id: 'prospect_company_name', label: 'Company name', attrs: { autocomplete: 'off', maxlength: 400 } }),
      field({
        id: 'prospect_website',
        label: 'Website or domain',
        hint: 'For example https://www.example.com or example.com.',
        attrs: { autocomplete: 'off', inputmode: 'url', spellcheck: 'false', autocapitalize: 'none' },
      }),
      h('div', { class: 'availability-row' }, checkButton, availability),
      field({
        id: 'prospect_country',
        label: 'Country',
        control: 'select',
        placeholder: 'Choose a country…',
        options: COUNTRIES.map(([code, name]) => [code, `${name} (${code})`]),
      }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Prospect contact'),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: 'contact_name', label: 'Full name', attrs: { autocomplete: 'off', maxlength: 240 } }),
        field({ id: 'contact_title', label: 'Job title', optional: true, attrs: { autocomplete: 'off', maxlength: 240 } }),
      ),
      field({
        id: 'contact_email',
        label: 'Work email',
        type: 'email',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
      }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Opportunity'),
      products.length
        ? checkboxGroup({
            id: 'products',
            legend: 'Products',
            hint: `Choose the products in this deal (1 to ${MAX_PRODUCTS}).`,
            options: products.map((p) => [p.sku, `${p.name} (${p.sku})`, p.family || 'Other']),
            attrs: { 'data-testid': 'products' },
          })
        : h(
            'div',
            { class: 'field', id: 'products', 'data-testid': 'products' },
            h('p', { class: 'notice' }, 'No products are open for registration yet. Please contact your channel manager.'),
            h('p', { class: 'field-error', id: 'products-error', 'data-testid': 'products-error', hidden: true }),
          ),
      h(
        'div',
        { class: 'money-row' },
        field({
          id: 'value_amount',
          label: 'Estimated value',
          attrs: { inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'value_amount-error value-preview' },
        }),
        field({
          id: 'value_currency',
          label: 'Currency',
          control: 'select',
          options: CURRENCIES.map(([code, name]) => [code, `${code} – ${name}`]),
        }),
      ),
      preview,
      field({
        id: 'expected_close_date',
        label: 'Expected close date',
        type: 'date',
        hint: 'A date in the future.',
        attrs: { min: minDate },
      }),
      field({
        id: 'description',
        label: 'Description',
        control: 'textarea',
        optional: true,
        hint: 'What the customer needs, the scope and where the opportunity stands.',
        attrs: { rows: 5, 'aria-describedby': 'description-hint description-error description-count' },
      }),
      counter.el,
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Register deal')),
  );

  const updatePreview = () => {
    preview.textContent = amountPreview(form.elements.value_amount.value, form.elements.value_currency.value, VALUE_HINT);
  };
  const updateCounter = () => counter.update(form.elements.description.value);
  form.addEventListener('input', (event) => {
    updatePreview();
    updateCounter();
    if (['prospect_company_name', 'prospect_website'].includes(event.target.id)) availabilityCheck.stale();
  });
  form.addEventListener('change', updatePreview);
  updateCounter();

  const availabilityCheck = prospectChecker(form, availability, checkButton, ctx);
  checkButton.addEventListener('click', () => availabilityCheck.run({ explicit: true }));
  for (const id of ['prospect_company_name', 'prospect_website']) {
    form.elements[id].addEventListener('blur', () => availabilityCheck.run({ explicit: false }));
  }

  const controller = bindForm(form, {
    validators: VALIDATORS,
    dependents: { value_currency: ['value_amount'] },
    busyLabel: 'Registering…',
    onSubmit: async () => {
      const values = form.elements;
      const title = values.contact_title.value.trim();
      const sent = {
        prospect: {
          company_name: values.prospect_company_name.value.trim(),
          website: values.prospect_website.value.trim(),
          country: values.prospect_country.value,
          contact: {
            name: values.contact_name.value.trim(),
            email: values.contact_email.value.trim(),
            ...(title ? { title } : {}),
          },
        },
        products: [...form.querySelectorAll('input[name=products]:checked')].map((box) => box.value),
        estimated_value: moneyOf(values.value_amount.value, values.value_currency.value),
        expected_close_date: values.expected_close_date.value,
        description: values.description.value.trim(),
      };
      await sendForm(ctx, form, controller, {
        keeper,
        body: sent,
        send: (text, idempotencyKey) => api.post('/deals', text, { idempotencyKey }),
        done: (receipt) => showReceipt(ctx, section, receipt, sent, keeper),
        fieldMap: FIELD_MAP,
        onError: (error) => {
          if (error.code === 'duplicate_registration') {
            controller.showServerErrors(
              {
                ...error,
                fieldErrors: error.fieldErrors?.length
                  ? error.fieldErrors
                  : [{ field: 'prospect.website', message: error.message }],
              },
              FIELD_MAP,
              { summary: 'Your organisation already has a pending or approved registration for this prospect.' },
            );
            return true;
          }
          if (error.code === 'partner_inactive') {
            controller.showAlert(
              'Your organisation cannot register deals yet: it is not an active partner. Please contact your channel manager.',
            );
            return true;
          }
          return false;
        },
        retry: 'Your answers are kept: select “Register deal” again to retry.',
        fallback: 'The registration was not accepted.',
      });
    },
  });
  return form;
}

/**
 * GET /deals/prospect-check for the typed website and/or company name. Shows only "Available" or "Already
 * protected until <date>"; repeated checks of the same prospect reuse the answer, and a late answer for an
 * older input is dropped.
 */
function prospectChecker(form, output, button, ctx) {
  let lastQuery = '';
  let lastResult = null;
  let inflight = null;
  let seq = 0;

  function show(nodes, tone) {
    output.replaceChildren(...[nodes].flat());
    output.dataset.state = tone;
    output.hidden = !tone;
  }

  function query() {
    const params = new URLSearchParams();
    const host = websiteHost(form.elements.prospect_website.value);
    const company = form.elements.prospect_company_name.value.trim();
    if (host) params.set('domain', host);
    if (company && charCount(company) <= LIMITS.companyName) params.set('company_name', company);
    return params.toString();
  }

  function render(result) {
    if (result?.status === 'available') {
      show('Available', 'available');
    } else if (result?.status === 'protected') {
      show(
        [
          'Already protected until ',
          result.protected_until ? timeEl(result.protected_until, { dateOnly: true, testid: 'protected-until' }) : '—',
        ],
        'protected',
      );
    } else {
      show('Availability could not be checked.', 'error');
    }
  }

  return {
    /** The typed prospect changed: an earlier answer no longer applies. */
    stale() {
      if (query() !== lastQuery) show([], '');
    },
    async run({ explicit }) {
      const q = query();
      if (!q) {
        if (explicit) show('Enter the prospect’s website or company name first.', 'error');
        return;
      }
      if (q === lastQuery && (inflight || lastResult)) {
        if (lastResult) render(lastResult);
        return;
      }
      const mine = ++seq;
      lastQuery = q;
      lastResult = null;
      button.disabled = true;
      show('Checking…', 'checking');
      inflight = api.get(`/deals/prospect-check?${q}`);
      let result;
      try {
        result = await inflight;
      } catch (error) {
        if (mine !== seq) return;
        inflight = null;
        lastQuery = '';
        button.disabled = false;
        if (ctx.handleAuthErrors(error)) return;
        show(`Availability could not be checked. ${error.isNetwork ? error.message : ''}`.trim(), 'error');
        return;
      }
      if (mine !== seq) return;
      inflight = null;
      button.disabled = false;
      if (!form.isConnected) return;
      if (query() !== q) return; // the fields changed while we waited
      lastResult = result;
      render(result);
    },
  };
}

function showReceipt(ctx, section, receipt, sent, keeper) {
  const title = h('h1', { tabindex: '-1', id: 'deal-receipt-title' }, 'Deal registered');
  const key = receipt.prospect_key || {};
  const panel = h(
    'section',
    { class: 'page page-narrow', 'aria-labelledby': 'deal-receipt-title', 'data-testid': 'deal-receipt' },
    title,
    h(
      'p',
      { class: 'lead' },
      `We have received your registration for ${sent.prospect.company_name}. The channel team reviews it and ` +
        'you will find the decision on the deal’s page.',
    ),
    h(
      'dl',
      { class: 'summary card' },
      h('dt', {}, 'Deal ID'),
      h('dd', {}, h('code', { 'data-testid': 'deal-receipt-id' }, receipt.deal_id)),
      h('dt', {}, 'Submitted'),
      h('dd', {}, timeEl(receipt.submitted_at, { utc: true, testid: 'deal-receipt-submitted-at' })),
      h('dt', {}, 'Status'),
      h('dd', { 'data-testid': 'deal-receipt-status' }, receipt.status === 'submitted' ? 'Submitted for review' : receipt.status),
    ),
    h('h2', {}, 'Judged on this prospect key'),
    h(
      'p',
      { class: 'muted' },
      'Registrations are compared on the normalised domain and company name below, not on the exact spelling you typed.',
    ),
    h(
      'dl',
      { class: 'summary card' },
      h('dt', {}, 'Domain'),
      h('dd', {}, h('code', { 'data-testid': 'deal-receipt-domain' }, key.domain || '—')),
      h('dt', {}, 'Company'),
      h('dd', {}, h('code', { 'data-testid': 'deal-receipt-company' }, key.company || '—')),
    ),
    h(
      'div',
      { class: 'actions' },
      h('a', { class: 'button button-primary', href: dealHref(receipt.deal_id), 'data-testid': 'receipt-deal-link' }, 'View the deal'),
      h('a', { class: 'button', href: '#/deals', 'data-testid': 'receipt-deals-link' }, 'All deals'),
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
        'Register another deal',
      ),
    ),
  );
  section.replaceWith(panel);
  announce('Deal registered.');
  title.focus();
}
