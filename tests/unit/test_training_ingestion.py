"""Training's ingestion edges, pure (no AWS): Standard Webhooks verification (signatures, key rotation, timestamps,
malformed headers), the `course.completed` payload, xAPI statements (the cmi5 rules, scores, JSON paths, nasty
input) and CSV imports (file-level refusals, per-row reasons, formula cells, de-duplication keys)."""

from __future__ import annotations

import base64
import copy
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from shared.errors import PayloadTooLarge, Unauthorized, ValidationFailed
from training.csv_rows import parse_csv, read_csv
from training.incoming import IncomingCompletion
from training.webhooks import UNVERIFIED, completion_from_webhook, verify
from training.xapi import parse_statements

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"first-secret-32-bytes-long-12345").decode()
ROTATED = "whsec_" + base64.b64encode(b"second-secret-32-bytes-long-1234").decode()
STRANGER = "whsec_" + base64.b64encode(b"someone-else-32-bytes-long-12345").decode()
CONNECTION = "con_01jdexample"
STATEMENT_ID = "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
COURSE_IRI = "https://lms.example.com/courses/networking-101"
FULL_WIDTH_SECONDS = "\uff11\uff17" + "\uff10" * 8  # digits float() reads, but not an integer header


def fields_of(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


# ====================================================================== webhooks: verification
def webhook_body(**data: Any) -> bytes:
    payload = {
        "type": "course.completed",
        "timestamp": "2026-11-26T11:59:00Z",
        "data": {
            "learner_email": "Ann@Partner.Example",
            "lms_course_id": "net-101",
            "passed": True,
            "score_scaled": 0.9,
            "completed_at": "2026-11-26T11:58:00Z",
        }
        | data,
    }
    return json.dumps(payload).encode()


def signed_headers(
    body: bytes, secret: str = SECRET, *, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at: datetime | None = None
) -> dict[str, str]:
    moment = at or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
    }


def test_a_correctly_signed_delivery_answers_its_payload() -> None:
    body = webhook_body()
    payload = verify([SECRET], body, signed_headers(body))
    assert payload == json.loads(body)


def test_header_names_are_case_insensitive() -> None:
    body = webhook_body()
    headers = {key.title(): value for key, value in signed_headers(body).items()}
    assert "Webhook-Signature" in headers
    assert verify([SECRET], body, headers)["type"] == "course.completed"


def test_a_signature_by_another_secret_is_unauthorized() -> None:
    body = webhook_body()
    with pytest.raises(Unauthorized) as error:
        verify([SECRET], body, signed_headers(body, STRANGER))
    assert error.value.message == UNVERIFIED


@pytest.mark.parametrize("signer", [SECRET, ROTATED])
def test_rotation_every_active_secret_verifies(signer: str) -> None:
    body = webhook_body()
    assert verify([SECRET, ROTATED], body, signed_headers(body, signer))["data"]["lms_course_id"] == "net-101"


def test_rotation_a_retired_secret_no_longer_verifies() -> None:
    body = webhook_body()
    with pytest.raises(Unauthorized):
        verify([ROTATED], body, signed_headers(body, SECRET))


def test_no_active_secret_is_unauthorized() -> None:
    body = webhook_body()
    with pytest.raises(Unauthorized):
        verify([], body, signed_headers(body))


@pytest.mark.parametrize("broken", ["", "whsec_", "not base64 at all!", "whsec_ünïcödé", "whsec_a"])
def test_an_unusable_secret_neither_escapes_nor_hides_the_next_one(broken: str) -> None:
    body = webhook_body()
    with pytest.raises(Unauthorized):
        verify([broken], body, signed_headers(body))
    assert verify([broken, SECRET], body, signed_headers(body))["type"] == "course.completed"


@pytest.mark.parametrize(("offset", "accepted"), [(-360, False), (360, False), (-240, True), (240, True)])
def test_timestamps_more_than_five_minutes_off_are_refused(offset: int, accepted: bool) -> None:
    body = webhook_body()
    headers = signed_headers(body, at=datetime.now(UTC) + timedelta(seconds=offset))
    if accepted:
        assert verify([SECRET], body, headers)["type"] == "course.completed"
    else:
        with pytest.raises(Unauthorized) as error:
            verify([SECRET], body, headers)
        assert error.value.message == UNVERIFIED


def test_a_signature_over_a_different_body_is_unauthorized() -> None:
    body = webhook_body()
    tampered = webhook_body(passed=False)
    with pytest.raises(Unauthorized):
        verify([SECRET], tampered, signed_headers(body))


def test_a_signature_for_another_message_id_is_unauthorized() -> None:
    body = webhook_body()
    headers = signed_headers(body) | {"webhook-id": "msg_other"}
    with pytest.raises(Unauthorized):
        verify([SECRET], body, headers)


