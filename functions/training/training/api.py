"""Training's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here.

Two routes are public and authenticate the LMS instead of a person: `POST /training/webhooks/{connection_id}`
(Standard Webhooks signatures) and `POST /xapi/statements` (HTTP Basic: connection id and secret, as LRS clients send).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache
from typing import Any

from shared.edge import ApiEdge
from shared.errors import FieldError, PayloadTooLarge, Unauthorized, ValidationFailed
from shared.http import (
    MAX_BODY_BYTES,
    bounded_int,
    current,
    error_body,
    id_or_404,
    json_response,
    parse_body,
    parse_json,
    principal_from,
)
from shared.observability import logger, metrics
from shared.principal import Principal
from training import webhooks, xapi
from training.domain.access import ensure_vendor_admin
from training.files import ImportStore
from training.models import (
    AssignmentBody,
    Award,
    Certification,
    CertificationBody,
    Connection,
    ConnectionBody,
    Course,
    CourseBody,
    DiscardBody,
    ImportBody,
    ImportJob,
    Recorded,
    ReviewItem,
    RotationBody,
)
from training.repository import TrainingRepository
from training.service import LRS_REFUSED, WEBHOOK_REFUSED, TrainingService
from training.settings import ApiSettings
from training.workflow import SqsWorkQueue

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-training", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once

COURSE_ID = re.compile(r"crs_[0-9a-z]{26}")
CONNECTION_ID = re.compile(r"lms_[0-9a-z]{26}")
ITEM_ID = re.compile(r"rev_[0-9a-z]{26}")
IMPORT_ID = re.compile(r"imp_[0-9a-z]{26}")
XAPI_VERSION = re.compile(r"1\.0(\.\d{1,3})?")
XAPI_ANSWER_VERSION = "1.0.3"
JSON = ["application/json"]


@cache
def service() -> TrainingService:
    return TrainingService(
        repository=TrainingRepository(SETTINGS.table_name),
        files=ImportStore(SETTINGS.import_bucket),
        work=SqsWorkQueue(SETTINGS.work_queue_url),
        max_import_bytes=SETTINGS.import_max_bytes,
    )


def caller() -> Principal:
    """The signed-in user; a partner user only once they accepted the current programme agreement (403)."""
    return service().admit(principal_from(current(app)))


def _params() -> dict[str, str]:
    return dict(current(app).query_params or {})


def _headers() -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(current(app).headers or {}).items()}


# ------------------------------------------------------------------ answer shapes
def course_view(course: Course) -> dict[str, Any]:
    return course.model_dump(mode="json", exclude={"created_by"})


def certification_view(certification: Certification) -> dict[str, Any]:
    return certification.model_dump(mode="json", exclude={"created_by"})


def item_view(item: ReviewItem) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude={"dedup_key"})


def import_view(job: ImportJob) -> dict[str, Any]:
    return job.model_dump(
        mode="json",
        exclude={"key", "revision", "created_by", "file_digest", "advanced_by", "next_sent_from", "failed_attempts"},
    )


def connection_view(connection: Connection) -> dict[str, Any]:
    """A connection as its list shows it: never a secret's value, only when each was made and retires."""
    data = connection.model_dump(mode="json", include={"connection_id", "name", "created_at", "created_by"})
    secrets = [s.model_dump(mode="json", include={"created_at", "retires_at"}) for s in connection.secrets]
    return data | {"secrets": secrets}


def award_view(award: Award) -> dict[str, Any]:
    data = award.model_dump(mode="json")
    fields = ("award_id", "certification_id", "status", "earned_at", "first_earned_at", "expires_at", "renewals")
    return {"name": award.certification_name} | {k: data[k] for k in fields}


def delivery_view(recorded: Recorded) -> dict[str, Any]:
    """What an LMS learns of its delivery: recorded, kept for review, or a duplicate (nothing changed)."""
    status = {"accepted": "accepted", "duplicate": "duplicate"}.get(recorded.outcome, "review")
    return {"status": status}


# ------------------------------------------------------------------ catalogue
@app.route("/training/courses", methods=["GET"])
@handle_errors
def list_courses() -> Any:
    caller()
    return respond(200, {"items": [course_view(c) for c in service().courses()]})


@app.route("/training/courses", methods=["POST"], content_types=JSON)
@handle_errors
def add_course() -> Any:
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), CourseBody)
    return post_once(
        "add_course",
        principal.sub,
        lambda: (201, course_view(service().add_course(principal, body))),
        body_is_key=True,
    )


@app.route("/training/certifications", methods=["GET"])
@handle_errors
def list_certifications() -> Any:
    caller()
    return respond(200, {"items": [certification_view(c) for c in service().certifications()]})


@app.route("/training/certifications", methods=["POST"], content_types=JSON)
@handle_errors
def add_certification() -> Any:
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), CertificationBody)
    return post_once(
        "add_certification",
        principal.sub,
        lambda: (201, certification_view(service().add_certification(principal, body))),
        body_is_key=True,
    )


