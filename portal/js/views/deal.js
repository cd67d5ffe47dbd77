// #/deals/{deal_id}: one deal with its protection, details and timeline, and the actions its status allows
// (approved deals: pipeline stage, won, lost, extension; a deal whose win the vendor reversed: won again with the
// corrected amount, or lost). Every action re-renders from the server's answer.
// Vendor staff do not open deals in the portal (the route has no vendor read), so the vendor's "reverse the win"
// is an API call (POST /deals/{deal_id}/won/reversal), not a form here.
import { api, path } from '../api.js';
import { append, dateish, daysUntil, h, timeEl } from '../dom.js';
import {
  bindForm,
  cardForm,
  charCount,
  field,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  required,
  sendForm,
  today,
} from '../forms.js';
import { amountError, moneyOf, moneyText } from '../money.js';
import {
  actionNotice,
  afterAction,
  loadRecord,
  recordHeader,
  statusBadge,
  subPage,
  summaryRow,
  timelineCard,
} from '../record.js';
import { CURRENCIES, DEAL_STAGES, countryName, stageLabel } from '../reference.js';
import { protectionReleased } from './deals.js';

const LOST_REASON_MAX = 500;
const JUSTIFICATION_MIN = 10;
const JUSTIFICATION_MAX = 1000;

export async function renderDeal(ctx) {
  const page = subPage(ctx, {
    id: 'deal-title',
    title: 'Deal',
    back: ['#/deals', 'All deals'],
    loadingText: 'Loading the deal…',
  });
  // Product names are a nicety: without the list the deal shows its SKUs.
  const catalogue = api.get('/products').then(
    (data) => new Map((Array.isArray(data?.items) ? data.items : []).map((p) => [p.sku, p])),
    () => new Map(),
  );
  const deal = await loadRecord(ctx, page, {
    get: () => api.get(path`/deals/${ctx.params.dealId}`),
    what: 'the deal',
    notFound: {
      title: 'Deal not found',
      testid: 'deal-not-found',
      text: 'There is no deal with this ID in your organisation.',
      back: ['#/deals', 'Back to your deals'],
    },
  });
  if (!deal) return;
  const products = await catalogue;
  if (!ctx.isCurrent()) return;
  render(ctx, page, deal, { products });
}

function render(ctx, page, deal, { result, products = new Map() } = {}) {
  const company = deal.prospect?.company_name || deal.deal_id;
  page.heading.textContent = company;
  ctx.setTitle(`${company} · Deal`);
  const rerender = afterAction(page.body, (updated, message) =>
    render(ctx, page, updated, { result: message, products }),
  );
  page.body.replaceChildren();
  append(page.body, [
    header(deal),
    actionNotice(result),
    decisionNotice(deal),
    h(
      'div',
      { class: 'record-layout' },
      h('div', { class: 'record-main' }, reversalCard(deal), detailsCard(deal, products), prospectCard(deal)),
      timelineCard(deal.timeline),
    ),
    actions(ctx, deal, rerender),
  ]);
}

// ------------------------------------------------------------------ read-only parts

function header(deal) {
  const ends = deal.protection_ends_at;
  let left = null;
  if (deal.status === 'approved' && ends) {
    const days = daysUntil(ends);
    if (!Number.isNaN(days)) {
      left = h(
        'span',
        { class: days <= 14 ? 'overdue' : 'muted', 'data-testid': 'deal-days-left' },
        days > 0 ? `${days} day${days === 1 ? '' : 's'} left` : 'protection has ended',
      );
    }
  }
  return recordHeader(
    [
      statusBadge(deal.status, 'deal-status'),
      h(
        'span',
        { class: 'deal-protection' },
        protectionReleased(deal)
          ? h(
              'span',
              { 'data-testid': 'deal-protection-released', title: 'The prospect can be registered again.' },
              deal.status === 'win_reversed'
                ? 'Protection released (the win was withdrawn)'
                : 'Protection released (the deal is closed)',
            )
          : [
              h('span', { class: 'muted' }, deal.status === 'expired' ? 'Protection ended ' : 'Protection ends '),
              timeEl(ends, { dateOnly: true, testid: 'deal-protection-ends' }),
            ],
        left ? [' · ', left] : null,
      ),
    ],
    { label: 'Deal ID', id: deal.deal_id, testid: 'deal-id' },
  );
}

