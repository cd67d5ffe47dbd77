"""MDF's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalice import Response

from mdf.domain.access import require_partner_user, require_vendor
from mdf.models import (
    REQUEST_STATUSES,
    AccrualBody,
    AdjustmentBody,
    AllocationBody,
    ClaimBody,
    Fund,
    FundRequest,
    FundRequestBody,
    LedgerEntry,
    Period,
    PeriodBody,
    UploadBody,
)
from mdf.proofs import ProofStore
from mdf.repository import MdfRepository
from mdf.service.claims import ClaimsService
from mdf.service.funds import FundsService
from mdf.service.requests import RequestsService
from mdf.settings import ApiSettings
from shared.clock import iso
from shared.edge import ApiEdge
from shared.errors import FieldError, ValidationFailed
from shared.http import Principal, bounded_int, current, id_or_404, parse_body, principal_from
from shared.links import REFUSED_LINK, proof_link_refusal, signing_key
from shared.observability import logger, metrics

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-mdf", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


@dataclass(frozen=True)
class Services:
    funds: FundsService
    requests: RequestsService
    claims: ClaimsService


@cache
def service() -> Services:
    """The use cases with their AWS adapters, made once per container."""
    repository = MdfRepository(SETTINGS.table_name)
    return Services(
        funds=FundsService(repository=repository),
        requests=RequestsService(repository=repository, lead_days=SETTINGS.request_lead_days),
        claims=ClaimsService(
            repository=repository, proofs=ProofStore(SETTINGS.proof_bucket), max_bytes=SETTINGS.proof_max_bytes
        ),
    )


def caller() -> Principal:
    """The signed-in user; a partner user only once they accepted the current programme agreement (403)."""
    principal = principal_from(current(app))
    service().funds.require_agreement(principal)
    return principal


# ------------------------------------------------------------------ answer shapes
def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


def period_view(period: Period) -> dict[str, Any]:
    data = period.model_dump(mode="json", exclude={"created_by", "created_at"})
    return data | {"status": "open" if service().funds.is_open(period) else "closed"}


def fund_view(fund: Fund) -> dict[str, Any]:
    c = fund.currency
    return {
        "fund_id": fund.fund_id,
        "period_id": fund.period_id,
        "period_name": fund.period_name,
        "currency": c,
        "status": fund.status,
        "claim_window_ends_at": iso(fund.claim_window_ends_at),
        "entries": fund.seq,
    } | {
        name: _money(getattr(fund, name), c)
        for name in (
            "available",
            "reserved",
            "paid",
            "expired",
            "allocated",
            "accrued",
            "adjusted",
            "accrual_reversed",
            "clawback_outstanding",
        )
    }


def entry_view(entry: LedgerEntry) -> dict[str, Any]:
    c = entry.currency
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "amount": _money(entry.amount_minor, c),
        "at": iso(entry.at),
        "reference": entry.reference.model_dump(),
        "note": entry.note,
        "actor": entry.actor,
        "balance": {
            "available": _money(entry.available_after, c),
            "reserved": _money(entry.reserved_after, c),
            "paid": _money(entry.paid_after, c),
        },
    } | {
        name: _money(value, c)
        for name, value in (("from_expired", entry.from_expired_minor), ("clawback", entry.clawback_minor))
        if value
    }


def request_summary(request: FundRequest) -> dict[str, Any]:
    step, due = service().requests.next_step(request)
    data = request.model_dump(mode="json")
    return {
        "request_id": request.request_id,
        "title": request.title,
        "activity_type": request.activity_type,
        "status": request.status,
        "requested": data["requested"],
        "granted": data["granted"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "submitted_at": data["submitted_at"],
        "next_step": step,
        "next_step_due": iso(due) if due else None,
        "claim_status": request.claim.status if request.claim else None,
    }


def request_detail(request: FundRequest) -> dict[str, Any]:
    data = request.model_dump(mode="json", exclude={"revision", "partner_id"})
    claim = data.get("claim")
    if claim:
        for proof in claim["proof_files"]:
            proof.pop("key", None)  # storage layout stays private
            proof.pop("version_id", None)
    approvals = [
        {
            "step": a.step,
            "decision": a.decision,
            "by": a.by,
            "amount": _money(a.amount_minor, request.requested.currency) if a.amount_minor is not None else None,
            "reason": a.reason,
            "at": iso(a.at) if a.at else None,
        }
        for a in request.approvals
    ]
    return data | request_summary(request) | {"fund_id": request.fund_id, "approvals": approvals, "claim": claim}


def _limit(params: dict[str, str], default: int = 20) -> int:
    return bounded_int(params, "limit", default, 1, 50)


REQUEST_ID = re.compile(r"mdfreq_[0-9a-z]{26}")
FILE_ID = re.compile(r"file_[0-9a-z]{26}")
PERIOD_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{1,23}")


def _params() -> dict[str, str]:
    return dict(current(app).query_params or {})


# ------------------------------------------------------------------ periods, partners, allocations
@app.route("/mdf/periods", methods=["GET"])
@handle_errors
def list_periods() -> Any:
    caller()
    # the lead time requests need, so that forms can say (and check) it before the server refuses
    items = [period_view(p) for p in service().funds.periods()]
    return respond(200, {"items": items, "request_lead_days": SETTINGS.request_lead_days})


@app.route("/mdf/periods", methods=["POST"])
@handle_errors
def add_period() -> Any:
    principal = caller()
    require_vendor(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), PeriodBody)
    return post_once(
        "add_period",
        principal.sub,
        lambda: (201, period_view(service().funds.add_period(principal, body))),
        body_is_key=True,
    )


@app.route("/mdf/periods/{period_id}/accrual", methods=["POST"])
@handle_errors
def set_accrual(period_id: str) -> Any:
    id_or_404(period_id, PERIOD_ID, "period")
    principal = caller()
    require_vendor(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), AccrualBody)
    return post_once(
        f"accrual:{period_id}",
        principal.sub,
        lambda: (200, period_view(service().funds.set_accrual_rate(principal, period_id, body.accrual_rate_bp))),
    )


@app.route("/mdf/partners", methods=["GET"])
@handle_errors
def list_partners() -> Any:
    principal = caller()
    params = _params()
    partners, cursor = service().funds.partners(principal, _limit(params, 50), params.get("cursor"))
    items = [{"partner_id": p.partner_id, "company_name": p.company_name, "country": p.country} for p in partners]
    return respond(200, {"items": items, "next_cursor": cursor})


@app.route("/mdf/allocations", methods=["POST"])
@handle_errors
def allocate() -> Any:
    principal = caller()
    require_vendor(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), AllocationBody)

    def run() -> tuple[int, Any]:
        fund, entry = service().funds.allocate(principal, body)
        metrics.add_metric(name="MdfFundsAllocated", unit="Count", value=1)
        return 201, {"fund": fund_view(fund), "entry": entry_view(entry)}

    return post_once("allocate", principal.sub, run, body_is_key=True)


@app.route("/mdf/adjustments", methods=["POST"])
@handle_errors
def adjust() -> Any:
    principal = caller()
    require_vendor(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), AdjustmentBody)

    def run() -> tuple[int, Any]:
        fund, entry = service().funds.adjust(principal, body)
        return 201, {"fund": fund_view(fund), "entry": entry_view(entry)}

    return post_once("adjust", principal.sub, run, body_is_key=True)


# ------------------------------------------------------------------ balances and ledger
@app.route("/mdf/funds", methods=["GET"])
@handle_errors
def list_funds() -> Any:
    principal = caller()
    funds = service().funds.funds(principal, _params().get("partner_id"))
    return respond(200, {"items": [fund_view(f) for f in funds]})


@app.route("/mdf/funds/{fund_id}/ledger", methods=["GET"])
@handle_errors
def fund_ledger(fund_id: str) -> Any:
    principal = caller()
    params = _params()
    fund, entries, cursor = service().funds.ledger(
        principal, params.get("partner_id"), fund_id, _limit(params), params.get("cursor")
    )
    return respond(200, {"fund": fund_view(fund), "items": [entry_view(e) for e in entries], "next_cursor": cursor})


# ------------------------------------------------------------------ fund requests
@app.route("/mdf/requests", methods=["POST"])
@handle_errors
def submit_request() -> Any:
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), FundRequestBody)

    def run() -> tuple[int, Any]:
        request = service().requests.submit(principal, body)
        metrics.add_metric(name="MdfRequestsSubmitted", unit="Count", value=1)
        return 201, request_detail(request)

    return post_once("submit_request", principal.partner_id or principal.sub, run, body_is_key=True)


@app.route("/mdf/requests", methods=["GET"])
@handle_errors
def list_requests() -> Any:
    principal = caller()
    params = _params()
    status = params.get("status") or None
    if status is not None and status not in REQUEST_STATUSES:
        raise ValidationFailed(
            "Unknown status filter.", [FieldError("status", f"one of {', '.join(REQUEST_STATUSES)}")]
        )
    requests, cursor = service().requests.list_requests(
        principal, params.get("partner_id"), status, _limit(params), params.get("cursor")
    )
    return respond(200, {"items": [request_summary(r) for r in requests], "next_cursor": cursor})


@app.route("/mdf/requests/{request_id}", methods=["GET"])
@handle_errors
def get_request(request_id: str) -> Any:
    id_or_404(request_id, REQUEST_ID, "fund request")
    return respond(200, request_detail(service().requests.get(caller(), request_id)))


@app.route("/mdf/requests/{request_id}/revision", methods=["POST"])
@handle_errors
def revise_request(request_id: str) -> Any:
    id_or_404(request_id, REQUEST_ID, "fund request")
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), FundRequestBody)
    # Replayed only with an Idempotency-Key: the same body again may be the next round (state rules refuse repeats).
    return post_once(
        f"revise:{request_id}",
        principal.sub,
        lambda: (200, request_detail(service().requests.revise(principal, request_id, body))),
    )


# ------------------------------------------------------------------ claims and proof files
@app.route("/mdf/requests/{request_id}/claim/uploads", methods=["POST"])
@handle_errors
def create_upload(request_id: str) -> Any:
    id_or_404(request_id, REQUEST_ID, "fund request")
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), UploadBody)
    return respond(201, service().claims.create_upload(principal, request_id, body))


@app.route("/mdf/requests/{request_id}/claim", methods=["POST"])
@handle_errors
def file_claim(request_id: str) -> Any:
    id_or_404(request_id, REQUEST_ID, "fund request")
    principal = caller()
    require_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), ClaimBody)

    def run() -> tuple[int, Any]:
        request = service().claims.file_claim(principal, request_id, body)
        metrics.add_metric(name="MdfClaimsSubmitted", unit="Count", value=1)
        return 201, request_detail(request)

    # Replayed only with an Idempotency-Key: a returned claim may be resubmitted as it was (a new round).
    return post_once(f"claim:{request_id}", principal.sub, run)


@app.route("/mdf/requests/{request_id}/claim/files/{file_id}", methods=["GET"])
@handle_errors
def download_proof(request_id: str, file_id: str) -> Any:
    id_or_404(request_id, REQUEST_ID, "fund request")
    id_or_404(file_id, FILE_ID, "proof file")
    url, name = service().claims.download(caller(), request_id, file_id)
    return respond(200, {"url": url, "file_name": name, "expires_in": 300})


@app.route("/mdf/proofs/{request_id}/{file_id}", methods=["GET"])
@handle_errors
def reviewer_proof(request_id: str, file_id: str) -> Any:
    """A reviewer's signed link from the claim email: verified, then a redirect to a 5-minute download."""
    id_or_404(request_id, REQUEST_ID, "fund request")
    id_or_404(file_id, FILE_ID, "proof file")
    refused = proof_link_refusal(
        signing_key(SETTINGS.link_secret_arn), f"{request_id}:{file_id}", _params(), now=int(time.time())
    )
    if refused:
        logger.warning("proof link refused", extra={"request_id": request_id, "reason": refused})
        return respond(403, {"code": "forbidden", "message": REFUSED_LINK[refused], "errors": []})
    url = service().claims.reviewer_download(request_id, file_id)
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
