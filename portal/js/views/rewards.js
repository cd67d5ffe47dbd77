// #/rewards: a partner user's rewards. Balances per unit (available, pending, on hold; a negative available balance
// blocks redemption until it is earned back), the history of rewards and redemptions (campaign, source, amount,
// status with its reason, date, next step; "Load more"), the campaigns open to the user with their rules in plain
// words, the redemption form (a payout of at least the currency's minimum, or a catalogue item with its cost and
// stock) with the user's redemptions, the SPIFF claim form with proof files and the user's claims (a claim returned
// for more proof is resubmitted here), and for partner admins the organisation's totals per person.
import { api, path } from '../api.js';
import { announce, append, dataTable, dateish, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import { LIMITS, bindForm, field, formAlert, idempotencyKeeper, maxLength, required, sendForm, today } from '../forms.js';
import { actionNotice } from '../record.js';
import {
  POINTS,
  claimNextStep,
  eligibilityWords,
  historyNextStep,
  parseUnitAmount,
  redemptionNextStep,
  rewardStatusBadge,
  ruleWords,
  sourceText,
  unitAmount,
} from './rewards-common.js';
import { proofField } from './rewards-proofs.js';

const HISTORY_PAGE = 20;
const LIST_PAGE = 20;

export async function renderRewards(ctx) {
  const notice = actionNotice(ctx.takeFlash());
  const sections = {
    balances: h('section', { class: 'rewards-balances', 'aria-labelledby': 'balances-heading' }),
    history: h('section', { class: 'rewards-history', 'aria-labelledby': 'history-heading' }),
    campaigns: h('section', { class: 'rewards-campaigns', 'aria-labelledby': 'campaigns-heading' }),
    redeem: h('section', { class: 'rewards-redeem', 'aria-labelledby': 'redeem-heading' }),
    claims: h('section', { class: 'rewards-claims', 'aria-labelledby': 'claims-heading' }),
    organisation: ctx.isPartnerAdmin()
      ? h('section', { class: 'rewards-organisation', 'aria-labelledby': 'org-heading', 'data-testid': 'org-rewards' })
      : null,
  };
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'rewards-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'rewards-title' }, 'Rewards'),
        'What you earned from won deals, certifications and SPIFF claims, and what you can redeem it for.',
        h('button', { type: 'button', class: 'button', 'data-testid': 'go-redeem', onclick: () => jumpTo('redeem-heading') }, 'Redeem'),
      ),
      notice,
      Object.values(sections),
    ),
  );
  sections.balances.append(h('h2', { id: 'balances-heading' }, 'Balance'), loading('Loading your rewards…'));
  sections.history.append(h('h2', { id: 'history-heading' }, 'History'));
  sections.campaigns.append(h('h2', { id: 'campaigns-heading' }, 'Campaigns open to you'), loading('Loading campaigns…'));
  sections.redeem.append(h('h2', { id: 'redeem-heading', tabindex: '-1' }, 'Redeem'), loading('Loading…'));
  sections.claims.append(h('h2', { id: 'claims-heading' }, 'SPIFF claims'), loading('Loading your claims…'));

  const mine = api.get(`/rewards/me?limit=${HISTORY_PAGE}`);
  const campaigns = api.get('/rewards/campaigns');
  const catalogue = api.get('/rewards/catalogue');
  await Promise.all([
    showMine(ctx, sections, mine),
    showCampaigns(ctx, sections.campaigns, campaigns),
    showRedeem(ctx, sections.redeem, mine, catalogue),
    showClaims(ctx, sections.claims, campaigns),
    sections.organisation ? showOrganisation(ctx, sections.organisation) : null,
  ]);
}

/** Move to a heading of this page (hash links would be routes here); `spiff` preselects it in the claim form. */
function jumpTo(id, spiff) {
  const select = spiff && document.getElementById('claim_rule');
  if (select && [...select.options].some((o) => o.value === spiff)) {
    select.value = spiff;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  }
  const heading = document.getElementById(id);
  heading?.scrollIntoView({ block: 'start' });
  heading?.focus({ preventScroll: true });
}

/** Replace a section's body (everything after its heading). */
function fill(section, ...nodes) {
  const heading = section.querySelector('h2');
  section.replaceChildren(heading, ...nodes.flat().filter(Boolean));
}

function failed(ctx, section, what, error) {
  if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
  fill(section, errorPanel(`We could not load ${what}. ${error.message}`, ctx.rerender));
}

/** After an accepted action: the page again, with the message as its notice. */
function done(ctx, message) {
  ctx.setFlash(message);
  announce(message);
  ctx.rerender();
}

// ------------------------------------------------------------------ balances and history

async function showMine(ctx, sections, request) {
  let data;
  try {
    data = await request;
  } catch (error) {
    failed(ctx, sections.balances, 'your rewards', error);
    if (ctx.isCurrent()) fill(sections.history);
    return;
  }
  if (!ctx.isCurrent()) return;
  const balances = Array.isArray(data?.balances) ? data.balances : [];
  fill(
    sections.balances,
    balances.length
      ? h('div', { class: 'cert-grid', 'data-testid': 'balances' }, balances.map(balanceCard))
      : h(
          'p',
          { class: 'empty', 'data-testid': 'balances-empty' },
          'No rewards yet. Win deals, earn certifications or claim a SPIFF in a campaign open to you to earn them.',
        ),
  );
  showHistory(ctx, sections.history, data);
}

