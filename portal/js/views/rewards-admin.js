// The vendor's rewards administration, four tabs:
// #/admin/rewards            campaigns: the list (status, dates, budget committed, rules in plain words), create one
//                            with its rules (a list of rules, each by `kind`, said in plain words as it is typed), edit
//                            it, close it.
// #/admin/rewards/attention  needs attention: pending rewards (the approver's email link decides them; hold one with
//                            a reason) and rewards on hold (release back to the approver, or decline with a reason),
//                            from GET /rewards/rewards?status=…, optionally of one campaign, newest first.
// #/admin/rewards/catalogue  catalogue items (create, change the stock) and the item redemptions waiting to be sent
//                            (fulfil, or cancel with a reason).
// #/admin/rewards/payouts    approved payouts waiting for a batch, payout batches (create one, download its CSV by the
//                            presigned link, mark it paid), payouts held for a missing tax form (by partner: whose form
//                            to record) and tax forms (record one on file for a partner).
import { api, path } from '../api.js';
import { dataTable, dateish, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import {
  LIMITS,
  bindForm,
  cardForm,
  checkboxGroup,
  field,
  formAlert,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  newId,
  parseCount,
  required,
  sendForm,
  today,
} from '../forms.js';
import { PARTNER_TYPES } from '../reference.js';
import { adminBlock, clearResult, resultSlot, showResult, submitAdmin } from './admin-common.js';
import {
  POINTS,
  REGIONS,
  RULE_KINDS,
  UNITS,
  adminTabs,
  eligibilityWords,
  parseUnitAmount,
  redemptionNextStep,
  rewardStatusBadge,
  ruleWords,
  sourceText,
  unitAmount,
  unitInput,
} from './rewards-common.js';

const NAME_MAX = 120;
const REASON_MAX = 500;
const RULES_MAX = 20;
const TIER = /^[a-z0-9][a-z0-9-]{0,39}$/;
const SKU_MAX = 80;
const CERTIFICATION = /^[A-Za-z0-9_-]{1,64}$/;
const PARTNER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function adminPage(ctx, current, title, lead) {
  const body = h('div', {}, loading('Loading…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'rewards-admin-title' },
      pageHead(h('h1', { tabindex: '-1', id: 'rewards-admin-title' }, title), lead),
      adminTabs(current),
      body,
    ),
  );
  return body;
}

/** A list loaded into `box` by `load()`; failures show an error panel with "Try again". */
async function loadInto(ctx, box, what, load, draw) {
  box.replaceChildren(loading(`Loading ${what}…`));
  let data;
  try {
    data = await load();
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    box.replaceChildren(errorPanel(`We could not load ${what}. ${error.message}`, () => loadInto(ctx, box, what, load, draw)));
    return;
  }
  if (!ctx.isCurrent()) return;
  box.replaceChildren(...[draw(data)].flat().filter(Boolean));
}

// ====================================================================== campaigns

export async function renderRewardsAdmin(ctx) {
  const body = adminPage(
    ctx,
    '/admin/rewards',
    'Rewards administration',
    'Campaigns: what partners’ people earn for won deals, certifications and SPIFF claims, within a budget.',
  );
  const list = h('div', { 'data-testid': 'campaigns-admin' });
  const editor = campaignEditor(ctx, { onSaved: () => refresh() });
  const refresh = () =>
    loadInto(ctx, list, 'the campaigns', () => api.get('/rewards/campaigns'), (data) =>
      campaignsTable(ctx, Array.isArray(data?.items) ? data.items : [], { edit: editor.edit, refresh }),
    );
  body.replaceChildren(
    adminBlock('campaign-list-title', 'Campaigns', 'Open campaigns first; each rule as partners read it.', list),
    adminBlock('campaign-form-title', 'Create or edit a campaign', null, editor.form),
  );
  await refresh();
}

function campaignsTable(ctx, campaigns, { edit, refresh }) {
  if (!campaigns.length) return h('p', { class: 'empty', 'data-testid': 'campaigns-admin-empty' }, 'No campaign yet. Create the first one below.');
  const sorted = [...campaigns].sort(
    (a, b) => (a.status === 'open' ? 0 : 1) - (b.status === 'open' ? 0 : 1) || String(b.starts_on).localeCompare(String(a.starts_on)),
  );
  return dataTable({
    testid: 'campaigns-table',
    captionId: 'campaigns-caption',
    caption: `Campaigns (${campaigns.length})`,
    columns: ['Campaign', 'Dates', 'Status', ['Budget', 'num'], 'Rules', 'Actions'],
    rows: sorted.map((c) => {
      const actions = h('div', { class: 'actions' });
      if (c.status === 'open') {
        actions.append(
          h('button', { type: 'button', class: 'button button-small', 'data-testid': 'campaign-edit', onclick: () => edit(c) }, 'Edit'),
          closeControl(ctx, c, refresh),
        );
      }
      return h(
        'tr',
        { 'data-testid': 'campaign-row', 'data-campaign-id': c.campaign_id, 'data-status': c.status },
        h(
          'td',
          { 'data-label': 'Campaign' },
          h('span', { class: 'strong block', 'data-testid': 'campaign-name' }, c.name),
          h('span', { class: 'muted small block', 'data-testid': 'campaign-eligibility' }, eligibilityWords(c.eligibility)),
          h('code', { class: 'small' }, c.campaign_id),
        ),
        h('td', { 'data-label': 'Dates', 'data-testid': 'campaign-dates' }, dateish(c.starts_on), ' – ', dateish(c.ends_on)),
        h(
          'td',
          { 'data-label': 'Status' },
          rewardStatusBadge(c.status, 'campaign-status'),
          c.closed_at ? h('span', { class: 'muted small block' }, 'closed ', timeEl(c.closed_at, { dateOnly: true })) : null,
        ),
        h(
          'td',
          { 'data-label': 'Budget', class: 'num', 'data-testid': 'campaign-budget' },
          `${unitAmount(c.committed ?? 0, c.unit)} of ${unitAmount(c.budget, c.unit)}`,
          h('span', { class: 'muted small block' }, `${unitAmount(c.remaining ?? Math.max(c.budget - (c.committed ?? 0), 0), c.unit)} left`),
          c.per_partner_cap ? h('span', { class: 'muted small block' }, `at most ${unitAmount(c.per_partner_cap, c.unit)} per partner`) : null,
        ),
        h(
          'td',
          { 'data-label': 'Rules' },
          h(
            'ul',
            { class: 'plain-list' },
            (c.rules || []).map((rule) => h('li', { 'data-testid': 'campaign-rule', 'data-kind': rule.kind }, ruleWords(rule, c.unit))),
          ),
        ),
        h('td', { 'data-label': 'Actions' }, actions),
      );
    }),
  });
}

/** "Close" asks once more, then closes the campaign for good (earned rewards keep their course). */
function closeControl(ctx, campaign, refresh) {
  const box = h('span', { class: 'close-control' });
  const keeper = idempotencyKeeper();
  const ask = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'campaign-close' }, 'Close');
  const status = h('span', { class: 'small', role: 'status', 'data-testid': 'campaign-close-state' });
  ask.addEventListener('click', () => {
    const confirm = h('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': 'campaign-close-confirm' }, `Close ${campaign.name} now`);
    const cancel = h('button', { type: 'button', class: 'button-inline', onclick: () => box.replaceChildren(ask, status) }, 'Keep it open');
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      status.textContent = 'Closing…';
      try {
        await api.post(path`/rewards/campaigns/${campaign.campaign_id}/close`, {}, { idempotencyKey: keeper.keyFor(campaign.campaign_id) });
      } catch (error) {
        if (ctx.handleAuthErrors(error)) return;
        confirm.disabled = false;
        status.textContent = `The campaign was not closed. ${error.message}`;
        return;
      }
      refresh();
    });
    box.replaceChildren(h('span', { class: 'small block' }, 'It earns nothing more once closed.'), confirm, cancel, status);
    confirm.focus();
  });
  box.append(ask, status);
  return box;
}

