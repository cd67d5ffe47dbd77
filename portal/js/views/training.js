// #/training: the signed-in partner user's course completions and certifications (with expiry: active, expiring
// soon, expired), the vendor's course catalogue (each course's credit hours, language, the certifications it counts
// toward, and whether the user passed it), and for a partner admin the organisation's certified people per
// certification.
import { api } from '../api.js';
import { badge, dataTable, daysUntil, errorPanel, h, loading, pageHead, timeEl } from '../dom.js';
import { hoursText, languageName } from './admin-common.js';

// The first expiry reminder goes out 60 days before (CertificationReminderOffsetsSeconds' default): from then on an
// award reads "expiring soon".
export const EXPIRING_SOON_DAYS = 60;

export async function renderTraining(ctx) {
  const mine = h('div', {}, loading('Loading your training…'));
  const catalogue = h('section', {
    class: 'course-catalogue',
    'aria-labelledby': 'catalogue-heading',
    'data-testid': 'course-catalogue',
  });
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
      catalogue,
      people,
    ),
  );
  const myTraining = api.get('/training/me');
  await Promise.all([
    showMine(ctx, mine, myTraining),
    showCatalogue(ctx, catalogue, myTraining),
    people ? showPeople(ctx, people) : null,
  ]);
}

async function showMine(ctx, box, request) {
  let data;
  try {
    data = await request;
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

// ------------------------------------------------------------------ the course catalogue

/** The newest completion of each course: {course_id: completion}, a pass preferred over a later failed attempt. */
export function latestByCourse(completions) {
  const found = {};
  for (const c of completions || []) {
    const known = found[c.course_id];
    const better =
      !known ||
      (c.passed && !known.passed) ||
      (c.passed === known.passed && String(c.completed_at) > String(known.completed_at));
    if (better) found[c.course_id] = c;
  }
  return found;
}

/** What a course counts toward: [{certification, renewal}] over the catalogue's certifications. */
function countsToward(course, certifications) {
  const uses = [];
  for (const c of certifications) {
    if ((c.required_course_ids || []).includes(course.course_id)) uses.push({ name: c.name, renewal: false });
    if (c.renewal_course_id === course.course_id) uses.push({ name: c.name, renewal: true });
  }
  return uses;
}

async function showCatalogue(ctx, section, myTraining) {
  section.replaceChildren(
    h('h2', { id: 'catalogue-heading' }, 'Course catalogue'),
    loading('Loading the course catalogue…'),
  );
  let courses;
  let certifications;
  try {
    [courses, certifications] = await Promise.all([
      api.get('/training/courses'),
      api.get('/training/certifications'),
    ]);
  } catch (error) {
    if (ctx.handleAuthErrors(error) || !ctx.isCurrent()) return;
    section.lastChild.replaceWith(
      errorPanel(`We could not load the course catalogue. ${error.message}`, ctx.rerender),
    );
    return;
  }
  // Your own completions mark what you passed; without them (their own panel says why) the catalogue still shows.
  const mine = await myTraining.then(
    (data) => (Array.isArray(data?.completions) ? data.completions : []),
    () => [],
  );
  if (!ctx.isCurrent()) return;
  const courseList = Array.isArray(courses?.items) ? courses.items : [];
  const certList = Array.isArray(certifications?.items) ? certifications.items : [];
  const latest = latestByCourse(mine);
  section.lastChild.replaceWith(
    courseList.length
      ? h(
          'div',
          {},
          h(
            'p',
            { class: 'muted small' },
            'The courses the vendor offers in its learning system. Passing them earns the certifications they count ' +
              'toward.',
          ),
          catalogueTable(courseList, certList, latest),
          certList.length ? certificationProgress(certList, courseList, latest) : null,
        )
      : h('p', { class: 'empty', 'data-testid': 'course-catalogue-empty' }, 'The vendor offers no courses yet.'),
  );
}

function courseStatus(completion) {
  if (!completion) return [badge('Not taken yet', 'neutral', 'catalogue-status'), null];
  if (completion.passed) {
    return [
      badge('Passed', 'ok', 'catalogue-status'),
      timeEl(completion.completed_at, { dateOnly: true, testid: 'catalogue-completed-at' }),
    ];
  }
  return [
    badge('Not passed yet', 'pending', 'catalogue-status'),
    timeEl(completion.completed_at, { dateOnly: true, testid: 'catalogue-completed-at' }),
  ];
}

function catalogueTable(courses, certifications, latest) {
  const sorted = [...courses].sort((a, b) =>
    String(a.title || '').localeCompare(String(b.title || ''), undefined, { sensitivity: 'base' }),
  );
  return dataTable({
    testid: 'catalogue-table',
    captionId: 'catalogue-caption',
    caption: `Courses offered (${courses.length})`,
    columns: ['Course', ['Credit hours', 'num'], 'Language', 'Counts toward', 'Your status', 'Date'],
    rows: sorted.map((course) => {
      const uses = countsToward(course, certifications);
      const [status, date] = courseStatus(latest[course.course_id]);
      return h(
        'tr',
        { 'data-testid': 'catalogue-row', 'data-course-id': course.course_id },
        h('td', { 'data-label': 'Course', 'data-testid': 'catalogue-title' }, course.title),
        h('td', { 'data-label': 'Credit hours', class: 'num', 'data-testid': 'catalogue-hours' }, hoursText(course.credit_hours)),
        h('td', { 'data-label': 'Language', 'data-testid': 'catalogue-language' }, languageName(course.language)),
        h(
          'td',
          { 'data-label': 'Counts toward', 'data-testid': 'catalogue-certifications' },
          uses.length
            ? uses.map((use) => h('span', { class: 'block' }, use.renewal ? `${use.name} (renewal)` : use.name))
            : h('span', { class: 'muted' }, 'No certification'),
        ),
        h('td', { 'data-label': 'Your status' }, status),
        h('td', { 'data-label': 'Date' }, date || h('span', { class: 'muted' }, '—')),
      );
    }),
  });
}

/** Per certification: how many of its required courses you passed, and the next course to take. */
function certificationProgress(certifications, courses, latest) {
  const title = (id) => courses.find((c) => c.course_id === id)?.title || id;
  return h(
    'ul',
    { class: 'plain-list', 'data-testid': 'catalogue-certification-list' },
    [...certifications]
      .sort((a, b) => String(a.name).localeCompare(String(b.name)))
      .map((cert) => {
        const required = cert.required_course_ids || [];
        const passed = required.filter((id) => latest[id]?.passed);
        const next = required.find((id) => !latest[id]?.passed);
        return h(
          'li',
          { 'data-testid': 'catalogue-certification', 'data-certification-id': cert.certification_id },
          h('strong', {}, cert.name),
          h(
            'span',
            { 'data-testid': 'catalogue-certification-progress' },
            `: ${passed.length} of ${required.length} required course${required.length === 1 ? '' : 's'} passed`,
          ),
          next
            ? h('span', { class: 'muted small', 'data-testid': 'catalogue-next-course' }, ` · next: ${title(next)}`)
            : null,
          h(
            'span',
            { class: 'muted small block' },
            `Valid for ${cert.validity_months} months; the courses must be passed within ` +
              `${cert.completion_window_months || cert.validity_months} months.`,
          ),
        );
      }),
  );
}