function balanceCard(balance) {
  const unit = balance.unit;
  const title = unit === POINTS ? 'Points' : unit;
  const amount = (value) => unitAmount(value ?? 0, unit);
  const negative = Number(balance.available) < 0;
  return h(
    'article',
    { class: 'card fund-card', 'data-testid': 'balance-card', 'data-unit': unit, 'aria-labelledby': `balance-${unit}` },
    h('h3', { id: `balance-${unit}` }, title),
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Available'),
      h('dd', { 'data-testid': 'balance-available', class: negative ? 'overdue strong' : 'strong' }, amount(balance.available)),
      h('dt', {}, 'Pending'),
      h('dd', { 'data-testid': 'balance-pending' }, amount(balance.pending)),
      h('dt', {}, 'On hold'),
      h('dd', { 'data-testid': 'balance-on-hold' }, amount(balance.on_hold)),
      Number(balance.approved) ? [h('dt', {}, 'Approved, not yet available'), h('dd', { 'data-testid': 'balance-approved' }, amount(balance.approved))] : null,
      Number(balance.reserved) ? [h('dt', {}, 'Being redeemed'), h('dd', { 'data-testid': 'balance-reserved' }, amount(balance.reserved))] : null,
      Number(balance.paid) ? [h('dt', {}, 'Paid out'), h('dd', { 'data-testid': 'balance-paid' }, amount(balance.paid))] : null,
    ),
    negative
      ? h(
          'p',
          { class: 'notice notice-warn', role: 'note', 'data-testid': 'balance-blocked' },
          'Negative because a reward you had already spent was reversed: redemption is blocked until you earn it back.',
        )
      : null,
  );
}

