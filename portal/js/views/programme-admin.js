// #/admin/programme (vendor admins): the partner programme's criteria versions and manual criteria.
// - Versions (`GET /programme/versions`): each with the day it applies from, its status (in force, announced,
//   superseded, withdrawn), its tiers and criteria, and the next step; an announced version (not in force yet) can be
//   withdrawn with a reason (`POST /programme/versions/{id}/withdrawal`).
// - A new version (`POST /programme/versions`): from a stated date (today or later, UTC), how upgrades are approved,
//   and its tiers lowest first (the first is the entry tier, without criteria), each with benefits and criteria: won
//   revenue over the trailing window, approved deal registrations, people holding a certification, a manual criterion.
//   The form starts from an existing version's tiers.
// - Manual criteria (`POST /programme/partners/{id}/manual-criteria/{criterion}`): a partner's manual criterion (e.g. a
//   signed business plan) confirmed or not, with the partner's standing as it then is (`GET /programme/partners/{id}`).
//   The partner picker lists the programme's own partners with their tier (`GET /programme/partners`, every page).
import { api, path } from '../api.js';
import { append, badge, clear, dataTable, dayEl, errorPanel, h, loading, timeEl } from '../dom.js';
import {
  bindForm,
  cardForm,
  field,
  idempotencyKeeper,
  isIsoDate,
  maxLength,
  parseCount,
  required,
  today,
} from '../forms.js';
import { amountError, moneyOf, moneyText, moneyToInput } from '../money.js';
import { CURRENCIES } from '../reference.js';
import { adminBlock, clearResult, resultSlot, submitAdmin } from './admin-common.js';
import { standingView } from './programme.js';

const SLUG = /^[a-z][a-z0-9_-]{0,39}$/; // tier ids and manual criterion ids, as the API's Slug
const MAX_TIERS = 10;
const BENEFITS_MAX = 20;
const BENEFIT_MAX = 200;
const TIER_NAME_MAX = 80;
const LABEL_MAX = 120;
const REASON_MAX = 500;
const PARTNER_PAGES_MAX = 20;

const APPROVALS = [
  ['channel_team', 'The channel team approves each upgrade (email link)'],
  ['automatic', 'Automatic: a partner moves up as soon as it qualifies'],
];

const STATUS = {
  in_force: ['In force', 'ok'],
  announced: ['Announced', 'pending'],
  superseded: ['Superseded', 'neutral'],
  withdrawn: ['Withdrawn', 'neutral'],
};