// ------------------------------------------------------------------ the campaign form (create and edit)

function campaignEditor(ctx, { onSaved }) {
  const keeper = idempotencyKeeper();
  let editing = null; // the campaign being edited, or null when creating
  let ruleKey = 0;
  const rulesBox = h('div', { class: 'rule-list', 'data-testid': 'rule-list' });
  const title = h('h3', { id: 'campaign-form-heading', 'data-testid': 'campaign-form-mode' }, 'New campaign');
  const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-campaign' }, 'Create campaign');
  const cancelEdit = h('button', { type: 'button', class: 'button', 'data-testid': 'cancel-edit' }, 'Stop editing');
  const cancelSlot = h('span', {}); // holds "Stop editing" while a campaign is edited (a hidden .button still shows)
  const addRule = h('button', { type: 'button', class: 'button', 'data-testid': 'add-rule' }, 'Add a rule');
  const result = resultSlot('campaign');
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'campaign-form', 'aria-labelledby': 'campaign-form-heading' },
    title,
    formAlert(),
    result,
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'campaign_name', label: 'Name', attrs: { autocomplete: 'off' } }),
      field({ id: 'campaign_unit', label: 'Pays in', control: 'select', options: UNITS, hint: 'Points, or money in a currency.' }),
    ),
    field({ id: 'campaign_description', label: 'Description', control: 'textarea', optional: true, attrs: { rows: 2 } }),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'campaign_starts_on', label: 'Starts on', type: 'date' }),
      field({ id: 'campaign_ends_on', label: 'Ends on', type: 'date' }),
    ),
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'campaign_budget', label: 'Budget', hint: 'The most the campaign pays in total.', attrs: { inputmode: 'decimal', autocomplete: 'off' } }),
      field({ id: 'campaign_cap', label: 'Cap per partner', optional: true, attrs: { inputmode: 'decimal', autocomplete: 'off' } }),
      field({
        id: 'campaign_auto_approve',
        label: 'Approve automatically below',
        optional: true,
        hint: 'Rewards under this amount need no approver; leave empty to send every reward to the approver.',
        attrs: { inputmode: 'decimal', autocomplete: 'off' },
      }),
      field({
        id: 'campaign_available_after',
        label: 'Days until available',
        optional: true,
        hint: 'Days between approval and the reward becoming spendable (0: at once).',
        attrs: { inputmode: 'numeric', autocomplete: 'off' },
      }),
    ),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', {}, 'Who is eligible (nothing chosen: everyone)'),
      field({
        id: 'campaign_tiers',
        label: 'Tiers',
        optional: true,
        hint: 'Tier ids separated by commas, e.g. gold, platinum.',
        attrs: { autocomplete: 'off' },
      }),
      checkboxGroup({ id: 'campaign_regions', legend: 'Regions', options: REGIONS.map(([v, l]) => [v, `${l} (${v})`]) }),
      checkboxGroup({ id: 'campaign_types', legend: 'Partner types', options: PARTNER_TYPES.map(([v, l]) => [v, l]) }),
    ),
    h('fieldset', { class: 'field', 'aria-describedby': 'campaign_rules-error' }, h('legend', {}, 'Rules'), rulesBox, addRule, h('p', { class: 'field-error', id: 'campaign_rules-error', 'data-testid': 'campaign_rules-error', hidden: true })),
    h('div', { class: 'actions' }, submit, cancelSlot),
  );
  // the group's own checkbox ids are wired into bindForm by data-field; checkboxGroup controls are not "required"
  for (const box of form.querySelectorAll('fieldset.checkbox-group input')) box.required = false;
  const els = form.elements;
  const unit = () => els.campaign_unit.value;
  const amountCheck = (what, { optional = false, positive = true } = {}) => (value) => {
    if (optional && String(value).trim() === '') return '';
    const parsed = parseUnitAmount(value, unit(), { what, positive });
    return parsed.ok ? '' : parsed.error;
  };
  const validators = {
    campaign_name: (v) => required(v, 'Name the campaign.') || maxLength(v, NAME_MAX, 'The name'),
    campaign_unit: (v) => required(v, 'Choose what it pays in.'),
    campaign_description: (v) => maxLength(v, LIMITS.description, 'The description'),
    campaign_starts_on: (v) => (isIsoDate(v) ? '' : 'Choose the first day.'),
    campaign_ends_on: (v, f) => {
      if (!isIsoDate(v)) return 'Choose the last day.';
      if (isIsoDate(f.elements.campaign_starts_on.value) && v < f.elements.campaign_starts_on.value) return 'The campaign cannot end before it starts.';
      if (v < today()) return 'The campaign would end in the past.';
      return '';
    },
    campaign_budget: amountCheck('the budget'),
    campaign_cap: (v, f) => {
      const problem = amountCheck('the cap', { optional: true })(v);
      if (problem || String(v).trim() === '') return problem;
      const cap = parseUnitAmount(v, unit()).value;
      const budget = parseUnitAmount(f.elements.campaign_budget.value, unit());
      return budget.ok && cap > budget.value ? 'The cap per partner cannot be more than the budget.' : '';
    },
    campaign_auto_approve: amountCheck('an amount', { optional: true, positive: false }),
    campaign_available_after: (v) => {
      if (String(v).trim() === '') return '';
      const parsed = parseCount(v, { max: 365, what: 'a number of days' });
      return parsed.ok ? '' : parsed.error;
    },
    campaign_tiers: (v) => {
      const bad = tierList(v).filter((t) => !TIER.test(t));
      return bad.length ? `Not a tier id: ${bad.join(', ')} (lower-case letters, digits and dashes).` : '';
    },
    campaign_rules: () => {
      const n = rulesBox.querySelectorAll('[data-testid=rule-item]').length;
      if (!n) return 'Add at least one rule.';
      return n > RULES_MAX ? `At most ${RULES_MAX} rules.` : '';
    },
  };
  // the rules fieldset carries the id the validator and the server's `rules` errors use
  form.querySelector('fieldset[aria-describedby="campaign_rules-error"]').id = 'campaign_rules';

  // ---------------------------------------------------------------- rules: one block per rule, fields by kind
  function ruleItem(rule = { kind: 'deal_won_fixed' }) {
    const key = ++ruleKey;
    const id = (name) => `rule_${key}_${name}`;
    const preview = h('p', { class: 'hint', role: 'status', 'data-testid': 'rule-preview' });
    const kindField = field({ id: id('kind'), label: 'Kind', control: 'select', options: RULE_KINDS });
    const amountField = field({ id: id('amount'), label: 'Amount', attrs: { inputmode: 'decimal', autocomplete: 'off', 'data-rule-field': 'amount' } });
    const skuField = field({ id: id('sku'), label: 'Product SKU', attrs: { autocomplete: 'off', 'data-rule-field': 'sku' } });
    const currencyField = field({
      id: id('currency'),
      label: 'Won value currency',
      control: 'select',
      options: UNITS.filter(([u]) => u !== POINTS).map(([u]) => [u, u]),
      attrs: { 'data-rule-field': 'currency' },
    });
    const certField = field({ id: id('certification'), label: 'Certification id', attrs: { autocomplete: 'off', 'data-rule-field': 'certification' } });
    const descField = field({ id: id('description'), label: 'What partners do to claim it', control: 'textarea', attrs: { rows: 2, 'data-rule-field': 'description' } });
    const remove = h('button', { type: 'button', class: 'button-inline', 'data-testid': 'remove-rule' }, 'Remove this rule');
    const item = h(
      'div',
      { class: 'card card-muted rule-item', 'data-testid': 'rule-item', 'data-key': key, 'data-rule-id': rule.rule_id || '' },
      h('div', { class: 'grid-2-tight' }, kindField, amountField),
      skuField,
      currencyField,
      certField,
      descField,
      preview,
      remove,
    );
    const control = (name) => item.querySelector(`#${id(name)}`);
    control('kind').value = rule.kind;
    const amount = rule.kind === 'deal_won_per_thousand' ? rule.amount_per_thousand : rule.amount;
    if (amount !== undefined) control('amount').value = unitInput(amount, unit());
    if (rule.sku) control('sku').value = rule.sku;
    control('currency').value = rule.currency || (unit() !== POINTS ? unit() : 'USD');
    if (rule.certification_id) control('certification').value = rule.certification_id;
    if (rule.description) control('description').value = rule.description;
    const kind = () => control('kind').value;
    const shown = () => ({
      sku: kind() === 'deal_won_per_sku',
      currency: kind() === 'deal_won_per_thousand',
      certification: kind() === 'certification_earned',
      description: kind() === 'spiff_claim',
    });
    function layout() {
      const visible = shown();
      skuField.hidden = !visible.sku;
      currencyField.hidden = !visible.currency;
      certField.hidden = !visible.certification;
      descField.hidden = !visible.description;
      item.querySelector(`label[for="${id('amount')}"]`).textContent = visible.currency ? 'Amount per 1,000 of won value' : 'Amount';
      const built = ruleOf(item);
      preview.textContent = built.ok ? `Partners read: “${ruleWords(built.rule, unit())}”` : 'Partners read the rule here once it is complete.';
    }
    item.addEventListener('input', layout);
    item.addEventListener('change', layout);
    remove.addEventListener('click', () => {
      for (const name of ['kind', 'amount', 'sku', 'currency', 'certification', 'description']) delete validators[id(name)];
      item.remove();
      controller.validateField('campaign_rules');
      addRule.focus();
    });
    validators[id('kind')] = (v) => required(v, 'Choose the kind of rule.');
    validators[id('amount')] = (v) => {
      const parsed = parseUnitAmount(v, unit(), { what: 'the amount' });
      return parsed.ok ? '' : parsed.error;
    };
    validators[id('sku')] = (v) => (shown().sku ? required(v, 'Enter the product SKU.') || maxLength(v, SKU_MAX, 'The SKU') : '');
    validators[id('currency')] = (v) => (shown().currency ? required(v, 'Choose the currency of the won value.') : '');
    validators[id('certification')] = (v) =>
      shown().certification ? (CERTIFICATION.test(String(v).trim()) ? '' : 'Enter the certification id (letters, digits, _ and -).') : '';
    validators[id('description')] = (v) =>
      shown().description ? required(v, 'Say what partners do to claim it.') || maxLength(v, LIMITS.description, 'The description') : '';
    rulesBox.append(item);
    layout();
    return item;
  }

  addRule.addEventListener('click', () => {
    const item = ruleItem();
    controller.validateField('campaign_rules');
    item.querySelector('select').focus();
  });
  // a new unit changes how amounts read (and parse)
  els.campaign_unit.addEventListener('change', () => {
    for (const item of rulesBox.querySelectorAll('[data-testid=rule-item]')) item.dispatchEvent(new Event('change'));
  });

  function rules() {
    return [...rulesBox.querySelectorAll('[data-testid=rule-item]')].map((item) => ruleOf(item).rule);
  }

  /** The rule a block describes: {ok, rule}. */
  function ruleOf(item) {
    const key = item.dataset.key;
    const value = (name) => item.querySelector(`#rule_${key}_${name}`)?.value.trim() ?? '';
    const kind = value('kind');
    const amount = parseUnitAmount(value('amount'), unit());
    const rule = { kind };
    if (item.dataset.ruleId) rule.rule_id = item.dataset.ruleId;
    if (kind === 'deal_won_per_thousand') {
      rule.currency = value('currency');
      rule.amount_per_thousand = amount.value;
    } else {
      rule.amount = amount.value;
    }
    if (kind === 'deal_won_per_sku') rule.sku = value('sku');
    if (kind === 'certification_earned') rule.certification_id = value('certification');
    if (kind === 'spiff_claim') rule.description = value('description');
    const complete = amount.ok && Object.values(rule).every((v) => v !== '' && v !== undefined);
    return { ok: complete, rule };
  }

  function fieldMap() {
    const map = {
      name: 'campaign_name',
      description: 'campaign_description',
      starts_on: 'campaign_starts_on',
      ends_on: 'campaign_ends_on',
      unit: 'campaign_unit',
      budget: 'campaign_budget',
      per_partner_cap: 'campaign_cap',
      auto_approve_below: 'campaign_auto_approve',
      available_after_days: 'campaign_available_after',
      'eligibility.tiers': 'campaign_tiers',
      'eligibility.regions': 'campaign_regions',
      'eligibility.partner_types': 'campaign_types',
      eligibility: 'campaign_tiers',
      rules: 'campaign_rules',
    };
    [...rulesBox.querySelectorAll('[data-testid=rule-item]')].forEach((item, index) => {
      const key = item.dataset.key;
      map[`rules.${index}`] = `rule_${key}_kind`;
      for (const [api, name] of [
        ['amount', 'amount'],
        ['amount_per_thousand', 'amount'],
        ['sku', 'sku'],
        ['currency', 'currency'],
        ['certification_id', 'certification'],
        ['description', 'description'],
      ]) {
        map[`rules.${index}.${api}`] = `rule_${key}_${name}`;
        // pydantic names the union member in the path: rules.0.deal_won_fixed.amount
        for (const [kind] of RULE_KINDS) map[`rules.${index}.${kind}.${api}`] = `rule_${key}_${name}`;
      }
    });
    return map;
  }

  function body() {
    const amount = (el) => (String(el.value).trim() === '' ? undefined : parseUnitAmount(el.value, unit(), { positive: false }).value);
    const checked = (name) => [...form.querySelectorAll(`#${name} input:checked`)].map((box) => box.value);
    const data = {
      name: els.campaign_name.value.trim(),
      description: els.campaign_description.value.trim(),
      starts_on: els.campaign_starts_on.value,
      ends_on: els.campaign_ends_on.value,
      unit: unit(),
      eligibility: { tiers: tierList(els.campaign_tiers.value), regions: checked('campaign_regions'), partner_types: checked('campaign_types') },
      budget: amount(els.campaign_budget),
      per_partner_cap: amount(els.campaign_cap),
      auto_approve_below: amount(els.campaign_auto_approve) ?? 0,
      available_after_days: String(els.campaign_available_after.value).trim() === '' ? 0 : parseCount(els.campaign_available_after.value).value,
      rules: rules(),
    };
    if (data.per_partner_cap === undefined) delete data.per_partner_cap;
    if (!editing) return data;
    // PATCH: what may change (not the unit or the start); rules only before the campaign starts
    const patch = { ...data };
    delete patch.unit;
    delete patch.starts_on;
    if (editing.starts_on <= today()) delete patch.rules;
    return patch;
  }

  function reset() {
    editing = null;
    keeper.reset();
    controller.reset();
    for (const name of Object.keys(validators)) if (name.startsWith('rule_')) delete validators[name];
    rulesBox.replaceChildren();
    ruleItem();
    title.textContent = 'New campaign';
    submit.textContent = 'Create campaign';
    cancelSlot.replaceChildren();
    els.campaign_unit.disabled = false;
    els.campaign_starts_on.disabled = false;
    addRule.disabled = false;
  }

  function edit(campaign) {
    reset();
    clearResult(form);
    editing = campaign;
    title.textContent = `Edit ${campaign.name}`;
    submit.textContent = 'Save changes';
    cancelSlot.replaceChildren(cancelEdit);
    els.campaign_name.value = campaign.name;
    els.campaign_description.value = campaign.description || '';
    els.campaign_unit.value = campaign.unit;
    els.campaign_unit.disabled = true;
    els.campaign_starts_on.value = campaign.starts_on;
    els.campaign_starts_on.disabled = true;
    els.campaign_ends_on.value = campaign.ends_on;
    els.campaign_budget.value = unitInput(campaign.budget, campaign.unit);
    els.campaign_cap.value = campaign.per_partner_cap ? unitInput(campaign.per_partner_cap, campaign.unit) : '';
    els.campaign_auto_approve.value = campaign.auto_approve_below ? unitInput(campaign.auto_approve_below, campaign.unit) : '';
    els.campaign_available_after.value = String(campaign.available_after_days ?? 0);
    els.campaign_tiers.value = (campaign.eligibility?.tiers || []).join(', ');
    for (const box of form.querySelectorAll('#campaign_regions input')) box.checked = (campaign.eligibility?.regions || []).includes(box.value);
    for (const box of form.querySelectorAll('#campaign_types input')) box.checked = (campaign.eligibility?.partner_types || []).includes(box.value);
    rulesBox.replaceChildren();
    for (const name of Object.keys(validators)) if (name.startsWith('rule_')) delete validators[name];
    for (const rule of campaign.rules || []) ruleItem(rule);
    const started = campaign.starts_on <= today();
    for (const control of rulesBox.querySelectorAll('input, select, textarea, button')) control.disabled = started;
    addRule.disabled = started;
    if (started) {
      rulesBox.prepend(h('p', { class: 'notice', 'data-testid': 'rules-locked' }, 'The campaign has started: its rules can no longer change.'));
    }
    els.campaign_name.focus();
  }

  cancelEdit.addEventListener('click', () => {
    reset();
    els.campaign_name.focus();
  });

  const controller = bindForm(form, {
    validators,
    dependents: {
      campaign_unit: ['campaign_budget', 'campaign_cap', 'campaign_auto_approve'],
      campaign_starts_on: ['campaign_ends_on'],
      campaign_budget: ['campaign_cap'],
    },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      if (editing?.starts_on <= today()) {
        // the locked rules are not sent; their fields need no check
        for (const name of Object.keys(validators)) if (name.startsWith('rule_')) validators[name] = () => '';
      }
      const sent = body();
      const campaign = editing;
      await sendForm(ctx, form, controller, {
        keeper,
        body: sent,
        send: (text, idempotencyKey) =>
          campaign
            ? api.patch(path`/rewards/campaigns/${campaign.campaign_id}`, text)
            : api.post('/rewards/campaigns', text, { idempotencyKey }),
        done: (answer) => {
          reset();
          showResult(form, campaign ? `Saved ${answer?.name || campaign.name}.` : `Created ${answer?.name} (${answer?.campaign_id}).`);
          onSaved(answer);
        },
        fieldMap: fieldMap(),
        reload: 'Reload the campaigns',
        retry: 'Select the button again to retry.',
        fallback: 'The campaign was not accepted.',
      });
    },
  });
  ruleItem();
  return { form, edit };
}

