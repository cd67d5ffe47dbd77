"""The library's processing use cases (A) on ports: an uploaded object version (an S3 "Object Created" event) is
claimed once for its version, checked (declared type, size, magic bytes), digested (SHA-256, PDF pages, MP4
duration) and its version made ready (current, published or timed) or rejected (the object version deleted); the
publish and expiry timers. A repeated S3 event (moto's event ids are constant: the key is (key, version id)) or a
repeated timer changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from content.domain import assets as rules
from content.models.assets import AssetTimer, AssetVersion, UploadRef
from content.ports import Assets, ContentFiles, StaleAsset
from content.service.library import schedule_timers
from shared.clock import utc_now
from shared.ids import new_id
from shared.observability import logger
from shared.ports import TimerScheduler

ATTEMPTS = 3  # a concurrent change of the asset (a PATCH) between read and write: read again


@dataclass
class ProcessingService:
    assets: Assets
    files: ContentFiles
    timers: TimerScheduler
    clock: Callable[[], datetime] = utc_now
    ids: Callable[[str], str] = new_id

    def object_created(self, key: str, version_id: str | None) -> str:
        ref = self.assets.upload_ref(key)
        if ref is None:  # nobody was handed this key: nothing may keep an object there
            self.files.delete(key, version_id)
            return f"{key}: no upload was handed out for it; object version deleted"
        version = self.assets.version(ref.asset_id, ref.version)
        if version is None:
            return f"{key}: version {ref.version} of {ref.asset_id} is unknown"
        if not self._claimable(version, version_id):
            return self._not_claimable(version, key, version_id)
        claimed = version.model_copy(update={"status": "processing", "s3_version_id": version_id})
        if not self.assets.claim(claimed):
            latest = self.assets.version(ref.asset_id, ref.version) or version
            return self._not_claimable(latest, key, version_id)
        return self._process(ref, claimed)

    @staticmethod
    def _claimable(version: AssetVersion, version_id: str | None) -> bool:
        return version.status == "awaiting_upload" or (
            version.status == "processing" and version.s3_version_id == version_id
        )

    def _not_claimable(self, version: AssetVersion, key: str, version_id: str | None) -> str:
        if version.s3_version_id == version_id:
            if version.status == "rejected":
                self.files.delete(key, version_id)  # again: a crash may have come between the write and the delete
            return f"{key}: object version already processed ({version.status})"
        # another upload to a key whose version was already taken (the presigned POST reused): never kept
        self.files.delete(key, version_id)
        return f"{key}: version {version.number} is {version.status} with another object; this one deleted"

    def _process(self, ref: UploadRef, version: AssetVersion) -> str:
        key, version_id = version.s3_key, version.s3_version_id
        stored = self.files.stored(key, version_id)
        problem: str | None
        if stored is None:
            problem = "was removed before it was processed"
            sha256, size, pages, duration = "", 0, None, None
        else:
            problem = rules.file_problem(
                declared_type=version.content_type,
                stored_type=stored.content_type,
                size=stored.size,
                max_bytes=ref.max_bytes,
                head=stored.head,
            )
            sha256, size, pages, duration = "", stored.size, None, None
            if problem is None:
                sha256, size, facts = self.files.digest(key, version_id, version.content_type)
                pages, duration = facts.page_count, facts.duration_seconds
        for _ in range(ATTEMPTS):
            asset = self.assets.get(ref.asset_id)
            if asset is None:
                return f"{key}: asset {ref.asset_id} is unknown"
            now = self.clock()
            if problem:
                change = rules.rejected(asset, version, f"{version.file_name} {problem}", now)
            else:
                change = rules.processed(
                    asset,
                    version,
                    sha256=sha256,
                    size=size,
                    pages=pages,
                    duration_seconds=duration,
                    now=now,
                    event_ids=[self.ids("evt")],
                )
            assert change.version is not None
            try:
                self.assets.finish(change.asset, asset.revision, change.version, change.events)
            except StaleAsset:
                logger.info("asset changed while processing; reading it again", extra={"asset_id": asset.asset_id})
                continue
            if problem:
                self.files.delete(key, version_id)
                return f"{key}: version {version.number} rejected ({problem}); object version deleted"
            timers = schedule_timers(self.timers, change.timers, now) if change.timers else "no timers"
            events = ", ".join(e.DETAIL_TYPE for e in change.events) or "no events"
            return f"{key}: version {version.number} ready ({events}; {timers})"
        raise StaleAsset(f"{ref.asset_id} kept changing while version {version.number} was processed")

    def timer(self, timer: AssetTimer) -> str:
        for _ in range(ATTEMPTS):
            asset = self.assets.get(timer.asset_id)
            if asset is None:
                return f"{timer.kind} {timer.asset_id}: unknown asset"
            change = rules.timer_due(asset, timer, self.clock(), self.ids("evt"))
            if change is None:
                return f"{timer.kind} {timer.asset_id}: nothing to do (already done, or its date moved)"
            try:
                self.assets.update(change.asset, asset.revision, change.events)
            except StaleAsset:
                continue
            events = ", ".join(e.DETAIL_TYPE for e in change.events) or "no events"
            return f"{timer.kind} {timer.asset_id}: {change.asset.status} ({events})"
        raise StaleAsset(f"{timer.asset_id} kept changing while its {timer.kind} timer fired")
