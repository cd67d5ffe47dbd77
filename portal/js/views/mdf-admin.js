// #/admin/mdf (vendor admins): programme periods (create one, set its accrual rate), allocations of funds to a
// partner and corrections of a fund (credit or debit), with that partner's funds shown as they stand and, under
// them, its fund requests (read-only; each opens the request's page).
import { api, path } from '../api.js';
import { announce, dataTable, dateish, errorPanel, h, loading } from '../dom.js';
import {
  basisPointsToInput,
  bindForm,
  cardForm,
  field,
  formatBasisPoints,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  parsePercent,
  required,
  sendForm,
  today,
} from '../forms.js';
import { amountError, amountPreview, moneyOf, moneyText, signedMoney } from '../money.js';
import { statusList } from '../paging.js';
import { statusBadge } from '../record.js';
import { CURRENCIES, MDF_REQUEST_STATUSES, countryName } from '../reference.js';
import { fundCard, mdfRequestHref, periodLabel } from './mdf.js';
import { requestsTable } from './mdf-requests.js';

const PERIOD_ID = /^[A-Z0-9][A-Z0-9-]{1,23}$/; // as the API's PeriodId: it becomes part of each fund's id
const NAME_MAX = 80;
const NOTE_MAX = 500;
const PARTNER_PAGES_MAX = 20; // 20 pages of partners in the picker; beyond that the list says it is cut short

