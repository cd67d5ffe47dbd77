"""The content library against moto, provisioned from template.yaml: a vendor admin creates an asset and uploads its
file with the presigned POST (over HTTP, as a browser does); the bucket's "Object Created" event reaches
ContentProcessingFunction through the stack's own bridging (bucket -> default bus -> ContentUploadsRule ->
ContentUploadsQueue); the asset is ready and ContentPublished is in the outbox. Wrong bytes are rejected and their
object version deleted; a new version replaces the current one keeping the id; a repeated S3 event changes nothing;
partners are refused on vendor routes (403) and on assets they may not see (404); bad input is a 400 naming the
field; the publish timer publishes a later-dated asset."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from tests.integration.conftest import Stack
from tests.support.lambda_events import LambdaContext, claims_for, sqs_event

VENDOR = claims_for(sub="vendor-content", email="content-admin@example.com", partner_id=None, groups=["vendor-admin"])
STAFF = claims_for(sub="vendor-staff", email="content-staff@example.com", partner_id=None, groups=[])
PARTNER = claims_for(
    sub="partner-content", email="pat@partner.example", partner_id="prt_content1", groups=["partner-admin"]
)
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type /Catalog /Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>>endobj\n"
    b"3 0 obj<</Type /Page /Parent 2 0 R>>endobj\n4 0 obj<</Type /Page /Parent 2 0 R>>endobj\n%%EOF\n"
)


class Content:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.api = stack.load("ContentApiFunction", "content.api")
        self.processing = stack.load("ContentProcessingFunction", "content.processing")
        self.bucket = stack.ref("ContentBucket")

    def call(self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = self.stack.call(self.api.app, method, path, params or {}, **kwargs)
        return status, body

    def create(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": f"Battlecard {uuid.uuid4().hex[:6]}",
            "description": "How we win against the incumbent.",
            "type": "document",
            "language": "en",
            "tags": ["battlecard"],
            "product_skus": ["PRM-CORE"],
            "audience": {"min_tier_id": "gold"},
            "file": {"file_name": "battlecard.pdf", "content_type": "application/pdf", "size_bytes": len(PDF_BYTES)},
        } | overrides
        status, answer = self.call("POST", "/content/assets", body=body, claims=VENDOR)
        assert status == 201, answer
        return dict(answer)

    def post_file(self, upload: dict[str, Any], body: bytes, file_name: str = "battlecard.pdf") -> None:
        """What the portal's upload does: a multipart POST of the presigned form, the file last."""
        answer = requests.post(upload["url"], data=upload["fields"], files={"file": (file_name, body)}, timeout=10)
        assert answer.status_code in (200, 201, 204), answer.text

    def process(self, until: Any, timeout: float = 15) -> list[dict[str, Any]]:
        """Deliver ContentUploadsQueue (and the timers' queue) to the processing function until `until()` holds;
        the messages delivered, for tests that replay one."""
        delivered: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.stack.receive("ContentUploadsQueue")
            if messages:
                delivered += messages
                result = self.processing.handler(
                    sqs_event(messages, self.stack.attr("ContentUploadsQueue", "Arn")), LambdaContext()
                )
                assert result["batchItemFailures"] == [], result
                for message in messages:
                    boto3.client("sqs").delete_message(
                        QueueUrl=self.stack.ref("ContentUploadsQueue"), ReceiptHandle=message["ReceiptHandle"]
                    )
            self.stack.fire_timers()
            self.stack.deliver("ContentWorkflowQueue", self.processing.handler)
            if until():
                return delivered
            time.sleep(0.1)
        raise AssertionError("processing did not finish in time")

    def asset(self, asset_id: str) -> dict[str, Any]:
        status, answer = self.call("GET", "/content/assets/{asset_id}", {"asset_id": asset_id}, claims=VENDOR)
        assert status == 200, answer
        return dict(answer)

    def versions(self, key: str) -> list[str]:
        answer = boto3.client("s3").list_object_versions(Bucket=self.bucket, Prefix=key)
        return [v["VersionId"] for v in answer.get("Versions", []) if v["Key"] == key]


LADDER = [
    {"tier_id": "registered", "name": "Registered", "rank": 0},
    {"tier_id": "silver", "name": "Silver", "rank": 1},
    {"tier_id": "gold", "name": "Gold", "rank": 2},
]


