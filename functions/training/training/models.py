"""Training's request bodies, records, domain values and work-queue messages (pydantic), bounded and strict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from shared.clock import TimerTime, UtcDateTime
from shared.email import Email
from shared.text import Line, Paragraphs

if TYPE_CHECKING:
    from shared.events import EventDetail

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LmsCourseId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
CourseId = Annotated[str, StringConstraints(pattern=r"^crs_[0-9a-z]{26}$")]
Months = Annotated[int, Field(ge=1, le=120, strict=True)]
CompletionSource = Literal["webhook", "xapi", "csv", "review"]
AwardStatus = Literal["active", "expired", "withdrawn"]
UserStatus = Literal["active", "removed"]
# unknown_account: an xAPI actor identified by an LMS account without an email (`learner_ref`), not an unknown email
ReviewReason = Literal["unknown_learner", "unknown_account", "unknown_course"]
ReviewStatus = Literal["open", "assigned", "discarded"]
ImportStatus = Literal["awaiting_upload", "queued", "processing", "completed", "failed"]
RowStatus = Literal["accepted", "duplicate", "unknown_learner", "unknown_account", "unknown_course", "invalid"]
Outcome = Literal["accepted", "duplicate", "unknown_learner", "unknown_account", "unknown_course"]
MAX_REQUIRED_COURSES = 20
MAX_ACTIVITY_IDS = 10  # xAPI activity ids (IRIs) a course accepts besides its LMS course id
# An absolute IRI (a scheme, then no spaces or controls), as an xAPI statement's `object.id` must be.
ActivityIri = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=200, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$"
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


# ------------------------------------------------------------------ request bodies
class CourseBody(Strict):
    title: Annotated[Text, StringConstraints(max_length=200), Line]
    lms_course_id: LmsCourseId
    credit_hours: float = Field(ge=0, le=1000, allow_inf_nan=False, strict=True)  # a JSON number, never "8"
    language: Language
    # the xAPI activity ids (absolute IRIs) whose statements complete this course, matched exactly (but for one
    # trailing slash); a statement naming the LMS course id itself is matched as before
    activity_ids: list[ActivityIri] = Field(default_factory=list, max_length=MAX_ACTIVITY_IDS)

    @field_validator("activity_ids")
    @classmethod
    def _distinct_activities(cls, value: list[str]) -> list[str]:
        keys = [v[:-1] if v.endswith("/") else v for v in value]
        if len(set(keys)) != len(keys):
            raise ValueError("an activity id is listed twice")
        return value


class CertificationBody(Strict):
    name: Annotated[Text, StringConstraints(max_length=200), Line]
    required_course_ids: list[CourseId] = Field(min_length=1, max_length=MAX_REQUIRED_COURSES)
    validity_months: Months
    completion_window_months: Months | None = None  # default: the validity
    renewal_course_id: CourseId | None = None

    @field_validator("required_course_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a course is listed twice")
        return value


class ConnectionBody(Strict):
    name: Annotated[Text, StringConstraints(max_length=120), Line]


class ImportBody(Strict):
    file_name: Annotated[Text, StringConstraints(max_length=200), Line]

    @field_validator("file_name")
    @classmethod
    def _plain_csv_name(cls, value: str) -> str:
        if any(c in value for c in "/\\\x00") or value in (".", ".."):
            raise ValueError("a file name, without folders")
        if not value.lower().endswith(".csv"):
            raise ValueError("a .csv file")
        return value


class RotationBody(Strict):
    """`POST /training/connections/{id}/secrets` takes no fields: `{}` (an unknown one is refused)."""


class AssignmentBody(Strict):
    learner_email: Email


class DiscardBody(Strict):
    reason: Annotated[Text, StringConstraints(max_length=500), Paragraphs]


# ------------------------------------------------------------------ records
class Course(Record):
    course_id: str
    title: str
    lms_course_id: str
    credit_hours: float
    language: str
    activity_ids: list[str] = []
    created_by: str
    created_at: UtcDateTime


class Certification(Record):
    certification_id: str
    name: str
    required_course_ids: list[str]
    validity_months: int
    completion_window_months: int
    renewal_course_id: str | None = None
    created_by: str
    created_at: UtcDateTime


class ConnectionSecret(Record):
    """One signing secret (base64 of 24 random bytes); `retires_at` is set when a newer secret replaced it."""

    value: str
    created_at: UtcDateTime
    retires_at: UtcDateTime | None = None


class Connection(Record):
    connection_id: str
    name: str
    secrets: list[ConnectionSecret]
    created_by: str
    created_at: UtcDateTime
    revision: int = 1


class PartnerProfile(Record):
    """What training knows about a partner organisation, from PartnerOnboarded (newest event wins)."""

    partner_id: str
    company_name: str
    as_of: UtcDateTime


class Person(Record):
    """A partner user as training knows them (PartnerUserInvited / PartnerUserRemoved, newest event wins): the
    aggregate every completion and award of theirs is written through (`revision`: optimistic locking)."""

    partner_id: str
    email: str
    name: str = ""
    role: Literal["partner-admin", "partner-user"] = "partner-user"
    status: UserStatus = "active"
    as_of: UtcDateTime
    removed_reason: Literal["removed", "disabled"] | None = None
    revision: int = 1


class Completion(Record):
    completion_id: str
    partner_id: str
    learner_email: str
    course_id: str
    lms_course_id: str
    passed: bool
    score_scaled: float | None = None
    completed_at: UtcDateTime
    source: CompletionSource
    dedup_key: str
    recorded_at: UtcDateTime


class CoursePass(Record):
    """A learner's latest pass of a course for a partner: what the award rules read instead of the whole history."""

    partner_id: str
    learner_email: str
    course_id: str
    completion_id: str
    completed_at: UtcDateTime


