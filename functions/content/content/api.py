"""The content HTTP routes (Chalice app `prm-content`): parse, call the service, shape the answer. No rules here.
A's library routes (assets, versions, the vendor's asset list) are below; B's (library browse and search,
downloads, tracking) and C's (kits, brand profile) are blueprints registered at the end."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from content.api_edge import SETTINGS, app, caller, handle_errors, post_once, request, respond
from content.api_kits import blueprint as kit_routes
from content.api_library import blueprint as library_routes
from content.models.assets import ASSET_STATUSES, Asset, AssetBody, AssetPatch, AssetVersion, FileBody, TakeDown
from content.repository.assets import AssetsRepository
from content.service.library import LibraryService, Upload
from content.service.partners import PartnerAccess
from content.storage import ContentFiles
from shared.adapters import SchedulerTimers
from shared.errors import FieldError, ValidationFailed
from shared.http import bounded_int, id_or_400, id_or_404, parse_body

ASSET_ID = re.compile(r"^ast_[a-f0-9]{24}$")


@cache
def service() -> LibraryService:
    return LibraryService(
        AssetsRepository(SETTINGS.table_name),
        ContentFiles(SETTINGS.content_bucket),
        SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn),
        PartnerAccess(SETTINGS.table_name),
        SETTINGS.max_asset_bytes,
    )


# ------------------------------------------------------------------ answers
def version_answer(version: AssetVersion) -> dict[str, Any]:
    return version.model_dump(mode="json")


def upload_answer(upload: Upload) -> dict[str, Any]:
    return {"url": upload.url, "fields": upload.fields, "expires_in": upload.expires_in}


def asset_answer(asset: Asset) -> dict[str, Any]:
    """The vendor's view: everything stored."""
    return asset.model_dump(mode="json")


PARTNER_FILE_FIELDS = (
    "number",
    "file_name",
    "content_type",
    "size_bytes",
    "pages",
    "duration_seconds",
    "sha256",
    "notes",
    "processed_at",
)


def partner_answer(asset: Asset) -> dict[str, Any]:
    """A partner's view: what the asset is and its live file; no audience beyond the minimum tier, no history."""
    dumped = asset.model_dump(mode="json")
    current_file = dumped.get("current") or {}
    return {
        "asset_id": asset.asset_id,
        "title": asset.title,
        "description": asset.description,
        "type": asset.type,
        "language": asset.language,
        "tags": asset.tags,
        "product_skus": asset.product_skus,
        "current": {name: current_file.get(name) for name in PARTNER_FILE_FIELDS},
        "publish_at": dumped["publish_at"],
        "expires_at": dumped["expires_at"],
        "min_tier_id": asset.audience.min_tier_id,
    }


# ------------------------------------------------------------------ assets (vendor admins)
@app.route("/content/assets", methods=["POST"])
@handle_errors
def create_asset() -> Any:
    principal = caller()
    service().ensure_vendor_admin(principal)
    body = parse_body(request(), AssetBody)

    def run() -> tuple[int, Any]:
        asset, version, upload = service().create(principal, body)
        return 201, {"asset": asset_answer(asset), "version": version_answer(version), "upload": upload_answer(upload)}

    return post_once("create_asset", principal.sub, run, body_is_key=True)


@app.route("/content/assets/{asset_id}/versions", methods=["POST"])
@handle_errors
def add_version(asset_id: str) -> Any:
    principal = caller()
    service().ensure_vendor_admin(principal)
    asset_id = id_or_400(asset_id, ASSET_ID, "asset_id")
    body = parse_body(request(), FileBody)

    def run() -> tuple[int, Any]:
        version, upload = service().add_version(principal, asset_id, body)
        return 201, {"version": version_answer(version), "upload": upload_answer(upload)}

    return post_once(f"add_version:{asset_id}", principal.sub, run)


@app.route("/content/assets/{asset_id}", methods=["PATCH"])
@handle_errors
def change_asset(asset_id: str) -> Any:
    principal = caller()
    service().ensure_vendor_admin(principal)
    asset_id = id_or_400(asset_id, ASSET_ID, "asset_id")
    body = parse_body(request(), AssetPatch)
    return respond(200, asset_answer(service().patch(principal, asset_id, body)))


@app.route("/content/assets/{asset_id}/take-down", methods=["POST"])
@handle_errors
def take_down_asset(asset_id: str) -> Any:
    """Expire an asset now (vendor admin, on its revision): partners lose it at once; PATCH a later expiry to bring
    it back."""
    principal = caller()
    service().ensure_vendor_admin(principal)
    asset_id = id_or_400(asset_id, ASSET_ID, "asset_id")
    body = parse_body(request(), TakeDown)
    return post_once(
        f"take_down:{asset_id}",
        principal.sub,
        lambda: (200, asset_answer(service().take_down(principal, asset_id, body))),
        body_is_key=True,
    )


@app.route("/content/assets/{asset_id}", methods=["GET"])
@handle_errors
def get_asset(asset_id: str) -> Any:
    """Vendor admins: the asset with its versions. Partners: the partner view, only if they may see it now (404
    otherwise, as for an asset that does not exist)."""
    principal = caller()
    asset_id = id_or_404(asset_id, ASSET_ID, "asset")
    if principal.partner_id is None:
        asset, versions = service().vendor_view(principal, asset_id)
        return respond(200, asset_answer(asset) | {"versions": [version_answer(v) for v in versions]})
    return respond(200, partner_answer(service().partner_view(principal, asset_id)))


@app.route("/content/admin/assets", methods=["GET"])
@handle_errors
def list_assets() -> Any:
    """Vendor admins' list, newest updated first, optionally of one status."""
    principal = caller()
    service().ensure_vendor_admin(principal)
    params = request().query_params or {}
    status = params.get("status") or None
    if status is not None and status not in ASSET_STATUSES:
        raise ValidationFailed("status is not valid.", [FieldError("status", f"one of {', '.join(ASSET_STATUSES)}")])
    limit = bounded_int(params, "limit", 25, 1, 100)
    items, next_cursor = service().admin_page(principal, status, limit, params.get("cursor") or None)
    return respond(200, {"items": [asset_answer(a) for a in items], "next_cursor": next_cursor})


# ------------------------------------------------------------------ blueprints (B, C)
app.register_blueprint(library_routes)  # B: browse and search, downloads, tracking, exports
app.register_blueprint(kit_routes)  # C: kits, co-branded copies, brand profiles and logos
