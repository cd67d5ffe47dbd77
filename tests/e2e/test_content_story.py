"""The content library end to end over HTTP against the local stack: a vendor admin uploads an asset for Gold partners
(presigned POST straight to the bucket; the bucket's object event drives the processing: checksum, page count); a
Gold partner finds it by search and downloads it (the short-lived presigned URL fetches exactly the bytes uploaded,
and the download is counted and published as ContentDownloaded); a Silver partner cannot reach it by search, by GET
or by download, even with its id and version in hand; the Gold partner's admin sets the brand profile and uploads a
logo, generates the organisation's co-branded copy of a kit and sees its own name and logo in the preview, which a
Silver partner cannot generate.

The partners get their tiers through the real paths (tests/e2e/test_training_tiers_story.py): won deals, LMS
completions and the channel team's approval links."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infrastructure.local.people import People, Session
from infrastructure.local.seed_content import csv_document, logo_mark, pdf_document, post_file, wait_until_processed
from infrastructure.local.seed_programme import Catalogue, approve_upgrade, deliver, wait_for_tier
from tests.e2e.test_training_tiers_story import Engineers, one_engineer_short_of_gold, programme
from tests.support.events import EventCapture, validate
from tests.support.partners import vendor_admin

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

SEARCH_WAIT_SECONDS = 60  # ContentPublished reaches the search index through the outbox, the bus and a queue


# ------------------------------------------------------------------ the story's people
@dataclass(frozen=True)
class Tiered:
    """A partner at a tier, its admin's session and its company name."""

    partner_id: str
    session: Session
    company: str


def silver_partner(people: People, catalogue: Catalogue, company: str) -> Tiered:
    engineers = one_engineer_short_of_gold(people, catalogue, company=company)
    return Tiered(engineers.partner.partner_id, engineers.partner.session, company)


def gold_partner(people: People, catalogue: Catalogue, company: str) -> Tiered:
    """Silver through the real paths, then the colleague's last course, the Gold upgrade approved by link."""
    engineers: Engineers = one_engineer_short_of_gold(people, catalogue, company=company)
    passed = datetime.now(UTC) - timedelta(minutes=30)
    assert deliver(people, catalogue, engineers.colleague.email, "NET-201", passed).status_code == 200
    assert approve_upgrade(people, company, "Gold").status_code == 200
    wait_for_tier(people, engineers.partner.session, "gold")
    return Tiered(engineers.partner.partner_id, engineers.partner.session, company)


@pytest.fixture(scope="module")
def catalogue(people: People) -> Catalogue:
    return programme(people, name="Content story LMS")


