"""Tiers' queue consumer (Handler `tiers.consumers.handler`): the projection of deals', training's and onboarding's
events into running totals and evaluation, of onboarding's agreement events into the gate on the partner routes, the
programme's own events (approval workflow, timers, emails), and the workflow and timer messages.

Each handler parses (an event by its contract, a workflow message by the models' union on `message_type`) and calls
one service method; the rules are in the domain, the use cases in the service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from contracts import onboarding_agreements as agreements
from contracts.deals import DealApproved, DealLost, DealWinReversed, DealWon
from contracts.onboarding import PartnerOnboarded, PartnerUserInvited, PartnerUserRemoved
from contracts.tiers import (
    PartnerTierChanged,
    PartnerTierGracePeriodEnded,
    PartnerTierGracePeriodStarted,
    TierUpgradeRequested,
)
from contracts.training import (
    CertificationDefined,
    CertificationEarned,
    CertificationExpired,
    CertificationWithdrawn,
)
from shared.adapters import SchedulerTimers, SesMailer, StepFunctionsStarter
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects
from tiers.domain.standing import Terms
from tiers.models import (
    GraceEnds,
    GraceWarning,
    Reevaluation,
    TierUpgradeDecision,
    TierUpgradeExpired,
    VersionTakesEffect,
    workflow_message,
)
from tiers.notifications import TierEmails
from tiers.repository import TiersRepository
from tiers.service import TierWorkflowService
from tiers.settings import ConsumerSettings
from tiers.workflow import TierWorkflowsAdapter

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> TierWorkflowService:
    return TierWorkflowService(
        repository=TiersRepository(SETTINGS.table_name),
        workflows=TierWorkflowsAdapter(
            SETTINGS,
            starter=StepFunctionsStarter(),
            timers=SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn),
        ),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        notices=TierEmails(str(SETTINGS.portal_url)),
        effects=SideEffects(SETTINGS.table_name),
        terms=Terms(
            grace=timedelta(seconds=SETTINGS.grace_seconds),
            warning_offsets=tuple(SETTINGS.grace_warning_offsets),
            window_days=SETTINGS.window_days,
        ),
    )


# ------------------------------------------------------------------ onboarding's events
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().onboard(event.partner_id, event.company_name)


def on_user_invited(event: PartnerUserInvited) -> str:
    return service().user_invited(event.partner_id, event.email, event.role, event.occurred_at)


def on_user_removed(event: PartnerUserRemoved) -> str:
    return service().user_removed(event.partner_id, event.user_email, event.occurred_at)


# ------------------------------------------------------------------ deals' events
def on_deal_approved(event: DealApproved) -> str:
    return service().deal_approved(event.partner_id, event.deal_id, event.occurred_at)


def on_deal_won(event: DealWon) -> str:
    return service().deal_won(event.partner_id, event.deal_id, event.amount, event.close_date, event.win_revision)


def on_win_reversed(event: DealWinReversed) -> str:
    return service().deal_win_reversed(
        event.partner_id,
        event.deal_id,
        event.win_revision,
        reason=event.reason,
        reversed_by=event.reversed_by,
        previous_amount=event.previous_amount,
        at=event.occurred_at,
    )


def on_deal_lost(event: DealLost) -> str:
    return service().deal_lost(event.partner_id, event.deal_id)


# ------------------------------------------------------------------ training's events
def _award_changed(event: CertificationEarned | CertificationExpired | CertificationWithdrawn, *, earned: bool) -> str:
    return service().award_changed(
        event.partner_id,
        earned=earned,
        award_id=event.award_id,
        certification_id=event.certification_id,
        holder=event.holder_email,
        at=event.occurred_at,
    )


def on_certification_defined(event: CertificationDefined) -> str:
    return service().certification_defined(event.certification_id, event.certification_name, event.occurred_at)


def on_certification_earned(event: CertificationEarned) -> str:
    return _award_changed(event, earned=True)


def on_certification_ended(event: CertificationExpired | CertificationWithdrawn) -> str:
    return _award_changed(event, earned=False)


# ------------------------------------------------------------------ the programme's own events
def on_grace_ended(event: PartnerTierGracePeriodEnded) -> str:
    return f"grace period of {event.partner_id} ended: {event.outcome}"  # its change was announced with it


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    PartnerUserInvited.DETAIL_TYPE: (PartnerUserInvited, on_user_invited),
    PartnerUserRemoved.DETAIL_TYPE: (PartnerUserRemoved, on_user_removed),
    DealApproved.DETAIL_TYPE: (DealApproved, on_deal_approved),
    DealWon.DETAIL_TYPE: (DealWon, on_deal_won),
    DealWinReversed.DETAIL_TYPE: (DealWinReversed, on_win_reversed),
    DealLost.DETAIL_TYPE: (DealLost, on_deal_lost),
    CertificationDefined.DETAIL_TYPE: (CertificationDefined, on_certification_defined),
    CertificationEarned.DETAIL_TYPE: (CertificationEarned, on_certification_earned),
    CertificationExpired.DETAIL_TYPE: (CertificationExpired, on_certification_ended),
    CertificationWithdrawn.DETAIL_TYPE: (CertificationWithdrawn, on_certification_ended),
    TierUpgradeRequested.DETAIL_TYPE: (TierUpgradeRequested, lambda e: service().start_upgrade_review(e)),
    PartnerTierChanged.DETAIL_TYPE: (PartnerTierChanged, lambda e: service().announce_change(e)),
    PartnerTierGracePeriodStarted.DETAIL_TYPE: (PartnerTierGracePeriodStarted, lambda e: service().grace_started(e)),
    PartnerTierGracePeriodEnded.DETAIL_TYPE: (PartnerTierGracePeriodEnded, on_grace_ended),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


# ------------------------------------------------------------------ workflow messages (state machine and timers)
MESSAGE_HANDLERS: dict[type[Any], Callable[[TierWorkflowService, Any], str]] = {
    TierUpgradeDecision: TierWorkflowService.apply_decision,
    TierUpgradeExpired: TierWorkflowService.upgrade_lapsed,
    Reevaluation: TierWorkflowService.reevaluate,
    VersionTakesEffect: TierWorkflowService.version_takes_effect,
    GraceWarning: TierWorkflowService.warn_grace,
    GraceEnds: TierWorkflowService.end_grace,
}


def on_workflow_message(body: dict[str, Any], context: Any) -> str:
    message = workflow_message(body)
    return MESSAGE_HANDLERS[type(message)](service(), message)


handle_message = events_or_messages(EVENT_HANDLERS, on_workflow_message, table_name=SETTINGS.table_name)


handler = sqs_handler(handle_message)
