"""Deals' queue consumer (Handler `deals.consumers.handler`): partner projection (onboarding's PartnerOnboarded, the
tiers context's PartnerTierChanged), reviews, decisions, timers.

Each handler parses (an event by its contract, a workflow message by the models' union on `message_type`) and calls
one service method; the rules are in the domain, the use cases in the service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from contracts import onboarding_agreements as agreements
from contracts.deals import (
    DealApproved,
    DealExtended,
    DealExtensionRefused,
    DealExtensionRequested,
    DealRegistered,
    DealRejected,
)
from contracts.onboarding import PartnerOnboarded
from contracts.tiers import PartnerTierChanged
from deals.domain import AutoApprovalLimits, DealTerms
from deals.models import (
    DealApprovalExpired,
    DealDecision,
    PartnerProjection,
    ProtectionEnded,
    ProtectionReminder,
    TierChange,
    workflow_message,
)
from deals.notifications import DealEmails
from deals.repository import DealsRepository
from deals.service import DealWorkflowService
from deals.settings import ConsumerSettings
from deals.workflow import DealWorkflowsAdapter
from shared.adapters import SchedulerTimers, SesMailer, StepFunctionsStarter
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> DealWorkflowService:
    return DealWorkflowService(
        repository=DealsRepository(SETTINGS.table_name),
        workflows=DealWorkflowsAdapter(
            SETTINGS,
            starter=StepFunctionsStarter(),
            timers=SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn),
        ),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        notices=DealEmails(str(SETTINGS.portal_url)),
        effects=SideEffects(SETTINGS.table_name),
        terms=DealTerms(
            protection=timedelta(seconds=SETTINGS.protection_seconds),
            extension=timedelta(seconds=SETTINGS.extension_seconds),
            auto_approve_limits=AutoApprovalLimits(
                default=SETTINGS.auto_approve_limits, by_tier=SETTINGS.auto_approve_limits_by_tier
            ),
        ),
    )


# ------------------------------------------------------------------ events (the bus, de-duplicated by event id)
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().project_partner(
        PartnerProjection(
            partner_id=event.partner_id,
            company_name=event.company_name,
            country=event.country,
            status=event.status,
            as_of=event.occurred_at,
        )
    )


def on_tier_changed(event: PartnerTierChanged) -> str:
    return service().project_tier(
        TierChange(
            partner_id=event.partner_id,
            tier_id=event.tier.tier_id,
            name=event.tier.name,
            rank=event.tier.rank,
            effective_at=event.effective_at,
            event_id=event.event_id,
        )
    )


def on_registered(event: DealRegistered) -> str:
    return service().review_registration(event.deal_id)


def on_approved(event: DealApproved) -> str:
    return service().announce_decision(event.deal_id, "approved")


def on_rejected(event: DealRejected) -> str:
    return service().announce_decision(event.deal_id, "rejected")


def on_extension_requested(event: DealExtensionRequested) -> str:
    return service().review_extension(
        event.deal_id,
        extension_number=event.extension_number,
        justification=event.justification,
        request_id=event.event_id,
    )


def on_extended(event: DealExtended) -> str:
    return service().announce_extension(event.deal_id, event.extensions_used)


def on_extension_refused(event: DealExtensionRefused) -> str:
    return service().announce_extension_refusal(
        event.deal_id, extension_number=event.extension_number, refused_at=event.occurred_at, reason=event.reason
    )


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    PartnerTierChanged.DETAIL_TYPE: (PartnerTierChanged, on_tier_changed),
    DealRegistered.DETAIL_TYPE: (DealRegistered, on_registered),
    DealApproved.DETAIL_TYPE: (DealApproved, on_approved),
    DealRejected.DETAIL_TYPE: (DealRejected, on_rejected),
    DealExtensionRequested.DETAIL_TYPE: (DealExtensionRequested, on_extension_requested),
    DealExtended.DETAIL_TYPE: (DealExtended, on_extended),
    DealExtensionRefused.DETAIL_TYPE: (DealExtensionRefused, on_extension_refused),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


# ------------------------------------------------------------------ workflow messages (state machine and timers)
MESSAGE_HANDLERS: dict[type[Any], Callable[[DealWorkflowService, Any], str]] = {
    DealDecision: DealWorkflowService.apply_decision,
    DealApprovalExpired: DealWorkflowService.approval_lapsed,
    ProtectionReminder: DealWorkflowService.remind,
    ProtectionEnded: DealWorkflowService.expire,
}


def on_workflow_message(body: dict[str, Any], context: Any) -> str:
    message = workflow_message(body)
    return MESSAGE_HANDLERS[type(message)](service(), message)


handle_message = events_or_messages(EVENT_HANDLERS, on_workflow_message, table_name=SETTINGS.table_name)


handler = sqs_handler(handle_message)
