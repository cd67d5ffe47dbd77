"""Training and certification handlers against moto, with resources provisioned from template.yaml: the catalogue
and its guards, LMS webhooks (Standard Webhooks) and xAPI statements, CSV imports, the review list, awards from
earning through the expiry timer to CertificationExpired, and withdrawal on a user's removal."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from shared.clock import iso
from tests.integration.conftest import Stack
from tests.support.events import validate
from tests.support.factories import bus_envelope, partner_onboarded
from tests.support.lambda_events import LambdaContext, claims_for, sqs_event

VENDOR = claims_for(sub="vendor-1", email="channel@example.com", partner_id=None, groups=["vendor-admin"])


@pytest.fixture(scope="module")
def training(stack: Stack) -> Any:
    api = stack.load("TrainingApiFunction", "training.api")
    consumers = stack.load("TrainingEventsFunction", "training.consumers")
    outbox = stack.load("TrainingOutboxFunction", "training.outbox")
    return api, consumers, outbox


def flush(stack: Stack, training: Any, *, until: Any = None, timeout: float = 20) -> None:
    _, consumers, outbox = training
    queues = {"TrainingEventsQueue": consumers.handler, "TrainingWorkQueue": consumers.handler}
    stack.flush("TrainingTable", outbox, queues, until=until, timeout=timeout)


def call(stack: Stack, training: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    status, body, _ = stack.call(training[0].app, *args, **kwargs)
    return status, body


def onboarding_event(detail_type: str, partner_id: str, **detail: Any) -> dict[str, Any]:
    envelope = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "version": "1",
        "partner_id": partner_id,
    }
    return bus_envelope("prm.onboarding", detail_type, envelope | detail)


def send(stack: Stack, envelope: dict[str, Any]) -> None:
    boto3.client("sqs").send_message(QueueUrl=stack.ref("TrainingEventsQueue"), MessageBody=json.dumps(envelope))


def partner(stack: Stack, training: Any, *people: tuple[str, str]) -> tuple[str, dict[str, dict[str, str]]]:
    """A partner that training knows, with its users (local part, role) invited; their claims by local part."""
    onboarded = partner_onboarded()
    partner_id, host = onboarded["detail"]["partner_id"], onboarded["detail"]["domain"]
    send(stack, onboarded)
    claims = {}
    for local, role in people:
        email = f"{local}@{host}"
        send(
            stack,
            onboarding_event(
                "PartnerUserInvited",
                partner_id,
                invitation_id=f"inv_{uuid.uuid4().hex}",
                email=email,
                name=local.title(),
                role=role,
                invited_by="p@example.com",
            ),
        )
        claims[local] = claims_for(sub=f"sub-{email}", email=email, partner_id=partner_id, groups=[role])
    flush(stack, training)
    # Past the agreement gate, whichever test published an agreement first (as deals' and MDF's tests do).
    if any([stack.accept_projected_agreement("TrainingTable", "TrainingEventsQueue", c) for c in claims.values()]):
        flush(stack, training)
    return partner_id, claims


def catalogue(stack: Stack, training: Any, *, validity: int = 12, lms: str = "LMS-") -> dict[str, Any]:
    """Two required courses and a renewal course with fresh LMS ids, their certification, and an LMS connection."""
    tag = uuid.uuid4().hex[:8]
    courses = {}
    for name in ("a", "b", "r"):
        body = {
            "title": f"Course {name} {tag}",
            "lms_course_id": f"{lms}{name}-{tag}",
            "credit_hours": 4,
            "language": "en",
        }
        status, course = call(stack, training, "POST", "/training/courses", body=body, claims=VENDOR)
        assert status == 201, course
        courses[name] = course
    body = {
        "name": f"Network Associate {tag}",
        "required_course_ids": [courses["a"]["course_id"], courses["b"]["course_id"]],
        "validity_months": validity,
        "renewal_course_id": courses["r"]["course_id"],
    }
    status, certification = call(stack, training, "POST", "/training/certifications", body=body, claims=VENDOR)
    assert status == 201, certification
    status, connection = call(
        stack, training, "POST", "/training/connections", body={"name": f"LMS {tag}"}, claims=VENDOR
    )
    assert status == 201, connection
    return {"courses": courses, "certification": certification, "connection": connection}


def payload(email: str, lms_course_id: str, completed_at: datetime, *, passed: bool = True) -> str:
    return json.dumps(
        {
            "type": "course.completed",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "learner_email": email,
                "lms_course_id": lms_course_id,
                "passed": passed,
                "score_scaled": 0.9 if passed else 0.3,
                "completed_at": completed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            },
        }
    )


def signed(secret: str, body: str, *, msg_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def webhook(stack: Stack, training: Any, connection_id: str, body: str, headers: dict[str, str]) -> tuple[int, Any]:
    return call(
        stack,
        training,
        "POST",
        "/training/webhooks/{connection_id}",
        {"connection_id": connection_id},
        raw_body=body,
        headers=headers,
    )


def deliver(
    stack: Stack, training: Any, setup: dict[str, Any], email: str, course: str, at: datetime, **kw: Any
) -> Any:
    body = payload(email, setup["courses"][course]["lms_course_id"], at, **kw)
    secret = setup["connection"]["secret"]
    status, answer = webhook(stack, training, setup["connection"]["connection_id"], body, signed(secret, body))
    assert status == 200, answer
    return answer


def outbox_events(stack: Stack, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
    found = []
    for item in stack.items("TrainingTable"):
        if item.get("entity") == "outbox" and item["detail_type"] == detail_type:
            event = json.loads(item["detail"])
            if all(event.get(k) == v for k, v in detail.items()):
                found.append(event)
    return found


def my_training(stack: Stack, training: Any, claims: dict[str, str]) -> Any:
    status, answer = call(stack, training, "GET", "/training/me", claims=claims)
    assert status == 200, answer
    return answer


# ------------------------------------------------------------------ the catalogue
def test_vendor_admin_routes_refuse_everyone_else_and_bad_input_names_the_field(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("boss", "partner-admin"))
    boss = people["boss"]
    setup = catalogue(stack, training)
    item_path = {"item_id": "rev_" + "0" * 26}
    import_path = {"import_id": "imp_" + "0" * 26}
    for method, path, params, body in [
        (
            "POST",
            "/training/courses",
            None,
            {"title": "X", "lms_course_id": "X-1", "credit_hours": 1, "language": "en"},
        ),
        (
            "POST",
            "/training/certifications",
            None,
            {"name": "X", "required_course_ids": [setup["courses"]["a"]["course_id"]], "validity_months": 12},
        ),
        ("POST", "/training/connections", None, {"name": "X"}),
        ("GET", "/training/connections", None, None),
        ("GET", "/training/imports", None, None),
        (
            "POST",
            "/training/connections/{connection_id}/secrets",
            {"connection_id": setup["connection"]["connection_id"]},
            {},
        ),
        ("POST", "/training/imports", None, {"file_name": "x.csv"}),
        ("POST", "/training/imports/{import_id}/submission", import_path, {}),
        ("GET", "/training/imports/{import_id}", import_path, None),
        ("GET", "/training/review", None, None),
        ("POST", "/training/review/{item_id}/assignment", item_path, {"learner_email": "a@b.com"}),
        ("POST", "/training/review/{item_id}/discard", item_path, {"reason": "x"}),
    ]:
        status, error = call(stack, training, method, path, params, body=body, claims=boss)
        assert status == 403 and error["code"] == "forbidden", (path, status, error)
    before = len(stack.items("TrainingTable"))
    for path, body, field in [
        (
            "/training/courses",
            {"title": "X", "lms_course_id": "X 1", "credit_hours": 1, "language": "en"},
            "lms_course_id",
        ),
        (
            "/training/courses",
            {"title": "X", "lms_course_id": "X-1", "credit_hours": -1, "language": "en"},
            "credit_hours",
        ),
        ("/training/courses", {"title": "X", "lms_course_id": "X-1", "credit_hours": 1, "language": "en", "x": 1}, "x"),
        (
            "/training/courses",
            {"title": "X", "lms_course_id": "X-1", "credit_hours": "8", "language": "en"},
            "credit_hours",
        ),
        (
            "/training/certifications",
            {"name": "X", "required_course_ids": [], "validity_months": 12},
            "required_course_ids",
        ),
        (
            "/training/certifications",
            {"name": "X", "required_course_ids": [setup["courses"]["a"]["course_id"]], "validity_months": 121},
            "validity_months",
        ),
        (
            "/training/certifications",
            {"name": "X", "required_course_ids": ["crs_" + "0" * 26], "validity_months": 12},
            "required_course_ids.0",
        ),
        ("/training/imports", {"file_name": "../x.csv"}, "file_name"),
    ]:
        status, error = call(stack, training, "POST", path, body=body, claims=VENDOR)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (field, error)
    status, error = call(
        stack,
        training,
        "POST",
        "/training/connections/{connection_id}/secrets",
        {"connection_id": setup["connection"]["connection_id"]},
        body={"x": 1},
        claims=VENDOR,
    )
    assert status == 400 and [e["field"] for e in error["errors"]] == ["x"], error  # no secret was rotated
    duplicate = dict(setup["courses"]["a"]) | {"title": "Again"}
    body = {k: duplicate[k] for k in ("title", "lms_course_id", "credit_hours", "language")}
    status, error = call(stack, training, "POST", "/training/courses", body=body, claims=VENDOR)
    assert status == 409 and error["errors"][0]["field"] == "lms_course_id"
    body = {
        "name": setup["certification"]["name"].upper(),
        "required_course_ids": [setup["courses"]["a"]["course_id"]],
        "validity_months": 6,
    }
    status, error = call(stack, training, "POST", "/training/certifications", body=body, claims=VENDOR)
    assert status == 409 and [e["field"] for e in error["errors"]] == ["name"], error
    assert len(stack.items("TrainingTable")) == before
    status, listed = call(stack, training, "GET", "/training/courses", claims=boss)
    assert status == 200 and setup["courses"]["a"]["course_id"] in [c["course_id"] for c in listed["items"]]


# ------------------------------------------------------------------ webhooks
def test_webhook_deliveries_are_verified_deduplicated_and_leak_nothing(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    connection_id, secret = setup["connection"]["connection_id"], setup["connection"]["secret"]
    body = payload(ada["email"].upper(), setup["courses"]["a"]["lms_course_id"], datetime.now(UTC) - timedelta(hours=1))
    headers = signed(secret, body)

    assert webhook(stack, training, connection_id, body, headers) == (200, {"status": "accepted"})
    [completed] = outbox_events(stack, "TrainingCompleted", learner_email=ada["email"])
    validate(bus_envelope("prm.training", "TrainingCompleted", completed))
    assert completed["source"] == "webhook" and completed["course_id"] == setup["courses"]["a"]["course_id"]
    items = len(stack.items("TrainingTable"))
    # the same webhook id again (an LMS retry, freshly signed): nothing changes
    again = signed(secret, body, msg_id=headers["webhook-id"])
    assert webhook(stack, training, connection_id, body, again) == (200, {"status": "duplicate"})
    assert len(stack.items("TrainingTable")) == items

    refusals = []
    other_secret = "whsec_" + base64.b64encode(b"x" * 24).decode()
    for case, (target, sent, sent_headers) in {
        "bad signature": (connection_id, body, signed(other_secret, body)),
        "stale timestamp": (connection_id, body, signed(secret, body, at=datetime.now(UTC) - timedelta(minutes=6))),
        "future timestamp": (connection_id, body, signed(secret, body, at=datetime.now(UTC) + timedelta(minutes=6))),
        "unknown connection": ("lms_" + "0" * 26, body, signed(secret, body)),
        "odd connection id": ("nonsense", body, signed(secret, body)),
        "signed another body": (connection_id, body.replace('"passed": true', '"passed": false'), signed(secret, body)),
        "no signature": (connection_id, body, {}),
    }.items():
        status, error = webhook(stack, training, target, sent, sent_headers)
        assert status == 401, (case, status, error)
        refusals.append(error)
    assert all(r == refusals[0] for r in refusals) and refusals[0]["code"] == "unauthorized"  # one answer for all
    big = json.dumps({"type": "course.completed", "pad": "x" * 70_000})
    assert webhook(stack, training, connection_id, big, signed(secret, big))[0] == 413
    assert len(stack.items("TrainingTable")) == items

    # a verified delivery of the wrong shape names the field; a rotated secret keeps the previous one valid
    bad = json.dumps(json.loads(body) | {"data": {"learner_email": ada["email"]}})
    status, error = webhook(stack, training, connection_id, bad, signed(secret, bad))
    assert status == 400 and any(e["field"].startswith("data.") for e in error["errors"]), error
    for field, value in [("completed_at", "0001-01-01T00:00:00+14:00"), ("passed", "yes")]:
        bad = json.dumps(json.loads(body) | {"data": json.loads(body)["data"] | {field: value}})
        status, error = webhook(stack, training, connection_id, bad, signed(secret, bad))
        assert status == 400 and [e["field"] for e in error["errors"]] == [f"data.{field}"], error  # never a 500
    # another event type is acknowledged and ignored (a refusal would be retried); an unknown field is ignored
    other = json.dumps({"type": "course.started", "timestamp": "2026-11-20T00:00:00Z", "data": {"x": 1}})
    assert webhook(stack, training, connection_id, other, signed(secret, other)) == (200, {"status": "ignored"})
    assert len(stack.items("TrainingTable")) == items
    extra = payload(ada["email"], setup["courses"]["a"]["lms_course_id"], datetime.now(UTC) - timedelta(minutes=30))
    extra = json.dumps(json.loads(extra) | {"data": json.loads(extra)["data"] | {"attempt": 2}})
    assert webhook(stack, training, connection_id, extra, signed(secret, extra)) == (200, {"status": "accepted"})
    status, rotated = call(
        stack,
        training,
        "POST",
        "/training/connections/{connection_id}/secrets",
        {"connection_id": connection_id},
        body={},
        claims=VENDOR,
    )
    assert status == 201 and rotated["secret"] != secret and rotated["previous_valid_until"]
    later = payload(ada["email"], setup["courses"]["b"]["lms_course_id"], datetime.now(UTC) - timedelta(minutes=1))
    assert webhook(stack, training, connection_id, later, signed(secret, later))[1] == {"status": "accepted"}
    later = payload(ada["email"], setup["courses"]["r"]["lms_course_id"], datetime.now(UTC) - timedelta(minutes=1))
    assert webhook(stack, training, connection_id, later, signed(rotated["secret"], later))[1] == {"status": "accepted"}
    assert len(my_training(stack, training, ada)["completions"]) == 4


# ------------------------------------------------------------------ xAPI
def statement(email: str, course: str, verb: str = "passed", *, result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:{email}", "objectType": "Agent"},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": course, "objectType": "Activity"},
        "result": {"success": verb != "failed", "score": {"scaled": 0.8}} if result is None else result,
        "timestamp": (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
    }


def statements(stack: Stack, training: Any, body: Any, *, auth: str | None, version: str | None = "1.0.3") -> Any:
    headers = {"Authorization": auth} if auth else {}
    if version:
        headers["X-Experience-API-Version"] = version
    status, answer, sent_headers = stack.call(training[0].app, "POST", "/xapi/statements", body=body, headers=headers)
    return status, answer, sent_headers


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_xapi_statements_authenticate_validate_and_deduplicate(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training, lms="https://lms.example.com/courses/")  # xAPI names activities by IRI
    connection_id, secret = setup["connection"]["connection_id"], setup["connection"]["secret"]
    auth = basic(connection_id, secret)
    course_a = setup["courses"]["a"]["lms_course_id"]
    for bad_auth in (
        None,
        basic(connection_id, secret + "x"),
        basic("lms_" + "0" * 26, secret),
        "Bearer x",
        "Basic %%%",
    ):
        status, error, headers = statements(stack, training, statement(ada["email"], course_a), auth=bad_auth)
        assert status == 401 and error["code"] == "unauthorized" and headers["WWW-Authenticate"].startswith("Basic")
    status, error, _ = statements(stack, training, statement(ada["email"], course_a), auth=auth, version=None)
    assert status == 400 and error["errors"][0]["field"] == "X-Experience-API-Version"
    before = len(stack.items("TrainingTable"))
    for body, field in [
        (statement(ada["email"], course_a, result={"success": True, "score": {"raw": 80}}), "score"),
        (statement(ada["email"], course_a, "passed", result={"success": False}), "success"),
        (statement(ada["email"], course_a, "passed", result={}), "success"),
        (statement(ada["email"], course_a, "failed", result={"success": True}), "success"),
        (statement(ada["email"], course_a, "attempted"), "verb.id"),
    ]:
        status, error, _ = statements(stack, training, body, auth=auth)
        assert status == 400 and any(field in e["field"] for e in error["errors"]), (field, error)
    status, error, _ = statements(stack, training, [statement(ada["email"], course_a)] * 51, auth=auth)
    assert status == 400
    assert len(stack.items("TrainingTable")) == before  # nothing written for a refused batch

    batch = [
        statement(ada["email"], course_a),
        statement(ada["email"], setup["courses"]["b"]["lms_course_id"], "failed"),
    ]
    status, ids, headers = statements(stack, training, batch, auth=auth)
    assert status == 200, ids
    assert ids == [s["id"] for s in batch] and headers["X-Experience-API-Version"].startswith("1.0")
    assert statements(stack, training, batch, auth=auth)[:2] == (200, ids)  # the same statements again: one each
    completions = my_training(stack, training, ada)["completions"]
    assert sorted((c["source"], c["passed"]) for c in completions) == [("xapi", False), ("xapi", True)]


def test_a_course_accepts_statements_of_its_declared_activity_ids_by_key(stack: Stack, training: Any) -> None:
    """A course declares the activity IRIs its xAPI statements may name (the LMS's cmi5 AU, its package): each is
    matched exactly but for one trailing slash, by one key lookup; an invalid IRI is a 400 naming its index, one
    another course took a 409 naming it."""
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    connection = setup["connection"]
    auth = basic(connection["connection_id"], connection["secret"])
    tag = uuid.uuid4().hex[:8]
    package, unit = f"https://lms.example.com/packages/{tag}/", f"https://lms.example.com/au/{tag}"
    body = {"title": f"Cloud {tag}", "lms_course_id": f"CLOUD-{tag}", "credit_hours": 2, "language": "en"}
    for bad, field in [
        ([package, "not an iri"], "activity_ids.1"),
        (["no-scheme/x"], "activity_ids.0"),
        ([f"https://x.example/{'a' * 200}"], "activity_ids.0"),
        ([package, package.rstrip("/")], "activity_ids"),
        ([f"https://x.example/{n}" for n in range(11)], "activity_ids"),
    ]:
        status, error = call(
            stack, training, "POST", "/training/courses", body=body | {"activity_ids": bad}, claims=VENDOR
        )
        assert status == 400 and field in [e["field"] for e in error["errors"]], (bad, error)
    status, course = call(
        stack, training, "POST", "/training/courses", body=body | {"activity_ids": [package, unit]}, claims=VENDOR
    )
    assert status == 201 and course["activity_ids"] == [package, unit], course
    taken = {"title": "Other", "lms_course_id": f"OTHER-{tag}", "credit_hours": 1, "language": "en"}
    status, error = call(
        stack, training, "POST", "/training/courses", body=taken | {"activity_ids": [unit + "/"]}, claims=VENDOR
    )
    assert status == 409 and [e["field"] for e in error["errors"]] == ["activity_ids.0"], error
    batch = [statement(ada["email"], package.rstrip("/")), statement(ada["email"], unit + "/", "failed")]
    status, ids, _ = statements(stack, training, batch, auth=auth)
    assert status == 200, ids
    mine = [c for c in my_training(stack, training, ada)["completions"] if c["course_id"] == course["course_id"]]
    assert sorted(c["passed"] for c in mine) == [False, True]
    status, ids, _ = statements(stack, training, [statement(ada["email"], f"{unit}/other")], auth=auth)
    assert status == 200  # not a declared id (no prefix matching): the statement waits in the review list
    [waiting] = [
        i for i in stack.items("TrainingTable") if i.get("entity") == "review" and i["lms_course_id"] == f"{unit}/other"
    ]
    assert waiting["reason"] == "unknown_course"


# ------------------------------------------------------------------ CSV imports
def test_a_csv_import_reports_every_row(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    course_a = setup["courses"]["a"]["lms_course_id"]
    rows = [
        "learner_email,lms_course_id,result,completed_at,score,learner_name",  # an extra column is ignored
        f"{ada['email']},{course_a},passed,2026-11-20,91,Ada",
        f"{ada['email']},{course_a},passed,2026-11-20,91,Ada",
        f"stranger-{uuid.uuid4().hex[:6]}@example.org,{course_a},passed,2026-11-20,,",
        f"{ada['email']},NO-SUCH-COURSE-{uuid.uuid4().hex[:6]},completed,2026-11-20,,",
        f"not-an-email,{course_a},passed,2026-11-20,,",
        f"{ada['email']},{course_a},passed,0001-01-01T00:00:00+14:00,,",  # out of range: this row is invalid
    ]
    status, created = call(stack, training, "POST", "/training/imports", body={"file_name": "q4.csv"}, claims=VENDOR)
    assert status == 201, created
    fields = created["upload"]["fields"]
    assert fields["Content-Type"] == "text/csv" and created["status"] == "awaiting_upload"
    path = {"import_id": created["import_id"]}
    status, error = call(
        stack, training, "POST", "/training/imports/{import_id}/submission", path, body={}, claims=VENDOR
    )
    assert status == 400 and error["errors"][0]["field"] == "file", error  # nothing uploaded yet
    boto3.client("s3").put_object(
        Bucket=stack.ref("TrainingImportBucket"),
        Key=fields["key"],
        Body="\n".join(rows).encode(),
        ContentType="text/csv",
    )
    status, queued = call(
        stack, training, "POST", "/training/imports/{import_id}/submission", path, body={}, claims=VENDOR
    )
    assert status == 202 and queued["status"] == "queued", queued

    def done() -> bool:
        return (
            call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)[1]["status"]
            == "completed"
        )

    flush(stack, training, until=done)
    status, report = call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)
    assert [(r["row"], r["status"]) for r in report["rows"]] == [
        (2, "accepted"),
        (3, "duplicate"),
        (4, "unknown_learner"),
        (5, "unknown_course"),
        (6, "invalid"),
        (7, "invalid"),
    ]
    assert "learner_email" in report["rows"][4]["reason"] and report["total_rows"] == 6
    assert "completed_at: is out of range" in report["rows"][5]["reason"]
    assert report["counts"] == {"accepted": 1, "duplicate": 1, "unknown_learner": 1, "unknown_course": 1, "invalid": 2}
    assert report["ignored_columns"] == ["learner_name"]
    status, page = call(
        stack,
        training,
        "GET",
        "/training/imports/{import_id}",
        path,
        claims=VENDOR,
        query={"offset": "3", "limit": "1"},
    )
    assert [r["row"] for r in page["rows"]] == [5]
    assert [c["source"] for c in my_training(stack, training, ada)["completions"]] == ["csv"]


class RunningLow(LambdaContext):
    """An invocation whose time runs low after `rows` rows: the chunk's remaining-time check asks once per row."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.asked = 0
        self.rows = rows

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return 40_000 if self.asked <= self.rows else 5_000


def import_messages(stack: Stack, import_id: str) -> list[dict[str, Any]]:
    """Training's work-queue messages of one import (others are left for their tests, visible again at once)."""
    sqs, url = boto3.client("sqs"), stack.ref("TrainingWorkQueue")
    mine = []
    for message in stack.receive("TrainingWorkQueue"):
        if json.loads(message["Body"]).get("import_id") == import_id:
            mine.append(message)
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return mine


def run_chunk(stack: Stack, training: Any, message: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The consumer's handler for one work message, as the SQS event source hands it over (deleted after success)."""
    result: dict[str, Any] = training[1].handler(
        sqs_event([message], stack.attr("TrainingWorkQueue", "Arn")), context or LambdaContext()
    )
    if not result["batchItemFailures"]:
        boto3.client("sqs").delete_message(
            QueueUrl=stack.ref("TrainingWorkQueue"), ReceiptHandle=message["ReceiptHandle"]
        )
    return result


def import_items(stack: Stack, import_id: str) -> dict[str, dict[str, Any]]:
    return {i["sk"]: i for i in stack.items("TrainingTable") if i["pk"] == f"IMPORT#{import_id}"}


def test_an_import_runs_in_chunks_with_progress_and_a_redelivered_chunk_changes_nothing(
    stack: Stack, training: Any
) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    course_a = catalogue(stack, training)["courses"]["a"]["lms_course_id"]
    header = "learner_email,lms_course_id,result,completed_at,score"
    rows = [f"{ada['email']},{course_a},passed,2026-11-{day:02d},{60 + day}" for day in range(1, 10)]
    rows[4] = rows[1]  # a repeat of an earlier row, in another chunk
    rows[7] = f"not-an-email,{course_a},passed,2026-11-20,"
    body = {"file_name": f"chunks-{uuid.uuid4().hex[:6]}.csv"}
    status, created = call(stack, training, "POST", "/training/imports", body=body, claims=VENDOR)
    assert status == 201, created
    boto3.client("s3").put_object(
        Bucket=stack.ref("TrainingImportBucket"),
        Key=created["upload"]["fields"]["key"],
        Body="\n".join([header, *rows]).encode(),
        ContentType="text/csv",
    )
    import_id, path = created["import_id"], {"import_id": created["import_id"]}
    status, queued = call(
        stack, training, "POST", "/training/imports/{import_id}/submission", path, body={}, claims=VENDOR
    )
    assert status == 202, queued
    consumer = training[1].service()
    consumer.chunk_rows = 3  # nine rows: three chunks
    try:
        [first] = import_messages(stack, import_id)
        assert run_chunk(stack, training, first) == {"batchItemFailures": []}
        status, progress = call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)
        assert status == 200 and (progress["status"], progress["rows_processed"], progress["total_rows"]) == (
            "processing",
            3,
            9,
        )
        assert progress["rows"] == [] and "file_digest" not in progress and "advanced_by" not in progress
        before = import_items(stack, import_id)
        assert sorted(before) == ["IMPORT", "ROWS#00000"]

        run_chunk(stack, training, first)  # the same message again (a redelivery): nothing recorded, nothing sent
        [second] = import_messages(stack, import_id)  # the one next chunk the first delivery sent
        assert import_items(stack, import_id) == before
        assert json.loads(second["Body"])["start_row"] == 3

        run_chunk(stack, training, second, RunningLow(rows=2))  # time runs low after two rows: a shorter chunk
        assert sorted(import_items(stack, import_id)) == ["IMPORT", "ROWS#00000", "ROWS#00003"]
        [third] = import_messages(stack, import_id)
        assert json.loads(third["Body"])["start_row"] == 5
        run_chunk(stack, training, third)
        [last] = import_messages(stack, import_id)
        run_chunk(stack, training, last)
        assert not import_messages(stack, import_id)
    finally:
        consumer.chunk_rows = 500
    status, report = call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)
    assert report["status"] == "completed" and report["total_rows"] == report["rows_processed"] == 9
    statuses = ["accepted"] * 9
    statuses[4], statuses[7] = "duplicate", "invalid"
    assert [(r["row"], r["status"]) for r in report["rows"]] == list(zip(range(2, 11), statuses, strict=True))
    assert report["counts"] == {"accepted": 7, "duplicate": 1, "invalid": 1}
    assert sorted(import_items(stack, import_id)) == ["IMPORT", "ROWS#00000", "ROWS#00003", "ROWS#00005", "ROWS#00008"]
    completions = my_training(stack, training, ada)["completions"]
    assert len(completions) == 7 and all(c["source"] == "csv" for c in completions)
    assert len(outbox_events(stack, "TrainingCompleted", learner_email=ada["email"])) == 7


