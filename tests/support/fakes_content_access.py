"""In-memory fakes of content's access, search and tracking ports (B): `content.ports.PartnerDirectory`,
`SearchIndex` and `Tracking`, keeping the adapters' conditions (newest wins for profiles and tiers, a withdrawn ladder
stays withdrawn, a download's counters ADDed; `race_next` makes a record fail as a lost write would) and counting what a page reads
(`queried` names every posting partition a page asked for: a Silver partner's must never name a Gold band)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from content.models.library import (
    AssetStats,
    Download,
    Downloader,
    Export,
    IndexState,
    PartnerCounts,
    VersionCounts,
)
from content.models.partners import LadderVersion, PartnerProfile, PartnerTier, PartnerView
from content.repository.tracking import StaleStats
from shared.events import EventDetail


@dataclass
class FakePartnerDirectory:
    profiles: dict[str, PartnerProfile] = field(default_factory=dict)
    tiers: dict[str, PartnerTier] = field(default_factory=dict)
    ladders: dict[tuple[str, str], LadderVersion] = field(default_factory=dict)  # (date, version) -> version
    withdrawn: set[tuple[str, str]] = field(default_factory=set)

    def save_profile(self, profile: PartnerProfile) -> bool:
        stored = self.profiles.get(profile.partner_id)
        if stored is not None and stored.onboarded_at >= profile.onboarded_at:
            return False
        self.profiles[profile.partner_id] = profile
        return True

    def save_tier(self, tier: PartnerTier) -> bool:
        stored = self.tiers.get(tier.partner_id)
        if stored is not None and stored.effective_at >= tier.effective_at:
            return False
        self.tiers[tier.partner_id] = tier
        return True

    def add_ladder(self, version: LadderVersion) -> bool:
        key = (version.effective_from.isoformat(), version.version_id)
        if key in self.ladders or key in self.withdrawn:
            return False
        self.ladders[key] = version
        return True

    def withdraw_ladder(self, version_id: str, effective_from: str) -> None:
        self.withdrawn.add((effective_from, version_id))

    def partner(self, partner_id: str) -> PartnerView:
        profile, tier = self.profiles.get(partner_id), self.tiers.get(partner_id)
        return PartnerView(
            partner_id=partner_id,
            status=profile.status if profile else None,
            region=profile.region if profile else None,
            partner_type=profile.partner_type if profile else None,
            company_name=profile.company_name if profile else None,
            tier_id=tier.tier_id if tier else None,
        )

    def profile(self, partner_id: str) -> PartnerProfile | None:
        return self.profiles.get(partner_id)

    def ladder_in_force(self, now: datetime) -> LadderVersion | None:
        due = [k for k in self.ladders if k[0] <= now.date().isoformat() and k not in self.withdrawn]
        return self.ladders[max(due)] if due else None


@dataclass
class FakeSearchIndex:
    states: dict[str, IndexState] = field(default_factory=dict)
    partitions: dict[str, list[str]] = field(default_factory=dict)  # pk -> sorted sort keys
    band_names: set[str] = field(default_factory=set)
    queried: list[str] = field(default_factory=list)
    reads: int = 0

    def indexed(self, asset_id: str) -> IndexState | None:
        return self.states.get(asset_id)

    def save_indexed(self, state: IndexState) -> None:
        self.states[state.asset_id] = state

    def forget_indexed(self, asset_id: str) -> None:
        self.states.pop(asset_id, None)

    def write_postings(self, puts: Sequence[tuple[str, str, str]], deletes: Sequence[tuple[str, str]]) -> None:
        for pk, sk in deletes:
            keys = self.partitions.get(pk, [])
            if sk in keys:
                keys.remove(sk)
        for pk, sk, _ in puts:
            keys = self.partitions.setdefault(pk, [])
            if sk not in keys:
                bisect.insort(keys, sk)

    def add_band(self, band: str) -> None:
        self.band_names.add(band)

    def bands(self) -> list[str]:
        return sorted(self.band_names)

    def postings_after(self, pk: str, prefix: str, after: str | None, limit: int) -> list[str]:
        self.queried.append(pk)
        keys = [k for k in self.partitions.get(pk, []) if k.startswith(prefix) and (after is None or k > after)]
        self.reads += len(keys[:limit])
        return keys[:limit]

    def count(self) -> int:
        return sum(len(v) for v in self.partitions.values())


@dataclass
class FakeQueue:
    """The consumer's own queue: the messages it sent itself, in order."""

    sent: list[dict[str, object]] = field(default_factory=list)

    def send(self, message: dict[str, object]) -> str:
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