export async function renderMdfAdmin(ctx) {
  const heading = h('h1', { tabindex: '-1', id: 'mdf-admin-title' }, 'MDF administration');
  const body = h('div', {}, loading('Loading programme periods and partners…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'mdf-admin-title' },
      heading,
      h(
        'p',
        { class: 'lead' },
        'Programme periods, accrual rates, and partners’ market development funds: allocations and corrections.',
      ),
      body,
    ),
  );

  let periods;
  let partners;
  try {
    [periods, partners] = await Promise.all([loadPeriods(), loadPartners()]);
  } catch (error) {
    if (!ctx.handleAuthErrors(error) && ctx.isCurrent()) {
      body.replaceChildren(errorPanel(`We could not load the MDF programme. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;

  const wantedStatus = ctx.query.get('request_status');
  const state = {
    periods,
    partners: partners.items,
    shownFunds: null,
    partnerId: '',
    requestStatus: MDF_REQUEST_STATUSES.includes(wantedStatus) ? wantedStatus : '',
  };
  const periodsBox = h('div', {});
  const fundsBox = h('section', {
    class: 'partner-funds',
    'aria-labelledby': 'partner-funds-title',
    'data-testid': 'partner-funds',
  });
  const selects = []; // period selects to refresh when the list changes: [select, filter]
  const partnerSelects = []; // the forms' partner selects: all follow the partner whose funds are shown

  function drawPeriods() {
    periodsBox.replaceChildren(periodsTable(state.periods));
    for (const [select, filter] of selects) fillPeriodSelect(select, state.periods.filter(filter));
  }

  function upsertPeriod(period) {
    const i = state.periods.findIndex((p) => p.period_id === period.period_id);
    if (i === -1) state.periods = [period, ...state.periods];
    else state.periods = state.periods.map((p, n) => (n === i ? period : p));
    drawPeriods();
  }

  /** The partner shown and the requests' status filter, kept in the hash (`?partner=…&request_status=…`). */
  const saveQuery = () => ctx.setQuery({ partner: state.partnerId, request_status: state.requestStatus });
  const requests = partnerRequests(ctx, state, saveQuery);

  /** Show a partner's funds (again, after a change) and requests, with every partner select on that partner. */
  function choosePartner(partnerId) {
    for (const select of partnerSelects) select.value = partnerId;
    state.partnerId = partnerId;
    saveQuery();
    showPartnerFunds(ctx, fundsBox, state, partnerId);
    requests.show(partnerId);
  }

  const periodForm = createPeriodForm(ctx, state, upsertPeriod);
  const accrualForm = accrualRateForm(ctx, state, upsertPeriod, selects);
  const forms = { state, selects, partnerSelects, choosePartner };
  const allocation = allocationForm(ctx, forms);
  const adjustment = adjustmentForm(ctx, forms);

  body.replaceChildren(
    h(
      'section',
      { class: 'admin-block', 'aria-labelledby': 'periods-title' },
      h('h2', { id: 'periods-title' }, 'Programme periods'),
      periodsBox,
      h('div', { class: 'action-grid' }, periodForm, accrualForm),
    ),
    h(
      'section',
      { class: 'admin-block', 'aria-labelledby': 'allocation-title' },
      h('h2', { id: 'allocation-title' }, 'Allocate funds to a partner'),
      partners.truncated
        ? h('p', { class: 'notice', 'data-testid': 'partners-truncated' }, 'Only the first partners are listed.')
        : null,
      h(
        'div',
        { class: 'record-layout admin-allocation' },
        h('div', { class: 'admin-forms' }, allocation, adjustment),
        fundsBox,
      ),
    ),
    requests.section,
  );
  drawPeriods();
  const wanted = ctx.query.get('partner');
  if (wanted && state.partners.some((p) => p.partner_id === wanted)) {
    choosePartner(wanted);
  } else {
    showPartnerFunds(ctx, fundsBox, state, '');
    requests.show('');
  }
}

async function loadPeriods() {
  const data = await api.get('/mdf/periods');
  return Array.isArray(data?.items) ? data.items : [];
}

async function loadPartners() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < PARTNER_PAGES_MAX; page += 1) {
    const params = new URLSearchParams();
    if (cursor) params.set('cursor', cursor);
    const query = params.toString();
    const data = await api.get(`/mdf/partners${query ? `?${query}` : ''}`);
    items.push(...(Array.isArray(data?.items) ? data.items : []));
    cursor = data?.next_cursor || null;
    if (!cursor) return { items: sortPartners(items), truncated: false };
  }
  return { items: sortPartners(items), truncated: true };
}

function sortPartners(items) {
  return [...items].sort((a, b) => String(a.company_name || '').localeCompare(String(b.company_name || '')));
}

function fillPeriodSelect(select, periods) {
  const previous = select.value;
  select.replaceChildren(
    h('option', { value: '' }, periods.length ? 'Choose a period…' : 'No periods yet'),
    ...periods.map((p) => h('option', { value: p.period_id }, periodLabel(p))),
  );
  if (periods.some((p) => p.period_id === previous)) select.value = previous;
}

function periodsTable(periods) {
  if (!periods.length) {
    return h(
      'p',
      { class: 'empty', 'data-testid': 'periods-empty' },
      'No programme periods yet. Create the first one below.',
    );
  }
  return dataTable({
    testid: 'periods-table',
    captionId: 'periods-caption',
    caption: `Programme periods (${periods.length})`,
    columns: ['Period', 'Runs', 'Claim window ends', 'Accrual rate', 'Status'],
    rows: periods.map((p) =>
      h(
        'tr',
        { 'data-testid': 'period-row', 'data-period-id': p.period_id },
        h(
          'td',
          { 'data-label': 'Period', 'data-testid': 'period-name' },
          h('span', { class: 'strong block' }, p.name || p.period_id),
          h('code', { class: 'small' }, p.period_id),
        ),
        h('td', { 'data-label': 'Runs', 'data-testid': 'period-dates' }, dateish(p.starts_on), ' – ', dateish(p.ends_on)),
        h(
          'td',
          { 'data-label': 'Claim window ends', 'data-testid': 'period-claim-window' },
          dateish(p.claim_window_ends_at),
        ),
        h('td', { 'data-label': 'Accrual rate', 'data-testid': 'period-rate' }, formatBasisPoints(p.accrual_rate_bp)),
        h('td', { 'data-label': 'Status' }, statusBadge(p.status || 'open', 'period-status')),
      ),
    ),
  });
}

/**
 * POST an admin form (see sendForm); a 409 without field errors is shown on `conflictField`. On success the form's
 * `[data-testid=admin-result]` shows what `done(answer)` returns.
 */
function submitAdmin(ctx, form, controller, keeper, { url, body, fieldMap, conflictField, done, button }) {
  return sendForm(ctx, form, controller, {
    keeper,
    body,
    send: (text, idempotencyKey) => api.post(url, text, { idempotencyKey }),
    done: (answer) => {
      keeper.reset();
      const message = done(answer);
      const result = form.querySelector('[data-testid=admin-result]');
      result.textContent = message;
      result.hidden = false;
      announce(message);
    },
    fieldMap,
    onError: (error) => {
      if (error.fieldErrors?.length || error.status !== 409 || !conflictField) return false;
      controller.showFieldError(conflictField, error.message);
      return true;
    },
    retry: `Select “${button}” again to retry.`,
    fallback: 'The change was not accepted.',
  });
}

function resultSlot(testid) {
  return h('p', {
    class: 'notice notice-ok',
    role: 'status',
    'data-testid': 'admin-result',
    'data-result': testid,
    hidden: true,
  });
}

function clearResult(form) {
  const result = form.querySelector('[data-testid=admin-result]');
  if (result) result.hidden = true;
}

// ------------------------------------------------------------------ periods

function createPeriodForm(ctx, state, upsertPeriod) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'period-form',
    title: 'Create a period',
    result: resultSlot('period'),
    fields: [
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'new_period_id',
          label: 'Period ID',
          hint: 'For example FY27-Q1.',
          attrs: { autocomplete: 'off', spellcheck: 'false' },
        }),
        field({ id: 'new_period_name', label: 'Name', hint: 'For example Q1 FY2027.', attrs: { autocomplete: 'off' } }),
      ),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: 'new_period_starts_on', label: 'Starts on', type: 'date' }),
        field({ id: 'new_period_ends_on', label: 'Ends on', type: 'date' }),
      ),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'new_period_claim_window',
          label: 'Claim window ends on',
          type: 'date',
          hint: 'After the period; at the end of that day (UTC) unused funds expire.',
        }),
        field({
          id: 'new_period_rate',
          label: 'Accrual rate (%)',
          hint: 'Of won deal value, e.g. 1.5.',
          attrs: { inputmode: 'decimal', autocomplete: 'off' },
        }),
      ),
    ],
    button: 'Create period',
    buttonTestid: 'create-period',
  });
  const els = form.elements;
  const controller = bindForm(form, {
    validators: {
      new_period_id: (v) => {
        const text = String(v).trim();
        if (!text) return 'Enter an ID for the period.';
        if (!PERIOD_ID.test(text)) return 'Use 2 to 24 capital letters, digits or “-”, for example FY27-Q1.';
        return state.periods.some((p) => p.period_id === text) ? 'A period with this ID exists.' : '';
      },
      new_period_name: (v) => required(v, 'Enter a name.') || maxLength(v, NAME_MAX, 'Name'),
      new_period_starts_on: (v) =>
        !v ? 'Enter the first day.' : isIsoDate(v) ? '' : 'Enter a date such as 2027-01-01.',
      new_period_ends_on: (v) => {
        if (!v) return 'Enter the last day.';
        if (!isIsoDate(v)) return 'Enter a date such as 2027-03-31.';
        const starts = els.new_period_starts_on.value;
        return isIsoDate(starts) && v < starts ? 'The period cannot end before it starts.' : '';
      },
      new_period_claim_window: (v) => {
        if (!v) return 'Enter the last day for claims.';
        if (!isIsoDate(v)) return 'Enter a date such as 2027-05-31.';
        const ends = els.new_period_ends_on.value;
        if (isIsoDate(ends) && v <= ends) return 'The claim window must end after the period.';
        return v < today({ utc: true }) ? 'The claim window must end in the future.' : '';
      },
      new_period_rate: (v) => parsePercent(v).error ?? '',
    },
    dependents: { new_period_starts_on: ['new_period_ends_on'], new_period_ends_on: ['new_period_claim_window'] },
    busyLabel: 'Creating…',
    onSubmit: () =>
      submitAdmin(ctx, form, controller, keeper, {
        url: '/mdf/periods',
        button: 'Create period',
        body: {
          period_id: els.new_period_id.value.trim(),
          name: els.new_period_name.value.trim(),
          starts_on: els.new_period_starts_on.value,
          ends_on: els.new_period_ends_on.value,
          claim_window_ends_at: `${els.new_period_claim_window.value}T23:59:59Z`,
          accrual_rate_bp: parsePercent(els.new_period_rate.value).bp,
        },
        fieldMap: {
          period_id: 'new_period_id',
          name: 'new_period_name',
          starts_on: 'new_period_starts_on',
          ends_on: 'new_period_ends_on',
          claim_window_ends_at: 'new_period_claim_window',
          accrual_rate_bp: 'new_period_rate',
        },
        conflictField: 'new_period_id',
        done: (period) => {
          upsertPeriod(period);
          controller.reset();
          return `Period ${period.period_id} created.`;
        },
      }),
  });
  form.addEventListener('input', () => clearResult(form));
  return form;
}

function accrualRateForm(ctx, state, upsertPeriod, selects) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'accrual-form',
    title: 'Accrual rate',
    hint: h(
      'p',
      { class: 'hint' },
      'The share of a won deal’s value credited to the partner’s fund for the period of its close date.',
    ),
    result: resultSlot('accrual'),
    fields: [
      field({ id: 'accrual_period', label: 'Period', control: 'select', options: [] }),
      field({
        id: 'accrual_rate',
        label: 'Rate (%)',
        hint: 'Up to two decimals: 0.01 % is one basis point.',
        attrs: {
          inputmode: 'decimal',
          autocomplete: 'off',
          'aria-describedby': 'accrual_rate-hint accrual_rate-error accrual-preview',
        },
      }),
      h('p', { class: 'hint money-preview', id: 'accrual-preview', 'data-testid': 'accrual-preview' }),
    ],
    button: 'Set accrual rate',
    buttonTestid: 'set-accrual-rate',
    primary: false,
  });
  const els = form.elements;
  selects.push([els.accrual_period, (p) => p.status !== 'closed']);
  const preview = form.querySelector('[data-testid=accrual-preview]');
  const showPreview = () => {
    const parsed = parsePercent(els.accrual_rate.value);
    preview.textContent = parsed.ok ? `${parsed.bp} basis points` : '';
  };
  els.accrual_period.addEventListener('change', () => {
    const period = state.periods.find((p) => p.period_id === els.accrual_period.value);
    if (period) els.accrual_rate.value = basisPointsToInput(period.accrual_rate_bp ?? 0);
    showPreview();
  });
  form.addEventListener('input', () => {
    showPreview();
    clearResult(form);
  });
  const controller = bindForm(form, {
    validators: {
      accrual_period: (v) => required(v, 'Choose a period.'),
      accrual_rate: (v) => parsePercent(v).error ?? '',
    },
    busyLabel: 'Saving…',
    onSubmit: () =>
      submitAdmin(ctx, form, controller, keeper, {
        url: path`/mdf/periods/${els.accrual_period.value}/accrual`,
        button: 'Set accrual rate',
        body: { accrual_rate_bp: parsePercent(els.accrual_rate.value).bp },
        fieldMap: { accrual_rate_bp: 'accrual_rate', period_id: 'accrual_period' },
        done: (period) => {
          upsertPeriod(period);
          return `${period.name || period.period_id}: accrual rate ${formatBasisPoints(period.accrual_rate_bp)}.`;
        },
      }),
  });
  return form;
}

// ------------------------------------------------------------------ allocations and adjustments

/** A partner picker for a form; choosing one shows that partner's funds (and puts the other pickers on it). */
function partnerField(id, { state, partnerSelects, choosePartner }) {
  const wrapper = field({
    id,
    label: 'Partner',
    control: 'select',
    placeholder: state.partners.length ? 'Choose a partner…' : 'No partners yet',
    options: state.partners.map((p) => [
      p.partner_id,
      `${p.company_name || p.partner_id}${p.country ? ` (${countryName(p.country)})` : ''}`,
    ]),
  });
  const select = wrapper.querySelector('select');
  partnerSelects.push(select);
  select.addEventListener('change', () => choosePartner(select.value));
  return wrapper;
}

/** An open period picker (refilled when the periods change). */
function openPeriodField(id, selects) {
  const wrapper = field({ id, label: 'Period', control: 'select', options: [] });
  selects.push([wrapper.querySelector('select'), (p) => p.status !== 'closed']);
  return wrapper;
}

/** `<prefix>_amount` and `<prefix>_currency` side by side, and the amount's preview (`<prefix>-preview`). */
function moneyFields(prefix) {
  const preview = h('p', { class: 'hint money-preview', id: `${prefix}-preview`, 'data-testid': `${prefix}-preview` });
  return [
    h(
      'div',
      { class: 'money-row' },
      field({
        id: `${prefix}_amount`,
        label: 'Amount',
        attrs: {
          inputmode: 'decimal',
          autocomplete: 'off',
          'aria-describedby': `${prefix}_amount-error ${prefix}-preview`,
        },
      }),
      field({
        id: `${prefix}_currency`,
        label: 'Currency',
        control: 'select',
        options: CURRENCIES.map(([code]) => [code, code]),
      }),
    ),
    preview,
  ];
}

/** The field map of an allocation or adjustment form (`prefix`: the forms' control ids start with it). */
function fundFieldMap(prefix) {
  return {
    partner_id: `${prefix}_partner`,
    period_id: `${prefix}_period`,
    amount: `${prefix}_amount`,
    'amount.amount_minor': `${prefix}_amount`,
    'amount.currency': `${prefix}_currency`,
    note: `${prefix}_note`,
  };
}

function allocationForm(ctx, forms) {
  const { state, choosePartner } = forms;
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'allocation-form',
    labelledBy: 'allocation-title',
    result: resultSlot('allocation'),
    fields: [
      partnerField('allocation_partner', forms),
      openPeriodField('allocation_period', forms.selects),
      moneyFields('allocation'),
      field({
        id: 'allocation_note',
        label: 'Note',
        control: 'textarea',
        optional: true,
        hint: 'Why the partner gets these funds; shown in the fund’s history.',
        attrs: { rows: 2 },
      }),
    ],
    button: 'Allocate funds',
    buttonTestid: 'allocate-funds',
  });
  const els = form.elements;
  const preview = form.querySelector('[data-testid=allocation-preview]');
  const showPreview = () => {
    preview.textContent = amountPreview(els.allocation_amount.value, els.allocation_currency.value);
  };
  form.addEventListener('input', () => {
    showPreview();
    clearResult(form);
  });
  form.addEventListener('change', showPreview);

  const controller = bindForm(form, {
    validators: {
      allocation_partner: (v) => required(v, 'Choose a partner.'),
      allocation_period: (v) => required(v, 'Choose a period.'),
      allocation_amount: (v) =>
        amountError(v, els.allocation_currency.value, { empty: 'Enter the amount to allocate.', positive: true }),
      allocation_currency: (v) => required(v, 'Choose a currency.'),
      allocation_note: (v) => maxLength(v, NOTE_MAX, 'Note'),
    },
    dependents: { allocation_currency: ['allocation_amount'] },
    busyLabel: 'Allocating…',
    onSubmit: () => {
      const partner = state.partners.find((p) => p.partner_id === els.allocation_partner.value);
      const currency = els.allocation_currency.value;
      return submitAdmin(ctx, form, controller, keeper, {
        url: '/mdf/allocations',
        button: 'Allocate funds',
        body: {
          partner_id: els.allocation_partner.value,
          period_id: els.allocation_period.value,
          amount: moneyOf(els.allocation_amount.value, currency),
          note: els.allocation_note.value.trim(),
        },
        fieldMap: fundFieldMap('allocation'),
        done: ({ fund, entry }) => {
          els.allocation_amount.value = '';
          els.allocation_note.value = '';
          showPreview();
          choosePartner(els.allocation_partner.value);
          return `Allocated ${moneyText(entry?.amount)} to ${partner?.company_name || 'the partner'} for ${
            fund?.period_name || fund?.period_id || 'the period'
          }. Available now: ${moneyText(fund?.available)}.`;
        },
      });
    },
  });
  return form;
}

const DIRECTIONS = { credit: 1, debit: -1 };

/**
 * A vendor correction of a fund's available balance: a credit adds to it, a debit takes from it (never below zero;
 * the partner's funds, once shown, are checked here, the server checks again). The reason is required and is shown
 * in the fund's history.
 */
function adjustmentForm(ctx, forms) {
  const { state, choosePartner } = forms;
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'adjustment-form',
    title: 'Adjust a fund',
    hint: h(
      'p',
      { class: 'hint' },
      'Correct a partner’s available balance: credit adds to it, debit takes from it (never below zero).',
    ),
    result: resultSlot('adjustment'),
    fields: [
      partnerField('adjustment_partner', forms),
      openPeriodField('adjustment_period', forms.selects),
      field({
        id: 'adjustment_direction',
        label: 'Credit or debit',
        control: 'select',
        placeholder: 'Choose…',
        options: [
          ['credit', 'Credit: add to available'],
          ['debit', 'Debit: take from available'],
        ],
      }),
      moneyFields('adjustment'),
      field({
        id: 'adjustment_note',
        label: 'Reason',
        control: 'textarea',
        hint: 'Why the balance changes; shown to the partner in the fund’s history.',
        attrs: { rows: 2 },
      }),
    ],
    button: 'Adjust fund',
    buttonTestid: 'adjust-fund',
    primary: false,
  });
  const els = form.elements;
  const preview = form.querySelector('[data-testid=adjustment-preview]');
  const sign = () => DIRECTIONS[els.adjustment_direction.value] ?? 0;
  /** The chosen fund as last shown: null when the partner has no such fund, undefined while its funds are unknown. */
  const shownFund = () => {
    const shown = state.shownFunds;
    if (!shown || shown.partnerId !== els.adjustment_partner.value) return undefined;
    const fundId = `${els.adjustment_period.value}.${els.adjustment_currency.value}`;
    return shown.items.find((f) => f.fund_id === fundId) || null;
  };
  const showPreview = () => {
    const currency = els.adjustment_currency.value;
    const typed = els.adjustment_amount.value;
    preview.textContent =
      sign() && amountPreview(typed, currency)
        ? `${signedMoney(moneyOf(typed, currency), sign())} ${sign() < 0 ? 'from' : 'to'} the available balance`
        : amountPreview(typed, currency);
  };
  form.addEventListener('input', () => {
    showPreview();
    clearResult(form);
  });
  form.addEventListener('change', showPreview);

  const controller = bindForm(form, {
    validators: {
      adjustment_partner: (v) => required(v, 'Choose a partner.'),
      adjustment_period: (v) => required(v, 'Choose a period.'),
      adjustment_direction: (v) => required(v, 'Choose whether to credit or debit the fund.'),
      adjustment_amount: (v) => {
        const currency = els.adjustment_currency.value;
        const problem = amountError(v, currency, { empty: 'Enter the amount of the correction.', positive: true });
        const fund = sign() < 0 ? shownFund() : undefined;
        if (problem || fund === undefined) return problem;
        const available = Number(fund?.available?.amount_minor ?? 0);
        if (moneyOf(v, currency).amount_minor <= available) return '';
        return fund
          ? `At most the ${moneyText(fund.available)} available can be debited.`
          : 'This partner has no fund in this period and currency to debit.';
      },
      adjustment_currency: (v) => required(v, 'Choose a currency.'),
      adjustment_note: (v) =>
        required(v, 'Give the reason for the correction.') || maxLength(v, NOTE_MAX, 'Reason'),
    },
    dependents: {
      adjustment_partner: ['adjustment_amount'],
      adjustment_period: ['adjustment_amount'],
      adjustment_direction: ['adjustment_amount'],
      adjustment_currency: ['adjustment_amount'],
    },
    busyLabel: 'Adjusting…',
    onSubmit: () => {
      const partner = state.partners.find((p) => p.partner_id === els.adjustment_partner.value);
      const currency = els.adjustment_currency.value;
      const amount = moneyOf(els.adjustment_amount.value, currency);
      return submitAdmin(ctx, form, controller, keeper, {
        url: '/mdf/adjustments',
        button: 'Adjust fund',
        body: {
          partner_id: els.adjustment_partner.value,
          period_id: els.adjustment_period.value,
          amount: { ...amount, amount_minor: sign() * amount.amount_minor },
          note: els.adjustment_note.value.trim(),
        },
        fieldMap: fundFieldMap('adjustment'),
        conflictField: 'adjustment_period', // 409: the period has closed
        done: ({ fund, entry }) => {
          const minor = Number(entry?.amount?.amount_minor);
          const size = moneyText({ ...entry?.amount, amount_minor: Math.abs(minor) });
          els.adjustment_amount.value = '';
          els.adjustment_note.value = '';
          showPreview();
          choosePartner(els.adjustment_partner.value);
          return `${minor < 0 ? 'Debited' : 'Credited'} ${size} ${minor < 0 ? 'from' : 'to'} ${
            partner?.company_name || 'the partner'
          } for ${fund?.period_name || fund?.period_id || 'the period'}. Available now: ${moneyText(fund?.available)}.`;
        },
      });
    },
  });
  return form;
}

// ------------------------------------------------------------------ the partner's fund requests

/**
 * The chosen partner's fund requests (`GET /mdf/requests?partner_id=`), newest first, with the status filter and
 * "Load more" of the partner's own list; each links to the request's page, read-only for vendor staff. `show(id)`
 * loads another partner's (nothing when it is the one shown: an allocation does not change requests).
 */
function partnerRequests(ctx, state, saveQuery) {
  let shownId = null;
  const partnerName = () => {
    const partner = state.partners.find((p) => p.partner_id === shownId);
    return partner?.company_name || shownId;
  };
  const title = h('h2', { id: 'partner-requests-title' }, 'Fund requests');
  const hint = h(
    'p',
    { class: 'muted', 'data-testid': 'partner-requests-hint' },
    'Choose a partner to see its fund requests and claims.',
  );
  const list = statusList(ctx, {
    url: '/mdf/requests',
    limit: 20,
    statuses: MDF_REQUEST_STATUSES,
    idKey: 'request_id',
    rowAttr: 'data-request-id',
    noun: ['request', 'requests'],
    filterId: 'request_status_filter',
    filterTestid: 'request-status-filter',
    status: state.requestStatus,
    onStatus: (status) => {
      state.requestStatus = status;
      saveQuery();
    },
    query: () => ({ partner_id: shownId }),
    loadingText: 'Loading the partner’s fund requests…',
    failedText: 'We could not load the partner’s fund requests.',
    countTestid: 'partner-requests-count',
    emptyTestid: 'partner-requests-empty',
    table: (items) =>
      requestsTable(items, { href: (request) => mdfRequestHref(request.request_id, { partnerId: shownId }) }),
    empty: () => [h('p', {}, `${partnerName()} has not asked for funds yet.`)],
  });
  const listBox = h('div', { hidden: true }, list.nodes);
  const section = h(
    'section',
    { class: 'admin-block', 'aria-labelledby': 'partner-requests-title', 'data-testid': 'partner-requests' },
    title,
    hint,
    listBox,
  );
  return {
    section,
    show(partnerId) {
      if (partnerId && partnerId === shownId) return;
      shownId = partnerId || null;
      title.textContent = shownId ? `Fund requests of ${partnerName()}` : 'Fund requests';
      hint.hidden = Boolean(shownId);
      listBox.hidden = !shownId;
      if (shownId) list.load();
    },
  };
}

let fundsSeq = 0;

async function showPartnerFunds(ctx, box, state, partnerId) {
  const seq = ++fundsSeq;
  const partner = state.partners.find((p) => p.partner_id === partnerId);
  const title = h('h3', { id: 'partner-funds-title' }, partner ? `Funds of ${partner.company_name}` : 'Partner funds');
  state.shownFunds = null; // {partnerId, items} once loaded: the adjustment form checks debits against it
  if (!partner) {
    box.replaceChildren(
      title,
      h('p', { class: 'muted', 'data-testid': 'partner-funds-hint' }, 'Choose a partner to see its funds.'),
    );
    return;
  }
  box.replaceChildren(title, loading('Loading the partner’s funds…'));
  let funds;
  try {
    const data = await api.get(`/mdf/funds?${new URLSearchParams({ partner_id: partnerId })}`);
    funds = Array.isArray(data?.items) ? data.items : [];
  } catch (error) {
    if (seq !== fundsSeq || ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    box.replaceChildren(
      title,
      errorPanel(`We could not load the partner’s funds. ${error.message}`, () =>
        showPartnerFunds(ctx, box, state, partnerId),
      ),
    );
    return;
  }
  if (seq !== fundsSeq || !ctx.isCurrent()) return;
  state.shownFunds = { partnerId, items: funds };
  box.replaceChildren(
    title,
    funds.length
      ? h(
          'div',
          { class: 'fund-grid fund-grid-narrow' },
          funds.map((fund) => fundCard(fund)),
        )
      : h('p', { class: 'empty', 'data-testid': 'partner-funds-empty' }, 'This partner has no funds yet.'),
  );
}
