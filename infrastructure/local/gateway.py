"""API Gateway (REST) emulator: routes, Cognito authorizer, CORS preflights, throttling and gateway responses from the template."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from infrastructure.local.auth import CognitoTokenVerifier, TokenRejected, api_gateway_claims
from infrastructure.local.runtime import InvocationError

logger = logging.getLogger(__name__)

INTEGRATION_TIMEOUT_SECONDS = 29.0
Invoke = Callable[[str, dict[str, Any], float], Any]


@dataclass
class HttpResponse:
    """A response ready to be written by the HTTP server."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True)
class Route:
    """One Api event of a function: a resource path and method served by that function."""

    path: str
    method: str  # upper case; ANY matches every method
    function: str  # logical id
    authorizer: str | None  # authorizer name, or None for a public route
    event_name: str = ""

    @property
    def segments(self) -> list[str]:
        """The path's segments ('' for the root)."""
        return [segment for segment in self.path.strip("/").split("/") if segment]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters when the request path matches, else None."""
        own = self.segments
        parameters: dict[str, str] = {}
        for index, pattern in enumerate(own):
            if pattern.startswith("{") and pattern.endswith("+}"):
                if index >= len(segments):
                    return None
                parameters[pattern[1:-2]] = "/".join(segments[index:])
                return parameters
            if index >= len(segments):
                return None
            if pattern.startswith("{") and pattern.endswith("}"):
                parameters[pattern[1:-1]] = segments[index]
            elif pattern != segments[index]:
                return None
        return parameters if len(own) == len(segments) else None

    def specificity(self) -> tuple[int, ...]:
        """Sort key: literal segments beat {param}, which beats {proxy+} (lower sorts first)."""
        ranks = []
        for segment in self.segments:
            if segment.endswith("+}"):
                ranks.append(2)
            elif segment.startswith("{"):
                ranks.append(1)
            else:
                ranks.append(0)
        return tuple(ranks)


class TokenBucket:
    """API Gateway-style throttle: rate tokens per second, up to burst."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Consume one token if there is one."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


_DEFAULT_GATEWAY_RESPONSES: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, '{"message":"Unauthorized"}'),
    "ACCESS_DENIED": (403, '{"message":"Forbidden"}'),
    "MISSING_AUTHENTICATION_TOKEN": (403, '{"message":"Missing Authentication Token"}'),
    "THROTTLED": (429, '{"message":"Too Many Requests"}'),
    "INTEGRATION_FAILURE": (502, '{"message": "Internal server error"}'),
    "INTEGRATION_TIMEOUT": (504, '{"message": "Endpoint request timed out"}'),
}


