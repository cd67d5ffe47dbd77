"""Demo content library, made through the PRM's real paths: a vendor admin uploads a dozen small real files (PDF
datasheets and decks, PNG images, CSV price lists, all generated here: no binary lives in the repository) through
`POST /content/assets` and the presigned POST it answers, exactly as the portal does; the content processing checks
each file from the bucket's object event; then one co-branded campaign kit is published.

The library is spread over the audience rules: some assets for every partner, some for Silver and above, some for
Gold and above (the demo has no Gold partner: Northwind is Silver, one engineer short of Gold; Contoso and Fabrikam
are Registered), one for APAC partners only (no demo partner is in APAC) and one that expires in a few days.

The end-to-end tests use the same file makers, so the demo and the tests upload the same kind of files."""

from __future__ import annotations

import csv
import io
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from infrastructure.local.people import People, Session

PDF = "application/pdf"
PNG = "image/png"
CSV = "text/csv"
PROCESSING_WAIT_SECONDS = 90  # the bucket's event -> EventBridge -> queue -> processing function, per asset
KIT_NAME = "Firewall 900 launch kit"


# ------------------------------------------------------------------ real files, made in code
def _pdf_text(text: str) -> bytes:
    """A PDF literal string's content (WinAnsi): backslash and parentheses escaped."""
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_document(title: str, pages: list[list[str]]) -> bytes:
    """A valid text PDF of one page per entry of `pages` (Helvetica, A4) with a correct cross-reference table: the
    catalog, the page tree, the font, then each page and its content stream, and an Info dictionary with the title."""
    if not pages:
        raise ValueError("a PDF has at least one page")
    count = len(pages)
    first_page = 4  # objects: 1 catalog, 2 pages, 3 font, then (page, contents) pairs, then info
    page_ids = [first_page + 2 * i for i in range(count)]
    info_id = first_page + 2 * count
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % count,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for number, lines in enumerate(pages, 1):
        heading = b"BT /F1 18 Tf 64 770 Td (" + _pdf_text(title) + b") Tj ET\n"
        body = (
            b"BT /F1 11 Tf 64 730 Td 16 TL " + b" ".join(b"(" + _pdf_text(line) + b") '" for line in lines) + b" ET\n"
        )
        footer = b"BT /F1 9 Tf 64 40 Td (" + _pdf_text(f"Page {number} of {count}") + b") Tj ET"
        stream = heading + body + footer
        contents_id = page_ids[number - 1] + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % contents_id
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Title (" + _pdf_text(title) + b") /Producer (PRM demo seed) >>")
    assert len(objects) == info_id
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info_id,
        xref,
    )
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_image(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A valid 8-bit RGB PNG (signature, IHDR, one zlib IDAT of filter-0 scanlines, IEND, each chunk's CRC)."""
    if not (0 < width <= 4096 and 0 < height <= 4096):
        raise ValueError("a demo image is 1 to 4096 pixels a side")
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")
    )


def banner(colour: tuple[int, int, int], accent: tuple[int, int, int], width: int = 120, height: int = 40) -> bytes:
    """A banner: the colour with a diagonal accent stripe and a border."""

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if x in (0, width - 1) or y in (0, height - 1):
            return (30, 30, 30)
        return accent if 0 <= (x - 2 * y) % 60 < 12 else colour

    return png_image(width, height, pixel)


def logo_mark(colour: tuple[int, int, int], size: int = 48) -> bytes:
    """A round logo mark on white."""
    centre = (size - 1) / 2

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        inside = (x - centre) ** 2 + (y - centre) ** 2 <= (size / 2 - 3) ** 2
        return colour if inside else (255, 255, 255)

    return png_image(size, size, pixel)


def csv_document(header: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8 CSV with a header line (Excel-style quoting, CRLF as RFC 4180 writes it)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


# ------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class DemoAsset:
    title: str
    description: str
    type: str
    file_name: str
    content_type: str
    make: Callable[[], bytes]
    language: str = "en"
    tags: tuple[str, ...] = ()
    product_skus: tuple[str, ...] = ()
    min_tier_id: str | None = None
    regions: tuple[str, ...] = ()
    partner_types: tuple[str, ...] = ()
    expires_in_days: int | None = None
    notes: str = "First edition."
    kit: bool = False  # part of the demo kit

    def body(self, now: datetime) -> dict[str, Any]:
        """The `POST /content/assets` body for this asset and its file."""
        content = self.make()
        body: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "type": self.type,
            "language": self.language,
            "tags": list(self.tags),
            "product_skus": list(self.product_skus),
            "audience": {
                "min_tier_id": self.min_tier_id,
                "regions": list(self.regions),
                "partner_types": list(self.partner_types),
            },
            "file": {
                "file_name": self.file_name,
                "content_type": self.content_type,
                "size_bytes": len(content),
                "notes": self.notes,
            },
        }
        if self.expires_in_days is not None:
            body["expires_at"] = (now + timedelta(days=self.expires_in_days)).isoformat().replace("+00:00", "Z")
        return body


def _datasheet(name: str, sku: str, facts: list[str]) -> Callable[[], bytes]:
    return lambda: pdf_document(
        f"{name} datasheet",
        [
            [f"{name} ({sku})", "", *facts, "", "Order through your distributor or the partner portal."],
            ["Licences and support", "", "Standard: next business day replacement.", "Premium: 4-hour on site."],
        ],
    )


def _price_list(tier: str) -> Callable[[], bytes]:
    prices = [
        ("NET-FW-100", "Firewall 100", "1200.00", "15"),
        ("NET-FW-900", "Firewall 900 (data centre)", "24000.00", "20"),
        ("NET-SW-48", "Switch 48-port", "3400.00", "12"),
        ("CLD-SASE", "Cloud SASE subscription (per user, year)", "96.00", "10"),
    ]
    return lambda: csv_document(
        ["sku", "product", "list_price_usd", f"{tier.lower()}_discount_percent"], [list(p) for p in prices]
    )


PLAN: list[DemoAsset] = [
    DemoAsset(
        "Firewall 100 datasheet",
        "Throughput, interfaces and licences of the branch-office firewall.",
        "document",
        "firewall-100-datasheet.pdf",
        PDF,
        _datasheet("Firewall 100", "NET-FW-100", ["2 Gbps threat protection", "8 x 1 GbE ports", "Fanless"]),
        tags=("firewall", "datasheet"),
        product_skus=("NET-FW-100",),
        kit=True,
    ),
    DemoAsset(
        "Switch 48-port spec sheet",
        "Port counts, PoE budget and stacking of the campus switch.",
        "document",
        "switch-48-spec.pdf",
        PDF,
        _datasheet("Switch 48-port", "NET-SW-48", ["48 x 1 GbE PoE+", "4 x 10 GbE uplinks", "740 W PoE budget"]),
        tags=("switching", "datasheet"),
        product_skus=("NET-SW-48",),
    ),
    DemoAsset(
        "Product logos",
        "The product family's marks for partner websites and slides.",
        "image",
        "product-logos.png",
        PNG,
        lambda: logo_mark((0, 94, 184)),
        tags=("logo", "brand"),
    ),
    DemoAsset(
        "Cloud SASE Fallstudie",
        "Wie ein Logistikunternehmen 3.000 Nutzer auf Cloud SASE umstellte.",
        "document",
        "sase-fallstudie.pdf",
        PDF,
        lambda: pdf_document(
            "Cloud SASE Fallstudie",
            [["Ausgangslage: 40 Standorte, 3.000 Nutzer.", "Ergebnis: 60 % weniger Tickets im ersten Quartal."]],
        ),
        language="de",
        tags=("case-study", "sase"),
        product_skus=("CLD-SASE",),
    ),
    DemoAsset(
        "Holiday promotion flyer",
        "End-of-year bundle: Firewall 100 with two years of support. The promotion ends soon.",
        "document",
        "holiday-promotion.pdf",
        PDF,
        lambda: pdf_document(
            "Holiday promotion", [["Firewall 100 + 2 years support at 20% off.", "Orders until the end date."]]
        ),
        tags=("promotion", "firewall"),
        product_skus=("NET-FW-100",),
        expires_in_days=5,
    ),
    DemoAsset(
        "Cloud SASE battlecard",
        "How Cloud SASE wins against the usual competitors, objection by objection.",
        "document",
        "sase-battlecard.pdf",
        PDF,
        lambda: pdf_document(
            "Cloud SASE battlecard",
            [["Why we win: one agent, one console.", "Objection: 'too expensive' - show the 3-year TCO."]],
        ),
        tags=("battlecard", "sase", "competitive"),
        product_skus=("CLD-SASE",),
        min_tier_id="silver",
    ),
    DemoAsset(
        "Partner price list",
        "List prices and the Silver discount for every product.",
        "document",
        "partner-price-list.csv",
        CSV,
        _price_list("Silver"),
        tags=("pricing",),
        min_tier_id="silver",
    ),
    DemoAsset(
        "Firewall 900 datasheet",
        "The data-centre firewall: 100 Gbps, high availability pairs and the licences.",
        "document",
        "firewall-900-datasheet.pdf",
        PDF,
        _datasheet("Firewall 900", "NET-FW-900", ["100 Gbps firewall", "HA pairs", "8 x 100 GbE QSFP28"]),
        tags=("firewall", "datasheet", "data-centre"),
        product_skus=("NET-FW-900",),
        min_tier_id="gold",
        kit=True,
    ),
    DemoAsset(
        "Zero-trust pitch deck",
        "Three slides for the first executive meeting on zero trust.",
        "presentation",
        "zero-trust-pitch.pdf",
        PDF,
        lambda: pdf_document(
            "Zero trust in 90 days",
            [["Why now: breaches start with a stolen password."], ["The plan: SASE, then segmentation."], ["Ask"]],
        ),
        tags=("pitch", "zero-trust"),
        product_skus=("CLD-SASE", "NET-FW-900"),
        min_tier_id="gold",
    ),
    DemoAsset(
        "Firewall 900 launch banner",
        "Web banner for the Firewall 900 launch (Gold partners get the launch first).",
        "image",
        "fw900-launch-banner.png",
        PNG,
        lambda: banner((0, 94, 184), (255, 196, 0)),
        tags=("launch", "banner", "firewall"),
        product_skus=("NET-FW-900",),
        min_tier_id="gold",
        kit=True,
    ),
    DemoAsset(
        "Competitive pricing matrix",
        "Street prices of the three main competitors, for Gold partners' deal desks.",
        "document",
        "competitive-pricing.csv",
        CSV,
        lambda: csv_document(
            ["competitor", "product", "street_price_usd"],
            [["Globex Networks", "GX-500", "21000.00"], ["Initech Secure", "IS-9", "26500.00"]],
        ),
        tags=("pricing", "competitive"),
        min_tier_id="gold",
    ),
    DemoAsset(
        "APAC reseller onboarding guide",
        "Distribution, import and support arrangements for resellers in Asia Pacific.",
        "document",
        "apac-onboarding.pdf",
        PDF,
        lambda: pdf_document(
            "APAC reseller onboarding", [["Distributors in Singapore, Sydney and Tokyo.", "Local support hours."]]
        ),
        tags=("onboarding",),
        regions=("APAC",),
    ),
]

# No inline styles: the portal previews a copy in a sandboxed frame that inherits the portal's Content-Security-Policy
# (style-src 'self'), which refuses them; the stored HTML file keeps whatever the template has.
KIT_TEMPLATE = """<table width="600">
  <tr><td>{{partner.logo}}</td></tr>
  <tr><td><h1>Meet the Firewall 900, from {{partner.name}}</h1>
    <p>100 Gbps of threat protection for your data centre, installed and supported by {{partner.name}}.</p>
    <p><a href="{{partner.website}}">Book a demo on our website</a> or write to {{partner.contact_name}}
      at {{partner.contact_email}} ({{partner.phone}}).</p>
    <p><small>{{partner.address}}</small></p></td></tr>
</table>"""


def kit_body(asset_ids: list[str]) -> dict[str, Any]:
    """The demo kit: a launch email with a one-page PDF, for every partner (each sees the kit's assets it may)."""
    return {
        "name": KIT_NAME,
        "description": "Everything for the Firewall 900 launch: the co-branded email, a one-page flyer and the assets.",
        "campaign": "Firewall 900 launch",
        "asset_ids": asset_ids,
        "audience": {"min_tier_id": None, "regions": [], "partner_types": []},
        "template": {
            "kind": "email",
            "subject": "The Firewall 900 is here - from {{partner.name}}",
            "html": KIT_TEMPLATE,
            "pdf": {
                "enabled": True,
                "headline": "Firewall 900 from {{partner.name}}",
                "body": "100 Gbps threat protection for the data centre.\nContact {{partner.contact_name}}.",
            },
        },
        "status": "published",
    }


# ------------------------------------------------------------------ uploading through the API
def post_file(upload: dict[str, Any], content: bytes, name: str, content_type: str) -> requests.Response:
    """What a browser sends to a presigned POST: a multipart form with every policy field, then the file."""
    fields = list(upload["fields"].items())
    return requests.post(upload["url"], data=fields, files={"file": (name, content, content_type)}, timeout=30)


def upload_asset(people: People, admin: Session, body: dict[str, Any], content: bytes) -> dict[str, Any]:
    """`POST /content/assets`, then the file to the presigned POST; the created asset."""
    answer = people.api("POST", "/content/assets", session=admin, json=body)
    answer.raise_for_status()
    created = answer.json()
    stored = post_file(created["upload"], content, body["file"]["file_name"], body["file"]["content_type"])
    stored.raise_for_status()
    return dict(created["asset"])


def wait_until_processed(
    people: People, admin: Session, asset_id: str, *, timeout: float = PROCESSING_WAIT_SECONDS
) -> dict[str, Any]:
    """The asset once its first version is checked (ready, or rejected with the reason)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = people.api("GET", f"/content/assets/{asset_id}", session=admin)
        answer.raise_for_status()
        asset = answer.json()
        if asset["status"] in ("ready", "rejected", "expired"):
            return dict(asset)
        if time.monotonic() > deadline:
            raise TimeoutError(f"asset {asset_id} is still {asset['status']} after {timeout} s")
        time.sleep(0.3)


def _all_assets(people: People, admin: Session) -> list[dict[str, Any]]:
    """Every asset (newest change first), paged: the demo library is small."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = people.api(
            "GET", "/content/admin/assets?limit=100" + (f"&cursor={cursor}" if cursor else ""), session=admin
        )
        answer.raise_for_status()
        page = answer.json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


