"""Onboarding's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here."""

from __future__ import annotations

from functools import cache
from typing import Any

from onboarding.models import (
    AgreementAcceptanceRequest,
    AgreementRequest,
    ApplicationRequest,
    InviteUserRequest,
    PartnerUpdateRequest,
)
from onboarding.repository import OnboardingRepository
from onboarding.service import OnboardingService
from onboarding.settings import ApiSettings
from shared.edge import ApiEdge
from shared.http import current, parse_body, principal_from
from shared.observability import metrics

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-onboarding", table_name=SETTINGS.table_name, allowed_origin=SETTINGS.allowed_origin)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


@cache
def service() -> OnboardingService:
    return OnboardingService(OnboardingRepository(SETTINGS.table_name))


@app.route("/applications", methods=["POST"])
@handle_errors
def submit_application() -> Any:
    body = parse_body(current(app), ApplicationRequest)

    def run() -> tuple[int, Any]:
        application = service().submit_application(body)
        metrics.add_metric(name="ApplicationsSubmitted", unit="Count", value=1)
        return 201, application.model_dump(mode="json", include={"application_id", "status", "submitted_at", "domain"})

    return post_once("submit_application", "public", run, body_is_key=True)


@app.route("/me", methods=["GET"])
@handle_errors
def get_me() -> Any:
    return respond(200, service().me(principal_from(current(app))))


@app.route("/agreements/current", methods=["GET"])
@handle_errors
def get_current_agreement() -> Any:
    principal_from(current(app))
    return respond(200, service().current_agreement().model_dump(mode="json", exclude={"published_by"}))


@app.route("/agreements/current/acceptance", methods=["POST"])
@handle_errors
def accept_current_agreement() -> Any:
    principal = principal_from(current(app))
    body = parse_body(current(app), AgreementAcceptanceRequest)
    acceptance = service().accept_agreement(principal, body.version)
    return respond(
        201,
        {
            "version": acceptance.version,
            "accepted_at": acceptance.model_dump(mode="json")["accepted_at"],
            "accepted_by": acceptance.user_email,
        },
    )


@app.route("/agreements", methods=["POST"])
@handle_errors
def publish_agreement() -> Any:
    principal = principal_from(current(app))
    body = parse_body(current(app), AgreementRequest)

    def run() -> tuple[int, Any]:
        return 201, service().publish_agreement(principal, body).model_dump(mode="json")

    return post_once("publish_agreement", principal.sub, run, body_is_key=True)


@app.route("/partners/{partner_id}", methods=["GET"])
@handle_errors
def get_partner(partner_id: str) -> Any:
    partner = service().get_partner(principal_from(current(app)), partner_id)
    return respond(200, partner.model_dump(mode="json", exclude={"revision"}))


@app.route("/partners/{partner_id}", methods=["PATCH"])
@handle_errors
def update_partner(partner_id: str) -> Any:
    principal = principal_from(current(app))
    body = parse_body(current(app), PartnerUpdateRequest)
    partner = service().update_partner(principal, partner_id, body)
    return respond(200, partner.model_dump(mode="json", exclude={"revision"}))


@app.route("/partners/{partner_id}/users", methods=["GET"])
@handle_errors
def list_partner_users(partner_id: str) -> Any:
    users = service().list_users(principal_from(current(app)), partner_id)
    return respond(200, {"items": [u.model_dump(mode="json") for u in users]})


@app.route("/partners/{partner_id}/users", methods=["POST"])
@handle_errors
def invite_partner_user(partner_id: str) -> Any:
    principal = principal_from(current(app))
    body = parse_body(current(app), InviteUserRequest)

    def run() -> tuple[int, Any]:
        user = service().invite_user(principal, partner_id, body)
        return 201, user.model_dump(mode="json")

    return post_once(f"invite_user:{partner_id}", principal.sub, run, body_is_key=True)
