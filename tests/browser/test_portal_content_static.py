"""Browser tests of the portal's content pages (#/content, the brand section of #/organisation, #/admin/content…)
with no backend: the stub in tests/support/portal_stub.py answers /config.json and the API from canned responses
shaped as the content API answers (functions/content/content/api*.py and models/), and records every request."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.support.browser import PARTNER_NAV
from tests.support.portal_stub import UUID, Call, Stub, brand, error, me, ok, partner_api, raw, session_script

pytestmark = pytest.mark.browser

VIEWS = Path(__file__).resolve().parents[2] / "portal" / "js" / "views"
MODULES = ["content.js", "content-admin.js", "content-common.js", "brand.js"]
ASSET = "ast_" + "a" * 24
ASSET_2 = "ast_" + "b" * 24
KIT = "kit_" + "0" * 26
LOGO = "logo_" + "1" * 26
BUCKET = "https://content-bucket.s3.amazonaws.com/"
DOWNLOAD_URL = "https://content-bucket.s3.amazonaws.com/assets/ast_a/1/datasheet.pdf"
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">Firewall & "friends"'
# A 1x1 PNG (valid signature and chunks): what a browser reads from the chosen logo file
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def iso_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def version(number: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "asset_id": ASSET,
        "number": number,
        "file_name": "datasheet.pdf",
        "content_type": "application/pdf",
        "size_bytes": 12_800,
        "status": "ready",
        "reason": None,
        "notes": "First edition",
        "s3_key": f"assets/{ASSET}/{number}/datasheet.pdf",
        "s3_version_id": "v1",
        "sha256": "ab" * 32,
        "pages": 3,
        "duration_seconds": None,
        "uploaded_by": "content@vendor.example",
        "created_at": iso_in(-5),
        "processed_at": iso_in(-5),
    } | changes


def card(asset_id: str = ASSET, **changes: Any) -> dict[str, Any]:
    """An asset card of `GET /content/library` (what partners see of an asset)."""
    return {
        "asset_id": asset_id,
        "title": "Firewall 900 datasheet",
        "description": "Throughput, interfaces and licences.",
        "type": "document",
        "language": "en",
        "tags": ["firewall", "datasheet"],
        "product_skus": ["NET-FW-900"],
        "current": {
            "number": 2,
            "file_name": "datasheet.pdf",
            "content_type": "application/pdf",
            "size_bytes": 12_800,
            "pages": 3,
            "processed_at": iso_in(-1),
        },
        "publish_at": iso_in(-10),
        "expires_at": None,
        "min_tier": "Gold",
    } | changes


def answered(page: Page) -> None:
    """Wait until the library shows the answer to its last search: the URL changes before the request goes out, and
    the stub records a request only when Playwright hands it over, so a test reading the last request waits first."""
    expect(page.get_by_test_id("library-results")).not_to_have_attribute("aria-busy", "true")


def library(items: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    return {"items": items, "next_cursor": cursor, "read": len(items)}


def kit(**changes: Any) -> dict[str, Any]:
    return {
        "kit_id": KIT,
        "name": "Firewall 900 launch",
        "description": "Everything for the launch email.",
        "campaign": "FW900 launch, spring",
        "asset_ids": [ASSET],
        "assets": [card()],
        "audience": {"min_tier_id": None, "regions": [], "partner_types": []},
        "template": {
            "kind": "email",
            "subject": "Meet the Firewall 900",
            "html": "<p>{{partner.name}}</p>{{partner.logo}}",
            "pdf": None,
        },
        "template_revision": 1,
        "status": "published",
        "created_by": "content@vendor.example",
        "created_at": iso_in(-3),
        "updated_at": iso_in(-2),
        "published_at": iso_in(-2),
        "revision": 1,
    } | changes


def partner_kit(**changes: Any) -> dict[str, Any]:
    """A kit as partners read it (api_kits.partner_kit: no audience, no markup; the list names no assets)."""
    return {
        "kit_id": KIT,
        "name": "Firewall 900 launch",
        "description": "Everything for the launch email.",
        "campaign": "FW900 launch, spring",
        "template": {"kind": "email", "subject": "Meet the Firewall 900", "pdf": False},
        "template_revision": 1,
        "min_tier_id": None,
        "published_at": iso_in(-2),
        "updated_at": iso_in(-2),
    } | changes


def kit_asset(**changes: Any) -> dict[str, Any]:
    return {
        "asset_id": ASSET,
        "title": "Firewall 900 datasheet",
        "type": "document",
        "language": "en",
        "current": {"number": 2, "file_name": "datasheet.pdf", "content_type": "application/pdf", "size_bytes": 12_800},
    } | changes


@pytest.fixture
def stub(portal_url: str) -> Stub:
    api = partner_api()
    api[("GET", "/content/library")] = ok(library([card()]))
    api[("GET", "/content/kits")] = ok({"items": [kit()]})
    api[("GET", "/content/brand")] = ok(brand())
    return Stub(base=portal_url, api=api)


# ---------------------------------------------------------------------------------------------- the modules


def test_the_content_modules_never_insert_markup() -> None:
    for name in MODULES:
        source = (VIEWS / name).read_text()
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "allow-scripts"):
            assert forbidden not in source, f"{name} uses {forbidden}"


def test_file_rules_and_placeholders_are_checked_before_sending(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/content")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    result = page.evaluate(
        """async () => {
            const c = await import('./js/views/content-common.js');
            const a = await import('./js/views/content-admin.js');
            const f = (name, size) => ({ name, size });
            return {
                types: [c.contentTypeFor('a.PDF', 'document'), c.contentTypeFor('a.pptx', 'presentation'),
                        c.contentTypeFor('a.mp4', 'document'), c.contentTypeFor('a.csv', 'document')],
                files: [c.checkAssetFile(f('a.pdf', 10), 'document'), c.checkAssetFile(f('a.mp4', 10), 'image'),
                        c.checkAssetFile(f('a.pdf', 0), 'document'),
                        c.checkAssetFile(f('a.zip', 60 * 1024 * 1024), 'archive')],
                logos: [c.checkLogoFile(f('l.svg', 10)), c.checkLogoFile(f('l.gif', 10)),
                        c.checkLogoFile(f('l.png', 300 * 1024))],
                tags: [c.checkTags('launch, firewall-900'), c.checkTags('Launch')],
                skus: [c.checkSkus('NET-FW-100'), c.checkSkus('net fw'), c.checkSkus('NET-FW-100', ['NET-FW-100']),
                       c.checkSkus('NET-FW-101', ['NET-FW-100', 'A1', 'A2', 'A3', 'A4', 'A5'])],
                html: [a.checkTemplateHtml('<p>{{partner.name}} {{ partner.logo }}</p>'),
                       a.checkTemplateHtml('<p>{{partner.ssn}}</p>'), a.checkTemplateHtml('  ')],
                facts: [c.fileFacts({ file_name: 'a.pdf', size_bytes: 2048, pages: 1 }),
                        c.fileFacts({ file_name: 'v.mp4', size_bytes: 5 * 1024 * 1024, duration_seconds: 95 })],
                audience: [c.audienceWords({ min_tier_id: 'gold', regions: ['EMEA'], partner_types: ['isv'] }, 'Gold'),
                           c.audienceWords({})],
            };
        }"""
    )
    assert result["types"] == ["application/pdf", c_pptx(), None, "text/csv"]
    assert result["files"][0] == ""
    assert result["files"][1] == "A image is one of these files: .png, .jpg, .jpeg."
    assert result["files"][2] == "This file is empty."
    assert result["files"][3].startswith("Files can be at most 50 MB")
    assert result["logos"][0] == "" and result["logos"][1] == "A logo is a PNG or an SVG file."
    assert result["logos"][2].startswith("A logo can be at most 200 KB")
    assert result["tags"][0] == "" and "is not a tag" in result["tags"][1]
    assert result["skus"][0] == "" and "is not a product SKU" in result["skus"][1] and result["skus"][2] == ""
    assert result["skus"][3].startswith(
        "\u201cNET-FW-101\u201d is not in the product list (NET-FW-100, A1, A2, A3, A4, \u2026)"
    )
    assert result["html"] == ["", "Unknown placeholder: {{partner.ssn}}.", "Write the template\u2019s HTML."]
    assert result["facts"] == ["PDF · 2 KB · 1 page", "MP4 · 5 MB · 1:35 min"]
    assert result["audience"] == ["Gold and above; regions: EMEA; partner types: ISV", "Every partner"]


def c_pptx() -> str:
    return "application/vnd.openxmlformats-officedocument.presentationml.presentation"


# ---------------------------------------------------------------------------------------------- the library


def test_the_library_lists_cards_filters_as_you_type_and_pages_on(page: Page, stub: Stub, portal_url: str) -> None:
    older = card(
        ASSET_2,
        title="Partner price list",
        type="document",
        current={"number": 1, "file_name": "prices.csv", "content_type": "text/csv", "size_bytes": 900},
        expires_at=iso_in(3),
        min_tier=None,
        tags=[],
        product_skus=[],
    )

    def answer(call: Call) -> dict[str, Any]:
        if call.query.get("cursor") == "c2":
            return ok(library([older]))
        return ok(library([card()], cursor="c2"))

    stub.api[("GET", "/content/library")] = answer
    page.goto(f"{portal_url}#/organisation")
    expect(page.locator("#site-nav a")).to_have_text(PARTNER_NAV)
    page.get_by_test_id("nav-content").click()
    expect(page).to_have_url(re.compile(r"#/content$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Content library")
    first = page.locator(f"[data-testid=asset-card][data-asset-id={ASSET}]")
    expect(first.get_by_test_id("asset-title")).to_have_text("Firewall 900 datasheet")
    expect(first.get_by_test_id("asset-type")).to_have_text("Document")
    expect(first.get_by_test_id("asset-facts")).to_have_text("PDF · 13 KB · 3 pages")
    expect(first.get_by_test_id("asset-version")).to_contain_text("Version 2 · updated")
    expect(first.get_by_test_id("asset-tier")).to_have_text("For Gold partners and above")
    expect(first.get_by_test_id("asset-published")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(first.get_by_test_id("asset-expires")).to_have_text("No end date")
    expect(first.get_by_test_id("asset-tags")).to_have_text("firewall, datasheet")
    expect(page.get_by_test_id("library-count")).to_have_text("1 asset shown; there are more")
    assert stub.requests("GET", "/content/library")[0].query == {"sort": "newest", "limit": "12"}

    page.get_by_test_id("library-load-more").click()
    expect(page.get_by_test_id("asset-card")).to_have_count(2)
    second = page.locator(f"[data-testid=asset-card][data-asset-id={ASSET_2}]")
    expect(second.get_by_test_id("asset-expires")).to_contain_text("3 days left")
    expect(second.get_by_test_id("asset-tier")).to_have_count(0)
    expect(page.get_by_test_id("library-load-more")).to_have_count(0)
    assert stub.requests("GET", "/content/library")[-1].query == {"sort": "newest", "limit": "12", "cursor": "c2"}

    # live validation: a product that is no SKU, a tag that is no slug
    page.fill("#content_product", "fw 900")
    expect(page.locator("#content_product-error")).to_have_text("Enter a product SKU such as NET-FW-100.")
    page.fill("#content_product", "net-fw-900")
    expect(page.locator("#content_product-error")).to_be_hidden()
    page.fill("#content_tag", "two tags")
    expect(page.locator("#content_tag-error")).to_have_text("Enter one tag such as product-launch.")
    page.get_by_test_id("library-search-submit").click()
    expect(page.locator("#content_tag")).to_be_focused()
    page.fill("#content_tag", "Launch")
    page.fill("#content_q", "firewall datasheet")
    page.select_option("#content_type", "document")
    page.select_option("#content_sort", "relevance")
    page.get_by_test_id("library-search-submit").click()
    expect(page).to_have_url(
        re.compile(r"#/content\?q=firewall\+datasheet&type=document&product=NET-FW-900&tag=launch")
    )
    answered(page)
    last = stub.requests("GET", "/content/library")[-1]
    assert last.query == {
        "q": "firewall datasheet",
        "type": "document",
        "product": "NET-FW-900",
        "tag": "launch",
        "sort": "relevance",
        "limit": "12",
    }

    # the filters come back from the hash
    page.reload()
    expect(page.locator("#content_q")).to_have_value("firewall datasheet")
    expect(page.locator("#content_type")).to_have_value("document")
    expect(page.locator("#content_sort")).to_have_value("relevance")


PRODUCTS = {
    "items": [
        {"sku": "NET-FW-900", "name": "Firewall 900", "family": "Security"},
        {"sku": "NET-FW-100", "name": "Firewall 100", "family": "Security"},
    ]
}


def test_partners_filter_the_library_by_a_product_of_the_list(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/products")] = ok(PRODUCTS)
    # a shared link may name a product the list no longer has: it stays chosen, and says so
    page.goto(f"{portal_url}#/content?product=NET-SW-1")
    expect(page.locator("label[for=content_product]")).to_contain_text("Product")
    expect(page.locator("#content_product option")).to_have_text(
        ["Any product", "Firewall 100 (NET-FW-100)", "Firewall 900 (NET-FW-900)", "NET-SW-1 (not in the product list)"]
    )
    expect(page.locator("#content_product")).to_have_value("NET-SW-1")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    assert stub.requests("GET", "/content/library")[0].query["product"] == "NET-SW-1"

    page.select_option("#content_product", "NET-FW-900")
    page.get_by_test_id("library-search-submit").click()
    expect(page).to_have_url(re.compile(r"#/content\?product=NET-FW-900&sort=newest$"))
    answered(page)
    assert stub.requests("GET", "/content/library")[-1].query == {
        "product": "NET-FW-900",
        "sort": "newest",
        "limit": "12",
    }
    page.get_by_test_id("library-clear").click()
    expect(page.locator("#content_product")).to_have_value("")
    expect(page).to_have_url(re.compile(r"#/content$"))
    answered(page)
    assert "product" not in stub.requests("GET", "/content/library")[-1].query


def test_the_library_asks_for_its_first_page_beside_the_product_list(page: Page, stub: Stub, portal_url: str) -> None:
    """The first search does not wait for GET /products: it is asked for while the list loads, and its answer is used
    once the form, built from the list, asks the same."""
    held: list[Route] = []

    def hold(route: Route) -> None:  # answered below, once the library was asked
        held.append(route)

    page.route("**/api/products", hold)
    with page.expect_request(lambda request: "/api/content/library" in request.url, timeout=5000):
        page.goto(f"{portal_url}#/content?product=NET-FW-900&q=firewall")
    for _ in range(100):  # the route handler runs as Playwright dispatches it
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1 and not page.get_by_test_id("asset-card").count()
    held[0].fulfill(json=PRODUCTS)
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    expect(page.locator("#content_product")).to_have_value("NET-FW-900")
    assert [call.query for call in stub.requests("GET", "/content/library")] == [
        {"q": "firewall", "product": "NET-FW-900", "sort": "relevance", "limit": "12"}
    ]


def test_a_shared_links_malformed_sku_is_not_asked_for(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/products")] = ok(PRODUCTS)
    page.goto(f"{portal_url}#/content?product=bad%20sku!")
    expect(page.locator("#content_product")).to_have_value("")  # "bad sku!" is no SKU: "Any product"
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    # one request, without the SKU the form does not hold (the API would refuse it)
    assert [call.query for call in stub.requests("GET", "/content/library")] == [{"sort": "newest", "limit": "12"}]


def test_a_shared_link_is_asked_for_once_as_the_form_sends_it(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/products")] = ok(PRODUCTS)
    page.goto(f"{portal_url}#/content?tag=%20Laun%0Ach&q=%20firewall%20")  # the form's fields drop the line break
    expect(page.locator("#content_tag")).to_have_value(" Launch")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    assert [call.query for call in stub.requests("GET", "/content/library")] == [
        {"q": "firewall", "tag": "launch", "sort": "relevance", "limit": "12"}
    ]


def test_the_servers_field_errors_land_on_the_search_fields(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/library")] = [
        ok(library([])),
        error(400, "validation_error", "The search is not valid.", [{"field": "q", "message": "too many words"}]),
    ]
    page.goto(f"{portal_url}#/content")
    expect(page.get_by_test_id("library-empty")).to_contain_text("Nothing has been published")
    page.fill("#content_q", "a b c d e f g h")
    page.get_by_test_id("library-search-submit").click()
    expect(page.locator("#content_q-error")).to_have_text("Too many words")
    expect(page.locator("#content_q")).to_be_focused()


def test_a_hostile_title_is_shown_as_text(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/library")] = ok(library([card(title=HOSTILE, description=HOSTILE, tags=["x"])]))
    stub.api[("GET", "/content/kits")] = ok({"items": [partner_kit(name=HOSTILE, campaign=HOSTILE)]})
    stub.api[("GET", f"/content/kits/{KIT}")] = ok(partner_kit() | {"assets": [kit_asset(title=HOSTILE)]})
    page.goto(f"{portal_url}#/content")
    expect(page.get_by_test_id("asset-title")).to_have_text(HOSTILE)
    expect(page.get_by_test_id("asset-description")).to_have_text(HOSTILE)
    expect(page.get_by_test_id("kit-name")).to_have_text(HOSTILE)
    expect(page.get_by_test_id("kit-asset-title")).to_have_text(HOSTILE)
    expect(page.locator("main img")).to_have_count(0)
    assert page.title() != "pwned"


def test_download_and_preview_open_a_short_lived_link_each_time(page: Page, stub: Stub, portal_url: str) -> None:
    def link(call: Call) -> dict[str, Any]:
        return ok(
            {
                "url": f"{DOWNLOAD_URL}?X-Amz-Signature=abc",
                "expires_in": 300,
                "version": 2,
                "file_name": "datasheet.pdf",
                "content_type": "application/pdf",
            },
            201,
        )

    stub.api[("POST", f"/content/assets/{ASSET}/downloads")] = [
        link,
        link,
        error(404, "not_found", "No such asset."),
    ]
    stub.external[("GET", DOWNLOAD_URL)] = raw(200, b"%PDF-1.4", {"Content-Type": "application/pdf"})
    page.goto(f"{portal_url}#/content")
    asset = page.locator(f"[data-testid=asset-card][data-asset-id={ASSET}]")
    with page.expect_popup() as popup:
        asset.get_by_test_id("asset-download").click()
    popup.value.wait_for_url(re.compile(re.escape(DOWNLOAD_URL)))
    expect(asset.get_by_test_id("asset-link-state")).to_have_text("Opened datasheet.pdf (version 2) in a new tab.")
    with page.expect_popup():
        asset.get_by_test_id("asset-preview").click()
    posts = stub.requests("POST", f"/content/assets/{ASSET}/downloads")
    assert [p.body for p in posts] == [{"kind": "download"}, {"kind": "preview"}]
    keys = [p.headers["idempotency-key"] for p in posts]
    assert all(UUID.match(k) for k in keys) and keys[0] != keys[1]  # each click is its own download
    with page.expect_popup():
        asset.get_by_test_id("asset-download").click()
    expect(asset.get_by_test_id("asset-link-state")).to_have_text(
        "This asset is no longer available to your organisation."
    )


# ---------------------------------------------------------------------------------------------- kits


def test_generating_my_kit_copy_shows_it_in_a_sandboxed_frame(chromium: Browser, stub: Stub, portal_url: str) -> None:
    """Not on the `page` fixture: the browser's complaint that the preview's script was blocked is expected here (it
    is the proof); any other console error or page error still fails the test."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(5000)
    context.route(stub.matches, stub.handle)
    page = context.new_page()
    # the session only in the portal's own window (the sandboxed preview may not touch storage at all)
    page.add_init_script(f"if (window === window.top) {{ {session_script()} }}")
    messages: list[str] = []
    page.on("pageerror", lambda exc: messages.append(f"page error: {exc}"))
    page.on("console", lambda msg: messages.append(msg.text) if msg.type == "error" else None)
    try:
        generate_and_preview(page, stub, portal_url)
    finally:
        context.close()
    blocked = [m for m in messages if m.startswith("Blocked script execution in 'about:srcdoc'")]
    assert blocked, messages  # the sandbox (no allow-scripts) refused the template's script
    assert [m for m in messages if m not in blocked and not m.startswith("Failed to load resource")] == []


