"""Version-changed emails (B): when a new version of an asset becomes current, every person who downloaded an earlier
version is told once (per person and version: shared.effects), with the new version's notes and a portal link.
People whose partner may no longer see the asset are not mailed (the rule is read live, as for a download)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field

from content.domain.access import may_see
from content.models.assets import Asset
from content.models.common import AssetId, Strict
from content.models.library import Downloader
from content.models.partners import LadderVersion, PartnerView
from content.ports import Assets, PartnerDirectory, Tracking, WorkQueue
from shared.clock import utc_now
from shared.mail import Email
from shared.notices import notice
from shared.ports import Mailer, SideEffectLedger

PAGE = 100  # downloaders per delivery


@dataclass(frozen=True)
class VersionEmails:
    portal_url: str

    def changed(self, asset: Asset, person: str) -> Email:
        current = asset.current
        number = current.number if current else asset.current_version
        lines = [f"“{asset.title}” has a new version ({number}). You downloaded an earlier one."]
        notes = (current.notes or "").strip() if current else ""
        lines.append(f"What changed: {notes}" if notes else "Download the new version from the library.")
        link = f"{self.portal_url.rstrip('/')}/#/content/{asset.asset_id}"
        return notice(person, f"New version of {asset.title}", lines, link, "Open it in the library")


class NotifyPage(Strict):
    """The consumer's message to itself (its own queue): the next page of an asset's downloaders to tell about
    `version` (a page per delivery keeps each within the function's timeout, however many people downloaded)."""

    kind: Literal["notify_downloaders"] = "notify_downloaders"
    asset_id: AssetId
    version: int = Field(ge=2)
    cursor: str = Field(min_length=1, max_length=1000)


@dataclass
class VersionNotifier:
    assets: Assets
    tracking: Tracking
    directory: PartnerDirectory
    mailer: Mailer
    effects: SideEffectLedger
    emails: VersionEmails
    queue: WorkQueue
    page_size: int = PAGE
    clock: Callable[[], datetime] = field(default=utc_now)

    def notify(self, asset_id: str, *, version: int | None = None, cursor: str | None = None) -> str:
        """Mail one page of the asset's earlier downloaders about its current version; the next page is a message
        to this consumer's own queue. A page for a version that is no longer current stops (the newer version's
        event tells everyone about it)."""
        now = self.clock()
        asset = self.assets.get(asset_id)
        if asset is None or asset.current is None:
            return f"asset {asset_id}: nothing current to announce"
        number = asset.current.number
        if version is not None and version != number:
            return f"asset {asset_id}: version {version} is no longer current ({number}): nothing more to tell"
        ladder = self.directory.ladder_in_force(now)
        partners: dict[str, PartnerView] = {}
        people, next_cursor = self.tracking.downloaders(asset_id, limit=self.page_size, cursor=cursor)
        sent = sum(1 for person in people if self._mail(asset, person, number, ladder, partners, now))
        outcome = f"asset {asset_id} version {number}: {sent} people told, {len(people) - sent} not"
        if next_cursor is not None:
            self.queue.send(NotifyPage(asset_id=asset_id, version=number, cursor=next_cursor).model_dump(mode="json"))
            outcome += "; the next page queued"
        return outcome

    def _mail(
        self,
        asset: Asset,
        person: Downloader,
        number: int,
        ladder: LadderVersion | None,
        partners: dict[str, PartnerView],
        now: datetime,
    ) -> bool:
        if person.last_version >= number:
            return False
        if person.partner_id not in partners:
            partners[person.partner_id] = self.directory.partner(person.partner_id)
        if may_see(asset, partners[person.partner_id], ladder, now) is not None:
            return False
        email = self.emails.changed(asset, str(person.person_email))
        self.effects.once(
            f"ASSET#{asset.asset_id}",
            f"version-changed#{number}#{person.person_email}",
            lambda: self.mailer.send(email),
        )
        return True
