"""Every app's 4xx is the documented {"code","message","errors"}, also where Chalice answers by itself (415, 405)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.support.lambda_events import LambdaContext, api_event

APPS = {
    "OnboardingApiFunction": "onboarding.api",
    "DealsApiFunction": "deals.api",
    "MdfApiFunction": "mdf.api",
    "ApprovalsApiFunction": "approvals.api",
    "TrainingApiFunction": "training.api",
    "TiersApiFunction": "tiers.api",
}
# The portal's origin (the template's PortalUrl in the test stack) for the apps the portal calls; the approval link
# pages are opened directly, never fetched by the portal.
PORTAL_ORIGIN = {app: "http://portal.test" for app in APPS if app != "ApprovalsApiFunction"}


def _documented(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["code"], str) and body["code"].islower() and isinstance(body["errors"], list)


def _routes(app: Any) -> list[tuple[str, str]]:
    return [(path, method) for path, methods in app.routes.items() for method in methods]


@pytest.mark.parametrize("function_id", sorted(APPS))
def test_unsupported_media_type_and_method_are_documented_errors(stack: Stack, function_id: str) -> None:
    app = stack.load(function_id, APPS[function_id]).app
    for path, method in _routes(app):
        params = {name.strip("{}+"): "x" for name in path.split("/") if name.startswith("{")}
        status, body, headers = stack.call(
            app, method, path, params, raw_body="a=1", headers={"Content-Type": "application/xml"}
        )
        assert status == 415, (path, method, status, body)
        _documented(body)
        assert body["code"] == "unsupported_media_type" and body["errors"][0]["field"] == "Content-Type"
        assert headers["Content-Type"] == "application/json"
        assert headers.get("Access-Control-Allow-Origin") == PORTAL_ORIGIN.get(function_id), (path, method, headers)
        if "DELETE" not in app.routes[path]:
            status, body, headers = stack.call(app, "DELETE", path, params)
            assert status == 405, (path, status, body)
            _documented(body)
            assert body["code"] == "method_not_allowed"
            # the portal reads these answers too: without the header the browser hides them from it
            assert headers.get("Access-Control-Allow-Origin") == PORTAL_ORIGIN.get(function_id), (path, headers)


def test_approval_form_posted_as_multipart_is_refused_not_misread(stack: Stack) -> None:
    app = stack.load("ApprovalsApiFunction", "approvals.api").app
    multipart = (
        "--b\r\nContent-Disposition: form-data; name=decision\r\n\r\napprove\r\n--b--\r\n"
        "decision=approve&approver=a@example.com&expires=9999999999&signature=x"
    )
    status, body, _ = stack.call(
        app,
        "POST",
        "/approvals/{approval_id}",
        {"approval_id": "onboarding-app_x"},
        raw_body=multipart,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert status == 415
    _documented(body)


def test_a_form_posted_without_a_content_type_is_told_so_not_that_it_sent_json(stack: Stack) -> None:
    app = stack.load("ApprovalsApiFunction", "approvals.api").app
    event = api_event("POST", "/approvals/{approval_id}", {"approval_id": "onboarding-app_x"}, raw_body="decision=a")
    event["headers"].pop("Content-Type")  # as a client that sends none: API Gateway passes no such header
    event["multiValueHeaders"].pop("Content-Type", None)
    response = app(event, LambdaContext())
    status, body = response["statusCode"], json.loads(response["body"])
    assert status == 415
    _documented(body)
    assert "no Content-Type" in body["message"] and "application/json" not in body["message"], body
