"""Approval link routes (Chalice): GET renders the confirmation page and never decides; POST decides once."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, cast, get_args

from chalice import Chalice, ConvertToMiddleware, Response

from approvals import domain, pages
from approvals.models import Approval, Decision
from approvals.repository import DynamoApprovalRepository
from approvals.service import ApprovalsService
from approvals.settings import PagesSettings
from shared.errors import NotFound
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
def service() -> ApprovalsService:
    return ApprovalsService(DynamoApprovalRepository(SETTINGS.table_name))


def html(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers=SECURITY_HEADERS)


class Answer(Exception):
    """A page that answers the request before it gets further (a refused link or form, an unknown approval)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(status)
        self.response = html(status, body)


def answers(view: Callable[..., Response]) -> Callable[..., Response]:
    """The route answers with the page an Answer carries."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Answer as answer:
            return answer.response

    return wrapper


def _verified(approval_id: str, params: dict[str, str]) -> LinkClaim:
    """The verified link claim; Answer with a refusal page otherwise (never a hint of which part was wrong)."""
    decision = params.get("decision", "")
    try:
        expires = int(params.get("expires", ""))
    except ValueError:
        expires = 0
    claim = LinkClaim(approval_id, decision, params.get("approver", ""), expires, purpose=Purpose.APPROVAL)
    if decision not in get_args(Decision) or not params.get("approver"):
        raise Answer(400, pages.refusal("Incomplete link", "This link is incomplete; open it from the email again."))
    try:
        verify(signing_key(SETTINGS.link_secret_arn), claim, params.get("signature", ""), now=int(time.time()))
    except LinkRejected as rejected:
        logger.warning("approval link refused", extra={"approval_id": approval_id, "reason": rejected.reason})
        if rejected.reason == "expired":
            raise Answer(403, pages.refusal("Link expired", "This link has expired. Ask for a new one.")) from rejected
        raise Answer(
            403, pages.refusal("Invalid link", "This link is not valid. Open it from the email again.")
        ) from rejected
    return claim


def _approval(claim: LinkClaim) -> Approval:
    """The approval a verified link names; Answer when there is none, or it does not offer the link's decision."""
    try:
        return service().approval_for_link(claim.approval_id, claim.decision)
    except NotFound as missing:
        raise Answer(404, pages.refusal("Not found", "There is no such approval.")) from missing
    except domain.DecisionRefused as refused:
        raise Answer(403, pages.refusal("Not allowed", refused.message)) from refused


def _already(approval: Approval) -> Response:
    if approval.status == "closed":
        return html(410, pages.refusal("Approval closed", "This approval has closed; nobody decided in time."))
    return html(409, pages.outcome(approval).replace("Thank you: ", "Already decided: "))


def _form_page(approval: Approval, claim: LinkClaim, signature: str, **again: Any) -> str:
    return pages.confirmation(
        approval,
        decision=claim.decision,
        approver=claim.approver,
        expires=str(claim.expires),
        signature=signature,
        **again,
    )


@app.route("/approvals/{approval_id}", methods=["GET"])
@answers
def show_approval(approval_id: str) -> Response:
    params = dict(current(app).query_params or {})
    claim = _verified(approval_id, params)
    approval = _approval(claim)
    if approval.status != "pending":
        return _already(approval)
    return html(200, _form_page(approval, claim, params.get("signature", "")))


def _refused(refusal: domain.DecisionRefused, approval: Approval, claim: LinkClaim, form: dict[str, str]) -> Response:
    if refusal.code in domain.INPUT_REFUSALS:  # the form again, with what was typed and what is wrong
        page = _form_page(approval, claim, form.get("signature", ""), error=refusal.message, amount=form.get("amount"))
        return html(400, page)
    return html(403, pages.refusal("Not allowed", refusal.message))


def _read_form() -> dict[str, str]:
    try:
        return read_form(bytes(current(app).raw_body or b""), max_bytes=MAX_FORM_BYTES, max_fields=10)
    except FormRefused as unreadable:
        raise Answer(unreadable.status, pages.refusal(unreadable.title, unreadable.message)) from unreadable


@app.route(
    "/approvals/{approval_id}",
    methods=["POST"],
    # Only what the page's form sends: other media types are refused (415) rather than misread as a query string.
    content_types=["application/x-www-form-urlencoded"],
)
@answers
def decide_approval(approval_id: str) -> Response:
    form = _read_form()
    claim = _verified(approval_id, form)
    approval = _approval(claim)
    try:
        decided = service().decide(
            approval,
            decision=cast(Decision, claim.decision),
            approver=claim.approver,
            reason=form.get("reason"),
            amount=form.get("amount"),
        )
    except domain.NoLongerPending as late:
        return _already(late.approval)
    except domain.DecisionRefused as refusal:
        return _refused(refusal, approval, claim, form)
    metrics.add_metric(name="ApprovalsDecided", unit="Count", value=1)
    logger.info("approval decided", extra={"approval_id": approval_id, "decision": decided.decision})
    return html(200, pages.outcome(decided))