function showHistory(ctx, section, first) {
  const state = { items: [], cursor: null, ids: new Set() };
  const results = h('div', {});
  const more = h('div', { class: 'load-more' });

  function add(data) {
    const items = Array.isArray(data?.items) ? data.items : [];
    const added = items.filter((item) => !state.ids.has(`${item.type}:${entryId(item)}`));
    for (const item of added) state.ids.add(`${item.type}:${entryId(item)}`);
    state.items.push(...added);
    state.cursor = data?.next_cursor || null;
    results.replaceChildren(
      state.items.length
        ? historyTable(state.items)
        : h('p', { class: 'empty', 'data-testid': 'history-empty' }, 'Nothing earned or redeemed yet.'),
    );
    more.replaceChildren(state.cursor ? moreButton() : '');
    return added;
  }

  function moreButton(label = 'Load more') {
    return h('button', { type: 'button', class: 'button', 'data-testid': 'history-load-more', onclick: loadMore }, label);
  }

  async function loadMore() {
    more.replaceChildren(loading('Loading more entries…'));
    let data;
    try {
      data = await api.get(`/rewards/me?${new URLSearchParams({ limit: String(HISTORY_PAGE), cursor: state.cursor })}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
      more.replaceChildren(
        h('p', { class: 'form-alert', role: 'alert', 'data-testid': 'history-load-more-error' }, `We could not load more entries. ${error.message}`),
        moreButton('Try again'),
      );
      return;
    }
    if (!ctx.isCurrent()) return;
    const added = add(data);
    announce(`${added.length} more entr${added.length === 1 ? 'y' : 'ies'} loaded.`);
    const firstNew = added[0] && results.querySelector(`[data-testid=history-row][data-id="${CSS.escape(entryId(added[0]))}"]`);
    firstNew?.setAttribute('tabindex', '-1');
    firstNew?.focus();
  }

  fill(section, h('p', { class: 'muted small' }, 'Newest first. Each reward says which campaign and which deal, certification or claim it is for.'), results, more);
  add(first);
}

function entryId(item) {
  return String(item.id || item.redemption_id || '');
}

function historyTable(items) {
  return dataTable({
    testid: 'history-table',
    captionId: 'history-caption',
    caption: `Your rewards and redemptions, newest first (${items.length} shown)`,
    columns: ['Date', 'Campaign', 'Source', ['Amount', 'num'], 'Status', 'Next step'],
    rows: items.map(historyRow),
  });
}

function historyRow(item) {
  const isReward = item.type === 'reward';
  const amount = typeof item.amount === 'object' && item.amount !== null ? item.amount : { amount: item.amount, unit: item.unit };
  const next = historyNextStep(item);
  const reasonText = item.status_reason || '';
  return h(
    'tr',
    { 'data-testid': 'history-row', 'data-type': item.type || 'record', 'data-id': entryId(item), 'data-status': item.status },
    h('td', { 'data-label': 'Date' }, dateish(item.at || item.status_at, 'history-date')),
    h(
      'td',
      { 'data-label': 'Campaign', 'data-testid': 'history-campaign' },
      isReward
        ? [h('span', { class: 'block' }, item.campaign_name || item.campaign_id || '—'), item.rule ? h('span', { class: 'muted small block', 'data-testid': 'history-rule' }, item.rule) : null]
        : h('span', { class: 'muted' }, 'Redemption'),
    ),
    h(
      'td',
      { 'data-label': 'Source', 'data-testid': 'history-source' },
      isReward ? sourceText(item.source) : item.kind === 'item' ? `Catalogue item: ${item.item_name || item.item_id}` : 'Payout',
    ),
    h(
      'td',
      { 'data-label': 'Amount', class: 'num', 'data-testid': 'history-amount' },
      `${isReward ? '' : '\u2212'}${unitAmount(amount.amount, amount.unit)}`,
    ),
    h(
      'td',
      { 'data-label': 'Status' },
      rewardStatusBadge(item.status, 'history-status'),
      reasonText ? h('span', { class: 'small block', 'data-testid': 'history-reason' }, reasonText) : null,
      isReward && item.status === 'available' && item.paid_amount > 0
        ? h('span', { class: 'small block', 'data-testid': 'history-paid-part' }, `${unitAmount(item.paid_amount, amount.unit)} of it paid out`)
        : null,
      item.status_at ? h('span', { class: 'muted small block' }, 'since ', timeEl(item.status_at, { dateOnly: true, testid: 'history-status-at' })) : null,
    ),
    h(
      'td',
      { 'data-label': 'Next step', 'data-testid': 'history-next-step' },
      next
        ? [
            h('span', { class: 'block' }, next),
            isReward && item.status === 'approved' && item.available_at
              ? h('span', { class: 'small muted' }, 'on ', timeEl(item.available_at, { dateOnly: true }))
              : null,
          ]
        : h('span', { class: 'muted' }, 'None'),
    ),
  );
}

// ------------------------------------------------------------------ campaigns open to me

async function showCampaigns(ctx, section, request) {
  let data;
  try {
    data = await request;
  } catch (error) {
    failed(ctx, section, 'the campaigns', error);
    return;
  }
  if (!ctx.isCurrent()) return;
  const items = (Array.isArray(data?.items) ? data.items : []).filter((c) => (c.status || 'open') === 'open');
  fill(
    section,
    items.length
      ? h('div', { class: 'cert-grid', 'data-testid': 'campaigns' }, items.map(campaignCard))
      : h('p', { class: 'empty', 'data-testid': 'campaigns-empty' }, 'No campaign is open to your organisation right now.'),
  );
}

function campaignCard(campaign) {
  const id = `campaign-${String(campaign.campaign_id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const rules = Array.isArray(campaign.rules) ? campaign.rules : [];
  return h(
    'article',
    { class: 'card fund-card', 'data-testid': 'campaign-card', 'data-campaign-id': campaign.campaign_id, 'aria-labelledby': id },
    h('h3', { id, 'data-testid': 'campaign-name' }, campaign.name),
    campaign.description ? h('p', { class: 'pre small', 'data-testid': 'campaign-description' }, campaign.description) : null,
    h(
      'p',
      { class: 'muted small', 'data-testid': 'campaign-dates' },
      dateish(campaign.starts_on),
      ' – ',
      dateish(campaign.ends_on),
      ` · pays in ${campaign.unit === POINTS ? 'points' : campaign.unit}`,
    ),
    h(
      'ul',
      { class: 'plain-list', 'data-testid': 'campaign-rules' },
      rules.map((rule) =>
        h('li', { 'data-testid': 'campaign-rule', 'data-kind': rule.kind, 'data-rule-id': rule.rule_id }, ruleWords(rule, campaign.unit)),
      ),
    ),
    campaign.eligibility ? h('p', { class: 'muted small', 'data-testid': 'campaign-eligibility' }, eligibilityWords(campaign.eligibility)) : null,
    rules.some((rule) => rule.kind === 'spiff_claim') && inWindow(campaign)
      ? h('button', { type: 'button', class: 'button button-small', 'data-testid': 'campaign-claim', onclick: () => jumpTo('claim-form-heading', `${campaign.campaign_id}::${rules.find((r) => r.kind === 'spiff_claim').rule_id}`) }, 'Claim this SPIFF')
      : null,
  );
}

function inWindow(campaign) {
  const day = today();
  return (!campaign.starts_on || campaign.starts_on <= day) && (!campaign.ends_on || day <= campaign.ends_on);
}

// ------------------------------------------------------------------ redemption

async function showRedeem(ctx, section, meRequest, catalogueRequest) {
  let me;
  let catalogue;
  try {
    [me, catalogue] = await Promise.all([meRequest, catalogueRequest]);
  } catch (error) {
    failed(ctx, section, 'what you can redeem', error);
    return;
  }
  if (!ctx.isCurrent()) return;
  const redemptions = h('div', { 'data-testid': 'my-redemptions' }, loading('Loading your redemptions…'));
  fill(
    section,
    h('p', { class: 'muted small' }, 'Spend your available balance on a payout in its currency, or your points on an item from the catalogue.'),
    redeemForm(ctx, me, Array.isArray(catalogue?.items) ? catalogue.items : []),
    h('h3', { id: 'redemptions-heading' }, 'My redemptions'),
    redemptions,
  );
  await showRedemptions(ctx, redemptions);
}

const PAYOUT_FIELDS = { amount: 'payout_amount', 'amount.amount_minor': 'payout_amount', 'amount.currency': 'payout_currency', kind: 'redeem_kind' };
const ITEM_FIELDS = { item_id: 'redeem_item', amount: 'redeem_item', kind: 'redeem_kind' };

function redeemForm(ctx, me, items) {
  const keeper = idempotencyKeeper();
  const balances = Array.isArray(me?.balances) ? me.balances : [];
  const balanceOf = (unit) => balances.find((b) => b.unit === unit);
  const minimums = me?.payout_minimums && typeof me.payout_minimums === 'object' ? me.payout_minimums : {};
  // the currencies you hold first (the first is chosen), then the others payouts are offered in
  const held = balances.map((b) => b.unit).filter((u) => u !== POINTS).sort();
  const currencies = [...new Set([...held, ...Object.keys(minimums).sort()])];
  const points = balanceOf(POINTS);
  const blocked = balances.filter((b) => Number(b.available) < 0).map((b) => b.unit);

  const kind = field({
    id: 'redeem_kind',
    label: 'What would you like?',
    control: 'select',
    options: [
      ['payout', 'A payout of money'],
      ['item', 'An item from the catalogue (for points)'],
    ],
  });
  const payoutBox = h(
    'div',
    { 'data-testid': 'payout-fields' },
    h(
      'div',
      { class: 'grid-2-tight' },
      field({ id: 'payout_amount', label: 'Amount', attrs: { inputmode: 'decimal', autocomplete: 'off' } }),
      field({
        id: 'payout_currency',
        label: 'Currency',
        control: 'select',
        placeholder: currencies.length ? undefined : 'No currency balance yet',
        options: currencies.map((c) => [c, c]),
      }),
    ),
    h('p', { class: 'hint', role: 'status', 'data-testid': 'payout-minimum' }),
  );
  const itemBox = h(
    'div',
    { 'data-testid': 'item-fields', hidden: true },
    field({
      id: 'redeem_item',
      label: 'Catalogue item',
      control: 'select',
      placeholder: items.length ? 'Choose an item…' : 'The catalogue is empty',
      options: items.map((item) => [
        item.item_id,
        `${item.name} – ${unitAmount(item.cost_points, POINTS)}${Number(item.stock) > 0 ? ` (${item.stock} in stock)` : ' (out of stock)'}`,
      ]),
    }),
    h('p', { class: 'hint', role: 'status', 'data-testid': 'item-cost' }),
  );
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'redeem-form', 'aria-labelledby': 'redeem-heading' },
    formAlert(),
    blocked.length
      ? h(
          'p',
          { class: 'notice notice-warn', 'data-testid': 'redeem-blocked' },
          `Your available ${blocked.join(', ')} balance is negative: redemption is blocked until you earn it back.`,
        )
      : null,
    kind,
    payoutBox,
    itemBox,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'redeem' }, 'Redeem')),
  );
  const els = form.elements;
  const isItem = () => els.redeem_kind.value === 'item';
  const chosenItem = () => items.find((item) => item.item_id === els.redeem_item.value);

  function describe() {
    payoutBox.hidden = isItem();
    itemBox.hidden = !isItem();
    const currency = els.payout_currency.value;
    const minimum = minimums[currency];
    const available = balanceOf(currency)?.available ?? 0;
    payoutBox.querySelector('[data-testid=payout-minimum]').textContent = currency
      ? `${minimum !== undefined ? `The smallest payout is ${unitAmount(minimum, currency)}. ` : ''}Available: ${unitAmount(available, currency)}.`
      : 'You have no balance in a currency to pay out yet.';
    const item = chosenItem();
    itemBox.querySelector('[data-testid=item-cost]').textContent = item
      ? `${item.name} costs ${unitAmount(item.cost_points, POINTS)}; ${Number(item.stock) > 0 ? `${item.stock} in stock` : 'out of stock'}. You have ${unitAmount(points?.available ?? 0, POINTS)} available.`
      : `You have ${unitAmount(points?.available ?? 0, POINTS)} available.`;
  }
  form.addEventListener('change', describe);
  describe();

  const validators = {
    payout_amount: (value) => {
      if (isItem()) return '';
      const currency = els.payout_currency.value;
      if (!currency) return 'You have no balance in a currency to pay out yet.';
      const parsed = parseUnitAmount(value, currency, { what: 'the amount to pay out' });
      if (!parsed.ok) return parsed.error;
      const minimum = minimums[currency];
      if (minimum !== undefined && parsed.value < Number(minimum)) return `The smallest payout is ${unitAmount(minimum, currency)}.`;
      const available = Number(balanceOf(currency)?.available ?? 0);
      if (available < 0) return `Your available ${currency} balance is negative: redemption is blocked until you earn it back.`;
      if (parsed.value > available) return `You have ${unitAmount(available, currency)} available.`;
      return '';
    },
    payout_currency: (value) => (isItem() ? '' : required(value, 'Choose the currency.')),
    redeem_item: (value) => {
      if (!isItem()) return '';
      if (!value) return 'Choose an item.';
      const item = chosenItem();
      if (item && Number(item.stock) <= 0) return `${item.name} is out of stock.`;
      const available = Number(points?.available ?? 0);
      if (item && available < Number(item.cost_points)) {
        return `${item.name} costs ${unitAmount(item.cost_points, POINTS)}; you have ${unitAmount(available, POINTS)} available.`;
      }
      return '';
    },
  };

  const controller = bindForm(form, {
    validators,
    dependents: { payout_currency: ['payout_amount'], redeem_kind: ['payout_amount', 'redeem_item'] },
    busyLabel: 'Redeeming…',
    onSubmit: async () => {
      const body = isItem()
        ? { kind: 'item', item_id: els.redeem_item.value }
        : {
            kind: 'payout',
            amount: {
              amount_minor: parseUnitAmount(els.payout_amount.value, els.payout_currency.value).value,
              currency: els.payout_currency.value,
            },
          };
      await sendForm(ctx, form, controller, {
        keeper,
        body,
        send: (text, idempotencyKey) => api.post('/rewards/redemptions', text, { idempotencyKey }),
        done: (answer) =>
          done(
            ctx,
            answer?.kind === 'item'
              ? `Redeemed ${unitAmount(answer.amount?.amount, POINTS)} for ${answer.item_name || 'the item'}. The vendor sends it to you.`
              : `Payout of ${unitAmount(answer?.amount?.amount, answer?.amount?.unit)} requested. Finance approves it; its status is under My redemptions.`,
          ),
        fieldMap: isItem() ? ITEM_FIELDS : PAYOUT_FIELDS,
        onError: (error) => {
          // 409s that concern one field (not enough balance, out of stock) belong on that field.
          if (error.status !== 409 || error.fieldErrors?.length) return false;
          if (error.code === 'out_of_stock' || /stock/i.test(error.message)) {
            controller.showFieldError('redeem_item', error.message);
            return true;
          }
          if (error.code === 'insufficient_balance') {
            controller.showFieldError(isItem() ? 'redeem_item' : 'payout_amount', error.message);
            return true;
          }
          return false;
        },
        reload: 'Reload your rewards',
        retry: 'Select “Redeem” again to retry; it is sent once.',
        fallback: 'The redemption was not accepted.',
      });
    },
  });
  return form;
}