class Award(Record):
    """A certification held by a person for a partner: earned, renewed (same id while held), expired or withdrawn."""

    award_id: str
    certification_id: str
    certification_name: str
    partner_id: str
    holder_email: str
    status: AwardStatus
    earned_at: UtcDateTime  # the qualifying (or renewal) pass that set the current expiry
    first_earned_at: UtcDateTime
    expires_at: UtcDateTime
    renewals: int = 0
    ended_at: UtcDateTime | None = None  # expired or withdrawn at


class ReviewItem(Record):
    """A completion nobody could be matched to (unknown learner or course): kept until assigned or discarded."""

    item_id: str
    reason: ReviewReason
    status: ReviewStatus = "open"
    source: CompletionSource
    dedup_key: str
    learner_email: str | None = None
    learner_ref: str | None = None
    lms_course_id: str
    passed: bool
    score_scaled: float | None = None
    completed_at: UtcDateTime
    received_at: UtcDateTime
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    assigned_to: str | None = None
    discard_reason: str | None = None
    completion_id: str | None = None


class SourceGuard(Record):
    """One per source delivery (statement, webhook id, CSV row): the same one twice is one completion."""

    dedup_key: str
    outcome: Outcome
    completion_id: str | None = None
    item_id: str | None = None
    origin: str = ""


class ImportJob(Record):
    import_id: str
    file_name: str
    key: str
    status: ImportStatus
    created_by: str
    created_at: UtcDateTime
    submitted_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    counts: dict[str, int] = {}  # per outcome, of the rows processed so far
    failure: str | None = None
    total_rows: int | None = None  # known once the file was read
    ignored_columns: list[str] = []  # header columns the import does not read (known once the file was read)
    rows_processed: int = 0  # the cursor: rows before it have their outcomes recorded (progress)
    file_digest: str | None = None  # SHA-256 of the file the first chunk read; every chunk reads the same
    advanced_by: str | None = None  # sent id of the work message that recorded the latest chunk
    next_sent_from: int | None = None  # the cursor whose chunk's message was sent (a redelivery sends none again)
    # deliveries that started the chunk at the cursor without recording it (counted as each starts, so a timeout
    # counts; MAX_FAILED_ATTEMPTS: failed)
    failed_attempts: int = 0
    revision: int = 1


class ImportRow(Record):
    row: int
    status: RowStatus
    reason: str | None = None
    completion_id: str | None = None
    item_id: str | None = None


class ImportChunk(Record):
    """The outcomes of one chunk of an import's rows, in row order; `start` is the index of its first data row."""

    import_id: str
    start: int
    rows: list[ImportRow]


# ------------------------------------------------------------------ domain values
@dataclass(frozen=True)
class Learner:
    """A partner user's training record as one aggregate: who they are (None: never invited), the award they hold (or
    last held) per certification and their latest pass per course, as far as the use case read them (a completion
    reads only the certifications its course concerns and their courses); `completions` only for their own view."""

    partner_id: str
    email: str
    person: Person | None
    completions: tuple[Completion, ...] = ()
    awards: dict[str, Award] = field(default_factory=dict)  # certification id -> award
    passes: dict[str, CoursePass] = field(default_factory=dict)  # course id -> latest pass
    # course id -> moments of the logged passes nearest a completion being recorded (the last at or before it, the
    # first after it): what a late, old pass can form a qualifying set with (`awards.passes_read`)
    nearby: dict[str, tuple[datetime, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LearnerChange:
    """What one use case writes for a learner, all or nothing: the person at its next revision (the lock every
    change of this learner goes through), a new completion (and its course's latest pass when it is newer), the awards
    it changed, the source guard that makes a delivery count once, the review item it closes, and the events."""

    person: Person
    completion: Completion | None = None
    latest_pass: CoursePass | None = None  # the completion, when it is the course's newest pass
    logged_pass: CoursePass | None = None  # the completion, when a pass: its entry in the time-sorted pass log
    awards: tuple[Award, ...] = ()
    guard: SourceGuard | None = None
    closes: ReviewItem | None = None
    events: tuple[EventDetail, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """What became of one incoming completion: accepted (a completion), sent to review, or a duplicate (of what)."""

    outcome: Outcome
    completion_id: str | None = None
    item_id: str | None = None
    duplicate_of: SourceGuard | None = None


# ------------------------------------------------------------------ work-queue messages (timers, import jobs)
class ImportRequested(Strict):
    """Process an import's rows from `start_row` (the index of a data row; 0: the first). `sent_id` names this message
    (a redelivery repeats it; a duplicate sent again has another)."""

    message_type: Literal["ImportRequested"]
    import_id: str
    start_row: int = Field(default=0, ge=0, le=10_000)
    sent_id: str = Field(default="", max_length=64)


class CertificationReminder(Strict):
    message_type: Literal["CertificationReminder"]
    partner_id: str
    holder_email: str
    certification_id: str
    award_id: str
    expires_at: TimerTime  # the expiry this timer was set for: a renewed award's old timer is stale
    offset_seconds: int


class CertificationExpiryDue(Strict):
    message_type: Literal["CertificationExpiryDue"]
    partner_id: str
    holder_email: str
    certification_id: str
    award_id: str
    expires_at: TimerTime


WorkMessage = Annotated[
    ImportRequested | CertificationReminder | CertificationExpiryDue, Field(discriminator="message_type")
]
_WORK_MESSAGES: TypeAdapter[WorkMessage] = TypeAdapter(WorkMessage, config=ConfigDict(defer_build=True))


def work_message(body: dict[str, Any]) -> WorkMessage:
    """A message the API or a timer put on training's work queue, by its `message_type`."""
    return _WORK_MESSAGES.validate_python(body)
