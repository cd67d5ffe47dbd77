"""Deal registration's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here."""

from __future__ import annotations

from functools import cache
from typing import Any

from deals import domain
from deals.models import (
    DEAL_STATUSES,
    Deal,
    ExtensionRequest,
    LostRequest,
    ProductRequest,
    RegisterDealRequest,
    StageRequest,
    WinReversalRequest,
    Won,
    WonRequest,
)
from deals.repository import DealsRepository
from deals.service import DealsService
from deals.settings import ApiSettings
from shared.edge import ApiEdge
from shared.errors import FieldError, ValidationFailed
from shared.http import bounded_int, current, parse_body, principal_from
from shared.observability import metrics
from shared.principal import Principal

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-deals", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


@cache
def service() -> DealsService:
    return DealsService(DealsRepository(SETTINGS.table_name))


def caller() -> Principal:
    """The signed-in user; a partner user only once they accepted the current programme agreement (403)."""
    return service().admit(principal_from(current(app)))


def summary(deal: Deal) -> dict[str, Any]:
    step, due = domain.next_step(deal)
    data = deal.model_dump(mode="json")
    return {
        "deal_id": deal.deal_id,
        "status": deal.status,
        "prospect": {"company_name": deal.prospect.company_name, "domain": deal.prospect.domain},
        "estimated_value": data["estimated_value"],
        "expected_close_date": data["expected_close_date"],
        "submitted_at": data["submitted_at"],
        "protection_ends_at": data["protection_ends_at"],
        "next_step": step,
        "next_step_due": data["protection_ends_at"] if due else None,
    }


def detail(deal: Deal) -> dict[str, Any]:
    data = deal.model_dump(mode="json", exclude={"revision", "conflicts", "partner_id"})
    return data | summary(deal) | {"prospect": data["prospect"], "max_extensions": SETTINGS.max_extensions}


@app.route("/products", methods=["GET"])
@handle_errors
def list_products() -> Any:
    caller()
    return respond(200, {"items": [p.model_dump() for p in service().products()]})


@app.route("/products", methods=["POST"])
@handle_errors
def add_product() -> Any:
    principal = caller()
    domain.ensure_manages_products(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), ProductRequest)
    return post_once(
        "add_product",
        principal.sub,
        lambda: (201, service().add_product(principal, body).model_dump()),
        body_is_key=True,
    )


@app.route("/deals/prospect-check", methods=["GET"])
@handle_errors
def check_prospect() -> Any:
    principal = caller()
    params = current(app).query_params or {}
    website, company = params.get("domain"), params.get("company_name")
    return respond(200, service().prospect_check(principal, website, company))


@app.route("/deals", methods=["POST"])
@handle_errors
def register_deal() -> Any:
    principal = caller()
    domain.ensure_partner_user(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), RegisterDealRequest)

    def run() -> tuple[int, Any]:
        deal = service().register(principal, body.new_deal())
        metrics.add_metric(name="DealsRegistered", unit="Count", value=1)
        receipt = {
            "deal_id": deal.deal_id,
            "status": deal.status,
            "submitted_at": deal.model_dump(mode="json")["submitted_at"],
            "prospect_key": {"domain": deal.prospect.domain, "company": deal.prospect.company_key},
        }
        return 201, receipt

    return post_once("register_deal", principal.partner_id or principal.sub, run, body_is_key=True)


@app.route("/deals", methods=["GET"])
@handle_errors
def list_deals() -> Any:
    principal = caller()
    params = current(app).query_params or {}
    status = params.get("status") or None
    if status is not None and status not in DEAL_STATUSES:
        raise ValidationFailed("Unknown status filter.", [FieldError("status", f"one of {', '.join(DEAL_STATUSES)}")])
    limit = bounded_int(params, "limit", 20, 1, 50)
    deals, cursor = service().list(principal, status, limit, params.get("cursor"))
    return respond(200, {"items": [summary(d) for d in deals], "next_cursor": cursor})


@app.route("/deals/{deal_id}", methods=["GET"])
@handle_errors
def get_deal(deal_id: str) -> Any:
    return respond(200, detail(service().get(caller(), deal_id)))


@app.route("/deals/{deal_id}/stage", methods=["POST"])
@handle_errors
def update_stage(deal_id: str) -> Any:
    principal = caller()
    body = parse_body(current(app), StageRequest)
    return post_once(
        f"stage:{deal_id}", principal.sub, lambda: (200, detail(service().set_stage(principal, deal_id, body.stage)))
    )


@app.route("/deals/{deal_id}/won", methods=["POST"])
@handle_errors
def mark_won(deal_id: str) -> Any:
    principal = caller()
    body = parse_body(current(app), WonRequest)
    won = Won(amount=body.amount, close_date=body.close_date)
    return post_once(
        f"won:{deal_id}", principal.sub, lambda: (200, detail(service().mark_won(principal, deal_id, won)))
    )


@app.route("/deals/{deal_id}/won/reversal", methods=["POST"])
@handle_errors
def reverse_win(deal_id: str) -> Any:
    """Vendor staff withdraw a win. The retry of a reversal (same body, or same Idempotency-Key) replays its answer:
    the key names the win it reverses, so reversing the corrected win later is a new request, not a replay."""
    principal = caller()
    domain.ensure_vendor(principal, "reverse a won deal")  # a partner learns nothing more, whatever the body
    body = parse_body(current(app), WinReversalRequest)
    win = service().get(principal, deal_id).win_revision
    return post_once(
        f"won-reversal:{deal_id}:{win}",
        principal.sub,
        lambda: (200, detail(service().reverse_win(principal, deal_id, body.reason))),
        body_is_key=True,
    )


@app.route("/deals/{deal_id}/lost", methods=["POST"])
@handle_errors
def mark_lost(deal_id: str) -> Any:
    principal = caller()
    body = parse_body(current(app), LostRequest)
    return post_once(
        f"lost:{deal_id}", principal.sub, lambda: (200, detail(service().mark_lost(principal, deal_id, body.reason)))
    )


@app.route("/deals/{deal_id}/extension", methods=["POST"])
@handle_errors
def request_extension(deal_id: str) -> Any:
    principal = caller()
    body = parse_body(current(app), ExtensionRequest)

    def run() -> tuple[int, Any]:
        deal = service().request_extension(principal, deal_id, body.justification, SETTINGS.max_extensions)
        return 202, detail(deal)

    return post_once(f"extension:{deal_id}", principal.sub, run)
