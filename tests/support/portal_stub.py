"""The portal with no backend: a throw-away static server for portal/ and a Playwright stub for config, API, Cognito.

The stub answers `/config.json`, the API under `/api/` and the Cognito JSON API under `/cognito` from tables of
canned responses and records every request. API stubs are keyed by method and path without the query string; each
recorded call carries its parsed query. Absolute URLs on other origins (an S3 presigned POST, a presigned download)
are stubbed in `external`, keyed by method and URL without the query. `me()` and `PROFILE` are the signed-in
partner's canned `GET /me` and `GET /partners/{id}`; `session_script()` starts a page signed in.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, Page, Route

PORTAL = Path(__file__).resolve().parents[2] / "portal"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ABORT = "abort"
PARTNER_ID = "prt_01"
PROFILE = {
    "partner_id": PARTNER_ID,
    "company_name": "Acme Networks",
    "domain": "acme.example",
    "website": "https://www.acme.example",
    "country": "GB",
    "partner_type": "reseller",
    "tier": "Registered",
    "status": "active",
    "onboarded_at": "2026-11-20T09:30:00Z",
    "primary_contact": {"name": "Ada Lovelace", "email": "ada@acme.example"},
    "phone": None,
    "description": None,
    "application_id": "app_01",
}

Spec = Any  # a response dict, ABORT, a callable Call -> response, or a list of those (the last one repeats)


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": status, "json": body, "headers": headers or {}}


def error(
    status: int, code: str, message: str = "Rejected.", errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"status": status, "json": {"code": code, "message": message, "errors": errors or []}}


def raw(status: int, body: bytes | str = b"", headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A response that is not JSON (an empty 204 from S3, a file)."""
    return {"status": status, "body": body, "headers": headers or {}}


def cognito_error(kind: str, message: str, status: int = 400) -> dict[str, Any]:
    """A Cognito JSON API error (`__type` is what the portal branches on)."""
    return {"status": status, "json": {"__type": kind, "message": message}}


AGREEMENT = {
    "version": "2026-01",
    "title": "Partner Programme Agreement",
    "body": "1. Scope\nThis agreement governs the programme.\n\n2. Conduct\nPartners act in good faith.",
    "published_at": "2026-01-05T10:00:00Z",
}


def brand(**changes: Any) -> dict[str, Any]:
    """`GET /content/brand` for PARTNER_ID, read-only unless `editable=True`."""
    return {
        "partner_id": PARTNER_ID,
        "display_name": "Acme Networks",
        "website": "https://www.acme.example",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@acme.example",
        "phone": "",
        "address": {"lines": ["1 Analytical Row"], "city": "London", "postcode": "N1 9GU", "country": "GB"},
        "logo": None,
        "revision": 0,
        "updated_by": None,
        "updated_at": None,
        "editable": False,
    } | changes


def me(
    *, roles: tuple[str, ...] = ("partner-user",), partner_id: str | None = PARTNER_ID, required: bool = False
) -> dict[str, Any]:
    """`GET /me` for Ada of Acme; `required`: the current agreement is not accepted yet."""
    return {
        "email": "ada@acme.example",
        "name": "Ada Lovelace",
        "partner_id": partner_id,
        "roles": list(roles),
        "agreement": {
            "required": required,
            "current_version": "2026-01",
            "accepted_version": None if required else "2026-01",
        },
    }


def partner_api() -> dict[tuple[str, str], Spec]:
    """The answers every page of a signed-in partner user needs: `GET /me` and the organisation."""
    return {("GET", "/me"): ok(me()), ("GET", f"/partners/{PARTNER_ID}"): ok(PROFILE)}


def fake_jwt(
    email: str = "ada@acme.example",
    *,
    partner_id: str | None = "prt_01",
    groups: tuple[str, ...] = ("partner-user",),
    expires_in: int = 3600,
    marker: str = "1",
) -> str:
    """An unsigned token with the claims the portal reads (it never verifies tokens; the API does)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims: dict[str, Any] = {
        "email": email,
        "exp": int(time.time()) + expires_in,
        "token_use": "id",
        "cognito:groups": list(groups),
        "marker": marker,
    }
    if partner_id:
        claims["custom:partner_id"] = partner_id
    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.signature-{marker}"


def cognito_tokens(marker: str = "1", *, expires_in: int = 3600, refresh: bool = True, **claims: Any) -> dict[str, Any]:
    """Cognito's answer to a successful InitiateAuth or RespondToAuthChallenge (no new refresh token on a refresh)."""
    result = {
        "IdToken": fake_jwt(marker=marker, expires_in=expires_in, **claims),
        "AccessToken": f"access-{marker}",
        "ExpiresIn": expires_in,
        "TokenType": "Bearer",
    }
    if refresh:
        result["RefreshToken"] = f"refresh-{marker}"
    return {"AuthenticationResult": result}