def test_two_deliveries_of_one_chunk_on_dynamodb_advance_it_once(
    stack: Stack, training: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    course_a = catalogue(stack, training)["courses"]["a"]["lms_course_id"]
    rows = [f"{people['ada']['email']},{course_a},passed,2026-11-{day:02d}," for day in range(1, 5)]
    body = {"file_name": f"twins-{uuid.uuid4().hex[:6]}.csv"}
    status, created = call(stack, training, "POST", "/training/imports", body=body, claims=VENDOR)
    assert status == 201, created
    boto3.client("s3").put_object(
        Bucket=stack.ref("TrainingImportBucket"),
        Key=created["upload"]["fields"]["key"],
        Body="\n".join(["learner_email,lms_course_id,result,completed_at", *rows]).encode(),
        ContentType="text/csv",
    )
    import_id, path = created["import_id"], {"import_id": created["import_id"]}
    call(stack, training, "POST", "/training/imports/{import_id}/submission", path, body={}, claims=VENDOR)
    [message] = import_messages(stack, import_id)
    consumer = training[1].service()
    monkeypatch.setattr(consumer, "chunk_rows", 2)
    record, calls, twins = consumer.repository.record_import_chunk, [], []

    def twin_first(job: Any, chunk: Any) -> None:
        calls.append(job.advanced_by)
        if len(calls) == 1:  # a twin of the message (another sent id) processes the same rows and records first
            body = json.loads(message["Body"]) | {"sent_id": "imq_twin"}
            twins.append(training[1].handle_message(body, LambdaContext()))
        record(job, chunk)

    monkeypatch.setattr(consumer.repository, "record_import_chunk", twin_first)
    assert run_chunk(stack, training, message) == {"batchItemFailures": []}
    assert twins == ["imported rows 1 to 2 of 4"] and len(calls) == 2
    [second] = import_messages(stack, import_id)  # one next chunk: the delivery that lost recorded nothing
    assert json.loads(second["Body"])["start_row"] == 2
    items = import_items(stack, import_id)
    assert sorted(items) == ["IMPORT", "ROWS#00000"] and items["IMPORT"]["advanced_by"] == "imq_twin"
    monkeypatch.setattr(consumer.repository, "record_import_chunk", record)
    run_chunk(stack, training, second)
    status, report = call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)
    assert report["status"] == "completed" and [r["status"] for r in report["rows"]] == ["accepted"] * 4


