"""MDF's queue consumer (Handler `mdf.consumers.handler`): projections, accrual, workflows, decisions, timers."""

from __future__ import annotations

from functools import cache
from typing import Any

from contracts.deals import DealWon
from contracts.mdf import (
    MdfClaimPaid,
    MdfClaimRejected,
    MdfClaimReturned,
    MdfClaimSubmitted,
    MdfFundsAccrued,
    MdfFundsAdjusted,
    MdfFundsAllocated,
    MdfRequestApproved,
    MdfRequestRejected,
    MdfRequestSubmitted,
)
from contracts.onboarding import PartnerOnboarded
from mdf import domain, notifications, workflow
from mdf.domain import Change
from mdf.models import (
    ApprovalExpired,
    ClaimDecision,
    ClaimTimer,
    FundRequest,
    FundTimer,
    PartnerProjection,
    RequestDecision,
)
from mdf.repository import MdfRepository
from mdf.service import MdfService
from mdf.settings import ConsumerSettings
from shared import agreements, mail
from shared.clock import utc_now
from shared.consumers import handle_event, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects
from shared.errors import NotYetDue
from shared.observability import logger, metrics

SETTINGS = ConsumerSettings.from_env()
MAX_REVIEW_ATTEMPTS = 3


@cache
def service() -> MdfService:
    return MdfService(MdfRepository(SETTINGS.table_name))


def _request(request_id: str) -> FundRequest:
    request = service().repository.request(request_id)
    if request is None:
        raise LookupError(f"request {request_id} not found")
    return request


def _notify(email: mail.Email) -> str:
    return mail.send(str(SETTINGS.mail_from), email)


# ------------------------------------------------------------------ events
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().project_partner(
        PartnerProjection(
            partner_id=event.partner_id,
            company_name=event.company_name,
            country=event.country,
            status=event.status,
            contact_name=event.primary_contact.name,
            contact_email=str(event.primary_contact.email),
            as_of=event.occurred_at,
        )
    )


def on_deal_won(event: DealWon) -> str:
    outcome = service().accrue(event)
    logger.info("accrual", extra={"deal_id": event.deal_id, "outcome": outcome})
    return outcome


def on_funds_credited(event: MdfFundsAllocated | MdfFundsAccrued | MdfFundsAdjusted) -> str:
    """A fund that received money gets its expiry timer (started once per fund: a deterministic name)."""
    fund = service().repository.fund(event.partner_id, event.fund_id)
    if fund is None:
        raise LookupError(f"fund {event.fund_id} of {event.partner_id} not found")
    if fund.status != "open":
        return "no timer: the fund is closed"  # a replayed event of a fund that expired long ago
    return workflow.start_fund_timer(fund, SETTINGS, utc_now())


def on_request_submitted(event: MdfRequestSubmitted) -> str:
    request = _request(event.request_id)
    if request.round != event.round:
        return "stale: the request was revised since"
    if request.status not in ("submitted", "under_review"):
        return f"no review: the request is {request.status}"  # a replayed event of a request decided since
    service().mark_under_review(request.request_id, workflow.decision_due(SETTINGS, utc_now()))
    fund = service().repository.fund(request.partner_id, request.fund_id)
    partner = service().repository.partner(request.partner_id)
    return workflow.start_request_approval(request, fund, partner, SETTINGS)


# Side effects check the request's current state and record themselves beside it: the bus archive can replay an
# event after the de-duplication records expired, and nothing may be mailed or started twice.
@cache
def effects() -> SideEffects:
    return SideEffects(SETTINGS.table_name)


def on_request_approved(event: MdfRequestApproved) -> str:
    request = _request(event.request_id)
    if request.round != event.round or request.status != "approved":
        return f"no approval notice: the request is {request.status} (round {request.round})"

    def effect() -> str:
        timer = workflow.start_claim_timer(request, SETTINGS, utc_now())
        _notify(notifications.request_decided(request, str(SETTINGS.portal_url)))
        return timer

    return effects().once(f"REQUEST#{request.request_id}", f"approved:{event.round}", effect)


def on_request_rejected(event: MdfRequestRejected) -> str:
    request = _request(event.request_id)
    if request.round != event.round or request.status != "rejected":
        return "stale: the request was revised before this event was handled"
    return effects().once(
        f"REQUEST#{request.request_id}",
        f"rejected:{event.round}",
        lambda: _notify(notifications.request_decided(request, str(SETTINGS.portal_url))),
    )


def on_claim_submitted(event: MdfClaimSubmitted) -> str:
    request = _request(event.request_id)
    if request.claim is None or request.claim.round != event.round:
        return "stale claim round"
    if request.claim.status != "submitted":
        return f"no review: the claim is {request.claim.status}"
    return workflow.start_claim_review(request, service().repository.partner(request.partner_id), SETTINGS)


