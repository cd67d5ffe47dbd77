"""Onboarding's queue consumer (Handler `onboarding.consumers.handler`): its own events and workflow decisions."""

from __future__ import annotations

from functools import cache
from typing import Any

from onboarding import notifications, workflow
from onboarding.identity import UserDirectory
from onboarding.models import Application, ApplicationDecision, ApplicationExpiry
from onboarding.repository import OnboardingRepository
from onboarding.service import OnboardingService
from onboarding.settings import ConsumerSettings
from shared import mail
from shared.clock import iso, utc_now
from shared.consumers import handle_event, sqs_handler
from shared.contracts.onboarding import (
    PartnerApplicationExpired,
    PartnerApplicationRejected,
    PartnerApplicationSubmitted,
    PartnerUserInvited,
)

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> OnboardingService:
    return OnboardingService(OnboardingRepository(SETTINGS.table_name))


def _application(application_id: str) -> Application:
    application = service().repository.get_application(application_id)
    if application is None:
        raise LookupError(f"application {application_id} not found")
    return application


def on_application_submitted(event: PartnerApplicationSubmitted) -> str:
    execution = workflow.start_approval(event, SETTINGS)
    mail.send(str(SETTINGS.mail_from), notifications.application_received(_application(event.application_id)))
    return execution


def on_application_rejected(event: PartnerApplicationRejected) -> str:
    return mail.send(
        str(SETTINGS.mail_from), notifications.application_rejected(_application(event.application_id), event.reason)
    )


def on_application_expired(event: PartnerApplicationExpired) -> str:
    return mail.send(str(SETTINGS.mail_from), notifications.application_expired(_application(event.application_id)))


def on_user_invited(event: PartnerUserInvited) -> str:
    password = UserDirectory(SETTINGS.user_pool_id).invite(
        email=str(event.email), name=event.name, partner_id=event.partner_id, role=event.role
    )
    if password is None:
        return "account already in use; no invitation sent"
    partner = service().repository.get_partner(event.partner_id)
    company = partner.company_name if partner else "your organisation"
    mail.send(
        str(SETTINGS.mail_from),
        notifications.invitation(
            email=str(event.email),
            name=event.name,
            company=company,
            password=password,
            portal_url=str(SETTINGS.portal_url),
        ),
    )
    service().repository.mark_invitation_sent(event.partner_id, str(event.email), iso(utc_now()))
    return "invited"


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerApplicationSubmitted.DETAIL_TYPE: (PartnerApplicationSubmitted, on_application_submitted),
    PartnerApplicationRejected.DETAIL_TYPE: (PartnerApplicationRejected, on_application_rejected),
    PartnerApplicationExpired.DETAIL_TYPE: (PartnerApplicationExpired, on_application_expired),
    PartnerUserInvited.DETAIL_TYPE: (PartnerUserInvited, on_user_invited),
}


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    """Dispatch one message: an EventBridge event of onboarding's, or a message from the approval workflow."""
    if "detail-type" in body:
        return handle_event(body, EVENT_HANDLERS, table_name=SETTINGS.table_name, lambda_context=context)
    if body.get("message_type") == "ApplicationDecision":
        return service().apply_decision(ApplicationDecision.model_validate(body))
    if body.get("message_type") == "ApplicationExpired":
        return service().expire_application(ApplicationExpiry.model_validate(body).application_id)
    raise ValueError(f"unexpected message: {sorted(body)}")


handler = sqs_handler(handle_message)