def test_one_matching_signature_among_several_is_enough() -> None:
    body = webhook_body()
    headers = signed_headers(body)
    stranger = signed_headers(body, STRANGER)["webhook-signature"]
    headers["webhook-signature"] = f"{stranger} v1,bm90LWEtc2lnbmF0dXJl {headers['webhook-signature']}"
    assert verify([SECRET], body, headers)["type"] == "course.completed"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_unauthorized(missing: str) -> None:
    body = webhook_body()
    headers = signed_headers(body)
    del headers[missing]
    with pytest.raises(Unauthorized) as error:
        verify([SECRET], body, headers)
    assert error.value.message == UNVERIFIED


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-timestamp", "not-a-number"),
        ("webhook-timestamp", ""),
        ("webhook-timestamp", "nan"),
        ("webhook-timestamp", "inf"),
        ("webhook-timestamp", "-1"),
        ("webhook-timestamp", "1e9"),
        ("webhook-timestamp", "99999999999999999999999"),
        ("webhook-timestamp", FULL_WIDTH_SECONDS),
        ("webhook-signature", "v1,!!!not-base64!!!"),
        ("webhook-signature", "v1,ÿ"),
        ("webhook-signature", "v1,\ud800"),
        ("webhook-signature", "v1," + "A" * 5000),
        ("webhook-signature", ""),
        ("webhook-id", ""),
        ("webhook-id", "id with spaces"),
        ("webhook-id", "x" * 201),
        ("webhook-id", "msg\n"),
    ],
)
def test_malformed_headers_are_unauthorized_never_another_error(header: str, value: str) -> None:
    body = webhook_body()
    headers = signed_headers(body) | {header: value}
    with pytest.raises(Unauthorized) as error:
        verify([SECRET], body, headers)
    assert (error.value.code, error.value.message) == ("unauthorized", UNVERIFIED)


def test_a_header_value_that_is_not_text_is_unauthorized() -> None:
    body = webhook_body()
    headers: dict[str, Any] = signed_headers(body) | {"webhook-timestamp": None}
    with pytest.raises(Unauthorized):
        verify([SECRET], body, headers)


def test_the_same_header_twice_in_different_case_is_unauthorized() -> None:
    body = webhook_body()
    headers = signed_headers(body) | {"Webhook-Id": "msg_other"}
    with pytest.raises(Unauthorized):
        verify([SECRET], body, headers)


def test_a_body_over_64_kb_is_too_large_before_any_signature_check() -> None:
    body = b'{"type": "' + b"x" * (64 * 1024) + b'"}'
    with pytest.raises(PayloadTooLarge):
        verify([SECRET], body, {})


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe\x00garbage", b"", b"[" * 60_000, b'{"a": 1' + b"1" * 5000 + b"}", b"[1, 2]", b'"text"'],
)
def test_a_signed_body_that_is_not_a_json_object_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationFailed) as error:
        verify([SECRET], body, signed_headers(body))
    assert list(fields_of(error)) == ["body"]


# ====================================================================== webhooks: the payload
def test_a_course_completed_payload_becomes_a_completion() -> None:
    payload = json.loads(webhook_body(completed_at="2026-11-26T12:30:00+01:00"))
    completion = completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert completion == IncomingCompletion(
        source="webhook",
        dedup_key=f"wh:{CONNECTION}:msg_1",
        learner_email="ann@partner.example",
        learner_ref=None,
        lms_course_id="net-101",
        passed=True,
        score_scaled=0.9,
        completed_at=datetime(2026, 11, 26, 11, 30, tzinfo=UTC),
    )


def test_the_score_is_optional_in_a_webhook() -> None:
    payload = json.loads(webhook_body())
    del payload["data"]["score_scaled"]
    completion = completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert completion is not None and completion.score_scaled is None


@pytest.mark.parametrize("event_type", ["course.started", "COURSE.COMPLETED", "user.created"])
def test_event_types_not_processed_are_ignored_not_refused(event_type: str) -> None:
    """A refusal would be retried by a Standard Webhooks sender, which may then disable the endpoint."""
    payload = json.loads(webhook_body()) | {"type": event_type, "data": {"whatever": [1, 2]}}
    assert completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW) is None


@pytest.mark.parametrize("event_type", [None, 7, "", ["course.completed"]])
def test_a_type_that_is_no_text_is_refused_naming_type(event_type: Any) -> None:
    payload = json.loads(webhook_body()) | {"type": event_type}
    with pytest.raises(ValidationFailed) as error:
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert list(fields_of(error)) == ["type"]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    payload = json.loads(webhook_body(nickname="ann", attempt={"n": 2})) | {"extra": 1}
    completion = completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert completion is not None and completion.learner_email == "ann@partner.example"


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("data", "0001-01-01T00:00:00+14:00", "data.completed_at"),  # before year 1 in UTC: was OverflowError
        ("data", "9999-12-31T23:59:59-14:00", "data.completed_at"),  # after year 9999 in UTC
        ("data", "1969-12-31T23:59:59Z", "data.completed_at"),
        ("top", "0001-01-01T00:00:00+14:00", "timestamp"),
        ("top", "9999-12-31T23:59:59-14:00", "timestamp"),
    ],
)
def test_a_moment_out_of_range_is_refused_by_name_not_an_overflow(where: str, value: str, field: str) -> None:
    payload = json.loads(webhook_body(completed_at=value) if where == "data" else webhook_body())
    if where == "top":
        payload["timestamp"] = value
    with pytest.raises(ValidationFailed) as error:
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert fields_of(error) == {field: "is out of range (from 1970 to 9999, in UTC)"}


