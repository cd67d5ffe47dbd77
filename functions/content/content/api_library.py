"""The library's browse, search, download and tracking routes (B; a Chalice Blueprint `content.api` registers).
Parse, call the service, shape the answer; no rules here.

Partner routes pass the programme agreement gate; a partner asking for an asset it may not see gets 404 (never 403:
the answer never reveals that it exists). Vendor admins see everything, and the counters and exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from content.api_edge import SETTINGS, caller, handle_errors, post_once, request, respond
from content.domain.search import MAX_QUERY_WORDS
from content.models.assets import AssetType
from content.models.library import AssetStats, DownloadBody, Export, ExportBody
from content.repository.access import PartnersRepository
from content.repository.assets import AssetsRepository
from content.repository.search import SearchRepository
from content.repository.tracking import TrackingRepository
from content.service.downloads import DownloadsService, require_vendor_admin
from content.service.partners import Gatekeeper
from content.service.search import MAX_LIMIT, LibrarySearch
from content.storage import ContentFiles
from shared.edge import Routes
from shared.errors import FieldError, Forbidden, ValidationFailed
from shared.http import bounded_int, id_or_400, parse_body
from shared.principal import Principal

blueprint = Routes(__name__)

ASSET_ID = re.compile(r"ast_[a-f0-9]{24}")
EXPORT_ID = re.compile(r"exp_[0-9a-z]{26}")
LANGUAGE = re.compile(r"[a-z]{2}")
SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,39}")
TAG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ASSET_TYPES = get_args(AssetType)
MAX_TEXT = 200


@dataclass(frozen=True)
class Services:
    search: LibrarySearch
    downloads: DownloadsService


@cache
def service() -> Services:
    directory = PartnersRepository(SETTINGS.table_name)
    assets = AssetsRepository(SETTINGS.table_name)
    return Services(
        search=LibrarySearch(assets, SearchRepository(SETTINGS.table_name), directory),
        downloads=DownloadsService(
            assets=assets,
            files=ContentFiles(SETTINGS.content_bucket),
            gate=Gatekeeper(directory),
            tracking=TrackingRepository(SETTINGS.table_name),
            url_seconds=SETTINGS.download_url_seconds,
        ),
    )


def library_user() -> Principal:
    principal = caller()
    if principal.partner_id is None and not principal.in_group("vendor-admin"):
        raise Forbidden("Only partner users and vendor admins use the library.")
    return principal


def _params() -> dict[str, str]:
    return dict(request().query_params or {})


def _optional(params: dict[str, str], name: str, pattern: re.Pattern[str] | None, what: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    value = value.strip()
    if pattern is not None and not pattern.fullmatch(value):
        raise ValidationFailed(f"{name} is not valid.", [FieldError(name, what)])
    return value


def _choice(params: dict[str, str], name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = params.get(name) or default
    if value is not None and value not in choices:
        raise ValidationFailed(f"{name} is not valid.", [FieldError(name, f"one of {', '.join(choices)}")])
    return value


# ------------------------------------------------------------------ answer shapes
def stats_view(stats: AssetStats | None) -> dict[str, Any]:
    if stats is None:
        return {"downloads": 0, "previews": 0, "last_at": None}
    return {
        "downloads": stats.downloads,
        "previews": stats.previews,
        "last_at": stats.model_dump(mode="json")["last_at"],
    }


def export_view(export: Export, url: str) -> dict[str, Any]:
    data = export.model_dump(mode="json", exclude={"key", "version_id"})
    return data | {"download": {"url": url, "expires_in": SETTINGS.download_url_seconds}}


# ------------------------------------------------------------------ browse and search
@blueprint.route("/content/library", methods=["GET"])
@handle_errors
def library() -> Any:
    principal = library_user()
    params = _params()
    text = params.get("q")
    if text is not None and len(text) > MAX_TEXT:
        raise ValidationFailed("q is too long.", [FieldError("q", f"at most {MAX_TEXT} characters")])
    page = service().search.page(
        principal,
        text=text,
        asset_type=_choice(params, "type", ASSET_TYPES, None),
        language=_optional(params, "language", LANGUAGE, "an ISO 639-1 code (2 lower-case letters)"),
        product=_optional(params, "product", SKU, "a product SKU"),
        tag=_optional(params, "tag", TAG, "a lower-case tag"),
        order=_choice(params, "sort", ("relevance", "newest"), "relevance"),  # type: ignore[arg-type]
        limit=bounded_int(params, "limit", 20, 1, MAX_LIMIT),
        cursor=_optional(params, "cursor", None, "invalid"),
    )
    return respond(
        200,
        {"items": page.items, "next_cursor": page.next_cursor, "read": page.read, "max_words": MAX_QUERY_WORDS},
    )


# ------------------------------------------------------------------ downloads and previews
@blueprint.route("/content/assets/{asset_id}/downloads", methods=["POST"])
@handle_errors
def download(asset_id: str) -> Any:
    principal = library_user()
    asset_id = id_or_400(asset_id, ASSET_ID, "asset_id")
    body = parse_body(request(), DownloadBody)
    # a retry with the same Idempotency-Key replays the answer; two equal requests without one are two downloads
    return post_once(
        f"content-download:{asset_id}",
        principal.sub,
        lambda: (201, service().downloads.download(principal, asset_id, body)),
    )


# ------------------------------------------------------------------ the vendor's tracking
@blueprint.route("/content/assets/{asset_id}/downloads/summary", methods=["GET"])
@handle_errors
def download_summary(asset_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal, "see download counts")
    asset_id = id_or_400(asset_id, ASSET_ID, "asset_id")
    params = _params()
    asset, totals, versions, partners, cursor = service().downloads.summary(
        principal,
        asset_id,
        limit=bounded_int(params, "limit", 50, 1, 100),
        cursor=_optional(params, "cursor", None, "invalid"),
    )
    return respond(
        200,
        {
            "asset_id": asset.asset_id,
            "title": asset.title,
            "current_version": asset.current_version,
            "totals": stats_view(totals),
            "versions": [v.model_dump(mode="json", include={"version", "downloads", "previews"}) for v in versions],
            "partners": [
                p.model_dump(mode="json", include={"partner_id", "company_name", "downloads", "previews", "last_at"})
                for p in partners
            ],
            "next_cursor": cursor,
        },
    )


@blueprint.route("/content/stats", methods=["GET"])
@handle_errors
def stats() -> Any:
    principal = caller()
    require_vendor_admin(principal, "see download counts")
    params = _params()
    items, cursor = service().downloads.stats(
        principal,
        sort=_choice(params, "sort", ("downloads", "recent"), "downloads") or "downloads",
        limit=bounded_int(params, "limit", 20, 1, 100),
        cursor=_optional(params, "cursor", None, "invalid"),
    )
    return respond(
        200,
        {"items": [{"asset_id": s.asset_id, "title": s.title} | stats_view(s) for s in items], "next_cursor": cursor},
    )


@blueprint.route("/content/exports", methods=["POST"])
@handle_errors
def create_export() -> Any:
    principal = caller()
    require_vendor_admin(principal, "export downloads")
    body = parse_body(request(), ExportBody)

    def run() -> tuple[int, Any]:
        export, url = service().downloads.export(principal, body)
        return 201, export_view(export, url)

    return post_once("content-export", principal.sub, run)


@blueprint.route("/content/exports/{export_id}", methods=["GET"])
@handle_errors
def get_export(export_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal, "export downloads")
    export_id = id_or_400(export_id, EXPORT_ID, "export_id")
    export, url = service().downloads.export_of(principal, export_id)
    return respond(200, export_view(export, url))