def session_script(
    email: str = "ada@acme.example", *, marker: str = "1", expires_in: int = 3600, once: bool = False, **claims: Any
) -> str:
    """An init script that starts the page signed in (tokens in sessionStorage, as after a sign-in).

    `once`: only on the page's first load, so that a sign-out (or a failed refresh) survives a reload.
    """
    session = {
        "idToken": fake_jwt(email, marker=marker, expires_in=expires_in, **claims),
        "accessToken": f"access-{marker}",
        "refreshToken": f"refresh-{marker}",
        "expiresAt": int((time.time() + expires_in) * 1000),
        "email": email,
    }
    seed = f"sessionStorage.setItem('prm.auth', {json.dumps(json.dumps(session))});"
    if not once:
        return seed
    return f"if (!sessionStorage.getItem('test.seeded')) {{ {seed} sessionStorage.setItem('test.seeded', '1'); }}"


@dataclass
class Part:
    """One part of a multipart/form-data body, in the order the browser sent it."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = []
    for item in message.iter_parts():
        filename = item.get_filename()
        parts.append(
            Part(
                name=str(item.get_param("name", header="content-disposition")),
                filename=filename,
                content_type=item.get_content_type() if filename is not None else None,
                data=item.get_payload(decode=True) or b"",
            )
        )
    return parts


@dataclass
class Call:
    method: str
    path: str  # the API path without the query; Cognito: the action; external: the URL without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, or None
    raw: bytes = b""

    def multipart(self) -> list[Part]:
        return parse_multipart(self.raw, self.headers.get("content-type", ""))


@dataclass
class Stub:
    """Answers config, API, Cognito and external requests from tables of canned responses; records every call."""

    base: str  # the portal's URL, ending in "/"
    cognito_endpoint: str | None = None  # None: the stubbed Cognito below
    client_id: str = "client-1"
    api: dict[tuple[str, str], Spec] = field(default_factory=dict)
    cognito: dict[str, Spec] = field(default_factory=dict)
    external: dict[tuple[str, str], Spec] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    cognito_calls: list[Call] = field(default_factory=list)
    external_calls: list[Call] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        return {
            "apiBaseUrl": f"{self.base}api",
            "region": "us-east-1",
            "programmeName": "Contoso Partner Network",
            "cognito": {
                "endpoint": self.cognito_endpoint or f"{self.base}cognito",
                "userPoolId": "us-east-1_test",
                "clientId": self.client_id,
            },
        }

    def _external_key(self, url: str) -> str:
        return url.split("?", 1)[0]

    def matches(self, url: str) -> bool:
        if url == f"{self.base}config.json" or url.startswith((f"{self.base}api/", f"{self.base}cognito")):
            return True
        return any(self._external_key(url) == target for _, target in self.external)

    def handle(self, route: Route) -> None:
        request = route.request
        url = request.url
        if url == f"{self.base}config.json":
            route.fulfill(json=self.config)
            return
        data = request.post_data_buffer or b""
        content_type = request.headers.get("content-type", "")
        body = json.loads(data) if data and "json" in content_type else None
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if url.startswith(f"{self.base}cognito"):
            action = request.headers.get("x-amz-target", "").rsplit(".", 1)[-1]
            call = Call(request.method, action, query, request.headers, body, data)
            self.cognito_calls.append(call)
            spec = self._next(self.cognito, action, call)
        elif url.startswith(f"{self.base}api/"):
            call = Call(
                request.method, parts.path[len(urlsplit(self.base).path) + 3 :], query, request.headers, body, data
            )
            self.calls.append(call)
            spec = self._next(self.api, (request.method, call.path), call)
        else:
            call = Call(request.method, self._external_key(url), query, request.headers, body, data)
            self.external_calls.append(call)
            spec = self._next(self.external, (request.method, call.path), call)
        if spec == ABORT:
            route.abort("failed")
            return
        headers = dict(spec.get("headers") or {})
        origin = request.headers.get("origin")
        if origin and "access-control-allow-origin" not in {k.lower() for k in headers}:
            # The other origins answer CORS for the portal, as S3 does with the bucket's CORS rules.
            headers["Access-Control-Allow-Origin"] = origin
        if "json" in spec:
            route.fulfill(status=spec["status"], json=spec["json"], headers=headers)
        else:
            route.fulfill(status=spec["status"], body=spec.get("body", b""), headers=headers)

    @staticmethod
    def _next(table: dict[Any, Spec], key: Any, call: Call) -> Any:
        if key not in table:
            return error(404, "not_found", f"No stub for {key}")
        spec = table[key]
        if isinstance(spec, list):
            spec = spec.pop(0) if len(spec) > 1 else spec[0]
        return spec(call) if callable(spec) else spec

    def requests(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def actions(self, action: str) -> list[Call]:
        return [c for c in self.cognito_calls if c.path == action]

    def sent_to(self, method: str, url: str) -> list[Call]:
        return [c for c in self.external_calls if c.method == method and c.path == url]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@contextmanager
def serve_portal(directory: Path = PORTAL) -> Iterator[str]:
    """Serve portal/ on a free loopback port; yields its URL ending in "/"."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def stubbed_page(browser: Browser, stub: Stub, *, session: str | None = None, timeout_ms: int = 5000) -> Iterator[Page]:
    """A fresh context whose requests go to `stub`; page errors and console errors fail the test on exit.

    `session`: an init script from session_script(), to start signed in.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(timeout_ms)
    context.route(stub.matches, stub.handle)  # on the context: popups opened by the page are stubbed too
    page = context.new_page()
    if session:
        page.add_init_script(session)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems
