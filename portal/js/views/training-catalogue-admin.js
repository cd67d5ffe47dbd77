// #/admin/training/catalogue (vendor admins): the training catalogue. Courses (title, the LMS's course or activity id,
// credit hours, language, optionally up to 10 further xAPI activity ids, one per line) and certifications (required
// courses, validity, the window in which the courses must be passed, an optional renewal course): each list with what
// it is used for and when it was added, and a form to add one.
import { api } from '../api.js';
import { dataTable, errorPanel, h, loading, timeEl } from '../dom.js';
import {
  bindForm,
  cardForm,
  checkboxGroup,
  field,
  idempotencyKeeper,
  maxLength,
  parseCount,
  required,
} from '../forms.js';
import { adminBlock, clearResult, hoursText, languageName, monthsText, resultSlot, submitAdmin } from './admin-common.js';

const TITLE_MAX = 200;
const NAME_MAX = 200;
const LMS_ID_MAX = 200;
const MAX_REQUIRED = 20;
const MONTHS_MAX = 120;
const LMS_ID = /^[^\s\x00-\x1f\x7f]+$/; // as the API's LmsCourseId: no spaces or control characters
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/; // as the API's Language: "en", "pt-BR"
const HOURS = /^\d{1,4}(\.\d{1,2})?$/;
export const MAX_ACTIVITY_IDS = 10; // as the API's MAX_ACTIVITY_IDS
const ACTIVITY_MAX = 200;
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$/; // as the API's ActivityIri: an absolute IRI

