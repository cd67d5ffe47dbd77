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


def _template_web_acl(**parameters: str) -> list[Any]:
    from pathlib import Path

    from infrastructure.local.gateway import web_acl_rules_for
    from infrastructure.local.template import Template, load_template

    root = Path(__file__).resolve().parents[2]
    template = Template(load_template(root / "template.yaml"), parameters)
    return web_acl_rules_for(template, "PrmApi")


def test_the_template_limits_applications_per_client_ip_so_one_burst_locks_nobody_else_out(
    recorder: Recorder,
) -> None:
    rules = _template_web_acl(Stage="dev")
    applications = [r for r in rules if r.scope("POST", "/dev/applications")]
    assert [(r.limit, r.window_seconds, r.forwarded_header) for r in applications] == [(20, 300, None)]
    api = gateway(recorder, web_acl_rules=rules, method_settings=[])
    burst = [api.handle("POST", "/applications", body=b"{}", source_ip="203.0.113.7") for _ in range(30)]
    assert [r.status for r in burst] == [200] * 20 + [429] * 10
    refused = burst[-1]
    assert refused.header("Content-Type") == "application/json"
    assert json.loads(refused.body)["code"] == "throttled"
    assert set(json.loads(refused.body)) == {"code", "message", "errors"}
    # Another applicant is unaffected, and the limited client still reaches other routes.
    assert api.handle("POST", "/applications", body=b"{}", source_ip="198.51.100.4").status == 200
    assert (
        api.handle("GET", "/partners/p1", headers=[("Authorization", "Bearer good")], source_ip="203.0.113.7").status
        == 200
    )


def test_a_forwarded_for_header_does_not_dodge_the_limit_unless_the_rule_trusts_it(recorder: Recorder) -> None:
    api = gateway(
        recorder, web_acl_rules=_template_web_acl(Stage="dev", ApplicationRateLimitPerClient="10"), method_settings=[]
    )
    statuses = [
        api.handle(
            "POST", "/applications", headers=[("X-Forwarded-For", f"192.0.2.{i}")], body=b"{}", source_ip="203.0.113.7"
        ).status
        for i in range(12)
    ]
    assert statuses[-1] == 429 and statuses.count(200) == 10


def test_a_rule_with_forwarded_ip_config_counts_the_forwarded_address(recorder: Recorder) -> None:
    from infrastructure.local.gateway import rate_rules

    acl = {
        "Rules": [
            {
                "Name": "r",
                "Priority": 0,
                "Action": {"Block": {}},
                "Statement": {
                    "RateBasedStatement": {
                        "Limit": 10,
                        "AggregateKeyType": "FORWARDED_IP",
                        "ForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "NO_MATCH"},
                    }
                },
            }
        ]
    }
    api = gateway(recorder, web_acl_rules=rate_rules(acl), method_settings=[])
    proxy = "10.0.0.1"
    one = [
        api.handle("POST", "/applications", headers=[("X-Forwarded-For", "192.0.2.1")], source_ip=proxy)
        for _ in range(11)
    ]
    assert one[-1].status == 403
    assert (
        api.handle("POST", "/applications", headers=[("X-Forwarded-For", "192.0.2.2")], source_ip=proxy).status == 200
    )


def _template() -> Any:
    from pathlib import Path

    from infrastructure.local.template import load_template

    return load_template(Path(__file__).resolve().parents[2] / "template.yaml")


def _public_routes() -> list[Route]:
    """Every Api event of the template that opts out of the authorizer."""
    routes = []
    for lid, resource in _template()["Resources"].items():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            source = event.get("Properties") or {}
            if event.get("Type") == "Api" and (source.get("Auth") or {}).get("Authorizer") == "NONE":
                routes.append(Route(str(source["Path"]), str(source["Method"]).upper(), lid, None))
    return routes


def _concrete(path: str) -> str:
    return "/".join("x1" if part.startswith("{") else part for part in path.split("/"))