@pytest.fixture(scope="module")
def content(stack: Stack) -> Iterator[Content]:
    """The library, with the tiers' ladder projected first (an audience may only name a tier of the ladder)."""
    from tests.integration.test_content_access import deliver, send

    send(
        stack, "prm.tiers", "TierProgrammeVersionAdded", "*", version_id="v1", effective_from="2026-01-01", tiers=LADDER
    )
    modules = {
        "outbox": stack.load("ContentOutboxFunction", "content.outbox"),
        "consumers": stack.load("ContentEventsFunction", "content.consumers"),
    }
    deliver(stack, modules)
    yield Content(stack)


def test_an_uploaded_asset_is_processed_from_the_buckets_event_and_published(content: Content) -> None:
    created = content.create()
    asset_id = created["asset"]["asset_id"]
    assert created["asset"]["status"] == "draft" and created["version"]["status"] == "awaiting_upload"
    upload = created["upload"]
    assert upload["fields"]["key"] == f"assets/{asset_id}/1/battlecard.pdf" and upload["expires_in"] == 600
    content.post_file(upload, PDF_BYTES)
    content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    asset = content.asset(asset_id)
    current = asset["current"]
    assert asset["current_version"] == 1 and asset["published"]
    assert current["pages"] == 2 and current["size_bytes"] == len(PDF_BYTES) and len(current["sha256"]) == 64
    assert current["s3_version_id"] == content.versions(upload["fields"]["key"])[0]
    [event] = content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id)
    assert event["partner_id"] == "*" and event["version_number"] == 1 and event["audience"]["min_tier_id"] == "gold"
    assert [v["number"] for v in asset["versions"]] == [1]


def test_a_repeated_s3_event_changes_nothing(content: Content) -> None:
    created = content.create()
    asset_id = created["asset"]["asset_id"]
    content.post_file(created["upload"], PDF_BYTES)
    [message] = content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    before = content.asset(asset_id)
    outbox = content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id)
    # the same event again (moto's S3 event ids are constant: de-duplicated by key and version id)
    boto3.client("sqs").send_message(QueueUrl=content.stack.ref("ContentUploadsQueue"), MessageBody=message["Body"])
    content.process(until=lambda: not content.stack.receive("ContentUploadsQueue"), timeout=5)
    assert content.asset(asset_id) == before
    assert content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id) == outbox


def test_wrong_magic_bytes_reject_the_version_and_delete_its_object_version(content: Content) -> None:
    created = content.create()
    asset_id, key = created["asset"]["asset_id"], created["upload"]["fields"]["key"]
    content.post_file(created["upload"], b"MZ\x90\x00\x03 an executable, not a PDF")
    content.process(until=lambda: content.asset(asset_id)["versions"][0]["status"] == "rejected")
    asset = content.asset(asset_id)
    assert asset["status"] == "rejected" and asset["current"] is None
    assert "is not a valid PDF file" in asset["versions"][0]["reason"]
    assert content.versions(key) == []  # the object version itself is gone, not hidden behind a delete marker
    assert content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id) == []


def test_a_new_version_replaces_the_current_one_keeping_the_id(content: Content) -> None:
    created = content.create()
    asset_id = created["asset"]["asset_id"]
    content.post_file(created["upload"], PDF_BYTES)
    content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    body = {"file_name": "battlecard.pdf", "content_type": "application/pdf", "size_bytes": 20, "notes": "Q4 prices"}
    status, answer = content.call(
        "POST", "/content/assets/{asset_id}/versions", {"asset_id": asset_id}, body=body, claims=VENDOR
    )
    assert status == 201, answer
    assert answer["version"]["number"] == 2 and answer["upload"]["fields"]["key"].endswith("/2/battlecard.pdf")
    assert content.asset(asset_id)["current_version"] == 1  # not before it is processed
    content.post_file(answer["upload"], PDF_BYTES.replace(b"/Count 2", b"/Count 2 "))
    content.process(until=lambda: content.asset(asset_id)["current_version"] == 2)
    asset = content.asset(asset_id)
    assert asset["asset_id"] == asset_id and asset["current"]["notes"] == "Q4 prices"
    [replaced] = content.stack.outbox_events("ContentTable", "ContentVersionReplaced", asset_id=asset_id)
    assert (replaced["version_number"], replaced["previous_version_number"]) == (2, 1)
    assert replaced["notes"] == "Q4 prices"


