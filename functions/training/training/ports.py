"""What training's services need from outside (typing.Protocols) and the failures those ports report.

The DynamoDB adapter of `TrainingRepository` is `training.repository`, the S3 adapter of `ImportFiles`
`training.files`, the work queue and timers `training.workflow`, the emails `training.notifications`; they are wired
in the `service()` factories of `training.api` and `training.consumers`. In-memory fakes for service tests are in
`tests/support/fakes_training.py` (and the shared ports' in `tests/support/fakes.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.ports import Mailer, SideEffectLedger

if TYPE_CHECKING:
    from shared.events import EventDetail
    from shared.mail import Email
    from shared.principal import Principal
    from training.models import (
        Award,
        Certification,
        Completion,
        Connection,
        Course,
        ImportChunk,
        ImportJob,
        Learner,
        LearnerChange,
        PartnerProfile,
        Person,
        ReviewItem,
        SourceGuard,
    )

__all__ = [
    "DuplicateCertificationName",
    "DuplicateLmsCourse",
    "DuplicateSource",
    "ImportFiles",
    "Mailer",
    "SideEffectLedger",
    "StaleRecord",
    "StoredFile",
    "TrainingNotices",
    "TrainingRepository",
    "TrainingTimers",
    "WorkQueue",
]


class ImportFile(Protocol):
    """An import file parsed: its rows' outcomes (each with `row_number`, `completion`, `error`) and the columns of its
    header that were ignored."""

    @property
    def rows(self) -> Sequence[Any]: ...

    @property
    def ignored_columns(self) -> Sequence[str]: ...


class StaleRecord(Exception):
    """The record changed since it was read (optimistic locking): read it again and retry."""


class DuplicateSource(Exception):
    """This delivery (statement, webhook id, CSV row, review item) was recorded already."""


class DuplicateLmsCourse(Exception):
    """Another course already has this LMS course id, or one of these activity ids (`field`: the request field that
    named the one taken)."""

    def __init__(self, lms_course_id: str, field: str = "lms_course_id") -> None:
        super().__init__(lms_course_id)
        self.field = field


class DuplicateCertificationName(Exception):
    """Another certification already has this name (case-insensitive)."""


class TrainingRepository(Protocol):
    """The catalogue, connections, the people projection with their completions and awards, the review list, import
    jobs and the agreement gate's projection. Every write is conditional and carries its events (outbox), all or
    nothing."""

    def require_accepted(self, principal: Principal) -> None:
        """Forbidden (agreement_required) for a partner user who has not accepted the current agreement."""
        ...

    # catalogue
    def courses(self) -> list[Course]: ...

    def courses_named(self, course_ids: Sequence[str]) -> list[Course]: ...

    def course_by_lms(self, lms_course_id: str) -> Course | None: ...

    def course_by_activity(self, iri: str) -> Course | None:
        """The course an xAPI activity id names (one of its `activity_ids`, or its LMS course id), by key: the IRI but
        for one trailing slash (`catalogue.activity_key`)."""
        ...

    def add_course(self, course: Course) -> None:
        """DuplicateLmsCourse when another course has its LMS id or one of its activity ids."""
        ...

    def certifications(self) -> list[Certification]: ...

    def add_certification(self, certification: Certification, event: EventDetail) -> None:
        """The certification, its unique-name item (`catalogue.name_key`) and its event (outbox), all or nothing;
        DuplicateCertificationName when another certification holds the name."""
        ...

    # connections
    def connection(self, connection_id: str) -> Connection | None: ...

    def add_connection(self, connection: Connection) -> None: ...

    def save_connection(self, connection: Connection) -> None:
        """StaleRecord unless the stored one is at the revision before."""
        ...

    def connections_page(self, *, limit: int, cursor: str | None) -> tuple[list[Connection], str | None]:
        """One page of the LMS connections, newest first, and the opaque cursor of the next (ValidationFailed naming
        `cursor` for one that is not this list's)."""
        ...

    # partners and people
    def project_partner(self, partner: PartnerProfile) -> bool:
        """Keep the newest view of a partner; False when the event is older or repeated."""
        ...

    def partner(self, partner_id: str) -> PartnerProfile | None: ...

    def memberships(self, email: str) -> list[Person]:
        """Every partner user record of this email (normally one)."""
        ...

    def learner(self, partner_id: str, email: str) -> Learner:
        """The person and every award they hold or held for the partner (no completions, no passes)."""
        ...

    def learner_for(
        self,
        partner_id: str,
        email: str,
        *,
        courses: Sequence[str],
        certifications: Sequence[str],
        around: datetime | None = None,
        nearby: Sequence[str] = (),
    ) -> Learner:
        """What a completion's award rules read, by key only: the person, the awards of these certifications and the
        latest pass of each of these courses (those the learner has); with `around`, for each `nearby` course its
        logged passes nearest that moment (the last at or before it, the first after it: `Learner.nearby`). The same
        cost whatever their history."""
        ...

    def learner_completions(self, partner_id: str, email: str) -> list[Completion]:
        """Every completion of the learner for the partner (their own view)."""
        ...

    def save_learner(self, change: LearnerChange) -> None:
        """StaleRecord when the person changed since read; DuplicateSource when the guard exists; StaleRecord when the
        review item it closes is no longer open."""
        ...

    def partner_people(self, partner_id: str) -> list[Person]: ...

    def partner_awards(self, partner_id: str) -> list[Award]: ...

    # sources and the review list
    def source(self, dedup_key: str) -> SourceGuard | None: ...

    def add_review(self, item: ReviewItem, guard: SourceGuard) -> None:
        """DuplicateSource when the guard exists."""
        ...

    def review_item(self, item_id: str) -> ReviewItem | None: ...

    def save_review(self, item: ReviewItem) -> None:
        """Close an open item (StaleRecord when it is no longer open)."""
        ...

    def open_review(self, *, limit: int, cursor: str | None) -> tuple[list[ReviewItem], str | None]: ...

    # imports
    def import_job(self, import_id: str) -> ImportJob | None: ...

    def imports_page(self, *, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        """One page of the CSV imports, newest first, and the opaque cursor of the next (ValidationFailed naming
        `cursor` for one that is not this list's)."""
        ...

    def add_import(self, job: ImportJob) -> None: ...

    def save_import(self, job: ImportJob) -> None:
        """StaleRecord unless the stored job is at the revision before."""
        ...

    def record_import_chunk(self, job: ImportJob, chunk: ImportChunk) -> None:
        """The job at its next revision (its cursor after the chunk) and the chunk's outcomes, all or nothing;
        StaleRecord unless the stored job is at the revision before (another delivery recorded this chunk)."""
        ...

    def mark_next_sent(self, job: ImportJob) -> None:
        """The message of the chunk at the job's cursor was sent: noted on the job while its cursor is there, without
        a new revision (the chunk's own delivery may be recording it already)."""
        ...

    def import_chunks(self, import_id: str) -> list[ImportChunk]:
        """Every recorded chunk of the import, in row order."""
        ...


@dataclass(frozen=True)
class StoredFile:
    size: int
    content_type: str


class ImportFiles(Protocol):
    """The CSV files (uploaded by presigned POST) and the per-row reports."""

    upload_expires_seconds: int

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]: ...

    def stored(self, key: str) -> StoredFile | None: ...

    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The object's bytes (at most `max_bytes`, else ValueError); None when there is none."""
        ...

    def write_report(self, key: str, rows: list[dict[str, Any]]) -> None: ...

    def read_report(self, key: str) -> list[dict[str, Any]] | None: ...


class WorkQueue(Protocol):
    """Training's work queue (import jobs, one message per chunk): one message per call."""

    def send(self, message: dict[str, Any]) -> str: ...


class TrainingTimers(Protocol):
    """The reminders before an award's expiry and the expiry itself, as messages on the work queue."""

    def start_certification_timer(self, award: Award, now: datetime) -> str: ...


class TrainingNotices(Protocol):
    """The emails to holders and partner admins, as values (the Mailer sends them)."""

    def earned(self, award: Award, *, renewal: bool) -> Email: ...

    def expiring(self, award: Award, days_left: int) -> Email: ...

    def expiring_for_admins(self, award: Award, days_left: int, admins: Sequence[str]) -> Email: ...

    def expired(self, award: Award) -> Email: ...