function tierList(value) {
  return String(value || '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

// ====================================================================== needs attention

const ATTENTION_PAGE = 20;

export async function renderRewardsAttentionAdmin(ctx) {
  const body = adminPage(
    ctx,
    '/admin/rewards/attention',
    'Rewards needing attention',
    'Pending rewards wait for the approver’s decision by email link; hold one to pause it with a reason. Release a held reward back to the approver, or decline it with a reason the partner sees.',
  );
  const pending = h('div', { 'data-testid': 'attention-pending' });
  const held = h('div', { 'data-testid': 'attention-held' });
  const choose = h(
    'select',
    { id: 'attention_campaign', name: 'attention_campaign', 'data-testid': 'attention-campaign' },
    h('option', { value: '' }, 'All campaigns'),
  );
  const refresh = () => {
    const campaignId = choose.value;
    return Promise.all([
      attentionList(ctx, pending, 'pending', campaignId, refresh),
      attentionList(ctx, held, 'on_hold', campaignId, refresh),
    ]);
  };
  choose.addEventListener('change', () => refresh());
  body.replaceChildren(
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'attention_campaign' }, 'Campaign'),
      choose,
    ),
    adminBlock('attention-pending-title', 'Waiting for the approver', 'Newest first. Rewards at or above a campaign’s auto-approval amount wait here for the approver’s email link.', pending),
    adminBlock('attention-held-title', 'On hold', 'Newest first. Each waits, with its reason shown to the partner, until you release or decline it.', held),
  );
  api
    .get('/rewards/campaigns')
    .then((data) => {
      if (!ctx.isCurrent()) return;
      const campaigns = Array.isArray(data?.items) ? data.items : [];
      choose.append(...campaigns.map((c) => h('option', { value: c.campaign_id }, `${c.name}${c.status === 'closed' ? ' (closed)' : ''}`)));
    })
    .catch((error) => {
      ctx.handleAuthErrors(error);
    });
  await refresh();
}