def test_a_payload_without_type_is_refused_naming_type() -> None:
    payload = json.loads(webhook_body())
    del payload["type"]
    with pytest.raises(ValidationFailed) as error:
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert list(fields_of(error)) == ["type"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"learner_email": "not-an-email"}, "data.learner_email"),
        ({"learner_email": 12}, "data.learner_email"),
        ({"lms_course_id": ""}, "data.lms_course_id"),
        ({"lms_course_id": "x" * 201}, "data.lms_course_id"),
        ({"lms_course_id": "net 101"}, "data.lms_course_id"),
        ({"passed": "true"}, "data.passed"),
        ({"passed": 1}, "data.passed"),
        ({"score_scaled": 1.5}, "data.score_scaled"),
        ({"score_scaled": -1.01}, "data.score_scaled"),
        ({"score_scaled": "0.5"}, "data.score_scaled"),
        ({"score_scaled": float("nan")}, "data.score_scaled"),
        ({"completed_at": "2026-11-26T11:58:00"}, "data.completed_at"),  # no time zone
        ({"completed_at": 1764158280}, "data.completed_at"),
        ({"completed_at": "yesterday"}, "data.completed_at"),
        ({"completed_at": "2026-11-26T12:06:00Z"}, "data.completed_at"),  # beyond 5 minutes of skew
    ],
)
def test_a_malformed_webhook_field_is_refused_by_name(data: dict[str, Any], field: str) -> None:
    payload = json.loads(webhook_body()) | {}
    payload["data"] |= data
    with pytest.raises(ValidationFailed) as error:
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert field in fields_of(error)


def test_a_completion_four_minutes_ahead_is_clock_skew_and_accepted() -> None:
    payload = json.loads(webhook_body(completed_at="2026-11-26T12:04:00Z"))
    completion = completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert completion is not None and completion.completed_at == datetime(2026, 11, 26, 12, 4, tzinfo=UTC)


def test_missing_data_is_refused_and_unknown_top_level_fields_are_not_named() -> None:
    payload = json.loads(webhook_body()) | {"extra": 1}
    del payload["data"]
    with pytest.raises(ValidationFailed) as error:
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)
    assert fields_of(error) == {"data": "Field required"}


@pytest.mark.parametrize(("connection_id", "webhook_id"), [(CONNECTION, "a b"), (CONNECTION, ""), ("a:b", "msg_1")])
def test_identifiers_that_cannot_make_a_key_are_refused(connection_id: str, webhook_id: str) -> None:
    payload = json.loads(webhook_body())
    with pytest.raises(ValidationFailed):
        completion_from_webhook(payload, connection_id=connection_id, webhook_id=webhook_id, now=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "course.completed"},
        {"type": "course.completed", "timestamp": None, "data": None},
        {"type": "course.completed", "timestamp": [], "data": []},
        {"type": "course.completed", "timestamp": "x" * 100_000, "data": {"learner_email": "a" * 100_000}},
        {"type": "course.completed", "timestamp": {"$date": 1}, "data": {"passed": {"nested": [[[{}]]]}}},
        {
            "type": "course.completed",
            "timestamp": "2026-11-26T11:59:00Z",
            "data": {"completed_at": "2026-02-30T00:00Z"},
        },
        [],
        "course.completed",
        None,
    ],
)
def test_nasty_webhook_payloads_raise_only_validation_failed(payload: Any) -> None:
    with pytest.raises(ValidationFailed):
        completion_from_webhook(payload, connection_id=CONNECTION, webhook_id="msg_1", now=NOW)


# ====================================================================== xAPI
def statement(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": STATEMENT_ID,
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:Ann@Partner.Example"},
        "verb": {"id": PASSED, "display": {"en-US": "passed"}},
        "object": {"objectType": "Activity", "id": COURSE_IRI, "definition": {"name": {"en-US": "Networking"}}},
        "result": {"success": True, "completion": True, "score": {"scaled": 0.8}, "duration": "PT1H"},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
        "timestamp": "2026-11-26T11:00:00Z",
    }
    for key, value in changes.items():
        if value is ...:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def one(body: Any) -> IncomingCompletion:
    completions = parse_statements(body, connection_id=CONNECTION, now=NOW)
    assert len(completions) == 1
    return completions[0]


