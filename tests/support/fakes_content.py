"""In-memory fakes of content's library ports (`content.ports.Assets`, `ContentFiles`, `AssetAccess`, and
shared.ports.TimerScheduler), for service tests without AWS.

The asset fake keeps the conditions the DynamoDB adapter writes with, all or nothing: a new asset, version and
upload key must not exist; an asset is written at the revision read (StaleAsset); a version is claimed only from
`awaiting_upload` (or again by the same object version while `processing`) and finished only from `processing` by
the object version that claimed it. `lose_next` makes that many asset writes lose a race, as a concurrent PATCH
would. The files fake keeps object versions per key, as a versioned bucket does."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.domain.assets import HEAD_BYTES, FileFacts
from content.models.assets import Asset, AssetVersion, UploadRef
from content.ports import StaleAsset
from shared.events import EventDetail


@dataclass
class FakeAssets:
    assets: dict[str, Asset] = field(default_factory=dict)
    stored_versions: dict[tuple[str, int], AssetVersion] = field(default_factory=dict)
    uploads: dict[str, UploadRef] = field(default_factory=dict)
    outbox: list[EventDetail] = field(default_factory=list)
    lose_next: int = 0

    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if detail_type == e.DETAIL_TYPE]

    # ------------------------------------------------------------- reads
    def get(self, asset_id: str) -> Asset | None:
        return self.assets.get(asset_id)

    def get_many(self, asset_ids: Sequence[str]) -> dict[str, Asset]:
        return {a: self.assets[a] for a in asset_ids if a in self.assets}

    def version(self, asset_id: str, number: int) -> AssetVersion | None:
        return self.stored_versions.get((asset_id, number))

    def versions(self, asset_id: str) -> list[AssetVersion]:
        found = [v for (a, _), v in self.stored_versions.items() if a == asset_id]
        return sorted(found, key=lambda v: v.number, reverse=True)

    def upload_ref(self, s3_key: str) -> UploadRef | None:
        return self.uploads.get(s3_key)

    def page(self, status: str | None, limit: int, cursor: str | None) -> tuple[list[Asset], str | None]:
        items = sorted(
            (a for a in self.assets.values() if status is None or a.status == status),
            key=lambda a: (a.updated_at, a.asset_id),
            reverse=True,
        )
        start = int(cursor or 0)
        page = items[start : start + limit]
        return page, (str(start + limit) if start + limit < len(items) else None)

    # ------------------------------------------------------------- writes
    def _check_asset(self, asset: Asset, previous_revision: int | None) -> None:
        if self.lose_next:
            self.lose_next -= 1
            raise StaleAsset("lost a race")
        stored = self.assets.get(asset.asset_id)
        if previous_revision is None and stored is not None:
            raise StaleAsset("asset exists")
        if previous_revision is not None and (stored is None or stored.revision != previous_revision):
            raise StaleAsset("revision moved")

    def create(self, asset: Asset, version: AssetVersion, upload: UploadRef) -> None:
        self._check_asset(asset, None)
        if (asset.asset_id, version.number) in self.stored_versions or upload.key in self.uploads:
            raise StaleAsset("exists")
        self.assets[asset.asset_id] = asset
        self.stored_versions[(asset.asset_id, version.number)] = version
        self.uploads[upload.key] = upload

    def add_version(self, asset: Asset, previous_revision: int, version: AssetVersion, upload: UploadRef) -> None:
        self._check_asset(asset, previous_revision)
        if (asset.asset_id, version.number) in self.stored_versions or upload.key in self.uploads:
            raise StaleAsset("exists")
        self.assets[asset.asset_id] = asset
        self.stored_versions[(asset.asset_id, version.number)] = version
        self.uploads[upload.key] = upload

    def update(self, asset: Asset, previous_revision: int, events: Sequence[EventDetail] = ()) -> None:
        self._check_asset(asset, previous_revision)
        self.assets[asset.asset_id] = asset
        self.outbox += list(events)

    def claim(self, version: AssetVersion) -> bool:
        stored = self.stored_versions[(version.asset_id, version.number)]
        if stored.status == "awaiting_upload" or (
            stored.status == "processing" and stored.s3_version_id == version.s3_version_id
        ):
            self.stored_versions[(version.asset_id, version.number)] = stored.model_copy(
                update={"status": "processing", "s3_version_id": version.s3_version_id}
            )
            return True
        return False

    def finish(
        self, asset: Asset, previous_revision: int, version: AssetVersion, events: Sequence[EventDetail] = ()
    ) -> None:
        stored = self.stored_versions[(version.asset_id, version.number)]
        if stored.status != "processing" or stored.s3_version_id != version.s3_version_id:
            raise StaleAsset("version not claimed by this object")
        self._check_asset(asset, previous_revision)
        self.assets[asset.asset_id] = asset
        self.stored_versions[(version.asset_id, version.number)] = version
        self.outbox += list(events)


@dataclass(frozen=True)
class FakeStored:
    size: int
    content_type: str
    head: bytes
    version_id: str | None


@dataclass
class FakeFiles:
    """A versioned bucket in memory: key -> {version id: (bytes, content type)}."""

    objects: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)
    posts: list[tuple[str, str, int]] = field(default_factory=list)
    deleted: list[tuple[str, str | None]] = field(default_factory=list)
    digests: int = 0
    upload_expires_seconds: int = 600
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def upload(self, key: str, body: bytes, content_type: str) -> str:
        """What a browser's presigned POST does: a new object version under the key."""
        version_id = f"v{next(self._ids)}"
        self.objects.setdefault(key, {})[version_id] = (body, content_type)
        return version_id

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        self.posts.append((key, content_type, max_bytes))
        return {"url": "https://bucket.test/", "fields": {"key": key, "Content-Type": content_type}}

    def stored(self, key: str, version_id: str | None) -> FakeStored | None:
        found = self.objects.get(key, {}).get(version_id or "")
        if found is None:
            return None
        body, content_type = found
        return FakeStored(size=len(body), content_type=content_type, head=body[:HEAD_BYTES], version_id=version_id)

    def digest(self, key: str, version_id: str | None, content_type: str) -> tuple[str, int, FileFacts]:
        self.digests += 1
        body, _ = self.objects[key][version_id or ""]
        facts = FileFacts(content_type)
        for offset in range(0, len(body), 7):  # small chunks: facts must count across chunk boundaries
            facts.feed(body[offset : offset + 7])
        facts.finish()
        return hashlib.sha256(body).hexdigest(), len(body), facts

    def delete(self, key: str, version_id: str | None) -> None:
        self.deleted.append((key, version_id))
        self.objects.get(key, {}).pop(version_id or "", None)

    def download_url(
        self, key: str, version_id: str | None, file_name: str, *, seconds: int, inline: bool = False
    ) -> str:
        return f"https://bucket.test/{key}?versionId={version_id}&expires={seconds}&inline={inline}"

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        return self.upload(key, body, content_type)


@dataclass
class FakeTimers:
    scheduled: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def schedule(self, name: str, timers: list[tuple[str, dict[str, Any]]], now: datetime) -> str:
        names = {n for n, _, _ in self.scheduled}
        new = [(name, due, message) for due, message in timers if name not in names]
        self.scheduled += new
        return f"{len(new)} of {len(timers)} timers scheduled ({name})"

    def messages(self, kind: str) -> list[dict[str, Any]]:
        return [m for _, _, m in self.scheduled if m["kind"] == kind]


@dataclass
class FakeAccess:
    """B's rule stand-in: partner ids allowed to see assets (by id), anything else refused with a reason."""

    allowed: set[tuple[str, str]] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)
    tiers: tuple[str, ...] = ("registered", "silver", "gold", "platinum")  # the ladder in force

    def may_see(self, asset: Asset, partner_id: str, now: datetime) -> str | None:
        self.asked.append((asset.asset_id, partner_id))
        return None if (asset.asset_id, partner_id) in self.allowed else "not in the audience"

    def tier_problem(self, tier_id: str, now: datetime) -> str | None:
        return None if tier_id in self.tiers else f"not a tier of the programme in force ({', '.join(self.tiers)})"
