"""The local stack's one HTTP port: the API under /api, the portal's static files, /config.json and the /_mail viewer."""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infrastructure.local import mail as mail_views
from infrastructure.local.gateway import ApiGateway, HttpResponse
from infrastructure.local.mail import Mailbox

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
# The listen backlog: connections the kernel completes and queues until a thread accepts them. socketserver's
# default of 5 makes a burst of partners (20 posting at once) see refused or reset connections; API Gateway takes them.
LISTEN_BACKLOG = 1024
# A keep-alive connection that sends nothing for this long is closed, so idle browsers do not each hold a thread.
IDLE_CONNECTION_SECONDS = 30.0
MAIL_PREFIX = "/_mail"
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}


class Site:
    """What the HTTP server serves; the gateway is attached once provisioning is done."""

    def __init__(self, portal_dir: Path, mailbox: Mailbox, config: Callable[[], dict[str, Any]]) -> None:
        self.portal_dir = portal_dir
        self.mailbox = mailbox
        self.config = config
        self.gateway: ApiGateway | None = None

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        """Route one request to the API, the config, the mail viewer or the static portal."""
        parts = urlsplit(target)
        path = parts.path or "/"
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            if self.gateway is None:
                return _json(503, {"message": "The local stack is still starting."})
            return self.gateway.handle(
                method,
                path[len(API_PREFIX) :] or "/",
                query=parts.query,
                headers=headers,
                body=body,
                source_ip=client_ip,
            )
        if method not in {"GET", "HEAD"}:
            return _json(405, {"message": "Method not allowed."})
        if path == "/config.json":
            return HttpResponse(
                200,
                [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                json.dumps(self.config(), indent=2).encode(),
            )
        if path == MAIL_PREFIX or path.startswith(MAIL_PREFIX + "/"):
            return self._mail(path[len(MAIL_PREFIX) :].strip("/"), parse_qs(parts.query))
        return self._static(path)

    def _mail(self, rest: str, query: dict[str, list[str]]) -> HttpResponse:
        messages = self.mailbox.messages()
        if rest == "api/messages":
            recipients = {address.lower() for address in query.get("to", [])}
            if recipients:
                messages = [m for m in messages if recipients & {d.lower() for d in m["destinations"]}]
            return _json(200, messages)
        if not rest:
            return _html(200, mail_views.render_list(messages))
        message_id, _, suffix = rest.partition("/")
        found = next((message for message in messages if message["id"] == message_id), None)
        if found is None or suffix not in {"", "body"}:
            return _html(404, mail_views.render_list(messages))
        return _html(200, mail_views.render_body(found) if suffix else mail_views.render_message(found))

    def _static(self, path: str) -> HttpResponse:
        root = self.portal_dir.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(root):
            return _json(404, {"message": "Not found."})
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file() and not Path(path).suffix:
            candidate = root / "index.html"  # client-side routes fall back to the app shell
        if not candidate.is_file():
            return _json(404, {"message": "Not found."})
        content_type = _CONTENT_TYPES.get(candidate.suffix) or mimetypes.guess_type(candidate.name)[0]
        return HttpResponse(
            200,
            [("Content-Type", content_type or "application/octet-stream"), ("Cache-Control", "no-cache")],
            candidate.read_bytes(),
        )


def _json(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _html(status: int, page: str) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode()
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prm-local"
    timeout = IDLE_CONNECTION_SECONDS
    site: Site  # set on the subclass LocalHttpServer creates

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        try:
            response = self.site.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        except Exception:
            logger.exception("error serving %s %s", self.command, self.path)
            response = _json(500, {"message": "Internal error in the local stack."})
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the browser went away (navigated, closed the tab)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    """One thread per connection (a request waits for its function's worker, not for other requests)."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class LocalHttpServer:
    """A threaded HTTP server bound at construction (so the port is known early) and served on start()."""

    def __init__(self, site: Site, host: str, port: int) -> None:
        handler = type("SiteHandler", (_Handler,), {"site": site})
        self._server = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="prm-local-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
