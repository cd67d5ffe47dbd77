"""API Gateway (REST) emulator: routes, Cognito authorizer, CORS preflights, throttling and gateway responses from the template."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
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


class _Answered(Exception):
    """API Gateway (or WAF) answers the request itself, before or instead of the integration."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


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


@dataclass
class RateRule:
    """A WAF rate-based rule (Block) of the API's web ACL: requests matching `scope` are counted per client IP."""

    name: str
    limit: int
    window_seconds: int
    scope: Callable[[str, str], bool]  # (method, URI path as WAF sees it: raw, with the stage) -> counted?
    status: int = 403
    body: bytes = b""
    content_type: str = "text/plain"
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    custom_response: bool = False  # without one, API Gateway answers a WAF block with its WAF_FILTERED response
    forwarded_header: str | None = None  # ForwardedIPConfig.HeaderName: only then is a header's address used
    fallback_match: bool = False  # ForwardedIPConfig.FallbackBehavior MATCH: a missing or bad header counts
    seen: dict[str, deque[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, source_ip: str, headers: Mapping[str, str]) -> str | None:
        """The address WAF aggregates on: the socket's peer, or the configured header's first address."""
        if self.forwarded_header is None:
            return source_ip
        raw = headers.get(self.forwarded_header.lower(), "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError:
            return "fallback" if self.fallback_match else None

    def blocks(self, method: str, uri_path: str, source_ip: str, headers: Mapping[str, str]) -> bool:
        """Count this request if it is in scope; True when its client exceeded the limit in the window."""
        if not self.scope(method, uri_path):
            return False
        client = self.client(source_ip, headers)
        if client is None:
            return False
        now = time.monotonic()
        with self.lock:
            window = self.seen.setdefault(client, deque())
            while window and window[0] <= now - self.window_seconds:
                window.popleft()
            window.append(now)
            return len(window) > self.limit


_TRANSFORMS: dict[str, Callable[[str], str]] = {
    "NONE": lambda value: value,
    "LOWERCASE": str.lower,
    "URL_DECODE": unquote,
}


def _field(statement: Mapping[str, Any]) -> Callable[[str, str], str]:
    """The part of the request a match statement inspects, after its text transformations (in priority order)."""
    field_to_match = statement.get("FieldToMatch") or {}
    if "UriPath" in field_to_match:
        part = 1
    elif "Method" in field_to_match:
        part = 0
    else:
        raise ValueError(f"FieldToMatch {sorted(field_to_match)} is not emulated")
    steps = sorted(statement.get("TextTransformations") or [], key=lambda t: int(t.get("Priority", 0)))
    unknown = {str(t.get("Type")) for t in steps} - set(_TRANSFORMS)
    if unknown:
        raise ValueError(f"text transformations {sorted(unknown)} are not emulated")
    transforms = [_TRANSFORMS[str(t["Type"])] for t in steps]

    def value(method: str, path: str) -> str:
        text = (method, path)[part]
        for transform in transforms:
            text = transform(text)
        return text

    return value


def _byte_match(statement: Mapping[str, Any]) -> Callable[[str, str], bool]:
    value = _field(statement)
    wanted = str(statement["SearchString"])
    constraint = str(statement.get("PositionalConstraint", "EXACTLY"))
    tests: dict[str, Callable[[str], bool]] = {
        "EXACTLY": lambda text: text == wanted,
        "STARTS_WITH": lambda text: text.startswith(wanted),
        "ENDS_WITH": lambda text: text.endswith(wanted),
        "CONTAINS": lambda text: wanted in text,
    }
    if constraint not in tests:
        raise ValueError(f"PositionalConstraint {constraint} is not emulated")
    test = tests[constraint]
    return lambda method, path: test(value(method, path))


def _regex_match(statement: Mapping[str, Any]) -> Callable[[str, str], bool]:
    """WAF's RegexMatchStatement: the pattern (the PCRE subset the template uses) is searched anywhere in the value."""
    value = _field(statement)
    pattern = re.compile(str(statement["RegexString"]))
    return lambda method, path: pattern.search(value(method, path)) is not None


def _scope(statement: Mapping[str, Any] | None) -> Callable[[str, str], bool]:
    """A WAF match statement as a predicate (the subset the template uses: And, Or, Not, ByteMatch, RegexMatch)."""
    if statement is None:
        return lambda method, path: True
    if "ByteMatchStatement" in statement:
        return _byte_match(statement["ByteMatchStatement"])
    if "RegexMatchStatement" in statement:
        return _regex_match(statement["RegexMatchStatement"])
    if "AndStatement" in statement:
        parts = [_scope(s) for s in statement["AndStatement"]["Statements"]]
        return lambda method, path: all(p(method, path) for p in parts)
    if "OrStatement" in statement:
        parts = [_scope(s) for s in statement["OrStatement"]["Statements"]]
        return lambda method, path: any(p(method, path) for p in parts)
    if "NotStatement" in statement:
        inner = _scope(statement["NotStatement"]["Statement"])
        return lambda method, path: not inner(method, path)
    raise ValueError(f"statement {sorted(statement)} is not emulated")


def rate_rules(web_acl: Mapping[str, Any]) -> list[RateRule]:
    """The blocking rate-based rules of a resolved AWS::WAFv2::WebACL's properties (others are not emulated)."""
    bodies = web_acl.get("CustomResponseBodies") or {}
    found = []
    for rule in sorted(web_acl.get("Rules") or [], key=lambda r: int(r.get("Priority", 0))):
        rate = (rule.get("Statement") or {}).get("RateBasedStatement")
        block = (rule.get("Action") or {}).get("Block")
        if rate is None or block is None:
            logger.warning("WAF rule %s is not emulated locally", rule.get("Name"))
            continue
        if rate.get("AggregateKeyType", "IP") not in {"IP", "FORWARDED_IP"}:
            logger.warning("WAF rule %s: aggregate key %s is not emulated", rule.get("Name"), rate["AggregateKeyType"])
            continue
        forwarded = rate.get("ForwardedIPConfig") if rate.get("AggregateKeyType") == "FORWARDED_IP" else None
        custom = block.get("CustomResponse") or {}
        body = bodies.get(custom.get("CustomResponseBodyKey")) or {}
        content_types = {"APPLICATION_JSON": "application/json", "TEXT_HTML": "text/html", "TEXT_PLAIN": "text/plain"}
        found.append(
            RateRule(
                name=str(rule.get("Name")),
                limit=int(rate["Limit"]),
                window_seconds=int(rate.get("EvaluationWindowSec", 300)),
                scope=_scope(rate.get("ScopeDownStatement")),
                status=int(custom.get("ResponseCode", 403)),
                body=str(body.get("Content", "Forbidden")).encode(),
                content_type=content_types.get(str(body.get("ContentType", "TEXT_PLAIN")), "text/plain"),
                response_headers=[(str(h["Name"]), str(h["Value"])) for h in custom.get("ResponseHeaders") or []],
                custom_response=bool(custom),
                forwarded_header=str(forwarded["HeaderName"]) if forwarded else None,
                fallback_match=bool(forwarded and forwarded.get("FallbackBehavior") == "MATCH"),
            )
        )
    return found


def web_acl_rules_for(template: Any, api_logical_id: str) -> list[RateRule]:
    """The rate-based rules of every web ACL the template associates with the API (AWS::WAFv2::WebACLAssociation)."""
    from infrastructure.local.template import references

    found: list[RateRule] = []
    for association in template.resources_of_type("AWS::WAFv2::WebACLAssociation").values():
        props = association.get("Properties") or {}
        if api_logical_id not in references(props.get("ResourceArn")):
            continue
        for acl_id in sorted(references(props.get("WebACLArn")) & set(template.resources)):
            found += rate_rules(template.resolve(template.properties(acl_id)))
    return found


MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST APIs refuse larger requests (413, REQUEST_TOO_LARGE)

_DEFAULT_GATEWAY_RESPONSES: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, '{"message":"Unauthorized"}'),
    "ACCESS_DENIED": (403, '{"message":"Forbidden"}'),
    "MISSING_AUTHENTICATION_TOKEN": (403, '{"message":"Missing Authentication Token"}'),
    "WAF_FILTERED": (403, '{"message":"Forbidden"}'),
    "REQUEST_TOO_LARGE": (413, '{"message":"Request Too Long"}'),
    "UNSUPPORTED_MEDIA_TYPE": (415, '{"message":"Unsupported Media Type"}'),
    "THROTTLED": (429, '{"message":"Too Many Requests"}'),
    "QUOTA_EXCEEDED": (429, '{"message":"Limit Exceeded"}'),
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
        web_acl_rules: list[RateRule] | None = None,
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
        self.web_acl_rules = list(web_acl_rules or [])  # WAF runs before API Gateway, as in AWS

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
        headers = headers or []
        header_map = {name.lower(): value for name, value in headers}
        try:
            self._screen(method, path, body, source_ip, header_map)
            method = method.upper()
            route, path_parameters = self._route(method, path, header_map)
            claims = self._authorize(route, method, path, header_map)
        except _Answered as answered:
            return answered.response
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

    def _screen(self, method: str, path: str, body: bytes, source_ip: str, header_map: dict[str, str]) -> None:
        """WAF's rules, then the payload limit; raises _Answered with the refusal."""
        if self._throttling:
            # WAF inspects the request as sent (raw method and path, the stage included), before any routing.
            uri_path = f"/{self.stage}{path if path.startswith('/') else '/' + path}"
            for rule in self.web_acl_rules:
                if rule.blocks(method, uri_path, source_ip, header_map):
                    if not rule.custom_response:
                        raise _Answered(self.gateway_response("WAF_FILTERED", header_map))
                    blocked = [("Content-Type", rule.content_type), *rule.response_headers]
                    raise _Answered(HttpResponse(rule.status, blocked, rule.body))
        if len(body) > MAX_PAYLOAD_BYTES:
            raise _Answered(self.gateway_response("REQUEST_TOO_LARGE", header_map))

    def _route(self, method: str, path: str, header_map: dict[str, str]) -> tuple[Route, dict[str, str]]:
        """The route and path parameters a request goes to; raises _Answered for a preflight, no route or throttling."""
        segments = [unquote(segment) for segment in path.strip("/").split("/") if segment]
        candidates = [(route, params) for route in self.routes if (params := route.match(segments)) is not None]
        if method == "OPTIONS" and self.cors is not None and candidates:
            explicit = [(route, params) for route, params in candidates if route.method == "OPTIONS"]
            if not explicit:
                raise _Answered(self._preflight({route.method for route, _ in candidates}))
            candidates = explicit
        chosen = next(
            ((route, params) for route, params in candidates if route.method in {method, "ANY"}),
            None,
        )
        if chosen is None:
            raise _Answered(self.gateway_response("MISSING_AUTHENTICATION_TOKEN", header_map))
        if not self._allow(chosen[0], method):
            raise _Answered(self.gateway_response("THROTTLED", header_map))
        return chosen

    def _authorize(self, route: Route, method: str, path: str, header_map: dict[str, str]) -> dict[str, Any] | None:
        """The route's authorizer's claims (None for a public route); raises _Answered with a 401."""
        if route.authorizer is None:
            return None
        verifier = self.authorizers.get(route.authorizer)
        if verifier is None:
            logger.error("route %s %s: authorizer %s is not supported locally", method, route.path, route.authorizer)
            raise _Answered(self.gateway_response("UNAUTHORIZED", header_map))
        try:
            return verifier.verify(header_map.get(verifier.identity_header.lower()))
        except TokenRejected as rejection:
            logger.debug("%s %s rejected: %s", method, path, rejection)
            answer = self.gateway_response("UNAUTHORIZED", header_map, message=rejection.gateway_message)
            raise _Answered(answer) from None

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

    def gateway_response(
        self, response_type: str, request_headers: Mapping[str, str], *, message: str | None = None
    ) -> HttpResponse:
        """A gateway response as configured in the template (falling back to DEFAULT_4XX/5XX, then AWS's defaults).

        `message` is `$context.error.message` when it is not the response type's usual one (an expired token's 401)."""
        status, default_body = _DEFAULT_GATEWAY_RESPONSES.get(response_type, (500, '{"message": null}'))
        fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        config = self.gateway_responses.get(response_type) or self.gateway_responses.get(fallback) or {}
        status = int(config.get("StatusCode", status))
        templates = config.get("ResponseTemplates") or {}
        if message is None:
            message = json.loads(default_body).get("message") or ""
        else:
            default_body = json.dumps({"message": message})
        body = templates.get("application/json", default_body)
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
        "WAF_FILTERED": "ForbiddenException",
        "REQUEST_TOO_LARGE": "RequestTooLargeException",
        "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
        "THROTTLED": "TooManyRequestsException",
        "QUOTA_EXCEEDED": "LimitExceededException",
        "INTEGRATION_FAILURE": "InternalServerErrorException",
        "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    }.get(response_type, "UnknownException")