def refused(body: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as error:
        parse_statements(body, connection_id=CONNECTION, now=NOW)
    return fields_of(error)


def test_a_passed_statement_becomes_a_completion() -> None:
    assert one(statement()) == IncomingCompletion(
        source="xapi",
        dedup_key=f"xapi:{CONNECTION}:{STATEMENT_ID.lower()}",
        learner_email="ann@partner.example",
        learner_ref=None,
        lms_course_id=COURSE_IRI,
        passed=True,
        score_scaled=0.8,
        completed_at=datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
    )


def test_a_list_of_statements_answers_them_in_order() -> None:
    ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
    completions = parse_statements([statement(id=i) for i in ids], connection_id=CONNECTION, now=NOW)
    assert [c.dedup_key for c in completions] == [f"xapi:{CONNECTION}:{i}" for i in ids]


def test_the_dedup_key_ignores_the_case_of_the_statement_id() -> None:
    assert one(statement(id=STATEMENT_ID.lower())).dedup_key == one(statement(id=STATEMENT_ID.upper())).dedup_key


def test_fifty_statements_are_accepted_and_fifty_one_refused() -> None:
    batch = [statement(id=f"00000000-0000-4000-8000-{n:012d}") for n in range(51)]
    assert len(parse_statements(batch[:50], connection_id=CONNECTION, now=NOW)) == 50
    assert list(refused(batch)) == ["statements"]


def test_an_empty_list_is_refused() -> None:
    assert list(refused([])) == ["statements"]


def test_the_same_statement_id_twice_in_one_batch_is_refused() -> None:
    assert "statements[1].id" in refused([statement(), statement(id=STATEMENT_ID.lower())])


def test_a_completed_statement_is_not_a_pass_unless_success_is_true() -> None:
    assert one(statement(verb={"id": COMPLETED}, result={"completion": True})).passed is False
    assert one(statement(verb={"id": COMPLETED}, result=...)).passed is False
    assert one(statement(verb={"id": COMPLETED}, result={"completion": True, "success": False})).passed is False
    assert one(statement(verb={"id": COMPLETED}, result={"completion": True, "success": True})).passed is True


def test_a_failed_statement_is_a_completion_that_did_not_pass() -> None:
    completion = one(statement(verb={"id": FAILED}, result={"success": False, "score": {"scaled": -0.5}}))
    assert (completion.passed, completion.score_scaled) == (False, -0.5)


def test_an_account_named_by_email_is_that_learner() -> None:
    actor = {"account": {"homePage": "https://lms.example.com", "name": "Bob@Partner.Example"}}
    completion = one(statement(actor=actor))
    assert (completion.learner_email, completion.learner_ref) == ("bob@partner.example", None)


def test_an_account_not_named_by_email_keeps_its_raw_identity_for_review() -> None:
    actor = {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "user-4711"}}
    completion = one(statement(actor=actor))
    assert (completion.learner_email, completion.learner_ref) == (None, "https://lms.example.com|user-4711")


