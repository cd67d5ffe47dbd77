"""Human text (issue 8.5c): every API body field people type refuses control characters and direction overrides;
what is shown (emails, subjects, approval pages) is neutralised."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import deals.models as deals_models
import mdf.models as mdf_models
import onboarding.models as onboarding_models
from shared.text import clean_line, clean_paragraphs, for_display, header_safe

TOMORROW = (date.today() + timedelta(days=30)).isoformat()
MONEY = {"amount_minor": 1000, "currency": "USD"}
VALID: dict[type[BaseModel], dict[str, Any]] = {
    onboarding_models.ApplicationRequest: {
        "company_name": "Acme Networks",
        "website": "acme.example",
        "country": "GB",
        "partner_type": "reseller",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@acme.example",
        "expected_annual_revenue": MONEY,
    },
    onboarding_models.AgreementAcceptanceRequest: {"version": "2026-01"},
    onboarding_models.AgreementRequest: {"version": "2026-01", "title": "Terms", "body": "Play fair."},
    onboarding_models.PartnerUpdateRequest: {"phone": "+44 20 7946 0000", "description": "Resellers of things."},
    onboarding_models.InviteUserRequest: {"email": "bob@acme.example", "name": "Bob", "role": "partner-user"},
    deals_models.RegisterDealRequest: {
        "prospect": {
            "company_name": "Globex Ltd",
            "website": "globex.example",
            "country": "GB",
            "contact": {"name": "Hank Scorpio", "email": "hank@globex.example", "title": "CTO"},
        },
        "products": ["NET-FW-100"],
        "estimated_value": MONEY,
        "expected_close_date": TOMORROW,
        "description": "Branch firewalls.",
    },
    deals_models.LostRequest: {"reason": "Went with a competitor."},
    deals_models.ExtensionRequest: {"justification": "The customer's board meets next month."},
    deals_models.ProductRequest: {"sku": "NET-FW-100", "name": "Firewall 100", "family": "Security"},
    mdf_models.PeriodBody: {
        "period_id": "FY27-Q1",
        "name": "FY27 Q1",
        "starts_on": "2027-01-01",
        "ends_on": "2027-03-31",
        "claim_window_ends_at": datetime(2027, 5, 31, tzinfo=UTC).isoformat(),
    },
    mdf_models.AllocationBody: {"partner_id": "prt_1", "period_id": "FY27-Q1", "amount": MONEY, "note": "Budget."},
    mdf_models.AdjustmentBody: {"partner_id": "prt_1", "period_id": "FY27-Q1", "amount": MONEY, "note": "Fix."},
    mdf_models.FundRequestBody: {
        "period_id": "FY27-Q1",
        "activity_type": "webinar",
        "title": "Zero-trust webinar",
        "description": "For 200 IT leaders.",
        "starts_on": "2027-01-10",
        "ends_on": "2027-01-10",
        "requested": MONEY,
        "expected_outcome": {"leads": 10, "pipeline_value": MONEY},
    },
    mdf_models.UploadBody: {"file_name": "invoice.pdf", "content_type": "application/pdf", "size_bytes": 10},
    mdf_models.ClaimBody: {
        "amount_spent": MONEY,
        "proof_files": ["file_" + "0" * 26],
        "results": {"leads": 1, "attendees": 2, "invoice_number": "INV-1"},
        "notes": "All done.",
    },
}
# Every field of an API body that takes human text, and whether it may span lines.
HUMAN_TEXT: list[tuple[type[BaseModel], str, str]] = [
    (onboarding_models.ApplicationRequest, "company_name", "line"),
    (onboarding_models.ApplicationRequest, "website", "line"),
    (onboarding_models.ApplicationRequest, "contact_name", "line"),
    (onboarding_models.AgreementAcceptanceRequest, "version", "line"),
    (onboarding_models.AgreementRequest, "title", "line"),
    (onboarding_models.AgreementRequest, "body", "paragraphs"),
    (onboarding_models.PartnerUpdateRequest, "description", "paragraphs"),
    (onboarding_models.InviteUserRequest, "name", "line"),
    (deals_models.RegisterDealRequest, "prospect.company_name", "line"),
    (deals_models.RegisterDealRequest, "prospect.website", "line"),
    (deals_models.RegisterDealRequest, "prospect.contact.name", "line"),
    (deals_models.RegisterDealRequest, "prospect.contact.title", "line"),
    (deals_models.RegisterDealRequest, "description", "paragraphs"),
    (deals_models.LostRequest, "reason", "paragraphs"),
    (deals_models.ExtensionRequest, "justification", "paragraphs"),
    (deals_models.ProductRequest, "name", "line"),
    (deals_models.ProductRequest, "family", "line"),
    (mdf_models.PeriodBody, "name", "line"),
    (mdf_models.AllocationBody, "note", "paragraphs"),
    (mdf_models.AdjustmentBody, "note", "paragraphs"),
    (mdf_models.FundRequestBody, "title", "line"),
    (mdf_models.FundRequestBody, "description", "paragraphs"),
    (mdf_models.UploadBody, "file_name", "line"),
    (mdf_models.ClaimBody, "results.invoice_number", "line"),
    (mdf_models.ClaimBody, "notes", "paragraphs"),
]
# String fields that are not free text: codes, ids, addresses and patterns, checked by their own rules.
NOT_HUMAN_TEXT = {
    "country",
    "currency",
    "contact_email",
    "email",
    "phone",
    "content_type",
    "partner_id",
    "period_id",
    "sku",
    "products",
    "proof_files",
    "AgreementRequest.version",  # a pattern of letters, digits and ._-
}
REFUSED = {
    "NUL": "\x00",
    "escape": "\x1b[31m",
    "delete": "\x7f",
    "C1 control": "\x85",
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first-strong isolate": "\u2068",
    "interlinear annotation": "\ufff9",
    "lone surrogate": "\ud800",
}


def with_value(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    changed = {k: (dict(v) if isinstance(v, dict) else v) for k, v in body.items()}
    node = changed
    *parents, last = path.split(".")
    for part in parents:
        node[part] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in node[part].items()}
        node = node[part]
    node[last] = value
    return changed


def base(path: str, body: dict[str, Any]) -> str:
    node: Any = body
    for part in path.split("."):
        node = node[part]
    return str(node)


def refused_at(model: type[BaseModel], body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return [".".join(str(p) for p in e["loc"]) for e in refused.value.errors()]


def str_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of the string fields of a body model, nested models included."""
    found: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
        for kind in inner:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= str_fields(kind, f"{prefix}{name}.")
            elif kind is str or typing.get_origin(kind) is typing.Annotated:
                found.add(f"{prefix}{name}")
    return found


