// #/training: the signed-in partner user's course completions and certifications (with expiry: active, expiring
// soon, expired), and for a partner admin the organisation's certified people per certification.
import { api } from '../api.js';
import { badge, dataTable, daysUntil, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';

// The first expiry reminder goes out 60 days before (CertificationReminderOffsetsSeconds' default): from then on an
// award reads "expiring soon".
export const EXPIRING_SOON_DAYS = 60;

export async function renderTraining(ctx) {
  const mine = h('div', {}, loading('Loading your training…'));
  const people = ctx.isPartnerAdmin()
    ? h('section', { class: 'org-certified', 'aria-labelledby': 'people-heading', 'data-testid': 'training-people' })
    : null;
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'training-title' },
      pageHead(
        h('h1', { tabindex: '-1', id: 'training-title' }, 'Training'),
        'Courses you completed in the vendor’s learning system and the certifications you hold.',
        h('a', { class: 'button', href: '#/programme', 'data-testid': 'training-programme-link' }, 'Programme tier'),
      ),
      mine,
      people,
    ),
  );
  await Promise.all([showMine(ctx, mine), people ? showPeople(ctx, people) : null]);
}

async function showMine(ctx, box) {
  let data;
  try {
    data = await api.get('/training/me');
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    box.replaceChildren(errorPanel(`We could not load your training. ${error.message}`, ctx.rerender));
    return;
  }
  if (!ctx.isCurrent()) return;
  const certifications = Array.isArray(data?.certifications) ? data.certifications : [];
  const completions = Array.isArray(data?.completions) ? data.completions : [];
  box.replaceChildren(
    h(
      'section',
      { class: 'my-certifications', 'aria-labelledby': 'certifications-heading' },
      h('h2', { id: 'certifications-heading' }, 'My certifications'),
      certifications.length
        ? h(
            'div',
            { class: 'cert-grid', 'data-testid': 'my-certifications' },
            certifications.map((award) => certificationCard(award)),
          )
        : h(
            'p',
            { class: 'empty', 'data-testid': 'my-certifications-empty' },
            'You hold no certification yet. Pass every course a certification requires and it is awarded to you.',
          ),
    ),
    h(
      'section',
      { class: 'my-completions', 'aria-labelledby': 'completions-heading' },
      h('h2', { id: 'completions-heading' }, 'My courses'),
      completions.length
        ? completionsTable(completions)
        : h(
            'p',
            { class: 'empty', 'data-testid': 'my-completions-empty' },
            'No completed course yet. Completions arrive from the learning system, usually within a minute.',
          ),
    ),
  );
}

/**
 * An award's state as the holder reads it: the API's status (active, expired, withdrawn), and "expiring soon" within
 * 60 days of an active award's expiry (or "expired" once it passed, before the expiry is processed).
 */
export function awardState(award) {
  const status = award.status || 'active';
  if (status !== 'active') return status;
  const days = daysUntil(award.expires_at);
  if (days <= 0) return 'expired';
  return days <= EXPIRING_SOON_DAYS ? 'expiring_soon' : 'active';
}

const STATES = {
  active: ['Active', 'ok'],
  expiring_soon: ['Expiring soon', 'warn'],
  expired: ['Expired', 'bad'],
  withdrawn: ['Withdrawn', 'neutral'],
};

export function awardBadge(award, testid = 'certification-status') {
  const state = awardState(award);
  const [label, tone] = STATES[state] || [state, 'neutral'];
  return badge(label, tone, testid);
}

function expiryNote(award) {
  const state = awardState(award);
  const days = daysUntil(award.expires_at);
  if (state === 'expiring_soon') {
    return h(
      'p',
      { class: 'fund-warning', role: 'note', 'data-testid': 'certification-expiry-warning' },
      `Expires in ${days} day${days === 1 ? '' : 's'}. Pass the renewal course before then to keep it.`,
    );
  }
  if (state === 'expired') {
    return h(
      'p',
      { class: 'muted small', 'data-testid': 'certification-expired-note' },
      'Expired: it no longer counts for your organisation’s tier. Passing the renewal course soon renews it.',
    );
  }
  return null;
}