def test_every_public_route_is_limited_per_client_ip_by_the_templates_web_acl(recorder: Recorder) -> None:
    """One client flooding a public route (bad signatures on confirmation links, ...) must not empty a bucket that
    everyone shares: WAF counts per IP; the stage throttle is only an overall ceiling."""
    public = _public_routes()
    assert {(r.method, r.path) for r in public} >= {
        ("POST", "/applications"),
        ("GET", "/applications/{application_id}/confirmation"),
        ("POST", "/applications/{application_id}/confirmation"),
        ("GET", "/approvals/{approval_id}"),
        ("POST", "/approvals/{approval_id}"),
        ("GET", "/mdf/proofs/{request_id}/{file_id}"),
        ("POST", "/training/webhooks/{connection_id}"),
        ("POST", "/xapi/statements"),
    }
    for route in public:
        rules = _template_web_acl(Stage="dev")  # fresh counters per route
        path = _concrete(route.path)
        limits = [r for r in rules if r.scope(route.method, f"/dev{path}")]
        assert limits, f"no per-client WAF rule covers {route.method} {route.path}"
        api = gateway(recorder, routes=public, web_acl_rules=rules, method_settings=[])
        limit = min(r.limit for r in limits)
        statuses = [api.handle(route.method, path, source_ip="203.0.113.9").status for _ in range(limit + 1)]
        assert statuses == [200] * limit + [429], (route.method, route.path)
        assert api.handle(route.method, path, source_ip="198.51.100.5").status == 200, route.path


def test_the_applications_rule_counts_path_variants_the_way_waf_sees_them(recorder: Recorder) -> None:
    """WAF matches the raw URI path: `//applications/` must count against the same limit as `/applications`."""
    rules = _template_web_acl(Stage="dev", ApplicationRateLimitPerClient="10")
    (applications,) = [r for r in rules if r.scope("POST", "/dev/applications")]
    for variant in ["/dev//applications", "/dev/applications/", "//dev/applications//", "/dev/%61pplications"]:
        assert applications.scope("POST", variant), variant
    assert not applications.scope("GET", "/dev/applications")
    assert not applications.scope("POST", "/dev/applications/app_1/confirmation")
    api = gateway(recorder, web_acl_rules=rules, method_settings=[])
    variants = ["/applications", "//applications", "/applications/", "/applications//", "/%61pplications"]
    statuses = [api.handle("POST", variants[i % len(variants)], source_ip="203.0.113.8").status for i in range(11)]
    assert statuses == [200] * 10 + [429]


def test_waf_rules_see_the_raw_path_not_the_routed_one(recorder: Recorder) -> None:
    """The emulator applies a rule to the path as sent (as WAF does), so a rule that AWS would miss is missed here too."""
    from infrastructure.local.gateway import rate_rules

    exact = {
        "Rules": [
            {
                "Name": "exact",
                "Priority": 0,
                "Action": {"Block": {}},
                "Statement": {
                    "RateBasedStatement": {
                        "Limit": 10,
                        "AggregateKeyType": "IP",
                        "ScopeDownStatement": {
                            "ByteMatchStatement": {
                                "FieldToMatch": {"UriPath": {}},
                                "PositionalConstraint": "EXACTLY",
                                "SearchString": "/dev/applications",
                                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                            }
                        },
                    }
                },
            }
        ]
    }
    api = gateway(recorder, web_acl_rules=rate_rules(exact), method_settings=[])
    assert [api.handle("POST", "//applications/", source_ip="203.0.113.6").status for _ in range(12)] == [200] * 12
    assert [api.handle("POST", "/applications", source_ip="203.0.113.6").status for _ in range(11)][-1] == 403


def test_the_templates_gateway_responses_name_each_refusal(recorder: Recorder) -> None:
    """A WAF block without a custom response, an oversized body: each gets its own code (not DEFAULT_4XX's
    `bad_request`) and the CORS header the portal needs to read it, locally as in AWS."""
    from infrastructure.local.gateway import rate_rules
    from infrastructure.local.template import Template

    template = Template(_template(), {"Stage": "dev"})
    raw = template.properties("PrmApi")
    api_props = {name: template.resolve(raw[name]) for name in ("GatewayResponses", "Cors")}
    blocking = {
        "Rules": [
            {
                "Name": "r",
                "Priority": 0,
                "Action": {"Block": {}},
                "Statement": {"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "IP"}},
            }
        ]
    }
    api = gateway(
        recorder,
        gateway_responses=api_props["GatewayResponses"],
        web_acl_rules=rate_rules(blocking),
        method_settings=[],
    )
    origin = str(api_props["Cors"]["AllowOrigin"]).strip("'")
    too_large = api.handle("POST", "/applications", body=b"x" * (10 * 1024 * 1024 + 1), source_ip="192.0.2.50")
    assert (too_large.status, json.loads(too_large.body)["code"]) == (413, "payload_too_large")
    assert too_large.header("Access-Control-Allow-Origin") == origin
    statuses = [api.handle("GET", "/partners/p1", source_ip="192.0.2.51") for _ in range(11)]
    blocked = statuses[-1]
    assert (blocked.status, json.loads(blocked.body)["code"]) == (403, "request_blocked")
    assert blocked.header("Access-Control-Allow-Origin") == origin
