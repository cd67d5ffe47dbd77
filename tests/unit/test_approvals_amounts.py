"""Approval options without AWS: partial amounts parsed exactly, "return", an earlier step, summary links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from approvals import domain, pages
from approvals.emails import approval_email, approval_links
from approvals.models import AmountSpec, Approval, ApprovalRequestMessage, SummaryLine

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
USD = AmountSpec(currency="USD", max_minor=500_000, label="Amount to grant")
JPY = AmountSpec(currency="JPY", max_minor=500_000, label="Amount to grant")
EARLIER = {
    "label": "Channel marketing",
    "decided_by": "a@x.com",
    "decision": "approved",
    "amount_minor": 500_000,
    "reason": "note",
}


def message(**fields: Any) -> ApprovalRequestMessage:
    return ApprovalRequestMessage.model_validate(
        {
            "approval_id": "mdf-req_1-finance",
            "kind": "request",
            "task_token": "token-1",
            "subject": "MDF request: Spring roadshow",
            "summary": [{"label": "Partner", "value": "Acme"}],
            "approvers": ["f@example.com"],
        }
        | fields
    )


def pending(**fields: Any) -> Approval:
    approval = domain.register(None, message(**fields), NOW)
    assert approval is not None
    return approval


def mdf_approval() -> Approval:
    return pending(
        decisions=["approve", "reject", "return"],
        amount=USD.model_dump(),
        earlier=EARLIER,
    )


# ------------------------------------------------------------------ the amount as typed (parsing: tests/unit/test_money.py)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5000.01", "The amount must be at most 5,000.00 USD."),
        ("0", "The amount must be more than zero."),
        ("1.005", "USD amounts have at most 2 decimal places."),
        ("1e3", "Enter the amount as a plain number, for example 5000.00."),
    ],
)
def test_an_amount_that_is_not_one_refuses_the_approval_saying_why(text: str, message: str) -> None:
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(mdf_approval(), decision="approve", approver="f@example.com", reason=None, now=NOW, amount=text)
    assert refused.value.code == "amount_invalid" and refused.value.message == message
    assert refused.value.code in domain.INPUT_REFUSALS  # the page is shown again, not refused


def test_a_zero_decimal_currency_grants_whole_units_only() -> None:
    approval = pending(amount=JPY.model_dump())
    granted = domain.decide(
        approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="1,000"
    )
    assert granted.amount_minor == 1000
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="100.5")
    assert refused.value.message == "JPY amounts have no decimal places."


# ------------------------------------------------------------------ the request message


def test_new_options_are_optional_and_step_functions_nulls_validate() -> None:
    plain = message()
    assert plain.decisions == ["approve", "reject"] and plain.amount is None and plain.earlier is None
    nulls = message(amount=None, earlier=None, decisions=None)
    assert nulls.decisions == ["approve", "reject"] and nulls.amount is None and nulls.earlier is None
    full = message(
        decisions=["approve", "reject", "return"],
        amount={"currency": "USD", "max_minor": 500_000, "label": "L" * 200},
        earlier=EARLIER | {"amount_minor": None, "reason": None},
    )
    assert full.amount is not None and len(full.amount.label) == 80 and full.amount.label.endswith("…")
    assert full.earlier is not None and full.earlier.amount_minor is None


@pytest.mark.parametrize(
    "fields",
    [
        {"decisions": ["approve", "return"]},
        {"decisions": ["approve", "reject", "reject"]},
        {"decisions": ["approve", "reject", "escalate"]},
        {"amount": {"currency": "XYZ", "max_minor": 100, "label": "Amount"}},
        {"amount": {"currency": "USD", "max_minor": 0, "label": "Amount"}},
        {"amount": {"currency": "USD", "max_minor": 100, "label": ""}},
        {"earlier": EARLIER | {"decision": "approve"}},
    ],
)
def test_malformed_options_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        message(**fields)


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://files.example.com/p?a=1&b=2", True),
        ("http://example.com", True),
        ("HTTPS://EXAMPLE.COM/x", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example.com/x", False),
        ("/relative/path", False),
        ("https://", False),
        ("ftp://example.com/file", False),
        ("https://example.com/a b", False),
        ("https://example.com/\nx", False),
        ("https://[bad", False),
        ("https://example.com/" + "a" * 2000, False),
        ("", False),
        (5, False),
        (None, False),
    ],
)
def test_summary_links_keep_only_http_urls(href: Any, kept: bool) -> None:
    line = SummaryLine.model_validate({"label": "Proposal", "value": "plan.pdf", "href": href})
    assert line.href == (href if kept else None)


# ------------------------------------------------------------------ deciding


def test_approve_grants_exactly_the_amount_typed_and_never_without_one() -> None:
    approval = mdf_approval()
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(approval, decision="approve", approver="f@example.com", reason=None, now=NOW)
    assert refused.value.code == "amount_invalid"
    full = domain.decide(approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="5000")
    assert full.amount_minor == 500_000
    partial = domain.decide(
        approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="1,250.50"
    )
    assert partial.amount_minor == 125_050
    assert domain.workflow_output(partial) == {
        "decision": "approved",
        "decided_by": "f@example.com",
        "reason": None,
        "decided_at": "2026-11-26T12:00:00.000Z",
        "amount_minor": 125_050,
    }
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="")
    assert refused.value.code == "amount_invalid"


def test_return_needs_a_reason_and_grants_nothing() -> None:
    approval = mdf_approval()
    with pytest.raises(domain.DecisionRefused) as no_reason:
        domain.decide(approval, decision="return", approver="f@example.com", reason=" ", now=NOW)
    assert no_reason.value.code == "reason_required" and "information" in no_reason.value.message
    returned = domain.decide(
        approval, decision="return", approver="f@example.com", reason="Add the venue quote", now=NOW, amount="12"
    )
    assert returned.decision == "return" and returned.amount_minor is None
    assert domain.workflow_output(returned)["decision"] == "returned"
    assert domain.workflow_output(returned)["amount_minor"] is None
    with pytest.raises(domain.DecisionRefused) as again:
        domain.decide(returned, decision="approve", approver="f@example.com", reason=None, now=NOW)
    assert again.value.message == "This was already returned by f@example.com."


def test_a_decision_the_request_does_not_offer_is_refused() -> None:
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(pending(), decision="return", approver="f@example.com", reason="More please", now=NOW)
    assert refused.value.code == "decision_not_allowed"


def test_without_an_amount_spec_an_amount_field_is_ignored() -> None:
    decided = domain.decide(pending(), decision="approve", approver="f@example.com", reason=None, now=NOW, amount="x")
    assert decided.amount_minor is None
    assert domain.workflow_output(decided)["amount_minor"] is None


def test_reject_on_an_amount_approval_records_no_amount() -> None:
    decided = domain.decide(mdf_approval(), decision="reject", approver="f@example.com", reason="No budget", now=NOW)
    assert decided.amount_minor is None and domain.workflow_output(decided)["decision"] == "rejected"


def test_the_earlier_step_reads_as_one_line() -> None:
    assert domain.earlier_text(mdf_approval()) == "Channel marketing: approved 5,000.00 USD by a@x.com (note)"
    plain = pending(earlier=EARLIER | {"amount_minor": None, "reason": None})
    assert domain.earlier_text(plain) == "Channel marketing: approved by a@x.com"
    assert domain.earlier_text(pending()) is None


# ------------------------------------------------------------------ pages and emails


def confirmation(approval: Approval, decision: str, **extra: Any) -> str:
    return pages.confirmation(
        approval, decision=decision, approver="f@example.com", expires="1", signature="s", **extra
    )


def test_the_approve_page_offers_an_amount_prefilled_with_the_maximum() -> None:
    approval = mdf_approval().model_copy(
        update={"amount": AmountSpec(currency="USD", max_minor=500_000, label="Grant <b>")}
    )
    html = confirmation(approval, "approve")
    assert "id='amount' name='amount'" in html and "value='5000.00'" in html
    assert "Grant &lt;b&gt;" in html and "(at most 5,000.00 USD)" in html
    assert "Channel marketing: approved 5,000.00 USD by a@x.com (note)" in html
    again = confirmation(approval, "approve", amount="'><script>", error="The amount must be at most 5,000.00 USD.")
    assert "value='&#x27;&gt;&lt;script&gt;'" in again and "<script>" not in again
    assert "id='amount'" not in confirmation(pending(), "approve")
    assert "id='amount'" not in confirmation(approval, "reject")


def test_the_return_page_asks_what_is_missing() -> None:
    html = confirmation(mdf_approval(), "return")
    assert "Confirm: return" in html and "id='confirm'" in html
    assert "<textarea id='reason' name='reason' required" in html and "id='amount'" not in html


def test_outcome_pages_name_the_amount_and_the_decision() -> None:
    approval = mdf_approval()
    granted = domain.decide(approval, decision="approve", approver="f@example.com", reason=None, now=NOW, amount="1000")
    assert "data-outcome='approved'" in pages.outcome(granted)
    assert "Thank you: approved 1,000.00 USD." in pages.outcome(granted)
    returned = domain.decide(approval, decision="return", approver="f@example.com", reason="Quote", now=NOW)
    assert "data-outcome='returned'" in pages.outcome(returned) and "Thank you: returned." in pages.outcome(returned)
    plain = domain.decide(pending(), decision="approve", approver="f@example.com", reason=None, now=NOW)
    assert "Thank you: approved." in pages.outcome(plain)


def test_summary_links_and_text_are_escaped() -> None:
    approval = pending(
        summary=[
            {"label": "Proposal <i>", "value": "plan <b>.pdf", "href": "https://x.example/p?a=1&b='2'"},
            {"label": "Trap", "value": "click", "href": "javascript:alert(1)"},
        ],
        earlier=EARLIER | {"decided_by": "<script>@x.com", "reason": "<img src=x>"},
    )
    html = confirmation(approval, "approve")
    assert (
        "<a href='https://x.example/p?a=1&amp;b=&#x27;2&#x27;' rel='noopener noreferrer'>plan &lt;b&gt;.pdf</a>" in html
    )
    assert "javascript:" not in html and "<td>click</td>" in html
    assert "Proposal &lt;i&gt;" in html and "&lt;script&gt;@x.com" in html and "<img" not in html


def test_the_email_has_one_signed_link_per_decision() -> None:
    approval = mdf_approval().model_copy(
        update={"summary": [SummaryLine(label="Proposal", value="plan.pdf", href="https://x.example/p?a=1&b=2")]}
    )
    links = approval_links(approval, "f@example.com", key=b"k" * 32, base_url="https://prm.example/", expires=9)
    assert list(links) == ["approve", "reject", "return"]
    assert all(link.startswith("https://prm.example/approvals/mdf-req_1-finance?decision=") for link in links.values())
    mail = approval_email(approval, "f@example.com", links)
    for decision, label in (("approve", "Approve…"), ("reject", "Reject…"), ("return", "Return for more information…")):
        assert f"data-decision='{decision}'" in mail.html and label in mail.html
    assert "<a href='https://x.example/p?a=1&amp;b=2' rel='noopener noreferrer'>plan.pdf</a>" in mail.html
    assert "Channel marketing: approved 5,000.00 USD by a@x.com (note)" in mail.html
    assert f"Return for more information: {links['return']}" in mail.text
    assert "Proposal: plan.pdf <https://x.example/p?a=1&b=2>" in mail.text
    assert "Channel marketing: approved 5,000.00 USD by a@x.com (note)" in mail.text


def test_a_plain_request_still_mails_approve_and_reject_only() -> None:
    approval = pending()
    links = approval_links(approval, "f@example.com", key=b"k" * 32, base_url="https://prm.example", expires=9)
    assert list(links) == ["approve", "reject"]
    mail = approval_email(approval, "f@example.com", links)
    assert "data-decision='return'" not in mail.html and "Return" not in mail.text
