"""Standard Webhooks deliveries from an LMS: the signature checked against a connection's secrets, and the
`course.completed` payload read into a completion.

Every verification failure (missing or malformed headers, a timestamp more than 5 minutes off, no matching `v1,`
signature under any secret, a secret that cannot be used) is one Unauthorized with one message: the caller learns
nothing about which check failed. A body over 64 KB is refused before any signature is computed (PayloadTooLarge).
A verified body that is not a JSON object, or a payload of the wrong shape, is a ValidationFailed naming the field.
An event type other than `course.completed` is acknowledged and ignored; fields the payload does not define are
ignored (forward compatibility), while a known field of the wrong type is still refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, Strict, StrictBool, ValidationError
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

from shared.clock import utc_now
from shared.email import Email
from shared.errors import FieldError, PayloadTooLarge, Unauthorized, ValidationFailed
from training.incoming import CourseRef, IncomingCompletion, field_errors, not_in_future, parse_moment

MAX_BODY_BYTES = 64 * 1024
MAX_SIGNATURE_HEADER = 4096  # room for a few dozen `v1,<base64>` signatures (key rotation on the sender's side)
UNVERIFIED = "The webhook could not be verified."
COURSE_COMPLETED = "course.completed"
PROCESSED_TYPES = frozenset({COURSE_COMPLETED})  # any other event type is answered `ignored` (200), not refused

_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_CONNECTION = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,100}$")  # printable ASCII without ':' (the key's separator)
_TIMESTAMP = re.compile(r"^\d{1,12}$", flags=re.ASCII)  # integer Unix seconds, as Standard Webhooks sends them
_SIGNATURES = re.compile(r"^[\x20-\x7e]+$")


def _iso_moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time text such as 2026-11-20T14:05:00Z")
    return parse_moment(value, naive_is_utc=False)


Moment = Annotated[datetime, PlainValidator(_iso_moment)]


class _Strict(BaseModel):
    """Known fields strictly typed; unknown ones ignored (a sender adding a field must not have deliveries refused)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class CompletionData(_Strict):
    learner_email: Annotated[Email, Strict()]
    lms_course_id: Annotated[CourseRef, Strict()]
    passed: StrictBool
    score_scaled: Annotated[float, Strict(), Field(ge=-1, le=1, allow_inf_nan=False)] | None = None
    completed_at: Moment


class CourseCompleted(_Strict):
    """The only webhook payload read: `{"type": "course.completed", "timestamp": ..., "data": {...}}`."""

    type: Literal["course.completed"]
    timestamp: Moment
    data: CompletionData


def verify(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The delivery's JSON object once one of `secrets` (every active secret of the connection: rotation keeps the
    previous one valid for a while) signed it; Unauthorized otherwise, always with the same message."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.", [FieldError("body", "too large")])
    signed = _signature_headers(headers)
    if signed is None or not _signed_by_any(secrets, bytes(body), signed):
        raise Unauthorized(UNVERIFIED)
    return _json_object(bytes(body))


def _signature_headers(headers: Mapping[str, str]) -> dict[str, str] | None:
    """The three Standard Webhooks headers, well formed, or None."""
    found: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower() if isinstance(key, str) else None
        if name in _HEADERS:
            if name in found or not isinstance(value, str):  # the same header twice (case differs): ambiguous
                return None
            found[name] = value
    if len(found) != len(_HEADERS):
        return None
    if not _WEBHOOK_ID.fullmatch(found["webhook-id"]) or not _TIMESTAMP.fullmatch(found["webhook-timestamp"]):
        return None
    signatures = found["webhook-signature"]
    if len(signatures) > MAX_SIGNATURE_HEADER or not _SIGNATURES.fullmatch(signatures):
        return None
    return found


def _signed_by_any(secrets: Sequence[str], body: bytes, headers: dict[str, str]) -> bool:
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except (WebhookVerificationError, EmptyWebhookSecretError, ValueError, TypeError, RuntimeError):
            continue  # a secret that is not base64 (ValueError) must not hide the others
        return True
    return False


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, a number too long, nesting too deep
        raise ValidationFailed(
            "Request body is not valid JSON.", [FieldError("body", "not a JSON document")], code="invalid_json"
        ) from error
    if not isinstance(payload, dict):
        raise ValidationFailed("Request body must be a JSON object.", [FieldError("body", "expected an object")])
    return payload


def completion_from_webhook(
    payload: dict[str, Any], *, connection_id: str, webhook_id: str, now: datetime | None = None
) -> IncomingCompletion | None:
    """A verified `course.completed` delivery as a completion keyed `wh:<connection>:<webhook-id>` (a redelivery of the
    same message is the same completion); None for an event type not in PROCESSED_TYPES (acknowledged and ignored:
    Standard Webhooks senders retry a refusal, and may disable the endpoint). A missing or non-text `type`, and any
    malformed known field, are a ValidationFailed; unknown fields are ignored."""
    if not isinstance(payload, dict):
        raise ValidationFailed("Request body must be a JSON object.", [FieldError("body", "expected an object")])
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ValidationFailed("The event type is missing.", [FieldError("type", "is required (a text)")])
    if event_type not in PROCESSED_TYPES:
        return None
    if not isinstance(connection_id, str) or not _CONNECTION.fullmatch(connection_id):
        raise ValidationFailed("The connection is invalid.", [FieldError("connection_id", "not a connection id")])
    if not isinstance(webhook_id, str) or not _WEBHOOK_ID.fullmatch(webhook_id):
        raise ValidationFailed("The webhook id is invalid.", [FieldError("webhook-id", "not a webhook id")])
    try:
        event = CourseCompleted.model_validate(payload)
    except ValidationError as error:
        raise ValidationFailed("The webhook payload is invalid.", field_errors(error)) from error
    data = event.data
    try:
        completed_at = not_in_future(data.completed_at, now or utc_now())
    except ValueError as error:
        raise ValidationFailed(
            "The webhook payload is invalid.", [FieldError("data.completed_at", str(error))]
        ) from error
    try:
        return IncomingCompletion(
            source="webhook",
            dedup_key=f"wh:{connection_id}:{webhook_id}",
            learner_email=data.learner_email,
            lms_course_id=data.lms_course_id,
            passed=data.passed,
            score_scaled=data.score_scaled,
            completed_at=completed_at,
        )
    except ValidationError as error:  # every field was checked above; this only keeps the promise of one error kind
        raise ValidationFailed("The webhook payload is invalid.", field_errors(error, "data")) from error