@dataclass
class Seeded:
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)  # by title
    kit: dict[str, Any] | None = None


def seed(people: People, stack: Any, admin: Session, *, plan: list[DemoAsset] = PLAN) -> Seeded:
    """Upload the plan's assets not in the library yet (by title; one library per stack), wait until each is
    checked, then publish the kit unless it exists."""
    now = datetime.now(UTC)
    known = {a["title"]: a for a in _all_assets(people, admin)}
    seeded = Seeded()
    waiting: list[str] = []
    for item in plan:
        if item.title in known:
            seeded.assets[item.title] = known[item.title]
            continue
        created = upload_asset(people, admin, item.body(now), item.make())
        seeded.assets[item.title] = created
        waiting.append(item.title)
    stack.wait_idle(timeout=60)
    for title in waiting:
        asset = wait_until_processed(people, admin, seeded.assets[title]["asset_id"])
        if asset["status"] != "ready":
            raise RuntimeError(f"the demo asset {title!r} was not accepted: {asset}")
        seeded.assets[title] = asset
    kits = people.api("GET", "/content/kits?limit=100", session=admin)
    kits.raise_for_status()
    existing = [k for k in kits.json()["items"] if k["name"] == KIT_NAME]
    if existing:
        seeded.kit = existing[0]
    else:
        ids = [seeded.assets[item.title]["asset_id"] for item in plan if item.kit]
        answer = people.api("POST", "/content/kits", session=admin, json=kit_body(ids))
        answer.raise_for_status()
        seeded.kit = answer.json()
    stack.wait_idle(timeout=60)
    return seeded