function decisionNotice(deal) {
  if (deal.status === 'rejected') {
    return h(
      'p',
      { class: 'notice notice-bad', 'data-testid': 'deal-decision' },
      h('strong', {}, 'Rejected. '),
      deal.decision_reason || 'No reason was given.',
    );
  }
  if (deal.status === 'won' && deal.won) {
    const corrected = Number(deal.win_revision) > 1;
    return h(
      'p',
      { class: 'notice notice-ok', 'data-testid': 'deal-outcome' },
      h('strong', {}, corrected ? 'Won (corrected): ' : 'Won: '),
      moneyText(deal.won.amount),
      deal.won.close_date ? [', closed ', dateish(deal.won.close_date)] : null,
      '.',
    );
  }
  if (deal.status === 'win_reversed') {
    return h(
      'p',
      { class: 'notice notice-warn', 'data-testid': 'deal-win-reversed' },
      h('strong', {}, 'The vendor reversed this win. '),
      'Mark it won again with the corrected amount, or mark it lost. The reason is below.',
    );
  }
  if (deal.status === 'lost') {
    return h(
      'p',
      { class: 'notice', 'data-testid': 'deal-outcome' },
      h('strong', {}, 'Lost. '),
      deal.lost_reason || '',
    );
  }
  if (deal.status === 'submitted' || deal.status === 'under_review') {
    return h(
      'p',
      { class: 'notice', 'data-testid': 'deal-waiting' },
      'The channel team is reviewing this registration. Pipeline updates become available once it is approved.',
    );
  }
  return null;
}

/** "Firewall 100 (NET-FW-100)" from a SKU (named from the catalogue when known) or a {sku, name} object. */
function productLabel(product, catalogue) {
  const sku = product && typeof product === 'object' ? product.sku : product;
  const name = (product && typeof product === 'object' && product.name) || catalogue.get(sku)?.name;
  return name ? `${name} (${sku})` : String(sku ?? '');
}

/** The last withdrawal of a win (why, who, when, what it had recorded): on the reversed deal and after it closes again. */
function reversalCard(deal) {
  const reversal = deal.win_reversal;
  if (!reversal || typeof reversal !== 'object') return null;
  const previous = reversal.previous_amount ? moneyText(reversal.previous_amount) : '';
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'deal-reversal-heading', 'data-testid': 'deal-reversal' },
    h('h2', { id: 'deal-reversal-heading' }, 'Win reversed'),
    h(
      'dl',
      { class: 'summary' },
      summaryRow('Reason', 'reversal-reason', reversal.reason ? h('span', { class: 'pre' }, reversal.reason) : null),
      summaryRow('Reversed by', 'reversal-by', reversal.reversed_by),
      summaryRow('Reversed', 'reversal-at', timeEl(reversal.reversed_at)),
      summaryRow(
        'Reversed win',
        'reversal-previous',
        previous
          ? [previous, reversal.previous_close_date ? [', closed ', dateish(reversal.previous_close_date)] : null]
          : null,
      ),
    ),
  );
}

function detailsCard(deal, catalogue) {
  const products = Array.isArray(deal.products) ? deal.products : [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'deal-details-heading' },
    h('h2', { id: 'deal-details-heading' }, 'Opportunity'),
    h(
      'dl',
      { class: 'summary' },
      summaryRow(
        'Products',
        'deal-products',
        products.length ? h('ul', { class: 'plain-list' }, products.map((p) => h('li', {}, productLabel(p, catalogue)))) : null,
      ),
      summaryRow('Estimated value', 'deal-value', moneyText(deal.estimated_value)),
      summaryRow('Expected close', 'deal-close-date', dateish(deal.expected_close_date)),
      summaryRow('Pipeline stage', 'deal-stage', deal.stage ? stageLabel(deal.stage) : null),
      summaryRow('Submitted', 'deal-submitted-at', timeEl(deal.submitted_at)),
      summaryRow('Description', 'deal-description', deal.description ? h('span', { class: 'pre' }, deal.description) : null),
    ),
  );
}

function prospectCard(deal) {
  const prospect = deal.prospect || {};
  const contact = prospect.contact || {};
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'deal-prospect-heading' },
    h('h2', { id: 'deal-prospect-heading' }, 'Prospect'),
    h(
      'dl',
      { class: 'summary' },
      summaryRow('Company', 'prospect-company', prospect.company_name),
      summaryRow('Domain', 'prospect-domain', prospect.domain),
      prospect.website && prospect.website !== prospect.domain ? summaryRow('Website', 'prospect-website', prospect.website) : null,
      summaryRow('Country', 'prospect-country', prospect.country ? `${countryName(prospect.country)} (${prospect.country})` : null),
      summaryRow(
        'Contact',
        'prospect-contact',
        contact.name || contact.email
          ? [
              h('span', { class: 'block' }, [contact.name, contact.title].filter(Boolean).join(', ')),
              contact.email ? h('span', { class: 'muted block' }, contact.email) : null,
            ]
          : null,
      ),
    ),
  );
}

