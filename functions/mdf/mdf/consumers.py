"""MDF's queue consumer (Handler `mdf.consumers.handler`): bus events (projections, accrual, what follows a change)
and workflow messages (decisions, lapses, timers). Each handler parses and calls one service method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from contracts import onboarding_agreements as agreements
from contracts.deals import DealWinReversed, DealWon
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
from mdf.models import (
    ClaimDeadline,
    ClaimDecision,
    ClaimReminder,
    ClaimReviewExpired,
    ClaimTimerRenewal,
    FundExpiry,
    FundExpiryWarning,
    FundTimerRenewal,
    RequestApprovalExpired,
    RequestDecision,
    workflow_message,
)
from mdf.repository import MdfRepository
from mdf.service.claims_lifecycle import ClaimLifecycle
from mdf.service.funds_lifecycle import FundLifecycle
from mdf.service.requests_lifecycle import RequestLifecycle
from mdf.settings import ConsumerSettings
from mdf.workflow import MdfWorkflowAdapter
from shared.adapters import SesMailer
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects
from shared.observability import logger

SETTINGS = ConsumerSettings.from_env()


@dataclass(frozen=True)
class Services:
    funds: FundLifecycle
    requests: RequestLifecycle
    claims: ClaimLifecycle


@cache
def service() -> Services:
    """The use cases with their AWS adapters, made once per container."""
    repository = MdfRepository(SETTINGS.table_name)
    workflows = MdfWorkflowAdapter.on_aws(SETTINGS)
    mailer = SesMailer(str(SETTINGS.mail_from))
    effects = SideEffects(SETTINGS.table_name)
    portal_url = str(SETTINGS.portal_url)
    return Services(
        funds=FundLifecycle(
            repository=repository, workflows=workflows, mailer=mailer, effects=effects, portal_url=portal_url
        ),
        requests=RequestLifecycle(
            repository=repository,
            workflows=workflows,
            mailer=mailer,
            effects=effects,
            portal_url=portal_url,
            claim_due_days=SETTINGS.claim_due_days,
        ),
        claims=ClaimLifecycle(
            repository=repository, workflows=workflows, mailer=mailer, effects=effects, portal_url=portal_url
        ),
    )


# ------------------------------------------------------------------ events
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().funds.project_partner(event)


def on_deal_won(event: DealWon) -> str:
    outcome = service().funds.accrue(event)
    logger.info("accrual", extra={"deal_id": event.deal_id, "outcome": outcome})
    return outcome


def on_win_reversed(event: DealWinReversed) -> str:
    outcome = service().funds.reverse_accrual(event)
    logger.info(
        "accrual reversal", extra={"deal_id": event.deal_id, "win_revision": event.win_revision, "outcome": outcome}
    )
    return outcome


def on_funds_credited(event: MdfFundsAllocated | MdfFundsAccrued | MdfFundsAdjusted) -> str:
    return service().funds.start_expiry_timer(event.partner_id, event.fund_id)


def on_request_submitted(event: MdfRequestSubmitted) -> str:
    return service().requests.start_review(event.request_id, event.round)


def on_request_approved(event: MdfRequestApproved) -> str:
    return service().requests.announce_approval(event.request_id, event.round)


def on_request_rejected(event: MdfRequestRejected) -> str:
    return service().requests.announce_rejection(event.request_id, event.round)


def on_claim_submitted(event: MdfClaimSubmitted) -> str:
    return service().claims.start_review(event.request_id, event.round)


def on_claim_paid(event: MdfClaimPaid) -> str:
    return service().claims.announce_decision(event.request_id, "approved")


def on_claim_rejected(event: MdfClaimRejected) -> str:
    return service().claims.announce_decision(event.request_id, "rejected")


def on_claim_returned(event: MdfClaimReturned) -> str:
    return service().claims.announce_decision(event.request_id, "returned")


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    DealWon.DETAIL_TYPE: (DealWon, on_deal_won),
    DealWinReversed.DETAIL_TYPE: (DealWinReversed, on_win_reversed),
    MdfFundsAllocated.DETAIL_TYPE: (MdfFundsAllocated, on_funds_credited),
    MdfFundsAccrued.DETAIL_TYPE: (MdfFundsAccrued, on_funds_credited),
    MdfFundsAdjusted.DETAIL_TYPE: (MdfFundsAdjusted, on_funds_credited),
    MdfRequestSubmitted.DETAIL_TYPE: (MdfRequestSubmitted, on_request_submitted),
    MdfRequestApproved.DETAIL_TYPE: (MdfRequestApproved, on_request_approved),
    MdfRequestRejected.DETAIL_TYPE: (MdfRequestRejected, on_request_rejected),
    MdfClaimSubmitted.DETAIL_TYPE: (MdfClaimSubmitted, on_claim_submitted),
    MdfClaimPaid.DETAIL_TYPE: (MdfClaimPaid, on_claim_paid),
    MdfClaimRejected.DETAIL_TYPE: (MdfClaimRejected, on_claim_rejected),
    MdfClaimReturned.DETAIL_TYPE: (MdfClaimReturned, on_claim_returned),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


# ------------------------------------------------------------------ workflow messages
def on_request_decision(message: RequestDecision) -> str:
    return service().requests.decide(message)


def on_request_approval_expired(message: RequestApprovalExpired) -> str:
    return service().requests.lapse(message)


def on_claim_decision(message: ClaimDecision) -> str:
    return service().claims.decide(message)


def on_claim_review_expired(message: ClaimReviewExpired) -> str:
    return service().claims.restart_review(message)


def on_fund_expiry_warning(message: FundExpiryWarning) -> str:
    return service().funds.warn_expiry(message.partner_id, message.fund_id, message.days_left)


def on_fund_expiry(message: FundExpiry) -> str:
    return service().funds.expire_fund(message.partner_id, message.fund_id)


def on_fund_timer_renewal(message: FundTimerRenewal) -> str:
    return service().funds.renew_expiry_timer(message.partner_id, message.fund_id, message.claim_window_ends_at)


def on_claim_reminder(message: ClaimReminder) -> str:
    return service().claims.remind(message.request_id, message.claim_due_at, message.days_left)


def on_claim_deadline(message: ClaimDeadline) -> str:
    return service().claims.deadline(message.request_id, message.claim_due_at)


def on_claim_timer_renewal(message: ClaimTimerRenewal) -> str:
    return service().claims.renew_timer(message.request_id, message.claim_due_at)


# By the message's type (the union on `message_type` in mdf.models): one handler each, no branching on strings.
MESSAGE_HANDLERS: dict[type[Any], Callable[[Any], str]] = {
    RequestDecision: on_request_decision,
    RequestApprovalExpired: on_request_approval_expired,
    ClaimDecision: on_claim_decision,
    ClaimReviewExpired: on_claim_review_expired,
    FundExpiryWarning: on_fund_expiry_warning,
    FundExpiry: on_fund_expiry,
    FundTimerRenewal: on_fund_timer_renewal,
    ClaimReminder: on_claim_reminder,
    ClaimDeadline: on_claim_deadline,
    ClaimTimerRenewal: on_claim_timer_renewal,
}


def on_workflow_message(body: dict[str, Any], context: Any) -> str:
    message = workflow_message(body)
    return MESSAGE_HANDLERS[type(message)](message)


handle_message = events_or_messages(EVENT_HANDLERS, on_workflow_message, table_name=SETTINGS.table_name)


handler = sqs_handler(handle_message)