# ------------------------------------------------------------------ the review list
def test_unmatched_completions_are_reviewed_assigned_or_discarded(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    now = datetime.now(UTC) - timedelta(hours=1)
    personal, bot = f"ada-{uuid.uuid4().hex[:6]}@gmail.example", f"bot-{uuid.uuid4().hex[:6]}@lms.example"
    assert deliver(stack, training, setup, personal, "a", now) == {"status": "review"}
    assert deliver(stack, training, setup, bot, "a", now) == {"status": "review"}
    items: list[dict[str, Any]] = []
    cursor = None
    while True:  # every page (other tests leave items too)
        status, page = call(
            stack,
            training,
            "GET",
            "/training/review",
            claims=VENDOR,
            query={"limit": "50", **({"cursor": cursor} if cursor else {})},
        )
        assert status == 200
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    mine = {i["learner_email"]: i for i in items if i["learner_email"] in (personal, bot)}
    assert mine[personal]["reason"] == "unknown_learner" and "dedup_key" not in mine[personal]
    assign = {"item_id": mine[personal]["item_id"]}
    status, error = call(
        stack,
        training,
        "POST",
        "/training/review/{item_id}/assignment",
        assign,
        body={"learner_email": f"nobody-{uuid.uuid4().hex[:6]}@x.com"},
        claims=VENDOR,
    )
    assert status == 400 and error["errors"][0]["field"] == "learner_email"
    status, assigned = call(
        stack,
        training,
        "POST",
        "/training/review/{item_id}/assignment",
        assign,
        body={"learner_email": ada["email"].upper()},
        claims=VENDOR,
    )
    assert status == 200 and assigned["status"] == "assigned" and assigned["assigned_to"] == ada["email"], assigned
    status, error = call(
        stack, training, "POST", "/training/review/{item_id}/discard", assign, body={"reason": "late"}, claims=VENDOR
    )
    assert status == 409 and error["code"] == "invalid_state"
    discard = {"item_id": mine[bot]["item_id"]}
    status, discarded = call(
        stack,
        training,
        "POST",
        "/training/review/{item_id}/discard",
        discard,
        body={"reason": "The LMS's test account."},
        claims=VENDOR,
    )
    assert (
        status == 200
        and discarded["status"] == "discarded"
        and discarded["discard_reason"] == "The LMS's test account."
    )
    [completion] = my_training(stack, training, ada)["completions"]
    assert completion["source"] == "review" and completion["course_id"] == setup["courses"]["a"]["course_id"]
    status, after = call(stack, training, "GET", "/training/review", claims=VENDOR, query={"limit": "50"})
    assert not {i["item_id"] for i in after["items"]} & {mine[personal]["item_id"], mine[bot]["item_id"]}
    assert call(stack, training, "GET", "/training/review", claims=VENDOR, query={"cursor": "bm9wZQ"})[0] == 400


# ------------------------------------------------------------------ awards
def test_a_certification_is_earned_reminded_and_expires_on_its_timer(stack: Stack, training: Any) -> None:
    from training.domain.common import add_months

    _, people = partner(stack, training, ("ada", "partner-user"), ("boss", "partner-admin"))
    ada, boss = people["ada"], people["boss"]
    setup = catalogue(stack, training, validity=1)
    now = datetime.now(UTC).replace(microsecond=0)
    passed_at = add_months(now, -1) + timedelta(seconds=25)  # one calendar month of validity ends 25 s from now
    if add_months(passed_at, 1) - now != timedelta(seconds=25):
        pytest.skip("today is a day the previous month lacks")
    deliver(stack, training, setup, ada["email"], "a", passed_at - timedelta(seconds=1))
    deliver(stack, training, setup, ada["email"], "b", passed_at)
    certification_id = setup["certification"]["certification_id"]
    [earned] = outbox_events(stack, "CertificationEarned", certification_id=certification_id)
    validate(bus_envelope("prm.training", "CertificationEarned", earned))
    assert earned["holder_email"] == ada["email"] and earned["renewal"] is False
    [held] = my_training(stack, training, ada)["certifications"]
    assert held["status"] == "active" and held["expires_at"] == earned["expires_at"]
    status, listed = call(stack, training, "GET", "/training/people", claims=boss)
    [mine] = [c for c in listed["certifications"] if c["certification_id"] == certification_id]
    assert status == 200 and [h["email"] for h in mine["holders"]] == [ada["email"]]
    assert [h["name"] for h in mine["holders"]] == ["Ada"]  # the person's name, not the certification's

    def expired() -> bool:
        return bool(outbox_events(stack, "CertificationExpired", certification_id=certification_id))

    flush(stack, training, until=expired, timeout=60)
    [event] = outbox_events(stack, "CertificationExpired", certification_id=certification_id)
    validate(bus_envelope("prm.training", "CertificationExpired", event))
    assert event["award_id"] == earned["award_id"] and event["expired_at"] == earned["expires_at"]
    assert my_training(stack, training, ada)["certifications"][0]["status"] == "expired"
    flush(stack, training)
    name = setup["certification"]["name"]
    subjects = [(m.subject, m.destinations["ToAddresses"]) for m in stack.sent_mail() if name in m.subject]
    assert (f"Certified: {name}", [ada["email"]]) in subjects
    assert (f"Certification expired: {name}", [ada["email"]]) in subjects
    reminders = [to for subject, to in subjects if "expires in 1 day" in subject]  # 6 s before: "1 day" at least
    # the 30-day offset had passed when it was earned: one reminder at once, then the 6-second one as scheduled
    assert sorted(reminders) == sorted([[ada["email"]], [boss["email"]]] * 2), subjects
    assert len([s for s in subjects if s[0].startswith("Certified")]) == 1  # redeliveries mailed nothing more


def test_a_completion_keeps_the_latest_pass_per_course_and_earns_from_those_items(stack: Stack, training: Any) -> None:
    """The pass items on DynamoDB: written with the newer pass only (a late older row leaves it), and what earns."""
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]["email"]
    setup = catalogue(stack, training)
    now = datetime.now(UTC).replace(microsecond=0)

    def kept(course: str) -> list[dict[str, Any]]:
        course_id = setup["courses"][course]["course_id"]
        return [i for i in stack.items("TrainingTable") if i["pk"] == f"EMAIL#{ada}" and i["sk"].endswith(course_id)]

    deliver(stack, training, setup, ada, "a", now - timedelta(days=3))
    [latest] = kept("a")
    assert latest["entity"] == "pass" and latest["completed_at"] == iso(now - timedelta(days=3))
    deliver(stack, training, setup, ada, "a", now - timedelta(days=40))  # a late older row
    deliver(stack, training, setup, ada, "a", now - timedelta(days=5), passed=False)  # not a pass
    assert kept("a") == [latest]
    deliver(stack, training, setup, ada, "b", now - timedelta(days=1))
    certification_id = setup["certification"]["certification_id"]
    [earned] = outbox_events(stack, "CertificationEarned", certification_id=certification_id)
    assert earned["holder_email"] == ada and earned["earned_at"] == iso(now - timedelta(days=1))
    assert [i["completed_at"] for i in kept("b")] == [iso(now - timedelta(days=1))]


