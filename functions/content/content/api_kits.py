"""Co-branded kits and the brand profile (a Chalice Blueprint `content.api` registers): vendor admins manage kits;
partners read the published kits they may see, generate and fetch their organisation's copy; partner admins edit
the brand profile and upload its logo. Parse, call the service, shape the answer; no rules here. The partner id is
always the verified token's."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from content.agreement import AgreementGate
from content.models.assets import Asset
from content.models.kits import BrandBody, CopyBody, Kit, KitBody, KitPatch, LogoBody, LogoUpload
from content.repository.assets import AssetsRepository
from content.repository.kits import KitsRepository
from content.service.brand import PARTNER_ADMIN, BrandService, ensure_partner_admin
from content.service.kits import CopyView, KitsService, KitView, ensure_vendor_admin
from content.settings import ApiSettings
from content.standing import KitStorage, PartnerStandingAdapter
from shared.edge import Routes
from shared.errors import FieldError, ValidationFailed
from shared.http import api_errors, bounded_int, id_or_400, json_response, parse_body, parse_json, principal_from
from shared.observability import logger
from shared.principal import Principal
from shared.requests import replay_safe_post

SETTINGS = ApiSettings.from_env()
blueprint = Routes(__name__)
handle_errors = api_errors(lambda: SETTINGS.allowed_origin, logger)

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


@cache
def gate() -> AgreementGate:
    return AgreementGate(SETTINGS.table_name)


def _request() -> Any:
    request = blueprint.current_request
    if request is None:
        raise RuntimeError("no request is being handled")
    return request


def caller() -> Principal:
    """The signed-in user from the verified token; a partner user only once they accepted the programme agreement."""
    principal = principal_from(_request())
    gate().require_accepted(principal)
    return principal


def respond(status: int, body: Any) -> Any:
    return json_response(status, body, origin=SETTINGS.allowed_origin)


def post_once(
    operation: str, principal: Principal, run: Callable[[], tuple[int, Any]], *, body_is_key: bool = False
) -> Any:
    """Replay a retry with the same Idempotency-Key (the first answer, not a second generation); a creating route
    also treats an identical body as a retry."""
    request = _request()
    status, body = replay_safe_post(
        table_name=SETTINGS.table_name,
        operation=operation,
        caller=principal.sub,
        headers=request.headers,
        payload=parse_json(request.raw_body),
        run=run,
        lambda_context=blueprint.lambda_context,
        body_is_key=body_is_key,
    )
    return respond(status, body)


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
    body = parse_body(_request(), KitBody)

    def run() -> tuple[int, Any]:
        return 201, vendor_kit(service().create(principal, body))

    return post_once("create_kit", principal, run, body_is_key=True)


@blueprint.route("/content/kits", methods=["GET"])
@handle_errors
def list_kits() -> Any:
    principal = caller()
    params = dict(_request().query_params or {})
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
    body = parse_body(_request(), KitPatch)
    return respond(200, vendor_kit(service().patch(principal, kit_id, body)))


@blueprint.route("/content/kits/{kit_id}/copies", methods=["POST"])
@handle_errors
def generate_copy(kit_id: str) -> Any:
    principal = caller()
    kit_id = kit_id_of(kit_id)
    parse_body(_request(), CopyBody)

    def run() -> tuple[int, Any]:
        return 201, copy_answer(service().generate(principal, kit_id))

    return post_once(f"kit_copy:{kit_id}", principal, run)


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
    body = parse_body(_request(), BrandBody)
    brand_service().save(principal, body)
    return respond(200, brand_answer(principal, brand_service()))


@blueprint.route("/content/brand/logo", methods=["POST"])
@handle_errors
def start_logo_upload() -> Any:
    principal = caller()
    ensure_partner_admin(principal)
    body = parse_body(_request(), LogoBody)

    def run() -> tuple[int, Any]:
        grant = brand_service().start_logo(principal, body)
        upload = {"url": grant.url, "fields": grant.fields, "expires_in": grant.expires_in}
        return 201, {"logo": upload_answer(grant.upload), "upload": upload}

    return post_once("brand_logo", principal, run)


@blueprint.route("/content/brand/logo/{upload_id}", methods=["GET"])
@handle_errors
def logo_upload_status(upload_id: str) -> Any:
    principal = caller()
    upload_id = id_or_400(upload_id, LOGO_UPLOAD_ID, "upload_id")
    return respond(200, upload_answer(brand_service().logo_upload(principal, upload_id)))