def test_every_string_field_of_every_body_is_classified() -> None:
    """A new text field must say whether it is human text (and so get the shared type) or a code."""
    human = {(model, path) for model, path, _ in HUMAN_TEXT}
    for model in VALID:
        for path in str_fields(model):
            if path.split(".")[-1] in NOT_HUMAN_TEXT or f"{model.__name__}.{path}" in NOT_HUMAN_TEXT:
                continue
            assert (model, path) in human, f"{model.__name__}.{path}: add it to HUMAN_TEXT (Line/Paragraphs)"


@pytest.mark.parametrize(("model", "path", "kind"), HUMAN_TEXT, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("char", list(REFUSED.values()), ids=list(REFUSED))
def test_human_text_refuses_controls_and_direction_overrides(
    model: type[BaseModel], path: str, kind: str, char: str
) -> None:
    body = VALID[model]
    model.model_validate(body)  # the base body is valid
    value = base(path, body)
    assert path in refused_at(model, with_value(body, path, value[:2] + char + value[2:]))


@pytest.mark.parametrize(("model", "path", "kind"), HUMAN_TEXT, ids=lambda v: getattr(v, "__name__", str(v)))
def test_line_breaks_only_where_text_spans_lines(model: type[BaseModel], path: str, kind: str) -> None:
    body = VALID[model]
    value = base(path, body)
    multi = with_value(body, path, value + "\r\nSecond line\twith a tab")
    if kind == "line":
        assert path in refused_at(model, multi)
    else:
        parsed = model.model_validate(multi).model_dump()
        assert base(path, parsed) == value + "\nSecond line\twith a tab"


@pytest.mark.parametrize(("model", "path", "kind"), HUMAN_TEXT, ids=lambda v: getattr(v, "__name__", str(v)))
def test_zero_width_characters_are_removed_and_real_writing_kept(model: type[BaseModel], path: str, kind: str) -> None:
    body = VALID[model]
    value = base(path, body)
    parsed = model.model_validate(with_value(body, path, value[:2] + "\u200b\ufeff" + value[2:])).model_dump()
    assert base(path, parsed) == value
    if path.endswith("website"):
        return  # a domain, not prose
    persian = value + " \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f"  # ZWNJ and RLM belong to the text
    parsed = model.model_validate(with_value(body, path, persian)).model_dump()
    assert base(path, parsed) == persian.strip()


def test_the_error_names_the_character() -> None:
    with pytest.raises(ValueError, match=r"control character \(U\+0000\)"):
        clean_line("Acme\x00")
    with pytest.raises(ValueError, match=r"text-direction control \(U\+202E\)"):
        clean_paragraphs("invoice\u202efdp.exe")
    with pytest.raises(ValueError, match="single line"):
        clean_line("a\nb")


def test_display_and_headers_are_neutralised() -> None:
    assert for_display("Acme \u202eevil\u202c Ltd\x00\nnext\tline") == "Acme evil Ltd\nnext\tline"
    assert header_safe("New deal: Acme\r\nBcc: everyone@example.com\x00") == "New deal: Acme Bcc: everyone@example.com"
    assert header_safe("x" * 300).endswith("\u2026") and len(header_safe("x" * 300)) == 200


# ------------------------------------------------------------------ approvals: decision reasons and pages
def _approval() -> Any:
    from approvals import domain
    from approvals.models import ApprovalRequestMessage

    message = ApprovalRequestMessage.model_validate(
        {
            "approval_id": "deals-deal_1",
            "kind": "request",
            "task_token": "token-1",
            "subject": "Deal: Globex \u202eevil\u202c Ltd",  # text from a workflow, perhaps stored before the rule
            "summary": [{"label": "Company", "value": "Globex\x00 \u2066Ltd\u2069"}],
            "approvers": ["a@example.com"],
        }
    )
    approval = domain.register(None, message, datetime(2026, 11, 26, tzinfo=UTC))
    assert approval is not None
    return approval


@pytest.mark.parametrize("char", list(REFUSED.values()), ids=list(REFUSED))
def test_a_decision_reason_refuses_controls(char: str) -> None:
    from approvals import domain

    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(
            _approval(), decision="reject", approver="a@example.com", reason=f"No{char} thanks", now=datetime.now(UTC)
        )
    assert refused.value.code == "reason_invalid"
    decided = domain.decide(
        _approval(), decision="reject", approver="a@example.com", reason="No.\r\nNot now.", now=datetime.now(UTC)
    )
    assert decided.reason == "No.\nNot now."


def test_approval_pages_and_emails_neutralise_what_they_show() -> None:
    from approvals import emails, pages

    approval = _approval()
    page = pages.confirmation(approval, decision="approve", approver="a@example.com", expires="1", signature="s")
    assert not any(c in page for c in "\x00\u202e\u202c\u2066\u2069") and "Globex evil Ltd" in page
    email = emails.approval_email(approval, "a@example.com", {"approve": "https://x.example/a"})
    assert "\u202e" in email.subject  # built as given; mail.send makes it safe (below)


def test_sent_mail_has_a_safe_subject_and_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared import mail

    sent: dict[str, Any] = {}

    class FakeSes:
        def send_email(self, **request: Any) -> dict[str, str]:
            sent.update(request)
            return {"MessageId": "m-1"}

    monkeypatch.setattr(mail, "client", lambda name: FakeSes())
    subject = "Partner application: Acme\x00\r\nBcc: all@example.com \u202eexe.pdf"
    mail.send("prm@example.com", mail.Email(("a@example.com",), subject, "<p>A\u202eB\x00</p>", "A\u202eB\x00"))
    content = sent["Content"]["Simple"]
    assert content["Subject"]["Data"] == "Partner application: Acme Bcc: all@example.com exe.pdf"
    assert content["Body"]["Html"]["Data"] == "<p>AB</p>" and content["Body"]["Text"]["Data"] == "AB"
