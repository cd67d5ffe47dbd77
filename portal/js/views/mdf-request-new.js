// #/mdf/requests/new: ask for funds for a marketing activity (period, activity, dates, amount, expected outcome),
// checked against the chosen fund's available balance. The same form revises a rejected or expired request.
import { api } from '../api.js';
import { dateish, errorPanel, h } from '../dom.js';
import {
  LIMITS,
  bindForm,
  charCounter,
  field,
  formAlert,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  parseCount,
  required,
  sendForm,
  today,
} from '../forms.js';
import { amountError, amountPreview, moneyOf, moneyText, moneyToInput } from '../money.js';
import { subPage } from '../record.js';
import { MDF_ACTIVITY_TYPES } from '../reference.js';
import { periodLabel } from './mdf.js';

const TITLE_MAX = 120;
const LEAD_DAYS_DEFAULT = 10; // MdfRequestLeadDays' default, when the API does not say (it enforces its own value)

// API field path -> control id (the longest matching prefix wins).
const FIELD_MAP = {
  period_id: 'period_id',
  activity_type: 'activity_type',
  title: 'title',
  description: 'description',
  starts_on: 'starts_on',
  ends_on: 'ends_on',
  requested: 'requested_amount',
  'requested.amount_minor': 'requested_amount',
  'requested.currency': 'requested_currency',
  expected_outcome: 'expected_leads',
  'expected_outcome.leads': 'expected_leads',
  'expected_outcome.pipeline_value': 'pipeline_amount',
};