function attentionQuery(status, campaignId, cursor) {
  const query = new URLSearchParams({ status, limit: String(ATTENTION_PAGE) });
  if (campaignId) query.set('campaign_id', campaignId);
  if (cursor) query.set('cursor', cursor);
  return `/rewards/rewards?${query}`;
}

/** One status's rewards in `box`, a page at a time ("Show more" follows the cursor). */
function attentionList(ctx, box, status, campaignId, refresh) {
  const what = status === 'pending' ? 'the pending rewards' : 'the rewards on hold';
  return loadInto(ctx, box, what, () => api.get(attentionQuery(status, campaignId, null)), (data) => {
    const items = Array.isArray(data?.items) ? data.items : [];
    if (!items.length) {
      return h(
        'p',
        { class: 'empty', 'data-testid': `attention-empty-${status}` },
        status === 'pending' ? 'No reward is waiting for the approver.' : 'No reward is on hold.',
      );
    }
    const table = attentionTable(ctx, status, items, refresh);
    const tbody = table.querySelector('tbody');
    const more = h('div', { class: 'actions' });
    const showMore = (cursor) => {
      if (!cursor) {
        more.replaceChildren();
        return;
      }
      const state = h('span', { class: 'small', role: 'status' });
      const button = h('button', { type: 'button', class: 'button button-small', 'data-testid': `attention-more-${status}` }, 'Show more');
      button.addEventListener('click', async () => {
        button.disabled = true;
        state.textContent = 'Loading…';
        let page;
        try {
          page = await api.get(attentionQuery(status, campaignId, cursor));
        } catch (error) {
          if (ctx.handleAuthErrors(error)) return;
          button.disabled = false;
          state.textContent = `We could not load more. ${error.message}`;
          return;
        }
        if (!ctx.isCurrent()) return;
        tbody.append(...(page?.items || []).map((item) => attentionRow(ctx, status, item, refresh)));
        showMore(page?.next_cursor);
      });
      more.replaceChildren(button, state);
    };
    showMore(data?.next_cursor);
    return [table, more];
  });
}