def test_a_late_old_pass_earns_with_an_older_not_latest_pass_of_the_other_course(stack: Stack, training: Any) -> None:
    """A backfill: B was passed 400 days ago and again 10 days ago; a pass of A from 405 days ago arrives last. Within a
    6-month window only B's older pass is its partner: the time-sorted pass log (PASSLOG# items, read by Limit-1
    key ranges) finds it, so the certification is earned from that set (and expires 60 months after it)."""
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]["email"]
    setup = catalogue(stack, training)
    body = {
        "name": f"Backfilled {uuid.uuid4().hex[:8]}",
        "required_course_ids": [setup["courses"]["a"]["course_id"], setup["courses"]["b"]["course_id"]],
        "validity_months": 60,
        "completion_window_months": 6,
    }
    status, certification = call(stack, training, "POST", "/training/certifications", body=body, claims=VENDOR)
    assert status == 201, certification
    now = datetime.now(UTC).replace(microsecond=0)
    b_then, b_since, a_late = (now - timedelta(days=d) for d in (400, 10, 405))
    deliver(stack, training, setup, ada, "b", b_then)
    deliver(stack, training, setup, ada, "b", b_since)
    assert outbox_events(stack, "CertificationEarned", certification_id=certification["certification_id"]) == []
    deliver(stack, training, setup, ada, "a", a_late)
    [earned] = outbox_events(stack, "CertificationEarned", certification_id=certification["certification_id"])
    assert earned["holder_email"] == ada and earned["earned_at"] == iso(b_then) and earned["renewal"] is False
    log = sorted(
        i["completed_at"]
        for i in stack.items("TrainingTable")
        if i["pk"] == f"EMAIL#{ada}" and i.get("entity") == "pass-log"
    )
    assert log == sorted(iso(t) for t in (b_then, b_since, a_late))
    # the 12-month certification of the same courses: that set would have expired already, so nothing is earned
    assert (
        outbox_events(stack, "CertificationEarned", certification_id=setup["certification"]["certification_id"]) == []
    )