def test_without_timestamp_the_stored_time_is_the_completion_time() -> None:
    completion = one(statement(timestamp=..., stored="2026-11-25T08:30:00.123Z"))
    assert completion.completed_at == datetime(2026, 11, 25, 8, 30, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, "statement.timestamp"),  # was OverflowError: a 500
        ({"timestamp": "9999-12-31T23:59:59-14:00"}, "statement.timestamp"),
        ({"timestamp": "1969-07-20T20:17:00Z"}, "statement.timestamp"),
        ({"timestamp": ..., "stored": "0001-01-01T00:00:00+01:00"}, "statement.stored"),
    ],
)
def test_a_timestamp_out_of_range_is_refused_by_name(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_statements(statement(**changes), connection_id=CONNECTION, now=NOW)
    assert fields_of(error) == {field: "is out of range (from 1970 to 9999, in UTC)"}


def test_a_timestamp_without_offset_is_read_as_utc_and_offsets_are_converted() -> None:
    assert one(statement(timestamp="2026-11-26T10:00:00")).completed_at == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert one(statement(timestamp="2026-11-26T10:00:00.123456789-02:00")).completed_at == datetime(
        2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("score", "scaled"),
    [
        ({"raw": 8, "min": 0, "max": 10}, 0.8),
        ({"raw": 7, "min": -3, "max": 17}, 0.5),
        ({"raw": 0, "min": 0, "max": 100}, 0.0),
        ({"raw": 100, "min": 0, "max": 100}, 1.0),
        ({"raw": 1e308, "min": -1e308, "max": 1.7e308}, 2 / 2.7),
        ({"raw": 3, "min": 0, "max": 4, "scaled": 0.1}, 0.1),  # a given scaled score wins
        ({"min": 0, "max": 10}, None),
        ({}, None),
    ],
)
def test_a_raw_score_is_scaled_between_min_and_max(score: dict[str, float], scaled: float | None) -> None:
    result = one(statement(result={"success": True, "score": score})).score_scaled
    assert result == pytest.approx(scaled) if scaled is not None else result is None


def with_result(verb: str, result: Any) -> dict[str, Any]:
    return statement(verb={"id": verb}, result=result)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # verbs
        (statement(verb={"id": "http://adlnet.gov/expapi/verbs/attempted"}), "statement.verb.id"),
        (statement(verb={"id": "http://adlnet.gov/expapi/verbs/PASSED"}), "statement.verb.id"),
        (statement(verb={}), "statement.verb.id"),
        # cmi5 outcome rules
        (with_result(PASSED, {"success": False}), "statement.result.success"),
        (with_result(PASSED, {"completion": True}), "statement.result.success"),
        (with_result(PASSED, ...), "statement.result.success"),
        (with_result(FAILED, {"success": True}), "statement.result.success"),
        (with_result(FAILED, {}), "statement.result.success"),
        (with_result(COMPLETED, {"completion": False}), "statement.result.completion"),
        (with_result(PASSED, {"success": "true"}), "statement.result.success"),
        # scores (xAPI 4.1.5.1)
        (with_result(PASSED, {"success": True, "score": {"raw": 5}}), "statement.result.score.min"),
        (with_result(PASSED, {"success": True, "score": {"raw": 5, "min": 0}}), "statement.result.score.max"),
        (with_result(PASSED, {"success": True, "score": {"raw": 5, "max": 9}}), "statement.result.score.min"),
        (
            with_result(PASSED, {"success": True, "score": {"raw": -1, "min": 0, "max": 9}}),
            "statement.result.score.raw",
        ),
        (
            with_result(PASSED, {"success": True, "score": {"raw": 10, "min": 0, "max": 9}}),
            "statement.result.score.raw",
        ),
        (with_result(PASSED, {"success": True, "score": {"raw": 5, "min": 5, "max": 5}}), "statement.result.score.max"),
        (with_result(PASSED, {"success": True, "score": {"min": 9, "max": 1}}), "statement.result.score.max"),
        (with_result(PASSED, {"success": True, "score": {"scaled": 1.01}}), "statement.result.score.scaled"),
        (with_result(PASSED, {"success": True, "score": {"scaled": -2}}), "statement.result.score.scaled"),
        (with_result(PASSED, {"success": True, "score": {"scaled": "0.5"}}), "statement.result.score.scaled"),
        (with_result(PASSED, {"success": True, "score": {"scaled": True}}), "statement.result.score.scaled"),
        (
            with_result(PASSED, {"success": True, "score": {"raw": float("inf"), "min": 0, "max": 1}}),
            "statement.result.score.raw",
        ),
        (with_result(PASSED, {"success": True, "score": {"percent": 50}}), "statement.result.score.percent"),
        # id
        (statement(id=...), "statement.id"),
        (statement(id="not-a-uuid"), "statement.id"),
        (statement(id="6690e6c93ef04ed38b377f3964730bee"), "statement.id"),
        (statement(id=STATEMENT_ID + "\n"), "statement.id"),
        (statement(id=12), "statement.id"),
        # actor
        (
            statement(actor={"mbox": "mailto:a@x.example", "account": {"homePage": "https://l.example", "name": "a"}}),
            "statement.actor",
        ),
        (statement(actor={"name": "Nobody"}), "statement.actor"),
        (statement(actor={"mbox": "a@x.example"}), "statement.actor.mbox"),
        (statement(actor={"mbox": "mailto:not an email"}), "statement.actor.mbox"),
        (statement(actor={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}), "statement.actor.mbox_sha1sum"),
        (statement(actor={"openid": "https://id.example/ann"}), "statement.actor.openid"),
        (statement(actor={"objectType": "Group", "mbox": "mailto:team@x.example"}), "statement.actor.objectType"),
        (
            statement(actor={"account": {"homePage": "lms.example.com", "name": "u1"}}),
            "statement.actor.account.homePage",
        ),
        (
            statement(actor={"account": {"homePage": "https://lms.example.com", "name": "  "}}),
            "statement.actor.account.name",
        ),
        (
            statement(actor={"account": {"homePage": "https://lms.example.com", "name": "u\u202e1"}}),
            "statement.actor.account.name",
        ),
        (statement(actor={"account": {"homePage": "https://lms.example.com"}}), "statement.actor.account.name"),
        (statement(actor="mailto:a@x.example"), "statement.actor"),
        # object
        (statement(object={"objectType": "Agent", "id": COURSE_IRI}), "statement.object.objectType"),
        (statement(object={"objectType": "StatementRef", "id": STATEMENT_ID}), "statement.object.objectType"),
        (statement(object={"id": "networking-101"}), "statement.object.id"),
        (statement(object={"id": "https://lms.example.com/" + "c" * 200}), "statement.object.id"),
        (statement(object={"id": "https://lms.example.com/a course"}), "statement.object.id"),
        (statement(object=...), "statement.object"),
        # time
        (statement(timestamp=...), "statement.timestamp"),
        (statement(timestamp="26/11/2026"), "statement.timestamp"),
        (statement(timestamp="2026-02-30T10:00:00Z"), "statement.timestamp"),
        (statement(timestamp="2026-11-26T12:06:00Z"), "statement.timestamp"),  # beyond 5 minutes of skew
        (statement(timestamp=1764158280), "statement.timestamp"),
        (statement(timestamp=..., stored="soon"), "statement.stored"),
        # properties xAPI does not define
        (statement(mood="happy"), "statement.mood"),
        (statement(result={"success": True, "grade": "A"}), "statement.result.grade"),
    ],
)
def test_every_refusal_names_the_json_path(body: dict[str, Any], field: str) -> None:
    assert field in refused(body)


def test_in_a_batch_the_path_names_the_statement_index_and_the_whole_batch_is_refused() -> None:
    bad = statement(id="33333333-3333-4333-8333-333333333333", result={"success": True, "score": {"raw": 5, "max": 9}})
    batch = [statement(id="11111111-1111-4111-8111-111111111111"), statement(), bad]
    assert refused(batch) == {"statements[2].result.score.min": "is required with raw"}


def test_a_completion_four_minutes_ahead_is_clock_skew_and_accepted_in_xapi() -> None:
    assert one(statement(timestamp="2026-11-26T12:04:00Z")).completed_at == NOW + timedelta(minutes=4)


def test_a_statement_without_any_result_for_completed_is_accepted() -> None:
    assert one(statement(verb={"id": COMPLETED}, result=...)).score_scaled is None


