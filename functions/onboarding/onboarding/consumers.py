"""Onboarding's queue consumer (Handler `onboarding.consumers.handler`): its own events and workflow decisions."""

from __future__ import annotations

from functools import cache
from typing import Any

from contracts.onboarding import (
    PartnerApplicationConfirmed,
    PartnerApplicationExpired,
    PartnerApplicationRejected,
    PartnerApplicationSubmitted,
    PartnerUserInvited,
)
from onboarding import confirmation, notifications, timers, workflow
from onboarding.identity import UserDirectory
from onboarding.models import Application, ApplicationConfirmationDue, ApplicationDecision, ApplicationExpiry
from onboarding.repository import OnboardingRepository
from onboarding.service import OnboardingService
from onboarding.settings import ConsumerSettings
from shared import mail
from shared.clock import iso, utc_now
from shared.consumers import handle_event, sqs_handler
from shared.errors import NotYetDue
from shared.links import signing_key

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> OnboardingService:
    return OnboardingService(OnboardingRepository(SETTINGS.table_name))


def _application(application_id: str) -> Application:
    application = service().repository.get_application(application_id)
    if application is None:
        raise LookupError(f"application {application_id} not found")
    return application


def _now() -> str:
    return iso(utc_now())


def on_application_submitted(event: PartnerApplicationSubmitted) -> str:
    """Ask the applicant to confirm their address (once per application, only while it is unconfirmed)."""
    application = _application(event.application_id)
    if application.confirm_by is None:  # submitted before email confirmation existed: straight to the approver
        return _put_before_approver(application)
    if application.status != "unconfirmed" or application.confirmation_sent_at is not None:
        return f"no confirmation email: application is {application.status}"
    # The deadline first: a repeated timer changes nothing (it checks the status), a missing one would leave the
    # application (and its domain claim) unconfirmed for ever.
    timers.schedule_confirmation_deadline(application, SETTINGS)
    expires = int(application.confirm_by.timestamp())
    link = confirmation.link(signing_key(SETTINGS.link_secret_arn), str(SETTINGS.link_base_url), application, expires)
    mail.send(str(SETTINGS.mail_from), notifications.confirm_address(application, link))
    service().repository.mark_application_once(application.application_id, "confirmation_sent_at", _now())
    return "confirmation requested"


def on_application_confirmed(event: PartnerApplicationConfirmed) -> str:
    return _put_before_approver(_application(event.application_id))


def _put_before_approver(application: Application) -> str:
    """Only a confirmed application reaches the approver; the applicant's receipt goes out once."""
    if application.status != "pending":
        return f"no approval started: application is {application.status}"
    execution = workflow.start_approval(application, SETTINGS)
    if application.receipt_sent_at is None:
        mail.send(str(SETTINGS.mail_from), notifications.application_received(application))
        service().repository.mark_application_once(application.application_id, "receipt_sent_at", _now())
    return execution


def _outcome_once(application: Application, email: mail.Email) -> str:
    if application.outcome_sent_at is not None:
        return "outcome already sent"
    message_id = mail.send(str(SETTINGS.mail_from), email)
    service().repository.mark_application_once(application.application_id, "outcome_sent_at", _now())
    return message_id


def on_application_rejected(event: PartnerApplicationRejected) -> str:
    application = _application(event.application_id)
    if application.status != "rejected":
        return f"no rejection email: application is {application.status}"
    if application.closed_because == "domain_taken":
        return _outcome_once(application, notifications.application_closed(application, event.reason))
    return _outcome_once(application, notifications.application_rejected(application, event.reason))


def on_application_expired(event: PartnerApplicationExpired) -> str:
    application = _application(event.application_id)
    if application.status != "expired":
        return f"no expiry email: application is {application.status}"
    if application.confirm_by is not None and application.confirmed_at is None:
        return "lapsed unconfirmed: nobody to tell (the address was never confirmed)"
    return _outcome_once(application, notifications.application_expired(application))


def on_user_invited(event: PartnerUserInvited) -> str:
    """Create the account and email its temporary password once per invitation: a replayed event must not reset the
    password of an invitation that already went out."""
    user = service().repository.get_user(event.partner_id, str(event.email))
    if user is None or user.status != "invited":
        return "no invitation: the user is not (or no longer) waiting for one"
    invitation_id = event.invitation_id or f"legacy:{event.event_id}"
    if user.invitation_id not in (None, event.invitation_id):
        return "a newer invitation replaced this one"
    if user.invitation_sent_for == invitation_id or (event.invitation_id is None and user.invitation_sent_at):
        return "invitation already sent"
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
    service().repository.mark_invitation_sent(event.partner_id, str(event.email), invitation_id, _now())
    return "invited"


def on_confirmation_due(message: ApplicationConfirmationDue) -> str:
    application = _application(message.application_id)
    if application.status != "unconfirmed":
        return f"confirmation deadline passed: application is {application.status}"
    if utc_now() < message.due_at:
        raise NotYetDue(f"confirmation of {message.application_id} is due at {message.due_at}")  # clock skew: retry
    return service().expire_application(message.application_id, expected="unconfirmed")


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerApplicationSubmitted.DETAIL_TYPE: (PartnerApplicationSubmitted, on_application_submitted),
    PartnerApplicationConfirmed.DETAIL_TYPE: (PartnerApplicationConfirmed, on_application_confirmed),
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
    if body.get("message_type") == "ApplicationConfirmationDue":
        return on_confirmation_due(ApplicationConfirmationDue.model_validate(body))
    if body.get("message_type") == "ApplicationExpired":
        return service().expire_application(ApplicationExpiry.model_validate(body).application_id, expected="pending")
    raise ValueError(f"unexpected message: {sorted(body)}")


handler = sqs_handler(handle_message)