def on_claim_decided(event: MdfClaimPaid | MdfClaimRejected | MdfClaimReturned) -> str:
    request = _request(event.request_id)
    claim = request.claim
    expected = {"MdfClaimPaid": "approved", "MdfClaimRejected": "rejected", "MdfClaimReturned": "returned"}
    if claim is None or claim.status != expected[event.DETAIL_TYPE]:
        return "stale: the claim moved on (resubmitted) before this event was handled"

    def effect() -> str:
        if isinstance(event, MdfClaimReturned):
            # The partner has until the new due date to add proof; past it, the reservation is released.
            workflow.start_claim_timer(request, SETTINGS, utc_now(), suffix=f"-c{claim.round}")
        return _notify(notifications.claim_decided(request, str(SETTINGS.portal_url)))

    return effects().once(f"REQUEST#{request.request_id}", f"claim-{claim.status}:{claim.round}", effect)


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    DealWon.DETAIL_TYPE: (DealWon, on_deal_won),
    MdfFundsAllocated.DETAIL_TYPE: (MdfFundsAllocated, on_funds_credited),
    MdfFundsAccrued.DETAIL_TYPE: (MdfFundsAccrued, on_funds_credited),
    MdfFundsAdjusted.DETAIL_TYPE: (MdfFundsAdjusted, on_funds_credited),
    MdfRequestSubmitted.DETAIL_TYPE: (MdfRequestSubmitted, on_request_submitted),
    MdfRequestApproved.DETAIL_TYPE: (MdfRequestApproved, on_request_approved),
    MdfRequestRejected.DETAIL_TYPE: (MdfRequestRejected, on_request_rejected),
    MdfClaimSubmitted.DETAIL_TYPE: (MdfClaimSubmitted, on_claim_submitted),
    MdfClaimPaid.DETAIL_TYPE: (MdfClaimPaid, on_claim_decided),
    MdfClaimRejected.DETAIL_TYPE: (MdfClaimRejected, on_claim_decided),
    MdfClaimReturned.DETAIL_TYPE: (MdfClaimReturned, on_claim_decided),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection


# ------------------------------------------------------------------ workflow messages
def _due(change: Change) -> str:
    if change.outcome == "not yet due":
        raise NotYetDue()
    return change.outcome


def on_fund_timer(message: FundTimer) -> str:
    if message.message_type == "MdfFundExpiry":
        return _due(service().expire_fund(message.partner_id, message.fund_id))
    fund = service().repository.fund(message.partner_id, message.fund_id)
    if message.message_type == "MdfFundTimerRenewal":
        if fund is None:
            return "no such fund"
        return workflow.start_fund_timer(fund, SETTINGS, utc_now(), renewal=f"-{message.claim_window_ends_at[:10]}")
    partner = service().repository.partner(message.partner_id)
    if fund is None or partner is None or fund.status != "open" or fund.available <= 0:
        return "no warning needed"
    return _notify(notifications.funds_expiring(fund, partner, message.days_left, str(SETTINGS.portal_url)))


def on_claim_timer(message: ClaimTimer) -> str:
    if message.message_type == "MdfClaimDeadline":
        return _due(service().claim_deadline(message.request_id, message.claim_due_at))
    request = _request(message.request_id)
    if request.claim_due_at is None or domain.timer_time(request.claim_due_at) != message.claim_due_at:
        return "stale timer (the due date moved)"
    if message.message_type == "MdfClaimTimerRenewal":
        return workflow.start_claim_timer(request, SETTINGS, utc_now(), suffix=f"-{utc_now():%Y%m%d}")
    waiting = request.status == "approved" or (request.claim is not None and request.claim.status == "returned")
    if not waiting or request.status not in ("approved", "claimed"):
        return "claim already filed"
    return _notify(notifications.claim_due_soon(request, message.days_left, str(SETTINGS.portal_url)))


def on_approval_expired(message: ApprovalExpired) -> str:
    if message.purpose == "request":
        change = service().request_lapsed(message)
        if change.request is not None:
            _notify(notifications.request_decided(change.request, str(SETTINGS.portal_url)))
        return change.outcome
    # Nobody reviewed a claim in time: the partner did their part, so the review starts again (escalated), a few
    # times; then operations must act (the metric has an alarm). Redelivery starts the same attempt: one review.
    request = _request(message.request_id)
    claim = request.claim
    if request.status != "claimed" or claim is None or claim.status != "submitted" or claim.round != message.round:
        return "claim no longer waiting"
    attempt = message.attempt + 1
    if attempt >= MAX_REVIEW_ATTEMPTS:
        logger.error("claim review abandoned after repeated lapses", extra={"request_id": request.request_id})
        metrics.add_metric(name="MdfClaimReviewsAbandoned", unit="Count", value=1)
        return "review abandoned: needs operations"
    logger.warning("claim review lapsed; starting again", extra={"request_id": request.request_id, "attempt": attempt})
    partner = service().repository.partner(request.partner_id)
    return workflow.start_claim_review(request, partner, SETTINGS, attempt=attempt)


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    if "detail-type" in body:
        return handle_event(body, EVENT_HANDLERS, table_name=SETTINGS.table_name, lambda_context=context)
    kind = body.get("message_type")
    if kind == "MdfRequestDecision":
        return service().decide_request(RequestDecision.model_validate(body), SETTINGS.claim_due_days).outcome
    if kind == "MdfClaimDecision":
        return service().decide_claim(ClaimDecision.model_validate(body)).outcome
    if kind == "MdfApprovalExpired":
        return on_approval_expired(ApprovalExpired.model_validate(body))
    if kind in ("MdfFundExpiryWarning", "MdfFundExpiry"):
        return on_fund_timer(FundTimer.model_validate(body))
    if kind in ("MdfClaimReminder", "MdfClaimDeadline"):
        return on_claim_timer(ClaimTimer.model_validate(body))
    raise ValueError(f"unexpected message: {sorted(body)}")


handler = sqs_handler(handle_message)