NASTY_BODIES: list[Any] = [
    None,
    0,
    1.5,
    True,
    "statement",
    b"bytes",
    {},
    [None],
    [[]],
    [{}],
    {"id": None, "actor": None, "verb": None, "object": None},
    {"id": [], "actor": [], "verb": [], "object": [], "result": [], "timestamp": []},
    {"id": {}, "actor": {"mbox": {}}, "verb": {"id": {}}, "object": {"id": []}, "result": {"score": []}},
    statement(actor={"mbox": None, "account": None}),
    statement(actor={"account": "https://lms.example.com|u1"}),
    statement(actor={"account": {"homePage": None, "name": None}}),
    statement(actor={"mbox": "mailto:" + "a" * 100_000 + "@x.example"}),
    statement(verb={"id": "x" * 1_000_000}),
    statement(object={"id": COURSE_IRI, "definition": "not an object"}),
    statement(result={"success": None, "completion": "yes", "score": {"raw": "5", "min": None, "max": []}}),
    statement(result={"score": {"raw": 10**400, "min": 0, "max": 1}}),
    statement(result={"score": {"raw": float("nan"), "min": 0, "max": 1}}),
    statement(timestamp="9999-12-31T23:59:59Z"),
    statement(timestamp="0000-01-01T00:00:00Z"),
    statement(timestamp="2026-11-26T10:00:00+99:99"),
    statement(timestamp="\x00" * 10),
    statement(context=[1, 2, 3], attachments={"a": 1}, authority="x", version=1),
    {1: "int key", "id": STATEMENT_ID},
    [statement()] * 2 + [None] * 49,
    {"statements": [statement()]},
]


@pytest.mark.parametrize("body", NASTY_BODIES)
def test_nasty_xapi_bodies_raise_only_validation_failed(body: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_statements(body, connection_id=CONNECTION, now=NOW)
    assert error.value.errors


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["none", "bool", "int", "float", "str", "huge", "list", "dict"] if depth < 4 else ["none", "int", "str"]
    kind = rng.choice(kinds)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 10**30, -(10**30)])
    if kind == "float":
        return rng.choice([0.5, -1.5, 1e308, float("inf"), float("-inf"), float("nan")])
    if kind == "str":
        return rng.choice(
            ["", "mailto:", "mailto:a@b.example", COMPLETED, STATEMENT_ID, "\u202e", "\ud800", "2026-01-01"]
        )
    if kind == "huge":
        return "x" * rng.choice([201, 5000, 70_000])
    if kind == "list":
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(
            [
                "id",
                "actor",
                "mbox",
                "account",
                "verb",
                "object",
                "result",
                "score",
                "raw",
                "min",
                "max",
                "scaled",
                "success",
                "timestamp",
                "homePage",
                "name",
                "junk",
            ]
        ): _junk(rng, depth + 1)
        for _ in range(rng.randint(0, 4))
    }


def _mutated(rng: random.Random) -> Any:
    """A valid statement with one value somewhere inside replaced by junk (most failures hide one level down)."""
    body = copy.deepcopy(statement(result={"success": True, "score": {"raw": 3, "min": 0, "max": 4}}))
    node: Any = body
    while True:
        key = rng.choice(list(node))
        if isinstance(node[key], dict) and node[key] and rng.random() < 0.6:
            node = node[key]
            continue
        node[key] = _junk(rng)
        return body


def test_random_junk_raises_only_validation_failed_or_answers_completions() -> None:
    rng = random.Random(20261126)
    for _ in range(1500):
        body = _mutated(rng) if rng.random() < 0.7 else _junk(rng)
        try:
            completions = parse_statements(body, connection_id=CONNECTION, now=NOW)
        except ValidationFailed as error:
            assert error.errors, body
        else:
            assert all(isinstance(c, IncomingCompletion) for c in completions)


def test_a_connection_id_that_cannot_make_a_key_is_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_statements(statement(), connection_id="a:b", now=NOW)
    assert list(fields_of(error)) == ["connection_id"]


# ====================================================================== CSV
HEADER = "learner_email,lms_course_id,result,completed_at,score\n"


def rows(text: str, *, max_rows: int = 100) -> list[Any]:
    return parse_csv(text.encode(), max_rows=max_rows, now=NOW)


def test_a_good_file_answers_a_completion_per_row() -> None:
    data = (
        "\ufeffLearner_Email, LMS_Course_ID ,Result,Completed_At,Score\r\n"
        "Ann@Partner.Example,net-101,PASSED,2026-11-20,85\r\n"
        "bob@partner.example,net-102,failed,2026-11-20T14:05:00+01:00,\r\n"
        "cy@partner.example,net-103,Completed,2026-11-21T09:00:00,100\r\n"
    ).encode()
    outcomes = parse_csv(data, max_rows=3, now=NOW)
    assert [(o.row_number, o.error) for o in outcomes] == [(2, None), (3, None), (4, None)]
    first, second, third = (o.completion for o in outcomes)
    assert first is not None and second is not None and third is not None
    assert (first.source, first.learner_email, first.lms_course_id, first.passed, first.score_scaled) == (
        "csv",
        "ann@partner.example",
        "net-101",
        True,
        0.85,
    )
    assert first.completed_at == datetime(2026, 11, 20, tzinfo=UTC)  # a date is midnight UTC
    assert first.dedup_key.startswith("csv:") and len(first.dedup_key) == 4 + 64
    assert (second.passed, second.score_scaled, second.completed_at) == (
        False,
        None,
        datetime(2026, 11, 20, 13, 5, tzinfo=UTC),
    )
    assert (third.passed, third.score_scaled, third.completed_at) == (False, 1.0, datetime(2026, 11, 21, 9, tzinfo=UTC))