def test_a_later_publish_date_publishes_by_its_timer(content: Content) -> None:
    publish_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = content.create(publish_at=publish_at)
    asset_id = created["asset"]["asset_id"]
    content.post_file(created["upload"], PDF_BYTES)
    content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    assert content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id) == []
    content.process(until=lambda: content.asset(asset_id)["published"], timeout=20)
    assert len(content.stack.outbox_events("ContentTable", "ContentPublished", asset_id=asset_id)) == 1


def test_partners_and_staff_are_refused_on_vendor_routes_and_unseen_assets_are_404(content: Content) -> None:
    created = content.create()
    asset_id = created["asset"]["asset_id"]
    content.post_file(created["upload"], PDF_BYTES)
    content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    body = {"file_name": "x.pdf", "content_type": "application/pdf", "size_bytes": 5}
    for claims in (PARTNER, STAFF):
        assert content.call("POST", "/content/assets", body={}, claims=claims)[0] == 403
        path = {"asset_id": asset_id}
        assert content.call("POST", "/content/assets/{asset_id}/versions", path, body=body, claims=claims)[0] == 403
        assert content.call("PATCH", "/content/assets/{asset_id}", path, body={"revision": 1}, claims=claims)[0] == 403
        assert content.call("GET", "/content/admin/assets", claims=claims)[0] == 403
    # a partner this context knows nothing of (no profile, no tier) may not see a gold asset: the same 404 as for an
    # asset that does not exist (nothing tells them it is there)
    status, answer = content.call("GET", "/content/assets/{asset_id}", {"asset_id": asset_id}, claims=PARTNER)
    missing = "ast_" + "0" * 24
    unknown = content.call("GET", "/content/assets/{asset_id}", {"asset_id": missing}, claims=PARTNER)
    assert status == unknown[0] == 404
    assert json.dumps(answer).replace(asset_id, "ID") == json.dumps(unknown[1]).replace(missing, "ID")
    assert content.call("GET", "/content/assets/{asset_id}", {"asset_id": "../assets"}, claims=PARTNER)[0] == 404