def test_removal_withdraws_the_award_and_the_learner_no_longer_matches(stack: Stack, training: Any) -> None:
    partner_id, people = partner(stack, training, ("ada", "partner-user"), ("boss", "partner-admin"))
    ada, boss = people["ada"], people["boss"]
    _, others = partner(stack, training, ("eve", "partner-admin"))
    setup = catalogue(stack, training)
    now = datetime.now(UTC) - timedelta(hours=1)
    deliver(stack, training, setup, ada["email"], "a", now - timedelta(days=3))
    deliver(stack, training, setup, ada["email"], "b", now)
    certification_id = setup["certification"]["certification_id"]
    [earned] = outbox_events(stack, "CertificationEarned", certification_id=certification_id)
    # another partner's admin sees none of it
    status, theirs = call(stack, training, "GET", "/training/people", claims=others["eve"])
    assert status == 200 and all(
        not c["holders"] for c in theirs["certifications"] if c["certification_id"] == certification_id
    )
    assert my_training(stack, training, others["eve"])["certifications"] == []
    assert call(stack, training, "GET", "/training/people", claims=ada)[0] == 403

    send(
        stack,
        onboarding_event(
            "PartnerUserRemoved",
            partner_id,
            user_email=ada["email"],
            removed_by=boss["email"],
            reason="removed",
            removed_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        ),
    )
    flush(
        stack,
        training,
        until=lambda: bool(outbox_events(stack, "CertificationWithdrawn", certification_id=certification_id)),
    )
    [withdrawn] = outbox_events(stack, "CertificationWithdrawn", certification_id=certification_id)
    validate(bus_envelope("prm.training", "CertificationWithdrawn", withdrawn))
    assert withdrawn["award_id"] == earned["award_id"] and withdrawn["reason"] == "holder_removed"
    status, listed = call(stack, training, "GET", "/training/people", claims=boss)
    [mine] = [c for c in listed["certifications"] if c["certification_id"] == certification_id]
    assert mine["holders"] == []
    assert deliver(stack, training, setup, ada["email"], "r", datetime.now(UTC)) == {"status": "review"}
    flush(stack, training)
    assert len(outbox_events(stack, "CertificationWithdrawn", certification_id=certification_id)) == 1


