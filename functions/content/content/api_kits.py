"""Co-branded kits and the brand profile (a Chalice Blueprint `content.api` registers): vendor admins manage kits;
partners read the published kits they may see, generate and fetch their organisation's copy; partner admins edit
the brand profile and upload its logo. Parse, call the service, shape the answer; no rules here. The partner id is
always the verified token's."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from content.api_edge import SETTINGS, caller, handle_errors, post_once, request, respond
from content.models.assets import Asset
from content.models.kits import BrandBody, CopyBody, Kit, KitBody, KitPatch, LogoBody, LogoUpload
from content.repository.assets import AssetsRepository
from content.repository.kits import KitsRepository
from content.service.brand import PARTNER_ADMIN, BrandService, ensure_partner_admin, partner_of
from content.service.kits import CopyView, KitsService, KitView, ensure_vendor_admin
from content.standing import KitStorage, PartnerStandingAdapter
from shared.edge import Routes
from shared.errors import FieldError, ValidationFailed
from shared.http import bounded_int, id_or_400, parse_body
from shared.principal import Principal

blueprint = Routes(__name__)

KIT_ID = re.compile(r"^kit_[0-9a-z]{26}$")
LOGO_UPLOAD_ID = re.compile(r"^logo_[0-9a-z]{26}$")
KIT_STATUSES = ("draft", "published")


@cache
def brand_service() -> BrandService:
    return BrandService(
        KitsRepository(SETTINGS.table_name),
        KitStorage(SETTINGS.content_bucket),
        PartnerStandingAdapter(SETTINGS.table_name),
    )


@cache
def service() -> KitsService:
    return KitsService(
        kits=KitsRepository(SETTINGS.table_name),
        brand=brand_service(),
        files=KitStorage(SETTINGS.content_bucket),
        standing=PartnerStandingAdapter(SETTINGS.table_name),
        assets=AssetsRepository(SETTINGS.table_name),
        url_seconds=SETTINGS.download_url_seconds,
    )


# ------------------------------------------------------------------ answers
def vendor_kit(kit: Kit, assets: list[Asset] | None = None) -> dict[str, Any]:
    answer = kit.model_dump(mode="json")
    if assets is not None:
        answer["assets"] = [asset_card(a) for a in assets]
    return answer


def asset_card(asset: Asset) -> dict[str, Any]:
    current = asset.current
    return {
        "asset_id": asset.asset_id,
        "title": asset.title,
        "type": asset.type,
        "language": asset.language,
        "current": (
            {
                "number": current.number,
                "file_name": current.file_name,
                "content_type": current.content_type,
                "size_bytes": current.size_bytes,
            }
            if current
            else None
        ),
    }


def partner_kit(kit: Kit, assets: list[Asset] | None = None) -> dict[str, Any]:
    """A partner's view: what the kit is for and which of its assets they may use; not the audience or the markup."""
    dumped = kit.model_dump(mode="json")
    answer = {
        "kit_id": kit.kit_id,
        "name": kit.name,
        "description": kit.description,
        "campaign": kit.campaign,
        "template": {
            "kind": kit.template.kind,
            "subject": kit.template.subject,
            "pdf": bool(kit.template.pdf and kit.template.pdf.enabled),
        },
        "template_revision": kit.template_revision,
        "min_tier_id": kit.audience.min_tier_id,
        "published_at": dumped["published_at"],
        "updated_at": dumped["updated_at"],
    }
    if assets is not None:
        answer["assets"] = [asset_card(a) for a in assets]
    return answer


def kit_answer(principal: Principal, view: KitView) -> dict[str, Any]:
    if principal.partner_id is None:
        return vendor_kit(view.kit, view.assets)
    return partner_kit(view.kit, view.assets)


def copy_answer(view: CopyView) -> dict[str, Any]:
    record = view.copy.model_dump(mode="json", exclude={"files", "partner_id"})
    return {
        "copy": record,
        "generated": view.generated,
        "preview": {"kind": view.kind, "subject": view.copy.subject, "html": view.html},
        "files": [
            {
                "name": link.file.name,
                "content_type": link.file.content_type,
                "size_bytes": link.file.size_bytes,
                "url": link.url,
                "expires_in": link.expires_in,
            }
            for link in view.links
        ],
    }


def upload_answer(upload: LogoUpload) -> dict[str, Any]:
    return upload.model_dump(mode="json", exclude={"partner_id", "s3_key", "s3_version_id"})