export async function renderProgrammeAdmin(ctx) {
  const body = h('div', {}, loading('Loading the programme’s criteria versions…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'programme-admin-title' },
      h('h1', { tabindex: '-1', id: 'programme-admin-title' }, 'Programme administration'),
      h(
        'p',
        { class: 'lead' },
        'The partner tiers and their criteria. A change is a new version from a stated date: what applied before ' +
          'is never rewritten.',
      ),
      body,
    ),
  );

  let versions;
  let certifications;
  try {
    [versions, certifications] = await Promise.all([
      api.get('/programme/versions'),
      api.get('/training/certifications').then(
        (data) => (Array.isArray(data?.items) ? data.items : []),
        (error) => {
          if (error.status === 401) throw error;
          return null; // the certification picker falls back to the ids the versions name
        },
      ),
    ]);
  } catch (error) {
    if (!ctx.handleAuthErrors(error) && ctx.isCurrent()) {
      body.replaceChildren(errorPanel(`We could not load the programme’s versions. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;

  const state = {
    versions: Array.isArray(versions?.items) ? versions.items : [],
    withdrawn: Array.isArray(versions?.withdrawn) ? versions.withdrawn : [],
    certifications: certifications || [],
    certificationsFailed: certifications === null,
  };
  const versionsBox = h('div', {});
  const withdrawBox = h('div', { 'data-testid': 'withdraw-slot' });
  const manualBox = h('div', {});
  const draw = () => {
    versionsBox.replaceChildren(versionsTable(state, choose));
  };
  function choose(version) {
    withdrawBox.replaceChildren(
      withdrawForm(ctx, version, (withdrawal) => {
        state.versions = state.versions.filter((v) => v.version_id !== version.version_id);
        state.withdrawn = [...state.withdrawn, withdrawal];
        draw();
        editor.refreshTemplates();
        manual.refresh();
      }),
    );
    withdrawBox.querySelector('textarea')?.focus();
  }
  const editor = versionEditor(ctx, state, (version) => {
    state.versions = [...state.versions, version];
    withdrawBox.replaceChildren();
    draw();
    manual.refresh();
  });
  const manual = manualCriteria(ctx, state, manualBox);

  body.replaceChildren(
    adminBlock(
      'versions-title',
      'Criteria versions',
      'The version in force decides every partner’s tier; an announced one takes effect on its date, when every ' +
        'partner is evaluated against it.',
      versionsBox,
      withdrawBox,
    ),
    adminBlock(
      'new-version-title',
      'New criteria version',
      'Tiers lowest first. Each tier must demand at least what the tier below it demands.',
      state.certificationsFailed
        ? h(
            'p',
            { class: 'notice notice-warn', 'data-testid': 'certifications-unavailable' },
            'The training catalogue could not be read: only certifications named by existing versions can be chosen.',
          )
        : null,
      editor.form,
    ),
    adminBlock(
      'manual-title',
      'Manual criteria',
      'Criteria the channel team confirms by hand, such as a signed business plan. The partner is evaluated at once.',
      manualBox,
    ),
  );
  draw();
  await manual.start();
}

// ------------------------------------------------------------------ versions

function byDate(a, b) {
  return String(a.effective_from).localeCompare(String(b.effective_from)) || String(a.version_id).localeCompare(String(b.version_id));
}

/**
 * Every version with its status, newest first: the latest one from today or before is in force, later ones are
 * announced, earlier ones superseded (the day each took over is `replaced_on`), withdrawn ones never applied.
 */
export function versionRows(versions, withdrawn, day = today({ utc: true })) {
  const live = [...versions].sort(byDate);
  const started = live.filter((v) => String(v.effective_from) <= day);
  const inForce = started[started.length - 1]?.version_id;
  const rows = live.map((version, i) => {
    const status =
      version.version_id === inForce ? 'in_force' : String(version.effective_from) > day ? 'announced' : 'superseded';
    return { version, status, replacedBy: status === 'superseded' ? live[i + 1] : null };
  });
  for (const w of withdrawn) {
    if (w?.version) rows.push({ version: w.version, status: 'withdrawn', withdrawal: w });
  }
  return rows.sort((a, b) => byDate(b.version, a.version));
}

function certificationName(state, id) {
  return state.certifications.find((c) => c.certification_id === id)?.name || id;
}

/** A tier's criteria as sentences ("Won revenue of $15,000.00 in the trailing window", "2 people holding …"). */
export function criteriaLines(criteria, nameOf = (id) => id) {
  const c = criteria || {};
  const lines = [];
  for (const money of c.won_revenue || []) lines.push(`Won revenue of ${moneyText(money)} in the trailing window`);
  if (c.approved_deals) {
    lines.push(`${c.approved_deals} approved deal registration${c.approved_deals === 1 ? '' : 's'} in the trailing window`);
  }
  for (const cert of c.certifications || []) {
    lines.push(`${cert.people} ${cert.people === 1 ? 'person' : 'people'} holding ${nameOf(cert.certification_id)} (partners read: ${cert.label})`);
  }
  for (const m of c.manual || []) lines.push(`${m.label} (confirmed by the channel team)`);
  return lines;
}

function tiersDetail(state, version) {
  const tiers = Array.isArray(version.tiers) ? version.tiers : [];
  return h(
    'details',
    { 'data-testid': 'version-tiers' },
    h('summary', { 'data-testid': 'version-tier-names' }, tiers.map((t) => t.name).join(' → ') || '—'),
    h(
      'ol',
      { class: 'plain-list' },
      tiers.map((tier, i) => {
        const lines = criteriaLines(tier.criteria, (id) => certificationName(state, id));
        return h(
          'li',
          { 'data-testid': 'version-tier', 'data-tier-id': tier.tier_id },
          h('strong', {}, tier.name),
          h('code', { class: 'small' }, ` ${tier.tier_id}`),
          h(
            'ul',
            {},
            i === 0 && !lines.length
              ? h('li', { class: 'muted' }, 'Entry tier: no criteria')
              : lines.map((line) => h('li', { 'data-testid': 'version-criterion' }, line)),
            (tier.benefits || []).length ? h('li', { class: 'muted' }, `Benefits: ${tier.benefits.join('; ')}`) : null,
          ),
        );
      }),
    ),
  );
}

function nextStep(row) {
  const { version, status } = row;
  if (status === 'in_force') return ['Applies now. A change is a new version from a later date.'];
  if (status === 'announced') {
    return ['Takes effect on ', dayEl(version.effective_from), '. Withdraw it before then to correct it.'];
  }
  if (status === 'superseded') {
    return row.replacedBy
      ? ['Replaced on ', dayEl(row.replacedBy.effective_from), ` by ${row.replacedBy.version_id}.`]
      : ['Replaced by a later version.'];
  }
  const w = row.withdrawal;
  return ['Never applied: withdrawn on ', timeEl(w.withdrawn_at, { dateOnly: true }), ` (${w.reason}).`];
}

function versionsTable(state, choose) {
  const rows = versionRows(state.versions, state.withdrawn);
  if (!rows.length) {
    return h(
      'p',
      { class: 'empty', 'data-testid': 'versions-empty' },
      'No criteria version yet: partners have no tier until the first one applies. Create it below.',
    );
  }
  return dataTable({
    testid: 'versions-table',
    captionId: 'versions-caption',
    caption: `Criteria versions, newest first (${rows.length})`,
    columns: ['Version', 'Applies from', 'Status', 'Tiers and criteria', 'Upgrades', 'Next step', 'Action'],
    rows: rows.map((row) => {
      const { version, status } = row;
      const [label, tone] = STATUS[status];
      return h(
        'tr',
        { 'data-testid': 'version-row', 'data-version-id': version.version_id, 'data-status': status },
        h('td', { 'data-label': 'Version' }, h('code', { 'data-testid': 'version-id' }, version.version_id)),
        h('td', { 'data-label': 'Applies from' }, dayEl(version.effective_from, { testid: 'version-effective' })),
        h('td', { 'data-label': 'Status' }, badge(label, tone, 'version-status')),
        h('td', { 'data-label': 'Tiers and criteria' }, tiersDetail(state, version)),
        h(
          'td',
          { 'data-label': 'Upgrades', 'data-testid': 'version-approval' },
          version.upgrade_approval === 'automatic' ? 'Automatic' : 'Approved by the channel team',
        ),
        h('td', { 'data-label': 'Next step', 'data-testid': 'version-next-step' }, nextStep(row)),
        h(
          'td',
          { 'data-label': 'Action' },
          status === 'announced'
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'button button-small',
                  'data-testid': 'withdraw-version',
                  'aria-label': `Withdraw ${version.version_id}`,
                  onclick: () => choose(version),
                },
                'Withdraw…',
              )
            : null,
        ),
      );
    }),
  });
}

function withdrawForm(ctx, version, withdrawn) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'withdraw-form',
    title: `Withdraw ${version.version_id} (from ${version.effective_from})`,
    hint: h(
      'p',
      { class: 'hint' },
      'It never applies; the reason is kept for the record, and its date is free for a corrected version.',
    ),
    result: resultSlot('withdraw'),
    fields: field({ id: 'withdraw_reason', name: 'reason', label: 'Reason', control: 'textarea', attrs: { rows: 2 } }),
    button: 'Withdraw version',
    buttonTestid: 'withdraw',
    primary: false,
  });
  const controller = bindForm(form, {
    validators: {
      withdraw_reason: (v) => required(v, 'Say why the version is withdrawn.') || maxLength(v, REASON_MAX, 'Reason'),
    },
    busyLabel: 'Withdrawing…',
    onSubmit: () =>
      submitAdmin(ctx, form, controller, keeper, {
        url: path`/programme/versions/${version.version_id}/withdrawal`,
        body: { reason: form.elements.withdraw_reason.value.trim() },
        fieldMap: { reason: 'withdraw_reason' },
        reload: 'Reload the versions',
        button: 'Withdraw version',
        done: (withdrawal) => {
          withdrawn(withdrawal);
          form.querySelector('.actions').hidden = true;
          form.elements.withdraw_reason.disabled = true;
          return `Withdrew ${version.version_id}: it will not apply.`;
        },
      }),
  });
  return form;
}

// ------------------------------------------------------------------ a new version: the tier editor

function slugError(value, what) {
  const text = String(value ?? '').trim();
  if (!text) return `Enter the ${what}.`;
  return SLUG.test(text) ? '' : 'Use lower-case letters, digits, “-” or “_”, starting with a letter (at most 40).';
}

function benefitsOf(text) {
  return String(text || '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function versionEditor(ctx, state, added) {
  const keeper = idempotencyKeeper();
  const tiersBox = h('div', { class: 'tier-editors' });
  const templateSelect = h('select', { id: 'version_template', 'data-testid': 'version-template' });
  const prefillWarning = h('p', { class: 'notice notice-warn', role: 'status', 'data-testid': 'prefill-warning', hidden: true });
  const tiersError = h('p', { class: 'field-error', id: 'version_tiers-error', 'data-testid': 'version_tiers-error', hidden: true });
  const form = cardForm({
    testid: 'version-form',
    labelledBy: 'new-version-title',
    result: resultSlot('version'),
    fields: [
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'version_effective_from',
          name: 'effective_from',
          label: 'Applies from',
          type: 'date',
          hint: 'Today or later (UTC). Partners are evaluated against it from 00:00 UTC that day.',
          attrs: { min: today({ utc: true }) },
        }),
        field({ id: 'version_approval', name: 'upgrade_approval', label: 'Upgrades', control: 'select', options: APPROVALS }),
      ),
      h(
        'div',
        { class: 'toolbar' },
        h(
          'div',
          { class: 'toolbar-field' },
          h('label', { for: 'version_template' }, 'Start from'),
          templateSelect,
          h(
            'button',
            { type: 'button', class: 'button button-small', 'data-testid': 'prefill-version', onclick: () => prefill() },
            'Copy its tiers',
          ),
        ),
      ),
      prefillWarning,
      h(
        'fieldset',
        { id: 'version_tiers', class: 'field', 'aria-describedby': 'version_tiers-error' },
        h('legend', {}, 'Tiers, lowest first'),
        tiersBox,
        tiersError,
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'button button-small', 'data-testid': 'add-tier', onclick: () => addTier().focus() },
            'Add a tier',
          ),
        ),
      ),
    ],
    button: 'Create version',
    buttonTestid: 'create-version',
  });
  const els = form.elements;
  const validators = {
    version_effective_from: (v) => {
      if (!v) return 'Enter the day the version applies from.';
      if (!isIsoDate(v)) return 'Enter a date such as 2027-01-01.';
      if (v < today({ utc: true })) return 'A version applies from today or a later date: the past is never rewritten.';
      const taken = state.versions.find((version) => version.effective_from === v);
      return taken ? `${taken.version_id} already applies from this day; withdraw it first or choose another day.` : '';
    },
    version_approval: (v) => (v ? '' : 'Choose how upgrades are approved.'),
    version_tiers: () => {
      const n = tierList().length;
      if (n < 1) return 'Add at least one tier.';
      return n > MAX_TIERS ? `A programme has at most ${MAX_TIERS} tiers.` : '';
    },
  };
  const dependents = {}; // filled per tier: a criterion's fields re-check the tier's "at least one criterion"
  let serial = 0;
  const tierList = () => [...tiersBox.querySelectorAll('[data-testid=tier-editor]')];
  const isEntry = (n) => tierList()[0]?.dataset.serial === String(n);
  const value = (id) => String(els[id]?.value ?? '').trim();

  /** A tier's fields, numbered by `n` (stable while the tier is on the form, whatever its place). */
  function addTier(tier = null) {
    serial += 1;
    const n = serial;
    const id = (name) => `tier_${n}_${name}`;
    const certOptions = certificationOptions(state, tier);
    const criteria = tier?.criteria || {};
    const revenue = (criteria.won_revenue || [])[0];
    const cert = (criteria.certifications || [])[0];
    const manual = (criteria.manual || [])[0];
    const criteriaBox = h(
      'div',
      { class: 'tier-criteria', 'data-testid': 'tier-criteria' },
      h('p', { class: 'strong' }, 'Criteria (all must be met)'),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: id('revenue'),
          label: 'Won revenue in the trailing window',
          optional: true,
          hint: 'Empty: no revenue criterion.',
          attrs: { inputmode: 'decimal', autocomplete: 'off' },
        }),
        field({ id: id('currency'), label: 'Currency', control: 'select', options: CURRENCIES.map(([c, name]) => [c, `${c} · ${name}`]) }),
      ),
      field({
        id: id('deals'),
        label: 'Approved deal registrations in the trailing window',
        optional: true,
        attrs: { inputmode: 'numeric', autocomplete: 'off' },
      }),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: id('cert'), label: 'Certified people: certification', control: 'select', optional: true, placeholder: 'No certification criterion', options: certOptions }),
        field({ id: id('cert_people'), label: 'People holding it', optional: true, attrs: { inputmode: 'numeric', autocomplete: 'off' } }),
      ),
      field({
        id: id('cert_label'),
        label: 'Label for partners',
        optional: true,
        hint: 'As partners read it: “1 more certified engineer for Gold”.',
        attrs: { autocomplete: 'off', placeholder: 'certified engineer' },
      }),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: id('manual_id'),
          label: 'Manual criterion id',
          optional: true,
          hint: 'For example business_plan.',
          attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
        }),
        field({ id: id('manual_label'), label: 'Manual criterion label', optional: true, attrs: { autocomplete: 'off' } }),
      ),
      h('p', { class: 'field-error', id: `${id('criteria')}-error`, 'data-testid': `${id('criteria')}-error`, hidden: true }),
    );
    const legend = h('legend', {});
    const entryNote = h('p', { class: 'muted small', 'data-testid': 'entry-tier-note' }, 'The entry tier: every partner holds it; it has no criteria.');
    const box = h(
      'fieldset',
      { class: 'card tier-editor', 'data-testid': 'tier-editor', 'data-serial': String(n), id: id('criteria') },
      legend,
      h(
        'div',
        { class: 'grid-2-tight' },
        field({ id: id('id'), label: 'Tier id', hint: 'For example gold.', attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' } }),
        field({ id: id('name'), label: 'Name', attrs: { autocomplete: 'off' } }),
      ),
      field({
        id: id('benefits'),
        label: 'Benefits',
        control: 'textarea',
        optional: true,
        hint: 'One per line.',
        attrs: { rows: 3 },
      }),
      entryNote,
      criteriaBox,
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'button button-small',
            'data-testid': 'remove-tier',
            onclick: () => removeTier(n),
          },
          'Remove this tier',
        ),
      ),
    );
    tiersBox.append(box);
    // prefill
    if (tier) {
      els[id('id')].value = tier.tier_id || '';
      els[id('name')].value = tier.name || '';
      els[id('benefits')].value = (tier.benefits || []).join('\n');
      if (revenue) {
        els[id('revenue')].value = moneyToInput(revenue);
        els[id('currency')].value = revenue.currency;
      }
      if (criteria.approved_deals) els[id('deals')].value = String(criteria.approved_deals);
      if (cert) {
        els[id('cert')].value = cert.certification_id;
        els[id('cert_people')].value = String(cert.people);
        els[id('cert_label')].value = cert.label;
      }
      if (manual) {
        els[id('manual_id')].value = manual.criterion_id;
        els[id('manual_label')].value = manual.label;
      }
    }
    const others = (key) => tierList().filter((el) => el.dataset.serial !== String(n)).map((el) => value(`tier_${el.dataset.serial}_${key}`));
    const counted = (text, max, what) => {
      if (!String(text).trim()) return '';
      const parsed = parseCount(text, { max, what });
      if (!parsed.ok) return parsed.error;
      return parsed.value < 1 ? 'Enter at least 1, or leave it empty.' : '';
    };
    const criterionsApply = () => !isEntry(n);
    Object.assign(validators, {
      [id('id')]: (v) => slugError(v, 'tier id') || (others('id').includes(String(v).trim()) ? 'Another tier has this id.' : ''),
      [id('name')]: (v) => {
        const problem = required(v, 'Enter the tier’s name.') || maxLength(v, TIER_NAME_MAX, 'Name');
        if (problem) return problem;
        const wanted = String(v).trim().toLowerCase();
        return others('name').some((o) => o.toLowerCase() === wanted) ? 'Another tier has this name.' : '';
      },
      [id('benefits')]: (v) => {
        const lines = benefitsOf(v);
        if (lines.length > BENEFITS_MAX) return `List at most ${BENEFITS_MAX} benefits.`;
        const long = lines.find((line) => [...line].length > BENEFIT_MAX);
        return long ? `Each benefit must be ${BENEFIT_MAX} characters or fewer.` : '';
      },
      [id('revenue')]: (v) => {
        if (!criterionsApply() || !String(v).trim()) return '';
        return amountError(v, value(id('currency')), { positive: true });
      },
      [id('currency')]: () => '',
      [id('deals')]: (v) => (criterionsApply() ? counted(v, 100_000, 'a number of registrations') : ''),
      [id('cert')]: () => '',
      [id('cert_people')]: (v) => {
        if (!criterionsApply() || !value(id('cert'))) return '';
        if (!String(v).trim()) return 'Enter how many people must hold it.';
        return counted(v, 10_000, 'a number of people');
      },
      [id('cert_label')]: (v) => {
        if (!criterionsApply() || !value(id('cert'))) return '';
        return required(v, 'Enter the label partners read, e.g. certified engineer.') || maxLength(v, LABEL_MAX, 'Label');
      },
      [id('manual_id')]: (v) => {
        if (!criterionsApply() || (!String(v).trim() && !value(id('manual_label')))) return '';
        return slugError(v, 'criterion id');
      },
      [id('manual_label')]: (v) => {
        if (!criterionsApply() || (!String(v).trim() && !value(id('manual_id')))) return '';
        return required(v, 'Enter the label, e.g. Signed business plan.') || maxLength(v, LABEL_MAX, 'Label');
      },
      [id('criteria')]: () => {
        if (!criterionsApply()) return '';
        const any = value(id('revenue')) || value(id('deals')) || value(id('cert')) || value(id('manual_id'));
        return any ? '' : 'A tier above the entry tier needs at least one criterion.';
      },
    });
    Object.assign(dependents, {
      [id('revenue')]: [id('criteria')],
      [id('currency')]: [id('revenue')],
      [id('deals')]: [id('criteria')],
      [id('cert')]: [id('criteria'), id('cert_people'), id('cert_label')],
      [id('manual_id')]: [id('criteria'), id('manual_label')],
      [id('manual_label')]: [id('manual_id')],
    });
    relabel();
    return els[id('id')];
  }

  function removeTier(n, { focus = true } = {}) {
    const box = tiersBox.querySelector(`[data-serial="${n}"]`);
    if (!box) return;
    const next = box.nextElementSibling || box.previousElementSibling;
    box.remove();
    for (const key of Object.keys(validators)) {
      if (key.startsWith(`tier_${n}_`)) delete validators[key];
    }
    for (const key of Object.keys(dependents)) {
      if (key.startsWith(`tier_${n}_`)) delete dependents[key];
    }
    relabel();
    if (focus) (next?.querySelector('input') || form.querySelector('[data-testid=add-tier]')).focus();
  }

  /** Legends follow the order; the first tier is the entry tier (its criteria are not asked for). */
  function relabel() {
    const list = tierList();
    list.forEach((box, i) => {
      box.querySelector('legend').textContent = i === 0 ? 'Tier 1 (entry tier)' : `Tier ${i + 1}`;
      box.querySelector('[data-testid=tier-criteria]').hidden = i === 0;
      box.querySelector('[data-testid=entry-tier-note]').hidden = i !== 0;
      box.querySelector('[data-testid=remove-tier]').hidden = list.length === 1;
    });
    form.querySelector('[data-testid=add-tier]').hidden = list.length >= MAX_TIERS;
  }

  function templates() {
    return [...state.versions].sort((a, b) => byDate(b, a));
  }

  function refreshTemplates() {
    const previous = templateSelect.value;
    const list = templates();
    templateSelect.replaceChildren(
      h('option', { value: '' }, 'Blank tiers'),
      ...list.map((v) => h('option', { value: v.version_id }, `${v.version_id} (from ${v.effective_from})`)),
    );
    templateSelect.value = list.some((v) => v.version_id === previous) ? previous : list[0]?.version_id || '';
  }

  function prefill() {
    const version = state.versions.find((v) => v.version_id === templateSelect.value);
    for (const box of tierList()) removeTier(box.dataset.serial, { focus: false });
    prefillWarning.replaceChildren();
    prefillWarning.hidden = true;
    if (version) {
      const dropped = droppedCriteria(version);
      if (dropped.length) {
        prefillWarning.hidden = false;
        prefillWarning.append(
          `This form keeps one criterion of each kind per tier; ${version.version_id} has more, so these were not ` +
            'copied: ',
          dropped.join('; '),
          '.',
        );
      }
      for (const tier of version.tiers || []) addTier(tier);
      els.version_approval.value = version.upgrade_approval || 'channel_team';
    } else {
      addTier({ tier_id: 'registered', name: 'Registered', benefits: [] });
      addTier();
    }
  }

  function tierBody(box, index) {
    const n = box.dataset.serial;
    const get = (key) => value(`tier_${n}_${key}`);
    const tier = { tier_id: get('id'), name: get('name'), benefits: benefitsOf(els[`tier_${n}_benefits`].value) };
    if (index === 0) return { ...tier, criteria: {} };
    const currency = get('currency');
    return {
      ...tier,
      criteria: {
        won_revenue: get('revenue') ? [moneyOf(get('revenue'), currency)] : [],
        approved_deals: get('deals') ? parseCount(get('deals')).value : 0,
        certifications: get('cert')
          ? [{ certification_id: get('cert'), label: get('cert_label'), people: parseCount(get('cert_people')).value }]
          : [],
        manual: get('manual_id') ? [{ criterion_id: get('manual_id'), label: get('manual_label') }] : [],
      },
    };
  }

  /** The API's paths (`tiers.2.criteria.won_revenue.0.amount_minor`) to this form's controls, for the order sent. */
  function fieldMap() {
    const map = { effective_from: 'version_effective_from', upgrade_approval: 'version_approval', tiers: 'version_tiers' };
    tierList().forEach((box, i) => {
      const n = box.dataset.serial;
      const t = `tiers.${i}`;
      Object.assign(map, {
        [t]: `tier_${n}_name`,
        [`${t}.tier_id`]: `tier_${n}_id`,
        [`${t}.name`]: `tier_${n}_name`,
        [`${t}.benefits`]: `tier_${n}_benefits`,
        [`${t}.criteria`]: `tier_${n}_criteria`,
        [`${t}.criteria.won_revenue`]: `tier_${n}_revenue`,
        [`${t}.criteria.approved_deals`]: `tier_${n}_deals`,
        [`${t}.criteria.certifications`]: `tier_${n}_cert_people`,
        [`${t}.criteria.certifications.0.certification_id`]: `tier_${n}_cert`,
        [`${t}.criteria.certifications.0.label`]: `tier_${n}_cert_label`,
        [`${t}.criteria.manual`]: `tier_${n}_manual_id`,
        [`${t}.criteria.manual.0.label`]: `tier_${n}_manual_label`,
      });
    });
    return map;
  }

  const controller = bindForm(form, {
    validators,
    dependents,
    busyLabel: 'Creating…',
    onSubmit: () => {
      clearResult(form);
      return submitAdmin(ctx, form, controller, keeper, {
        url: '/programme/versions',
        body: {
          effective_from: els.version_effective_from.value,
          upgrade_approval: els.version_approval.value,
          tiers: tierList().map((box, i) => tierBody(box, i)),
        },
        fieldMap: fieldMap(),
        conflictField: 'version_effective_from',
        button: 'Create version',
        done: (version) => {
          added(version);
          refreshTemplates();
          return `Created ${version.version_id}: it applies from ${version.effective_from}.`;
        },
      });
    },
  });
  // The tiers of each version are shown in a native <details>; the form starts from the newest version's tiers.
  refreshTemplates();
  prefill();
  return { form, refreshTemplates };
}

/** The criteria the tier editor cannot hold (it keeps the first of each kind per tier), described per tier. */
export function droppedCriteria(version) {
  const dropped = [];
  for (const tier of version.tiers || []) {
    const c = tier.criteria || {};
    for (const money of (c.won_revenue || []).slice(1)) dropped.push(`${tier.name}: won revenue of ${moneyText(money)}`);
    for (const cert of (c.certifications || []).slice(1)) dropped.push(`${tier.name}: ${cert.people} ${cert.label}`);
    for (const m of (c.manual || []).slice(1)) dropped.push(`${tier.name}: ${m.label}`);
  }
  return dropped;
}

function certificationOptions(state, tier) {
  const options = new Map(state.certifications.map((c) => [c.certification_id, c.name]));
  for (const version of state.versions) {
    for (const t of version.tiers || []) {
      for (const c of t.criteria?.certifications || []) {
        if (!options.has(c.certification_id)) options.set(c.certification_id, c.certification_id);
      }
    }
  }
  for (const c of tier?.criteria?.certifications || []) {
    if (!options.has(c.certification_id)) options.set(c.certification_id, c.certification_id);
  }
  return [...options].map(([id, name]) => [id, name]);
}

// ------------------------------------------------------------------ manual criteria

/** The manual criteria a vendor admin may set: those of the version in force and of the next announced one. */
export function manualCriteriaOf(versions, day = today({ utc: true })) {
  const rows = versionRows(versions, [], day).filter((r) => r.status === 'in_force' || r.status === 'announced');
  const inForce = rows.find((r) => r.status === 'in_force');
  const announced = rows.filter((r) => r.status === 'announced').sort((a, b) => byDate(a.version, b.version))[0];
  const found = new Map();
  for (const row of [inForce, announced].filter(Boolean)) {
    for (const tier of row.version.tiers || []) {
      for (const m of tier.criteria?.manual || []) {
        if (!found.has(m.criterion_id)) found.set(m.criterion_id, { ...m, tier: tier.name, version: row.version.version_id });
      }
    }
  }
  return [...found.values()];
}

async function loadPartners() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < PARTNER_PAGES_MAX; page += 1) {
    const query = new URLSearchParams(cursor ? { limit: '100', cursor } : { limit: '100' });
    const data = await api.get(`/programme/partners?${query}`);
    items.push(...(Array.isArray(data?.items) ? data.items : []));
    cursor = data?.next_cursor || null;
    if (!cursor) break;
  }
  return items.sort((a, b) => String(a.company_name || '').localeCompare(String(b.company_name || '')));
}

function manualCriteria(ctx, state, box) {
  const standingBox = h('section', {
    class: 'partner-standing',
    'aria-labelledby': 'partner-standing-title',
    'data-testid': 'partner-standing',
  });
  const self = { partners: [], partnerId: '', seq: 0, form: null, ready: false };

  async function start() {
    box.replaceChildren(loading('Loading partners…'));
    try {
      self.partners = await loadPartners();
    } catch (error) {
      if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
      box.replaceChildren(errorPanel(`We could not load the partners. ${error.message}`, () => start()));
      return;
    }
    if (!ctx.isCurrent()) return;
    self.ready = true;
    draw();
    const wanted = ctx.query.get('partner');
    if (wanted && self.partners.some((p) => p.partner_id === wanted)) choosePartner(wanted);
    else showStanding('');
  }

  function draw() {
    const criteria = manualCriteriaOf(state.versions);
    if (!criteria.length) {
      box.replaceChildren(
        h(
          'p',
          { class: 'notice', 'data-testid': 'manual-none' },
          'Neither the version in force nor an announced one has a manual criterion.',
        ),
        standingBox,
      );
      self.form = null;
      return;
    }
    self.form = manualForm(ctx, self, criteria, (standing) => renderStanding(standing));
    box.replaceChildren(h('div', { class: 'record-layout admin-allocation' }, h('div', { class: 'admin-forms' }, self.form), standingBox));
    if (self.partnerId) self.form.elements.manual_partner.value = self.partnerId;
  }

  function choosePartner(partnerId) {
    self.partnerId = partnerId;
    ctx.setQuery({ partner: partnerId });
    if (self.form) self.form.elements.manual_partner.value = partnerId;
    showStanding(partnerId);
  }
  self.choosePartner = choosePartner;

  function company(partnerId) {
    return self.partners.find((p) => p.partner_id === partnerId)?.company_name || partnerId;
  }

  function renderStanding(standing) {
    const name = standing.company_name || company(standing.partner_id);
    standingBox.replaceChildren(h('h2', { id: 'partner-standing-title' }, `Standing of ${name}`));
    append(standingBox, standingView(standing, { who: name }));
  }

  async function showStanding(partnerId) {
    const seq = ++self.seq;
    if (!partnerId) {
      standingBox.replaceChildren(
        h('h2', { id: 'partner-standing-title' }, 'Partner standing'),
        h('p', { class: 'muted', 'data-testid': 'partner-standing-hint' }, 'Choose a partner to see its tier and criteria.'),
      );
      return;
    }
    standingBox.replaceChildren(
      h('h2', { id: 'partner-standing-title' }, `Standing of ${company(partnerId)}`),
      loading('Loading the partner’s standing…'),
    );
    let standing;
    try {
      standing = await api.get(path`/programme/partners/${partnerId}`);
    } catch (error) {
      if (ctx.handleAuthErrors(error) || seq !== self.seq || !ctx.isCurrent()) return;
      clear(standingBox).append(
        h('h2', { id: 'partner-standing-title' }, `Standing of ${company(partnerId)}`),
        error.status === 404
          ? h('p', { class: 'empty', 'data-testid': 'partner-not-in-programme' }, 'This partner has no tier yet.')
          : errorPanel(`We could not load the partner’s standing. ${error.message}`, () => showStanding(partnerId)),
      );
      return;
    }
    if (seq !== self.seq || !ctx.isCurrent()) return;
    renderStanding(standing);
  }

  return { start, refresh: () => (self.ready ? draw() : null) };
}

function manualForm(ctx, self, criteria, answered) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'manual-form',
    title: 'Set a manual criterion',
    result: resultSlot('manual'),
    fields: [
      field({
        id: 'manual_partner',
        name: 'partner_id',
        label: 'Partner',
        control: 'select',
        placeholder: self.partners.length ? 'Choose a partner…' : 'No partners yet',
        options: self.partners.map((p) => [
          p.partner_id,
          `${p.company_name || p.partner_id}${p.tier?.name ? ` (${p.tier.name})` : ''}`,
        ]),
      }),
      field({
        id: 'manual_criterion',
        name: 'criterion_id',
        label: 'Criterion',
        control: 'select',
        options: criteria.map((c) => [c.criterion_id, `${c.label} (${c.tier}, ${c.version})`]),
      }),
      field({
        id: 'manual_met',
        name: 'met',
        label: 'Status',
        control: 'select',
        options: [
          ['true', 'Met: confirmed by the channel team'],
          ['false', 'Not met'],
        ],
      }),
      field({
        id: 'manual_note',
        name: 'note',
        label: 'Note',
        control: 'textarea',
        optional: true,
        hint: 'For the record, e.g. where the signed plan is filed.',
        attrs: { rows: 2 },
      }),
    ],
    button: 'Save criterion',
    buttonTestid: 'set-manual',
  });
  const els = form.elements;
  els.manual_partner.addEventListener('change', () => self.choosePartner(els.manual_partner.value));
  const controller = bindForm(form, {
    validators: {
      manual_partner: (v) => (v ? '' : 'Choose a partner.'),
      manual_criterion: (v) => (v ? '' : 'Choose a criterion.'),
      manual_met: () => '',
      manual_note: (v) => maxLength(v, REASON_MAX, 'Note'),
    },
    busyLabel: 'Saving…',
    onSubmit: () => {
      clearResult(form);
      const partnerId = els.manual_partner.value;
      const criterionId = els.manual_criterion.value;
      const met = els.manual_met.value === 'true';
      const label = criteria.find((c) => c.criterion_id === criterionId)?.label || criterionId;
      const partnerName = self.partners.find((p) => p.partner_id === partnerId)?.company_name || partnerId;
      return submitAdmin(ctx, form, controller, { keyFor: (text) => keeper.keyFor(`${partnerId}|${criterionId}|${text}`), reset: () => keeper.reset() }, {
        url: path`/programme/partners/${partnerId}/manual-criteria/${criterionId}`,
        body: { met, note: els.manual_note.value.trim() },
        fieldMap: { met: 'manual_met', note: 'manual_note', partner_id: 'manual_partner', criterion_id: 'manual_criterion' },
        button: 'Save criterion',
        done: (standing) => {
          answered(standing);
          els.manual_note.value = '';
          return `${label}: ${met ? 'met' : 'not met'} for ${partnerName}.`;
        },
      });
    },
  });
  return form;
}