async function showRedemptions(ctx, box) {
  const state = { items: [], cursor: null };
  const more = h('div', { class: 'load-more' });
  const results = h('div', {});
  box.replaceChildren(results, more);

  async function load(next = false) {
    const params = new URLSearchParams({ limit: String(LIST_PAGE) });
    if (next && state.cursor) params.set('cursor', state.cursor);
    if (next) more.replaceChildren(loading('Loading more redemptions…'));
    let data;
    try {
      data = await api.get(`/rewards/redemptions?${params}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
      (next ? more : results).replaceChildren(errorPanel(`We could not load your redemptions. ${error.message}`, () => load(next)));
      return;
    }
    if (!ctx.isCurrent()) return;
    const known = new Set(state.items.map((r) => r.redemption_id));
    state.items.push(...(Array.isArray(data?.items) ? data.items : []).filter((r) => !known.has(r.redemption_id)));
    state.cursor = data?.next_cursor || null;
    results.replaceChildren(
      state.items.length
        ? redemptionsTable(state.items)
        : h('p', { class: 'empty', 'data-testid': 'redemptions-empty' }, 'You have not redeemed anything yet.'),
    );
    more.replaceChildren(
      state.cursor
        ? h('button', { type: 'button', class: 'button', 'data-testid': 'redemptions-load-more', onclick: () => load(true) }, 'Load more')
        : '',
    );
  }
  await load();
}

function redemptionsTable(items) {
  return dataTable({
    testid: 'redemptions-table',
    captionId: 'redemptions-caption',
    caption: `Your redemptions, newest first (${items.length} shown)`,
    columns: ['Requested', 'What', ['Amount', 'num'], 'Status', 'Next step'],
    rows: items.map((r) => {
      const amount = typeof r.amount === 'object' && r.amount !== null ? r.amount : { amount: r.amount, unit: r.unit };
      const next = redemptionNextStep(r);
      return h(
        'tr',
        { 'data-testid': 'redemption-row', 'data-redemption-id': r.redemption_id, 'data-status': r.status },
        h('td', { 'data-label': 'Requested' }, timeEl(r.requested_at, { testid: 'redemption-requested-at' })),
        h('td', { 'data-label': 'What', 'data-testid': 'redemption-what' }, r.kind === 'item' ? r.item_name || r.item_id || 'Catalogue item' : 'Payout'),
        h('td', { 'data-label': 'Amount', class: 'num', 'data-testid': 'redemption-amount' }, unitAmount(amount.amount, amount.unit)),
        h(
          'td',
          { 'data-label': 'Status' },
          rewardStatusBadge(r.status, 'redemption-status'),
          r.status_reason ? h('span', { class: 'small block', 'data-testid': 'redemption-reason' }, r.status_reason) : null,
          h('span', { class: 'muted small block' }, 'since ', timeEl(r.status_at, { dateOnly: true, testid: 'redemption-status-at' })),
        ),
        h('td', { 'data-label': 'Next step', 'data-testid': 'redemption-next-step' }, next || h('span', { class: 'muted' }, 'None')),
      );
    }),
  });
}

// ------------------------------------------------------------------ SPIFF claims

async function showClaims(ctx, section, campaignsRequest) {
  let campaigns;
  let claims;
  try {
    [campaigns, claims] = await Promise.all([campaignsRequest, api.get(`/rewards/claims?limit=${LIST_PAGE}`)]);
  } catch (error) {
    failed(ctx, section, 'your claims', error);
    return;
  }
  if (!ctx.isCurrent()) return;
  const spiffs = [];
  for (const campaign of Array.isArray(campaigns?.items) ? campaigns.items : []) {
    if ((campaign.status || 'open') !== 'open' || !inWindow(campaign)) continue;
    for (const rule of campaign.rules || []) {
      if (rule.kind === 'spiff_claim') spiffs.push({ campaign, rule });
    }
  }
  const items = Array.isArray(claims?.items) ? claims.items : [];
  fill(
    section,
    h('h3', { id: 'claim-form-heading', tabindex: '-1' }, 'Claim a SPIFF'),
    spiffs.length
      ? claimForm(ctx, spiffs)
      : h('p', { class: 'empty', 'data-testid': 'claim-none-open' }, 'No SPIFF is open to claim right now.'),
    h('h3', { id: 'my-claims-heading' }, ctx.isPartnerAdmin() ? 'Claims in your organisation' : 'My claims'),
    items.length
      ? h('div', { class: 'claim-list', 'data-testid': 'my-claims' }, items.map((claim) => claimCard(ctx, claim)))
      : h('p', { class: 'empty', 'data-testid': 'claims-empty' }, 'You have not filed a claim yet.'),
  );
}

const CLAIM_FIELDS = { campaign_id: 'claim_rule', rule_id: 'claim_rule', description: 'claim_description', proof_files: 'claim_files' };

function claimForm(ctx, spiffs) {
  const keeper = idempotencyKeeper();
  let controller;
  const proofs = proofField(ctx, {
    id: 'claim_files',
    label: 'Proof',
    onChange: () => {
      if (!form.querySelector('#claim_files-error').hidden) controller?.validateField('claim_files');
    },
  });
  const form = h(
    'form',
    { class: 'form card', novalidate: true, 'data-testid': 'claim-form', 'aria-labelledby': 'claim-form-heading' },
    formAlert(),
    field({
      id: 'claim_rule',
      label: 'SPIFF',
      control: 'select',
      placeholder: spiffs.length === 1 ? undefined : 'Choose a SPIFF…',
      options: spiffs.map(({ campaign, rule }) => [
        `${campaign.campaign_id}::${rule.rule_id}`,
        `${campaign.name}: ${ruleWords(rule, campaign.unit)}`,
      ]),
    }),
    field({
      id: 'claim_description',
      label: 'What you did',
      control: 'textarea',
      hint: 'The deal, customer or activity this SPIFF is for, so the reviewer can match your proof.',
      attrs: { rows: 3 },
    }),
    proofs.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'file-claim' }, 'File claim')),
  );
  const els = form.elements;
  controller = bindForm(form, {
    validators: {
      claim_rule: (v) => required(v, 'Choose the SPIFF you claim.'),
      claim_description: (v) => required(v, 'Say what the claim is for.') || maxLength(v, LIMITS.description, 'The description'),
      claim_files: () => proofs.validate(),
    },
    busyLabel: 'Filing…',
    onSubmit: async () => {
      if (!(await proofs.ready(controller, 'Filing…'))) return;
      const [campaignId, ruleId] = els.claim_rule.value.split('::');
      await sendForm(ctx, form, controller, {
        keeper,
        body: {
          campaign_id: campaignId,
          rule_id: ruleId,
          description: els.claim_description.value.trim(),
          proof_files: proofs.fileIds(),
        },
        send: (text, idempotencyKey) => api.post('/rewards/claims', text, { idempotencyKey }),
        done: () => done(ctx, 'Your claim was filed. The channel team reviews it; the decision appears under My claims.'),
        onError: (error) => {
          if (!error.fieldErrors?.length) return false;
          controller.showServerErrors({ ...error, fieldErrors: proofs.refuse(error.fieldErrors) }, CLAIM_FIELDS);
          return true;
        },
        reload: 'Reload your rewards',
        retry: 'Your answers and files are kept: select “File claim” again to retry.',
        fallback: 'The claim was not accepted.',
      });
    },
  });
  return form;
}

function claimCard(ctx, claim) {
  const id = `claim-${claim.claim_id}`;
  const amount = typeof claim.amount === 'object' && claim.amount !== null ? claim.amount : { amount: claim.amount, unit: claim.unit };
  const next = claimNextStep(claim);
  const files = Array.isArray(claim.proof_files) ? claim.proof_files : [];
  const card = h(
    'article',
    { class: 'card', 'data-testid': 'claim-card', 'data-claim-id': claim.claim_id, 'data-status': claim.status, 'aria-labelledby': id },
    h(
      'div',
      { class: 'fund-head' },
      h('h4', { id, 'data-testid': 'claim-campaign' }, claim.campaign_name || claim.campaign_id),
      rewardStatusBadge(claim.status, 'claim-status'),
    ),
    claim.status_reason
      ? h(
          'p',
          { class: `notice ${claim.status === 'declined' ? 'notice-bad' : 'notice-warn'}`, 'data-testid': 'claim-reason' },
          h('strong', {}, claim.status === 'returned' ? 'What the reviewer needs: ' : 'Reason: '),
          claim.status_reason,
        )
      : null,
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Pays'),
      h('dd', { 'data-testid': 'claim-amount' }, unitAmount(amount.amount, amount.unit)),
      h('dt', {}, 'Filed'),
      h('dd', {}, timeEl(claim.submitted_at, { testid: 'claim-submitted-at' }), Number(claim.round) > 1 ? ` (round ${claim.round})` : ''),
      h('dt', {}, 'Status since'),
      h('dd', {}, timeEl(claim.status_at, { testid: 'claim-status-at' })),
      h('dt', {}, 'Next step'),
      h('dd', { 'data-testid': 'claim-next-step' }, next || h('span', { class: 'muted' }, 'None')),
      h('dt', {}, 'Description'),
      h('dd', { class: 'pre', 'data-testid': 'claim-description' }, claim.description || '—'),
      h('dt', {}, 'Proof'),
      h(
        'dd',
        {},
        files.length
          ? h('ul', { class: 'plain-list' }, files.map((file) => h('li', { 'data-testid': 'claim-file', 'data-file-id': file.file_id }, downloadButton(ctx, claim, file))))
          : '—',
      ),
    ),
  );
  const mine = String(claim.person || '').toLowerCase() === String(ctx.me?.email || '').toLowerCase();
  if (!mine) {
    // a partner admin sees colleagues' claims too; only the person who filed one resubmits it
    card.querySelector('dl').prepend(h('dt', {}, 'Filed by'), h('dd', { 'data-testid': 'claim-person' }, claim.person));
  }
  if (claim.status === 'returned' && mine) {
    const toggle = h('button', { type: 'button', class: 'button', 'data-testid': 'claim-resubmit-open' }, 'Add proof and resubmit');
    const slot = h('div', {});
    toggle.addEventListener('click', () => {
      if (slot.firstChild) return;
      slot.append(resubmitForm(ctx, claim));
      toggle.remove();
      slot.querySelector('textarea')?.focus();
    });
    append(card, [toggle, slot]);
  }
  return card;
}

function downloadButton(ctx, claim, file) {
  const status = h('span', { class: 'small', role: 'status', 'data-testid': 'download-state' });
  const button = h('button', { type: 'button', class: 'button-inline', 'data-testid': 'download-file' }, file.file_name || file.file_id);
  button.addEventListener('click', async () => {
    const win = window.open('', '_blank'); // during the click, so pop-up blockers allow it
    status.textContent = 'Preparing the download…';
    try {
      const answer = await api.get(path`/rewards/claims/${claim.claim_id}/proofs/${file.file_id}`);
      if (!answer?.url || !/^https?:\/\//i.test(answer.url)) throw new Error('The download could not be prepared.');
      if (win) {
        win.opener = null;
        win.location.href = answer.url;
        status.textContent = ' Opened in a new tab.';
      } else {
        status.replaceChildren(h('a', { href: answer.url, target: '_blank', rel: 'noopener noreferrer' }, ` Open ${file.file_name}`));
      }
    } catch (error) {
      win?.close();
      if (ctx.handleAuthErrors(error)) return;
      status.textContent = ` The download could not be prepared. ${error.message}`;
    }
  });
  return [button, status];
}

function resubmitForm(ctx, claim) {
  const keeper = idempotencyKeeper();
  let controller;
  const proofs = proofField(ctx, {
    id: `resubmit_files_${claim.claim_id}`,
    label: 'Proof (the files kept, and any you add)',
    kept: Array.isArray(claim.proof_files) ? claim.proof_files : [],
    onChange: () => controller?.validateField(`resubmit_files_${claim.claim_id}`),
  });
  const descriptionId = `resubmit_description_${claim.claim_id}`;
  const filesId = `resubmit_files_${claim.claim_id}`;
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'resubmit-form', 'aria-label': 'Resubmit the claim' },
    formAlert(),
    field({ id: descriptionId, label: 'What you did', control: 'textarea', attrs: { rows: 3 } }),
    proofs.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'resubmit-claim' }, 'Resubmit claim')),
  );
  form.elements[descriptionId].value = claim.description || '';
  controller = bindForm(form, {
    validators: {
      [descriptionId]: (v) => required(v, 'Say what the claim is for.') || maxLength(v, LIMITS.description, 'The description'),
      [filesId]: () => proofs.validate(),
    },
    busyLabel: 'Resubmitting…',
    onSubmit: async () => {
      if (!(await proofs.ready(controller, 'Resubmitting…'))) return;
      await sendForm(ctx, form, controller, {
        keeper,
        body: { description: form.elements[descriptionId].value.trim(), proof_files: proofs.fileIds() },
        send: (text, idempotencyKey) => api.post(path`/rewards/claims/${claim.claim_id}/resubmit`, text, { idempotencyKey }),
        done: () => done(ctx, 'Your claim was resubmitted with the new proof. The channel team reviews it again.'),
        onError: (error) => {
          if (!error.fieldErrors?.length) return false;
          controller.showServerErrors(
            { ...error, fieldErrors: proofs.refuse(error.fieldErrors) },
            { description: descriptionId, proof_files: filesId },
          );
          return true;
        },
        reload: 'Reload your rewards',
        retry: 'Your answers and files are kept: select “Resubmit claim” again to retry.',
        fallback: 'The claim was not accepted.',
      });
    },
  });
  return form;
}

// ------------------------------------------------------------------ partner admins: the organisation

async function showOrganisation(ctx, section) {
  section.append(h('h2', { id: 'org-heading' }, 'Your organisation’s rewards'), loading('Loading your organisation’s rewards…'));
  let data;
  try {
    data = await api.get('/rewards/organisation');
  } catch (error) {
    failed(ctx, section, 'your organisation’s rewards', error);
    return;
  }
  if (!ctx.isCurrent()) return;
  const people = Array.isArray(data?.people) ? data.people : [];
  const totals = Array.isArray(data?.totals) ? data.totals : [];
  if (!people.length) {
    fill(section, h('p', { class: 'empty', 'data-testid': 'org-rewards-empty' }, 'Nobody in your organisation has earned a reward yet.'));
    return;
  }
  const sorted = [...people].sort((a, b) => String(a.person_email).localeCompare(String(b.person_email)) || String(a.unit).localeCompare(String(b.unit)));
  const amount = (row, key) => unitAmount(row[key] ?? 0, row.unit);
  const cells = (row, prefix) =>
    ORG_BUCKETS.map(([key, label]) =>
      h('td', { class: 'num', 'data-label': label, 'data-testid': `${prefix}-${key.replace('_', '-')}` }, amount(row, key)),
    );
  const columns = ORG_BUCKETS.map(([, label]) => [label, 'num']);
  fill(
    section,
    h(
      'p',
      { class: 'muted small', 'data-testid': 'org-rewards-legend' },
      'Earned is everything rewarded so far: pending, on hold, approved (not yet available), available, being ' +
        'redeemed, paid, declined (never granted) and reversed (taken back, for example when a won deal was ' +
        'reversed; taken from Available, which goes below zero when it was already redeemed).',
    ),
    dataTable({
      testid: 'org-totals',
      captionId: 'org-totals-caption',
      caption: 'Organisation totals per unit',
      columns: ['Unit', ...columns],
      rows: orgTotals(totals).map((row) =>
        h(
          'tr',
          { 'data-testid': 'org-total-row', 'data-unit': row.unit },
          h('td', { 'data-label': 'Unit' }, row.unit === POINTS ? 'Points' : row.unit),
          cells(row, 'org-total'),
        ),
      ),
    }),
    dataTable({
      testid: 'org-people',
      captionId: 'org-people-caption',
      caption: 'Rewards per person',
      columns: ['Person', 'Unit', ...columns],
      rows: sorted.map((row) =>
        h(
          'tr',
          { 'data-testid': 'org-person-row', 'data-email': row.person_email, 'data-unit': row.unit },
          h('td', { 'data-label': 'Person', 'data-testid': 'org-person-email' }, row.person_email),
          h('td', { 'data-label': 'Unit' }, row.unit === POINTS ? 'Points' : row.unit),
          cells(row, 'org-person'),
        ),
      ),
    }),
  );
}

// Every bucket of an account (docs/rewards.md, "Accounts and the ledger"): `earned` is the sum of all the others, so
// the organisation's table shows each of them and its rows add up.
const ORG_BUCKETS = [
  ['earned', 'Earned'],
  ['pending', 'Pending'],
  ['on_hold', 'On hold'],
  ['approved', 'Approved'],
  ['available', 'Available'],
  ['reserved', 'Being redeemed'],
  ['paid', 'Paid'],
  ['declined', 'Declined'],
  ['reversed', 'Reversed'],
];

/** The totals per unit, as the API sums them (every bucket of the people's accounts), in ORG_BUCKETS' columns. */
function orgTotals(totals) {
  return [...totals]
    .sort((a, b) => String(a.unit).localeCompare(String(b.unit)))
    .map((total) => Object.fromEntries([['unit', total.unit], ...ORG_BUCKETS.map(([key]) => [key, total[key] ?? 0])]));
}
