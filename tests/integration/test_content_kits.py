"""Co-branded kits and the brand profile against moto, provisioned from template.yaml: a vendor admin creates a kit;
a partner admin sets the brand and uploads logos with presigned POSTs (over HTTP), which the bucket's "Object
Created" events bring to ContentProcessingFunction (a malicious SVG stored sanitised, a fake PNG refused and its
object version deleted); a partner user generates the organisation's copy (its escaped name and its logo as a data:
URI in the preview, the files under its own `kits/<partner>/` prefix behind presigned GETs, CoBrandedKitGenerated
in the outbox); a template or brand change regenerates it; another partner never reads it (route or tampered URL); a
lower tier never sees a Gold kit; bad input is a 400 naming the field."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from content.repository.access import PartnersRepository
from content.service.partners import PartnerProjectionService
from tests.integration.conftest import Stack
from tests.support.in_process_aws import REGION
from tests.support.lambda_events import LambdaContext, claims_for, sqs_event

RUN = uuid.uuid4().hex[:6]
GOLD_ID, OTHER_ID, SILVER_ID = f"prt_kitgold{RUN}", f"prt_kitother{RUN}", f"prt_kitsilver{RUN}"
VENDOR = claims_for(sub="vendor-kits", email="kits-admin@example.com", partner_id=None, groups=["vendor-admin"])
GOLD_ADMIN = claims_for(
    sub=f"ga-{RUN}", email=f"admin-{RUN}@northwind.example", partner_id=GOLD_ID, groups=["partner-admin"]
)
GOLD_USER = claims_for(
    sub=f"gu-{RUN}", email=f"user-{RUN}@northwind.example", partner_id=GOLD_ID, groups=["partner-user"]
)
OTHER_ADMIN = claims_for(
    sub=f"oa-{RUN}", email=f"admin-{RUN}@globex.example", partner_id=OTHER_ID, groups=["partner-admin"]
)
SILVER_USER = claims_for(
    sub=f"su-{RUN}", email=f"user-{RUN}@initech.example", partner_id=SILVER_ID, groups=["partner-user"]
)

TEMPLATE = {
    "kind": "email",
    "subject": "Launch news from {{partner.name}}",
    "html": (
        "<html><body><div class='logo'>{{partner.logo}}</div><h1>{{partner.name}}</h1>"
        "<p><a href='{{partner.website}}'>Visit us</a> - {{partner.contact_name}} {{partner.phone}}</p>"
        "<address>{{partner.address}}</address><script>alert('vendor')</script></body></html>"
    ),
    "pdf": {"headline": "Launch with {{partner.name}}", "body": "Ask {{partner.contact_name}} today."},
}
MALICIOUS_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 8 8" '
    b'onload="alert(1)"><script>alert(1)</script><foreignObject><p>x</p></foreignObject>'
    b'<a xlink:href="javascript:alert(1)"><rect width="8" height="8" fill="#0a0"/></a>'
    b'<circle r="3" cx="4" cy="4" fill="#fff" style="fill:url(https://evil.example/x)"/></svg>'
)


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixels = zlib.compress(b"".join(b"\x00" + b"\xcc\x00\x00" * width for _ in range(height)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def signature_holds(url: str) -> bool:
    """Whether a presigned S3 GET URL's signature is right for its own path and query (as S3 would recompute it)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    auth_names = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"}
    auth_names |= {"X-Amz-Security-Token", "X-Amz-Signature"}
    rest = urlencode([(k, v) for k, v in pairs if k not in auth_names])
    request = AWSRequest(method="GET", url=urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")))
    credentials = boto3.Session().get_credentials()
    signer = S3SigV4QueryAuth(credentials, "s3", REGION, expires=int(query["X-Amz-Expires"]))
    moment = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        signer.add_auth(request)
    return dict(parse_qsl(urlsplit(request.url).query))["X-Amz-Signature"] == query["X-Amz-Signature"]


class Kits:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.api = stack.load("ContentApiFunction", "content.api")
        self.processing = stack.load("ContentProcessingFunction", "content.processing")
        self.bucket = stack.ref("ContentBucket")
        self.table = stack.ref("ContentTable")

    def call(self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = self.stack.call(self.api.app, method, path, params or {}, **kwargs)
        return status, body

    def ok(self, expected: int, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> Any:
        status, body = self.call(method, path, params, **kwargs)
        assert status == expected, body
        return body

    def project_partners(self) -> None:
        """B's projection as its consumer keeps it (onboarding's and tiers' events), written by B's own service."""
        projection = PartnerProjectionService(PartnersRepository(self.table))
        now = datetime.now(UTC)
        projection.ladder_added(
            version_id=f"kits-{RUN}", effective_from=now.date(), tiers=[("silver", "Silver", 1), ("gold", "Gold", 2)]
        )
        for partner_id, company, domain, tier in (
            (GOLD_ID, "Northwind <Gold> & Co", "northwind.example", "gold"),
            (OTHER_ID, "Globex", "globex.example", "gold"),
            (SILVER_ID, "Initech", "initech.example", "silver"),
        ):
            projection.onboarded(
                partner_id=partner_id,
                company_name=company,
                domain=domain,
                country="GB",
                partner_type="reseller",
                contact_name=f"{company} Contact",
                contact_email=f"contact@{domain}",
                onboarded_at=now,
            )
            projection.tier_changed(
                partner_id=partner_id,
                tier_id=tier,
                tier_name=tier.title(),
                effective_at=now,
                event_id=f"e-{partner_id}",
            )
        self.accept_projected_agreement(now)

    def accept_projected_agreement(self, now: datetime) -> None:
        """The partner users accepted the programme agreement content has projected, if it has one (an earlier
        module in this worker, test_agreement_gate's, may have published one: every partner route would answer
        403 agreement_required), as the consumer records a PartnerAgreementAccepted."""
        from contracts.onboarding_agreement_gate import PK, project_acceptance
        from shared.dynamo import Table

        table = Table(self.table)
        current = table.get(PK, "CURRENT")
        if current is None:
            return
        for claims in (GOLD_ADMIN, GOLD_USER, OTHER_ADMIN, SILVER_USER):
            project_acceptance(
                table,
                version=current["version"],
                user_id=claims["sub"],
                partner_id=claims["custom:partner_id"],
                accepted_at=now,
            )

    def process(self, until: Any, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.stack.receive("ContentUploadsQueue")
            if messages:
                result = self.processing.handler(
                    sqs_event(messages, self.stack.attr("ContentUploadsQueue", "Arn")), LambdaContext()
                )
                assert result["batchItemFailures"] == [], result
                for message in messages:
                    boto3.client("sqs").delete_message(
                        QueueUrl=self.stack.ref("ContentUploadsQueue"), ReceiptHandle=message["ReceiptHandle"]
                    )
            if until():
                return
            time.sleep(0.1)
        raise AssertionError("processing did not finish in time")

    def upload_logo(self, data: bytes, content_type: str, claims: dict[str, str] = GOLD_ADMIN) -> dict[str, Any]:
        """Ask for a logo upload, POST the file to the presigned form over HTTP, process the bucket's event."""
        body = {"content_type": content_type, "size_bytes": len(data)}
        started = self.ok(201, "POST", "/content/brand/logo", body=body, claims=claims)
        upload, upload_id = started["upload"], started["logo"]["upload_id"]
        assert upload["fields"]["key"] == f"logos/{claims['custom:partner_id']}/{upload_id}"
        answer = requests.post(upload["url"], data=upload["fields"], files={"file": ("logo", data)}, timeout=10)
        assert answer.status_code in (200, 201, 204), answer.text

        def status() -> str:
            path = {"upload_id": upload_id}
            return str(self.ok(200, "GET", "/content/brand/logo/{upload_id}", path, claims=claims)["status"])

        self.process(until=lambda: status() != "awaiting_upload")
        return dict(self.ok(200, "GET", "/content/brand/logo/{upload_id}", {"upload_id": upload_id}, claims=claims))

    def object_versions(self, key: str) -> list[str]:
        answer = boto3.client("s3").list_object_versions(Bucket=self.bucket, Prefix=key)
        return [v["VersionId"] for v in answer.get("Versions", []) if v["Key"] == key]

    def create_kit(self, **overrides: Any) -> dict[str, Any]:
        body = {"name": f"Launch {RUN}", "campaign": "Q1 launch", "template": TEMPLATE, "status": "published"}
        return dict(self.ok(201, "POST", "/content/kits", body=body | overrides, claims=VENDOR))


@pytest.fixture(scope="module")
def kits(stack: Stack) -> Iterator[Kits]:
    kits = Kits(stack)
    kits.project_partners()
    yield kits


def test_bad_input_is_a_400_naming_the_field(kits: Kits) -> None:
    cases: list[tuple[str, str, dict[str, str], Any, dict[str, str], str]] = [
        (
            "POST",
            "/content/kits",
            {},
            {"name": "x", "template": TEMPLATE | {"html": "{{partner.ceo}}"}},
            VENDOR,
            "template.html",
        ),
        (
            "POST",
            "/content/kits",
            {},
            {"name": "x", "template": TEMPLATE, "asset_ids": ["ast_" + "0" * 24]},
            VENDOR,
            "asset_ids.0",
        ),
        ("POST", "/content/kits", {}, {"name": "x", "template": TEMPLATE | {"kind": "fax"}}, VENDOR, "template.kind"),
        ("POST", "/content/kits", {}, {"name": "x", "template": TEMPLATE, "owner": "me"}, VENDOR, "owner"),
        (
            "PUT",
            "/content/brand",
            {},
            {"display_name": "N", "website": "javascript:alert(1)", "revision": 0},
            GOLD_ADMIN,
            "website",
        ),
        (
            "PUT",
            "/content/brand",
            {},
            {"display_name": "N", "revision": 0, "address": {"country": "ZZ"}},
            GOLD_ADMIN,
            "address.country",
        ),
        (
            "POST",
            "/content/brand/logo",
            {},
            {"content_type": "image/gif", "size_bytes": 10},
            GOLD_ADMIN,
            "content_type",
        ),
        (
            "POST",
            "/content/brand/logo",
            {},
            {"content_type": "image/png", "size_bytes": 300_000},
            GOLD_ADMIN,
            "size_bytes",
        ),
        ("GET", "/content/kits/{kit_id}", {"kit_id": "../kits/x"}, None, GOLD_USER, "kit_id"),
        ("GET", "/content/brand/logo/{upload_id}", {"upload_id": "logos/x"}, None, GOLD_ADMIN, "upload_id"),
    ]
    for method, path, params, body, claims, field in cases:
        status, answer = kits.call(method, path, params, body=body, claims=claims)
        assert status == 400, (field, answer)
        assert field in [e["field"] for e in answer.get("errors", [])], (field, answer)
    for query, field in (({"status": "gone"}, "status"), ({"limit": "0"}, "limit"), ({"cursor": "forged"}, "cursor")):
        status, answer = kits.call("GET", "/content/kits", {}, query=query, claims=SILVER_USER)
        assert status == 400 and answer["errors"][0]["field"] == field, answer


def test_only_vendor_admins_write_kits_and_only_partner_admins_the_brand(kits: Kits) -> None:
    kit = kits.create_kit()
    for claims in (GOLD_ADMIN, GOLD_USER):
        assert kits.call("POST", "/content/kits", body={"name": "x", "template": TEMPLATE}, claims=claims)[0] == 403
        path = {"kit_id": kit["kit_id"]}
        assert kits.call("PATCH", "/content/kits/{kit_id}", path, body={"revision": 1}, claims=claims)[0] == 403
    body = {"display_name": "Mine", "revision": 0}
    assert kits.call("PUT", "/content/brand", body=body, claims=GOLD_USER)[0] == 403
    assert kits.call("PUT", "/content/brand", body={"bad": True}, claims=GOLD_USER)[0] == 403  # role before body
    assert kits.call("POST", "/content/kits", body={"bad": True}, claims=GOLD_ADMIN)[0] == 403
    assert kits.call("PUT", "/content/brand", body=body, claims=VENDOR)[0] == 403
    logo = {"content_type": "image/png", "size_bytes": 10}
    assert kits.call("POST", "/content/brand/logo", body=logo, claims=GOLD_USER)[0] == 403
    assert (
        kits.call("POST", "/content/kits/{kit_id}/copies", {"kit_id": kit["kit_id"]}, body={}, claims=VENDOR)[0] == 403
    )


def test_the_brand_logos_and_the_co_branded_copy(kits: Kits) -> None:
    # the brand starts from the partner projection; a partner admin saves it (every field an injection attempt)
    brand = kits.ok(200, "GET", "/content/brand", claims=GOLD_USER)
    assert (brand["display_name"], brand["website"], brand["revision"], brand["editable"]) == (
        "Northwind <Gold> & Co",
        "https://northwind.example",
        0,
        False,
    )
    attack = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
    body = {
        "display_name": f"Northwind {attack}",
        "website": "https://northwind.example/partners",
        "contact_name": f"Nina {attack}",
        "contact_email": "nina@northwind.example",
        "phone": "+44 20 7946 0000",
        "address": {"lines": [f"1 High St {attack}"], "city": "London", "postcode": "N1 9GU", "country": "GB"},
        "revision": 0,
    }
    saved = kits.ok(200, "PUT", "/content/brand", body=body, claims=GOLD_ADMIN)
    assert saved["revision"] == 1 and saved["editable"] is True
    assert kits.call("PUT", "/content/brand", body=body, claims=GOLD_ADMIN)[0] == 409  # stale revision

    # a fake PNG is refused and its object version deleted; a malicious SVG is stored sanitised; a PNG replaces it
    fake = kits.upload_logo(b"GIF89a\x01\x00\x01\x00 not a png", "image/png")
    assert fake["status"] == "rejected" and "PNG signature" in fake["reason"]
    assert kits.object_versions(f"logos/{GOLD_ID}/{fake['upload_id']}") == []
    svg = kits.upload_logo(MALICIOUS_SVG, "image/svg+xml")
    assert svg["status"] == "ready"
    brand = kits.ok(200, "GET", "/content/brand", claims=GOLD_USER)
    assert brand["revision"] == 2 and brand["logo"]["upload_id"] == svg["upload_id"]
    stored_svg = base64.b64decode(brand["logo"]["data_uri"].split(",", 1)[1])
    for gone in (b"script", b"onload", b"foreignObject", b"javascript", b"evil.example"):
        assert gone not in stored_svg
    assert b'<rect width="8" height="8" fill="#0a0"' in stored_svg

    # a partner user generates the copy: escaped name, the logo as a data: URI, files under its own prefix
    kit = kits.create_kit()
    kit_id = kit["kit_id"]
    path = {"kit_id": kit_id}
    made = kits.ok(201, "POST", "/content/kits/{kit_id}/copies", path, body={}, claims=GOLD_USER)
    html = made["preview"]["html"]
    assert made["generated"] and made["copy"]["copy_revision"] == 1 and made["copy"]["brand_revision"] == 2
    assert (
        "<h1>Northwind &quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    )
    assert "<script" not in html and "<img src=x" not in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert '<a href="https://northwind.example/partners">' in html
    assert made["preview"]["subject"].startswith("Launch news from Northwind")
    assert [f["name"] for f in made["files"]] == ["email.html", "kit.pdf"]
    for file in made["files"]:
        assert urlsplit(file["url"]).path.endswith(f"/kits/{GOLD_ID}/{kit_id}/1/{file['name']}")
        assert file["expires_in"] == 300 and signature_holds(file["url"])
        fetched = requests.get(file["url"], timeout=10)
        assert fetched.status_code == 200 and len(fetched.content) == file["size_bytes"]
    assert requests.get(made["files"][0]["url"], timeout=10).text == html
    assert requests.get(made["files"][1]["url"], timeout=10).content.startswith(b"%PDF-1.4")
    [event] = kits.stack.outbox_events("ContentTable", "CoBrandedKitGenerated", kit_id=kit_id)
    assert (event["partner_id"], event["copy_revision"], event["files"]) == (GOLD_ID, 1, ["email.html", "kit.pdf"])

    # the stored copy is fresh: read back without a new generation; a retried POST (same key) is the same answer
    again = kits.ok(200, "GET", "/content/kits/{kit_id}/copy", path, claims=GOLD_ADMIN)
    assert not again["generated"] and again["preview"]["html"] == html
    retry = {"Idempotency-Key": f"copy-{RUN}"}
    first = kits.ok(201, "POST", "/content/kits/{kit_id}/copies", path, body={}, claims=GOLD_USER, headers=retry)
    assert (
        kits.ok(201, "POST", "/content/kits/{kit_id}/copies", path, body={}, claims=GOLD_USER, headers=retry) == first
    )

    # a template change regenerates on the next read; so does a brand change (here a new PNG logo)
    patch = {"template": TEMPLATE | {"html": "<p>{{partner.logo}} New {{partner.name}}</p>"}, "revision": 1}
    changed = kits.ok(200, "PATCH", "/content/kits/{kit_id}", path, body=patch, claims=VENDOR)
    assert changed["template_revision"] == 2
    after_template = kits.ok(200, "GET", "/content/kits/{kit_id}/copy", path, claims=GOLD_USER)
    assert after_template["generated"] and after_template["copy"]["copy_revision"] == 2
    assert after_template["preview"]["html"].startswith('<p><img src="data:image/svg+xml;base64,')
    new_png = kits.upload_logo(png(4, 3), "image/png")
    assert (new_png["status"], new_png["width"], new_png["height"]) == ("ready", 4, 3)
    after_brand = kits.ok(200, "GET", "/content/kits/{kit_id}/copy", path, claims=GOLD_USER)
    assert after_brand["copy"]["copy_revision"] == 3 and after_brand["copy"]["brand_revision"] == 3
    assert 'src="data:image/png;base64,' in after_brand["preview"]["html"]
    assert len(kits.stack.outbox_events("ContentTable", "CoBrandedKitGenerated", kit_id=kit_id)) == 3

    # another partner never reads this copy: its own route answers its own (or none); a tampered URL fails
    assert kits.call("GET", "/content/kits/{kit_id}/copy", path, claims=OTHER_ADMIN)[0] == 404
    theirs = kits.ok(201, "POST", "/content/kits/{kit_id}/copies", path, body={}, claims=OTHER_ADMIN)
    assert "Northwind" not in theirs["preview"]["html"] and "Globex" in theirs["preview"]["html"]
    their_url = theirs["files"][0]["url"]
    assert f"/kits/{OTHER_ID}/" in urlsplit(their_url).path and GOLD_ID not in their_url
    tampered = their_url.replace(f"/kits/{OTHER_ID}/", f"/kits/{GOLD_ID}/", 1)
    assert signature_holds(their_url) and not signature_holds(tampered)
    other_logo = kits.call(
        "GET", "/content/brand/logo/{upload_id}", {"upload_id": svg["upload_id"]}, claims=OTHER_ADMIN
    )
    assert other_logo[0] == 404


def test_a_lower_tier_never_sees_a_gold_kit(kits: Kits) -> None:
    gold = kits.create_kit(audience={"min_tier_id": "gold"})
    everyone = kits.create_kit()
    draft = kits.create_kit(status="draft")
    gold_path = {"kit_id": gold["kit_id"]}
    for method, path in (
        ("GET", "/content/kits/{kit_id}"),
        ("POST", "/content/kits/{kit_id}/copies"),
        ("GET", "/content/kits/{kit_id}/copy"),
    ):
        body = {} if method == "POST" else None
        status, answer = kits.call(method, path, gold_path, body=body, claims=SILVER_USER)
        assert status == 404 and gold["kit_id"] not in json.dumps(answer), (method, path, answer)
        assert kits.call(method, path, {"kit_id": draft["kit_id"]}, body=body, claims=GOLD_USER)[0] == 404
    assert kits.ok(200, "GET", "/content/kits/{kit_id}", gold_path, claims=GOLD_USER)["kit_id"] == gold["kit_id"]
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = kits.ok(
            200,
            "GET",
            "/content/kits",
            query={"limit": "50"} | ({"cursor": cursor} if cursor else {}),
            claims=SILVER_USER,
        )
        seen |= {k["kit_id"] for k in page["items"]}
        assert all("audience" not in k and "html" not in json.dumps(k["template"]) for k in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert everyone["kit_id"] in seen and gold["kit_id"] not in seen and draft["kit_id"] not in seen
    vendor_view = kits.ok(200, "GET", "/content/kits/{kit_id}", {"kit_id": draft["kit_id"]}, claims=VENDOR)
    assert vendor_view["status"] == "draft" and vendor_view["template"]["html"] == TEMPLATE["html"]