// ------------------------------------------------------------------ actions (approved or win-reversed deals)

function actions(ctx, deal, rerender) {
  if (deal.status === 'win_reversed') {
    return h(
      'section',
      { class: 'record-actions', 'aria-labelledby': 'deal-actions-heading', 'data-testid': 'deal-actions' },
      h('h2', { id: 'deal-actions-heading' }, 'Correct this deal'),
      h('div', { class: 'action-grid' }, wonForm(ctx, deal, rerender), lostForm(ctx, deal, rerender)),
    );
  }
  if (deal.status !== 'approved') return null;
  return h(
    'section',
    { class: 'record-actions', 'aria-labelledby': 'deal-actions-heading', 'data-testid': 'deal-actions' },
    h('h2', { id: 'deal-actions-heading' }, 'Update this deal'),
    h('div', { class: 'action-grid' }, stageForm(ctx, deal, rerender), extensionCard(ctx, deal, rerender)),
    h('div', { class: 'action-grid' }, wonForm(ctx, deal, rerender), lostForm(ctx, deal, rerender)),
  );
}

/** Pre-select `value` in the select of a field() (options exist only once the select is built). */
function selected(fieldEl, value) {
  const select = fieldEl.querySelector('select');
  if (value && [...select.options].some((option) => option.value === value)) select.value = value;
  return fieldEl;
}

/** POST an action, then re-render from the deal in the answer; errors stay on the form. */
function actionForm(ctx, deal, rerender, spec) {
  const { validators, dependents, busyLabel, fieldMap, body, url, done, button } = spec;
  const keeper = idempotencyKeeper();
  const form = cardForm(spec);
  const controller = bindForm(form, {
    validators,
    dependents,
    busyLabel,
    onSubmit: async () => {
      const payload = body(form, controller);
      if (payload === null) return;
      await sendForm(ctx, form, controller, {
        keeper,
        body: payload,
        send: async (text, idempotencyKey) => {
          const answer = await api.post(url, text, { idempotencyKey });
          return answer?.deal_id ? answer : api.get(path`/deals/${deal.deal_id}`);
        },
        done: (answer) => rerender(answer, done(answer, payload)),
        fieldMap,
        reload: 'Reload the deal',
        retry: `Select “${button}” to try again.`,
        fallback: 'The change was not accepted.',
      });
    },
  });
  return form;
}

function stageForm(ctx, deal, rerender) {
  return actionForm(ctx, deal, rerender, {
    testid: 'stage-form',
    title: 'Pipeline stage',
    fields: selected(
      field({
        id: 'stage',
        label: 'Stage',
        control: 'select',
        placeholder: deal.stage ? undefined : 'Choose a stage…',
        options: DEAL_STAGES,
      }),
      deal.stage || '',
    ),
    validators: { stage: (v) => required(v, 'Choose a stage.') },
    button: 'Save stage',
    buttonTestid: 'save-stage',
    busyLabel: 'Saving…',
    fieldMap: { stage: 'stage' },
    url: path`/deals/${deal.deal_id}/stage`,
    body: (form, controller) => {
      const stage = form.elements.stage.value;
      if (stage === deal.stage) {
        controller.showAlert(`The deal is already at ${stageLabel(stage)}.`, 'info');
        return null;
      }
      return { stage };
    },
    done: (_answer, sent) => `Stage saved: ${stageLabel(sent.stage)}.`,
  });
}

function extensionCard(ctx, deal, rerender) {
  const used = Number(deal.extensions_used ?? 0);
  const max = Number(deal.max_extensions ?? 2);
  const usage = h('p', { class: 'muted small', 'data-testid': 'extensions-used' }, `${used} of ${max} extensions used`);
  const ended = deal.protection_ends_at && new Date(deal.protection_ends_at).getTime() <= Date.now();
  const unavailable = (message, testid) =>
    h(
      'section',
      { class: 'card action-card', 'aria-labelledby': 'extension-title', 'data-testid': 'extension-card' },
      h('h3', { id: 'extension-title' }, 'Protection extension'),
      usage,
      h('p', { 'data-testid': testid }, message),
    );
  if (deal.extension_pending) {
    return unavailable(
      'An extension has been requested. The channel manager decides by email; the new end date appears here.',
      'extension-pending',
    );
  }
  if (used >= max) return unavailable('This deal has used all its extensions.', 'extensions-exhausted');
  if (ended) return unavailable('The protection has ended, so it can no longer be extended.', 'extension-closed');
  return actionForm(ctx, deal, rerender, {
    testid: 'extension-form',
    title: 'Protection extension',
    hint: usage,
    fields: [
      field({
        id: 'extension_justification',
        label: 'Why do you need more time?',
        control: 'textarea',
        hint: `${JUSTIFICATION_MIN} to ${JUSTIFICATION_MAX} characters; the channel manager reads this.`,
        attrs: { rows: 3 },
      }),
    ],
    validators: {
      extension_justification: (v) =>
        required(v, 'Explain why the deal needs more time.') ||
        (charCount(v) < JUSTIFICATION_MIN ? `Write at least ${JUSTIFICATION_MIN} characters (now ${charCount(v)}).` : '') ||
        maxLength(v, JUSTIFICATION_MAX, 'Justification'),
    },
    button: 'Request extension',
    buttonTestid: 'request-extension',
    busyLabel: 'Requesting…',
    fieldMap: { justification: 'extension_justification' },
    url: path`/deals/${deal.deal_id}/extension`,
    body: (form) => ({ justification: form.elements.extension_justification.value.trim() }),
    done: () => 'Extension requested. The channel manager will decide by email.',
  });
}

