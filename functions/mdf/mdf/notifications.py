"""Emails MDF sends to partner users (rendering only; sending is shared.mail)."""

from __future__ import annotations

from mdf.models import Fund, FundRequest, PartnerProjection
from shared.clock import readable
from shared.mail import Email
from shared.money import Money, format_money
from shared.notices import notice


def _request_email(request: FundRequest, subject: str, lines: list[str], portal_url: str) -> Email:
    link = f"{portal_url.rstrip('/')}/#/mdf/requests/{request.request_id}"
    return notice(request.submitted_by, subject, lines, link, "Open the request")


def request_decided(request: FundRequest, portal_url: str) -> Email:
    if request.status == "approved" and request.granted is not None:
        due = readable(request.claim_due_at) if request.claim_due_at else ""
        lines = [
            f"Your MDF request “{request.title}” is approved for {format_money(request.granted)}"
            + (f" (you asked for {format_money(request.requested)})." if request.granted != request.requested else "."),
            f"The amount is reserved for you. After the activity, file your claim with proof by {due}.",
        ]
        return _request_email(request, f"MDF request approved: {request.title}", lines, portal_url)
    lines = [
        f"Your MDF request “{request.title}” was not approved.",
        f"Reason: {request.decision_reason or 'not given'}",
        "You may revise the request and submit it again.",
    ]
    return _request_email(request, f"MDF request not approved: {request.title}", lines, portal_url)


def claim_decided(request: FundRequest, portal_url: str) -> Email:
    claim = request.claim
    assert claim is not None
    if claim.status == "approved" and claim.approved_amount is not None:
        lines = [f"Your claim for “{request.title}” is approved: {format_money(claim.approved_amount)} will be paid."]
        return _request_email(request, f"MDF claim approved: {request.title}", lines, portal_url)
    if claim.status == "returned":
        lines = [
            f"Your claim for “{request.title}” needs more proof before it can be approved.",
            f"Reviewer's note: {claim.reason or 'not given'}",
            f"Add the proof and resubmit by {readable(request.claim_due_at) if request.claim_due_at else 'the due date'}.",
        ]
        return _request_email(request, f"More proof needed: {request.title}", lines, portal_url)
    lines = [f"Your claim for “{request.title}” was rejected.", f"Reason: {claim.reason or 'not given'}"]
    return _request_email(request, f"MDF claim rejected: {request.title}", lines, portal_url)


def claim_due_soon(request: FundRequest, days_left: int, portal_url: str) -> Email:
    due = readable(request.claim_due_at) if request.claim_due_at else ""
    lines = [
        f"The claim for your MDF activity “{request.title}” is due in {days_left} day{'s' if days_left != 1 else ''}"
        f" ({due}).",
        "Without a claim by then, the reserved funds are released.",
    ]
    return _request_email(request, f"MDF claim due in {days_left} days: {request.title}", lines, portal_url)


def funds_expiring(fund: Fund, partner: PartnerProjection, days_left: int, portal_url: str) -> Email:
    available = Money(amount_minor=fund.available, currency=fund.currency)
    lines = [
        f"{format_money(available)} of market development funds in {fund.period_name} are unused.",
        f"They expire in {days_left} day{'s' if days_left != 1 else ''}, at {readable(fund.claim_window_ends_at)}.",
        "Request funds for an activity before then.",
    ]
    return notice(
        partner.contact_email,
        f"MDF expiring in {days_left} days: {format_money(available)}",
        lines,
        f"{portal_url.rstrip('/')}/#/mdf",
        "See your funds",
    )
