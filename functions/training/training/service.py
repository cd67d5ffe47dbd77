"""Training use cases on ports: load, apply a domain rule, save conditionally (retrying a lost race); mail, schedule
and queue through ports.

`CompletionRecorder` is the one way a completion is recorded, whatever its edge (webhook, xAPI, CSV row, review
assignment); `TrainingService` is what the API calls (vendor admins, partner users, LMS deliveries);
`TrainingWorkflowService` what training's queues run (onboarding's events, its own events, timers, import jobs).
All depend on the Protocols of `training.ports` only; the adapters are wired in the `service()` factories of
`training.api` and `training.consumers`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.clock import Clock, timer_time, utc_now
from shared.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from shared.ids import new_id
from shared.retry import attempts
from training.domain import access, awards, catalogue, completions, connections, imports, people, review
from training.domain.common import InvalidState, NewId
from training.models import (
    Award,
    Certification,
    CertificationBody,
    CertificationExpiryDue,
    CertificationReminder,
    Connection,
    Course,
    CourseBody,
    ImportJob,
    ImportRequested,
    ImportRow,
    Learner,
    LearnerChange,
    PartnerProfile,
    Recorded,
    ReviewItem,
)
from training.ports import DuplicateCertificationName, DuplicateLmsCourse, DuplicateSource, ImportFile, StaleRecord

if TYPE_CHECKING:
    from shared.principal import Principal
    from training.incoming import IncomingCompletion
    from training.ports import (
        ImportFiles,
        Mailer,
        SideEffectLedger,
        TrainingNotices,
        TrainingRepository,
        TrainingTimers,
        WorkQueue,
    )

ATTEMPTS = 3  # optimistic-locking attempts when two changes race on one learner
Change = Callable[[Learner], LearnerChange | None]
CsvParser = Callable[[bytes], ImportFile]
SecondsLeft = Callable[[], float]  # time left in this invocation (the Lambda context's remaining time)


def no_deadline() -> float:
    return math.inf


def change_learner(repository: TrainingRepository, partner_id: str, email: str, change: Change) -> LearnerChange | None:
    """Apply `change(learner) -> change | None` with optimistic locking on the person's revision, retrying (jittered)
    when another change of the same learner won the race; None when there was nothing to change."""
    for _ in attempts(ATTEMPTS):
        result = change(repository.learner(partner_id, email))
        if result is None:
            return None
        try:
            repository.save_learner(result)
        except StaleRecord:
            continue
        return result
    raise Conflict("This person's training record is changing right now; try again.")


def course_for(repository: TrainingRepository, ref: str, source: str) -> Course | None:
    """The course a completion names: an xAPI statement by its activity id (one of a course's `activity_ids` or its
    LMS course id), any other source by the LMS course id; one key lookup either way."""
    return repository.course_by_activity(ref) if source == "xapi" else repository.course_by_lms(ref)


@dataclass
class CompletionRecorder:
    """Record one incoming completion: once per delivery, for a known course and an active partner user; anything
    unmatched goes to the review list (never dropped)."""

    repository: TrainingRepository
    clock: Clock = utc_now
    new_id: NewId = new_id
    remember_catalogue: bool = False  # an import run reads the catalogue once, not once per row
    _courses: dict[str, Course | None] = field(default_factory=dict, init=False, repr=False)
    _certifications: list[Certification] | None = field(default=None, init=False, repr=False)

    def _course(self, lms_course_id: str, source: str) -> Course | None:
        if not self.remember_catalogue:
            return course_for(self.repository, lms_course_id, source)
        if lms_course_id not in self._courses:
            self._courses[lms_course_id] = course_for(self.repository, lms_course_id, source)
        return self._courses[lms_course_id]

    def _catalogue(self) -> list[Certification]:
        if not self.remember_catalogue:
            return self.repository.certifications()
        if self._certifications is None:
            self._certifications = self.repository.certifications()
        return self._certifications

    def _duplicate(self, dedup_key: str) -> Recorded:
        first = self.repository.source(dedup_key)
        return Recorded(
            "duplicate",
            completion_id=first.completion_id if first else None,
            item_id=first.item_id if first else None,
            duplicate_of=first,
        )

    def record(self, incoming: IncomingCompletion, *, origin: str) -> Recorded:
        """ValidationFailed (completed_at) for a completion in the future beyond the allowed skew."""
        completions.ensure_not_future(incoming, self.clock())
        if self.repository.source(incoming.dedup_key) is not None:
            return self._duplicate(incoming.dedup_key)
        course = self._course(incoming.lms_course_id, incoming.source)
        person = people.matched(self.repository.memberships(incoming.learner_email)) if incoming.learner_email else None
        reason = completions.unmatched_reason(course, person is not None, has_email=incoming.learner_email is not None)
        if course is not None and person is not None:
            try:
                return self.complete(person.partner_id, incoming, course, origin=origin)
            except InvalidState:
                reason = "unknown_learner"  # removed meanwhile: the completion waits for review instead
        assert reason is not None
        item, guard = completions.for_review(incoming, reason, now=self.clock(), origin=origin)
        try:
            self.repository.add_review(item, guard)
        except DuplicateSource:
            return self._duplicate(incoming.dedup_key)
        return Recorded(reason, item_id=item.item_id)

    def complete(
        self,
        partner_id: str,
        incoming: IncomingCompletion,
        course: Course,
        *,
        origin: str,
        closes: ReviewItem | None = None,
    ) -> Recorded:
        """The completion and the awards it earns or renews, in one write of the learner (retried on a lost race)."""
        assert incoming.learner_email is not None
        relevant = [c for c in self._catalogue() if catalogue.concerns(c, course.course_id)]
        for _ in attempts(ATTEMPTS):
            learner = self.repository.learner_for(
                partner_id,
                incoming.learner_email,
                courses=list(dict.fromkeys([course.course_id, *catalogue.courses_of(relevant)])),
                certifications=[c.certification_id for c in relevant],
                around=incoming.completed_at if incoming.passed else None,
                nearby=catalogue.partners_of(relevant, course.course_id) if incoming.passed else [],
            )
            change = completions.complete(
                learner,
                incoming,
                course,
                relevant,
                origin=origin,
                now=self.clock(),
                new_id=self.new_id,
                closes=closes,
            )
            try:
                self.repository.save_learner(change)
            except DuplicateSource:
                return self._duplicate(incoming.dedup_key)
            except StaleRecord:
                if closes is not None:
                    current = self.repository.review_item(closes.item_id)
                    if current is None or current.status != "open":
                        raise InvalidState("This item was already decided.") from None
                continue
            assert change.completion is not None
            return Recorded("accepted", completion_id=change.completion.completion_id)
        raise Conflict("This person's training record is changing right now; try again.")


WEBHOOK_REFUSED = "The delivery could not be verified."
LRS_REFUSED = "The statement credentials were not accepted."


@dataclass
class TrainingService:
    """The API's use cases: the catalogue, LMS connections and their deliveries, the review list, CSV imports, and
    what partner users see of their training."""

    repository: TrainingRepository
    files: ImportFiles
    work: WorkQueue
    max_import_bytes: int
    clock: Clock = utc_now
    random_bytes: Callable[[int], bytes] = secrets.token_bytes
    new_id: NewId = new_id
    recorder: CompletionRecorder = field(init=False)

    def __post_init__(self) -> None:
        self.recorder = CompletionRecorder(self.repository, self.clock, self.new_id)

    def admit(self, principal: Principal) -> Principal:
        """A partner user acts only once they accepted the current programme agreement (agreement_required)."""
        self.repository.require_accepted(principal)
        return principal

    # ------------------------------------------------------------- catalogue
    def courses(self) -> list[Course]:
        return sorted(self.repository.courses(), key=lambda c: (c.title.lower(), c.course_id))

    def add_course(self, principal: Principal, body: CourseBody) -> Course:
        access.ensure_vendor_admin(principal)
        catalogue.ensure_room(len(self.repository.courses()), catalogue.MAX_COURSES, "courses")
        course = catalogue.new_course(body, by=principal.email, now=self.clock(), new_id=self.new_id)
        try:
            self.repository.add_course(course)
        except DuplicateLmsCourse as duplicate:
            what = "LMS course id" if duplicate.field == "lms_course_id" else "activity id"
            raise Conflict(
                f"Another course already has this {what}.",
                code="duplicate_course",
                errors=[FieldError(duplicate.field, "already used by another course")],
            ) from duplicate
        return course

    def certifications(self) -> list[Certification]:
        return sorted(self.repository.certifications(), key=lambda c: (c.name.lower(), c.certification_id))

    def add_certification(self, principal: Principal, body: CertificationBody) -> Certification:
        access.ensure_vendor_admin(principal)
        catalogue.ensure_room(len(self.repository.certifications()), catalogue.MAX_CERTIFICATIONS, "certifications")
        catalogue.ensure_new_name(body.name, self.repository.certifications())
        named = [*body.required_course_ids, *([body.renewal_course_id] if body.renewal_course_id else [])]
        known = {c.course_id for c in self.repository.courses_named(named)}
        certification = catalogue.new_certification(
            body, known_courses=known, by=principal.email, now=self.clock(), new_id=self.new_id
        )
        event = catalogue.defined(certification, now=self.clock(), new_id=self.new_id)
        try:
            self.repository.add_certification(certification, event)
        except DuplicateCertificationName as duplicate:
            raise catalogue.duplicate_name() from duplicate
        return certification

    # ------------------------------------------------------------- connections
    def add_connection(self, principal: Principal, name: str) -> tuple[Connection, str]:
        """The connection and its secret, answered this once (the table keeps it to verify deliveries with)."""
        access.ensure_vendor_admin(principal)
        connection, secret = connections.new_connection(
            name, random_bytes=self.random_bytes(24), by=principal.email, now=self.clock(), new_id=self.new_id
        )
        self.repository.add_connection(connection)
        return connection, secret

    def connections(
        self, principal: Principal, *, limit: int, cursor: str | None
    ) -> tuple[list[Connection], str | None]:
        """One page of the LMS connections, newest first (vendor admins only; the API never shows their secrets)."""
        access.ensure_vendor_admin(principal)
        return self.repository.connections_page(limit=limit, cursor=cursor)

    def rotate_secret(self, principal: Principal, connection_id: str) -> tuple[Connection, str]:
        access.ensure_vendor_admin(principal)
        for _ in attempts(ATTEMPTS):
            connection = self.repository.connection(connection_id)
            if connection is None:
                raise NotFound("No such connection.")
            rotated, secret = connections.rotate(connection, random_bytes=self.random_bytes(24), now=self.clock())
            try:
                self.repository.save_connection(rotated)
            except StaleRecord:
                continue
            return rotated, secret
        raise Conflict("The connection is changing right now; try again.")

    # ------------------------------------------------------------- deliveries from an LMS
    def webhook_secrets(self, connection_id: str) -> list[str]:
        """The secrets a delivery to this connection may be signed with; Unauthorized (saying nothing more) when
        there is no such connection."""
        connection = self.repository.connection(connection_id)
        secrets_now = connections.active(connection, self.clock()) if connection else []
        if not secrets_now:
            raise Unauthorized(WEBHOOK_REFUSED)
        return [connections.display(s) for s in secrets_now]

    def authenticate_lrs(self, connection_id: str, password: str) -> None:
        """HTTP Basic of an LRS client: the connection id and one of its active secrets."""
        connection = self.repository.connection(connection_id)
        if connection is None or not connections.password_matches(connection, password, self.clock()):
            raise Unauthorized(LRS_REFUSED)

    def receive(self, connection_id: str, incoming: IncomingCompletion) -> Recorded:
        return self.recorder.record(incoming, origin=f"{incoming.source}:{connection_id}")

    # ------------------------------------------------------------- the review list
    def review_list(
        self, principal: Principal, *, limit: int, cursor: str | None
    ) -> tuple[list[ReviewItem], str | None]:
        access.ensure_vendor_admin(principal)
        return self.repository.open_review(limit=limit, cursor=cursor)

    def _open_item(self, item_id: str) -> ReviewItem:
        item = self.repository.review_item(item_id)
        if item is None:
            raise NotFound("No such review item.")
        if item.status != "open":
            raise InvalidState(f"This item was already {item.status}.")
        return item

    def assign(self, principal: Principal, item_id: str, learner_email: str) -> ReviewItem:
        """Credit the item's completion to a known partner user (once); the item closes in the same write."""
        access.ensure_vendor_admin(principal)
        item = self._open_item(item_id)
        person = people.matched(self.repository.memberships(learner_email))
        if person is None:
            raise ValidationFailed(
                "Assign the completion to a partner user.", [FieldError("learner_email", "not a known partner user")]
            )
        course = course_for(self.repository, item.lms_course_id, item.source)
        if course is None:
            raise Conflict(
                f"No course has the LMS id {item.lms_course_id}: add the course first.", code="unknown_course"
            )
        incoming = review.as_completion(item, learner_email)
        closed = review.assigned(
            item,
            learner_email,
            by=principal.email,
            now=self.clock(),
            completion_id=completions.completion_id(incoming.dedup_key),
        )
        recorded = self.recorder.complete(
            person.partner_id, incoming, course, origin=f"review:{item_id}", closes=closed
        )
        if recorded.outcome == "duplicate":
            raise InvalidState("This item was already assigned.")
        return closed

    def discard(self, principal: Principal, item_id: str, reason: str) -> ReviewItem:
        access.ensure_vendor_admin(principal)
        item = self._open_item(item_id)
        closed = review.discarded(item, reason, by=principal.email, now=self.clock())
        try:
            self.repository.save_review(closed)
        except StaleRecord as stale:
            raise InvalidState("This item was already decided.") from stale
        return closed

    # ------------------------------------------------------------- CSV imports
    def create_import(self, principal: Principal, file_name: str) -> tuple[ImportJob, dict[str, Any]]:
        """The job and where to upload its file (a presigned POST that S3 holds to the type and size)."""
        access.ensure_vendor_admin(principal)
        job = imports.new_import(file_name, by=principal.email, now=self.clock(), new_id=self.new_id)
        self.repository.add_import(job)
        upload = self.files.presigned_upload(job.key, imports.CSV_TYPE, self.max_import_bytes)
        return job, upload

    def imports(self, principal: Principal, *, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        """One page of the CSV imports, newest first (vendor admins only)."""
        access.ensure_vendor_admin(principal)
        return self.repository.imports_page(limit=limit, cursor=cursor)

    def _job(self, import_id: str) -> ImportJob:
        job = self.repository.import_job(import_id)
        if job is None:
            raise NotFound("No such import.")
        return job

    def submit_import(self, principal: Principal, import_id: str) -> ImportJob:
        """Check the uploaded file, queue the job (once) and send it to the work queue (again on a repeat, so a lost
        message is never the end of it; processing a job twice records nothing twice)."""
        access.ensure_vendor_admin(principal)
        job = self._job(import_id)
        stored = self.files.stored(job.key) if job.status == "awaiting_upload" else None
        problem = imports.upload_problem(
            stored.size if stored else None, stored.content_type if stored else "", self.max_import_bytes
        )
        queued = imports.submitted(job, problem=problem if job.status == "awaiting_upload" else None, now=self.clock())
        if queued is not None:
            try:
                self.repository.save_import(queued)
            except StaleRecord:
                queued = self._job(import_id)
                if queued.status != "queued":
                    raise InvalidState(f"This import is {queued.status}.") from None
            job = queued
        request = ImportRequested(message_type="ImportRequested", import_id=job.import_id, sent_id=self.new_id("imq"))
        self.work.send(request.model_dump(mode="json"))
        return job

    def import_report(
        self, principal: Principal, import_id: str, *, offset: int, limit: int
    ) -> tuple[ImportJob, list[dict[str, Any]], int | None]:
        """The job (its progress: `rows_processed` of `total_rows`), one page of its per-row report (once completed)
        and the number of rows (None until the file was read)."""
        access.ensure_vendor_admin(principal)
        job = self._job(import_id)
        if job.status != "completed":
            return job, [], job.total_rows
        rows = self.files.read_report(imports.report_key(job)) or []
        return job, rows[offset : offset + limit], len(rows)

    # ------------------------------------------------------------- what partner users see
    def my_training(self, principal: Principal) -> tuple[Learner, dict[str, Course]]:
        """The caller's completions and awards (their partner and email from the token), with the courses named."""
        partner_id = access.ensure_partner_user(principal)
        learner = self.repository.learner(partner_id, principal.email)
        learner = replace(learner, completions=tuple(self.repository.learner_completions(partner_id, principal.email)))
        courses = {c.course_id: c for c in self.repository.courses_named([c.course_id for c in learner.completions])}
        return learner, courses

    def people(self, principal: Principal) -> tuple[list[Certification], list[Award], dict[str, str]]:
        """The organisation's active awards and its people's names by email (partner admins only; the partner from the
        token)."""
        partner_id = access.ensure_partner_admin(principal)
        held = [a for a in self.repository.partner_awards(partner_id) if a.status == "active"]
        names = {p.email: p.name for p in self.repository.partner_people(partner_id) if p.name}
        return self.certifications(), held, names


@dataclass
class TrainingWorkflowService:
    """What training's queues run: onboarding's people events, its own award events (timers and mail), the award
    timers, and CSV import jobs. Side effects check current state and record themselves (`effects`), so an event the
    bus archive replays later mails and schedules nothing again."""

    repository: TrainingRepository
    files: ImportFiles
    work: WorkQueue
    timers: TrainingTimers
    mailer: Mailer
    notices: TrainingNotices
    effects: SideEffectLedger
    parse_csv: CsvParser
    max_import_bytes: int
    clock: Clock = utc_now
    new_id: NewId = new_id
    chunk_rows: int = imports.CHUNK_ROWS
    reserve_seconds: float = imports.CHUNK_RESERVE_SECONDS

    # ------------------------------------------------------------- onboarding's events
    def project_partner(self, partner: PartnerProfile) -> str:
        return "projected" if self.repository.project_partner(partner) else "older or repeated event"

    def user_invited(
        self, partner_id: str, email: str, *, name: str, role: Literal["partner-admin", "partner-user"], at: datetime
    ) -> str:
        changed = change_learner(
            self.repository, partner_id, email, lambda learner: people.invited(learner, name=name, role=role, at=at)
        )
        return "partner user known" if changed else "older or repeated event"

    def user_removed(self, partner_id: str, email: str, *, reason: Literal["removed", "disabled"], at: datetime) -> str:
        changed = change_learner(
            self.repository,
            partner_id,
            email,
            lambda learner: people.removed(learner, reason=reason, at=at, now=self.clock(), new_id=self.new_id),
        )
        if changed is None:
            return "older or repeated event"
        return f"removed; {len(changed.awards)} awards withdrawn"

    # ------------------------------------------------------------- own events: timers and mail
    def _award(self, partner_id: str, email: str, certification_id: str) -> Award | None:
        return self.repository.learner(partner_id, email).awards.get(certification_id)

    def announce_earned(
        self, partner_id: str, email: str, certification_id: str, *, award_id: str, expires_at: datetime, renewal: bool
    ) -> str:
        """Schedule the reminders and the expiry, and tell the holder, once per award and expiry, if still current."""
        try:
            award = awards.ensure_current(self._award(partner_id, email, certification_id), award_id, expires_at)
        except InvalidState:
            return "stale: the award was renewed, expired or withdrawn since"

        def effect() -> str:
            timer = self.timers.start_certification_timer(award, self.clock())
            self.mailer.send(self.notices.earned(award, renewal=renewal))
            return timer

        return self.effects.once(f"EMAIL#{email}", f"earned:{award_id}:{timer_time(expires_at)}", effect)

    def announce_expired(self, partner_id: str, email: str, certification_id: str, *, award_id: str) -> str:
        award = self._award(partner_id, email, certification_id)
        if award is None or award.award_id != award_id or award.status != "expired":
            return "stale: the award is no longer expired"
        return self.effects.once(
            f"EMAIL#{email}", f"expired:{award_id}", lambda: self.mailer.send(self.notices.expired(award))
        )

    def remind(self, reminder: CertificationReminder) -> str:
        """The holder and the partner's admins, once per award, expiry and offset; a renewed award's reminder is stale."""
        try:
            award = awards.ensure_current(
                self._award(reminder.partner_id, reminder.holder_email, reminder.certification_id),
                reminder.award_id,
                reminder.expires_at,
            )
        except InvalidState:
            return "stale reminder (renewed, expired or withdrawn)"
        days = awards.days_left(reminder.offset_seconds, expires_at=award.expires_at, now=self.clock())

        def effect() -> str:
            sent = self.mailer.send(self.notices.expiring(award, days))
            admins = [
                a
                for a in people.admin_emails(self.repository.partner_people(award.partner_id))
                if a != award.holder_email
            ]
            if admins:
                self.mailer.send(self.notices.expiring_for_admins(award, days, admins))
            return sent

        key = f"reminder:{award.award_id}:{timer_time(award.expires_at)}:{reminder.offset_seconds}"
        return self.effects.once(f"EMAIL#{reminder.holder_email}", key, effect)

    def expire(self, due: CertificationExpiryDue) -> str:
        """Only the timer of the award's current expiry expires it; one that arrives early is retried (NotYetDue)."""

        def change(learner: Learner) -> LearnerChange | None:
            if learner.person is None:
                return None
            expired, event = awards.expire(
                learner.awards.get(due.certification_id),
                award_id=due.award_id,
                expires_at=due.expires_at,
                now=self.clock(),
                new_id=self.new_id,
            )
            person = learner.person.model_copy(update={"revision": learner.person.revision + 1})
            return LearnerChange(person=person, awards=(expired,), events=(event,))

        try:
            changed = change_learner(self.repository, due.partner_id, due.holder_email, change)
        except InvalidState:
            return "stale expiry timer (renewed, expired or withdrawn)"
        return "expired" if changed else "unknown person"

    # ------------------------------------------------------------- CSV import jobs
    def run_import(self, request: ImportRequested, *, seconds_left: SecondsLeft = no_deadline) -> str:
        """One chunk of an import: at most `chunk_rows` rows from the message's start row through the completion use
        case, fewer when `seconds_left()` falls to `reserve_seconds`; then their outcomes and the cursor in one
        conditional write, and the next chunk's message (or, after the last row, the report). A message that does not
        start at the cursor (a redelivered or duplicate chunk) records nothing; a row processed twice (a chunk that
        failed half way and was redelivered) keeps its first outcome.

        Every delivery that processes a chunk is counted on the job before its first row (conditionally: one of two
        racing deliveries goes on), so one that raises or never returns (a Lambda timeout) is counted alike and the
        queue redelivers it; the MAX_FAILED_ATTEMPTS-th that raises, or the next delivery after that many that did not
        return, ends the job failed with the reason, so no import stays queued or processing for ever."""
        try:
            return self._run_import(request, seconds_left)
        except Exception as error:
            if self._attempt_failed(request.import_id, error):
                return "failed"
            raise

    def _attempt_failed(self, import_id: str, error: Exception) -> bool:
        """Count a delivery that raised; True when the job is now failed for good."""
        job = self.repository.import_job(import_id)
        if job is None or job.status in ("completed", "failed"):
            return False
        ended = imports.attempt_failed(job, type(error).__name__, now=self.clock())
        if ended is None:
            return False  # counted as it started: the queue redelivers it
        try:
            self.repository.save_import(ended)
        except StaleRecord:
            return False  # another delivery changed the job meanwhile: this one is retried
        return True

    def _run_import(self, request: ImportRequested, seconds_left: SecondsLeft) -> str:
        job = self.repository.import_job(request.import_id)
        if job is None:
            return "unknown import"
        action = imports.delivery(job, request)
        if action != "process":
            return self._not_a_chunk(job, request, action)
        prepared = self._prepared(job)
        if isinstance(prepared, str):
            return prepared
        job, rows = prepared
        if not rows:
            return self._finish(job)
        return self._chunk(job, request, rows, seconds_left)

    def _prepared(self, job: ImportJob) -> tuple[ImportJob, Sequence[Any]] | str:
        """This delivery counted on the job, the file read and parsed, the job started (its first chunk): the job and
        the file's rows, or what became of the delivery instead."""
        counted = self._attempt_started(job)
        if isinstance(counted, str):
            return counted
        job = counted
        try:
            parsed, digest = self._rows(job)
        except (ValidationFailed, ValueError) as error:
            message = error.message if isinstance(error, ValidationFailed) else str(error)
            details = "; ".join(f"{e.field}: {e.message}" for e in getattr(error, "errors", []))
            self._save_job(imports.failed(job, f"{message} {details}".strip(), now=self.clock()))
            return "failed"
        if job.total_rows is None:
            try:
                job = imports.started(
                    job, total_rows=len(parsed.rows), digest=digest, ignored_columns=parsed.ignored_columns
                )
                self.repository.save_import(job)
            except StaleRecord:
                return "another delivery started this import"
        return job, parsed.rows

    def _attempt_started(self, job: ImportJob) -> ImportJob | str:
        """The job with this delivery counted before any row (what it then processes from), or what became of it
        instead: failed after too many attempts, or taken by another delivery."""
        counted = imports.attempt_started(job, now=self.clock())
        try:
            self.repository.save_import(counted)
        except StaleRecord:
            return f"nothing to do: another delivery is taking the chunk from row {job.rows_processed}"
        return "failed" if counted.status == "failed" else counted

    def _not_a_chunk(self, job: ImportJob, request: ImportRequested, action: imports.Delivery) -> str:
        if action == "finish":
            return self._finish(job)
        if action == "resend":
            self._send_next(job)
            return f"sent the chunk from row {job.rows_processed} again"
        if action == "stale":
            return f"nothing to do: rows from {request.start_row} were taken by another delivery"
        return f"nothing to do: the import is {job.status}"

    def _rows(self, job: ImportJob) -> tuple[ImportFile, str]:
        """The file's rows and digest, read and parsed once per chunk (each chunk is another invocation); a file
        replaced since the first chunk read it is refused (its rows would not be the ones the cursor counts)."""
        data = self.files.read(job.key, self.max_import_bytes)
        if data is None:
            raise ValidationFailed("The file is no longer there.")
        digest = imports.file_digest(data)
        if job.file_digest is not None and digest != job.file_digest:
            raise ValidationFailed("The file changed while it was being imported.")
        return self.parse_csv(data), digest

    def _chunk(self, job: ImportJob, request: ImportRequested, rows: Sequence[Any], seconds_left: SecondsLeft) -> str:
        start = job.rows_processed
        origin = f"import:{job.import_id}"
        recorder = CompletionRecorder(self.repository, self.clock, self.new_id, remember_catalogue=True)
        report: list[ImportRow] = []
        for row in rows[start : imports.chunk_end(job, start, self.chunk_rows)]:
            if seconds_left() <= self.reserve_seconds:
                break
            report.append(self._row(recorder, row, origin))
        if not report:  # too little time left even to start: the chunk goes back on the queue, uncounted
            try:
                self.repository.save_import(imports.attempt_deferred(job))
            except StaleRecord:
                return f"nothing to do: rows from {start} were taken by another delivery"
            self.work.send(imports.next_request(job, new_id=self.new_id).model_dump(mode="json"))
            return f"deferred the chunk from row {start}: too little time left"
        advanced, chunk = imports.chunk_recorded(job, start, report, sent_id=request.sent_id)
        try:
            self.repository.record_import_chunk(advanced, chunk)
        except StaleRecord:
            return f"nothing to do: rows from {start} were recorded by another delivery"
        if advanced.total_rows is not None and advanced.rows_processed >= advanced.total_rows:
            return self._finish(advanced)
        self._send_next(advanced)
        return f"imported rows {start + 1} to {advanced.rows_processed} of {advanced.total_rows}"

    def _send_next(self, job: ImportJob) -> None:
        """The next chunk's message, then a note that it went (a redelivery of this chunk's message sends none)."""
        self.work.send(imports.next_request(job, new_id=self.new_id).model_dump(mode="json"))
        self.repository.mark_next_sent(job)

    def _finish(self, job: ImportJob) -> str:
        """The report of every chunk, in row order, then the job completed with its totals (both safe to repeat)."""
        report = imports.assembled(job, self.repository.import_chunks(job.import_id))
        self.files.write_report(imports.report_key(job), [r.model_dump(mode="json", exclude_none=True) for r in report])
        self._save_job(imports.finished(job, report, now=self.clock()))
        return f"imported {len(report)} rows"

    def _row(self, recorder: CompletionRecorder, row: Any, origin: str) -> ImportRow:
        number, incoming, error = row.row_number, row.completion, row.error
        if incoming is None:
            return ImportRow(row=number, status="invalid", reason=error or "invalid row")
        origin = f"{origin}:row:{number}"  # a redelivered job knows its own rows; a repeated row is a duplicate
        try:
            recorded = recorder.record(incoming, origin=origin)
        except ValidationFailed as refused:
            reason = "; ".join(f"{e.field} {e.message}" for e in refused.errors) or refused.message
            return ImportRow(row=number, status="invalid", reason=reason)
        except (InvalidState, ValueError, ArithmeticError) as error:  # this row's data, not the service: the rest go on
            return ImportRow(row=number, status="invalid", reason=f"could not be recorded ({type(error).__name__})")
        return ImportRow(
            row=number,
            status=imports.row_status(recorded, origin),
            completion_id=recorded.completion_id,
            item_id=recorded.item_id,
        )

    def _save_job(self, job: ImportJob) -> None:
        try:
            self.repository.save_import(job)
        except StaleRecord:
            pass  # another delivery finished it meanwhile: its report stands
