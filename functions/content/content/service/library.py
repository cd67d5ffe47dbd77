"""The library's vendor use cases (A) on ports: create an asset with its first upload, add a version, change the
metadata, read an asset (vendor: everything; partner: only what B's access rule allows, else 404), list assets.
Partner routes never learn whether a refused asset exists."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.domain import assets as rules
from content.models.assets import (
    Asset,
    AssetBody,
    AssetPatch,
    AssetTimer,
    AssetVersion,
    Audience,
    FileBody,
    TakeDown,
)
from content.ports import AssetAccess, Assets, ContentFiles, StaleAsset
from shared.clock import timer_time, utc_now
from shared.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from shared.ids import new_id
from shared.ports import TimerScheduler
from shared.principal import Principal

VENDOR_ADMIN = "vendor-admin"


def new_asset_id() -> str:
    return f"ast_{secrets.token_hex(12)}"


def schedule_timers(timers: TimerScheduler, scheduled: list[AssetTimer], now: datetime) -> str:
    """One one-time schedule per timer, named after the asset, the kind and the due time (a repeat adds nothing;
    a timer whose date moved is ignored when it fires)."""
    outcomes = []
    for timer in scheduled:
        due = timer_time(timer.due_at)
        name = f"content-{timer.kind}-{timer.asset_id}-{due.replace(':', '').replace('-', '')}"
        outcomes.append(timers.schedule(name, [(due, timer.model_dump(mode="json"))], now))
    return "; ".join(outcomes) or "no timers"


@dataclass(frozen=True)
class Upload:
    """A presigned POST for one version's file."""

    url: str
    fields: dict[str, Any]
    expires_in: int


@dataclass
class LibraryService:
    assets: Assets
    files: ContentFiles
    timers: TimerScheduler
    access: AssetAccess | None  # B's rule; None until it exists: partners are refused (404)
    max_asset_bytes: int
    clock: Callable[[], datetime] = utc_now
    ids: Callable[[str], str] = new_id
    asset_ids: Callable[[], str] = new_asset_id
    scheduled: list[str] = field(default_factory=list)  # what the last timers call said (logs)

    # ------------------------------------------------------------- who
    @staticmethod
    def ensure_vendor_admin(principal: Principal) -> None:
        if principal.partner_id is not None or not principal.in_group(VENDOR_ADMIN):
            raise Forbidden("Only vendor admins manage the content library.")

    # ------------------------------------------------------------- vendor writes
    def _check_tier(self, audience: Audience | None, now: datetime) -> None:
        """A minimum tier the ladder in force does not know would hide the asset from every partner: 400."""
        if audience is None or audience.min_tier_id is None or self.access is None:
            return
        problem = self.access.tier_problem(audience.min_tier_id, now)
        if problem:
            raise ValidationFailed(
                f"The minimum tier {audience.min_tier_id!r} is unknown: {problem}.",
                [FieldError("audience.min_tier_id", problem)],
            )

    def create(self, principal: Principal, body: AssetBody) -> tuple[Asset, AssetVersion, Upload]:
        self.ensure_vendor_admin(principal)
        now = self.clock()
        self._check_tier(body.audience, now)
        change, ref = rules.create(body, self.asset_ids(), principal.email, now, self.max_asset_bytes)
        assert change.version is not None
        self.assets.create(change.asset, change.version, ref)
        return change.asset, change.version, self._upload(change.version)

    def add_version(self, principal: Principal, asset_id: str, file: FileBody) -> tuple[AssetVersion, Upload]:
        self.ensure_vendor_admin(principal)
        asset = self._asset(asset_id)
        change, ref = rules.add_version(asset, file, principal.email, self.clock(), self.max_asset_bytes)
        assert change.version is not None
        try:
            self.assets.add_version(change.asset, asset.revision, change.version, ref)
        except StaleAsset as stale:
            raise Conflict("The asset changed while adding the version; try again.", code="asset_changed") from stale
        return change.version, self._upload(change.version)

    def take_down(self, principal: Principal, asset_id: str, body: TakeDown) -> Asset:
        """Expire the asset now: no partner can see, find or download it from this moment (access checks the dates
        at every request); the index drops it on ContentExpired."""
        self.ensure_vendor_admin(principal)
        asset = self._asset(asset_id)
        change = rules.take_down(asset, body.revision, self.clock(), self.ids("evt"))
        if change.asset is asset:
            return asset  # already expired: a repeat changes nothing
        try:
            self.assets.update(change.asset, asset.revision, change.events)
        except StaleAsset as stale:
            raise Conflict(
                "The asset was changed since you read it; reload it and try again.", code="stale_revision"
            ) from stale
        return change.asset

    def patch(self, principal: Principal, asset_id: str, body: AssetPatch) -> Asset:
        self.ensure_vendor_admin(principal)
        asset = self._asset(asset_id)
        now = self.clock()
        if body.audience is not None and body.audience.min_tier_id != asset.audience.min_tier_id:
            self._check_tier(body.audience, now)
        change = rules.patch(asset, body, principal.email, now, [self.ids("evt")])
        try:
            self.assets.update(change.asset, asset.revision, change.events)
        except StaleAsset as stale:
            raise Conflict(
                "The asset was changed since you read it; reload it and try again.", code="stale_revision"
            ) from stale
        if change.timers:
            self.scheduled.append(schedule_timers(self.timers, change.timers, now))
        return change.asset

    # ------------------------------------------------------------- reads
    def vendor_view(self, principal: Principal, asset_id: str) -> tuple[Asset, list[AssetVersion]]:
        self.ensure_vendor_admin(principal)
        return self._asset(asset_id), self.assets.versions(asset_id)

    def partner_view(self, principal: Principal, asset_id: str) -> Asset:
        """The asset for a partner user: only when B's access rule allows it now (dates, status, the partner's
        live tier, region and type); otherwise 404, as for an asset that does not exist."""
        partner_id = principal.partner_id
        asset = self.assets.get(asset_id)
        now = self.clock()
        if (
            partner_id is None
            or asset is None
            or self.access is None
            or not rules.visible(asset, now)
            or self.access.may_see(asset, partner_id, now) is not None
        ):
            raise NotFound(f"No asset {asset_id}.")
        return asset

    def admin_page(
        self, principal: Principal, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Asset], str | None]:
        self.ensure_vendor_admin(principal)
        return self.assets.page(status, limit, cursor)

    # ------------------------------------------------------------- helpers
    def _asset(self, asset_id: str) -> Asset:
        asset = self.assets.get(asset_id)
        if asset is None:
            raise NotFound(f"No asset {asset_id}.")
        return asset

    def _upload(self, version: AssetVersion) -> Upload:
        post = self.files.presigned_upload(version.s3_key, version.content_type, self.max_asset_bytes)
        return Upload(url=str(post["url"]), fields=dict(post["fields"]), expires_in=self.files.upload_expires_seconds)
