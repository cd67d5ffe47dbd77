// #/admin/mdf (vendor admins): programme periods (create one, set its accrual rate) and allocations of funds to a
// partner, with that partner's funds shown as they stand.
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
import { amountError, amountPreview, moneyOf, moneyText } from '../money.js';
import { statusBadge } from '../record.js';
import { CURRENCIES, countryName } from '../reference.js';
import { fundCard, periodLabel } from './mdf.js';

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
        'Programme periods, accrual rates and allocations of market development funds to partners.',
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

  const state = { periods, partners: partners.items };
  const periodsBox = h('div', {});
  const fundsBox = h('section', {
    class: 'partner-funds',
    'aria-labelledby': 'partner-funds-title',
    'data-testid': 'partner-funds',
  });
  const selects = []; // period selects to refresh when the list changes: [select, filter]

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

  const periodForm = createPeriodForm(ctx, state, upsertPeriod);
  const accrualForm = accrualRateForm(ctx, state, upsertPeriod, selects);
  const allocation = allocationForm(ctx, state, selects, (partnerId) =>
    showPartnerFunds(ctx, fundsBox, state, partnerId),
  );

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
      h('div', { class: 'record-layout admin-allocation' }, allocation.form, fundsBox),
    ),
  );
  drawPeriods();
  const wanted = ctx.query.get('partner');
  if (wanted && state.partners.some((p) => p.partner_id === wanted)) allocation.choosePartner(wanted);
  else showPartnerFunds(ctx, fundsBox, state, '');
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

// ------------------------------------------------------------------ allocations

function allocationForm(ctx, state, selects, onPartner) {
  const keeper = idempotencyKeeper();
  const preview = h('p', {
    class: 'hint money-preview',
    id: 'allocation-preview',
    'data-testid': 'allocation-preview',
  });
  const form = cardForm({
    testid: 'allocation-form',
    labelledBy: 'allocation-title',
    result: resultSlot('allocation'),
    fields: [
      field({
        id: 'allocation_partner',
        label: 'Partner',
        control: 'select',
        placeholder: state.partners.length ? 'Choose a partner…' : 'No partners yet',
        options: state.partners.map((p) => [
          p.partner_id,
          `${p.company_name || p.partner_id}${p.country ? ` (${countryName(p.country)})` : ''}`,
        ]),
      }),
      field({ id: 'allocation_period', label: 'Period', control: 'select', options: [] }),
      h(
        'div',
        { class: 'money-row' },
        field({
          id: 'allocation_amount',
          label: 'Amount',
          attrs: {
            inputmode: 'decimal',
            autocomplete: 'off',
            'aria-describedby': 'allocation_amount-error allocation-preview',
          },
        }),
        field({
          id: 'allocation_currency',
          label: 'Currency',
          control: 'select',
          options: CURRENCIES.map(([code]) => [code, code]),
        }),
      ),
      preview,
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
  selects.push([els.allocation_period, (p) => p.status !== 'closed']);
  const showPreview = () => {
    preview.textContent = amountPreview(els.allocation_amount.value, els.allocation_currency.value);
  };
  els.allocation_partner.addEventListener('change', () => {
    ctx.setQuery({ partner: els.allocation_partner.value });
    onPartner(els.allocation_partner.value);
  });
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
        fieldMap: {
          partner_id: 'allocation_partner',
          period_id: 'allocation_period',
          amount: 'allocation_amount',
          'amount.amount_minor': 'allocation_amount',
          'amount.currency': 'allocation_currency',
          note: 'allocation_note',
        },
        done: ({ fund, entry }) => {
          els.allocation_amount.value = '';
          els.allocation_note.value = '';
          showPreview();
          onPartner(els.allocation_partner.value);
          return `Allocated ${moneyText(entry?.amount)} to ${partner?.company_name || 'the partner'} for ${
            fund?.period_name || fund?.period_id || 'the period'
          }. Available now: ${moneyText(fund?.available)}.`;
        },
      });
    },
  });
  return {
    form,
    choosePartner(partnerId) {
      els.allocation_partner.value = partnerId;
      onPartner(partnerId);
    },
  };
}

let fundsSeq = 0;

async function showPartnerFunds(ctx, box, state, partnerId) {
  const seq = ++fundsSeq;
  const partner = state.partners.find((p) => p.partner_id === partnerId);
  const title = h('h3', { id: 'partner-funds-title' }, partner ? `Funds of ${partner.company_name}` : 'Partner funds');
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
