"""The API Gateway emulator: routing, the REST proxy event, auth, CORS preflights, gateway responses and throttling."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infrastructure.local.auth import TokenRejected
from infrastructure.local.gateway import ApiGateway, Route
from infrastructure.local.runtime import InvocationError

ORIGIN = "http://127.0.0.1:8080"
GATEWAY_RESPONSES = {
    "UNAUTHORIZED": {
        "StatusCode": 401,
        "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": f"'{ORIGIN}'"}},
        "ResponseTemplates": {"application/json": '{"code": "unauthorized"}'},
    },
    "MISSING_AUTHENTICATION_TOKEN": {
        "StatusCode": 404,
        "ResponseTemplates": {"application/json": '{"code": "not_found"}'},
    },
}


class FakeVerifier:
    identity_header = "Authorization"

    def verify(self, header: str | None) -> dict[str, Any]:
        if header != "Bearer good":
            raise TokenRejected("bad")
        return {"sub": "u1", "cognito:groups": ["partner-admin", "partner-user"], "exp": 1469818373}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.result: Any = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}
        self.error: InvocationError | None = None

    def __call__(self, function: str, event: dict[str, Any], timeout: float) -> Any:
        self.events.append((function, event))
        if self.error:
            raise self.error
        return self.result


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def gateway(recorder: Recorder, **overrides: Any) -> ApiGateway:
    options: dict[str, Any] = {
        "api_id": "abc123defg",
        "stage": "dev",
        "account_id": "123456789012",
        "routes": [
            Route("/applications", "POST", "Onboarding", None),
            Route("/partners/{partner_id}", "GET", "Onboarding", "Cognito"),
            Route("/partners/{partner_id}/users", "GET", "Onboarding", "Cognito"),
            Route("/partners/mine", "GET", "Mine", "Cognito"),
            Route("/files/{proxy+}", "ANY", "Files", None),
        ],
        "invoke": recorder,
        "function_timeouts": {"Onboarding": 20},
        "authorizers": {"Cognito": FakeVerifier()},
        "cors": {
            "AllowOrigin": f"'{ORIGIN}'",
            "AllowHeaders": "'Content-Type,Authorization'",
            "AllowMethods": "'GET,POST,OPTIONS'",
            "MaxAge": "'600'",
        },
        "gateway_responses": GATEWAY_RESPONSES,
        "method_settings": [
            {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
            {
                "ResourcePath": "/~1applications",
                "HttpMethod": "POST",
                "ThrottlingRateLimit": 0.01,
                "ThrottlingBurstLimit": 2,
            },
        ],
    }
    options.update(overrides)
    return ApiGateway(**options)


def test_a_public_route_gets_the_rest_proxy_event(recorder: Recorder) -> None:
    response = gateway(recorder).handle(
        "POST",
        "/applications",
        query="a=1&a=2&b=x%20y",
        headers=[("Content-Type", "application/json"), ("X-Multi", "1"), ("X-Multi", "2"), ("User-Agent", "t")],
        body=b'{"company_name": "Acme"}',
        source_ip="10.0.0.1",
    )
    assert response.status == 200
    assert json.loads(response.body) == {"ok": True}
    [(function, event)] = recorder.events
    assert function == "Onboarding"
    assert event["resource"] == "/applications"
    assert event["path"] == "/applications"
    assert event["httpMethod"] == "POST"
    assert event["body"] == '{"company_name": "Acme"}'
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"a": "2", "b": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["resourcePath"] == "/applications"
    assert context["path"] == "/dev/applications"
    assert context["stage"] == "dev"
    assert context["apiId"] == "abc123defg"
    assert context["accountId"] == "123456789012"
    assert context["identity"]["sourceIp"] == "10.0.0.1"
    assert context["identity"]["userAgent"] == "t"
    assert "authorizer" not in context


def test_path_parameters_literal_precedence_and_greedy_paths(recorder: Recorder) -> None:
    api = gateway(recorder)
    assert api.handle("GET", "/partners/mine", headers=[("Authorization", "Bearer good")]).status == 200
    assert api.handle("GET", "/partners/prt%201/users", headers=[("Authorization", "Bearer good")]).status == 200
    assert api.handle("DELETE", "/files/a/b/c.txt").status == 200
    (mine, literal), (_, users), (files, greedy) = recorder.events
    assert mine == "Mine"
    assert literal["requestContext"]["resourcePath"] == "/partners/mine"
    assert users["resource"] == "/partners/{partner_id}/users"
    assert users["pathParameters"] == {"partner_id": "prt 1"}
    assert files == "Files"
    assert greedy["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert greedy["resource"] == "/files/{proxy+}"


def test_authorized_routes_pass_claims_as_strings(recorder: Recorder) -> None:
    response = gateway(recorder).handle("GET", "/partners/p1", headers=[("authorization", "Bearer good")])
    assert response.status == 200
    claims = recorder.events[0][1]["requestContext"]["authorizer"]["claims"]
    assert claims == {
        "sub": "u1",
        "cognito:groups": "partner-admin,partner-user",
        "exp": "Fri Jul 29 18:52:53 UTC 2016",
    }


@pytest.mark.parametrize("headers", [[], [("Authorization", "Bearer bad")]])
def test_rejected_tokens_get_the_templates_unauthorized_response(
    recorder: Recorder, headers: list[tuple[str, str]]
) -> None:
    response = gateway(recorder).handle("GET", "/partners/p1", headers=headers)
    assert response.status == 401
    assert json.loads(response.body) == {"code": "unauthorized"}
    assert response.header("Access-Control-Allow-Origin") == ORIGIN
    assert recorder.events == []


def test_unknown_routes_and_methods_get_missing_authentication_token(recorder: Recorder) -> None:
    api = gateway(recorder)
    for method, path in [("GET", "/nope"), ("DELETE", "/applications"), ("GET", "/partners")]:
        response = api.handle(method, path)
        assert (response.status, json.loads(response.body)) == (404, {"code": "not_found"}), (method, path)
    assert recorder.events == []


def test_aws_default_gateway_responses_apply_when_the_template_has_none(recorder: Recorder) -> None:
    response = gateway(recorder, gateway_responses={}).handle("GET", "/nope")
    assert response.status == 403
    assert json.loads(response.body) == {"message": "Missing Authentication Token"}


def test_preflights_are_answered_from_the_cors_config_without_invoking(recorder: Recorder) -> None:
    response = gateway(recorder).handle("OPTIONS", "/partners/p1")
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == ORIGIN
    assert response.header("Access-Control-Allow-Methods") == "GET,POST,OPTIONS"
    assert response.header("Access-Control-Allow-Headers") == "Content-Type,Authorization"
    assert response.header("Access-Control-Max-Age") == "600"
    assert recorder.events == []
    assert gateway(recorder).handle("OPTIONS", "/nope").status == 404


def test_normal_responses_carry_only_the_functions_headers(recorder: Recorder) -> None:
    recorder.result = {
        "statusCode": 201,
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "headers": {"X-Own": "yes"},
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = gateway(recorder).handle("POST", "/applications", body=b"{}")
    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-Own") == "yes"
    assert response.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("result", [None, "text", {"body": "no status"}])
def test_malformed_function_responses_are_502(recorder: Recorder, result: Any) -> None:
    recorder.result = result
    response = gateway(recorder).handle("POST", "/applications", body=b"{}")
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_function_errors_are_502(recorder: Recorder) -> None:
    recorder.error = InvocationError("Runtime.ImportModuleError", "No module named 'app'")
    response = gateway(recorder).handle("POST", "/applications", body=b"{}")
    assert response.status == 502


def test_method_settings_throttle_per_route(recorder: Recorder) -> None:
    api = gateway(recorder)
    statuses = [api.handle("POST", "/applications", body=b"{}").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert api.handle("GET", "/partners/p1", headers=[("Authorization", "Bearer good")]).status == 200
    assert gateway(recorder, throttling=False).handle("POST", "/applications").status == 200


def test_binary_request_bodies_are_base64_encoded(recorder: Recorder) -> None:
    gateway(recorder).handle("POST", "/applications", body=b"\xff\xfe")
    event = recorder.events[0][1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"