function attentionTable(ctx, status, items, refresh) {
  return dataTable({
    testid: `attention-table-${status}`,
    captionId: `attention-caption-${status}`,
    caption: status === 'pending' ? 'Rewards waiting for the approver' : 'Rewards on hold',
    columns: ['Reward', 'Source', ['Amount', 'num'], 'Earned', 'Status and next step', 'Actions'],
    rows: items.map((item) => attentionRow(ctx, status, item, refresh)),
  });
}

function attentionRow(ctx, status, item, refresh) {
  const partner = item.partner || {};
  return h(
    'tr',
    { 'data-testid': 'attention-row', 'data-reward-id': item.reward_id, 'data-status': item.status },
    h(
      'td',
      { 'data-label': 'Reward' },
      h('span', { class: 'strong block', 'data-testid': 'attention-person' }, item.person_email),
      h('span', { class: 'muted small block', 'data-testid': 'attention-partner' }, partner.name || partner.partner_id || '—'),
      h('span', { class: 'block', 'data-testid': 'attention-campaign-name' }, item.campaign_name),
      h('span', { class: 'muted small block', 'data-testid': 'attention-rule' }, item.rule),
      h('code', { class: 'small' }, item.reward_id),
    ),
    h('td', { 'data-label': 'Source', 'data-testid': 'attention-source' }, sourceText(item.source)),
    h('td', { 'data-label': 'Amount', class: 'num', 'data-testid': 'attention-amount' }, unitAmount(item.amount, item.unit)),
    h('td', { 'data-label': 'Earned' }, timeEl(item.earned_at, { dateOnly: true, testid: 'attention-earned' })),
    h(
      'td',
      { 'data-label': 'Status and next step' },
      rewardStatusBadge(item.status, 'attention-status'),
      item.status_reason ? h('span', { class: 'block', 'data-testid': 'attention-reason' }, item.status_reason) : null,
      h('span', { class: 'muted small block' }, 'since ', timeEl(item.status_at, { dateOnly: true })),
      h('span', { class: 'small block', 'data-testid': 'attention-next-step' }, item.next_step || ''),
    ),
    h('td', { 'data-label': 'Actions' }, rewardActions(ctx, item, refresh)),
  );
}

/** Pending: "Hold" (with a reason). On hold: "Release to the approver", or "Decline" (with a reason). */
function rewardActions(ctx, item, refresh) {
  const box = h('div', { class: 'actions' });
  const state = h('span', { class: 'small block', role: 'status', 'data-testid': 'reward-action-state' });
  const keeper = idempotencyKeeper();
  const send = async (action, body, busy, buttons) => {
    buttons.forEach((b) => {
      b.disabled = true;
    });
    state.textContent = busy;
    try {
      await api.post(path`/rewards/${item.reward_id}/${action}`, body, { idempotencyKey: keeper.keyFor({ action, body }) });
    } catch (error) {
      if (ctx.handleAuthErrors(error)) return;
      buttons.forEach((b) => {
        b.disabled = false;
      });
      state.textContent = `Not done. ${error.message}`;
      return;
    }
    refresh();
  };
  const withReason = (action, { label, confirmText, busy, missing }) => {
    const id = `${action}_reason_${item.reward_id}`;
    const error = h('span', { id: `${id}-error`, class: 'field-error', 'data-testid': `reward-${action}-error` });
    const reason = h('textarea', { id, rows: 2, 'aria-describedby': `${id}-error`, 'data-testid': `reward-${action}-reason` });
    const confirm = h('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': `reward-${action}-confirm` }, confirmText);
    const cancel = h('button', { type: 'button', class: 'button-inline', onclick: () => show() }, 'Cancel');
    confirm.addEventListener('click', () => {
      const text = reason.value.trim();
      const problem = required(text, missing) || maxLength(text, REASON_MAX, 'The reason');
      error.textContent = problem;
      reason.setAttribute('aria-invalid', problem ? 'true' : 'false');
      if (problem) {
        reason.focus();
        return;
      }
      send(action, { reason: text }, busy, [confirm, cancel]);
    });
    box.replaceChildren(h('div', { class: 'field' }, h('label', { for: id }, label), reason, error), confirm, cancel, state);
    reason.focus();
  };
  const show = () => {
    if (item.status === 'pending') {
      const hold = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'reward-hold' }, 'Hold');
      hold.addEventListener('click', () =>
        withReason('hold', {
          label: 'Why is it held? (shown to the partner)',
          confirmText: 'Hold this reward',
          busy: 'Holding…',
          missing: 'Say why the reward is held.',
        }),
      );
      box.replaceChildren(hold, state);
    } else {
      const release = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'reward-release' }, 'Release to the approver');
      const decline = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'reward-decline' }, 'Decline');
      release.addEventListener('click', () => send('release', {}, 'Releasing…', [release, decline]));
      decline.addEventListener('click', () =>
        withReason('decline', {
          label: 'Why is it declined? (shown to the partner)',
          confirmText: 'Decline this reward',
          busy: 'Declining…',
          missing: 'Say why the reward is declined.',
        }),
      );
      box.replaceChildren(release, decline, state);
    }
  };
  show();
  return box;
}

// ====================================================================== catalogue

export async function renderRewardsCatalogueAdmin(ctx) {
  const body = adminPage(
    ctx,
    '/admin/rewards/catalogue',
    'Rewards catalogue',
    'Items partners’ people redeem their points for, with their stock, and the redeemed items waiting to be sent.',
  );
  const list = h('div', { 'data-testid': 'catalogue-admin' });
  const waiting = h('div', { 'data-testid': 'items-to-send' });
  const refresh = () =>
    loadInto(ctx, list, 'the catalogue', () => api.get('/rewards/catalogue'), (data) =>
      catalogueTable(ctx, Array.isArray(data?.items) ? data.items : []),
    );
  const refreshWaiting = () =>
    loadInto(ctx, waiting, 'the items to send', () => api.get('/rewards/redemptions?kind=item&status=requested&limit=50'), (data) =>
      itemsToSend(ctx, Array.isArray(data?.items) ? data.items : [], refreshWaiting),
    );
  body.replaceChildren(
    adminBlock('catalogue-list-title', 'Items', 'Cheapest first. Change the stock in place; an item out of stock cannot be redeemed.', list),
    adminBlock('item-form-title', 'Add an item', null, itemForm(ctx, refresh)),
    adminBlock('items-to-send-title', 'Redeemed items to send', 'Oldest first. Mark an item sent once it is on its way, or cancel it (the points go back).', waiting),
  );
  await Promise.all([refresh(), refreshWaiting()]);
}