def _unquote_literal(value: Any) -> str:
    """API Gateway mapping literals are written in single quotes: "'https://x'" -> https://x."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


class ApiGateway:
    """One REST API: turns HTTP requests into Lambda proxy events for the owning function, as API Gateway does."""

    def __init__(
        self,
        *,
        api_id: str,
        stage: str,
        account_id: str,
        routes: list[Route],
        invoke: Invoke,
        function_timeouts: Mapping[str, float],
        authorizers: Mapping[str, CognitoTokenVerifier],
        cors: Any = None,
        gateway_responses: Mapping[str, Any] | None = None,
        method_settings: list[dict[str, Any]] | None = None,
        throttling: bool = True,
    ) -> None:
        self.api_id = api_id
        self.stage = stage
        self.account_id = account_id
        self.routes = sorted(routes, key=lambda route: route.specificity())
        self._invoke = invoke
        self._function_timeouts = dict(function_timeouts)
        self.authorizers = dict(authorizers)
        self.cors = cors
        self.gateway_responses = dict(gateway_responses or {})
        self._throttling = throttling
        self._method_settings = method_settings or []
        self._buckets: dict[tuple[str, str], TokenBucket | None] = {}
        self._buckets_lock = threading.Lock()

    # ------------------------------------------------------------------ request handling

    def handle(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        """Serve one request whose path is relative to the API root (the stage)."""
        method = method.upper()
        segments = [unquote(segment) for segment in path.strip("/").split("/") if segment]
        headers = headers or []
        header_map = {name.lower(): value for name, value in headers}
        candidates = [(route, params) for route in self.routes if (params := route.match(segments)) is not None]
        if method == "OPTIONS" and self.cors is not None and candidates:
            explicit = [(route, params) for route, params in candidates if route.method == "OPTIONS"]
            if not explicit:
                return self._preflight({route.method for route, _ in candidates})
            candidates = explicit
        chosen = next(
            ((route, params) for route, params in candidates if route.method in {method, "ANY"}),
            None,
        )
        if chosen is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", header_map)
        route, path_parameters = chosen
        if not self._allow(route, method):
            return self.gateway_response("THROTTLED", header_map)
        claims: dict[str, Any] | None = None
        if route.authorizer is not None:
            verifier = self.authorizers.get(route.authorizer)
            if verifier is None:
                logger.error(
                    "route %s %s: authorizer %s is not supported locally", method, route.path, route.authorizer
                )
                return self.gateway_response("UNAUTHORIZED", header_map)
            try:
                claims = verifier.verify(header_map.get(verifier.identity_header.lower()))
            except TokenRejected as rejection:
                logger.debug("%s %s rejected: %s", method, path, rejection)
                return self.gateway_response("UNAUTHORIZED", header_map)
        event = self.proxy_event(
            route,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            path_parameters=path_parameters,
            claims=claims,
            source_ip=source_ip,
        )
        timeout = min(self._function_timeouts.get(route.function, INTEGRATION_TIMEOUT_SECONDS), 29.0)
        try:
            result = self._invoke(route.function, event, timeout)
        except InvocationError as error:
            if error.error_type == "Sandbox.Timedout" and timeout >= INTEGRATION_TIMEOUT_SECONDS:
                return self.gateway_response("INTEGRATION_TIMEOUT", header_map)
            return self.gateway_response("INTEGRATION_FAILURE", header_map)
        return self._proxy_response(route, result, header_map)

    def proxy_event(
        self,
        route: Route,
        *,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        path_parameters: dict[str, str],
        claims: dict[str, Any] | None,
        source_ip: str,
    ) -> dict[str, Any]:
        """The REST API Lambda proxy integration event (payload format 1.0)."""
        decoded_path = "/" + "/".join(unquote(segment) for segment in path.strip("/").split("/") if segment)
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        for name, value in (("X-Forwarded-For", source_ip), ("X-Forwarded-Proto", "http")):
            if name.lower() not in {key.lower() for key in single_headers}:
                single_headers[name] = value
                multi_headers[name] = [value]
        single_query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            single_query[name] = value
            multi_query.setdefault(name, []).append(value)
        text_body: str | None
        if not body:
            text_body, is_base64 = None, False
        else:
            try:
                text_body, is_base64 = body.decode("utf-8"), False
            except UnicodeDecodeError:
                text_body, is_base64 = base64.b64encode(body).decode(), True
        now = time.time()
        request_id = str(uuid.uuid4())
        request_context: dict[str, Any] = {
            "resourceId": hashlib.sha256(f"{route.path}".encode()).hexdigest()[:6],
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes).decode()[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{self.stage}{decoded_path}",
            "accountId": self.account_id,
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainPrefix": self.api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": single_headers.get("User-Agent") or single_headers.get("user-agent"),
                "user": None,
            },
            "domainName": single_headers.get("Host") or single_headers.get("host") or "localhost",
            "apiId": self.api_id,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": api_gateway_claims(claims)}
        return {
            "resource": route.path,
            "path": decoded_path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": text_body,
            "isBase64Encoded": is_base64,
        }

    def _proxy_response(self, route: Route, result: Any, request_headers: dict[str, str]) -> HttpResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int | str):
            logger.error("%s returned a malformed proxy response: %r", route.function, result)
            return self.gateway_response("INTEGRATION_FAILURE", request_headers)
        try:
            status = int(result["statusCode"])
        except ValueError:
            return self.gateway_response("INTEGRATION_FAILURE", request_headers)
        headers: list[tuple[str, str]] = []
        multi = result.get("multiValueHeaders") or {}
        for name, values in multi.items():
            headers.extend((name, str(value)) for value in values)
        for name, value in (result.get("headers") or {}).items():
            if name not in multi:
                headers.append((name, str(value)))
        body = result.get("body")
        if body is None:
            payload = b""
        elif result.get("isBase64Encoded"):
            payload = base64.b64decode(str(body))
        else:
            payload = str(body).encode("utf-8")
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return HttpResponse(status, headers, payload)

    # ------------------------------------------------------------------ CORS, throttling, gateway responses

    def _preflight(self, methods: set[str]) -> HttpResponse:
        cors = self.cors
        if isinstance(cors, str):
            cors = {"AllowOrigin": cors}
        allow_methods = cors.get("AllowMethods")
        headers = [("Access-Control-Allow-Origin", _unquote_literal(cors["AllowOrigin"]))]
        if allow_methods is None:
            listed = sorted(methods | {"OPTIONS"})
            allow_methods = ",".join(
                ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"] if "ANY" in listed else listed
            )
        headers.append(("Access-Control-Allow-Methods", _unquote_literal(allow_methods)))
        if cors.get("AllowHeaders") is not None:
            headers.append(("Access-Control-Allow-Headers", _unquote_literal(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("Access-Control-Max-Age", _unquote_literal(cors["MaxAge"])))
        if cors.get("AllowCredentials") in {True, "true", "'true'"}:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers.append(("Content-Type", "application/json"))
        return HttpResponse(200, headers, b"")

    def _setting_for(self, route: Route, method: str) -> dict[str, Any] | None:
        best: tuple[int, dict[str, Any]] | None = None
        for setting in self._method_settings:
            # "/~1applications" is the resource "/applications" ("/" escaped as "~1"); "/*" is every resource.
            raw = str(setting.get("ResourcePath", "/*"))
            resource = "/*" if raw == "/*" else raw[1:].replace("~1", "/")
            http_method = str(setting.get("HttpMethod", "*")).upper()
            if resource not in {route.path, "/*"} or http_method not in {method, "*"}:
                continue
            rank = (2 if resource == route.path else 0) + (1 if http_method == method else 0)
            if best is None or rank > best[0]:
                best = (rank, setting)
        return best[1] if best else None

    def _allow(self, route: Route, method: str) -> bool:
        if not self._throttling:
            return True
        key = (route.path, method)
        with self._buckets_lock:
            if key not in self._buckets:
                setting = self._setting_for(route, method)
                if setting and "ThrottlingRateLimit" in setting:
                    rate = float(setting["ThrottlingRateLimit"])
                    self._buckets[key] = TokenBucket(rate, float(setting.get("ThrottlingBurstLimit", rate)))
                else:
                    self._buckets[key] = None
            bucket = self._buckets[key]
        return bucket is None or bucket.take()

    def gateway_response(self, response_type: str, request_headers: Mapping[str, str]) -> HttpResponse:
        """A gateway response as configured in the template (falling back to DEFAULT_4XX/5XX, then AWS's defaults)."""
        status, default_body = _DEFAULT_GATEWAY_RESPONSES.get(response_type, (500, '{"message": null}'))
        fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        config = self.gateway_responses.get(response_type) or self.gateway_responses.get(fallback) or {}
        status = int(config.get("StatusCode", status))
        templates = config.get("ResponseTemplates") or {}
        body = templates.get("application/json", default_body)
        message = json.loads(default_body).get("message") or ""
        body = re.sub(r"\$context\.error\.messageString", json.dumps(message), body)
        body = re.sub(r"\$context\.error\.message", message, body)
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", _error_type(response_type))]
        parameters = (config.get("ResponseParameters") or {}).get("Headers") or {}
        for name, value in parameters.items():
            text = str(value)
            if text.startswith("method.request.header."):
                mapped = request_headers.get(text.removeprefix("method.request.header.").lower())
                if mapped is not None:
                    headers.append((name, mapped))
            else:
                headers.append((name, _unquote_literal(text)))
        return HttpResponse(status, headers, body.encode("utf-8"))


def _error_type(response_type: str) -> str:
    return {
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "THROTTLED": "TooManyRequestsException",
        "INTEGRATION_FAILURE": "InternalServerErrorException",
        "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    }.get(response_type, "UnknownException")
