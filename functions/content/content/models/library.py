"""The library's browse, search, download and tracking records and request bodies (B)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from content.models.common import Record, Strict
from shared.clock import UtcDateTime
from shared.email import Email


class IndexState(Record):
    """`ASSET#<aid>` / `INDEXED`: what the asset posts now (its terms and weights, band, publish instant), so the next
    indexing deletes exactly the postings that went stale."""

    asset_id: str
    band: str
    publish_at: UtcDateTime
    terms: dict[str, int]
    indexed_at: UtcDateTime


DownloadKind = Literal["download", "preview"]


class DownloadBody(Strict):
    """POST /content/assets/{asset_id}/downloads: a download (attachment) or a preview (inline) of the current
    version; `version` may name it (any other number is 404 for a partner; vendor admins may name any ready one)."""

    kind: DownloadKind = "download"
    version: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)


class Download(Record):
    """`DOWNLOADS#<day>` / `<at>#<did>`: one download or preview by a partner's person (gsi1: by asset)."""

    download_id: str
    asset_id: str
    title: str
    version: int
    kind: DownloadKind
    partner_id: str
    company_name: str | None = None
    person_email: Email
    downloaded_at: UtcDateTime


class Downloader(Record):
    """`ASSET#<aid>` / `DOWNLOADER#<email>`: the last version a person downloaded (version-changed emails)."""

    asset_id: str
    person_email: Email
    partner_id: str
    last_version: int
    last_at: UtcDateTime


class Counts(Record):
    downloads: int = 0
    previews: int = 0


class AssetStats(Counts):
    """`ASSET#<aid>` / `STATS`: the asset's counters (bounded reads: never a recount of the records)."""

    asset_id: str
    title: str = ""
    last_at: UtcDateTime | None = None


class PartnerCounts(Counts):
    partner_id: str
    company_name: str | None = None
    last_at: UtcDateTime | None = None


class VersionCounts(Counts):
    version: int


class ExportBody(Strict):
    """POST /content/exports (vendor admin): the downloads of one asset or of all, from `from` up to `to` (UTC; at
    most 92 days apart; default the last 30 days)."""

    asset_id: str | None = Field(default=None, pattern=r"^ast_[a-f0-9]{24}$")
    from_: UtcDateTime | None = Field(default=None, alias="from")
    to: UtcDateTime | None = None


class Export(Record):
    """`EXPORT#<eid>` / `EXPORT`: one CSV export (rows written, whether it stopped at the row limit)."""

    export_id: str
    key: str
    version_id: str | None = None
    asset_id: str | None = None
    from_at: UtcDateTime
    to_at: UtcDateTime
    rows: int
    truncated: bool
    requested_by: str
    created_at: UtcDateTime
