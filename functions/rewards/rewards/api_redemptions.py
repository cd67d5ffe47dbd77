"""Rewards' spending routes (a Chalice Blueprint that `rewards.api` registers): the catalogue, redemptions, tax forms,
payout batches and SPIFF claims with their proof files. Parse, call the service, shape the answer; no rules here."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalice import Response
from pydantic import ValidationError

from rewards.api_edge import SETTINGS, caller, handle_errors, post_once, request, respond
from rewards.exports import PayoutFilesS3
from rewards.models.redemptions import (
    REDEMPTION_BODY,
    CancelBody,
    CatalogueItem,
    CatalogueItemBody,
    CatalogueItemPatch,
    Claim,
    ClaimBody,
    PayoutBatch,
    Redemption,
    ResubmitBody,
    TaxFormBody,
    UploadBody,
)
from rewards.params import page_limit
from rewards.proofs import ProofStore
from rewards.repository.store import RewardsRepository
from rewards.service.claims import ClaimsService
from rewards.service.payouts import PayoutsService
from rewards.service.redemptions import RedemptionsService, require_partner_user, require_vendor_admin
from shared.edge import Routes
from shared.errors import FieldError, NotFound, ValidationFailed
from shared.http import field_errors, id_or_400, parse_body, parse_json
from shared.links import REFUSED_LINK, proof_link_refusal, signing_key
from shared.observability import logger

blueprint = Routes(__name__)

ITEM_ID = re.compile(r"item_[0-9a-z]{26}")
REDEMPTION_ID = re.compile(r"rdm_[0-9a-z]{26}")
BATCH_ID = re.compile(r"batch_[0-9a-z]{26}")
CLAIM_ID = re.compile(r"clm_[0-9a-f]{26}")
FILE_ID = re.compile(r"file_[0-9a-z]{26}")
PARTNER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Services:
    redemptions: RedemptionsService
    payouts: PayoutsService
    claims: ClaimsService


@cache
def service() -> Services:
    """The use cases with their AWS adapters, made once per container."""
    repository = RewardsRepository(SETTINGS.table_name)
    return Services(
        redemptions=RedemptionsService(repository=repository, payout_minimums=dict(SETTINGS.payout_minimums)),
        payouts=PayoutsService(repository=repository, files=PayoutFilesS3(SETTINGS.rewards_bucket)),
        claims=ClaimsService(
            repository=repository,
            proofs=ProofStore(SETTINGS.rewards_bucket),
            max_bytes=SETTINGS.max_proof_bytes,
        ),
    )


def _params() -> dict[str, str]:
    return dict(request().query_params or {})


# ------------------------------------------------------------------ answer shapes
def _amount(amount: int, unit: str) -> dict[str, Any]:
    return {"amount": amount, "unit": unit}


def item_view(item: CatalogueItem) -> dict[str, Any]:
    return item.model_dump(mode="json")


def redemption_view(redemption: Redemption) -> dict[str, Any]:
    data = redemption.model_dump(mode="json", exclude={"amount", "unit"})
    return data | {"amount": _amount(redemption.amount, redemption.unit)}


def payout_view(payout: Redemption, names: dict[str, str]) -> dict[str, Any]:
    """A payout on a vendor list: the payee, the partner (with its company name when known), amount, reason, dates."""
    return redemption_view(payout) | {"payee": payout.person, "partner_name": names.get(payout.partner_id)}


def batch_view(batch: PayoutBatch, download_url: str | None = None) -> dict[str, Any]:
    data = batch.model_dump(mode="json", exclude={"key"})
    return data | ({"download": {"url": download_url, "expires_in": 300}} if download_url else {})


def claim_view(claim: Claim) -> dict[str, Any]:
    data = claim.model_dump(mode="json", exclude={"amount", "unit", "proof_files"})
    files = [f.model_dump(mode="json", exclude={"key", "version_id"}) for f in claim.proof_files]
    return data | {"amount": _amount(claim.amount, claim.unit), "proof_files": files}


# ------------------------------------------------------------------ catalogue
@blueprint.route("/rewards/catalogue", methods=["POST"])
@handle_errors
def add_item() -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(request(), CatalogueItemBody)
    return post_once(
        "catalogue_add",
        principal.sub,
        lambda: (201, item_view(service().redemptions.add_item(principal, body))),
        body_is_key=True,
    )


@blueprint.route("/rewards/catalogue", methods=["GET"])
@handle_errors
def catalogue() -> Any:
    principal = caller()
    return respond(200, {"items": [item_view(i) for i in service().redemptions.catalogue(principal)]})


@blueprint.route("/rewards/catalogue/{item_id}", methods=["PATCH"])
@handle_errors
def update_item(item_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    item_id = id_or_400(item_id, ITEM_ID, "item_id")
    patch = parse_body(request(), CatalogueItemPatch)
    return respond(200, item_view(service().redemptions.update_item(principal, item_id, patch)))


# ------------------------------------------------------------------ redemptions
@blueprint.route("/rewards/redemptions", methods=["POST"])
@handle_errors
def redeem() -> Any:
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    data = parse_json(request().raw_body)
    if not isinstance(data, dict):
        raise ValidationFailed("Request body must be a JSON object.", [FieldError("body", "expected an object")])
    try:
        body = REDEMPTION_BODY.validate_python(data)
    except ValidationError as error:
        raise ValidationFailed("Request body is invalid.", field_errors(error)) from error
    return post_once(
        "redeem",
        principal.sub,
        lambda: (201, redemption_view(service().redemptions.redeem(principal, body))),
        body_is_key=False,  # two equal redemptions may be meant: only an Idempotency-Key makes a retry
    )


@blueprint.route("/rewards/redemptions", methods=["GET"])
@handle_errors
def list_redemptions() -> Any:
    principal = caller()
    params = _params()
    items, cursor = service().redemptions.redemptions(
        principal,
        kind=params.get("kind"),
        status=params.get("status"),
        limit=page_limit(params),
        cursor=params.get("cursor"),
    )
    return respond(200, {"items": [redemption_view(r) for r in items], "next_cursor": cursor})


@blueprint.route("/rewards/redemptions/{redemption_id}", methods=["GET"])
@handle_errors
def get_redemption(redemption_id: str) -> Any:
    principal = caller()
    redemption_id = id_or_400(redemption_id, REDEMPTION_ID, "redemption_id")
    return respond(200, redemption_view(service().redemptions.redemption(principal, redemption_id)))


@blueprint.route("/rewards/redemptions/{redemption_id}/fulfil", methods=["POST"])
@handle_errors
def fulfil(redemption_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    redemption_id = id_or_400(redemption_id, REDEMPTION_ID, "redemption_id")
    return respond(200, redemption_view(service().redemptions.fulfil(principal, redemption_id)))


@blueprint.route("/rewards/redemptions/{redemption_id}/cancel", methods=["POST"])
@handle_errors
def cancel(redemption_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    redemption_id = id_or_400(redemption_id, REDEMPTION_ID, "redemption_id")
    body = parse_body(request(), CancelBody)
    return respond(200, redemption_view(service().redemptions.cancel(principal, redemption_id, body.reason)))


# ------------------------------------------------------------------ tax forms
@blueprint.route("/rewards/partners/{partner_id}/tax-form", methods=["POST"])
@handle_errors
def record_tax_form(partner_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    partner_id = id_or_400(partner_id, PARTNER_ID, "partner_id")
    body = parse_body(request(), TaxFormBody)

    def run() -> tuple[int, Any]:
        form, released = service().payouts.record_tax_form(principal, partner_id, body)
        return 200, {"tax_form": form.model_dump(mode="json"), "released": [redemption_view(r) for r in released]}

    return post_once(f"tax_form:{partner_id}", principal.sub, run)


@blueprint.route("/rewards/partners/{partner_id}/tax-form", methods=["GET"])
@handle_errors
def tax_form(partner_id: str) -> Any:
    principal = caller()
    partner_id = id_or_400(partner_id, PARTNER_ID, "partner_id")
    form = service().payouts.tax_form(principal, partner_id)
    if form is None:
        raise NotFound("No tax form is on file for this partner.", code="tax_form_not_found")
    return respond(200, form.model_dump(mode="json"))


# ------------------------------------------------------------------ payout batches
@blueprint.route("/rewards/payouts", methods=["GET"])
@handle_errors
def list_payouts() -> Any:
    """Vendor admins: payouts held for a tax form (`status=on_hold`, the default) or approved for the next batch."""
    principal = caller()
    params = _params()
    items, names, cursor = service().payouts.payouts(
        principal, status=params.get("status", "on_hold"), limit=page_limit(params), cursor=params.get("cursor")
    )
    return respond(200, {"items": [payout_view(p, names) for p in items], "next_cursor": cursor})


@blueprint.route("/rewards/payout-batches", methods=["POST"])
@handle_errors
def create_batch() -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    return post_once(
        "payout_batch", principal.sub, lambda: (201, batch_view(service().payouts.create_batch(principal)))
    )


@blueprint.route("/rewards/payout-batches", methods=["GET"])
@handle_errors
def list_batches() -> Any:
    principal = caller()
    params = _params()
    items, cursor = service().payouts.batches(principal, limit=page_limit(params), cursor=params.get("cursor"))
    return respond(200, {"items": [batch_view(b) for b in items], "next_cursor": cursor})


@blueprint.route("/rewards/payout-batches/{batch_id}", methods=["GET"])
@handle_errors
def get_batch(batch_id: str) -> Any:
    principal = caller()
    batch_id = id_or_400(batch_id, BATCH_ID, "batch_id")
    batch, url = service().payouts.batch(principal, batch_id)
    return respond(200, batch_view(batch, url))


@blueprint.route("/rewards/payout-batches/{batch_id}/paid", methods=["POST"])
@handle_errors
def mark_paid(batch_id: str) -> Any:
    principal = caller()
    require_vendor_admin(principal)  # refused before the request is read (the service checks it again)
    batch_id = id_or_400(batch_id, BATCH_ID, "batch_id")
    return respond(200, batch_view(service().payouts.mark_paid(principal, batch_id)))


# ------------------------------------------------------------------ claims
@blueprint.route("/rewards/claims/uploads", methods=["POST"])
@handle_errors
def claim_upload() -> Any:
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(request(), UploadBody)
    # a retry with the same Idempotency-Key answers the same upload (no second record, no second file id)
    return post_once("claim_upload", principal.sub, lambda: (201, service().claims.create_upload(principal, body)))


@blueprint.route("/rewards/claims", methods=["POST"])
@handle_errors
def file_claim() -> Any:
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(request(), ClaimBody)
    return post_once(
        "claim",
        principal.sub,
        lambda: (201, claim_view(service().claims.file_claim(principal, body))),
        body_is_key=True,
    )


@blueprint.route("/rewards/claims", methods=["GET"])
@handle_errors
def list_claims() -> Any:
    principal = caller()
    params = _params()
    items, cursor = service().claims.claims_of(principal, limit=page_limit(params), cursor=params.get("cursor"))
    return respond(200, {"items": [claim_view(c) for c in items], "next_cursor": cursor})


@blueprint.route("/rewards/claims/{claim_id}", methods=["GET"])
@handle_errors
def get_claim(claim_id: str) -> Any:
    principal = caller()
    claim_id = id_or_400(claim_id, CLAIM_ID, "claim_id")
    return respond(200, claim_view(service().claims.claim(principal, claim_id)))


@blueprint.route("/rewards/claims/{claim_id}/resubmit", methods=["POST"])
@handle_errors
def resubmit_claim(claim_id: str) -> Any:
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    claim_id = id_or_400(claim_id, CLAIM_ID, "claim_id")
    body = parse_body(request(), ResubmitBody)
    return post_once(
        f"claim_resubmit:{claim_id}",
        principal.sub,
        lambda: (200, claim_view(service().claims.resubmit(principal, claim_id, body))),
        body_is_key=True,
    )


@blueprint.route("/rewards/claims/{claim_id}/proofs/{file_id}", methods=["GET"])
@handle_errors
def claim_proof(claim_id: str, file_id: str) -> Any:
    principal = caller()
    claim_id = id_or_400(claim_id, CLAIM_ID, "claim_id")
    file_id = id_or_400(file_id, FILE_ID, "file_id")
    url, name = service().claims.download(principal, claim_id, file_id)
    return respond(200, {"url": url, "file_name": name, "expires_in": 300})


@blueprint.route("/rewards/claims/{claim_id}/proofs/{file_id}/review", methods=["GET"])
@handle_errors
def reviewer_proof(claim_id: str, file_id: str) -> Any:
    """A reviewer's signed link from the claim review email: verified, then a redirect to a 5-minute download."""
    claim_id = id_or_400(claim_id, CLAIM_ID, "claim_id")
    file_id = id_or_400(file_id, FILE_ID, "file_id")
    refused = proof_link_refusal(
        signing_key(SETTINGS.link_secret_arn), f"{claim_id}:{file_id}", _params(), now=int(time.time())
    )
    if refused:
        logger.warning("claim proof link refused", extra={"claim_id": claim_id, "reason": refused})
        return respond(403, {"code": "forbidden", "message": REFUSED_LINK[refused], "errors": []})
    url = service().claims.reviewer_download(claim_id, file_id)
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