# ------------------------------------------------------------------ LMS connections
@app.route("/training/connections", methods=["POST"], content_types=JSON)
@handle_errors
def add_connection() -> Any:
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), ConnectionBody)

    def run() -> tuple[int, Any]:
        connection, secret = service().add_connection(principal, body.name)
        answer = {"connection_id": connection.connection_id, "name": connection.name, "secret": secret}
        return 201, answer | {"created_at": connection.model_dump(mode="json")["created_at"]}

    # Replayed only with the same Idempotency-Key (a retry of a lost answer); the secret is never shown otherwise.
    return post_once("add_connection", principal.sub, run)


@app.route("/training/connections", methods=["GET"])
@handle_errors
def list_connections() -> Any:
    params = _params()
    limit = bounded_int(params, "limit", 50, 1, 100)
    found, cursor = service().connections(caller(), limit=limit, cursor=params.get("cursor") or None)
    return respond(200, {"items": [connection_view(c) for c in found], "next_cursor": cursor})


@app.route("/training/connections/{connection_id}/secrets", methods=["POST"], content_types=JSON)
@handle_errors
def rotate_secret(connection_id: str) -> Any:
    id_or_404(connection_id, CONNECTION_ID, "connection")
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    if current(app).raw_body:  # no body is `{}`; an unknown field is refused, not ignored
        parse_body(current(app), RotationBody)

    def run() -> tuple[int, Any]:
        connection, secret = service().rotate_secret(principal, connection_id)
        previous = [s.model_dump(mode="json")["retires_at"] for s in connection.secrets[1:]]
        return 201, {
            "connection_id": connection_id,
            "secret": secret,
            "previous_valid_until": max(previous, default=None),
        }

    return post_once(f"rotate:{connection_id}", principal.sub, run)


# ------------------------------------------------------------------ deliveries from an LMS (public routes)
@app.route("/training/webhooks/{connection_id}", methods=["POST"], content_types=JSON)
@handle_errors
def receive_webhook(connection_id: str) -> Any:
    raw = current(app).raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.", [FieldError("body", "too large")])
    headers = _headers()
    try:
        if not CONNECTION_ID.fullmatch(connection_id or ""):
            raise Unauthorized(WEBHOOK_REFUSED)
        payload = webhooks.verify(service().webhook_secrets(connection_id), raw, headers)
    except Unauthorized:
        logger.info("webhook refused", extra={"connection_id": connection_id[:40]})
        raise Unauthorized(WEBHOOK_REFUSED) from None  # one answer for every reason: it tells a prober nothing
    incoming = webhooks.completion_from_webhook(payload, connection_id=connection_id, webhook_id=headers["webhook-id"])
    if incoming is None:
        return respond(200, {"status": "ignored"})  # an event type we do not process: acknowledged, never retried
    recorded = service().receive(connection_id, incoming)
    metrics.add_metric(name="TrainingWebhookDeliveries", unit="Count", value=1)
    return respond(200, delivery_view(recorded))


