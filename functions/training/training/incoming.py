"""A course completion as it arrives from an LMS (webhook, xAPI statement, CSV row or a review assignment), before the
learner and the course are matched: the one shape every ingestion edge produces and the service consumes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from shared.clock import UtcDateTime
from shared.email import Email, normalise_email
from shared.errors import FieldError

CompletionSource = Literal["webhook", "xapi", "csv", "review"]

MAX_COURSE_ID = 200
MAX_LEARNER_REF = 701  # an xAPI account: homePage (<= 500) + "|" + name (<= 200)
FUTURE_SKEW = timedelta(minutes=5)  # a completion later than now + this is refused (clocks differ, the future does not)
# Earlier than this is no LMS completion (and near year 1 the calendar arithmetic of awards would overflow).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "is out of range (from 1970 to 9999, in UTC)"

# "wh:<connection>:<webhook-id>", "xapi:<connection>:<statement id>", "csv:<sha256 hex>": printable ASCII, no spaces.
DEDUP_KEY = r"^(wh|xapi|csv|review):[\x21-\x7e]{1,500}$"

_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$", flags=re.ASCII
)
_COURSE_ID = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", flags=re.ASCII)


def course_ref(value: str) -> str:
    """An LMS course id (an IRI for xAPI, any id for webhooks and CSV): 1..200 characters, no spaces or controls
    (the shape training's courses register, so the two compare equal)."""
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_COURSE_ID:
        raise ValueError(f"must be at most {MAX_COURSE_ID} characters")
    if not _COURSE_ID.fullmatch(text):
        raise ValueError("must not contain spaces or control characters")
    return text


def _to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must include a time zone")
    return in_range(moment)


class OutOfRange(ValueError):
    """A moment datetime cannot hold in UTC, or one before EARLIEST."""


def in_range(moment: datetime) -> datetime:
    """An aware moment in UTC, from EARLIEST on; ValueError (never OverflowError) for one outside datetime's range in
    UTC (`0001-01-01T00:00:00+14:00`) or before EARLIEST."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as error:
        raise OutOfRange(OUT_OF_RANGE) from error
    if utc < EARLIEST:
        raise OutOfRange(OUT_OF_RANGE)
    return utc


CourseRef = Annotated[str, AfterValidator(course_ref)]


def parse_moment(text: str, *, naive_is_utc: bool) -> datetime:
    """An ISO 8601 / RFC 3339 date-time (`2026-11-20T14:05:00Z`, `...+01:00`, fractions up to nanoseconds) in UTC.
    Without an offset it is UTC when `naive_is_utc` (xAPI allows an LRS to read it so; CSV files from spreadsheets
    rarely carry one), otherwise refused. Raises ValueError with a message fit for a field error."""
    if len(text) > 40 or not _MOMENT.fullmatch(text):
        raise ValueError("must be an ISO 8601 date-time such as 2026-11-20T14:05:00Z")
    try:
        moment = datetime.fromisoformat(text.replace(",", "."))
    except ValueError as error:
        raise ValueError("must be an ISO 8601 date-time such as 2026-11-20T14:05:00Z") from error
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("must include a time zone (Z or an offset such as +01:00)")
        moment = moment.replace(tzinfo=UTC)
    return in_range(moment)


def parse_date_or_moment(text: str) -> datetime:
    """A CSV `completed_at`: an ISO date (midnight UTC that day) or an ISO date-time (UTC when it has no offset)."""
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as error:
            raise ValueError("must be an ISO date (2026-11-20) or date-time (2026-11-20T14:05:00Z)") from error
        return in_range(datetime(day.year, day.month, day.day, tzinfo=UTC))
    try:
        return parse_moment(text, naive_is_utc=True)
    except OutOfRange:
        raise
    except ValueError as error:
        raise ValueError("must be an ISO date (2026-11-20) or date-time (2026-11-20T14:05:00Z)") from error


def not_in_future(moment: datetime, now: datetime) -> datetime:
    """Refuses a completion later than now plus the clock skew allowed."""
    if moment > now + FUTURE_SKEW:
        raise ValueError("is in the future")
    return moment


class IncomingCompletion(BaseModel):
    """One completion reported by an LMS: who (an email, or the raw identity for the review list), which course (the
    LMS's id), the outcome and when. `dedup_key` makes the same statement, delivery or CSV row twice one completion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: CompletionSource
    dedup_key: Annotated[str, StringConstraints(pattern=DEDUP_KEY)]
    learner_email: Email | None = None
    learner_ref: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LEARNER_REF)] | None = None
    lms_course_id: CourseRef
    passed: StrictBool
    score_scaled: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)] | None = None
    completed_at: Annotated[UtcDateTime, AfterValidator(_to_utc)]

    @model_validator(mode="after")
    def _someone(self) -> IncomingCompletion:
        if self.learner_email is None and self.learner_ref is None:
            raise ValueError("a completion needs a learner_email or a learner_ref")
        return self


def email_or_none(value: str) -> str | None:
    """The value as a lower-cased email address, or None when it is not one."""
    try:
        return normalise_email(value)
    except ValueError:
        return None


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as field errors named by JSON path under `prefix` (`statements[2].result.score.min`); the
    input is never echoed back."""
    found = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = prefix
        for part in item["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] in ("model_type", "model_attributes_type", "dict_type"):
            message = "expected a JSON object"
        else:
            message = item["msg"].removeprefix("Value error, ")
        found.append(FieldError(where or "body", message))
    return found
