"""Deals' queue consumer (Handler `deals.consumers.handler`): partner projection, workflows, decisions, expiry."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from contracts.deals import DealApproved, DealExtended, DealExtensionRequested, DealRegistered, DealRejected
from contracts.onboarding import PartnerOnboarded
from deals import domain, notifications, workflow
from deals.models import (
    Deal,
    DealApprovalExpired,
    DealDecision,
    PartnerProjection,
    ProtectionEnded,
    ProtectionReminder,
)
from deals.repository import DealsRepository
from deals.service import DealsService
from deals.settings import ConsumerSettings
from shared import agreements, mail
from shared.clock import utc_now
from shared.consumers import handle_event, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects

SETTINGS = ConsumerSettings.from_env()


@cache
def service() -> DealsService:
    return DealsService(DealsRepository(SETTINGS.table_name))


def _deal(deal_id: str) -> Deal:
    deal = service().repository.get(deal_id)
    if deal is None:
        raise LookupError(f"deal {deal_id} not found")
    return deal


def _notify(email: mail.Email) -> str:
    return mail.send(str(SETTINGS.mail_from), email)


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


def _review(deal: Deal, *, purpose: str, mode: str, note: str = "", request_id: str = "0") -> dict[str, Any]:
    """What the channel manager of the partner's region sees: the deal and each conflict's evidence."""
    partner = service().repository.partner(deal.partner_id)
    conflicting = {c.deal_id: d for c in deal.conflicts if (d := service().repository.get(c.deal_id))}
    # approvers know partners by company name (deals' own projection), not by their ids
    partner_ids = {deal.partner_id} | {d.partner_id for d in conflicting.values()}
    names = {p: known.company_name for p in partner_ids if (known := service().repository.partner(p))}
    return {
        "purpose": purpose,
        "mode": mode,
        "note": note,
        "conflicting": conflicting,
        "partner_country": partner.country if partner else deal.prospect.country,
        "request_id": request_id,
        "partner_names": names,
        "now": utc_now(),
    }


def on_registered(event: DealRegistered) -> str:
    deal = _deal(event.deal_id)
    if deal.status not in ("submitted", "under_review"):
        return f"no review: the deal is {deal.status}"  # a replayed event of a deal decided long ago
    mode = domain.review_mode(deal, SETTINGS.auto_approve_limits)
    review = _review(deal, purpose="registration", mode=mode)
    if mode == "manual" and deal.status == "submitted":
        reviewer = workflow.approval_input(deal, SETTINGS, **review)["approvers"]["initial"][0]
        deal = service().mark_under_review(deal.deal_id, reviewer)
    return workflow.start_review(deal, SETTINGS, **review)


# Side effects check the deal's current state and record themselves beside it: the bus archive can replay an event
# after the de-duplication records expired (DealApproved of a deal since won must not mail "not approved").
@cache
def effects() -> SideEffects:
    return SideEffects(SETTINGS.table_name)


def on_approved(event: DealApproved) -> str:
    deal = _deal(event.deal_id)
    if deal.status != "approved":
        return f"no approval notice: the deal is {deal.status}"

    def effect() -> str:
        timer = workflow.start_protection_timer(deal, SETTINGS, utc_now())
        _notify(notifications.decided(deal, str(SETTINGS.portal_url)))
        return timer

    return effects().once(f"DEAL#{deal.deal_id}", "approved", effect)


def on_rejected(event: DealRejected) -> str:
    deal = _deal(event.deal_id)
    if deal.status != "rejected":
        return f"no rejection notice: the deal is {deal.status}"
    return effects().once(
        f"DEAL#{deal.deal_id}", "rejected", lambda: _notify(notifications.decided(deal, str(SETTINGS.portal_url)))
    )


def on_extension_requested(event: DealExtensionRequested) -> str:
    deal = _deal(event.deal_id)
    if not deal.extension_pending or deal.extensions_used + 1 != event.extension_number:
        return "no extension review: that request was decided"
    return workflow.start_review(
        deal,
        SETTINGS,
        **_review(deal, purpose="extension", mode="manual", note=event.justification, request_id=event.event_id),
    )


def on_extended(event: DealExtended) -> str:
    deal = _deal(event.deal_id)
    if deal.status != "approved" or deal.extensions_used != event.extensions_used:
        return f"no extension notice: the deal is {deal.status}, extensions {deal.extensions_used}"

    def effect() -> str:
        timer = workflow.start_protection_timer(deal, SETTINGS, utc_now())
        _notify(notifications.extended(deal, str(SETTINGS.portal_url)))
        return timer

    return effects().once(f"DEAL#{deal.deal_id}", f"extended:{event.extensions_used}", effect)


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    DealRegistered.DETAIL_TYPE: (DealRegistered, on_registered),
    DealApproved.DETAIL_TYPE: (DealApproved, on_approved),
    DealRejected.DETAIL_TYPE: (DealRejected, on_rejected),
    DealExtensionRequested.DETAIL_TYPE: (DealExtensionRequested, on_extension_requested),
    DealExtended.DETAIL_TYPE: (DealExtended, on_extended),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection


def on_reminder(message: ProtectionReminder) -> str:
    deal = _deal(message.deal_id)
    ends = datetime.fromisoformat(message.protection_ends_at.replace("Z", "+00:00"))
    if deal.status != "approved" or deal.protection_ends_at != ends:
        return "stale reminder (closed or extended)"
    return _notify(notifications.protection_ending(deal, message.days_left, str(SETTINGS.portal_url)))


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    if "detail-type" in body:
        return handle_event(body, EVENT_HANDLERS, table_name=SETTINGS.table_name, lambda_context=context)
    kind = body.get("message_type")
    if kind == "DealDecision":
        protection, extension = workflow.protection(SETTINGS)
        return service().apply_decision(DealDecision.model_validate(body), protection=protection, extension=extension)
    if kind == "DealApprovalExpired":
        lapsed = DealApprovalExpired.model_validate(body)
        return service().approval_lapsed(lapsed.deal_id, lapsed.purpose)
    if kind == "ProtectionReminder":
        return on_reminder(ProtectionReminder.model_validate(body))
    if kind == "ProtectionEnded":
        ended = ProtectionEnded.model_validate(body)
        return service().expire(ended.deal_id, datetime.fromisoformat(ended.protection_ends_at.replace("Z", "+00:00")))
    raise ValueError(f"unexpected message: {sorted(body)}")


handler = sqs_handler(handle_message)
