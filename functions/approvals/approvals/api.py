"""Approval link routes (Chalice): GET renders the confirmation page and never decides; POST decides once."""

from __future__ import annotations

import time
from functools import cache
from typing import cast, get_args

from chalice import Chalice, ConvertToMiddleware, Response

from approvals import domain, pages
from approvals.models import Approval, Decision
from approvals.repository import ApprovalRepository, StaleApproval
from approvals.settings import PagesSettings
from shared.clock import utc_now
from shared.http import FormRefused, current, documented_errors, read_form
from shared.links import LinkClaim, LinkRejected, Purpose, signing_key, verify
from shared.observability import logger, metrics, tracer

SETTINGS = PagesSettings.from_env()
MAX_FORM_BYTES = 16 * 1024

app = Chalice(app_name="prm-approvals")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
app.register_middleware(documented_errors(), "http")  # link pages: opened directly, never fetched by the portal

SECURITY_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # The URL carries a signature: never leak it to other sites.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@cache
def repository() -> ApprovalRepository:
    return ApprovalRepository(SETTINGS.table_name)


def html(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers=SECURITY_HEADERS)


def _check_link(approval_id: str, params: dict[str, str]) -> tuple[LinkClaim, Response | None]:
    """The verified link claim, or the refusal page to answer with (never a hint of which part was wrong)."""
    decision = params.get("decision", "")
    try:
        expires = int(params.get("expires", ""))
    except ValueError:
        expires = 0
    claim = LinkClaim(approval_id, decision, params.get("approver", ""), expires, purpose=Purpose.APPROVAL)
    if decision not in get_args(Decision) or not params.get("approver"):
        return claim, html(
            400, pages.refusal("Incomplete link", "This link is incomplete; open it from the email again.")
        )
    try:
        verify(signing_key(SETTINGS.link_secret_arn), claim, params.get("signature", ""), now=int(time.time()))
    except LinkRejected as rejected:
        logger.warning("approval link refused", extra={"approval_id": approval_id, "reason": rejected.reason})
        if rejected.reason == "expired":
            return claim, html(403, pages.refusal("Link expired", "This link has expired. Ask for a new one."))
        return claim, html(403, pages.refusal("Invalid link", "This link is not valid. Open it from the email again."))
    return claim, None


def _load(approval_id: str, claim: LinkClaim) -> Approval | Response:
    """The approval a verified link names, or the refusal page (none such, or a decision it does not offer)."""
    approval = repository().get(approval_id)
    if approval is None:
        return html(404, pages.refusal("Not found", "There is no such approval."))
    if claim.decision not in approval.decisions:
        return html(403, pages.refusal("Not allowed", "This request does not offer that decision."))
    return approval


def _already(approval: Approval) -> Response:
    if approval.status == "closed":
        return html(410, pages.refusal("Approval closed", "This approval has closed; nobody decided in time."))
    return html(409, pages.outcome(approval).replace("Thank you: ", "Already decided: "))


@app.route("/approvals/{approval_id}", methods=["GET"])
def show_approval(approval_id: str) -> Response:
    params = current(app).query_params or {}
    claim, refused = _check_link(approval_id, dict(params))
    if refused:
        return refused
    approval = _load(approval_id, claim)
    if isinstance(approval, Response):
        return approval
    if approval.status != "pending":
        return _already(approval)
    return html(
        200,
        pages.confirmation(
            approval,
            decision=claim.decision,
            approver=claim.approver,
            expires=str(claim.expires),
            signature=params.get("signature", ""),
        ),
    )


@app.route(
    "/approvals/{approval_id}",
    methods=["POST"],
    # Only what the page's form sends: other media types are refused (415) rather than misread as a query string.
    content_types=["application/x-www-form-urlencoded"],
)
def decide_approval(approval_id: str) -> Response:
    try:
        form = read_form(bytes(current(app).raw_body or b""), max_bytes=MAX_FORM_BYTES, max_fields=10)
    except FormRefused as unreadable:
        return html(unreadable.status, pages.refusal(unreadable.title, unreadable.message))
    claim, refused = _check_link(approval_id, form)
    if refused:
        return refused
    approval = _load(approval_id, claim)
    if isinstance(approval, Response):
        return approval
    try:
        decided = domain.decide(
            approval,
            decision=cast(Decision, claim.decision),
            approver=claim.approver,
            reason=form.get("reason"),
            amount=form.get("amount"),
            now=utc_now(),
        )
    except domain.DecisionRefused as refusal:
        if refusal.code in ("already_decided", "closed"):
            return _already(approval)
        if refusal.code in ("reason_required", "reason_too_long", "reason_invalid", "amount_invalid"):
            page = pages.confirmation(
                approval,
                decision=claim.decision,
                approver=claim.approver,
                expires=str(claim.expires),
                signature=form.get("signature", ""),
                error=refusal.message,
                amount=form.get("amount"),
            )
            return html(400, page)
        return html(403, pages.refusal("Not allowed", refusal.message))
    try:
        repository().record_decision(decided)
    except StaleApproval:
        latest = repository().get(approval_id)
        return _already(latest or approval)
    metrics.add_metric(name="ApprovalsDecided", unit="Count", value=1)
    logger.info("approval decided", extra={"approval_id": approval_id, "decision": decided.decision})
    return html(200, pages.outcome(decided))