def test_posts_are_idempotent_with_a_key(stack: Stack, training: Any) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": f"LMS {uuid.uuid4().hex[:6]}"}
    first = stack.call(training[0].app, "POST", "/training/connections", body=body, claims=VENDOR, headers=key)[:2]
    again = stack.call(training[0].app, "POST", "/training/connections", body=body, claims=VENDOR, headers=key)[:2]
    assert first == again and first[0] == 201
    assert (
        stack.call(
            training[0].app, "POST", "/training/connections", body={"name": "other"}, claims=VENDOR, headers=key
        )[0]
        == 422
    )


def test_each_import_created_without_a_key_is_a_new_import_and_a_key_replays(stack: Stack, training: Any) -> None:
    body = {"file_name": "weekly.csv"}
    first = call(stack, training, "POST", "/training/imports", body=body, claims=VENDOR)
    second = call(stack, training, "POST", "/training/imports", body=body, claims=VENDOR)
    assert first[0] == second[0] == 201
    assert first[1]["import_id"] != second[1]["import_id"]  # the second upload must not overwrite the first's object
    assert first[1]["upload"]["fields"]["key"] != second[1]["upload"]["fields"]["key"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    keyed = [
        stack.call(training[0].app, "POST", "/training/imports", body=body, claims=VENDOR, headers=key)[:2]
        for _ in range(2)
    ]
    assert keyed[0][0] == 201 and keyed[0] == keyed[1]  # a retry with the same key replays the same import


def test_two_passes_arriving_at_once_earn_the_certification_exactly_once(stack: Stack, training: Any) -> None:
    """The learner's record is one aggregate: the second writer re-reads and sees the first pass."""
    import threading

    from training.incoming import IncomingCompletion

    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    service = training[0].service()
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def complete(course: str) -> None:
        incoming = IncomingCompletion(
            source="webhook",
            dedup_key=f"wh:{setup['connection']['connection_id']}:race-{course}-{uuid.uuid4().hex}",
            learner_email=ada["email"],
            lms_course_id=setup["courses"][course]["lms_course_id"],
            passed=True,
            completed_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        try:
            start.wait()
            service.receive(setup["connection"]["connection_id"], incoming)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=complete, args=(c,)) for c in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    certification_id = setup["certification"]["certification_id"]
    assert len(outbox_events(stack, "CertificationEarned", certification_id=certification_id)) == 1
    assert len(my_training(stack, training, ada)["completions"]) == 2


def test_replaying_an_earned_event_after_the_dedup_records_expired_mails_and_schedules_nothing(
    stack: Stack, training: Any
) -> None:
    _, people = partner(stack, training, ("ada", "partner-user"))
    ada = people["ada"]
    setup = catalogue(stack, training)
    now = datetime.now(UTC) - timedelta(hours=1)
    deliver(stack, training, setup, ada["email"], "a", now)
    deliver(stack, training, setup, ada["email"], "b", now)
    flush(stack, training)
    name = setup["certification"]["name"]
    assert [m.subject for m in stack.sent_mail() if name in m.subject] == [f"Certified: {name}"]
    schedules = boto3.client("scheduler").list_schedules(GroupName="prm-dev-timers")["Schedules"]
    dynamodb, table = boto3.client("dynamodb"), stack.ref("TrainingTable")
    expired = 0
    for item in dynamodb.scan(TableName=table)["Items"]:  # the de-duplication records expired
        if not item["pk"]["S"][:1].isupper():  # Powertools' keys: `<function>.<operation>#<hash>`
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
            expired += 1
    assert expired
    [earned] = outbox_events(stack, "CertificationEarned", certification_id=setup["certification"]["certification_id"])
    send(stack, bus_envelope("prm.training", "CertificationEarned", earned))
    flush(stack, training)
    assert [m.subject for m in stack.sent_mail() if name in m.subject] == [f"Certified: {name}"]
    assert boto3.client("scheduler").list_schedules(GroupName="prm-dev-timers")["Schedules"] == schedules


def test_partner_routes_require_the_current_programme_agreement(stack: Stack, training: Any) -> None:
    from tests.support.factories import agreement_accepted, agreement_published

    _, people = partner(stack, training, ("ada", "partner-admin"))
    ada = people["ada"]
    version = f"training-{uuid.uuid4().hex[:8]}"
    send(
        stack, agreement_published(version, datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    )
    flush(stack, training)
    for path in ("/training/me", "/training/people", "/training/courses", "/training/certifications"):
        status, error = call(stack, training, "GET", path, claims=ada)
        assert status == 403 and error["code"] == "agreement_required", (path, status, error)
    assert call(stack, training, "GET", "/training/courses", claims=VENDOR)[0] == 200  # vendor staff: never gated
    send(stack, agreement_accepted(ada, version))
    flush(stack, training)
    assert call(stack, training, "GET", "/training/me", claims=ada)[0] == 200


# ------------------------------------------------------------------ the vendor admin's lists
def _all_pages(stack: Stack, training: Any, path: str, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        status, page = call(stack, training, "GET", path, claims=VENDOR, query=query)
        assert status == 200, page
        assert len(page["items"]) <= limit
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_connections_are_listed_by_index_newest_first_without_secrets(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("clerk", "partner-user"))
    tag = uuid.uuid4().hex[:8]
    made = []
    for n in range(3):
        status, made_one = call(
            stack, training, "POST", "/training/connections", body={"name": f"LMS {tag} {n}"}, claims=VENDOR
        )
        assert status == 201, made_one
        made.append(made_one)
    status, rotated = call(
        stack,
        training,
        "POST",
        "/training/connections/{connection_id}/secrets",
        {"connection_id": made[0]["connection_id"]},
        body={},
        claims=VENDOR,
    )
    assert status == 201, rotated
    pages = _all_pages(stack, training, "/training/connections", 2)
    listed = [c for page in pages for c in page]
    assert len(pages) >= 2 and len({c["connection_id"] for c in listed}) == len(listed)
    keys = [(c["created_at"], c["connection_id"]) for c in listed]
    assert keys == sorted(keys, reverse=True)  # newest first
    mine = {c["connection_id"]: c for c in listed if c["name"].startswith(f"LMS {tag}")}
    assert set(mine) == {m["connection_id"] for m in made}
    first = mine[made[0]["connection_id"]]
    assert set(first) == {"connection_id", "name", "created_at", "created_by", "secrets"}
    assert first["created_by"] == VENDOR["email"]
    assert [set(s) for s in first["secrets"]] == [{"created_at", "retires_at"}] * 2
    assert first["secrets"][0]["retires_at"] is None and first["secrets"][1]["retires_at"] is not None
    text = json.dumps(listed)
    assert made[0]["secret"] not in text and rotated["secret"] not in text and "whsec_" not in text
    status, error = call(stack, training, "GET", "/training/connections", claims=people["clerk"])
    assert status == 403 and error["code"] == "forbidden"
    for query, field in [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit")]:
        status, error = call(stack, training, "GET", "/training/connections", claims=VENDOR, query=query)
        assert status == 400 and [e["field"] for e in error["errors"]] == [field], (query, error)


def test_imports_are_listed_by_index_newest_first_in_the_import_view(stack: Stack, training: Any) -> None:
    _, people = partner(stack, training, ("boss", "partner-admin"))
    made = []
    for n in range(3):
        status, job = call(
            stack, training, "POST", "/training/imports", body={"file_name": f"week-{n}.csv"}, claims=VENDOR
        )
        assert status == 201, job
        made.append(job["import_id"])
    pages = _all_pages(stack, training, "/training/imports", 2)
    listed = [j for page in pages for j in page]
    keys = [(j["created_at"], j["import_id"]) for j in listed]
    assert len(pages) >= 2 and keys == sorted(keys, reverse=True)
    assert [j["import_id"] for j in listed if j["import_id"] in made] == made[::-1]
    status, one = call(stack, training, "GET", "/training/imports/{import_id}", {"import_id": made[0]}, claims=VENDOR)
    assert status == 200
    [listed_one] = [j for j in listed if j["import_id"] == made[0]]
    assert listed_one == {k: v for k, v in one.items() if k not in ("rows", "offset")}
    assert listed_one["status"] == "awaiting_upload" and "key" not in listed_one and "created_by" not in listed_one
    status, error = call(stack, training, "GET", "/training/imports", claims=people["boss"])
    assert status == 403 and error["code"] == "forbidden"
    # a cursor of another list (connections') is refused as this list's, not sent to DynamoDB
    for name in ("one", "two"):
        call(stack, training, "POST", "/training/connections", body={"name": f"Cursor {name}"}, claims=VENDOR)
    status, page = call(stack, training, "GET", "/training/connections", claims=VENDOR, query={"limit": "1"})
    foreign = page["next_cursor"]
    assert status == 200 and foreign
    for query, field in [({"cursor": foreign}, "cursor"), ({"cursor": "e30"}, "cursor"), ({"limit": "51"}, "limit")]:
        status, error = call(stack, training, "GET", "/training/imports", claims=VENDOR, query=query)
        assert status == 400 and [e["field"] for e in error["errors"]] == [field], (query, error)