function catalogueTable(ctx, items) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'catalogue-admin-empty' }, 'The catalogue is empty.');
  return dataTable({
    testid: 'catalogue-table',
    captionId: 'catalogue-caption',
    caption: `Catalogue items (${items.length})`,
    columns: ['Item', ['Cost', 'num'], 'Stock', 'Status'],
    rows: items.map((item) =>
      h(
        'tr',
        { 'data-testid': 'catalogue-row', 'data-item-id': item.item_id },
        h(
          'td',
          { 'data-label': 'Item' },
          h('span', { class: 'strong block', 'data-testid': 'item-name' }, item.name),
          h('span', { class: 'muted small block pre' }, item.description),
        ),
        h('td', { 'data-label': 'Cost', class: 'num', 'data-testid': 'item-cost' }, unitAmount(item.cost_points, POINTS)),
        h('td', { 'data-label': 'Stock' }, stockForm(ctx, item)),
        h('td', { 'data-label': 'Status', 'data-testid': 'item-active' }, item.active === false ? 'Withdrawn' : 'Offered'),
      ),
    ),
  });
}

function stockForm(ctx, item) {
  const id = `stock_${item.item_id}`;
  let current = item;
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true, 'data-testid': 'stock-form', 'aria-label': `Stock of ${item.name}` },
    formAlert(),
    field({ id, label: 'In stock', attrs: { inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'item-stock' } }),
    h('button', { type: 'submit', class: 'button button-small', 'data-testid': 'save-stock' }, 'Save stock'),
    h('span', { class: 'small', role: 'status', 'data-testid': 'stock-saved' }),
  );
  form.elements[id].value = String(item.stock);
  const controller = bindForm(form, {
    validators: {
      [id]: (v) => {
        const parsed = parseCount(v, { max: 10_000_000, what: 'the stock' });
        return parsed.ok ? '' : parsed.error;
      },
    },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      form.querySelector('[data-testid=stock-saved]').textContent = '';
      const stock = parseCount(form.elements[id].value).value;
      await sendForm(ctx, form, controller, {
        keeper: idempotencyKeeper(),
        body: { stock },
        send: (text) => api.patch(path`/rewards/catalogue/${current.item_id}`, text),
        done: (answer) => {
          current = answer || current;
          form.elements[id].value = String(current.stock);
          form.querySelector('[data-testid=stock-saved]').textContent = `Saved: ${current.stock} in stock.`;
        },
        fieldMap: { stock: id },
        onError: (error) => {
          if (error.status !== 409 || error.fieldErrors?.length) return false;
          controller.showFieldError(id, `${error.message} Reload the page to see the stock now.`);
          return true;
        },
        retry: 'Select “Save stock” again to retry.',
        fallback: 'The stock was not saved.',
      });
    },
  });
  return form;
}

function itemForm(ctx, refresh) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'item-form',
    title: 'New catalogue item',
    result: resultSlot('item'),
    fields: [
      field({ id: 'item_name', label: 'Name', attrs: { autocomplete: 'off' } }),
      field({ id: 'item_description', label: 'Description', control: 'textarea', attrs: { rows: 2 } }),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: 'item_cost', label: 'Cost in points', attrs: { inputmode: 'numeric', autocomplete: 'off' } }),
        field({ id: 'item_stock', label: 'In stock', attrs: { inputmode: 'numeric', autocomplete: 'off' } }),
      ),
    ],
    button: 'Add item',
    buttonTestid: 'add-item',
  });
  const els = form.elements;
  const controller = bindForm(form, {
    validators: {
      item_name: (v) => required(v, 'Name the item.') || maxLength(v, NAME_MAX, 'The name'),
      item_description: (v) => required(v, 'Describe the item.') || maxLength(v, LIMITS.description, 'The description'),
      item_cost: (v) => {
        const parsed = parseCount(v, { max: 1_000_000_000, what: 'the cost in points' });
        if (!parsed.ok) return parsed.error;
        return parsed.value < 1 ? 'An item costs at least 1 point.' : '';
      },
      item_stock: (v) => {
        const parsed = parseCount(v, { max: 10_000_000, what: 'the stock' });
        return parsed.ok ? '' : parsed.error;
      },
    },
    busyLabel: 'Adding…',
    onSubmit: async () => {
      clearResult(form);
      await submitAdmin(ctx, form, controller, keeper, {
        url: '/rewards/catalogue',
        body: {
          name: els.item_name.value.trim(),
          description: els.item_description.value.trim(),
          cost_points: parseCount(els.item_cost.value).value,
          stock: parseCount(els.item_stock.value).value,
        },
        fieldMap: { name: 'item_name', description: 'item_description', cost_points: 'item_cost', stock: 'item_stock' },
        button: 'Add item',
        done: (answer) => {
          controller.reset();
          refresh();
          return `Added ${answer?.name}: ${unitAmount(answer?.cost_points, POINTS)}, ${answer?.stock} in stock.`;
        },
      });
    },
  });
  return form;
}

function itemsToSend(ctx, items, refresh) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'items-to-send-empty' }, 'Nothing to send.');
  return dataTable({
    testid: 'items-to-send-table',
    captionId: 'items-to-send-caption',
    caption: `Redeemed items to send (${items.length})`,
    columns: ['Requested', 'Person', 'Item', 'Actions'],
    rows: items.map((r) => {
      const state = h('span', { class: 'small', role: 'status', 'data-testid': 'fulfil-state' });
      const fulfilKey = newId();
      const fulfil = h('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': 'fulfil' }, 'Mark sent');
      fulfil.addEventListener('click', async () => {
        fulfil.disabled = true;
        state.textContent = 'Saving…';
        try {
          await api.post(path`/rewards/redemptions/${r.redemption_id}/fulfil`, {}, { idempotencyKey: fulfilKey });
        } catch (error) {
          if (ctx.handleAuthErrors(error)) return;
          fulfil.disabled = false;
          state.textContent = `Not saved. ${error.message}`;
          return;
        }
        refresh();
      });
      return h(
        'tr',
        { 'data-testid': 'send-row', 'data-redemption-id': r.redemption_id },
        h('td', { 'data-label': 'Requested' }, timeEl(r.requested_at)),
        h('td', { 'data-label': 'Person' }, r.person, h('span', { class: 'muted small block' }, r.partner_id)),
        h('td', { 'data-label': 'Item' }, r.item_name || r.item_id),
        h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions' }, fulfil, cancelControl(ctx, r, refresh), state)),
      );
    }),
  });
}