def generate_and_preview(page: Page, stub: Stub, portal_url: str) -> None:
    copy_url = "https://content-bucket.s3.amazonaws.com/kits/prt_01/kit/1/email.html"
    preview = (
        "<html><body><h1 id=brand>Acme &amp; Co &lt;b&gt;</h1>"
        "<img alt=logo src='data:image/png;base64,iVBORw0KGgo='>"
        "<script>parent.document.title = 'pwned'</script></body></html>"
    )
    answer = {
        "copy": {
            "kit_id": KIT,
            "copy_revision": 1,
            "template_revision": 1,
            "brand_revision": 3,
            "subject": "Meet the Firewall 900",
            "generated_by": "ada@acme.example",
            "generated_at": iso_in(0),
        },
        "generated": True,
        "preview": {"kind": "email", "subject": "Meet the Firewall 900", "html": preview},
        "files": [
            {"name": "email.html", "content_type": "text/html", "size_bytes": 900, "url": copy_url, "expires_in": 300}
        ],
    }
    stub.api[("GET", f"/content/kits/{KIT}/copy")] = [error(404, "not_found", "No copy yet."), ok(answer)]
    stub.api[("POST", f"/content/kits/{KIT}/copies")] = ok(answer, 201)
    page.goto(f"{portal_url}#/content")
    kit_card = page.locator(f"[data-testid=kit-card][data-kit-id={KIT}]")
    expect(kit_card.get_by_test_id("kit-name")).to_have_text("Firewall 900 launch")
    expect(kit_card.get_by_test_id("kit-campaign")).to_have_text("Campaign: FW900 launch, spring")
    expect(kit_card.get_by_test_id("kit-kind")).to_have_text("Email")
    expect(kit_card.get_by_test_id("kit-asset-title")).to_have_text("Firewall 900 datasheet")
    kit_card.get_by_test_id("kit-open").click()
    expect(kit_card.get_by_test_id("kit-state")).to_have_text("You have no copy of this kit yet: generate it first.")
    kit_card.get_by_test_id("kit-generate").click()
    expect(kit_card.get_by_test_id("kit-state")).to_have_text("Your copy is ready.")
    frame = kit_card.get_by_test_id("kit-preview")
    expect(frame).to_have_attribute("sandbox", "")
    inside = page.frame_locator("[data-testid=kit-preview]")
    expect(inside.locator("#brand")).to_have_text("Acme & Co <b>")
    expect(inside.locator("img[alt=logo]")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(kit_card.get_by_test_id("kit-file")).to_have_attribute("href", copy_url)
    expect(kit_card.get_by_test_id("kit-copy-facts")).to_contain_text("Copy 1, generated")
    expect(kit_card.get_by_test_id("kit-subject")).to_have_text("Subject: Meet the Firewall 900")
    page.wait_for_timeout(200)
    assert page.title() != "pwned"  # the preview's script never ran
    post = stub.requests("POST", f"/content/kits/{KIT}/copies")[0]
    assert post.body == {} and UUID.match(post.headers["idempotency-key"])
    kit_card.get_by_test_id("kit-open").click()
    expect(kit_card.get_by_test_id("kit-copy-facts")).to_contain_text("Copy 1")


def test_no_kit_open_says_so(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/kits")] = ok({"items": []})
    page.goto(f"{portal_url}#/content")
    expect(page.get_by_test_id("kits-empty")).to_have_text("No campaign kit is open to your organisation right now.")


# ---------------------------------------------------------------------------------------------- the brand profile


def test_partner_users_read_the_brand_and_admins_edit_it(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/organisation")
    section = page.get_by_test_id("brand-profile")
    expect(section.get_by_test_id("brand-display_name")).to_have_text("Acme Networks")
    expect(section.get_by_test_id("brand-address")).to_have_text("1 Analytical Row\nN1 9GU London\nUnited Kingdom")
    expect(section.get_by_test_id("brand-logo")).to_have_text("No logo yet")
    expect(section.get_by_test_id("brand-readonly")).to_be_visible()
    expect(section.get_by_test_id("brand-form")).to_have_count(0)


def logo_upload(**changes: Any) -> dict[str, Any]:
    """A logo upload as `POST /content/brand/logo` and `GET /content/brand/logo/{upload_id}` answer it."""
    return {
        "upload_id": LOGO,
        "content_type": "image/png",
        "size_bytes": len(PNG_1X1),
        "status": "awaiting_upload",
        "reason": None,
        "sha256": None,
        "width": None,
        "height": None,
        "created_by": "ada@acme.example",
        "created_at": iso_in(0),
        "processed_at": None,
    } | changes


@pytest.fixture
def admin(stub: Stub) -> Stub:
    stub.api[("GET", "/me")] = ok(me(roles=("partner-admin",)))
    stub.api[("GET", "/content/brand")] = ok(brand(editable=True))
    return stub


def test_a_partner_admin_saves_the_brand_with_field_errors_shown(page: Page, admin: Stub, portal_url: str) -> None:
    saved = brand(display_name=HOSTILE, revision=1, updated_at=iso_in(0))
    admin.api[("PUT", "/content/brand")] = [
        error(
            400,
            "validation_error",
            "The brand profile is not valid.",
            [{"field": "website", "message": "Value error, must be an https URL such as https://www.example.com"}],
        ),
        ok(saved),
    ]
    admin.api[("GET", "/content/brand")] = [ok(brand(editable=True)), ok(saved | {"editable": True})]
    page.goto(f"{portal_url}#/organisation")
    form = page.get_by_test_id("brand-form")
    expect(page.locator("#brand_display_name")).to_have_value("Acme Networks")
    page.fill("#brand_display_name", "")
    expect(page.locator("#brand_display_name-error")).to_have_text("Enter the name kits show.")
    page.fill("#brand_display_name", HOSTILE)
    page.fill("#brand_website", "http://acme.example")
    expect(page.locator("#brand_website-error")).to_have_text("The website must start with https://.")
    page.fill("#brand_website", "https://acme.example")
    page.fill("#brand_contact_email", "not-an-email")
    expect(page.locator("#brand_contact_email-error")).to_contain_text("Enter an email address")
    page.fill("#brand_contact_email", "sales@acme.example")
    page.fill("#brand_line2", "Floor 2")
    page.fill("#brand_line1", "")
    expect(page.locator("#brand_line2-error")).to_have_text("Fill in line 1 first.")
    page.fill("#brand_line1", "1 Analytical Row")
    form.get_by_test_id("save-brand").click()
    expect(page.locator("#brand_website-error")).to_have_text("Must be an https URL such as https://www.example.com")
    expect(page.locator("#brand_website")).to_be_focused()
    form.get_by_test_id("save-brand").click()
    expect(page.get_by_test_id("brand-saved")).to_contain_text("Brand profile saved")
    expect(page.get_by_test_id("brand-display_name")).to_have_text(HOSTILE)  # as text, never markup
    expect(page.get_by_test_id("brand-profile").locator("img")).to_have_count(0)
    puts = admin.requests("PUT", "/content/brand")
    assert puts[-1].body == {
        "display_name": HOSTILE,
        "website": "https://acme.example",
        "contact_name": "Ada Lovelace",
        "contact_email": "sales@acme.example",
        "phone": "",
        "address": {"lines": ["1 Analytical Row", "Floor 2"], "city": "London", "postcode": "N1 9GU", "country": "GB"},
        "revision": 0,
    }
    assert UUID.match(puts[-1].headers["idempotency-key"])
    assert page.title() != "pwned"


def test_a_partner_admin_uploads_a_logo_with_a_preview(page: Page, admin: Stub, portal_url: str) -> None:
    data_uri = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()
    logo = {"upload_id": LOGO, "content_type": "image/png", "size_bytes": len(PNG_1X1), "sha256": "00" * 32}
    logo |= {"width": 1, "height": 1}
    admin.api[("POST", "/content/brand/logo")] = ok(
        {"logo": logo_upload(), "upload": {"url": BUCKET, "fields": {"key": f"logos/prt_01/{LOGO}", "policy": "p"}}},
        201,
    )
    admin.external[("POST", BUCKET)] = raw(204)
    admin.api[("GET", f"/content/brand/logo/{LOGO}")] = [
        ok(logo_upload()),  # not yet checked
        ok(logo_upload(status="ready", processed_at=iso_in(0))),
    ]
    admin.api[("GET", "/content/brand")] = [
        ok(brand(editable=True)),
        ok(brand(logo=logo | {"data_uri": data_uri}, revision=1, editable=True)),
    ]
    page.goto(f"{portal_url}#/organisation")
    form = page.get_by_test_id("logo-form")
    form.get_by_test_id("upload-logo").click()
    expect(page.locator("#brand_logo-error")).to_have_text("Choose a PNG or SVG file.")
    page.set_input_files("#brand_logo", {"name": "logo.gif", "mimeType": "image/gif", "buffer": b"GIF89a"})
    expect(page.locator("#brand_logo-error")).to_have_text("A logo is a PNG or an SVG file.")
    page.set_input_files("#brand_logo", {"name": "logo.png", "mimeType": "image/png", "buffer": PNG_1X1})
    expect(page.locator("#brand_logo-error")).to_be_hidden()
    expect(form.get_by_test_id("logo-preview-image")).to_have_attribute("src", data_uri)
    form.get_by_test_id("upload-logo").click()
    expect(page.get_by_test_id("brand-saved")).to_contain_text("Logo saved")
    expect(page.get_by_test_id("brand-logo-image")).to_have_attribute("src", data_uri)
    expect(page.get_by_test_id("brand-logo-facts")).to_have_text("PNG · 70 B · 1 \u00d7 1")
    post = admin.requests("POST", "/content/brand/logo")[0]
    assert post.body == {"content_type": "image/png", "size_bytes": len(PNG_1X1)}
    parts = admin.sent_to("POST", BUCKET)[0].multipart()
    assert [p.name for p in parts] == ["key", "policy", "file"] and parts[-1].data == PNG_1X1


def test_a_rejected_logo_says_why(page: Page, admin: Stub, portal_url: str) -> None:
    admin.api[("POST", "/content/brand/logo")] = ok(
        {"logo": logo_upload(), "upload": {"url": BUCKET, "fields": {"key": f"logos/prt_01/{LOGO}"}}}, 201
    )
    admin.external[("POST", BUCKET)] = raw(204)
    admin.api[("GET", f"/content/brand/logo/{LOGO}")] = ok(
        logo_upload(content_type="image/svg+xml", status="rejected", reason="the SVG has a DOCTYPE")
    )
    page.goto(f"{portal_url}#/organisation")
    page.set_input_files("#brand_logo", {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": b"<svg/>"})
    page.get_by_test_id("upload-logo").click()
    expect(page.locator("#brand_logo-error")).to_have_text("The logo was not accepted: the SVG has a DOCTYPE.")
    assert admin.requests("POST", "/content/brand/logo")[0].body == {"content_type": "image/svg+xml", "size_bytes": 6}


# ---------------------------------------------------------------------------------------------- vendor admin


def admin_asset(**changes: Any) -> dict[str, Any]:
    return {
        "asset_id": ASSET,
        "title": "Firewall 900 datasheet",
        "description": "Throughput, interfaces and licences.",
        "type": "document",
        "language": "en",
        "tags": ["firewall"],
        "product_skus": ["NET-FW-900"],
        "audience": {"min_tier_id": "gold", "regions": ["EMEA"], "partner_types": []},
        "publish_at": iso_in(-1),
        "expires_at": None,
        "status": "ready",
        "current_version": 1,
        "current": version(1),
        "pending_version": None,
        "latest_version": 1,
        "created_by": "content@vendor.example",
        "created_at": iso_in(-5),
        "updated_at": iso_in(-1),
        "revision": 1,
    } | changes


TIERS = {
    "version_id": "v1",
    "tiers": [
        {"tier_id": "registered", "name": "Registered"},
        {"tier_id": "silver", "name": "Silver"},
        {"tier_id": "gold", "name": "Gold"},
    ],
    "next_version": None,
}


@pytest.fixture
def vendor(stub: Stub) -> Stub:
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/periods")] = ok({"items": []})
    stub.api[("GET", "/programme/tiers")] = ok(TIERS)
    stub.api[("GET", "/content/admin/assets")] = ok({"items": [admin_asset()], "next_cursor": None})
    return stub


def test_vendor_admin_uploads_an_asset_and_follows_its_processing(page: Page, vendor: Stub, portal_url: str) -> None:
    created = admin_asset(status="draft", current_version=0, current=None, pending_version=1)
    pending = version(1, status="awaiting_upload", processed_at=None, sha256=None, pages=None)
    vendor.api[("POST", "/content/assets")] = [
        error(
            400,
            "validation_error",
            "The asset is not valid.",
            [{"field": "title", "message": "a title like this exists already"}],
        ),
        ok(
            {
                "asset": created,
                "version": pending,
                "upload": {"url": BUCKET, "fields": {"key": f"assets/{ASSET}/1/datasheet.pdf", "policy": "p"}},
            },
            201,
        ),
    ]
    vendor.external[("POST", BUCKET)] = raw(204)
    vendor.api[("GET", f"/content/assets/{ASSET}")] = [
        ok(created | {"versions": [pending | {"status": "processing"}]}),
        ok(admin_asset() | {"versions": [version(1)]}),
    ]
    page.goto(f"{portal_url}#/admin/content")
    expect(page.locator("#site-nav a")).to_contain_text(["Rewards admin", "Content admin"])
    expect(page.get_by_test_id("nav-content-admin")).to_have_attribute("aria-current", "page")
    row = page.locator(f"[data-testid=asset-row][data-asset-id={ASSET}]")
    expect(row.get_by_test_id("asset-status")).to_have_text("Ready")
    expect(row.get_by_test_id("asset-audience")).to_have_text("Gold and above; regions: EMEA")
    expect(row.get_by_test_id("asset-updated-at")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(page.locator("#asset_min_tier option")).to_have_text(["Every tier", "Registered", "Silver", "Gold"])

    page.get_by_test_id("upload-asset").click()
    expect(page.locator("#asset_title-error")).to_have_text("Give the asset a title.")
    expect(page.locator("#asset_file-error")).to_have_text("Choose the file to upload.")
    page.fill("#asset_title", "Firewall 900 datasheet")
    page.select_option("#asset_type", "image")
    page.set_input_files("#asset_file", {"name": "datasheet.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
    expect(page.locator("#asset_file-error")).to_have_text("A image is one of these files: .png, .jpg, .jpeg.")
    page.select_option("#asset_type", "document")
    expect(page.locator("#asset_file-error")).to_be_hidden()  # the type's change re-checks the file
    page.fill("#asset_tags", "Firewall")
    expect(page.locator("#asset_tags-error")).to_contain_text("is not a tag")
    page.fill("#asset_tags", "firewall, datasheet")
    page.fill("#asset_skus", "net-fw-900")
    page.select_option("#asset_min_tier", "gold")
    page.check("#asset_regions-EMEA")
    page.fill("#asset_expires_on", day_in(-1))
    expect(page.locator("#asset_expires_on-error")).to_contain_text("That day has passed")
    page.fill("#asset_expires_on", day_in(30))
    page.fill("#asset_notes", "First edition")
    page.get_by_test_id("upload-asset").click()
    expect(page.locator("#asset_title-error")).to_have_text("A title like this exists already")
    page.fill("#asset_title", "Firewall 900 datasheet (2027)")
    page.get_by_test_id("upload-asset").click()
    form = page.get_by_test_id("asset-form")
    expect(form.get_by_test_id("admin-result")).to_have_text(
        "\u201cFirewall 900 datasheet\u201d is uploaded and checked."
    )
    expect(form.get_by_test_id("upload-state")).to_contain_text("Version 1 is ready: PDF · 13 KB · 3 pages.")
    post = vendor.requests("POST", "/content/assets")[-1]
    assert post.body == {
        "title": "Firewall 900 datasheet (2027)",
        "description": "",
        "tags": ["firewall", "datasheet"],
        "product_skus": ["NET-FW-900"],
        "audience": {"min_tier_id": "gold", "regions": ["EMEA"], "partner_types": []},
        "expires_at": f"{day_in(30)}T23:59:59Z",
        "type": "document",
        "language": "en",
        "file": {
            "file_name": "datasheet.pdf",
            "content_type": "application/pdf",
            "size_bytes": 8,
            "notes": "First edition",
        },
    }
    assert UUID.match(post.headers["idempotency-key"])
    parts = vendor.sent_to("POST", BUCKET)[0].multipart()
    assert [p.name for p in parts] == ["key", "policy", "file"] and parts[-1].data == b"%PDF-1.4"
    expect(page.locator("#asset_title")).to_have_value("")  # the form starts over


def test_an_assets_skus_come_from_the_product_list(page: Page, vendor: Stub, portal_url: str) -> None:
    vendor.api[("GET", "/products")] = ok(PRODUCTS)
    page.goto(f"{portal_url}#/admin/content")
    expect(page.locator("#asset_skus-hint")).to_have_text(
        "Separated by commas, from the product list: NET-FW-100, NET-FW-900."
    )
    page.fill("#asset_title", "Firewall 900 datasheet")
    page.select_option("#asset_type", "document")
    page.set_input_files("#asset_file", {"name": "datasheet.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
    page.fill("#asset_skus", "net-fw-900, NET-FW-901")
    expect(page.locator("#asset_skus-error")).to_have_text(
        "\u201cNET-FW-901\u201d is not in the product list (NET-FW-100, NET-FW-900). Check the spelling, or add the"
        " product to the list first."
    )
    page.get_by_test_id("upload-asset").click()
    expect(page.locator("#asset_skus")).to_be_focused()
    assert vendor.requests("POST", "/content/assets") == []
    page.fill("#asset_skus", "net-fw-900, NET-FW-100")
    expect(page.locator("#asset_skus-error")).to_be_hidden()


def test_editing_keeps_an_assets_sku_the_product_list_no_longer_has(page: Page, vendor: Stub, portal_url: str) -> None:
    vendor.api[("GET", "/products")] = ok({"items": [{"sku": "NET-FW-100", "name": "Firewall 100", "family": "x"}]})
    vendor.api[("GET", f"/content/assets/{ASSET}")] = ok(admin_asset() | {"versions": [version(1)]})
    vendor.api[("GET", f"/content/assets/{ASSET}/downloads/summary")] = ok(
        {"asset_id": ASSET, "totals": {"downloads": 0, "previews": 0}, "partners": [], "versions": []}
    )
    vendor.api[("PATCH", f"/content/assets/{ASSET}")] = ok(admin_asset(revision=2))
    page.goto(f"{portal_url}#/admin/content/assets/{ASSET}")
    expect(page.locator("#edit_skus")).to_have_value("NET-FW-900")  # admin_asset carries it; the list does not
    page.fill("#edit_skus", "NET-FW-900, NET-FW-101")
    expect(page.locator("#edit_skus-error")).to_contain_text(
        "\u201cNET-FW-101\u201d is not in the product list (NET-FW-100)"
    )
    page.fill("#edit_skus", "NET-FW-900, NET-FW-100")
    page.get_by_test_id("save-asset").click()
    expect(page.locator("#edit_skus-error")).to_be_hidden()
    [patch] = vendor.requests("PATCH", f"/content/assets/{ASSET}")
    assert patch.body["product_skus"] == ["NET-FW-900", "NET-FW-100"]


def test_a_rejected_file_is_reported_with_its_reason(page: Page, vendor: Stub, portal_url: str) -> None:
    created = admin_asset(status="draft", current_version=0, current=None, pending_version=1, type="image")
    pending = version(1, file_name="logo.png", content_type="image/png", status="awaiting_upload")
    vendor.api[("POST", "/content/assets")] = ok(
        {"asset": created, "version": pending, "upload": {"url": BUCKET, "fields": {"key": "k"}}}, 201
    )
    vendor.external[("POST", BUCKET)] = raw(204)
    vendor.api[("GET", f"/content/assets/{ASSET}")] = ok(
        created | {"versions": [pending | {"status": "rejected", "reason": "is not a valid PNG file"}]}
    )
    page.goto(f"{portal_url}#/admin/content")
    page.fill("#asset_title", "Logo pack")
    page.select_option("#asset_type", "image")
    page.set_input_files("#asset_file", {"name": "logo.png", "mimeType": "image/png", "buffer": b"not a png"})
    page.get_by_test_id("upload-asset").click()
    expect(page.get_by_test_id("asset-form").get_by_test_id("upload-state")).to_have_text(
        "Version 1 was rejected: is not a valid PNG file. Upload another file."
    )


def test_the_asset_list_filters_by_status(page: Page, vendor: Stub, portal_url: str) -> None:
    expired = admin_asset(asset_id=ASSET_2, title="Old price list", status="expired", expires_at=iso_in(-1))
    vendor.api[("GET", "/content/admin/assets")] = [
        ok({"items": [admin_asset()], "next_cursor": None}),
        ok({"items": [expired], "next_cursor": None}),
    ]
    page.goto(f"{portal_url}#/admin/content")
    page.select_option("#status_filter", "expired")
    row = page.locator(f"[data-testid=asset-row][data-asset-id={ASSET_2}]")
    expect(row.get_by_test_id("asset-status")).to_have_text("Expired")
    expect(row.get_by_test_id("asset-expires-at")).to_be_visible()
    assert vendor.requests("GET", "/content/admin/assets")[-1].query == {"status": "expired", "limit": "25"}


def test_an_assets_page_shows_versions_takes_a_new_one_and_its_downloads(
    page: Page, vendor: Stub, portal_url: str
) -> None:
    versions = [version(2, status="rejected", reason="is not a valid PDF file", notes="Bad scan"), version(1)]
    vendor.api[("GET", f"/content/assets/{ASSET}")] = [
        ok(admin_asset() | {"versions": versions}),
        ok(admin_asset(pending_version=3) | {"versions": [version(3, status="processing"), *versions]}),
        ok(admin_asset(current_version=3, current=version(3)) | {"versions": [version(3, notes="New prices")]}),
        ok(admin_asset(current_version=3, current=version(3)) | {"versions": [version(3, notes="New prices")]}),
    ]
    vendor.api[("GET", f"/content/assets/{ASSET}/downloads/summary")] = ok(
        {
            "asset_id": ASSET,
            "totals": {"downloads": 7, "previews": 2},
            "partners": [
                {
                    "partner_id": "prt_01",
                    "company_name": "Acme Networks",
                    "downloads": 5,
                    "previews": 2,
                    "last_at": iso_in(-1),
                }
            ],
            "versions": [{"version": 1, "downloads": 7, "previews": 2}],
        }
    )
    vendor.api[("POST", f"/content/assets/{ASSET}/versions")] = ok(
        {"version": version(3, status="awaiting_upload"), "upload": {"url": BUCKET, "fields": {"key": "k"}}}, 201
    )
    vendor.external[("POST", BUCKET)] = raw(204)
    vendor.api[("PATCH", f"/content/assets/{ASSET}")] = error(409, "stale_revision", "The asset changed meanwhile.")
    page.goto(f"{portal_url}#/admin/content/assets/{ASSET}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Firewall 900 datasheet")
    expect(page.get_by_test_id("nav-content-admin")).to_have_attribute("aria-current", "true")
    rejected = page.locator("[data-testid=version-row][data-version='2']")
    expect(rejected.get_by_test_id("version-status")).to_have_text("Rejected")
    expect(rejected.get_by_test_id("version-reason")).to_have_text("is not a valid PDF file")
    expect(page.get_by_test_id("asset-audience")).to_have_text("Gold and above; regions: EMEA")
    expect(page.get_by_test_id("summary-totals")).to_have_text("7 downloads and 2 previews in all.")
    acme = page.locator("[data-testid=summary-partner-row][data-partner-id=prt_01]")
    expect(acme.get_by_test_id("summary-downloads")).to_have_text("5")

    page.get_by_test_id("upload-version").click()
    expect(page.locator("#version_notes-error")).to_have_text("Say what changed.")
    page.set_input_files(
        "#version_file", {"name": "datasheet-v3.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7"}
    )
    page.fill("#version_notes", "New prices")
    page.get_by_test_id("upload-version").click()
    expect(page.locator("[data-testid=version-row][data-version='3']").get_by_test_id("version-notes")).to_have_text(
        "New prices"
    )
    post = vendor.requests("POST", f"/content/assets/{ASSET}/versions")[0]
    assert post.body == {
        "file_name": "datasheet-v3.pdf",
        "content_type": "application/pdf",
        "size_bytes": 8,
        "notes": "New prices",
    }

    page.fill("#edit_title", "Firewall 900 datasheet 2027")
    page.get_by_test_id("save-asset").click()
    expect(page.get_by_test_id("invalid-state")).to_contain_text("The asset changed meanwhile.")
    patch = vendor.requests("PATCH", f"/content/assets/{ASSET}")[0]
    assert patch.body["title"] == "Firewall 900 datasheet 2027" and patch.body["revision"] == 1


def test_a_vendor_admin_takes_an_asset_down_after_confirming(page: Page, vendor: Stub, portal_url: str) -> None:
    vendor.api[("GET", f"/content/assets/{ASSET}")] = [
        ok(admin_asset(revision=4) | {"versions": [version(1)]}),
        ok(admin_asset(revision=5, status="expired", expires_at=iso_in(0)) | {"versions": [version(1)]}),
    ]
    vendor.api[("GET", f"/content/assets/{ASSET}/downloads/summary")] = ok(
        {"asset_id": ASSET, "totals": {"downloads": 0, "previews": 0}, "partners": [], "versions": []}
    )
    vendor.api[("POST", f"/content/assets/{ASSET}/take-down")] = ok(admin_asset(revision=5, status="expired"))
    page.goto(f"{portal_url}#/admin/content/assets/{ASSET}")
    page.get_by_test_id("take-down").click()
    assert vendor.requests("POST", f"/content/assets/{ASSET}/take-down") == []  # the first click only asks
    page.get_by_test_id("take-down-confirm").click()
    expect(page.get_by_test_id("take-down")).to_have_count(0)  # reloaded: an expired asset has nothing to take down
    [post] = vendor.requests("POST", f"/content/assets/{ASSET}/take-down")
    assert post.body == {"revision": 4}


def test_stats_and_the_csv_export(page: Page, vendor: Stub, portal_url: str) -> None:
    export_url = "https://content-bucket.s3.amazonaws.com/exports/exp_1.csv"
    vendor.api[("GET", "/content/stats")] = ok(
        {
            "items": [
                {"asset_id": ASSET, "title": HOSTILE, "downloads": 12, "previews": 3, "last_at": iso_in(-1)},
            ],
            "next_cursor": None,
        }
    )
    vendor.api[("POST", "/content/exports")] = ok(
        {"export_id": "exp_1", "url": export_url, "expires_in": 300, "rows": 15, "truncated": False}, 201
    )
    page.goto(f"{portal_url}#/admin/content/stats")
    row = page.locator(f"[data-testid=stats-row][data-asset-id={ASSET}]")
    expect(row.get_by_test_id("stats-title")).to_have_text(HOSTILE)
    expect(row.get_by_test_id("stats-downloads")).to_have_text("12")
    expect(row.get_by_test_id("stats-last")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    page.fill("#export_asset", "ast_nope")
    expect(page.locator("#export_asset-error")).to_contain_text("An asset ID looks like")
    page.fill("#export_asset", ASSET)
    page.fill("#export_from", day_in(-30))
    page.fill("#export_to", day_in(-31))
    expect(page.locator("#export_to-error")).to_have_text("The end comes before the start.")
    page.fill("#export_to", day_in(0))
    page.get_by_test_id("export-csv").click()
    expect(page.get_by_test_id("export-form").get_by_test_id("admin-result")).to_have_text(
        "The export is ready: 15 download records."
    )
    expect(page.get_by_test_id("export-download")).to_have_attribute("href", export_url)
    post = vendor.requests("POST", "/content/exports")[0]
    assert post.body == {"asset_id": ASSET, "from": f"{day_in(-30)}T00:00:00Z", "to": f"{day_in(0)}T23:59:59Z"}


def test_vendor_admin_creates_and_edits_a_kit(page: Page, vendor: Stub, portal_url: str) -> None:
    vendor.api[("GET", "/content/kits")] = ok({"items": [kit(status="draft")]})
    vendor.api[("POST", "/content/kits")] = [
        error(
            400,
            "validation_error",
            "The kit is not valid.",
            [{"field": "template.html", "message": "Value error, unknown placeholder {{partner.fax}}"}],
        ),
        ok(kit(kit_id="kit_" + "9" * 26, name="Spring launch"), 201),
    ]
    vendor.api[("PATCH", f"/content/kits/{KIT}")] = ok(kit(status="published", revision=2))
    page.goto(f"{portal_url}#/admin/content/kits")
    row = page.locator(f"[data-testid=kit-row][data-kit-id={KIT}]")
    expect(row.get_by_test_id("kit-status")).to_have_text("Draft")
    expect(row.get_by_test_id("kit-updated-at")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    page.fill("#kit_name", "Spring launch")
    page.fill("#kit_html", "<p>Hello {{partner.nme}}</p>")
    expect(page.locator("#kit_html-error")).to_have_text("Unknown placeholder: {{partner.nme}}.")
    page.fill("#kit_html", "<p>Hello {{partner.name}}</p>{{partner.logo}}")
    page.get_by_test_id("save-kit").click()
    expect(page.locator("#kit_subject-error")).to_have_text("An email needs a subject.")
    page.fill("#kit_subject", "Spring is here")
    page.check(f"#kit_assets-{ASSET}")
    page.check("#kit_pdf")
    page.get_by_test_id("save-kit").click()
    expect(page.locator("#kit_pdf_headline-error")).to_have_text("Give the PDF a headline.")
    page.fill("#kit_pdf_headline", "Spring with {{partner.name}}")
    page.select_option("#kit_status", "published")
    page.get_by_test_id("save-kit").click()
    expect(page.locator("#kit_html-error")).to_have_text("Unknown placeholder {{partner.fax}}")
    expect(page.locator("#kit_html")).to_be_focused()
    page.get_by_test_id("save-kit").click()
    expect(page.get_by_test_id("kit-form").get_by_test_id("admin-result")).to_have_text(
        "Created \u201cSpring launch\u201d (published)."
    )
    first, post = vendor.requests("POST", "/content/kits")
    assert first.body == post.body and first.headers["idempotency-key"] == post.headers["idempotency-key"]
    assert post.body == {
        "name": "Spring launch",
        "description": "",
        "campaign": "",
        "asset_ids": [ASSET],
        "audience": {"min_tier_id": None, "regions": [], "partner_types": []},
        "template": {
            "kind": "email",
            "html": "<p>Hello {{partner.name}}</p>{{partner.logo}}",
            "subject": "Spring is here",
            "pdf": {"enabled": True, "headline": "Spring with {{partner.name}}", "body": ""},
        },
        "status": "published",
    }
    row.get_by_test_id("edit-kit").click()
    expect(page.get_by_test_id("kit-form-mode")).to_have_text("Edit Firewall 900 launch")
    expect(page.locator("#kit_subject")).to_have_value("Meet the Firewall 900")
    page.select_option("#kit_status", "published")
    page.get_by_test_id("save-kit").click()
    expect(page.get_by_test_id("kit-form").get_by_test_id("admin-result")).to_have_text(
        "Saved \u201cFirewall 900 launch\u201d (published)."
    )
    patch = vendor.requests("PATCH", f"/content/kits/{KIT}")[0]
    assert patch.body["revision"] == 1 and patch.body["status"] == "published"
    assert patch.body["template"]["pdf"] is None


def test_partners_never_reach_the_vendor_pages(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/admin/content")
    expect(page.get_by_test_id("not-vendor-admin")).to_be_visible()
    assert stub.requests("GET", "/content/admin/assets") == []


def test_a_refused_upload_keeps_the_draft_and_says_where_to_send_the_file_again(
    page: Page, vendor: Stub, portal_url: str
) -> None:
    created = admin_asset(status="draft", current_version=0, current=None, pending_version=1)
    vendor.api[("POST", "/content/assets")] = ok(
        {"asset": created, "version": version(1, status="awaiting_upload"), "upload": {"url": BUCKET, "fields": {}}},
        201,
    )
    vendor.external[("POST", BUCKET)] = raw(
        403, "<Error><Code>AccessDenied</Code><Message>Policy expired</Message></Error>"
    )
    page.goto(f"{portal_url}#/admin/content")
    page.fill("#asset_title", "Price list")
    page.select_option("#asset_type", "document")
    page.set_input_files("#asset_file", {"name": "prices.csv", "mimeType": "text/csv", "buffer": b"sku,price\n"})
    page.get_by_test_id("upload-asset").click()
    state = page.get_by_test_id("asset-form").get_by_test_id("upload-state")
    expect(state).to_contain_text("The file was not stored. The upload link expired. Try again.")
    expect(state.get_by_test_id("upload-state-link")).to_have_attribute("href", f"#/admin/content/assets/{ASSET}")
    assert vendor.requests("GET", f"/content/assets/{ASSET}") == []  # nothing to follow: the file never arrived
    assert vendor.requests("POST", "/content/assets")[0].body["file"]["content_type"] == "text/csv"