def test_columns_may_come_in_any_order_and_score_may_be_absent() -> None:
    [outcome] = rows("completed_at,result,lms_course_id,learner_email\n2026-11-20,passed,net-101,ann@x.example\n")
    assert outcome.completion is not None
    assert (outcome.completion.lms_course_id, outcome.completion.score_scaled) == ("net-101", None)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_csv(HEADER.encode() + "zoë@x.example,net-101,passed,2026-11-20,1\n".encode("latin-1"), max_rows=10)
    assert list(fields_of(error)) == ["file"]


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n  \n", ",,,\n"])
def test_a_file_without_header_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        rows(text)
    assert list(fields_of(error)) == ["header"]


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("ann@x.example,net-101,passed,2026-11-20\n", "missing column learner_email"),  # data where the header belongs
        ("learner_email,lms_course_id,result\n", "missing column completed_at"),
        ("learner_email,lms_course_id,result,completed_at,result\n", "column result appears twice"),
        ("learner_email;lms_course_id;result;completed_at\n", "separated by commas"),
    ],
)
def test_another_header_is_refused(header: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        rows(header + "ann@x.example,net-101,passed,2026-11-20\n")
    assert says in fields_of(error)["header"]


def test_unknown_columns_are_ignored_and_named() -> None:
    parsed = read_csv(
        b"Learner_Name,learner_email,lms_course_id,result,completed_at,grade,,note,note\n"
        b"Ann Lee,ann@x.example,net-101,passed,2026-11-20,A,,=formula,x\n",
        max_rows=10,
        now=NOW,
    )
    [outcome] = parsed.rows
    assert outcome.error is None and outcome.completion is not None
    assert outcome.completion.learner_email == "ann@x.example"
    assert parsed.ignored_columns == ("learner_name", "grade", "note")  # an ignored cell is never checked


def test_a_known_file_ignores_nothing() -> None:
    assert read_csv(HEADER.encode(), max_rows=10, now=NOW).ignored_columns == ()


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31", "0001-01-01", "1969-12-31T23:00:00Z"],
)
def test_a_date_out_of_range_makes_that_row_invalid_not_a_crash(value: str) -> None:
    outcomes = rows(HEADER + f"ann@x.example,net-101,passed,{value},\nbob@x.example,net-101,passed,2026-11-20,\n")
    assert [o.error for o in outcomes] == ["completed_at: is out of range (from 1970 to 9999, in UTC)", None]


def test_more_rows_than_allowed_is_refused_and_blank_rows_do_not_count() -> None:
    body = HEADER + "\n".join(f"u{n}@x.example,net-101,passed,2026-11-20," for n in range(3)) + "\n\n,,,,\n"
    assert len(rows(body, max_rows=3)) == 3
    with pytest.raises(ValidationFailed) as error:
        rows(body, max_rows=2)
    assert fields_of(error) == {"file": "more than 2 data rows"}


def test_a_header_only_file_has_no_rows() -> None:
    assert rows(HEADER) == []


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("not-an-email,net-101,passed,2026-11-20,", "learner_email: not a valid email address"),
        (",net-101,passed,2026-11-20,", "learner_email: is required"),
        ("ann@x.example,,passed,2026-11-20,", "lms_course_id: is required"),
        ("ann@x.example,net 101,passed,2026-11-20,", "lms_course_id: must not contain spaces"),
        ("ann@x.example," + "c" * 201 + ",passed,2026-11-20,", "lms_course_id: must be at most 200 characters"),
        ("ann@x.example,net-101,done,2026-11-20,", "result: must be passed, failed or completed"),
        ("ann@x.example,net-101,passed,yesterday,", "completed_at: must be an ISO date"),
        ("ann@x.example,net-101,passed,2026-02-30,", "completed_at: must be an ISO date"),
        ("ann@x.example,net-101,passed,20/11/2026,", "completed_at: must be an ISO date"),
        ("ann@x.example,net-101,passed,2026-11-26T12:06:00Z,", "completed_at: is in the future"),
        ("ann@x.example,net-101,passed,2026-11-27,", "completed_at: is in the future"),
        ("ann@x.example,net-101,passed,2026-11-20,101", "score: must be a number from 0 to 100"),
        ("ann@x.example,net-101,passed,2026-11-20,85%", "score: must be a number from 0 to 100"),
        ("ann@x.example,net-101,passed,2026-11-20,NaN", "score: must be a number from 0 to 100"),
        ("ann@x.example,net-101,passed,2026-11-20,1e2", "score: must be a number from 0 to 100"),
        ("ann@x.example,net-101,passed,2026-11-20,-5", "score: starts with '-' (a spreadsheet formula)"),
        ('=HYPERLINK("http://evil"),net-101,passed,2026-11-20,', "learner_email: starts with '='"),
        ("ann@x.example,+net-101,passed,2026-11-20,", "lms_course_id: starts with '+'"),
        ("ann@x.example,@SUM(A1),passed,2026-11-20,", "lms_course_id: starts with '@'"),
        ("ann@x.example,-2+3+cmd|' /C calc'!A0,passed,2026-11-20,", "lms_course_id: starts with '-'"),
        ("ann@x.example,  =1+1,passed,2026-11-20,", "lms_course_id: starts with '='"),
        ("ann@x.example,net-101,=passed,2026-11-20,", "result: starts with '='"),
        ("ann@x.example,net\x00101,passed,2026-11-20,", "lms_course_id: must not contain spaces or control"),
        ("ann@x.example,net-101,passed,2026-11-20,50,extra", "row: has 6 cells but the header has 5 columns"),
        ("ann@x.example,net-101", "result: is required; completed_at: is required"),
        ("ann@x.example,net-101,passed," + "2" * 1001 + ",", "completed_at: longer than 1000 characters"),
    ],
)
def test_a_bad_row_is_an_outcome_naming_the_column(row: str, says: str) -> None:
    [outcome] = rows(HEADER + row + "\n")
    assert outcome.completion is None and outcome.error is not None
    assert says in outcome.error


