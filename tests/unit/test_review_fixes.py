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