def test_bad_input_is_a_400_naming_the_field(content: Content) -> None:
    good: dict[str, Any] = {
        "title": "Deck",
        "type": "video",
        "language": "en",
        "file": {"file_name": "deck.pdf", "content_type": "application/pdf", "size_bytes": 10},
    }
    cases = [
        (good, "file.content_type"),  # a PDF is no video
        (good | {"type": "document", "language": "English"}, "language"),
        (good | {"type": "document", "tags": ["Not A Slug"]}, "tags.0"),
        (good | {"type": "document", "file": good["file"] | {"size_bytes": 60 * 1024 * 1024}}, "file.size_bytes"),
        (good | {"type": "document", "file": good["file"] | {"file_name": "../etc/passwd"}}, "file.file_name"),
        (
            good
            | {
                "type": "document",
                "publish_at": "2030-01-02T00:00:00Z",
                "expires_at": "2030-01-01T00:00:00Z",
            },
            "expires_at",
        ),
        (good | {"type": "document", "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        status, answer = content.call("POST", "/content/assets", body=body, claims=VENDOR)
        assert status == 400, (field, answer)
        assert field in [e["field"] for e in answer["errors"]], (field, answer)
    created = content.create()
    asset_id = created["asset"]["asset_id"]
    path = {"asset_id": asset_id}
    status, answer = content.call("PATCH", "/content/assets/{asset_id}", path, body={"title": "x"}, claims=VENDOR)
    assert status == 400 and "revision" in [e["field"] for e in answer["errors"]]
    status, answer = content.call(
        "PATCH", "/content/assets/{asset_id}", path, body={"title": "New", "revision": 99}, claims=VENDOR
    )
    assert status == 409, answer
    status, answer = content.call("GET", "/content/admin/assets", claims=VENDOR, query={"status": "bogus"})
    assert status == 400 and answer["errors"][0]["field"] == "status"
    status, answer = content.call("GET", "/content/admin/assets", claims=VENDOR, query={"cursor": "nope"})
    assert status == 400 and answer["errors"][0]["field"] == "cursor"
    status, answer = content.call(
        "POST", "/content/assets/{asset_id}/versions", {"asset_id": "nope"}, body={}, claims=VENDOR
    )
    assert status == 400 and answer["errors"][0]["field"] == "asset_id"


def test_the_vendor_list_pages_newest_updated_first(content: Content) -> None:
    first = content.create()["asset"]["asset_id"]
    second = content.create()["asset"]["asset_id"]
    status, page = content.call("GET", "/content/admin/assets", claims=VENDOR, query={"status": "draft", "limit": "1"})
    assert status == 200 and [a["asset_id"] for a in page["items"]] == [second] and page["next_cursor"]
    status, more = content.call(
        "GET",
        "/content/admin/assets",
        claims=VENDOR,
        query={"status": "draft", "limit": "1", "cursor": page["next_cursor"]},
    )
    assert status == 200 and [a["asset_id"] for a in more["items"]] == [first]


def test_a_partner_sees_the_partner_view_only_while_its_tier_and_the_dates_allow(content: Content) -> None:
    from tests.integration.test_content_access import deliver, onboard, tier_changed

    modules = {
        "outbox": content.stack.load("ContentOutboxFunction", "content.outbox"),
        "consumers": content.stack.load("ContentEventsFunction", "content.consumers"),
    }
    run = uuid.uuid4().hex[:6]
    people = {}
    for tier in ("gold", "silver"):
        partner_id = f"prt_lib_{tier}_{run}"
        onboard(content.stack, partner_id, "GB", "reseller")
        tier_changed(content.stack, partner_id, tier, datetime.now(UTC) - timedelta(days=1))
        people[tier] = claims_for(
            sub=f"sub-lib-{tier}-{run}", email=f"m@{tier}-{run}.example", partner_id=partner_id, groups=["partner-user"]
        )
    deliver(content.stack, modules)
    expires_at = datetime.now(UTC) + timedelta(seconds=4)
    created = content.create(expires_at=expires_at.isoformat())
    asset_id = created["asset"]["asset_id"]
    path = {"asset_id": asset_id}
    status, _ = content.call("GET", "/content/assets/{asset_id}", path, claims=people["gold"])
    assert status == 404  # not processed yet: nothing to see
    content.post_file(created["upload"], PDF_BYTES)
    content.process(until=lambda: content.asset(asset_id)["status"] == "ready")
    status, view = content.call("GET", "/content/assets/{asset_id}", path, claims=people["gold"])
    assert status == 200, view
    assert view["asset_id"] == asset_id and view["min_tier_id"] == "gold" and view["current"]["pages"] == 2
    assert not {"versions", "audience", "created_by", "revision"} & set(view)
    assert "s3_key" not in view["current"] and "s3_version_id" not in view["current"]
    assert content.call("GET", "/content/assets/{asset_id}", path, claims=people["silver"])[0] == 404
    while datetime.now(UTC) < expires_at:  # the expiry timer is not fired here: the read checks the date itself
        time.sleep(0.2)
    assert content.call("GET", "/content/assets/{asset_id}", path, claims=people["gold"])[0] == 404
    assert content.asset(asset_id)["status"] == "ready"  # still: the timer has not run, and access did not wait


def test_processing_ignores_other_events_buckets_and_the_apis_own_prefixes(content: Content) -> None:
    def s3_event(detail_type: str, bucket: str, key: str) -> dict[str, Any]:
        detail = {"bucket": {"name": bucket}, "object": {"key": key, "size": 3, "version-id": "v"}}
        return {
            "id": "x",
            "source": "aws.s3",
            "detail-type": detail_type,
            "time": "2026-01-01T00:00:00Z",
            "detail": detail,
        }

    created = content.create()
    key = created["upload"]["fields"]["key"]
    bodies = [
        s3_event("Object Tags Added", content.bucket, key),
        s3_event("Object Created", "someone-elses-bucket", key),
        s3_event("Object Created", content.bucket, "kits/prt_x/kit_y/1/email.html"),
        s3_event("Object Created", content.bucket, "exports/exp_z.csv"),
    ]
    outcomes = [content.processing.handle_message(body) for body in bodies]
    assert outcomes[0] == "ignored Object Tags Added"
    assert outcomes[1].startswith("not the content bucket's object")
    assert all("nothing to process" in o for o in outcomes[2:])
    assert content.asset(created["asset"]["asset_id"])["versions"][0]["status"] == "awaiting_upload"