def test_every_bad_cell_of_a_row_is_named() -> None:
    [outcome] = rows(HEADER + "@x,net-101,maybe,2026-11-20,500\n")
    assert outcome.error == (
        "learner_email: starts with '@' (a spreadsheet formula); refused; "
        "result: must be passed, failed or completed; score: must be a number from 0 to 100"
    )


def test_bad_rows_do_not_stop_the_good_ones_and_keep_their_row_numbers() -> None:
    body = HEADER + (
        "ann@x.example,net-101,passed,2026-11-20,\n"
        "\n"
        'bad,"multi\nline",passed,2026-11-20,\n'
        "bob@x.example,net-101,passed,2026-11-20,\n"
    )
    outcomes = rows(body)
    assert [(o.row_number, o.completion is not None) for o in outcomes] == [(2, True), (4, False), (5, True)]


def test_trailing_empty_cells_and_surrounding_spaces_are_tolerated() -> None:
    [outcome] = rows(HEADER + " ann@x.example , net-101 , passed , 2026-11-20 , 50 ,,,\n")
    assert outcome.completion is not None
    assert (outcome.completion.learner_email, outcome.completion.lms_course_id, outcome.completion.score_scaled) == (
        "ann@x.example",
        "net-101",
        0.5,
    )


def test_a_completion_four_minutes_ahead_is_clock_skew_and_accepted_in_csv() -> None:
    [outcome] = rows(HEADER + "ann@x.example,net-101,passed,2026-11-26T12:04:00Z,\n")
    assert outcome.completion is not None


def test_the_same_row_twice_has_the_same_dedup_key_and_equivalent_spellings_too() -> None:
    body = HEADER + (
        "ann@x.example,net-101,passed,2026-11-20,85\n"
        "ann@x.example,net-101,passed,2026-11-20,85\n"
        "ANN@X.EXAMPLE,net-101,Passed,2026-11-20T00:00:00Z,85.0\n"
        "ann@x.example,net-101,passed,2026-11-20T01:00:00+01:00,85\n"
    )
    keys = {o.completion.dedup_key for o in rows(body) if o.completion}
    assert len(keys) == 1


@pytest.mark.parametrize(
    "other",
    [
        "bob@x.example,net-101,passed,2026-11-20,85",
        "ann@x.example,net-102,passed,2026-11-20,85",
        "ann@x.example,net-101,failed,2026-11-20,85",
        "ann@x.example,net-101,passed,2026-11-21,85",
        "ann@x.example,net-101,passed,2026-11-20,86",
        "ann@x.example,net-101,passed,2026-11-20,",
    ],
)
def test_a_row_differing_in_any_column_has_another_dedup_key(other: str) -> None:
    first, second = rows(HEADER + "ann@x.example,net-101,passed,2026-11-20,85\n" + other + "\n")
    assert first.completion is not None and second.completion is not None
    assert first.completion.dedup_key != second.completion.dedup_key


def test_a_cell_beyond_the_csv_reader_limit_is_a_file_problem_not_a_crash() -> None:
    with pytest.raises(ValidationFailed) as error:
        rows(HEADER + 'ann@x.example,"' + "x" * 200_000 + '",passed,2026-11-20,\n')
    assert list(fields_of(error)) == ["file"]


def test_an_unterminated_quote_is_an_invalid_row_not_a_crash() -> None:
    [outcome] = rows(HEADER + 'ann@x.example,"net-101,passed,2026-11-20,\n')
    assert outcome.completion is None and outcome.error is not None


# ====================================================================== the completion itself
def completion(**changes: Any) -> IncomingCompletion:
    fields: dict[str, Any] = {
        "source": "csv",
        "dedup_key": "csv:" + "a" * 64,
        "learner_email": "ann@x.example",
        "lms_course_id": "net-101",
        "passed": True,
        "completed_at": datetime(2026, 11, 20, 13, tzinfo=UTC),
    }
    return IncomingCompletion(**(fields | changes))


def test_an_incoming_completion_is_frozen_and_strict() -> None:
    with pytest.raises(ValidationError):
        completion(extra="x")
    with pytest.raises(ValidationError):
        completion().passed = False  # type: ignore[misc]
    with pytest.raises(ValidationError):
        completion(learner_email=None, learner_ref=None)
    with pytest.raises(ValidationError):
        completion(score_scaled=1.5)
    with pytest.raises(ValidationError):
        completion(completed_at=datetime(2026, 11, 20, 13))  # naive
    with pytest.raises(ValidationError):
        completion(dedup_key="other:thing")
    with pytest.raises(ValidationError):
        completion(passed="yes")


def test_an_incoming_completion_keeps_its_time_in_utc() -> None:
    moment = datetime.fromisoformat("2026-11-20T14:00:00+01:00")
    assert completion(completed_at=moment).completed_at.utcoffset() == timedelta(0)
    assert completion(completed_at=moment).model_dump(mode="json")["completed_at"] == "2026-11-20T13:00:00.000Z"
    assert completion(learner_email="Ann@X.Example").learner_email == "ann@x.example"