def _basic(authorization: str | None) -> tuple[str, str]:
    """The `connection_id:secret` pair of an HTTP Basic header; Unauthorized when there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not token or len(token) > 512:
        raise Unauthorized(LRS_REFUSED)
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized(LRS_REFUSED) from None
    if not sep or not CONNECTION_ID.fullmatch(user):
        raise Unauthorized(LRS_REFUSED)
    return user, password


@app.route("/xapi/statements", methods=["POST"], content_types=JSON)
@handle_errors
def receive_statements() -> Any:
    """xAPI's statement resource (POST): HTTP Basic with the connection's id and secret; answers the statement ids."""
    version_header = {"X-Experience-API-Version": XAPI_ANSWER_VERSION}
    try:
        headers = _headers()
        connection_id, password = _basic(headers.get("authorization"))
        service().authenticate_lrs(connection_id, password)
    except Unauthorized as refused:
        return json_response(
            401,
            error_body(refused),
            origin=SETTINGS.allowed_origin,
            headers=version_header | {"WWW-Authenticate": 'Basic realm="xAPI"'},
        )
    return _statements(connection_id, headers, version_header)


def _statements(connection_id: str, headers: dict[str, str], version_header: dict[str, str]) -> Any:
    if not XAPI_VERSION.fullmatch(headers.get("x-experience-api-version", "")):
        raise ValidationFailed(
            "Send X-Experience-API-Version: 1.0.3.", [FieldError("X-Experience-API-Version", "must be 1.0.x")]
        )
    incoming = xapi.parse_statements(parse_json(current(app).raw_body), connection_id=connection_id)
    for statement in incoming:
        service().receive(connection_id, statement)
    metrics.add_metric(name="TrainingStatements", unit="Count", value=len(incoming))
    ids = [statement.dedup_key.split(":", 2)[2] for statement in incoming]
    return json_response(200, ids, origin=SETTINGS.allowed_origin, headers=version_header)


# ------------------------------------------------------------------ CSV imports
@app.route("/training/imports", methods=["POST"], content_types=JSON)
@handle_errors
def create_import() -> Any:
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), ImportBody)

    def run() -> tuple[int, Any]:
        job, upload = service().create_import(principal, body.file_name)
        answer = import_view(job) | {"upload": upload, "max_bytes": SETTINGS.import_max_bytes}
        return 201, answer | {"expires_in": service().files.upload_expires_seconds}

    # Only an Idempotency-Key replays: two uploads of `weekly.csv` are two imports (each with its own object).
    return post_once("create_import", principal.sub, run)


@app.route("/training/imports", methods=["GET"])
@handle_errors
def list_imports() -> Any:
    params = _params()
    limit = bounded_int(params, "limit", 20, 1, 50)
    jobs, cursor = service().imports(caller(), limit=limit, cursor=params.get("cursor") or None)
    return respond(200, {"items": [import_view(j) for j in jobs], "next_cursor": cursor})


@app.route("/training/imports/{import_id}/submission", methods=["POST"], content_types=JSON)
@handle_errors
def submit_import(import_id: str) -> Any:
    id_or_404(import_id, IMPORT_ID, "import")
    principal = caller()
    ensure_vendor_admin(principal)  # refused before anything is read (the service checks it again)
    return post_once(
        f"submit:{import_id}", principal.sub, lambda: (202, import_view(service().submit_import(principal, import_id)))
    )


@app.route("/training/imports/{import_id}", methods=["GET"])
@handle_errors
def get_import(import_id: str) -> Any:
    id_or_404(import_id, IMPORT_ID, "import")
    params = _params()
    offset = bounded_int(params, "offset", 0, 0, 10_000)
    limit = bounded_int(params, "limit", 100, 1, 1000)
    job, rows, total = service().import_report(caller(), import_id, offset=offset, limit=limit)
    return respond(200, import_view(job) | {"rows": rows, "total_rows": total, "offset": offset})


# ------------------------------------------------------------------ the review list
@app.route("/training/review", methods=["GET"])
@handle_errors
def list_review() -> Any:
    params = _params()
    limit = bounded_int(params, "limit", 20, 1, 50)
    items, cursor = service().review_list(caller(), limit=limit, cursor=params.get("cursor") or None)
    return respond(200, {"items": [item_view(i) for i in items], "next_cursor": cursor})


@app.route("/training/review/{item_id}/assignment", methods=["POST"], content_types=JSON)
@handle_errors
def assign_item(item_id: str) -> Any:
    id_or_404(item_id, ITEM_ID, "review item")
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), AssignmentBody)
    return post_once(
        f"assign:{item_id}",
        principal.sub,
        lambda: (200, item_view(service().assign(principal, item_id, body.learner_email))),
    )


@app.route("/training/review/{item_id}/discard", methods=["POST"], content_types=JSON)
@handle_errors
def discard_item(item_id: str) -> Any:
    id_or_404(item_id, ITEM_ID, "review item")
    principal = caller()
    ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), DiscardBody)
    return post_once(
        f"discard:{item_id}",
        principal.sub,
        lambda: (200, item_view(service().discard(principal, item_id, body.reason))),
    )


# ------------------------------------------------------------------ what partner users see
@app.route("/training/me", methods=["GET"])
@handle_errors
def my_training() -> Any:
    principal = caller()
    learner, courses = service().my_training(principal)
    completions = sorted(learner.completions, key=lambda c: (c.completed_at, c.completion_id), reverse=True)
    return respond(
        200,
        {
            "email": learner.email,
            "status": learner.person.status if learner.person else "unknown",
            "completions": [
                c.model_dump(
                    mode="json",
                    include={"completion_id", "course_id", "passed", "score_scaled", "completed_at", "source"},
                )
                | {"course_title": courses[c.course_id].title if c.course_id in courses else None}
                for c in completions
            ],
            "certifications": [
                award_view(a) for a in sorted(learner.awards.values(), key=lambda a: a.certification_name)
            ],
        },
    )


@app.route("/training/people", methods=["GET"])
@handle_errors
def certified_people() -> Any:
    certifications, held, names = service().people(caller())
    by_certification: dict[str, list[Award]] = {}
    for award in held:
        by_certification.setdefault(award.certification_id, []).append(award)
    return respond(
        200,
        {
            "certifications": [
                {
                    "certification_id": c.certification_id,
                    "name": c.name,
                    "holders": [
                        {"email": a.holder_email}
                        | award_view(a)
                        | {"name": names.get(a.holder_email) or a.holder_email}  # the person, not the certification
                        for a in sorted(by_certification.get(c.certification_id, []), key=lambda a: a.holder_email)
                    ],
                }
                for c in certifications
            ]
        },
    )
