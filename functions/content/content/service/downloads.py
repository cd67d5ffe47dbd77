"""Downloads, previews and the vendor's tracking (B).

A partner's download: the asset must pass the live access rule (content.domain.access, read from the projection at
this request) and only its CURRENT version is served (an older version number, like an asset it may not see, is 404:
never revealing that it exists); the answer is a presigned GET of exactly that object version, valid
`download_url_seconds` (minutes). The download is recorded with its counters and ContentDownloaded in one
transaction. A vendor admin may fetch any ready version; that is not a partner download and is not tracked.

Vendor admins read counters (never a recount of the records): per asset, per version, per partner, and a CSV
export of the records (by asset, or by day partitions, over a bounded window)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.domain.access import may_see
from content.domain.tracking import EXPORT_MAX_ROWS, days, export_csv, export_window
from content.models.assets import Asset, AssetVersion
from content.models.library import (
    AssetStats,
    Download,
    DownloadBody,
    Export,
    ExportBody,
    PartnerCounts,
    VersionCounts,
)
from content.ports import Assets, ContentFiles, Tracking
from content.repository.keys import export_object_key
from content.repository.tracking import StaleStats
from content.service.partners import Gatekeeper
from contracts.content import ContentDownloaded
from shared.clock import utc_now
from shared.errors import Conflict, Forbidden, NotFound
from shared.ids import new_id
from shared.observability import logger
from shared.principal import Principal
from shared.retry import attempts

NOT_FOUND = "No such asset."


def is_vendor_admin(principal: Principal) -> bool:
    return principal.partner_id is None and principal.in_group("vendor-admin")


def require_vendor_admin(principal: Principal, what: str) -> None:
    if not is_vendor_admin(principal):
        raise Forbidden(f"Only vendor admins {what}.")


@dataclass
class DownloadsService:
    assets: Assets
    files: ContentFiles
    gate: Gatekeeper
    tracking: Tracking
    url_seconds: int
    clock: Callable[[], datetime] = field(default=utc_now)

    # ------------------------------------------------------------- a download or preview
    def download(self, principal: Principal, asset_id: str, body: DownloadBody) -> dict[str, Any]:
        now = self.clock()
        asset = self.assets.get(asset_id)
        if asset is None:
            raise NotFound(NOT_FOUND)
        if is_vendor_admin(principal):
            return self._vendor_copy(asset, body)
        if principal.partner_id is None:
            raise Forbidden("Only partner users and vendor admins download library files.")
        partner, ladder = self.gate.standing(principal.partner_id, now)
        refusal = may_see(asset, partner, ladder, now)
        if refusal is None and body.version is not None and body.version != asset.current_version:
            refusal = f"version {body.version} is not the current one ({asset.current_version})"
        if refusal is not None or asset.current is None or not asset.current.s3_version_id:
            logger.info("download refused", extra={"asset_id": asset_id, "reason": refusal or "no stored version"})
            raise NotFound(NOT_FOUND)
        current = asset.current
        download = Download(
            download_id=new_id("dl"),
            asset_id=asset.asset_id,
            title=asset.title,
            version=current.number,
            kind=body.kind,
            partner_id=principal.partner_id,
            company_name=partner.company_name,
            person_email=principal.email,
            downloaded_at=now,
        )
        event = ContentDownloaded.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=principal.partner_id,
            download_id=download.download_id,
            asset_id=asset.asset_id,
            version_number=current.number,
            person_email=principal.email,
            kind=body.kind,
            downloaded_at=now,
        )
        for _ in attempts(5):
            try:
                self.tracking.record(download, self.tracking.stats(asset.asset_id), event)
                break
            except StaleStats:
                continue
        else:
            raise Conflict("This asset is being downloaded by many right now; try again.")
        return self._answer(current, body.kind, download.download_id)

    def _vendor_copy(self, asset: Asset, body: DownloadBody) -> dict[str, Any]:
        number = body.version or asset.current_version
        version = self.assets.version(asset.asset_id, number) if number else None
        if version is None or version.status != "ready" or not version.s3_version_id:
            raise NotFound("No such ready version of this asset.")
        return self._answer(version, body.kind, None)

    def _answer(self, version: AssetVersion, kind: str, download_id: str | None) -> dict[str, Any]:
        url = self.files.download_url(
            version.s3_key,
            version.s3_version_id,
            version.file_name,
            seconds=self.url_seconds,
            inline=kind == "preview",
        )
        return {
            "url": url,
            "expires_in": self.url_seconds,
            "version": version.number,
            "file_name": version.file_name,
            "content_type": version.content_type,
            "kind": kind,
            "download_id": download_id,
        }

    # ------------------------------------------------------------- the vendor's tracking
    def summary(
        self, principal: Principal, asset_id: str, *, limit: int, cursor: str | None
    ) -> tuple[Asset, AssetStats | None, list[VersionCounts], list[PartnerCounts], str | None]:
        require_vendor_admin(principal, "see download counts")
        asset = self.assets.get(asset_id)
        if asset is None:
            raise NotFound(NOT_FOUND)
        partners, next_cursor = self.tracking.partner_counts(asset_id, limit=limit, cursor=cursor)
        return asset, self.tracking.stats(asset_id), self.tracking.version_counts(asset_id), partners, next_cursor

    def stats(
        self, principal: Principal, *, sort: str, limit: int, cursor: str | None
    ) -> tuple[list[AssetStats], str | None]:
        require_vendor_admin(principal, "see download counts")
        return self.tracking.top(sort=sort, limit=limit, cursor=cursor)

    def export(self, principal: Principal, body: ExportBody) -> tuple[Export, str]:
        require_vendor_admin(principal, "export downloads")
        now = self.clock()
        frm, to = export_window(body.from_, body.to, now)
        if body.asset_id is not None:
            if self.assets.get(body.asset_id) is None:
                raise NotFound(NOT_FOUND)
            rows = self.tracking.downloads_of_asset(body.asset_id, frm, to, EXPORT_MAX_ROWS + 1)
        else:
            rows = []
            for day in days(frm, to):
                rows += self.tracking.downloads_on(day.isoformat(), frm, to, EXPORT_MAX_ROWS + 1 - len(rows))
                if len(rows) > EXPORT_MAX_ROWS:
                    break
        truncated = len(rows) > EXPORT_MAX_ROWS
        rows = sorted(rows, key=lambda r: (r.downloaded_at, r.download_id))[:EXPORT_MAX_ROWS]
        export_id = new_id("exp")
        key = export_object_key(export_id)
        version_id = self.files.put(key, export_csv(rows).encode("utf-8"), "text/csv; charset=utf-8")
        export = Export(
            export_id=export_id,
            key=key,
            version_id=version_id,
            asset_id=body.asset_id,
            from_at=frm,
            to_at=to,
            rows=len(rows),
            truncated=truncated,
            requested_by=principal.email,
            created_at=now,
        )
        self.tracking.save_export(export)
        return export, self._export_url(export)

    def export_of(self, principal: Principal, export_id: str) -> tuple[Export, str]:
        require_vendor_admin(principal, "export downloads")
        export = self.tracking.export(export_id)
        if export is None:
            raise NotFound("No such export.")
        return export, self._export_url(export)

    def _export_url(self, export: Export) -> str:
        return self.files.download_url(
            export.key, export.version_id, f"downloads-{export.export_id}.csv", seconds=self.url_seconds
        )
