"""Rewards' partner projection (Handler `rewards.partners.handler`, RewardsPartnersFunction): onboarding's
PartnerOnboarded (country -> region, partner type) and tiers' PartnerTierChanged (tier history), so eligibility is
judged on the partner as it was at a fact's time; and the programme agreement gate's projection
(ProgrammeAgreementPublished, PartnerAgreementAccepted) that the API checks.

A function of its own because of Lambda's five layers: this one lists the kernel, onboarding's and tiers' contracts;
the earning function the kernel, deals', training's and rewards'. It must not import contracts.rewards."""

from __future__ import annotations

from functools import cache
from typing import Any

from contracts import onboarding_agreements as agreements
from contracts.onboarding import PartnerOnboarded
from contracts.tiers import PartnerTierChanged
from rewards.repository.partners import PartnersRepository
from rewards.service.partners import PartnerProjectionService
from rewards.settings import PartnersSettings
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table

SETTINGS = PartnersSettings.from_env()


@cache
def service() -> PartnerProjectionService:
    return PartnerProjectionService(PartnersRepository(SETTINGS.table_name))


def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return service().onboarded(
        partner_id=event.partner_id,
        company_name=event.company_name,
        country=event.country,
        partner_type=event.partner_type,
        onboarded_at=event.onboarded_at,
    )


def on_tier_changed(event: PartnerTierChanged) -> str:
    return service().tier_changed(
        partner_id=event.partner_id,
        tier_id=event.tier.tier_id,
        effective_at=event.effective_at,
        event_id=event.event_id,
    )


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    PartnerTierChanged.DETAIL_TYPE: (PartnerTierChanged, on_tier_changed),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


def _no_messages(body: dict[str, Any], context: Any) -> str:
    raise ValueError("the partner projection's queue carries bus events only")


handler = sqs_handler(events_or_messages(EVENT_HANDLERS, _no_messages, table_name=SETTINGS.table_name))
