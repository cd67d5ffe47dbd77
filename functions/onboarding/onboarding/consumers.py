"""Onboarding's queue consumer (Handler `onboarding.consumers.handler`): its own events, the tiers context's
PartnerTierChanged (shown on the organisation profile), and the messages of its approval workflow and confirmation
timers. Each handler parses and calls one service method."""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from pydantic import TypeAdapter

from contracts.onboarding import (
    PartnerApplicationConfirmed,
    PartnerApplicationExpired,
    PartnerApplicationRejected,
    PartnerApplicationSubmitted,
    PartnerUserInvited,
    PartnerUserRemoved,
)
from contracts.tiers import PartnerTierChanged
from onboarding.confirmation import SignedConfirmationLinks
from onboarding.identity import CognitoUserDirectory
from onboarding.models import (
    ApplicationConfirmationDue,
    ApplicationDecision,
    ApplicationExpiry,
    TierChange,
    WorkflowMessage,
)
from onboarding.repository import DynamoOnboardingRepository
from onboarding.service import OnboardingReactions
from onboarding.settings import ConsumerSettings
from onboarding.workflow import ApprovalRoute, OnboardingWorkflows
from shared.adapters import SchedulerTimers, SesMailer, StepFunctionsStarter
from shared.consumers import events_or_messages, sqs_handler
from shared.effects import SideEffects
from shared.links import signing_key

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> OnboardingReactions:
    return OnboardingReactions(
        DynamoOnboardingRepository(SETTINGS.table_name),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        effects=SideEffects(SETTINGS.table_name),
        identity=CognitoUserDirectory(SETTINGS.user_pool_id),
        workflows=OnboardingWorkflows(
            starter=StepFunctionsStarter(),
            timers=SchedulerTimers(
                group=SETTINGS.schedule_group, role_arn=SETTINGS.scheduler_role_arn, queue_arn=SETTINGS.timer_queue_arn
            ),
            state_machine_arn=SETTINGS.state_machine_arn,
            route=ApprovalRoute(
                approver=str(SETTINGS.approver_email),
                escalation=str(SETTINGS.escalation_email),
                reminder_seconds=SETTINGS.reminder_seconds,
                escalation_seconds=SETTINGS.escalation_seconds,
                expiry_seconds=SETTINGS.expiry_seconds,
            ),
        ),
        links=SignedConfirmationLinks(
            key=partial(signing_key, SETTINGS.link_secret_arn), base_url=str(SETTINGS.link_base_url)
        ),
        portal_url=str(SETTINGS.portal_url),
    )


def on_application_submitted(event: PartnerApplicationSubmitted) -> str:
    return service().request_confirmation(event.application_id)


def on_application_confirmed(event: PartnerApplicationConfirmed) -> str:
    return service().put_before_approver(event.application_id)


def on_application_rejected(event: PartnerApplicationRejected) -> str:
    return service().tell_rejection(event.application_id, event.reason)


def on_application_expired(event: PartnerApplicationExpired) -> str:
    return service().tell_expiry(event.application_id)


def on_user_invited(event: PartnerUserInvited) -> str:
    return service().send_invitation(event)


def on_user_removed(event: PartnerUserRemoved) -> str:
    return service().revoke_access(event)


def on_tier_changed(event: PartnerTierChanged) -> str:
    return service().show_tier(
        TierChange(
            partner_id=event.partner_id,
            tier_id=event.tier.tier_id,
            name=event.tier.name,
            effective_at=event.effective_at,
            event_id=event.event_id,
        )
    )


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerApplicationSubmitted.DETAIL_TYPE: (PartnerApplicationSubmitted, on_application_submitted),
    PartnerApplicationConfirmed.DETAIL_TYPE: (PartnerApplicationConfirmed, on_application_confirmed),
    PartnerApplicationRejected.DETAIL_TYPE: (PartnerApplicationRejected, on_application_rejected),
    PartnerApplicationExpired.DETAIL_TYPE: (PartnerApplicationExpired, on_application_expired),
    PartnerUserInvited.DETAIL_TYPE: (PartnerUserInvited, on_user_invited),
    PartnerUserRemoved.DETAIL_TYPE: (PartnerUserRemoved, on_user_removed),
    PartnerTierChanged.DETAIL_TYPE: (PartnerTierChanged, on_tier_changed),
}


@cache
def _workflow_messages() -> TypeAdapter[WorkflowMessage]:
    return TypeAdapter(WorkflowMessage)


def on_workflow_message(body: dict[str, Any], context: Any) -> str:
    """A message of onboarding's workflow or timers."""
    message = _workflow_messages().validate_python(body)
    match message:
        case ApplicationDecision():
            return service().apply_decision(message)
        case ApplicationConfirmationDue():
            return service().confirmation_due(message)
        case ApplicationExpiry():
            return service().expire_application(message.application_id, expected="pending")


handle_message = events_or_messages(EVENT_HANDLERS, on_workflow_message, table_name=SETTINGS.table_name)


handler = sqs_handler(handle_message)
