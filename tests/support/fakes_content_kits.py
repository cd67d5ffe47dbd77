"""In-memory fakes of the kits ports (content.ports: Kits, Brands, KitFiles, PartnerStanding, AssetLookup) with the
same conditions as the DynamoDB and S3 adapters: revisions, copy revisions and logo upload statuses are checked,
and each object write gets a new version id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.models.assets import Asset
from content.models.common import Audience
from content.models.kits import Brand, Kit, KitCopy, LogoUpload, PartnerDefaults
from content.ports import StaleKitRecord
from shared.events import EventDetail


@dataclass
class FakeKitsStore:
    """Kits, copies, brands and logo uploads in dicts (both the Kits and the Brands port)."""

    kits: dict[str, Kit] = field(default_factory=dict)
    copies: dict[tuple[str, str], KitCopy] = field(default_factory=dict)
    brands: dict[str, Brand] = field(default_factory=dict)
    uploads: dict[tuple[str, str], LogoUpload] = field(default_factory=dict)
    logo_bytes: dict[tuple[str, str], bytes] = field(default_factory=dict)
    events: list[EventDetail] = field(default_factory=list)

    # kits
    def get(self, kit_id: str) -> Kit | None:
        return self.kits.get(kit_id)

    def create(self, kit: Kit) -> None:
        if kit.kit_id in self.kits:
            raise StaleKitRecord("exists")
        self.kits[kit.kit_id] = kit

    def update(self, kit: Kit, previous_revision: int) -> None:
        stored = self.kits.get(kit.kit_id)
        if stored is None or stored.revision != previous_revision:
            raise StaleKitRecord("revision")
        self.kits[kit.kit_id] = kit

    def page(self, status: str | None, limit: int, cursor: str | None) -> tuple[list[Kit], str | None]:
        kits = sorted(
            (k for k in self.kits.values() if status is None or k.status == status),
            key=lambda k: (k.updated_at, k.kit_id),
            reverse=True,
        )
        start = int(cursor or 0)
        page = kits[start : start + limit]
        return page, (str(start + limit) if start + limit < len(kits) else None)

    def copy(self, kit_id: str, partner_id: str) -> KitCopy | None:
        return self.copies.get((kit_id, partner_id))

    def save_copy(self, copy: KitCopy, previous_revision: int | None, events: Sequence[EventDetail]) -> None:
        stored = self.copies.get((copy.kit_id, copy.partner_id))
        if (stored.copy_revision if stored else None) != previous_revision:
            raise StaleKitRecord("copy revision")
        self.copies[(copy.kit_id, copy.partner_id)] = copy
        self.events.extend(events)

    # brands
    def brand(self, partner_id: str) -> Brand | None:
        return self.brands.get(partner_id)

    def save_brand(self, brand: Brand, previous_revision: int) -> None:
        stored = self.brands.get(brand.partner_id)
        if (stored.revision if stored else 0) != previous_revision:
            raise StaleKitRecord("brand revision")
        self.brands[brand.partner_id] = brand

    def logo_upload(self, partner_id: str, upload_id: str) -> LogoUpload | None:
        return self.uploads.get((partner_id, upload_id))

    def logo_data(self, partner_id: str, upload_id: str) -> bytes | None:
        return self.logo_bytes.get((partner_id, upload_id))

    def add_logo_upload(self, upload: LogoUpload) -> None:
        self.uploads[(upload.partner_id, upload.upload_id)] = upload

    def _awaiting(self, upload: LogoUpload) -> None:
        stored = self.uploads.get((upload.partner_id, upload.upload_id))
        if stored is None or stored.status != "awaiting_upload":
            raise StaleKitRecord("upload status")

    def logo_accepted(self, upload: LogoUpload, data: bytes, brand: Brand, previous_revision: int) -> None:
        self._awaiting(upload)
        self.save_brand(brand, previous_revision)
        self.uploads[(upload.partner_id, upload.upload_id)] = upload
        self.logo_bytes[(upload.partner_id, upload.upload_id)] = data

    def logo_rejected(self, upload: LogoUpload) -> None:
        self._awaiting(upload)
        self.uploads[(upload.partner_id, upload.upload_id)] = upload


@dataclass
class FakeKitFiles:
    """Object versions by (key, version id); presigned URLs name the key and version."""

    objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    deleted: list[tuple[str, str | None]] = field(default_factory=list)
    counter: int = 0

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        return {"url": "https://bucket.example/", "fields": {"key": key, "Content-Type": content_type}}

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        self.counter += 1
        version = f"v{self.counter}"
        self.objects[(key, version)] = (body, content_type)
        return version

    def read(self, key: str, version_id: str | None, limit: int) -> bytes | None:
        found = self.objects.get((key, version_id or ""))
        return found[0][:limit] if found else None

    def delete(self, key: str, version_id: str | None) -> None:
        self.deleted.append((key, version_id))
        self.objects.pop((key, version_id or ""), None)

    def download_url(
        self, key: str, version_id: str | None, file_name: str, *, seconds: int, inline: bool = False
    ) -> str:
        return f"https://bucket.example/{key}?versionId={version_id}&expires={seconds}"


@dataclass
class FakeStanding:
    """Partners' live standing: the tier rank each holds, and what the brand starts from."""

    ranks: dict[str, int] = field(default_factory=dict)  # partner id -> rank (absent: not onboarded)
    tier_ranks: dict[str, int] = field(default_factory=lambda: {"silver": 1, "gold": 2})
    defaults_by_partner: dict[str, PartnerDefaults] = field(default_factory=dict)
    hidden_assets: set[str] = field(default_factory=set)

    reads: int = 0  # standing reads (one per call, as the adapter does)

    def _refusal(self, audience: Audience, partner_id: str) -> str | None:
        if partner_id not in self.ranks:
            return "unknown partner"
        needed = self.tier_ranks.get(audience.min_tier_id, 99) if audience.min_tier_id else 0
        return None if self.ranks[partner_id] >= needed else "tier too low"

    def audience_refusals(self, audiences: Sequence[Audience], partner_id: str, now: datetime) -> list[str | None]:
        self.reads += 1
        return [self._refusal(audience, partner_id) for audience in audiences]

    def asset_refusals(self, assets: Sequence[Asset], partner_id: str, now: datetime) -> list[str | None]:
        self.reads += 1
        return [
            "asset hidden" if asset.asset_id in self.hidden_assets else self._refusal(asset.audience, partner_id)
            for asset in assets
        ]

    def defaults(self, partner_id: str) -> PartnerDefaults | None:
        return self.defaults_by_partner.get(partner_id)


@dataclass
class FakeAssetLookup:
    assets: dict[str, Asset] = field(default_factory=dict)

    def get_many(self, asset_ids: Sequence[str]) -> dict[str, Asset]:
        return {a: self.assets[a] for a in asset_ids if a in self.assets}
