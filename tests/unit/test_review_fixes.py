"""Inputs a review found could break the edge: each now gets a clear refusal, never a 500 or a silent lapse."""

from __future__ import annotations

import pytest

from approvals.models import ApprovalRequestMessage
from deals.prospects import company_key
from shared.errors import ValidationFailed
from shared.http import parse_json
from shared.links import LinkClaim, LinkRejected, Purpose, verify


def test_a_non_ascii_signature_is_an_invalid_link_not_a_crash() -> None:
    with pytest.raises(LinkRejected) as refused:
        verify(b"k" * 64, LinkClaim("x", "approve", "a@b.co", 2_000_000_000, purpose=Purpose.APPROVAL), "é" * 64, now=1)
    assert refused.value.reason == "invalid"


def test_deeply_nested_json_is_a_400() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_json("[" * 60_000)
    assert refused.value.code == "invalid_json"


def test_company_names_in_any_script_keep_their_identity() -> None:
    assert company_key("Газпром 1") != company_key("Лукойл 1")
    assert company_key("株式会社トヨタ") == "トヨタ"  # the script stays; only the legal form goes (issue 8.5d)
    assert company_key("Ελληνική Εταιρεία AE") != ""


def test_oversize_workflow_text_is_clipped_not_refused() -> None:
    message = ApprovalRequestMessage.model_validate(
        {
            "approval_id": "deal-x-registration-0",
            "kind": "request",
            "task_token": "t",
            "subject": "S" * 500,
            "summary": [{"label": f"Line {i}", "value": "v" * 3000} for i in range(60)],
            "approvers": ["a@example.com"],
        }
    )
    assert len(message.subject) == 200 and message.subject.endswith("…")
    assert len(message.summary) == 40 and message.summary[-1].value == "21 more lines not shown"
    assert all(len(line.value) <= 2000 for line in message.summary)


def test_a_body_larger_than_a_route_reads_is_a_413_and_unreadable_json_names_no_python_internals() -> None:
    from shared.errors import PayloadTooLarge
    from shared.http import MAX_BODY_BYTES, status_of

    with pytest.raises(PayloadTooLarge) as too_large:
        parse_json(b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}')
    assert (status_of(too_large.value), too_large.value.code) == (413, "payload_too_large")
    assert too_large.value.errors[0].field == "body"

    for raw, said in [
        ('{"name": "Café"}'.encode("latin-1"), "not UTF-8 text"),
        (b'{"x": ' + b"9" * 5000 + b"}", "a number or nesting too large to read"),
        (b"[" * 100_000 + b"]" * 100_000, None),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            parse_json(raw[: MAX_BODY_BYTES - 1] if len(raw) >= MAX_BODY_BYTES else raw)
        assert refused.value.code == "invalid_json"
        message = refused.value.errors[0].message
        assert "codec" not in message and "4300" not in message and "sys.set_int" not in message, message
        if said:
            assert message == said
