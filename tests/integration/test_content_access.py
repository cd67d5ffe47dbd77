"""Content's access, search, downloads and tracking (B) against moto, through the template's resources: the partner
projection fed by onboarding's and tiers' events, assets made by A's routes and processing, the search index kept by
the consumer from content's own events, and every B route refusing what a partner may not see (404, never 403).

Partners (all EMEA resellers unless said): GOLD, SILVER, AMER (a Gold partner in another region), DIST (a Gold
distributor), DEMOTED (Gold, then Silver mid-test). The Gold asset is for Gold EMEA resellers only."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from tests.integration.conftest import Stack
from tests.support.factories import bus_envelope
from tests.support.lambda_events import claims_for

VENDOR = claims_for(sub="vendor-content", email="content-admin@example.com", partner_id=None, groups=["vendor-admin"])
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
RUN = uuid.uuid4().hex[:6]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def content(stack: Stack) -> dict[str, Any]:
    modules = {
        "api": stack.load("ContentApiFunction", "content.api"),
        "consumers": stack.load("ContentEventsFunction", "content.consumers"),
        "outbox": stack.load("ContentOutboxFunction", "content.outbox"),
        "processing": stack.load("ContentProcessingFunction", "content.processing"),
    }
    send(
        stack,
        "prm.tiers",
        "TierProgrammeVersionAdded",
        "*",
        version_id="v1",
        effective_from="2026-01-01",
        tiers=[
            {"tier_id": "registered", "name": "Registered", "rank": 0},
            {"tier_id": "silver", "name": "Silver", "rank": 1},
            {"tier_id": "gold", "name": "Gold", "rank": 2},
        ],
    )
    partners = {
        "GOLD": ("GB", "reseller", "gold"),
        "SILVER": ("FR", "reseller", "silver"),
        "AMER": ("US", "reseller", "gold"),
        "DIST": ("DE", "distributor", "gold"),
        "DEMOTED": ("IE", "reseller", "gold"),
    }
    people: dict[str, dict[str, str]] = {}
    for name, (country, kind, tier) in partners.items():
        partner_id = f"prt_{name.lower()}_{RUN}"
        onboard(stack, partner_id, country, kind)
        tier_changed(stack, partner_id, tier, datetime.now(UTC) - timedelta(days=1))
        people[name] = claims_for(
            sub=f"sub-{name.lower()}-{RUN}",
            email=f"marketer@{name.lower()}-{RUN}.example",
            partner_id=partner_id,
            groups=["partner-user"],
        )
    deliver(stack, modules)
    gold = publish(stack, modules, "Firewall launch guide", min_tier="gold", regions=["EMEA"], types=["reseller"])
    open_asset = publish(stack, modules, "Firewall datasheet", tags=["security"])
    return {"modules": modules, "people": people, "gold": gold, "open": open_asset}


# ------------------------------------------------------------------ helpers
def send(stack: Stack, source: str, detail_type: str, partner_id: str, **detail: Any) -> None:
    envelope = bus_envelope(
        source,
        detail_type,
        {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "occurred_at": iso(datetime.now(UTC)),
            "version": "1",
            "partner_id": partner_id,
        }
        | detail,
    )
    boto3.client("sqs").send_message(QueueUrl=stack.ref("ContentEventsQueue"), MessageBody=json.dumps(envelope))


def onboard(stack: Stack, partner_id: str, country: str, kind: str) -> None:
    host = f"{partner_id.replace('_', '-')}.example"
    send(
        stack,
        "prm.onboarding",
        "PartnerOnboarded",
        partner_id,
        application_id="app_x",
        company_name=f"Company {partner_id}",
        domain=host,
        country=country,
        partner_type=kind,
        tier="Registered",
        status="active",
        primary_contact={"name": "Pat", "email": f"pat@{host}"},
        approved_by="ops@example.com",
        onboarded_at=iso(datetime.now(UTC) - timedelta(days=30)),
    )


def tier_changed(stack: Stack, partner_id: str, tier: str, at: datetime) -> None:
    names = {"registered": ("Registered", 0), "silver": ("Silver", 1), "gold": ("Gold", 2)}
    send(
        stack,
        "prm.tiers",
        "PartnerTierChanged",
        partner_id,
        previous=None,
        tier={"tier_id": tier, "name": names[tier][0], "rank": names[tier][1]},
        direction="initial",
        reason="test",
        criteria_version="v1",
        effective_at=iso(at),
    )


def deliver(stack: Stack, modules: dict[str, Any], until: Any = None, *, agreements: bool = False) -> None:
    """Publish content's outbox and deliver its events queue until nothing moves (or `until()` holds).

    The bus is shared with every other test module in this process: onboarding's tests publish programme agreements,
    which reach content's queue too. Unless `agreements`, the projected current agreement is dropped afterwards, so
    the content test modules (A's and C's import this helper or share the table) run without the gate; the gate
    itself is tested below with `agreements=True`."""
    stack.flush(
        "ContentTable", modules["outbox"], {"ContentEventsQueue": modules["consumers"].handler}, until=until, timeout=30
    )
    if not agreements:
        drop_agreement(stack)


def drop_agreement(stack: Stack) -> None:
    from contracts.onboarding_agreement_gate import PK
    from shared.dynamo import Table

    table = Table(stack.ref("ContentTable"))
    table._client.delete_item(TableName=table.name, Key={"pk": {"S": PK}, "sk": {"S": "CURRENT"}})


def call(stack: Stack, modules: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    return stack.call(modules["api"].app, *args, **kwargs)


def upload(stack: Stack, modules: dict[str, Any], answer: dict[str, Any], body: bytes = PDF) -> None:
    """The vendor's browser posts the file to S3 (here: put_object on the presigned key), and the bucket's Object
    Created event reaches processing (here: handed to its handler as the uploads queue would)."""
    key = answer["upload"]["fields"]["key"]
    stored = boto3.client("s3").put_object(
        Bucket=stack.ref("ContentBucket"), Key=key, Body=body, ContentType="application/pdf"
    )
    event = {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": iso(datetime.now(UTC)),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "version": "0",
            "bucket": {"name": stack.ref("ContentBucket")},
            "object": {"key": key, "size": len(body), "etag": "x", "version-id": stored["VersionId"], "sequencer": "0"},
            "request-id": "r",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }
    modules["processing"].handle_message(event)


def publish(
    stack: Stack,
    modules: dict[str, Any],
    title: str,
    *,
    min_tier: str | None = None,
    regions: list[str] | None = None,
    types: list[str] | None = None,
    tags: list[str] | None = None,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"{title} {RUN}",
        "description": "How to position the firewall with mid-market customers.",
        "type": "document",
        "language": "en",
        "tags": tags or ["launch"],
        "product_skus": ["FW-200"],
        "audience": {"min_tier_id": min_tier, "regions": regions or [], "partner_types": types or []},
        "file": {"file_name": "guide.pdf", "content_type": "application/pdf", "size_bytes": len(PDF), "notes": ""},
    }
    if publish_at:
        body["publish_at"] = iso(publish_at)
    if expires_at:
        body["expires_at"] = iso(expires_at)
    status, answer, _ = call(stack, modules, "POST", "/content/assets", body=body, claims=VENDOR)
    assert status == 201, answer
    upload(stack, modules, answer)
    asset_id = answer["asset"]["asset_id"]
    if publish_at is None:
        deliver(stack, modules, until=lambda: indexed(stack, asset_id))
    return answer["asset"]


def indexed(stack: Stack, asset_id: str) -> bool:
    from shared.dynamo import Table

    return Table(stack.ref("ContentTable")).get(f"ASSET#{asset_id}", "INDEXED") is not None


def search(stack: Stack, content: dict[str, Any], who: dict[str, str], **query: str) -> tuple[int, Any]:
    status, answer, _ = call(stack, content["modules"], "GET", "/content/library", claims=who, query=query)
    return status, answer


def found_ids(stack: Stack, content: dict[str, Any], who: dict[str, str], **query: str) -> list[str]:
    status, answer = search(stack, content, who, **query)
    assert status == 200, answer
    return [item["asset_id"] for item in answer["items"]]


def get_asset(stack: Stack, content: dict[str, Any], who: dict[str, str], asset_id: str) -> int:
    return call(stack, content["modules"], "GET", "/content/assets/{asset_id}", {"asset_id": asset_id}, claims=who)[0]


def download(
    stack: Stack, content: dict[str, Any], who: dict[str, str], asset_id: str, key: str | None = None, **body: Any
) -> tuple[int, Any]:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    status, answer, _ = call(
        stack,
        content["modules"],
        "POST",
        "/content/assets/{asset_id}/downloads",
        {"asset_id": asset_id},
        body=body or {"kind": "download"},
        claims=who,
        headers=headers,
    )
    return status, answer


def refused_everywhere(stack: Stack, content: dict[str, Any], who: dict[str, str], asset: dict[str, Any]) -> None:
    """By search (its title's words, its tag), by GET and by download (with and without a version number): 404."""
    aid = asset["asset_id"]
    assert aid not in found_ids(stack, content, who, q=asset["title"])
    assert aid not in found_ids(stack, content, who, sort="newest")
    assert aid not in found_ids(stack, content, who, product="FW-200")
    assert get_asset(stack, content, who, aid) == 404
    for body in ({"kind": "download"}, {"kind": "preview"}, {"kind": "download", "version": 1}):
        status, answer = download(stack, content, who, aid, **body)
        assert status == 404 and answer["code"] == "not_found", (body, answer)


def signature_holds(url: str) -> bool:
    """botocore's SigV4 query signature recomputed over the URL as given (method GET, its path and query)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query)
    rest = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    credentials = boto3.Session().get_credentials()
    assert credentials is not None
    auth = S3SigV4QueryAuth(
        credentials, "s3", given["X-Amz-Credential"].split("/")[2], expires=int(given["X-Amz-Expires"])
    )
    request = AWSRequest(
        method="GET", url=f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(rest, quote_via=quote)}"
    )
    request.context["timestamp"] = given["X-Amz-Date"]
    return bool(
        auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        == given["X-Amz-Signature"]
    )


# ------------------------------------------------------------------ tier, region, type
def test_a_gold_asset_is_found_opened_and_downloaded_by_a_gold_emea_reseller_only(
    stack: Stack, content: dict[str, Any]
) -> None:
    gold, people = content["gold"], content["people"]
    aid = gold["asset_id"]
    assert aid in found_ids(stack, content, people["GOLD"], q=gold["title"])
    assert aid in found_ids(stack, content, people["GOLD"], q="firewall launch", type="document", language="en")
    assert aid in found_ids(stack, content, people["GOLD"], product="FW-200", sort="newest")
    assert aid not in found_ids(stack, content, people["GOLD"], type="video")
    assert get_asset(stack, content, people["GOLD"], aid) == 200
    status, answer = download(stack, content, people["GOLD"], aid)
    assert status == 201 and answer["version"] == 1 and answer["file_name"] == "guide.pdf", answer
    for name in ("SILVER", "AMER", "DIST"):  # a lower tier, another region, another partner type
        refused_everywhere(stack, content, people[name], gold)
    # the open asset is everyone's (an empty audience), the Silver partner included
    assert content["open"]["asset_id"] in found_ids(stack, content, people["SILVER"], tag="security")
    assert download(stack, content, people["SILVER"], content["open"]["asset_id"])[0] == 201


def test_a_silver_partner_never_reads_a_gold_posting(stack: Stack, content: dict[str, Any]) -> None:
    """Tier gating is in the key: the partitions a Silver partner's page queries are the ALL, registered and silver
    bands only (watched on the code's own DynamoDB client), though the Gold asset posts under the same word."""
    from shared.aws import client
    from shared.dynamo import Table

    gold_postings, _ = Table(stack.ref("ContentTable")).query("IDX#firewall#gold", limit=5)
    assert gold_postings, "the Gold asset posts in the gold band"
    queried: list[str] = []

    def watch(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            queried.append(params["ExpressionAttributeValues"][":pk"]["S"])

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", watch)
    try:
        status, answer = search(stack, content, content["people"]["SILVER"], q="firewall")
        silver_reads = list(queried)
        queried.clear()
        search(stack, content, content["people"]["GOLD"], q="firewall")
        gold_reads = list(queried)
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query", watch)
    assert status == 200 and content["gold"]["asset_id"] not in [i["asset_id"] for i in answer["items"]]
    from content.domain.access import visible_bands
    from content.repository.access import PartnersRepository

    directory = PartnersRepository(stack.ref("ContentTable"))  # the table is shared: the ladder in force may be another
    ladder = directory.ladder_in_force(datetime.now(UTC))  # test module's, with silver below gold all the same
    expected = visible_bands(directory.partner(content["people"]["SILVER"]["custom:partner_id"]), ladder)
    assert "ALL" in expected and "silver" in expected and "gold" not in expected
    postings = [pk for pk in silver_reads if pk.startswith("IDX#")]
    assert set(postings) == {f"IDX#firewall#{band}" for band in expected}, silver_reads
    assert "IDX#firewall#gold" in gold_reads


def test_an_older_version_number_is_404_for_a_partner_and_the_vendor_gets_any_ready_version(
    stack: Stack, content: dict[str, Any]
) -> None:
    modules, people = content["modules"], content["people"]
    asset = publish(stack, modules, "Pricing sheet", min_tier="silver")
    aid = asset["asset_id"]
    status, answer, _ = call(
        stack,
        modules,
        "POST",
        "/content/assets/{asset_id}/versions",
        {"asset_id": aid},
        body={
            "file_name": "pricing-v2.pdf",
            "content_type": "application/pdf",
            "size_bytes": len(PDF),
            "notes": "New prices for Q1",
        },
        claims=VENDOR,
    )
    assert status == 201, answer
    earlier = download(stack, content, people["SILVER"], aid)
    assert earlier[0] == 201 and earlier[1]["version"] == 1
    upload(stack, modules, answer)
    deliver(stack, modules)
    status, current = download(stack, content, people["SILVER"], aid)
    assert status == 201 and current["version"] == 2 and current["file_name"] == "pricing-v2.pdf"
    status, refused = download(stack, content, people["SILVER"], aid, kind="download", version=1)
    assert status == 404 and refused["code"] == "not_found"
    status, old = download(stack, content, VENDOR, aid, kind="download", version=1)
    assert status == 201 and old["version"] == 1 and old["download_id"] is None  # a vendor's fetch is not tracked
    # the person who downloaded version 1 was told once, with the notes; a repeat of the event mails nobody again
    mails = [m for m in stack.sent_mail() if people["SILVER"]["email"] in m.destinations["ToAddresses"]]
    changed = [m for m in mails if "New version" in m.subject]
    assert len(changed) == 1 and "New prices for Q1" in changed[0].body, [m.subject for m in mails]
    modules["consumers"].services().notifier.notify(aid)
    again = [m for m in stack.sent_mail() if people["SILVER"]["email"] in m.destinations["ToAddresses"]]
    assert len([m for m in again if "New version" in m.subject]) == 1


def test_the_presigned_url_names_only_that_objects_key_and_version(stack: Stack, content: dict[str, Any]) -> None:
    people, gold = content["people"], content["gold"]
    status, answer = download(stack, content, people["GOLD"], gold["asset_id"], kind="preview")
    assert status == 201 and answer["expires_in"] == 300
    from content.repository.assets import AssetsRepository

    stored = AssetsRepository(stack.ref("ContentTable")).get(gold["asset_id"])
    assert stored is not None and stored.current is not None
    parts = urlsplit(answer["url"])
    query = dict(parse_qsl(parts.query))
    assert (
        parts.path.endswith("/" + quote(stored.current.s3_key))
        and stack.ref("ContentBucket") in parts.netloc + parts.path
    )
    assert query["versionId"] == stored.current.s3_version_id
    assert query["X-Amz-Expires"] == "300" and query["response-content-disposition"].startswith("inline;")
    assert signature_holds(answer["url"])
    other = content["open"]["asset_id"]
    tampered = answer["url"].replace(gold["asset_id"], other)
    assert tampered != answer["url"] and not signature_holds(tampered)
    other_version = answer["url"].replace(f"versionId={query['versionId']}", "versionId=guessed")
    assert not signature_holds(other_version)
    body = boto3.client("s3").get_object(
        Bucket=stack.ref("ContentBucket"), Key=stored.current.s3_key, VersionId=query["versionId"]
    )
    assert body["Body"].read() == PDF


# ------------------------------------------------------------------ dates and live tiers
def test_an_asset_is_out_of_reach_before_its_publish_date_and_from_its_expiry(
    stack: Stack, content: dict[str, Any]
) -> None:
    modules, people = content["modules"], content["people"]
    later = publish(stack, modules, "Next year plan", publish_at=datetime.now(UTC) + timedelta(days=1))
    deliver(stack, modules)
    refused_everywhere(stack, content, people["GOLD"], later)
    soon = publish(stack, modules, "Flash promo", expires_at=datetime.now(UTC) + timedelta(seconds=4))
    assert download(stack, content, people["GOLD"], soon["asset_id"])[0] == 201
    time.sleep(
        max(
            0.0, (datetime.fromisoformat(soon["expires_at"].replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()
        )
        + 0.2
    )
    refused_everywhere(stack, content, people["GOLD"], soon)  # access never waits for the expiry timer


def test_a_vendor_admin_takes_an_asset_down_at_once_and_brings_it_back(stack: Stack, content: dict[str, Any]) -> None:
    modules, people = content["modules"], content["people"]
    asset = publish(stack, modules, "Retired price list")
    aid = asset["asset_id"]
    assert download(stack, content, people["GOLD"], aid)[0] == 201
    path = "/content/assets/{asset_id}/take-down"
    status, refused, _ = call(
        stack, modules, "POST", path, {"asset_id": aid}, claims=people["GOLD"], body={"revision": 1}
    )
    assert status == 403, refused
    status, stale, _ = call(stack, modules, "POST", path, {"asset_id": aid}, claims=VENDOR, body={"revision": 0})
    assert status == 400 and stale["errors"][0]["field"] == "revision", stale
    status, vendor_view, _ = call(stack, modules, "GET", "/content/assets/{asset_id}", {"asset_id": aid}, claims=VENDOR)
    revision = vendor_view["revision"]
    status, old, _ = call(
        stack, modules, "POST", path, {"asset_id": aid}, claims=VENDOR, body={"revision": revision + 5}
    )
    assert status == 409 and old["code"] == "stale_revision", old
    status, taken, _ = call(stack, modules, "POST", path, {"asset_id": aid}, claims=VENDOR, body={"revision": revision})
    assert status == 200 and taken["status"] == "expired", taken
    refused_everywhere(stack, content, people["GOLD"], asset)  # at once, before the index hears of it
    deliver(stack, modules)
    assert not indexed(stack, aid)  # ContentExpired took it out of the index
    status, back, _ = call(
        stack,
        modules,
        "PATCH",
        "/content/assets/{asset_id}",
        {"asset_id": aid},
        claims=VENDOR,
        body={"expires_at": iso(datetime.now(UTC) + timedelta(days=30)), "revision": taken["revision"]},
    )
    assert status == 200 and back["status"] == "ready", back
    deliver(stack, modules)
    assert download(stack, content, people["GOLD"], aid)[0] == 201


def test_a_demotion_revokes_at_once_and_the_vendor_sees_everything(stack: Stack, content: dict[str, Any]) -> None:
    gold, people, modules = content["gold"], content["people"], content["modules"]
    demoted = people["DEMOTED"]
    assert download(stack, content, demoted, gold["asset_id"])[0] == 201
    tier_changed(stack, demoted["custom:partner_id"], "silver", datetime.now(UTC))
    tier_changed(stack, demoted["custom:partner_id"], "gold", datetime.now(UTC) - timedelta(hours=1))  # older: ignored
    deliver(stack, modules)
    refused_everywhere(stack, content, demoted, gold)
    assert gold["asset_id"] in found_ids(stack, content, VENDOR, q=gold["title"])
    assert get_asset(stack, content, VENDOR, gold["asset_id"]) == 200
    assert download(stack, content, VENDOR, gold["asset_id"])[0] == 201


# ------------------------------------------------------------------ tracking
def test_a_download_is_recorded_once_per_post_with_its_event_and_counters(
    stack: Stack, content: dict[str, Any]
) -> None:
    people, modules = content["people"], content["modules"]
    asset = publish(stack, modules, "Case study", tags=["stories"])
    aid, key = asset["asset_id"], uuid.uuid4().hex
    first = download(stack, content, people["GOLD"], aid, key)
    again = download(stack, content, people["GOLD"], aid, key)  # the same Idempotency-Key: the first answer
    assert first[0] == again[0] == 201 and first[1]["download_id"] == again[1]["download_id"]
    assert download(stack, content, people["GOLD"], aid, kind="preview")[0] == 201
    assert download(stack, content, people["SILVER"], aid)[0] == 201
    events = stack.outbox_events("ContentTable", "ContentDownloaded", asset_id=aid)
    assert sorted((e["partner_id"], e["kind"]) for e in events) == sorted(
        [
            (people["GOLD"]["custom:partner_id"], "download"),
            (people["GOLD"]["custom:partner_id"], "preview"),
            (people["SILVER"]["custom:partner_id"], "download"),
        ]
    )
    status, summary, _ = call(
        stack, modules, "GET", "/content/assets/{asset_id}/downloads/summary", {"asset_id": aid}, claims=VENDOR
    )
    assert status == 200, summary
    assert summary["totals"]["downloads"] == 2 and summary["totals"]["previews"] == 1
    assert summary["versions"] == [{"version": 1, "downloads": 2, "previews": 1}]
    by_partner = {p["partner_id"]: (p["downloads"], p["previews"]) for p in summary["partners"]}
    assert by_partner == {people["GOLD"]["custom:partner_id"]: (1, 1), people["SILVER"]["custom:partner_id"]: (1, 0)}
    status, top, _ = call(
        stack, modules, "GET", "/content/stats", claims=VENDOR, query={"sort": "recent", "limit": "100"}
    )
    assert status == 200 and aid in [i["asset_id"] for i in top["items"]]
    status, most, _ = call(stack, modules, "GET", "/content/stats", claims=VENDOR, query={"limit": "100"})
    totals = [i["downloads"] + i["previews"] for i in most["items"]]
    assert status == 200 and totals == sorted(totals, reverse=True)
    for who in (people["GOLD"], people["SILVER"]):  # partners never see the counters
        assert call(stack, modules, "GET", "/content/stats", claims=who)[0] == 403
        assert (
            call(stack, modules, "GET", "/content/assets/{asset_id}/downloads/summary", {"asset_id": aid}, claims=who)[
                0
            ]
            == 403
        )
        assert call(stack, modules, "POST", "/content/exports", body={}, claims=who)[0] == 403

    status, export, _ = call(stack, modules, "POST", "/content/exports", body={"asset_id": aid}, claims=VENDOR)
    assert status == 201 and export["rows"] == 3 and not export["truncated"], export
    key = f"exports/{export['export_id']}.csv"
    text = boto3.client("s3").get_object(Bucket=stack.ref("ContentBucket"), Key=key)["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["person_email"], r["kind"], r["version"]) for r in rows} == {
        (people["GOLD"]["email"], "download", "1"),
        (people["GOLD"]["email"], "preview", "1"),
        (people["SILVER"]["email"], "download", "1"),
    }
    assert signature_holds(export["download"]["url"])
    status, shown, _ = call(
        stack, modules, "GET", "/content/exports/{export_id}", {"export_id": export["export_id"]}, claims=VENDOR
    )
    assert status == 200 and shown["rows"] == 3
    for who in (people["GOLD"], people["SILVER"]):  # another's export is never a partner's, even with its id
        path = {"export_id": export["export_id"]}
        assert call(stack, modules, "GET", "/content/exports/{export_id}", path, claims=who)[0] == 403
    status, everything, _ = call(stack, modules, "POST", "/content/exports", body={}, claims=VENDOR)
    assert status == 201 and everything["rows"] >= 3


def test_bad_input_is_a_400_naming_the_field(stack: Stack, content: dict[str, Any]) -> None:
    modules, gold_user, aid = content["modules"], content["people"]["GOLD"], content["gold"]["asset_id"]
    for query, field in [
        ({"type": "movie"}, "type"),
        ({"language": "english"}, "language"),
        ({"sort": "popular"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"tag": "Bad Tag"}, "tag"),
        ({"product": "!!"}, "product"),
        ({"q": "x" * 201}, "q"),
    ]:
        status, error = search(stack, content, gold_user, **query)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (query, error)
    path = "/content/assets/{asset_id}/downloads"
    for body, field in [
        ({"kind": "print"}, "kind"),
        ({"version": 0}, "version"),
        ({"version": "1"}, "version"),
        ({"extra": 1}, "extra"),
    ]:
        status, error, _ = call(stack, modules, "POST", path, {"asset_id": aid}, body=body, claims=gold_user)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (body, error)
    status, error, _ = call(stack, modules, "POST", path, {"asset_id": "ast_nothex"}, body={}, claims=gold_user)
    assert status == 400 and error["errors"][0]["field"] == "asset_id"
    status, error, _ = call(stack, modules, "POST", path, {"asset_id": "ast_" + "0" * 24}, body={}, claims=gold_user)
    assert status == 404  # well-formed, unknown: as an asset it may not see
    for body, field in [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"asset_id": "nope"}, "asset_id"),
    ]:
        status, error, _ = call(stack, modules, "POST", "/content/exports", body=body, claims=VENDOR)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (body, error)
    status, error, _ = call(stack, modules, "GET", "/content/exports/{export_id}", {"export_id": "x"}, claims=VENDOR)
    assert status == 400 and error["errors"][0]["field"] == "export_id"
    status, error, _ = call(stack, modules, "GET", "/content/stats", claims=VENDOR, query={"sort": "best"})
    assert status == 400 and error["errors"][0]["field"] == "sort"


def test_search_pages_follow_the_cursor_without_repeats(stack: Stack, content: dict[str, Any]) -> None:
    people = content["people"]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "2", "sort": "newest"} | ({"cursor": cursor} if cursor else {})
        status, page = search(stack, content, people["GOLD"], **query)
        assert status == 200 and len(page["items"]) <= 2, page
        seen += [i["asset_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and content["gold"]["asset_id"] in seen
    status, page = search(stack, content, people["GOLD"], limit="2", q="firewall", cursor=cursor or "")
    assert status == 200
    if page["next_cursor"]:  # a cursor is bound to its query
        status, error = search(stack, content, people["GOLD"], q="datasheet", cursor=page["next_cursor"])
        assert status == 400 and error["errors"][0]["field"] == "cursor"


def test_partner_routes_pass_the_programme_agreement_gate(stack: Stack, content: dict[str, Any]) -> None:
    """The consumer keeps the agreement gate's projection: once a version is current, a partner user who has not
    accepted it is refused (403 agreement_required) on the library and downloads, and served once they accept."""
    from tests.support.factories import agreement_published

    modules, people = content["modules"], content["people"]
    queue = stack.ref("ContentEventsQueue")
    sqs = boto3.client("sqs")
    newest = agreement_published(f"2026-{RUN}", iso(datetime.now(UTC)))  # newer than any another module published
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(newest))
    deliver(stack, modules, agreements=True)
    try:
        gated(stack, content, people, queue)
    finally:  # the table is shared with the other content test modules, which run without an agreement
        drop_agreement(stack)


def gated(stack: Stack, content: dict[str, Any], people: dict[str, dict[str, str]], queue: str) -> None:
    from tests.support.factories import agreement_accepted

    sqs = boto3.client("sqs")
    newcomer = claims_for(
        sub=f"sub-new-{RUN}",
        email=f"new@gold-{RUN}.example",
        partner_id=people["GOLD"]["custom:partner_id"],
        groups=["partner-user"],
    )
    status, error, _ = raw(stack, content, "GET", "/content/library", claims=newcomer)
    assert status == 403 and error["code"] == "agreement_required", error
    status, error, _ = raw(
        stack,
        content,
        "POST",
        "/content/assets/{asset_id}/downloads",
        {"asset_id": content["open"]["asset_id"]},
        body={},
        claims=newcomer,
    )
    assert status == 403 and error["code"] == "agreement_required"
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(agreement_accepted(newcomer, f"2026-{RUN}")))
    deliver(stack, content["modules"], agreements=True)
    assert search(stack, content, newcomer)[0] == 200
    assert raw(stack, content, "GET", "/content/library", claims=people["SILVER"])[0] == 403  # not accepted yet
    assert download(stack, content, newcomer, content["open"]["asset_id"])[0] == 201
    assert search(stack, content, VENDOR)[0] == 200  # vendor staff never need it


def raw(stack: Stack, content: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """A request without accepting the agreement first."""
    return stack.call(content["modules"]["api"].app, *args, **kwargs)
