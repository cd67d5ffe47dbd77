"""MDF as people use it over HTTP: the programme period running today, request bodies, proof uploads, proof links."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from html import unescape
from typing import Any

import requests

from infrastructure.local.people import Mail, People, Session

MARKETING = "channel-marketing@example.com"  # MdfMarketingApproverEmail's default: first step and claim reviewer
FINANCE = "mdf-finance@example.com"  # MdfFinanceApproverEmail's default: second step above the threshold
# A small but real PDF (header, one empty page, cross-reference table, trailer).
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n188\n%%EOF\n"
)


def _covers_today(period: dict[str, Any], today: date) -> bool:
    return period["status"] == "open" and period["starts_on"] <= today.isoformat() <= period["ends_on"]


def current_period(people: People, vendor: Session) -> str:
    """The open programme period containing today, created if there is none.

    Periods never overlap and the local stack is shared by every test of the session, so whoever comes first
    creates it (today-5 to today+30, claims for 90 days) and everyone else finds it.
    """
    today = datetime.now(UTC).date()
    for attempt in range(2):
        answer = people.api("GET", "/mdf/periods", session=vendor)
        assert answer.status_code == 200, answer.text
        found = [p for p in answer.json()["items"] if _covers_today(p, today)]
        if found:
            return str(found[0]["period_id"])
        if attempt:
            break
        period_id = f"E2E-{uuid.uuid4().hex[:8].upper()}"
        window = datetime.combine(today + timedelta(days=90), clock_time(23, 59, 59), tzinfo=UTC)
        body = {
            "period_id": period_id,
            "name": f"Current period ({period_id})",
            "starts_on": (today - timedelta(days=5)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "claim_window_ends_at": window.isoformat().replace("+00:00", "Z"),
        }
        created = people.api("POST", "/mdf/periods", session=vendor, json=body)
        if created.status_code == 201:
            return period_id
        # 409: someone else created an overlapping period meanwhile; read it on the next pass
        assert created.status_code == 409, created.text
    raise AssertionError(f"no open period contains {today}, and one could not be created")


def wait_for_partner(people: People, vendor: Session, partner_id: str, timeout: float = 30.0) -> None:
    """Return once MDF has projected the partner's PartnerOnboarded (it learns of partners asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        cursor = ""
        while True:
            answer = people.api("GET", f"/mdf/partners?limit=50{cursor}", session=vendor)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            if any(p["partner_id"] == partner_id for p in page["items"]):
                return
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        if time.monotonic() > deadline:
            raise TimeoutError(f"MDF never learned about {partner_id} (PartnerOnboarded not projected)")
        time.sleep(0.2)


def request_body(period_id: str, amount_minor: int, **changes: Any) -> dict[str, Any]:
    """A fund request for an activity today (MdfRequestLeadDays is 0 in tests), so a claim may follow at once."""
    today = datetime.now(UTC).date().isoformat()
    return {
        "period_id": period_id,
        "activity_type": "webinar",
        "title": f"Zero-trust webinar {uuid.uuid4().hex[:6]}",
        "description": "A webinar for 200 IT leaders with a live demo.",
        "starts_on": today,
        "ends_on": today,
        "requested": {"amount_minor": amount_minor, "currency": "USD"},
        "expected_outcome": {"leads": 40, "pipeline_value": {"amount_minor": 50_000_000, "currency": "USD"}},
    } | changes


def claim_body(file_ids: list[str], amount_minor: int, **changes: Any) -> dict[str, Any]:
    return {
        "amount_spent": {"amount_minor": amount_minor, "currency": "USD"},
        "proof_files": file_ids,
        "results": {"leads": 52, "attendees": 180, "invoice_number": "INV-2026-0042"},
        "notes": "Recording and invoice attached.",
    } | changes


def ask_upload(
    people: People,
    session: Session,
    request_id: str,
    content: bytes,
    *,
    name: str = "invoice.pdf",
    content_type: str = "application/pdf",
) -> requests.Response:
    body = {"file_name": name, "content_type": content_type, "size_bytes": len(content)}
    return people.api("POST", f"/mdf/requests/{request_id}/claim/uploads", session=session, json=body)


def post_file(upload: dict[str, Any], content: bytes, name: str, content_type: str) -> requests.Response:
    """What a browser sends to a presigned POST: a multipart form with every policy field, then the file."""
    fields = list(upload["fields"].items())
    return requests.post(upload["url"], data=fields, files={"file": (name, content, content_type)}, timeout=30)


def upload_proof(
    people: People,
    session: Session,
    request_id: str,
    content: bytes = PDF,
    *,
    name: str = "invoice.pdf",
    content_type: str = "application/pdf",
) -> str:
    """Ask the API for a presigned POST, then upload the bytes to S3 over HTTP; the file id to name in a claim."""
    answer = ask_upload(people, session, request_id, content, name=name, content_type=content_type)
    assert answer.status_code == 201, answer.text
    grant = answer.json()
    stored = post_file(grant["upload"], content, name, content_type)
    assert stored.status_code in (200, 201, 204), stored.text
    return str(grant["file_id"])


def proof_links(mail: Mail) -> list[str]:
    """The reviewer's signed proof-file links in a claim email, in order."""
    return [unescape(h) for h in re.findall(r"href='([^']*/mdf/proofs/[^']*)'", mail["body"])]
