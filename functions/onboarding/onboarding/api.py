"""Onboarding's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache
from typing import Any

from chalice import Response

from onboarding import confirmation, domain
from onboarding.identity import CognitoUserDirectory
from onboarding.models import (
    PARTNER_INTERNAL_FIELDS,
    AgreementAcceptanceRequest,
    AgreementRequest,
    Application,
    ApplicationRequest,
    InviteUserRequest,
    PartnerUpdateRequest,
    RemoveUserRequest,
)
from onboarding.repository import DynamoOnboardingRepository
from onboarding.service import OnboardingService
from onboarding.settings import ApiSettings
from shared.edge import ApiEdge
from shared.errors import Conflict, NotFound
from shared.http import FormRefused, current, parse_body, principal_from, read_form
from shared.links import LinkRejected, signing_key
from shared.observability import metrics

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-onboarding", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


RECEIPT_FIELDS = {"application_id", "status", "submitted_at", "domain", "confirm_by"}
MAX_RESUBMISSIONS = 20
MAX_FORM_BYTES = 4 * 1024


@cache
def service() -> OnboardingService:
    return OnboardingService(
        DynamoOnboardingRepository(SETTINGS.table_name),
        confirm_within=timedelta(seconds=SETTINGS.confirmation_seconds),
        identity=CognitoUserDirectory(SETTINGS.user_pool_id),
    )


@app.route("/applications", methods=["POST"])
@handle_errors
def submit_application() -> Any:
    body = parse_body(current(app), ApplicationRequest)

    created: list[Application] = []

    def run() -> tuple[int, Any]:
        application = service().submit_application(body)
        created.append(application)
        metrics.add_metric(name="ApplicationsSubmitted", unit="Count", value=1)
        return 201, application.model_dump(mode="json", include=RECEIPT_FIELDS)

    keyed = "idempotency-key" in (current(app).headers or {})
    operation = "submit_application"
    for _ in range(MAX_RESUBMISSIONS):
        status, receipt = edge.once(operation, "public", run, body_is_key=True)
        if created or status != 201:
            return respond(status, receipt)
        # A replayed receipt: its application may have been confirmed, decided or lapsed since. Say so; and the same
        # body sent again after a rejection or lapse is a new application (a retry of that one replays it in turn).
        application, anew = service().resubmission(str(receipt["application_id"]), keyed=keyed)
        if application is None:
            return respond(status, receipt)
        if not anew:
            return respond(status, application.model_dump(mode="json", include=RECEIPT_FIELDS))
        operation = f"submit_application:after:{application.application_id}"
    raise Conflict("This application was submitted and closed too many times; change it and apply again.")


def _page(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers=confirmation.HEADERS)


def _confirmation_link(application_id: str, params: dict[str, str]) -> Application | Response:
    """The application a verified confirmation link names, or the page refusing the link."""
    try:
        confirmation.check(signing_key(SETTINGS.link_secret_arn), application_id, params, now=int(time.time()))
    except LinkRejected as rejected:
        if rejected.reason == "expired":
            return _page(410, confirmation.refusal_page("Link expired", "The time to confirm has passed. Apply again."))
        return _page(403, confirmation.refusal_page("Invalid link", "This link is not valid. Open it from the email."))
    try:
        return service().get_application(application_id)
    except NotFound:
        return _page(404, confirmation.refusal_page("Not found", "There is no such application."))


@app.route("/applications/{application_id}/confirmation", methods=["GET"])
def show_confirmation(application_id: str) -> Response:
    """Mail scanners prefetch links: GET only shows what would be confirmed."""
    params = dict(current(app).query_params or {})
    application = _confirmation_link(application_id, params)
    if isinstance(application, Response):
        return application
    if application.status != "unconfirmed":
        return _page(200, confirmation.outcome_page(application))
    return _page(200, confirmation.form_page(application, params))


@app.route(
    "/applications/{application_id}/confirmation",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
def confirm_application(application_id: str) -> Response:
    try:
        form = read_form(bytes(current(app).raw_body or b""), max_bytes=MAX_FORM_BYTES, max_fields=5)
    except FormRefused as refused:
        return _page(refused.status, confirmation.refusal_page(refused.title, refused.message))
    application = _confirmation_link(application_id, form)
    if isinstance(application, Response):
        return application
    confirmed = service().confirm_application(application_id)
    metrics.add_metric(name="ApplicationsConfirmed", unit="Count", value=1)
    status = 410 if confirmed.status == "expired" else 409 if confirmed.closed_because == "domain_taken" else 200
    return _page(status, confirmation.outcome_page(confirmed))


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
    domain.ensure_partner_user(principal)  # refused before the body is read (the service checks it again)
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
    domain.ensure_vendor_admin(principal)  # refused before the body is read (the service checks it again)
    body = parse_body(current(app), AgreementRequest)

    def run() -> tuple[int, Any]:
        return 201, service().publish_agreement(principal, body).model_dump(mode="json")

    return post_once("publish_agreement", principal.sub, run, body_is_key=True)


@app.route("/partners/{partner_id}", methods=["GET"])
@handle_errors
def get_partner(partner_id: str) -> Any:
    partner = service().get_partner(principal_from(current(app)), partner_id)
    return respond(200, partner.model_dump(mode="json", exclude=set(PARTNER_INTERNAL_FIELDS)))


@app.route("/partners/{partner_id}", methods=["PATCH"])
@handle_errors
def update_partner(partner_id: str) -> Any:
    principal = principal_from(current(app))
    domain.ensure_partner_admin(principal, partner_id)  # before the body is read (the service checks it again)
    body = parse_body(current(app), PartnerUpdateRequest)
    partner = service().update_partner(principal, partner_id, body)
    return respond(200, partner.model_dump(mode="json", exclude=set(PARTNER_INTERNAL_FIELDS)))


@app.route("/partners/{partner_id}/users", methods=["GET"])
@handle_errors
def list_partner_users(partner_id: str) -> Any:
    users = service().list_users(principal_from(current(app)), partner_id)
    return respond(200, {"items": [u.model_dump(mode="json") for u in users]})


@app.route("/partners/{partner_id}/users", methods=["POST"])
@handle_errors
def invite_partner_user(partner_id: str) -> Any:
    principal = principal_from(current(app))
    domain.ensure_partner_admin(principal, partner_id)  # before the body is read (the service checks it again)
    body = parse_body(current(app), InviteUserRequest)

    invited: list[Any] = []

    def run() -> tuple[int, Any]:
        user = service().invite_user(principal, partner_id, body)
        invited.append(user)
        return 201, user.model_dump(mode="json")

    status, answer = edge.once(f"invite_user:{partner_id}", principal.sub, run, body_is_key=True)
    if status == 201 and not invited:  # a replayed answer: the user may have been removed since
        service().replayed_invitation(partner_id, body)
    return respond(status, answer)


@app.route("/partners/{partner_id}/users/removal", methods=["POST"])
@handle_errors
def remove_partner_user(partner_id: str) -> Any:
    principal = principal_from(current(app))
    service().require_agreement(principal)  # the agreement gate before the body, as deals' and MDF's routes
    domain.ensure_partner_admin(principal, partner_id)  # this partner's admin or a vendor admin, whatever the body
    body = parse_body(current(app), RemoveUserRequest)

    def run() -> tuple[int, Any]:
        return 200, service().remove_user(principal, partner_id, body).model_dump(mode="json")

    return post_once(f"remove_user:{partner_id}", principal.sub, run, body_is_key=True)