export async function renderNewMdfRequest(ctx) {
  const { body } = subPage(ctx, {
    id: 'mdf-request-new-title',
    title: 'Request funds',
    back: ['#/mdf/requests', 'All fund requests'],
    lead:
      'Describe the marketing activity and what you need. The channel team reviews the request; once approved, ' +
      'the amount is reserved for you.',
    loadingText: 'Loading your funds and the programme periods…',
    narrow: true,
  });

  let options;
  try {
    options = await loadRequestOptions();
  } catch (error) {
    if (!ctx.handleAuthErrors(error) && ctx.isCurrent()) {
      body.replaceChildren(errorPanel(`We could not load your funds. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!options.periods.length) {
    body.replaceChildren(
      h(
        'div',
        { class: 'empty-state', 'data-testid': 'no-open-periods' },
        h('p', {}, 'No programme period is open for requests right now.'),
        h('a', { class: 'button', href: '#/mdf' }, 'See your funds'),
      ),
    );
    return;
  }
  body.replaceChildren(
    requestForm(ctx, {
      ...options,
      submitLabel: 'Submit request',
      busyLabel: 'Submitting…',
      send: (sent, key) => api.post('/mdf/requests', sent, { idempotencyKey: key }),
      onSaved: (request) => {
        ctx.setFlash('Your request was submitted. The channel team reviews it; the decision appears here.');
        ctx.go(`/mdf/requests/${request.request_id}`);
      },
    }),
  );
}

/** Open periods (that have not ended) and the partner's funds: what a request form offers. */
export async function loadRequestOptions() {
  const [periodData, fundData] = await Promise.all([api.get('/mdf/periods'), api.get('/mdf/funds')]);
  const day = today({ utc: true });
  const periods = (Array.isArray(periodData?.items) ? periodData.items : []).filter(
    (p) => p.status === 'open' && (!p.ends_on || p.ends_on >= day),
  );
  const funds = Array.isArray(fundData?.items) ? fundData.items : [];
  const leadDays = Number.isInteger(periodData?.request_lead_days) ? periodData.request_lead_days : LEAD_DAYS_DEFAULT;
  return { periods, funds, leadDays };
}

/**
 * The request form. `initial` (a Request) prefills it for a revision; `send(bodyText, idempotencyKey)` posts it and
 * resolves to the saved Request, handed to `onSaved`. Errors stay on the form.
 */
export function requestForm(
  ctx,
  { periods, funds, leadDays = LEAD_DAYS_DEFAULT, initial = null, submitLabel, busyLabel, send, onSaved },
) {
  const keeper = idempotencyKeeper();
  const periodById = new Map(periods.map((p) => [p.period_id, p]));
  const openFunds = (periodId) => funds.filter((f) => f.period_id === periodId && f.status !== 'closed');
  const fundFor = (periodId, currency) => openFunds(periodId).find((f) => f.currency === currency) || null;

  const periodDates = h('p', { class: 'hint', id: 'period-dates', 'data-testid': 'period-dates' });
  const available = h('p', {
    class: 'available-balance',
    id: 'available-balance',
    role: 'status',
    'data-testid': 'available-balance',
  });
  const preview = h('p', { class: 'hint money-preview', id: 'requested-preview', 'data-testid': 'requested-preview' });
  const counter = charCounter(LIMITS.description, { 'data-testid': 'description-count' });
  const pipelineCurrency = h('span', { class: 'input-suffix', 'data-testid': 'pipeline-currency' });

  const validators = {
    period_id: (v) => {
      if (!v) return 'Choose a programme period.';
      return openFunds(v).length ? '' : 'Your organisation has no open funds in this period.';
    },
    activity_type: (v) => required(v, 'Choose the type of activity.'),
    title: (v) => required(v, 'Enter a title for the activity.') || maxLength(v, TITLE_MAX, 'Title'),
    description: (v) =>
      required(v, 'Describe the activity: audience, channel and what you will do.') ||
      maxLength(v, LIMITS.description, 'Description'),
    starts_on: (v, form) => {
      if (!v) return 'Enter the date the activity starts.';
      if (!isIsoDate(v)) return 'Enter a date such as 2027-03-31.';
      if (v < today({ utc: true })) return 'The activity cannot start in the past.';
      return insidePeriod(v, periodById.get(form.elements.period_id.value));
    },
    ends_on: (v, form) => {
      if (!v) return 'Enter the date the activity ends.';
      if (!isIsoDate(v)) return 'Enter a date such as 2027-03-31.';
      const starts = form.elements.starts_on.value;
      if (isIsoDate(starts) && v < starts) return 'The activity cannot end before it starts.';
      return insidePeriod(v, periodById.get(form.elements.period_id.value));
    },
    requested_amount: (v, form) => {
      const currency = form.elements.requested_currency.value;
      if (!currency)
        return String(v).trim() === '' ? 'Enter the amount you need.' : 'Choose a period with funds first.';
      const fund = fundFor(form.elements.period_id.value, currency);
      const left = Number(fund?.available?.amount_minor ?? 0);
      return amountError(v, currency, {
        empty: 'Enter the amount you need.',
        positive: true,
        max: left,
        over: `This is more than the ${moneyText({ amount_minor: left, currency })} available in this fund.`,
      });
    },
    requested_currency: (v) => required(v, 'Choose the currency of the fund.'),
    expected_leads: (v) => {
      const result = parseCount(v, { max: 10_000_000, what: 'the number of leads you expect' });
      return result.ok ? '' : result.error;
    },
    pipeline_amount: (v, form) => {
      const currency = form.elements.requested_currency.value;
      return currency ? amountError(v, currency, { empty: 'Enter the pipeline value you expect (0 if none).' }) : '';
    },
  };

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'mdf-request-form', 'aria-label': submitLabel },
    formAlert(),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Activity'),
      field({
        id: 'period_id',
        label: 'Programme period',
        control: 'select',
        placeholder: 'Choose a period…',
        options: periods.map((p) => [p.period_id, periodLabel(p)]),
        attrs: { 'aria-describedby': 'period-dates period_id-error' },
      }),
      periodDates,
      field({
        id: 'activity_type',
        label: 'Type of activity',
        control: 'select',
        placeholder: 'Choose a type…',
        options: MDF_ACTIVITY_TYPES,
      }),
      field({ id: 'title', label: 'Title', hint: `Up to ${TITLE_MAX} characters.`, attrs: { autocomplete: 'off' } }),
      field({
        id: 'description',
        label: 'Description',
        control: 'textarea',
        hint: 'Who the activity targets, the channels, and how the funds will be spent.',
        attrs: { rows: 5 },
      }),
      counter.el,
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'starts_on',
          label: 'Starts on',
          type: 'date',
          hint: leadDays
            ? `Inside the period, at least ${leadDays} day${leadDays === 1 ? '' : 's'} from today (time for the review).`
            : 'Inside the period.',
        }),
        field({ id: 'ends_on', label: 'Ends on', type: 'date', hint: 'On or after the start, inside the period.' }),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Funding'),
      h(
        'div',
        { class: 'money-row' },
        field({
          id: 'requested_amount',
          label: 'Amount requested',
          attrs: {
            inputmode: 'decimal',
            autocomplete: 'off',
            'aria-describedby': 'requested_amount-error available-balance requested-preview',
          },
        }),
        field({ id: 'requested_currency', label: 'Currency', control: 'select', options: [] }),
      ),
      preview,
      available,
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Expected outcome'),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'expected_leads',
          label: 'Leads',
          hint: 'New leads you expect.',
          attrs: { inputmode: 'numeric', autocomplete: 'off' },
        }),
        field({
          id: 'pipeline_amount',
          label: 'Pipeline value',
          hint: 'In the currency of the request.',
          attrs: { inputmode: 'decimal', autocomplete: 'off' },
          after: pipelineCurrency,
        }),
      ),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, submitLabel)),
  );
  const els = form.elements;

  function refreshPeriod() {
    const period = periodById.get(els.period_id.value);
    periodDates.replaceChildren(
      ...(period
        ? [
            'Runs ',
            dateish(period.starts_on),
            ' – ',
            dateish(period.ends_on),
            '. Claims close ',
            dateish(period.claim_window_ends_at),
            '.',
          ]
        : ['Funds are granted per programme period.']),
    );
    for (const id of ['starts_on', 'ends_on']) {
      els[id].min = period?.starts_on || '';
      els[id].max = period?.ends_on || '';
    }
    const currencies = period ? openFunds(period.period_id).map((f) => f.currency) : [];
    const previous = els.requested_currency.value;
    els.requested_currency.replaceChildren(
      ...(currencies.length
        ? currencies.map((code) => h('option', { value: code }, code))
        : [h('option', { value: '' }, period ? 'No funds in this period' : 'Choose a period first')]),
    );
    if (currencies.includes(previous)) els.requested_currency.value = previous;
    refreshMoney();
  }

  function refreshMoney() {
    const currency = els.requested_currency.value;
    const fund = fundFor(els.period_id.value, currency);
    pipelineCurrency.textContent = currency;
    available.replaceChildren(
      ...(fund
        ? [
            'Available in this fund: ',
            h('strong', { 'data-testid': 'available-amount' }, moneyText(fund.available)),
            fund.reserved && Number(fund.reserved.amount_minor) > 0
              ? h('span', { class: 'muted' }, ` (${moneyText(fund.reserved)} already reserved)`)
              : '',
          ]
        : []),
    );
    available.dataset.availableMinor = fund ? String(fund.available?.amount_minor ?? 0) : '';
    available.hidden = !fund;
    preview.textContent = amountPreview(els.requested_amount.value, currency);
  }

  const updateCounter = () => counter.update(els.description.value);

  if (initial) prefill(els, initial, periodById);
  refreshPeriod();
  if (
    initial?.requested?.currency &&
    [...els.requested_currency.options].some((o) => o.value === initial.requested.currency)
  ) {
    els.requested_currency.value = initial.requested.currency;
  }
  refreshMoney();
  updateCounter();
  form.addEventListener('change', (event) => {
    if (event.target.id === 'period_id') refreshPeriod();
    else refreshMoney();
  });
  form.addEventListener('input', () => {
    refreshMoney();
    updateCounter();
  });

  const controller = bindForm(form, {
    validators,
    dependents: {
      period_id: ['starts_on', 'ends_on', 'requested_amount', 'requested_currency', 'pipeline_amount'],
      starts_on: ['ends_on'],
      requested_currency: ['requested_amount', 'pipeline_amount'],
    },
    busyLabel,
    onSubmit: async () => {
      const currency = els.requested_currency.value;
      const sent = {
        period_id: els.period_id.value,
        activity_type: els.activity_type.value,
        title: els.title.value.trim(),
        description: els.description.value.trim(),
        starts_on: els.starts_on.value,
        ends_on: els.ends_on.value,
        requested: moneyOf(els.requested_amount.value, currency),
        expected_outcome: {
          leads: parseCount(els.expected_leads.value).value,
          pipeline_value: moneyOf(els.pipeline_amount.value, currency),
        },
      };
      await sendForm(ctx, form, controller, {
        keeper,
        body: sent,
        send,
        done: onSaved,
        fieldMap: FIELD_MAP,
        onError: (error) => {
          if (error.fieldErrors?.length || error.code !== 'insufficient_funds') return false;
          controller.showFieldError('requested_amount', error.message);
          return true;
        },
        reload: 'Reload',
        retry: `Your answers are kept: select “${submitLabel}” again to retry.`,
        fallback: 'The request was not accepted.',
      });
    },
  });
  return form;
}

function insidePeriod(day, period) {
  if (!period) return '';
  if (period.starts_on && day < period.starts_on)
    return `The period starts on ${period.starts_on}; choose a date inside it.`;
  if (period.ends_on && day > period.ends_on) return `The period ends on ${period.ends_on}; choose a date inside it.`;
  return '';
}

function prefill(els, request, periodById) {
  if (periodById.has(request.period_id)) els.period_id.value = request.period_id;
  if (request.activity_type) els.activity_type.value = request.activity_type;
  els.title.value = request.title || '';
  els.description.value = request.description || '';
  els.starts_on.value = request.starts_on || '';
  els.ends_on.value = request.ends_on || '';
  if (request.requested) els.requested_amount.value = moneyToInput(request.requested);
  const outcome = request.expected_outcome || {};
  if (outcome.leads !== undefined && outcome.leads !== null) els.expected_leads.value = String(outcome.leads);
  if (outcome.pipeline_value) els.pipeline_amount.value = moneyToInput(outcome.pipeline_value);
}