@pytest.fixture(scope="module")
def gold(people: People, catalogue: Catalogue) -> Tiered:
    return gold_partner(people, catalogue, f"Gold Content {uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def silver(people: People, catalogue: Catalogue) -> Tiered:
    return silver_partner(people, catalogue, f"Silver Content {uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def vendor(people: People) -> Session:
    return vendor_admin(people, name="Content Manager")


# ------------------------------------------------------------------ helpers over HTTP
def ok(answer: requests.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.status_code} {answer.text[:500]}"
    return answer.json()


def upload_gold_asset(people: People, vendor: Session, word: str, content: bytes) -> dict[str, Any]:
    body = {
        "title": f"{word} Gold launch datasheet",
        "description": "The launch datasheet, for Gold partners first.",
        "type": "document",
        "language": "en",
        "tags": ["launch", "datasheet"],
        "product_skus": ["NET-FW-900"],
        "audience": {"min_tier_id": "gold", "regions": [], "partner_types": []},
        "file": {
            "file_name": f"{word.lower()}-datasheet.pdf",
            "content_type": "application/pdf",
            "size_bytes": len(content),
            "notes": "First edition.",
        },
    }
    created = ok(people.api("POST", "/content/assets", session=vendor, json=body), 201)
    assert created["asset"]["status"] == "draft" and created["version"]["status"] == "awaiting_upload"
    upload = created["upload"]
    assert upload["fields"]["key"] == f"assets/{created['asset']['asset_id']}/1/{word.lower()}-datasheet.pdf"
    stored = post_file(upload, content, body["file"]["file_name"], "application/pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    return dict(created["asset"])


def search(people: People, session: Session, query: str) -> list[dict[str, Any]]:
    answer = ok(people.api("GET", f"/content/library?q={query}&limit=20", session=session))
    return list(answer["items"])


def wait_for_search(people: People, session: Session, query: str, asset_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SEARCH_WAIT_SECONDS
    while True:
        found = [item for item in search(people, session, query) if item["asset_id"] == asset_id]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{asset_id} never appeared in the search for {query!r}")
        time.sleep(0.3)


def wait_for_logo(people: People, session: Session, upload_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        upload = ok(people.api("GET", f"/content/brand/logo/{upload_id}", session=session))
        if upload["status"] != "awaiting_upload":
            return dict(upload)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the logo {upload_id} was never checked")
        time.sleep(0.3)


# ------------------------------------------------------------------ the story
def test_a_gold_asset_is_found_and_downloaded_by_gold_and_unreachable_for_silver(
    people: People, events: EventCapture, vendor: Session, gold: Tiered, silver: Tiered
) -> None:
    word = f"Quasar{uuid.uuid4().hex[:6]}"
    content = pdf_document(f"{word} datasheet", [["100 Gbps", "HA pairs"], ["Licences"]])
    asset = upload_gold_asset(people, vendor, word, content)
    asset_id = asset["asset_id"]

    # processing is the bucket's object event: the file is checked, its checksum and pages recorded
    processed = wait_until_processed(people, vendor, asset_id)
    assert processed["status"] == "ready", processed
    [first] = [v for v in processed["versions"] if v["number"] == 1]
    assert first["status"] == "ready" and first["pages"] == 2 and first["size_bytes"] == len(content)
    assert first["sha256"] == hashlib.sha256(content).hexdigest()
    published = events.wait_for("ContentPublished", asset_id=asset_id, timeout=30)
    validate(published)
    assert published["detail"]["audience"]["min_tier_id"] == "gold"

    # the Gold partner finds it by a word of its title, sees its card and downloads exactly those bytes
    card = wait_for_search(people, gold.session, word.lower(), asset_id)
    assert card["title"] == f"{word} Gold launch datasheet" and card["min_tier"] == "Gold"
    assert card["current"]["number"] == 1 and card["current"]["pages"] == 2
    assert ok(people.api("GET", f"/content/assets/{asset_id}", session=gold.session))["asset_id"] == asset_id
    link = ok(
        people.api("POST", f"/content/assets/{asset_id}/downloads", session=gold.session, json={"kind": "download"}),
        201,
    )
    assert link["version"] == 1 and link["expires_in"] <= 300
    assert urlsplit(link["url"]).path.endswith(f"/assets/{asset_id}/1/{word.lower()}-datasheet.pdf")
    assert parse_qs(urlsplit(link["url"]).query)["versionId"] == [first["s3_version_id"]]
    fetched = requests.get(link["url"], timeout=30)
    assert fetched.status_code == 200 and fetched.content == content
    assert "attachment" in fetched.headers.get("Content-Disposition", "")
    downloaded = events.wait_for("ContentDownloaded", asset_id=asset_id, partner_id=gold.partner_id, timeout=30)
    validate(downloaded)
    assert downloaded["detail"]["kind"] == "download"

    # a Silver partner: not in its search, 404 on the asset and on a download of it, current or by version number
    assert search(people, silver.session, word.lower()) == []
    assert people.api("GET", f"/content/assets/{asset_id}", session=silver.session).status_code == 404
    for body in ({"kind": "download"}, {"kind": "preview"}, {"kind": "download", "version": 1}):
        refused = people.api("POST", f"/content/assets/{asset_id}/downloads", session=silver.session, json=body)
        assert refused.status_code == 404, refused.text
    # and the Gold partner cannot name an older or unknown version either
    other = {"kind": "download", "version": 2}
    assert (
        people.api("POST", f"/content/assets/{asset_id}/downloads", session=gold.session, json=other).status_code == 404
    )

    # the vendor sees who downloaded it
    summary = ok(people.api("GET", f"/content/assets/{asset_id}/downloads/summary", session=vendor))
    assert summary["totals"]["downloads"] >= 1
    assert [p["downloads"] for p in summary["partners"] if p["partner_id"] == gold.partner_id] == [1]
    # partners never see the vendor's numbers
    assert people.api("GET", f"/content/assets/{asset_id}/downloads/summary", session=gold.session).status_code == 403


def test_the_gold_partner_brands_its_copy_of_a_kit_and_sees_its_name_and_logo(
    people: People, events: EventCapture, vendor: Session, gold: Tiered, silver: Tiered
) -> None:
    tag = uuid.uuid4().hex[:6]
    display = f"{gold.company} & Partners <Cloud>"
    brand = ok(people.api("GET", "/content/brand", session=gold.session))
    assert brand["editable"] is True
    saved = ok(
        people.api(
            "PUT",
            "/content/brand",
            session=gold.session,
            json={
                "display_name": display,
                "website": f"https://www.gold-{tag}.example",
                "contact_name": "Ada Lovelace",
                "contact_email": f"ada@gold-{tag}.example",
                "phone": "+44 20 7946 0000",
                "address": {"lines": ["1 Analytical Row"], "city": "London", "postcode": "N1 9GU", "country": "GB"},
                "revision": brand["revision"],
            },
        )
    )
    assert saved["display_name"] == display and saved["revision"] == brand["revision"] + 1

    logo = logo_mark((200, 30, 30))
    grant = ok(
        people.api(
            "POST",
            "/content/brand/logo",
            session=gold.session,
            json={"content_type": "image/png", "size_bytes": len(logo)},
        ),
        201,
    )
    upload_id = grant["logo"]["upload_id"]
    assert grant["upload"]["fields"]["key"] == f"logos/{gold.partner_id}/{upload_id}"
    assert post_file(grant["upload"], logo, "logo.png", "image/png").status_code in (200, 201, 204)
    assert wait_for_logo(people, gold.session, upload_id)["status"] == "ready"
    brand = ok(people.api("GET", "/content/brand", session=gold.session))
    data_uri = brand["logo"]["data_uri"]
    assert data_uri.startswith("data:image/png;base64,")
    assert base64.b64decode(data_uri.split(",", 1)[1]).startswith(b"\x89PNG")

    kit = ok(
        people.api(
            "POST",
            "/content/kits",
            session=vendor,
            json={
                "name": f"Gold launch kit {tag}",
                "description": "The launch email, co-branded.",
                "campaign": "Firewall 900 launch",
                "asset_ids": [],
                "audience": {"min_tier_id": "gold", "regions": [], "partner_types": []},
                "template": {
                    "kind": "email",
                    "subject": "News from {{partner.name}}",
                    "html": "<h1>{{partner.name}}</h1><div class=logo>{{partner.logo}}</div>"
                    "<p><a href='{{partner.website}}'>Visit us</a></p>",
                    "pdf": {"enabled": True, "headline": "{{partner.name}}", "body": "Call {{partner.phone}}."},
                },
                "status": "published",
            },
        ),
        201,
    )
    kit_id = kit["kit_id"]
    listed = ok(people.api("GET", "/content/kits?limit=100", session=gold.session))["items"]
    assert kit_id in [k["kit_id"] for k in listed]

    copy = ok(people.api("POST", f"/content/kits/{kit_id}/copies", session=gold.session, json={}), 201)
    html = copy["preview"]["html"]
    assert "Gold Content" in html and "&amp; Partners &lt;Cloud&gt;" in html and "<Cloud>" not in html
    logo_src = re.search(r'<img[^>]*src="(data:image/png;base64,[A-Za-z0-9+/=]+)"', html)
    assert logo_src is not None and logo_src.group(1) == data_uri
    assert copy["preview"]["subject"] == f"News from {display}"
    names = sorted(f["name"] for f in copy["files"])
    assert any(n.endswith(".html") for n in names) and any(n.endswith(".pdf") for n in names)
    for stored in copy["files"]:
        assert f"/kits/{gold.partner_id}/{kit_id}/" in urlsplit(stored["url"]).path
        body = requests.get(stored["url"], timeout=30)
        assert body.status_code == 200
        if stored["name"].endswith(".pdf"):
            assert body.content.startswith(b"%PDF-")
        else:
            assert "&amp; Partners &lt;Cloud&gt;" in body.text
    generated = events.wait_for("CoBrandedKitGenerated", kit_id=kit_id, partner_id=gold.partner_id, timeout=30)
    validate(generated)

    # a Silver partner: the Gold kit is not listed, cannot be read, generated or fetched
    listed = ok(people.api("GET", "/content/kits?limit=100", session=silver.session))["items"]
    assert kit_id not in [k["kit_id"] for k in listed]
    assert people.api("GET", f"/content/kits/{kit_id}", session=silver.session).status_code == 404
    assert people.api("POST", f"/content/kits/{kit_id}/copies", session=silver.session, json={}).status_code == 404
    assert people.api("GET", f"/content/kits/{kit_id}/copy", session=silver.session).status_code == 404


def test_a_new_version_replaces_the_asset_under_its_id_and_its_downloaders_hear_of_it(
    people: People, events: EventCapture, vendor: Session, gold: Tiered, silver: Tiered
) -> None:
    word = f"Pulsar{uuid.uuid4().hex[:6]}"
    first = csv_document(["sku", "list_price_usd"], [["NET-FW-100", "1200.00"]])
    body = {
        "title": f"{word} price list",
        "description": "List prices for every partner.",
        "type": "document",
        "language": "en",
        "tags": ["pricing"],
        "file": {"file_name": "prices.csv", "content_type": "text/csv", "size_bytes": len(first), "notes": ""},
    }
    created = ok(people.api("POST", "/content/assets", session=vendor, json=body), 201)
    asset_id = created["asset"]["asset_id"]
    assert post_file(created["upload"], first, "prices.csv", "text/csv").status_code in (200, 201, 204)
    assert wait_until_processed(people, vendor, asset_id)["status"] == "ready"
    for partner in (gold, silver):  # for every partner: both find it and download version 1
        wait_for_search(people, partner.session, word.lower(), asset_id)
        link = ok(people.api("POST", f"/content/assets/{asset_id}/downloads", session=partner.session, json={}), 201)
        assert link["version"] == 1 and requests.get(link["url"], timeout=30).content == first

    # the vendor uploads version 2 with notes: same id, current once processed
    second = csv_document(["sku", "list_price_usd"], [["NET-FW-100", "1150.00"]])
    notes = f"{word}: Firewall 100 list price lowered to 1,150.00 USD."
    file = {"file_name": "prices.csv", "content_type": "text/csv", "size_bytes": len(second), "notes": notes}
    grant = ok(people.api("POST", f"/content/assets/{asset_id}/versions", session=vendor, json=file), 201)
    assert grant["version"]["number"] == 2
    assert post_file(grant["upload"], second, "prices.csv", "text/csv").status_code in (200, 201, 204)
    replaced = events.wait_for("ContentVersionReplaced", asset_id=asset_id, timeout=60)
    validate(replaced)
    assert replaced["detail"]["notes"] == notes
    asset = ok(people.api("GET", f"/content/assets/{asset_id}", session=vendor))
    assert asset["asset_id"] == asset_id and asset["current_version"] == 2 and asset["pending_version"] is None
    assert sorted(v["number"] for v in asset["versions"] if v["status"] == "ready") == [1, 2]

    # partners get version 2 only; naming version 1 is 404
    link = ok(people.api("POST", f"/content/assets/{asset_id}/downloads", session=gold.session, json={}), 201)
    assert link["version"] == 2 and requests.get(link["url"], timeout=30).content == second
    old = {"kind": "download", "version": 1}
    assert (
        people.api("POST", f"/content/assets/{asset_id}/downloads", session=gold.session, json=old).status_code == 404
    )

    # everyone who downloaded version 1 is told, with the notes
    for partner in (gold, silver):
        [mail] = people.wait_for_mail(people.to(partner.session.email, containing=word), timeout=60)
        assert "1,150.00 USD" in mail["body"]

    # the metadata changes on the asset's revision; a stale revision is 409; search follows the new title
    stale = people.api(
        "PATCH", f"/content/assets/{asset_id}", session=vendor, json={"title": "x", "revision": asset["revision"] - 1}
    )
    assert stale.status_code == 409, stale.text
    renamed = ok(
        people.api(
            "PATCH",
            f"/content/assets/{asset_id}",
            session=vendor,
            json={"title": f"{word} partner price list", "revision": asset["revision"]},
        )
    )
    assert renamed["title"] == f"{word} partner price list" and renamed["revision"] == asset["revision"] + 1
    deadline = time.monotonic() + SEARCH_WAIT_SECONDS
    while [i["title"] for i in search(people, gold.session, word.lower())] != [f"{word} partner price list"]:
        assert time.monotonic() < deadline, "the search never learned the new title"
        time.sleep(0.3)