function cancelControl(ctx, redemption, refresh) {
  const box = h('span', {});
  const open = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'cancel-redemption' }, 'Cancel…');
  open.addEventListener('click', () => {
    const id = `cancel_reason_${redemption.redemption_id}`;
    const form = h(
      'form',
      { class: 'inline-form', novalidate: true, 'data-testid': 'cancel-form' },
      formAlert(),
      field({ id, label: 'Reason (shown to the person)', attrs: { autocomplete: 'off' } }),
      h('button', { type: 'submit', class: 'button button-small', 'data-testid': 'cancel-confirm' }, 'Cancel the redemption'),
    );
    const controller = bindForm(form, {
      validators: { [id]: (v) => required(v, 'Say why it is cancelled.') || maxLength(v, REASON_MAX, 'The reason') },
      onSubmit: () =>
        sendForm(ctx, form, controller, {
          keeper: idempotencyKeeper(),
          body: { reason: form.elements[id].value.trim() },
          send: (text) => api.post(path`/rewards/redemptions/${redemption.redemption_id}/cancel`, text),
          done: () => refresh(),
          fieldMap: { reason: id },
          retry: 'Select the button again to retry.',
          fallback: 'The redemption was not cancelled.',
        }),
    });
    box.replaceChildren(form);
    form.elements[id].focus();
  });
  box.append(open);
  return box;
}

// ====================================================================== payouts, batches, tax forms

export async function renderRewardsPayoutsAdmin(ctx) {
  const body = adminPage(
    ctx,
    '/admin/rewards/payouts',
    'Payouts and tax forms',
    'Finance batches the approved payouts into a CSV (one row per payee), pays them, then marks the batch paid.',
  );
  const approved = h('div', { 'data-testid': 'approved-payouts' });
  const batches = h('div', { 'data-testid': 'payout-batches' });
  const refreshApproved = () =>
    loadInto(ctx, approved, 'the approved payouts', () => api.get('/rewards/redemptions?kind=payout&status=approved&limit=100'), (data) =>
      approvedTable(Array.isArray(data?.items) ? data.items : [], data?.next_cursor),
    );
  const refreshBatches = () =>
    loadInto(ctx, batches, 'the payout batches', () => api.get('/rewards/payout-batches?limit=20'), (data) =>
      batchesTable(ctx, Array.isArray(data?.items) ? data.items : [], () => Promise.all([refreshApproved(), refreshBatches()])),
    );
  const held = h('div', { 'data-testid': 'held-payouts' });
  const refreshHeld = () =>
    loadInto(ctx, held, 'the held payouts', () => api.get('/rewards/payouts?status=on_hold&limit=100'), (data) =>
      heldTable(Array.isArray(data?.items) ? data.items : [], data?.next_cursor),
    );
  const refreshAll = () => Promise.all([refreshApproved(), refreshBatches()]);
  body.replaceChildren(
    adminBlock('approved-payouts-title', 'Approved payouts waiting for a batch', null, approved, batchForm(ctx, refreshAll)),
    adminBlock('batches-title', 'Payout batches', 'Newest first. Download a batch’s CSV, pay it, then mark it paid: each payee is told.', batches),
    adminBlock(
      'tax-form-title',
      'Tax forms',
      'A payee’s payouts are held while their organisation has no tax form on file and their paid total this year is over the threshold. Recording the form releases them.',
      held,
      await taxForm(ctx, () => Promise.all([refreshAll(), refreshHeld()])),
    ),
  );
  await Promise.all([refreshAll(), refreshHeld()]);
}

function approvedTable(items, more) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'approved-payouts-empty' }, 'No approved payout is waiting.');
  return [
    dataTable({
      testid: 'approved-payouts-table',
      captionId: 'approved-payouts-caption',
      caption: `Approved payouts waiting for a batch (${items.length}${more ? '+' : ''})`,
      columns: ['Approved', 'Payee', ['Amount', 'num'], 'Next step'],
      rows: items.map((r) =>
        h(
          'tr',
          { 'data-testid': 'payout-row', 'data-redemption-id': r.redemption_id },
          h('td', { 'data-label': 'Approved' }, timeEl(r.status_at, { testid: 'payout-approved-at' })),
          h('td', { 'data-label': 'Payee', 'data-testid': 'payout-person' }, r.person, h('span', { class: 'muted small block' }, r.partner_id)),
          h('td', { 'data-label': 'Amount', class: 'num', 'data-testid': 'payout-amount' }, unitAmount(r.amount?.amount ?? r.amount, r.amount?.unit ?? r.unit)),
          h('td', { 'data-label': 'Next step' }, redemptionNextStep(r)),
        ),
      ),
    }),
    more ? h('p', { class: 'muted small' }, 'More are waiting; a batch takes up to 500.') : null,
  ];
}

/** Payouts held for a missing tax form, by partner: "Record its tax form" fills the form below with the partner. */
function heldTable(items, more) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'held-payouts-empty' }, 'No payout is waiting for a tax form.');
  const recordFor = (partnerId) => {
    const input = document.getElementById('tax_partner');
    if (!input) return;
    input.value = partnerId;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    document.getElementById('tax_reference')?.focus();
  };
  return [
    dataTable({
      testid: 'held-payouts-table',
      captionId: 'held-payouts-caption',
      caption: `Payouts held for a tax form, by partner (${items.length}${more ? '+' : ''})`,
      columns: ['Partner', 'Payee', ['Amount', 'num'], 'Reason', 'Requested', 'Held since', 'Next step'],
      rows: items.map((r) =>
        h(
          'tr',
          { 'data-testid': 'held-payout-row', 'data-redemption-id': r.redemption_id, 'data-partner-id': r.partner_id },
          h('td', { 'data-label': 'Partner', 'data-testid': 'held-partner' }, r.partner_name || r.partner_id, h('span', { class: 'muted small block' }, r.partner_id)),
          h('td', { 'data-label': 'Payee', 'data-testid': 'held-payee' }, r.payee || r.person),
          h('td', { 'data-label': 'Amount', class: 'num', 'data-testid': 'held-amount' }, unitAmount(r.amount?.amount ?? r.amount, r.amount?.unit ?? r.unit)),
          h('td', { 'data-label': 'Reason', 'data-testid': 'held-reason' }, r.status_reason || '—'),
          h('td', { 'data-label': 'Requested' }, timeEl(r.requested_at, { dateOnly: true, testid: 'held-requested-at' })),
          h('td', { 'data-label': 'Held since' }, timeEl(r.status_at, { dateOnly: true, testid: 'held-since' })),
          h(
            'td',
            { 'data-label': 'Next step' },
            h(
              'button',
              { type: 'button', class: 'button button-small', 'data-testid': 'held-record-tax-form', onclick: () => recordFor(r.partner_id) },
              `Record ${r.partner_name || r.partner_id}’s tax form`,
            ),
          ),
        ),
      ),
    }),
    more ? h('p', { class: 'muted small' }, 'More are held; recording a partner’s form releases theirs and shortens this list.') : null,
  ];
}

function batchForm(ctx, refreshAll) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'batch-form',
    title: 'Create a payout batch',
    hint: h('p', { class: 'muted small' }, 'Collects the approved payouts not yet in a batch (up to 500) into a CSV.'),
    result: resultSlot('batch'),
    fields: [],
    button: 'Create batch',
    buttonTestid: 'create-batch',
  });
  const controller = bindForm(form, {
    validators: {},
    busyLabel: 'Creating…',
    onSubmit: async () => {
      clearResult(form);
      // one batch per click: the key is new after each success (a retry of a failed send reuses it)
      await submitAdmin(ctx, form, controller, keeper, {
        url: '/rewards/payout-batches',
        body: {},
        button: 'Create batch',
        done: (batch) => {
          refreshAll();
          return `Batch ${batch?.batch_id} created: ${(batch?.rows || []).length} payee${(batch?.rows || []).length === 1 ? '' : 's'}, ${(batch?.payout_ids || []).length} payout${(batch?.payout_ids || []).length === 1 ? '' : 's'}.`;
        },
      });
    },
  });
  return form;
}