/** The activity ids of the form's text, one per line (blank lines skipped). */
export function activityLines(text) {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** How an activity id is matched (the API's `activity_key`): exactly, but for one trailing slash. */
function activityKey(iri) {
  return iri.endsWith('/') ? iri.slice(0, -1) : iri;
}

/** '' when the lines are activity ids the API accepts, otherwise what is wrong (naming the line). */
export function activityIdsError(text, courses = []) {
  const raw = String(text ?? '').split(/\r?\n/);
  const taken = new Set();
  for (const course of courses) {
    for (const iri of [course.lms_course_id, ...(course.activity_ids || [])]) if (iri) taken.add(activityKey(iri));
  }
  const seen = new Set();
  let count = 0;
  for (const [index, line] of raw.entries()) {
    const iri = line.trim();
    if (!iri) continue;
    count += 1;
    const where = `Line ${index + 1}`;
    if (count > MAX_ACTIVITY_IDS) return `Enter at most ${MAX_ACTIVITY_IDS} activity ids, one per line.`;
    if (iri.length < 3 || iri.length > ACTIVITY_MAX) {
      return `${where}: an activity id has 3 to ${ACTIVITY_MAX} characters.`;
    }
    if (!IRI.test(iri)) {
      return `${where}: enter an absolute IRI without spaces, e.g. https://lms.example.com/xapi/net-101.`;
    }
    const key = activityKey(iri);
    if (seen.has(key)) return `${where}: this activity id is listed twice.`;
    if (taken.has(key)) return `${where}: another course already has this activity id.`;
    seen.add(key);
  }
  return '';
}

export async function renderTrainingCatalogueAdmin(ctx) {
  const body = h('div', {}, loading('Loading the training catalogue…'));
  ctx.main.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'catalogue-admin-title' },
      h('h1', { tabindex: '-1', id: 'catalogue-admin-title' }, 'Training catalogue'),
      h(
        'p',
        { class: 'lead' },
        'The courses partners take in the learning system and the certifications they earn by passing them. ' +
          'Partners see this catalogue on their Training page.',
      ),
      body,
    ),
  );

  let courses;
  let certifications;
  try {
    [courses, certifications] = await Promise.all([items('/training/courses'), items('/training/certifications')]);
  } catch (error) {
    if (!ctx.handleAuthErrors(error) && ctx.isCurrent()) {
      body.replaceChildren(errorPanel(`We could not load the training catalogue. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;

  const state = { courses, certifications };
  const coursesBox = h('div', {});
  const certificationsBox = h('div', {});
  const draw = () => {
    coursesBox.replaceChildren(coursesTable(state));
    certificationsBox.replaceChildren(certificationsTable(state));
  };
  const certificationForm = newCertificationForm(ctx, state, draw);
  const courseForm = newCourseForm(ctx, state, () => {
    draw();
    certificationForm.refreshCourses();
  });
  body.replaceChildren(
    adminBlock(
      'courses-title',
      'Courses',
      'A completion from the learning system counts when its LMS course id matches a course here.',
      coursesBox,
      h('div', { class: 'action-grid' }, courseForm),
    ),
    adminBlock(
      'certifications-title',
      'Certifications',
      'Earned when every required course is passed within the window; it expires after its validity and is ' +
        'renewed by passing the renewal course.',
      certificationsBox,
      h('div', { class: 'action-grid' }, certificationForm.form),
    ),
  );
  draw();
}

async function items(url) {
  const data = await api.get(url);
  return Array.isArray(data?.items) ? data.items : [];
}

function byTitle(a, b) {
  return String(a.title || '').localeCompare(String(b.title || ''), undefined, { sensitivity: 'base' });
}

function byName(a, b) {
  return String(a.name || '').localeCompare(String(b.name || ''), undefined, { sensitivity: 'base' });
}

/** What a course is used for: the certifications that require it or renew with it. */
export function courseUses(course, certifications) {
  const uses = [];
  for (const c of certifications) {
    if ((c.required_course_ids || []).includes(course.course_id)) uses.push({ name: c.name, renewal: false });
    if (c.renewal_course_id === course.course_id) uses.push({ name: c.name, renewal: true });
  }
  return uses;
}

function coursesTable(state) {
  if (!state.courses.length) {
    return h('p', { class: 'empty', 'data-testid': 'courses-empty' }, 'No courses yet. Add the first one below.');
  }
  return dataTable({
    testid: 'courses-table',
    captionId: 'courses-caption',
    caption: `Courses (${state.courses.length})`,
    columns: ['Course', 'LMS course id', ['Credit hours', 'num'], 'Language', 'Status and next step', 'Added'],
    rows: [...state.courses].sort(byTitle).map((course) => {
      const uses = courseUses(course, state.certifications);
      return h(
        'tr',
        { 'data-testid': 'course-row', 'data-course-id': course.course_id },
        h('td', { 'data-label': 'Course', 'data-testid': 'course-title' }, course.title),
        h(
          'td',
          { 'data-label': 'LMS course id' },
          h('code', { 'data-testid': 'course-lms-id' }, course.lms_course_id),
          (course.activity_ids || []).length
            ? h(
                'ul',
                { class: 'plain-list small', 'data-testid': 'course-activity-ids', 'aria-label': 'xAPI activity ids' },
                course.activity_ids.map((iri) => h('li', {}, h('code', {}, iri))),
              )
            : null,
        ),
        h('td', { 'data-label': 'Credit hours', class: 'num', 'data-testid': 'course-hours' }, hoursText(course.credit_hours)),
        h('td', { 'data-label': 'Language', 'data-testid': 'course-language' }, languageName(course.language)),
        h(
          'td',
          { 'data-label': 'Status and next step', 'data-testid': 'course-uses' },
          uses.length
            ? uses.map((use) =>
                h('span', { class: 'block' }, use.renewal ? `Renews ${use.name}` : `Counts toward ${use.name}`),
              )
            : h('span', { class: 'muted' }, 'Offered; not part of a certification yet'),
        ),
        h('td', { 'data-label': 'Added' }, timeEl(course.created_at, { dateOnly: true, testid: 'course-added' })),
      );
    }),
  });
}

function courseTitle(state, courseId) {
  return state.courses.find((c) => c.course_id === courseId)?.title || courseId;
}

function certificationsTable(state) {
  if (!state.certifications.length) {
    return h(
      'p',
      { class: 'empty', 'data-testid': 'certifications-empty' },
      state.courses.length
        ? 'No certifications yet. Add the first one below.'
        : 'No certifications yet. Add the courses first, then the certification that requires them.',
    );
  }
  return dataTable({
    testid: 'certifications-table',
    captionId: 'certifications-caption',
    caption: `Certifications (${state.certifications.length})`,
    columns: ['Certification', 'Required courses', 'Valid for', 'Courses passed within', 'Renewal course', 'Added'],
    rows: [...state.certifications].sort(byName).map((c) =>
      h(
        'tr',
        { 'data-testid': 'certification-row', 'data-certification-id': c.certification_id },
        h('td', { 'data-label': 'Certification', 'data-testid': 'cert-name' }, c.name),
        h(
          'td',
          { 'data-label': 'Required courses', 'data-testid': 'cert-courses' },
          (c.required_course_ids || []).map((id) => h('span', { class: 'block' }, courseTitle(state, id))),
        ),
        h('td', { 'data-label': 'Valid for', 'data-testid': 'cert-validity' }, monthsText(c.validity_months)),
        h('td', { 'data-label': 'Courses passed within', 'data-testid': 'cert-window' }, monthsText(c.completion_window_months)),
        h(
          'td',
          { 'data-label': 'Renewal course', 'data-testid': 'cert-renewal' },
          c.renewal_course_id
            ? courseTitle(state, c.renewal_course_id)
            : h('span', { class: 'muted' }, 'None: renewed by passing the required courses again'),
        ),
        h('td', { 'data-label': 'Added' }, timeEl(c.created_at, { dateOnly: true, testid: 'cert-added' })),
      ),
    ),
  });
}

// ------------------------------------------------------------------ add a course

function newCourseForm(ctx, state, changed) {
  const keeper = idempotencyKeeper();
  const form = cardForm({
    testid: 'course-form',
    title: 'Add a course',
    result: resultSlot('course'),
    fields: [
      field({ id: 'course_title', name: 'title', label: 'Title', attrs: { autocomplete: 'off' } }),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'course_lms_id',
          name: 'lms_course_id',
          label: 'LMS course id',
          hint: 'The course or activity id the learning system reports, e.g. NET-101.',
          attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
        }),
        field({
          id: 'course_credit_hours',
          name: 'credit_hours',
          label: 'Credit hours',
          hint: 'For example 8 or 1.5.',
          attrs: { inputmode: 'decimal', autocomplete: 'off' },
        }),
      ),
      field({
        id: 'course_language',
        name: 'language',
        label: 'Language',
        hint: 'A language tag: en, de, fr, pt-BR…',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', value: 'en' },
      }),
      field({
        id: 'course_activity_ids',
        name: 'activity_ids',
        label: 'xAPI activity ids (optional)',
        control: 'textarea',
        hint:
          `Statements naming one of these activities complete the course: absolute IRIs, one per line, at most ` +
          `${MAX_ACTIVITY_IDS}.`,
        attrs: { rows: 3, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
      }),
    ],
    button: 'Add course',
    buttonTestid: 'create-course',
  });
  const els = form.elements;
  const controller = bindForm(form, {
    validators: {
      course_title: (v) => required(v, 'Enter the course title.') || maxLength(v, TITLE_MAX, 'Title'),
      course_lms_id: (v) => {
        const text = String(v).trim();
        if (!text) return 'Enter the LMS course id.';
        if (!LMS_ID.test(text)) return 'The LMS course id has no spaces.';
        if (text.length > LMS_ID_MAX) return `The LMS course id must be ${LMS_ID_MAX} characters or fewer.`;
        return state.courses.some((c) => c.lms_course_id === text) ? 'Another course already has this LMS course id.' : '';
      },
      course_credit_hours: (v) => {
        const text = String(v).trim();
        if (!text) return 'Enter the credit hours (0 when the course gives none).';
        if (!HOURS.test(text)) return 'Enter a number of hours such as 8 or 1.5.';
        return Number(text) > 1000 ? 'A course gives at most 1,000 credit hours.' : '';
      },
      course_language: (v) => {
        const text = String(v).trim();
        if (!text) return 'Enter the course language, e.g. en.';
        return LANGUAGE.test(text) ? '' : 'Enter a language tag such as en, de or pt-BR.';
      },
      course_activity_ids: (v) => activityIdsError(v, state.courses),
    },
    busyLabel: 'Adding…',
    onSubmit: () => {
      clearResult(form);
      return submitAdmin(ctx, form, controller, keeper, {
        url: '/training/courses',
        body: {
          title: els.course_title.value.trim(),
          lms_course_id: els.course_lms_id.value.trim(),
          credit_hours: Number(els.course_credit_hours.value.trim()),
          language: els.course_language.value.trim(),
          activity_ids: activityLines(els.course_activity_ids.value),
        },
        fieldMap: {
          title: 'course_title',
          lms_course_id: 'course_lms_id',
          credit_hours: 'course_credit_hours',
          language: 'course_language',
          activity_ids: 'course_activity_ids', // `activity_ids.3` too: the longest mapped prefix wins
        },
        conflictField: 'course_lms_id',
        button: 'Add course',
        done: (course) => {
          state.courses = [...state.courses.filter((c) => c.course_id !== course.course_id), course];
          controller.reset();
          els.course_language.value = course.language || 'en';
          changed();
          return `Added “${course.title}” (${course.lms_course_id}).`;
        },
      });
    },
  });
  return form;
}

// ------------------------------------------------------------------ add a certification

function courseOptions(state) {
  return [...state.courses].sort(byTitle).map((c) => [c.course_id, `${c.title} (${c.lms_course_id})`]);
}

function monthsError(value, { what, optional = false }) {
  const text = String(value ?? '').trim();
  if (!text && optional) return '';
  const parsed = parseCount(text, { max: MONTHS_MAX, what });
  if (!parsed.ok) return parsed.error;
  return parsed.value < 1 ? 'Enter at least 1 month.' : '';
}

function newCertificationForm(ctx, state, changed) {
  const keeper = idempotencyKeeper();
  const group = () =>
    checkboxGroup({
      id: 'cert_courses',
      name: 'required_course_ids',
      legend: 'Required courses',
      hint: 'Each must be passed within the window below.',
      options: courseOptions(state),
    });
  const renewal = () =>
    field({
      id: 'cert_renewal',
      name: 'renewal_course_id',
      label: 'Renewal course',
      control: 'select',
      optional: true,
      placeholder: 'None (retake the required courses)',
      options: courseOptions(state),
      hint: 'Passing it before the certification expires renews it for another validity period.',
    });
  const form = cardForm({
    testid: 'certification-form',
    title: 'Add a certification',
    result: resultSlot('certification'),
    fields: [
      field({ id: 'cert_name', name: 'name', label: 'Name', attrs: { autocomplete: 'off' } }),
      group(),
      h(
        'div',
        { class: 'grid-2-tight' },
        field({
          id: 'cert_validity',
          name: 'validity_months',
          label: 'Valid for (months)',
          hint: 'For example 24.',
          attrs: { inputmode: 'numeric', autocomplete: 'off', value: '24' },
        }),
        field({
          id: 'cert_window',
          name: 'completion_window_months',
          label: 'Courses passed within (months)',
          optional: true,
          hint: 'Empty: the validity.',
          attrs: { inputmode: 'numeric', autocomplete: 'off' },
        }),
      ),
      renewal(),
    ],
    button: 'Add certification',
    buttonTestid: 'create-certification',
  });
  const els = form.elements;
  const checked = () => [...form.querySelectorAll('input[name=required_course_ids]:checked')].map((box) => box.value);
  const controller = bindForm(form, {
    validators: {
      cert_name: (v) => {
        const problem = required(v, 'Enter the certification’s name.') || maxLength(v, NAME_MAX, 'Name');
        if (problem) return problem;
        const wanted = String(v).trim().toLowerCase();
        return state.certifications.some((c) => String(c.name).toLowerCase() === wanted)
          ? 'Another certification has this name.'
          : '';
      },
      cert_courses: () => {
        const n = checked().length;
        if (!state.courses.length) return 'Add a course first: a certification requires at least one.';
        if (!n) return 'Choose at least one required course.';
        return n > MAX_REQUIRED ? `Choose at most ${MAX_REQUIRED} courses.` : '';
      },
      cert_validity: (v) => monthsError(v, { what: 'the validity in months' }),
      cert_window: (v) => monthsError(v, { what: 'the window in months', optional: true }),
      cert_renewal: () => '',
    },
    busyLabel: 'Adding…',
    onSubmit: () => {
      clearResult(form);
      const window = els.cert_window.value.trim();
      const renewalCourse = els.cert_renewal.value;
      return submitAdmin(ctx, form, controller, keeper, {
        url: '/training/certifications',
        body: {
          name: els.cert_name.value.trim(),
          required_course_ids: checked(),
          validity_months: parseCount(els.cert_validity.value).value,
          ...(window ? { completion_window_months: parseCount(window).value } : {}),
          ...(renewalCourse ? { renewal_course_id: renewalCourse } : {}),
        },
        fieldMap: {
          name: 'cert_name',
          required_course_ids: 'cert_courses',
          validity_months: 'cert_validity',
          completion_window_months: 'cert_window',
          renewal_course_id: 'cert_renewal',
        },
        conflictField: 'cert_name',
        button: 'Add certification',
        done: (certification) => {
          state.certifications = [
            ...state.certifications.filter((c) => c.certification_id !== certification.certification_id),
            certification,
          ];
          controller.reset();
          els.cert_validity.value = '24';
          changed();
          return `Added the certification “${certification.name}”.`;
        },
      });
    },
  });

  /** A course was added: list it among the choices, keeping what is chosen. */
  function refreshCourses() {
    const chosen = new Set(checked());
    const renewalValue = els.cert_renewal.value;
    const freshGroup = group();
    form.querySelector('#cert_courses').replaceWith(freshGroup);
    for (const box of freshGroup.querySelectorAll('input')) box.checked = chosen.has(box.value);
    const freshRenewal = renewal();
    form.querySelector('#cert_renewal').closest('.field').replaceWith(freshRenewal);
    form.querySelector('#cert_renewal').value = renewalValue;
  }

  return { form, refreshCourses };
}