def kit_id_of(kit_id: str) -> str:
    return id_or_400(kit_id, KIT_ID, "kit_id")


# ------------------------------------------------------------------ kits
@blueprint.route("/content/kits", methods=["POST"])
@handle_errors
def create_kit() -> Any:
    principal = caller()
    ensure_vendor_admin(principal)
    body = parse_body(request(), KitBody)

    def run() -> tuple[int, Any]:
        return 201, vendor_kit(service().create(principal, body))

    return post_once("create_kit", principal.sub, run, body_is_key=True)


@blueprint.route("/content/kits", methods=["GET"])
@handle_errors
def list_kits() -> Any:
    principal = caller()
    params = dict(request().query_params or {})
    status = params.get("status") or None
    if status is not None and status not in KIT_STATUSES:
        raise ValidationFailed("status is not valid.", [FieldError("status", "one of draft, published")])
    limit = bounded_int(params, "limit", 25, 1, 100)
    kits, next_cursor = service().page(principal, status, limit, params.get("cursor") or None)
    shape = vendor_kit if principal.partner_id is None else partner_kit
    return respond(200, {"items": [shape(k) for k in kits], "next_cursor": next_cursor})


@blueprint.route("/content/kits/{kit_id}", methods=["GET"])
@handle_errors
def get_kit(kit_id: str) -> Any:
    principal = caller()
    return respond(200, kit_answer(principal, service().get(principal, kit_id_of(kit_id))))


@blueprint.route("/content/kits/{kit_id}", methods=["PATCH"])
@handle_errors
def change_kit(kit_id: str) -> Any:
    principal = caller()
    ensure_vendor_admin(principal)
    kit_id = kit_id_of(kit_id)
    body = parse_body(request(), KitPatch)
    return respond(200, vendor_kit(service().patch(principal, kit_id, body)))


@blueprint.route("/content/kits/{kit_id}/copies", methods=["POST"])
@handle_errors
def generate_copy(kit_id: str) -> Any:
    principal = caller()
    partner_of(principal)  # refused before the body is read (the service checks it again)
    kit_id = kit_id_of(kit_id)
    parse_body(request(), CopyBody)

    def run() -> tuple[int, Any]:
        return 201, copy_answer(service().generate(principal, kit_id))

    return post_once(f"kit_copy:{kit_id}", principal.sub, run)


@blueprint.route("/content/kits/{kit_id}/copy", methods=["GET"])
@handle_errors
def stored_copy(kit_id: str) -> Any:
    principal = caller()
    return respond(200, copy_answer(service().stored_copy(principal, kit_id_of(kit_id))))


# ------------------------------------------------------------------ brand profile
def brand_answer(principal: Principal, service: BrandService) -> dict[str, Any]:
    brand, logo = service.view(principal)
    answer = brand.model_dump(mode="json", exclude={"logo"})
    answer["logo"] = None
    if brand.logo is not None and logo is not None:
        answer["logo"] = brand.logo.model_dump(mode="json") | {"data_uri": logo.data_uri()}
    answer["editable"] = principal.in_group(PARTNER_ADMIN)
    return answer


@blueprint.route("/content/brand", methods=["GET"])
@handle_errors
def get_brand() -> Any:
    principal = caller()
    return respond(200, brand_answer(principal, brand_service()))


@blueprint.route("/content/brand", methods=["PUT"])
@handle_errors
def save_brand() -> Any:
    principal = caller()
    ensure_partner_admin(principal)
    body = parse_body(request(), BrandBody)
    brand_service().save(principal, body)
    return respond(200, brand_answer(principal, brand_service()))


@blueprint.route("/content/brand/logo", methods=["POST"])
@handle_errors
def start_logo_upload() -> Any:
    principal = caller()
    ensure_partner_admin(principal)
    body = parse_body(request(), LogoBody)

    def run() -> tuple[int, Any]:
        grant = brand_service().start_logo(principal, body)
        upload = {"url": grant.url, "fields": grant.fields, "expires_in": grant.expires_in}
        return 201, {"logo": upload_answer(grant.upload), "upload": upload}

    return post_once("brand_logo", principal.sub, run)


@blueprint.route("/content/brand/logo/{upload_id}", methods=["GET"])
@handle_errors
def logo_upload_status(upload_id: str) -> Any:
    principal = caller()
    upload_id = id_or_400(upload_id, LOGO_UPLOAD_ID, "upload_id")
    return respond(200, upload_answer(brand_service().logo_upload(principal, upload_id)))
