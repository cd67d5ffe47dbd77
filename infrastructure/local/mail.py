"""Local mailbox: reads the mail moto's SES captured (SESv1 and SESv2 both land there) and renders a small viewer."""

from __future__ import annotations

import html
import re
import threading
import time
from typing import Any

from infrastructure.local import moto_patches
from infrastructure.local.template import ACCOUNT_ID, REGION


class StampedList(list[Any]):
    """The list moto appends sent messages to, remembering when each arrived (moto keeps no timestamp)."""

    def __init__(self, items: list[Any] | None = None) -> None:
        super().__init__(items or [])
        self.stamps: dict[str, float] = {}
        now = time.time()
        for item in self:
            self.stamps.setdefault(str(getattr(item, "id", id(item))), now)

    def append(self, item: Any) -> None:
        """Record the arrival time, then append."""
        self.stamps[str(getattr(item, "id", id(item)))] = time.time()
        super().append(item)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle's default for list subclasses calls append() before the stamps exist.
        return (_restore_stamped, (list(self), self.stamps))


def _restore_stamped(items: list[Any], stamps: dict[str, float]) -> StampedList:
    restored = StampedList(items)
    restored.stamps.update(stamps)
    return restored


class Mailbox:
    """Every email SES accepted in this stack, newest first."""

    def __init__(self, account_id: str = ACCOUNT_ID, region: str = REGION) -> None:
        self.account_id = account_id
        self.region = region
        self._lock = threading.Lock()

    def _backend(self) -> Any:
        return moto_patches.ses_backend(self.region, self.account_id)

    def install(self) -> None:
        """Make the SES backend record arrival times (call after moto state is created or restored)."""
        with self._lock:
            backend = self._backend()
            if not isinstance(backend.sent_messages, StampedList):
                backend.sent_messages = StampedList(list(backend.sent_messages))

    def messages(self) -> list[dict[str, Any]]:
        """[{id, source, destinations, subject, body, timestamp}] newest first; timestamp is ISO-8601 UTC."""
        self.install()
        sent: StampedList = self._backend().sent_messages
        stamped: list[tuple[float, int, dict[str, Any]]] = []
        for index, message in enumerate(list(sent)):
            message_id = str(getattr(message, "id", id(message)))
            destinations = getattr(message, "destinations", None) or {}
            if isinstance(destinations, dict):
                recipients = [address for addresses in destinations.values() for address in addresses]
            else:
                recipients = list(destinations)
            stamp = sent.stamps.setdefault(message_id, time.time())
            item = {
                "id": message_id,
                "source": getattr(message, "source", None),
                "destinations": recipients,
                "subject": getattr(message, "subject", None) or _raw_subject(message),
                "body": getattr(message, "body", None) or getattr(message, "raw_data", ""),
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp))
                + f".{int(stamp * 1000) % 1000:03d}Z",
            }
            stamped.append((stamp, index, item))
        stamped.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        return [item for _, _, item in stamped]


def _raw_subject(message: Any) -> str | None:
    raw = getattr(message, "raw_data", None)
    if not raw:
        return None
    found = re.search(r"^Subject:\s*(.*)$", str(raw), re.MULTILINE)
    return found.group(1).strip() if found else None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1d2433; }}
header {{ background: #1d2433; color: #fff; padding: .8rem 1.2rem; }}
header a {{ color: #fff; }}
main {{ padding: 1rem 1.2rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }}
tr:hover td {{ background: #f5f7fb; }}
.meta {{ color: #555; margin: .2rem 0; }}
iframe {{ width: 100%; height: 70vh; border: 1px solid #e3e6ec; border-radius: 4px; }}
.empty {{ color: #777; }}
</style></head>
<body><header><strong>PRM local mail</strong> &middot; <a href="/_mail/">all messages</a></header>
<main>{content}</main></body></html>
"""


def render_list(messages: list[dict[str, Any]]) -> str:
    """The inbox page."""
    if not messages:
        content = '<p class="empty">No mail yet. Emails the PRM sends through SES show up here.</p>'
    else:
        rows = "".join(
            '<tr><td>{time}</td><td>{to}</td><td>{source}</td><td><a href="/_mail/{id}">{subject}</a></td></tr>'.format(
                time=html.escape(item["timestamp"]),
                to=html.escape(", ".join(item["destinations"])),
                source=html.escape(str(item["source"])),
                id=html.escape(item["id"]),
                subject=html.escape(item["subject"] or "(no subject)"),
            )
            for item in messages
        )
        content = f"<table><thead><tr><th>Time (UTC)</th><th>To</th><th>From</th><th>Subject</th></tr></thead><tbody>{rows}</tbody></table>"
    return _PAGE.format(title="PRM local mail", content=content)


def render_message(message: dict[str, Any]) -> str:
    """One message: headers, and the HTML body in a frame (its links open in the whole window)."""
    content = (
        f"<h2>{html.escape(message['subject'] or '(no subject)')}</h2>"
        f'<p class="meta">From: {html.escape(str(message["source"]))}</p>'
        f'<p class="meta">To: {html.escape(", ".join(message["destinations"]))}</p>'
        f'<p class="meta">Sent: {html.escape(message["timestamp"])}</p>'
        f'<iframe title="message body" src="/_mail/{html.escape(message["id"])}/body"></iframe>'
    )
    return _PAGE.format(title=html.escape(message["subject"] or "mail"), content=content)


_URL = re.compile(r"https?://[^\s<>\"']+")


def render_body(message: dict[str, Any]) -> str:
    """The message body as a standalone HTML document; plain text is escaped and its URLs made clickable."""
    body = str(message["body"] or "")
    if not re.search(r"<\s*(html|body|p|div|a|br|table|h\d)\b", body, re.IGNORECASE):
        escaped = html.escape(body)
        body = (
            '<pre style="white-space: pre-wrap; font: inherit">'
            + _URL.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)
            + "</pre>"
        )
    base = '<base target="_top">'
    if re.search(r"<head[^>]*>", body, re.IGNORECASE):
        return re.sub(r"(<head[^>]*>)", lambda match: match.group(1) + base, body, count=1, flags=re.IGNORECASE)
    return f'<!doctype html><html><head><meta charset="utf-8">{base}</head><body>{body}</body></html>'