function batchesTable(ctx, batches, refresh) {
  if (!batches.length) return h('p', { class: 'empty', 'data-testid': 'batches-empty' }, 'No payout batch yet.');
  return dataTable({
    testid: 'batches-table',
    captionId: 'batches-caption',
    caption: `Payout batches (${batches.length})`,
    columns: ['Created', 'Status', 'Payees', ['Totals', 'num'], 'Next step', 'Actions'],
    rows: batches.map((batch) => {
      const state = h('span', { class: 'small block', role: 'status', 'data-testid': 'batch-state' });
      const actions = h('div', { class: 'actions' }, downloadBatch(ctx, batch, state));
      if (batch.status !== 'paid') actions.append(markPaid(ctx, batch, state, refresh));
      return h(
        'tr',
        { 'data-testid': 'batch-row', 'data-batch-id': batch.batch_id, 'data-status': batch.status },
        h('td', { 'data-label': 'Created' }, timeEl(batch.created_at, { testid: 'batch-created' }), h('code', { class: 'small block' }, batch.batch_id)),
        h(
          'td',
          { 'data-label': 'Status' },
          rewardStatusBadge(batch.status, 'batch-status'),
          batch.paid_at ? h('span', { class: 'muted small block' }, 'paid ', timeEl(batch.paid_at, { dateOnly: true }), batch.paid_by ? ` by ${batch.paid_by}` : '') : null,
        ),
        h('td', { 'data-label': 'Payees', 'data-testid': 'batch-payees' }, `${(batch.rows || []).length} payee${(batch.rows || []).length === 1 ? '' : 's'}, ${(batch.payout_ids || []).length} payout${(batch.payout_ids || []).length === 1 ? '' : 's'}`),
        h('td', { 'data-label': 'Totals', class: 'num', 'data-testid': 'batch-totals' }, (batch.totals || []).map((m) => h('span', { class: 'block' }, unitAmount(m.amount_minor, m.currency)))),
        h(
          'td',
          { 'data-label': 'Next step', 'data-testid': 'batch-next-step' },
          batch.status === 'paid' ? h('span', { class: 'muted' }, 'None') : 'Pay each row of the CSV, then mark the batch paid',
        ),
        h('td', { 'data-label': 'Actions' }, actions, state),
      );
    }),
  });
}

/** The CSV by its presigned link (a few minutes), asked for at the click; opened in a new tab. */
function downloadBatch(ctx, batch, state) {
  const button = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'batch-download' }, 'Download CSV');
  button.addEventListener('click', async () => {
    const win = window.open('', '_blank');
    button.disabled = true;
    state.textContent = 'Preparing the download…';
    let answer;
    try {
      answer = await api.get(path`/rewards/payout-batches/${batch.batch_id}`);
    } catch (error) {
      win?.close();
      button.disabled = false;
      if (ctx.handleAuthErrors(error)) return;
      state.textContent = `The download could not be prepared. ${error.message}`;
      return;
    }
    button.disabled = false;
    const url = answer?.download?.url;
    if (!url || !/^https?:\/\//i.test(url)) {
      win?.close();
      state.textContent = 'This batch has no file to download yet.';
      return;
    }
    const minutes = Math.round((answer.download.expires_in || 300) / 60);
    if (win) {
      win.opener = null;
      win.location.href = url;
      state.textContent = `Opened in a new tab. The link works for ${minutes} minutes.`;
    } else {
      state.replaceChildren(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'batch-download-link' }, `Open the CSV (works for ${minutes} minutes)`));
    }
  });
  return button;
}

function markPaid(ctx, batch, state, refresh) {
  const box = h('span', {});
  const paidKey = newId();
  const ask = h('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': 'batch-mark-paid' }, 'Mark paid');
  ask.addEventListener('click', () => {
    const confirm = h('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': 'batch-mark-paid-confirm' }, 'Yes, every payout in it was paid');
    const back = h('button', { type: 'button', class: 'button-inline', onclick: () => box.replaceChildren(ask) }, 'Not yet');
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      state.textContent = 'Marking paid…';
      try {
        await api.post(path`/rewards/payout-batches/${batch.batch_id}/paid`, {}, { idempotencyKey: paidKey });
      } catch (error) {
        if (ctx.handleAuthErrors(error)) return;
        confirm.disabled = false;
        state.textContent = `Not marked paid. ${error.message}`;
        return;
      }
      refresh();
    });
    box.replaceChildren(confirm, back);
    confirm.focus();
  });
  box.append(ask);
  return box;
}

async function taxForm(ctx, onRecorded) {
  // The partner picker lists partners when the vendor's partner list answers (the MDF admin's), else takes an ID.
  let partners = [];
  try {
    const data = await api.get('/mdf/partners');
    partners = Array.isArray(data?.items) ? data.items : [];
  } catch (error) {
    if (ctx.handleAuthErrors(error)) return h('div');
  }
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'tax-form',
    title: 'Record a tax form on file',
    result: resultSlot('tax'),
    fields: [
      field({
        id: 'tax_partner',
        label: 'Partner ID',
        hint: partners.length ? 'Type or pick the partner.' : 'The partner’s ID, e.g. prt_…',
        attrs: { autocomplete: 'off', list: partners.length ? 'tax-partners' : null },
      }),
      partners.length
        ? h('datalist', { id: 'tax-partners' }, partners.map((p) => h('option', { value: p.partner_id }, p.company_name || p.partner_id)))
        : null,
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: 'tax_reference', label: 'Form reference', hint: 'e.g. W-9 2026 or the document number.', attrs: { autocomplete: 'off' } }),
        field({ id: 'tax_received_on', label: 'Received on', type: 'date' }),
      ),
    ],
    button: 'Record tax form',
    buttonTestid: 'record-tax-form',
  });
  const els = form.elements;
  const controller = bindForm(form, {
    validators: {
      tax_partner: (v) => (PARTNER_ID.test(String(v).trim()) ? '' : 'Enter the partner’s ID.'),
      tax_reference: (v) => required(v, 'Enter the form’s reference.') || maxLength(v, 120, 'The reference'),
      tax_received_on: (v) => {
        if (!isIsoDate(v)) return 'Choose the day it was received.';
        return v > today() ? 'The day it was received cannot be in the future.' : '';
      },
    },
    busyLabel: 'Recording…',
    onSubmit: async () => {
      clearResult(form);
      const partnerId = els.tax_partner.value.trim();
      const name = partners.find((p) => p.partner_id === partnerId)?.company_name || partnerId;
      await submitAdmin(ctx, form, controller, keeper, {
        url: path`/rewards/partners/${partnerId}/tax-form`,
        body: { reference: els.tax_reference.value.trim(), received_on: els.tax_received_on.value },
        fieldMap: { reference: 'tax_reference', received_on: 'tax_received_on', partner_id: 'tax_partner' },
        button: 'Record tax form',
        done: (answer) => {
          controller.reset();
          const released = Array.isArray(answer?.released) ? answer.released.length : 0;
          if (released) onRecorded?.();
          return `Tax form ${answer?.tax_form?.reference || ''} is on file for ${name}. ${
            released ? `${released} held payout${released === 1 ? ' was' : 's were'} released.` : 'No payout was held.'
          }`;
        },
      });
    },
  });
  return form;
}
