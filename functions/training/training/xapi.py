"""xAPI 1.0.3 statements an LMS or LRS forwards (the cmi5 subset: completed, passed, failed) read into completions.

Decisions (the xAPI and cmi5 rules this edge keeps, and the choices left open by them):
- The body is one statement object or a list of 1..50; one bad statement refuses the whole batch (xAPI: an LRS
  rejects a batch when any statement in it is rejected), with every problem named by its JSON path
  (`statements[2].result.score.min`; `statement.verb.id` when a single object was sent). A statement id twice in
  one batch is refused.
- `id` (a UUID) is required: it is the de-duplication key per connection (`xapi:<connection>:<id lower-case>`).
- `actor` is an Agent with exactly one identifier, `mbox` (`mailto:` + email) or `account` {homePage (http(s) URL),
  name}; `mbox_sha1sum`, `openid` and Groups are refused. An account name that is an email becomes
  `learner_email`; otherwise `learner_ref` is `homePage|name` and the completion goes to the review list.
- `verb.id` is one of completed, passed, failed (ADL IRIs); anything else is refused naming `verb.id`.
- `object` is an Activity; its `id` (an absolute IRI, <= 200 characters) names the course: one of the course's
  `activity_ids`, or its `lms_course_id` (matched by key, exactly but for one trailing slash: `service.course_for`).
- Outcome, as cmi5 defines the verbs: `passed` needs `result.success` true, `failed` needs `result.success` false
  (missing is refused in both), `completed` is refused with `result.completion` false. A `completed` statement
  says the learner finished, not that they passed: `passed` is true only when it carries `result.success` true.
- `result.score`: `scaled` in -1..1; `raw` needs `min` and `max` with min <= raw <= max (xAPI 4.1.5.1); min < max
  whenever both are given; without `scaled`, the score is (raw - min) / (max - min).
- `completed_at` is `timestamp`; without one, `stored` (an LRS sets timestamp to stored when the statement had
  none, so a forwarded statement always has one); neither -> refused naming `timestamp`. A date-time without an
  offset is read as UTC (xAPI lets an LRS do so). Later than now + 5 minutes is refused.
- Other xAPI statement properties (context, authority, version, attachments, definition, display, response,
  duration, extensions) are accepted and not read; a property xAPI does not define is refused. A JSON null counts
  as the property being absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, StringConstraints, ValidationError

from shared.clock import utc_now
from shared.errors import FieldError, ValidationFailed
from shared.text import clean_line
from training.incoming import (
    IncomingCompletion,
    course_ref,
    email_or_none,
    field_errors,
    not_in_future,
    parse_moment,
)

MAX_STATEMENTS = 50
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"
VERBS = frozenset({VERB_COMPLETED, VERB_PASSED, VERB_FAILED})

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_HOME_PAGE = re.compile(r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$", flags=re.IGNORECASE)
_CONNECTION = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,100}$")  # printable ASCII without ':' (the key's separator)

Text = Annotated[str, Strict(), StringConstraints(max_length=2048)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Json = dict[str, Any]
Refuse = Callable[[str, str], None]  # records a problem: (field path under the statement, message)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Shape):
    homePage: Annotated[str, Strict(), StringConstraints(max_length=500)]
    name: Annotated[str, Strict(), StringConstraints(max_length=200)]


class Actor(_Shape):
    objectType: Text | None = None
    name: Text | None = None
    mbox: Text | None = None
    mbox_sha1sum: Text | None = None
    openid: Text | None = None
    account: Account | None = None


class Verb(_Shape):
    id: Text
    display: Json | None = None


class Activity(_Shape):
    objectType: Text | None = None
    id: Text
    definition: Json | None = None


class Score(_Shape):
    scaled: Number | None = None
    raw: Number | None = None
    min: Number | None = None
    max: Number | None = None


class Result(_Shape):
    score: Score | None = None
    success: StrictBool | None = None
    completion: StrictBool | None = None
    response: Text | None = None
    duration: Text | None = None
    extensions: Json | None = None


class Statement(_Shape):
    id: Annotated[str, Strict(), StringConstraints(max_length=64)] | None = None
    actor: Actor
    verb: Verb
    object_: Activity = Field(alias="object")
    result: Result | None = None
    context: Json | None = None
    timestamp: Text | None = None
    stored: Text | None = None
    authority: Json | None = None
    version: Text | None = None
    attachments: list[Any] | None = None


def parse_statements(body: Any, *, connection_id: str, now: datetime | None = None) -> list[IncomingCompletion]:
    """The statements of one xAPI POST as completions, in order; any problem refuses all of them (ValidationFailed
    naming each field by its JSON path). Nothing else is raised, whatever the body holds."""
    if not isinstance(connection_id, str) or not _CONNECTION.fullmatch(connection_id):
        raise ValidationFailed("The connection is invalid.", [FieldError("connection_id", "not a connection id")])
    moment = now or utc_now()
    if isinstance(body, dict):
        items: list[tuple[str, Any]] = [("statement", body)]
    elif isinstance(body, list):
        if not body:
            raise ValidationFailed("No statements were sent.", [FieldError("statements", "at least one is required")])
        if len(body) > MAX_STATEMENTS:
            raise ValidationFailed(
                "Too many statements.", [FieldError("statements", f"at most {MAX_STATEMENTS} in one request")]
            )
        items = [(f"statements[{index}]", item) for index, item in enumerate(body)]
    else:
        raise ValidationFailed(
            "The body must be a statement or a list of statements.",
            [FieldError("body", "expected a statement object or a list of statements")],
        )

    errors: list[FieldError] = []
    completions: list[IncomingCompletion] = []
    first_seen: dict[str, str] = {}
    for path, raw in items:
        try:
            statement = Statement.model_validate(raw)
        except ValidationError as error:
            errors.extend(field_errors(error, path))
            continue
        completion, problems = _completion(statement, path, connection_id=connection_id, now=moment)
        errors.extend(problems)
        if completion is not None:
            statement_id = completion.dedup_key.rsplit(":", 1)[1]
            if statement_id in first_seen:
                errors.append(FieldError(f"{path}.id", f"repeats the id of {first_seen[statement_id]}"))
            first_seen.setdefault(statement_id, path)
            completions.append(completion)
    if errors:
        raise ValidationFailed("The statements are invalid.", errors)
    return completions


def _completion(
    statement: Statement, path: str, *, connection_id: str, now: datetime
) -> tuple[IncomingCompletion | None, list[FieldError]]:
    errors: list[FieldError] = []

    def refuse(field: str, message: str) -> None:
        errors.append(FieldError(f"{path}.{field}", message))

    if statement.id is None:
        refuse("id", "is required (a UUID; it identifies the statement)")
    elif not _UUID.fullmatch(statement.id):
        refuse("id", "must be a UUID")

    learner_email, learner_ref = _learner(statement.actor, refuse)

    verb = statement.verb.id
    if verb not in VERBS:
        refuse("verb.id", "must be one of " + ", ".join(sorted(VERBS)))

    activity = statement.object_
    if activity.objectType is not None and activity.objectType != "Activity":
        refuse("object.objectType", "must be Activity")
    course_id = _course_id(activity.id, refuse)

    result = statement.result or Result()
    if verb == VERB_PASSED and result.success is not True:
        refuse("result.success", "must be true for a passed statement")
    if verb == VERB_FAILED and result.success is not False:
        refuse("result.success", "must be false for a failed statement")
    if verb == VERB_COMPLETED and result.completion is False:
        refuse("result.completion", "must not be false for a completed statement")
    score_scaled = _score(result.score, refuse) if result.score is not None else None

    completed_at = _completed_at(statement, now, refuse)

    if errors or statement.id is None or course_id is None or completed_at is None:
        return None, errors
    try:
        completion = IncomingCompletion(
            source="xapi",
            dedup_key=f"xapi:{connection_id}:{statement.id.lower()}",
            learner_email=learner_email,
            learner_ref=learner_ref,
            lms_course_id=course_id,
            passed=verb == VERB_PASSED or (verb == VERB_COMPLETED and result.success is True),
            score_scaled=score_scaled,
            completed_at=completed_at,
        )
    except ValidationError as error:  # every field was checked above; this only keeps the promise of one error kind
        return None, field_errors(error, path)
    return completion, []


def _learner(actor: Actor, refuse: Refuse) -> tuple[str | None, str | None]:
    """(learner_email, learner_ref) of an Agent identified by mbox or account; refusals go to `refuse`."""
    if actor.objectType is not None and actor.objectType != "Agent":
        refuse("actor.objectType", "must be Agent (one person)")
        return None, None
    given = [name for name in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(actor, name) is not None]
    if len(given) != 1:
        refuse("actor", "must have exactly one of mbox or account")
    elif actor.mbox is not None:
        scheme, _, address = actor.mbox.partition(":")
        email = email_or_none(address) if scheme.lower() == "mailto" else None
        if email is None:
            refuse("actor.mbox", "must be mailto: followed by an email address")
        return email, None
    elif actor.account is not None:
        return _account(actor.account, refuse)
    else:
        refuse(f"actor.{given[0]}", "is not supported: identify the learner by mbox or account")
    return None, None


def _account(account: Account, refuse: Refuse) -> tuple[str | None, str | None]:
    """An account whose name is an email is that learner; any other is `homePage|name` for the review list."""
    if not _HOME_PAGE.fullmatch(account.homePage):
        refuse("actor.account.homePage", "must be an http(s) URL")
    try:
        name = clean_line(account.name)
    except ValueError as error:
        refuse("actor.account.name", str(error))
        return None, None
    if not name:
        refuse("actor.account.name", "must not be empty")
        return None, None
    email = email_or_none(name)
    return (email, None) if email is not None else (None, f"{account.homePage}|{name}")


def _course_id(iri: str, refuse: Refuse) -> str | None:
    if not _IRI.fullmatch(iri):
        refuse("object.id", "must be an absolute IRI (the course's id in the LMS)")
        return None
    try:
        return course_ref(iri)
    except ValueError as error:
        refuse("object.id", str(error))
        return None


def _score(score: Score, refuse: Refuse) -> float | None:
    """The scaled score (-1..1): `scaled` when given, else computed from raw, min and max (None without either)."""
    ok = True
    if score.scaled is not None and not -1 <= score.scaled <= 1:
        refuse("result.score.scaled", "must be between -1 and 1")
        ok = False
    if score.min is not None and score.max is not None and not score.min < score.max:
        refuse("result.score.max", "must be greater than min")
        ok = False
    if score.raw is not None:
        if score.min is None:
            refuse("result.score.min", "is required with raw")
            ok = False
        if score.max is None:
            refuse("result.score.max", "is required with raw")
            ok = False
        if score.min is not None and score.raw < score.min:
            refuse("result.score.raw", "must not be less than min")
            ok = False
        if score.max is not None and score.raw > score.max:
            refuse("result.score.raw", "must not be greater than max")
            ok = False
    if not ok:
        return None
    if score.scaled is not None:
        return score.scaled
    if score.raw is None or score.min is None or score.max is None:
        return None
    # Halves: the difference of two finite floats may overflow, the difference of their halves cannot.
    scaled = (score.raw / 2 - score.min / 2) / (score.max / 2 - score.min / 2)
    if not math.isfinite(scaled):
        refuse("result.score.raw", "cannot be scaled between min and max")
        return None
    return min(1.0, max(0.0, scaled))


def _completed_at(statement: Statement, now: datetime, refuse: Refuse) -> datetime | None:
    if statement.timestamp is not None:
        field, text = "timestamp", statement.timestamp
    elif statement.stored is not None:
        field, text = "stored", statement.stored
    else:
        refuse("timestamp", "is required (when the learner completed the course)")
        return None
    try:
        return not_in_future(parse_moment(text, naive_is_utc=True), now)
    except ValueError as error:
        refuse(field, str(error))
        return None
