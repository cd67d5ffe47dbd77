"""Content's events consumer (Handler `content.consumers.handler`, ContentEventsFunction, B).

- The partner projection: onboarding's PartnerOnboarded (region from the country, partner type, company and contact)
  and tiers' PartnerTierChanged (current tier, newest `effective_at` wins), TierProgrammeVersionAdded / Withdrawn
  (the ladders an asset's minimum tier is ranked in), and the programme agreement gate's projection.
- Content's own library events: ContentPublished, ContentVersionReplaced, ContentMetadataChanged and ContentExpired
  re-index the asset (read back, so repeats and any order converge); ContentVersionReplaced also tells the people
  who downloaded an earlier version, once per person and version, a page per delivery: the next page is a message
  (content.notifications.NotifyPage) this consumer sends its own queue.

Each handler parses the event by its contract (shared.consumers: once per event id) and calls one service method."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from content.notifications import NotifyPage, VersionEmails, VersionNotifier
from content.repository.access import PartnersRepository
from content.repository.assets import AssetsRepository
from content.repository.search import SearchRepository
from content.repository.tracking import TrackingRepository
from content.service.partners import PartnerProjectionService
from content.service.search import Indexer
from content.settings import ConsumerSettings
from contracts import onboarding_agreements as agreements
from contracts.content import ContentExpired, ContentMetadataChanged, ContentPublished, ContentVersionReplaced
from contracts.onboarding import PartnerOnboarded
from contracts.tiers import PartnerTierChanged, TierProgrammeVersionAdded, TierProgrammeVersionWithdrawn
from shared.adapters import SesMailer
from shared.aws import client
from shared.consumers import events_or_messages, sqs_handler
from shared.dynamo import Table
from shared.effects import SideEffects

SETTINGS = ConsumerSettings.from_env()


@dataclass(frozen=True)
class Services:
    partners: PartnerProjectionService
    indexer: Indexer
    notifier: VersionNotifier


@cache
def services() -> Services:
    directory = PartnersRepository(SETTINGS.table_name)
    assets = AssetsRepository(SETTINGS.table_name)
    return Services(
        partners=PartnerProjectionService(directory),
        indexer=Indexer(assets, SearchRepository(SETTINGS.table_name)),
        notifier=VersionNotifier(
            assets=assets,
            tracking=TrackingRepository(SETTINGS.table_name),
            directory=directory,
            mailer=SesMailer(str(SETTINGS.mail_from)),
            effects=SideEffects(SETTINGS.table_name),
            emails=VersionEmails(str(SETTINGS.portal_url)),
            queue=SqsQueue(SETTINGS.events_queue_url),
        ),
    )


# ------------------------------------------------------------------ partners, tiers, ladders
def on_partner_onboarded(event: PartnerOnboarded) -> str:
    return services().partners.onboarded(
        partner_id=event.partner_id,
        company_name=event.company_name,
        domain=event.domain,
        country=event.country,
        partner_type=event.partner_type,
        contact_name=event.primary_contact.name,
        contact_email=str(event.primary_contact.email),
        onboarded_at=event.onboarded_at,
    )


def on_tier_changed(event: PartnerTierChanged) -> str:
    return services().partners.tier_changed(
        partner_id=event.partner_id,
        tier_id=event.tier.tier_id,
        tier_name=event.tier.name,
        effective_at=event.effective_at,
        event_id=event.event_id,
    )


def on_ladder_added(event: TierProgrammeVersionAdded) -> str:
    return services().partners.ladder_added(
        version_id=event.version_id,
        effective_from=event.effective_from,
        tiers=[(t.tier_id, t.name, t.rank) for t in event.tiers],
    )


def on_ladder_withdrawn(event: TierProgrammeVersionWithdrawn) -> str:
    return services().partners.ladder_withdrawn(version_id=event.version_id, effective_from=event.effective_from)


# ------------------------------------------------------------------ the library's own events
def on_asset_changed(event: ContentPublished | ContentMetadataChanged | ContentExpired) -> str:
    return services().indexer.reindex(event.asset_id)


def on_version_replaced(event: ContentVersionReplaced) -> str:
    indexed = services().indexer.reindex(event.asset_id)
    return f"{indexed}; {services().notifier.notify(event.asset_id)}"


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = {
    PartnerOnboarded.DETAIL_TYPE: (PartnerOnboarded, on_partner_onboarded),
    PartnerTierChanged.DETAIL_TYPE: (PartnerTierChanged, on_tier_changed),
    TierProgrammeVersionAdded.DETAIL_TYPE: (TierProgrammeVersionAdded, on_ladder_added),
    TierProgrammeVersionWithdrawn.DETAIL_TYPE: (TierProgrammeVersionWithdrawn, on_ladder_withdrawn),
    ContentPublished.DETAIL_TYPE: (ContentPublished, on_asset_changed),
    ContentMetadataChanged.DETAIL_TYPE: (ContentMetadataChanged, on_asset_changed),
    ContentExpired.DETAIL_TYPE: (ContentExpired, on_asset_changed),
    ContentVersionReplaced.DETAIL_TYPE: (ContentVersionReplaced, on_version_replaced),
} | agreements.handlers(Table(SETTINGS.table_name))  # the agreement gate's projection (contracts.onboarding_agreements)


def on_message(body: dict[str, Any], context: Any) -> str:
    """The consumer's own messages: the next page of an asset's downloaders to tell about a new version."""
    page = NotifyPage.model_validate(body)
    return services().notifier.notify(page.asset_id, version=page.version, cursor=page.cursor)


@dataclass(frozen=True)
class SqsQueue:
    """`content.ports.WorkQueue` on SQS: the consumer's own queue, by its URL."""

    queue_url: str

    def send(self, message: dict[str, Any]) -> str:
        answer = client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
        return str(answer["MessageId"])


handler = sqs_handler(events_or_messages(EVENT_HANDLERS, on_message, table_name=SETTINGS.table_name))