@dataclass
class FakeTracking:
    downloads: list[Download] = field(default_factory=list)
    downloaders_by_asset: dict[str, dict[str, Downloader]] = field(default_factory=dict)
    asset_stats: dict[str, AssetStats] = field(default_factory=dict)
    versions: dict[tuple[str, int], VersionCounts] = field(default_factory=dict)
    partners: dict[tuple[str, str], PartnerCounts] = field(default_factory=dict)
    exports: dict[str, Export] = field(default_factory=dict)
    outbox: list[EventDetail] = field(default_factory=list)
    race_next: int = 0  # that many records find the counters moved (another download won)

    def stats(self, asset_id: str) -> AssetStats | None:
        return self.asset_stats.get(asset_id)

    def record(self, download: Download, before: AssetStats | None, event: EventDetail) -> None:
        if self.race_next:
            self.race_next -= 1
            raise StaleStats(download.asset_id)
        field_name = "downloads" if download.kind == "download" else "previews"
        aid = download.asset_id
        stats = self.asset_stats.get(aid) or AssetStats(asset_id=aid, title=download.title)
        self.asset_stats[aid] = stats.model_copy(
            update={field_name: getattr(stats, field_name) + 1, "last_at": download.downloaded_at}
        )
        version = self.versions.get((aid, download.version)) or VersionCounts(version=download.version)
        self.versions[(aid, download.version)] = version.model_copy(
            update={field_name: getattr(version, field_name) + 1}
        )
        partner = self.partners.get((aid, download.partner_id)) or PartnerCounts(
            partner_id=download.partner_id, company_name=download.company_name
        )
        self.partners[(aid, download.partner_id)] = partner.model_copy(
            update={field_name: getattr(partner, field_name) + 1, "last_at": download.downloaded_at}
        )
        self.downloaders_by_asset.setdefault(aid, {})[str(download.person_email)] = Downloader(
            asset_id=aid,
            person_email=download.person_email,
            partner_id=download.partner_id,
            last_version=download.version,
            last_at=download.downloaded_at,
        )
        self.downloads.append(download)
        self.outbox.append(event)

    def version_counts(self, asset_id: str) -> list[VersionCounts]:
        found = [v for (a, _), v in self.versions.items() if a == asset_id]
        return sorted(found, key=lambda v: v.version, reverse=True)

    def partner_counts(
        self, asset_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[PartnerCounts], str | None]:
        found = sorted((p for (a, _), p in self.partners.items() if a == asset_id), key=lambda p: p.partner_id)
        start = int(cursor or 0)
        return found[start : start + limit], (str(start + limit) if start + limit < len(found) else None)

    def top(self, *, sort: str, limit: int, cursor: str | None) -> tuple[list[AssetStats], str | None]:
        def order(s: AssetStats) -> tuple[object, ...]:
            return (s.downloads + s.previews, s.asset_id) if sort == "downloads" else (s.last_at, s.asset_id)

        found = sorted(self.asset_stats.values(), key=order, reverse=True)
        start = int(cursor or 0)
        return found[start : start + limit], (str(start + limit) if start + limit < len(found) else None)

    def downloads_of_asset(self, asset_id: str, frm: datetime, to: datetime, max_rows: int) -> list[Download]:
        return [d for d in self.downloads if d.asset_id == asset_id and frm <= d.downloaded_at < to][:max_rows]

    def downloads_on(self, day: str, frm: datetime, to: datetime, max_rows: int) -> list[Download]:
        found = [d for d in self.downloads if d.downloaded_at.date().isoformat() == day]
        return [d for d in found if frm <= d.downloaded_at < to][:max_rows]

    def downloaders(self, asset_id: str, *, limit: int, cursor: str | None) -> tuple[list[Downloader], str | None]:
        found = sorted(self.downloaders_by_asset.get(asset_id, {}).values(), key=lambda d: str(d.person_email))
        start = int(cursor or 0)
        return found[start : start + limit], (str(start + limit) if start + limit < len(found) else None)

    def save_export(self, export: Export) -> None:
        self.exports[export.export_id] = export

    def export(self, export_id: str) -> Export | None:
        return self.exports.get(export_id)