GOLD_OR_ABOVE = frozenset({"gold", "platinum"})  # the demo programme's tiers (seed_programme) that see Gold assets


def describe(people: People, partners: dict[str, Session | None]) -> list[str]:
    """The banner's lines about the library, read from what each demo partner's Library page shows now."""
    seen: list[str] = []
    gold_or_above = False
    for company, session in partners.items():
        if session is None:
            continue
        answer = people.api("GET", "/content/library?sort=newest&limit=50", session=session)
        if answer.status_code != 200:
            continue
        items = answer.json().get("items", [])
        tier = ""
        programme = people.api("GET", "/programme", session=session)
        if programme.status_code == 200:
            standing = programme.json().get("tier") or {}
            tier = f" ({standing.get('name') or 'no tier'})"
            gold_or_above |= standing.get("tier_id") in GOLD_OR_ABOVE
        seen.append(f"{company}{tier} sees {len(items)}")
    if not seen:
        return []
    gold = sum(1 for item in PLAN if item.min_tier_id == "gold")
    return [
        f"Content library: {len(PLAN)} assets, {gold} for Gold and above"
        + ("" if gold_or_above else " (no demo partner is Gold yet)")
        + "; "
        + "; ".join(seen)
        + f". Kit: {KIT_NAME} (Library page)."
    ]