function certificationCard(award) {
  const id = `cert-${String(award.award_id || award.certification_id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return h(
    'article',
    {
      class: 'card cert-card',
      'data-testid': 'certification-card',
      'data-certification-id': award.certification_id,
      'data-state': awardState(award),
      'aria-labelledby': id,
    },
    h(
      'div',
      { class: 'fund-head' },
      h('h3', { id, 'data-testid': 'certification-name' }, award.name || award.certification_id),
      awardBadge(award),
    ),
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Earned'),
      h('dd', {}, timeEl(award.earned_at, { dateOnly: true, testid: 'certification-earned' })),
      h('dt', {}, awardState(award) === 'expired' ? 'Expired' : 'Expires'),
      h('dd', {}, timeEl(award.expires_at, { dateOnly: true, testid: 'certification-expires' })),
    ),
    expiryNote(award),
  );
}

function resultText(completion) {
  const score =
    completion.score_scaled === null || completion.score_scaled === undefined
      ? ''
      : ` (${Math.round(Number(completion.score_scaled) * 100)}%)`;
  return `${completion.passed ? 'Passed' : 'Not passed'}${score}`;
}

function completionsTable(items) {
  const sorted = [...items].sort((a, b) => String(b.completed_at).localeCompare(String(a.completed_at)));
  return dataTable({
    testid: 'my-completions',
    captionId: 'completions-caption',
    caption: `My completed courses, newest first (${items.length})`,
    columns: ['Course', 'Result', 'Completed'],
    rows: sorted.map((completion) =>
      h(
        'tr',
        { 'data-testid': 'completion-row', 'data-course-id': completion.course_id },
        h(
          'td',
          { 'data-label': 'Course', 'data-testid': 'completion-course' },
          completion.course_title || completion.course_id,
        ),
        h(
          'td',
          { 'data-label': 'Result' },
          badge(resultText(completion), completion.passed ? 'ok' : 'neutral', 'completion-result'),
        ),
        h(
          'td',
          { 'data-label': 'Completed' },
          timeEl(completion.completed_at, { dateOnly: true, testid: 'completion-at' }),
        ),
      ),
    ),
  });
}

// ------------------------------------------------------------------ partner admins: the certified people

async function showPeople(ctx, section) {
  section.replaceChildren(
    h('h2', { id: 'people-heading' }, 'Certified people in your organisation'),
    loading('Loading your organisation’s certified people…'),
  );
  let data;
  try {
    data = await api.get('/training/people');
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    section.lastChild.replaceWith(
      errorPanel(`We could not load your organisation’s certified people. ${error.message}`, ctx.rerender),
    );
    return;
  }
  if (!ctx.isCurrent()) return;
  const groups = Array.isArray(data?.certifications) ? data.certifications : [];
  const held = groups.filter((group) => (group.holders || []).length);
  section.lastChild.replaceWith(
    held.length
      ? h(
          'div',
          {},
          h(
            'p',
            { class: 'muted small' },
            'People holding each certification for your organisation; they count towards your programme tier.',
          ),
          held.map((group, i) => peopleTable(group, i)),
        )
      : h(
          'p',
          { class: 'empty', 'data-testid': 'training-people-empty' },
          'Nobody in your organisation is certified yet.',
        ),
  );
}

function peopleTable(group, index) {
  const people = [...group.holders].sort((a, b) =>
    String(a.expires_at).localeCompare(String(b.expires_at)),
  );
  const name = group.name || group.certification_id;
  return h(
    'div',
    { class: 'people-group', 'data-testid': 'people-group', 'data-certification-id': group.certification_id },
    h(
      'h3',
      { 'data-testid': 'people-certification' },
      name,
      h('span', { class: 'muted small' }, ` · ${people.length} ${people.length === 1 ? 'person' : 'people'}`),
    ),
    dataTable({
      testid: 'people-table',
      captionId: `people-caption-${index}`,
      caption: `${name}: certified people, soonest expiry first`,
      columns: ['Person', 'Earned', 'Expires', 'Status'],
      rows: people.map((person) =>
        h(
          'tr',
          { 'data-testid': 'person-row', 'data-email': person.email },
          h('td', { 'data-label': 'Person', 'data-testid': 'person-email' }, person.email),
          h('td', { 'data-label': 'Earned' }, timeEl(person.earned_at, { dateOnly: true, testid: 'person-earned' })),
          h('td', { 'data-label': 'Expires' }, timeEl(person.expires_at, { dateOnly: true, testid: 'person-expires' })),
          h('td', { 'data-label': 'Status' }, awardBadge(person, 'person-status')),
        ),
      ),
    }),
  );
}
