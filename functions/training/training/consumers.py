"""Training's queue consumer (Handler `training.consumers.handler`): onboarding's people and agreement events and
training's own award events (TrainingEventsQueue), award timers and CSV import chunks (TrainingWorkQueue, which the
consumer also sends each import's next chunk to).

Each handler parses (an event by its contract, a work message by the models' union on `message_type`) and calls one
service method; the rules are in the domain, the use cases in the service.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from contracts import onboarding_agreements as agreements
from contracts.onboarding import PartnerOnboarded, PartnerUserInvited, PartnerUserRemoved
from contracts.training import CertificationEarned, CertificationExpired, CertificationWithdrawn
from shared.adapters import SchedulerTimers, SesMailer
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects
from training import csv_rows
from training.domain.imports import MAX_ROWS
from training.files import ImportStore
from training.models import (
    CertificationExpiryDue,
    CertificationReminder,
    ImportRequested,
    PartnerProfile,
    work_message,
)
from training.notifications import TrainingEmails
from training.repository import TrainingRepository
from training.service import TrainingWorkflowService, no_deadline
from training.settings import IMPORT_CEILING_BYTES, ConsumerSettings
from training.workflow import AwardTimers, SqsWorkQueue

SETTINGS = ConsumerSettings.from_env()


def parse_rows(data: bytes) -> csv_rows.CsvFile:
    return csv_rows.read_csv(data, max_rows=MAX_ROWS)


@cache
def service() -> TrainingWorkflowService:
    return TrainingWorkflowService(
        repository=TrainingRepository(SETTINGS.table_name),
        files=ImportStore(SETTINGS.import_bucket),
        work=SqsWorkQueue.from_arn(SETTINGS.work_queue_arn),  # an import's next chunk
        timers=AwardTimers(
            SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.work_queue_arn),
            SETTINGS.certification_reminder_offsets,
        ),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        notices=TrainingEmails(str(SETTINGS.portal_url)),
        effects=SideEffects(SETTINGS.table_name),
        parse_csv=parse_rows,
        max_import_bytes=IMPORT_CEILING_BYTES,  # the API held the upload to IMPORT_MAX_BYTES
    )


# ------------------------------------------------------------------ events (the bus, de-duplicated by event id)
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().project_partner(
        PartnerProfile(partner_id=event.partner_id, company_name=event.company_name, as_of=event.occurred_at)
    )


def on_user_invited(event: PartnerUserInvited) -> str:
    return service().user_invited(event.partner_id, event.email, name=event.name, role=event.role, at=event.occurred_at)


def on_user_removed(event: PartnerUserRemoved) -> str:
    return service().user_removed(event.partner_id, event.user_email, reason=event.reason, at=event.occurred_at)


def on_earned(event: CertificationEarned) -> str:
    return service().announce_earned(
        event.partner_id,
        event.holder_email,
        event.certification_id,
        award_id=event.award_id,
        expires_at=event.expires_at,
        renewal=event.renewal,
    )


def on_expired(event: CertificationExpired) -> str:
    return service().announce_expired(
        event.partner_id, event.holder_email, event.certification_id, award_id=event.award_id
    )


def on_withdrawn(event: CertificationWithdrawn) -> str:
    return "withdrawn: its timers are stale now"  # the holder lost access; nobody is mailed


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    PartnerUserInvited.DETAIL_TYPE: (PartnerUserInvited, on_user_invited),
    PartnerUserRemoved.DETAIL_TYPE: (PartnerUserRemoved, on_user_removed),
    CertificationEarned.DETAIL_TYPE: (CertificationEarned, on_earned),
    CertificationExpired.DETAIL_TYPE: (CertificationExpired, on_expired),
    CertificationWithdrawn.DETAIL_TYPE: (CertificationWithdrawn, on_withdrawn),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


# ------------------------------------------------------------------ work messages (timers and import chunks)
def seconds_left(context: Any) -> Callable[[], float]:
    """The invocation's remaining time, as an import chunk asks it before each row (no context: no deadline)."""
    if context is None:
        return no_deadline
    return lambda: context.get_remaining_time_in_millis() / 1000


def run_import(service: TrainingWorkflowService, message: ImportRequested, context: Any) -> str:
    return service.run_import(message, seconds_left=seconds_left(context))


MESSAGE_HANDLERS: dict[type[Any], Callable[[TrainingWorkflowService, Any, Any], str]] = {
    ImportRequested: run_import,
    CertificationReminder: lambda service, message, _: service.remind(message),
    CertificationExpiryDue: lambda service, message, _: service.expire(message),
}


def on_work_message(body: dict[str, Any], context: Any = None) -> str:
    message = work_message(body)
    return MESSAGE_HANDLERS[type(message)](service(), message, context)


handle_message = events_or_messages(EVENT_HANDLERS, on_work_message, table_name=SETTINGS.table_name)
handler = sqs_handler(handle_message)