function wonForm(ctx, deal, rerender) {
  // A correction starts from the reversed win (its currency and close date); a first win from the estimate.
  const previous = deal.status === 'win_reversed' ? deal.win_reversal : null;
  const currency = previous?.previous_amount?.currency || deal.estimated_value?.currency;
  const maxDay = today({ utc: true });
  const closeDate = field({ id: 'won_close_date', label: 'Close date', type: 'date', attrs: { max: maxDay } });
  if (previous?.previous_close_date && isIsoDate(previous.previous_close_date)) {
    closeDate.querySelector('input').value = previous.previous_close_date;
  }
  return actionForm(ctx, deal, rerender, {
    testid: 'won-form',
    title: previous ? 'Mark won (corrected amount)' : 'Mark as won',
    hint: h(
      'p',
      { class: 'hint', 'data-testid': 'won-hint' },
      previous?.previous_amount
        ? `The reversed win recorded ${moneyText(previous.previous_amount)}. Enter the correct final amount.`
        : `Estimated at ${moneyText(deal.estimated_value)}.`,
    ),
    fields: [
      h(
        'div',
        { class: 'money-row' },
        field({
          id: 'won_amount',
          label: 'Final amount',
          attrs: { inputmode: 'decimal', autocomplete: 'off' },
        }),
        selected(
          field({
            id: 'won_currency',
            label: 'Currency',
            control: 'select',
            options: CURRENCIES.map(([code]) => [code, code]),
          }),
          currency,
        ),
      ),
      closeDate,
    ],
    validators: {
      won_amount: (v, form) => amountError(v, form.elements.won_currency.value, { empty: 'Enter the final amount.' }),
      won_currency: (v) => required(v, 'Choose a currency.'),
      won_close_date: (v) => {
        if (!v) return 'Enter the date the deal closed.';
        if (!isIsoDate(v)) return 'Enter a date such as 2027-03-31.';
        return v > today({ utc: true }) ? 'The close date cannot be in the future.' : '';
      },
    },
    dependents: { won_currency: ['won_amount'] },
    button: previous ? 'Mark won (corrected)' : 'Mark as won',
    buttonTestid: 'mark-won',
    primary: false, // closing is final: the everyday actions above carry the emphasis
    busyLabel: 'Saving…',
    fieldMap: {
      amount: 'won_amount',
      'amount.amount_minor': 'won_amount',
      'amount.currency': 'won_currency',
      close_date: 'won_close_date',
    },
    url: path`/deals/${deal.deal_id}/won`,
    body: (form) => ({
      amount: moneyOf(form.elements.won_amount.value, form.elements.won_currency.value),
      close_date: form.elements.won_close_date.value,
    }),
    done: () => (previous ? 'Marked as won with the corrected amount.' : 'Marked as won. Congratulations!'),
  });
}

function lostForm(ctx, deal, rerender) {
  return actionForm(ctx, deal, rerender, {
    testid: 'lost-form',
    title: 'Mark as lost',
    fields: field({
      id: 'lost_reason',
      label: 'Reason',
      control: 'textarea',
      hint: `Why the customer did not buy (up to ${LOST_REASON_MAX} characters).`,
      attrs: { rows: 3 },
    }),
    validators: {
      lost_reason: (v) => required(v, 'Enter the reason the deal was lost.') || maxLength(v, LOST_REASON_MAX, 'Reason'),
    },
    button: 'Mark as lost',
    buttonTestid: 'mark-lost',
    primary: false,
    busyLabel: 'Saving…',
    fieldMap: { reason: 'lost_reason' },
    url: path`/deals/${deal.deal_id}/lost`,
    body: (form) => ({ reason: form.elements.lost_reason.value.trim() }),
    done: () => 'Marked as lost.',
  });
}
