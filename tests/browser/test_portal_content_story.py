"""The content library in headless Chromium against the local stack, as a vendor's content manager and partners'
marketers use it: the vendor admin uploads a datasheet for Gold partners on #/admin/content (its SKU checked against
the product list as typed; the file goes straight to the bucket by presigned POST; the page follows the processing
until the file is checked); a Gold partner finds it by search on #/content and downloads it (a new tab on the
short-lived link); a Silver partner's search finds nothing; the Gold partner's admin sets the brand profile and
uploads a logo on #/organisation; the vendor admin publishes a kit for Gold partners on #/admin/content/kits; the
Gold partner generates the organisation's copy and sees its own name and logo in the sandboxed preview."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from infrastructure.local.people import People
from infrastructure.local.seed_content import logo_mark, pdf_document
from tests.e2e.test_content_story import gold_partner, silver_partner
from tests.e2e.test_training_tiers_story import programme
from tests.support.browser import new_page
from tests.support.partners import PASSWORD, VENDOR_PASSWORD, vendor_admin

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/#/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def search_until(page: Page, word: str, found: bool, timeout: float = 60.0) -> None:
    """Search the library for `word` until a card appears (the index learns of a publication from the bus); with
    `found=False`, search once the Gold partner found it and expect nothing."""
    deadline = time.monotonic() + timeout
    while True:
        page.fill("#content_q", word)
        page.get_by_test_id("library-search-submit").click()
        cards = page.get_by_test_id("asset-card")
        expect(cards.first.or_(page.get_by_test_id("library-empty"))).to_be_visible()
        if not found or cards.count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{word} never appeared in the library")
        page.wait_for_timeout(500)


def test_gold_finds_and_downloads_silver_cannot_and_gold_brands_its_kit(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    catalogue = programme(people, name="Content browser LMS")
    tag = uuid.uuid4().hex[:6]
    gold = gold_partner(people, catalogue, f"Gold Browser {tag}")
    silver = silver_partner(people, catalogue, f"Silver Browser {tag}")
    vendor = vendor_admin(people, name="Content Manager")
    # the datasheet's product is on deals' product list (the upload form checks SKUs against it)
    added = people.api(
        "POST", "/products", session=vendor, json={"sku": "NET-FW-900", "name": "Firewall 900", "family": "Security"}
    )
    assert added.status_code in (201, 409), added.text
    admin, marketer, other = new_page(chromium), new_page(chromium), new_page(chromium)
    console: list[str] = []
    for p in (admin, marketer, other):
        p.on(
            "console",
            lambda msg: (
                console.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
    word = f"Nebula{tag}"
    title = f"{word} Gold launch datasheet"

    # ------------------------------------------------------------ the vendor admin uploads an asset for Gold partners
    sign_in(admin, base, vendor.email, VENDOR_PASSWORD)
    expect(admin).to_have_url(re.compile(r"#/admin/mdf"))
    admin.get_by_test_id("nav-content-admin").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Content library")
    form = admin.get_by_test_id("asset-form")
    form.locator("#asset_title").fill(title)
    form.locator("#asset_description").fill("The launch datasheet, Gold partners first.")
    form.locator("#asset_type").select_option("document")
    form.locator("#asset_tags").fill("launch, datasheet")
    form.locator("#asset_skus").fill("NET-FW-90")  # a typo
    expect(form.locator("#asset_skus-error")).to_contain_text("\u201cNET-FW-90\u201d is not in the product list")
    form.locator("#asset_skus").fill("NET-FW-900")
    expect(form.locator("#asset_skus-error")).to_be_hidden()
    form.locator("#asset_min_tier").select_option("gold")
    content = pdf_document(f"{word} datasheet", [["100 Gbps"], ["Licences"]])
    form.locator("#asset_file").set_input_files(
        {"name": f"{word.lower()}.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    form.locator("#asset_notes").fill("First edition.")
    admin.get_by_test_id("upload-asset").click()
    expect(form.get_by_test_id("upload-state")).to_contain_text("Version 1 is ready: PDF", timeout=90_000)
    expect(form.get_by_test_id("admin-result")).to_have_text(f"\u201c{title}\u201d is uploaded and checked.")
    row = admin.get_by_test_id("asset-row").filter(has_text=title)
    expect(row.get_by_test_id("asset-status")).to_have_text("Ready")
    expect(row.get_by_test_id("asset-audience")).to_have_text("Gold and above")

    # ------------------------------------------------------------ the Gold partner finds it and downloads it
    sign_in(marketer, base, gold.session.email, PASSWORD)
    expect(marketer.get_by_test_id("header-org-name")).to_have_text(gold.company)
    marketer.get_by_test_id("nav-content").click()
    expect(marketer).to_have_url(re.compile(r"#/content"))
    search_until(marketer, word.lower(), found=True)
    card = marketer.get_by_test_id("asset-card").filter(has_text=title)
    expect(card.get_by_test_id("asset-tier")).to_have_text("For Gold partners and above")
    expect(card.get_by_test_id("asset-facts")).to_contain_text("PDF")
    expect(card.get_by_test_id("asset-version")).to_contain_text("Version 1")
    fetched: list[tuple[str, int]] = []  # the bucket's answers to the browser (an attachment: the tab downloads it)
    marketer.context.on(
        "response",
        lambda r: fetched.append((r.url, r.status)) if "/assets/ast_" in r.url and "/content/" not in r.url else None,
    )
    with marketer.expect_popup():
        card.get_by_test_id("asset-download").click()
    expect(card.get_by_test_id("asset-link-state")).to_have_text(f"Opened {word.lower()}.pdf (version 1) in a new tab.")
    deadline = time.monotonic() + 20
    while not fetched and time.monotonic() < deadline:
        marketer.wait_for_timeout(200)
    [(url, status)] = fetched
    assert status == 200 and re.search(rf"/assets/ast_[0-9a-f]{{24}}/1/{word.lower()}\.pdf\?", url), fetched

    # ------------------------------------------------------------ the Silver partner's search finds nothing
    sign_in(other, base, silver.session.email, PASSWORD)
    expect(other.get_by_test_id("header-org-name")).to_have_text(silver.company)
    other.get_by_test_id("nav-content").click()
    search_until(other, word.lower(), found=False)
    expect(other.get_by_test_id("library-empty")).to_contain_text("Nothing in the library matches your search.")

    # ------------------------------------------------------------ the Gold partner's admin sets the brand and a logo
    display = f"{gold.company} Cloud & Co"
    marketer.get_by_test_id("nav-organisation").click()
    brand = marketer.get_by_test_id("brand-form")
    brand.locator("#brand_display_name").fill(display)
    brand.locator("#brand_website").fill(f"https://www.gold-{tag}.example")
    brand.locator("#brand_contact_name").fill("Ada Lovelace")
    marketer.get_by_test_id("save-brand").click()
    expect(marketer.get_by_test_id("brand-saved")).to_contain_text("Brand profile saved")
    expect(marketer.get_by_test_id("brand-display_name")).to_have_text(display)
    marketer.locator("#brand_logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": logo_mark((200, 30, 30))}
    )
    expect(marketer.get_by_test_id("logo-preview-image")).to_be_visible()
    marketer.get_by_test_id("upload-logo").click()
    expect(marketer.get_by_test_id("brand-saved")).to_contain_text("Logo saved", timeout=60_000)
    expect(marketer.get_by_test_id("brand-logo-image")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))

    # ------------------------------------------------------------ the vendor admin publishes a kit for Gold partners
    kit_name = f"Nebula launch kit {tag}"
    admin.get_by_test_id("content-tab-kits").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Co-branded kits")
    kit = admin.get_by_test_id("kit-form")
    kit.locator("#kit_name").fill(kit_name)
    kit.locator("#kit_campaign").fill("Nebula launch")
    kit.locator("#kit_min_tier").select_option("gold")
    kit.locator("#kit_subject").fill("News from {{partner.name}}")
    kit.locator("#kit_html").fill("<h1 id=partner-name>{{partner.name}}</h1><p>{{partner.logo}}</p>")
    kit.locator("#kit_status").select_option("published")
    kit.locator("#kit_assets label").filter(has_text=title).click()  # the datasheet, ready since the upload
    admin.get_by_test_id("save-kit").click()
    expect(kit.get_by_test_id("admin-result")).to_have_text(f"Created \u201c{kit_name}\u201d (published).")
    expect(admin.get_by_test_id("kit-row").filter(has_text=kit_name).get_by_test_id("kit-status")).to_have_text(
        "Published"
    )

    # ------------------------------------------------------------ the Gold partner generates its copy and sees itself
    marketer.get_by_test_id("nav-content").click()
    kit_card = marketer.get_by_test_id("kit-card").filter(has_text=kit_name)
    kit_card.get_by_test_id("kit-generate").click()
    expect(kit_card.get_by_test_id("kit-state")).to_have_text("Your copy is ready.", timeout=30_000)
    expect(kit_card.get_by_test_id("kit-preview")).to_have_attribute("sandbox", "")
    preview = kit_card.frame_locator("[data-testid=kit-preview]")
    expect(preview.locator("#partner-name")).to_have_text(display)
    expect(preview.locator("img.partner-logo")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(kit_card.get_by_test_id("kit-subject")).to_have_text(f"Subject: News from {display}")
    expect(kit_card.get_by_test_id("kit-file").first).to_have_attribute("href", re.compile(r"^https?://"))

    # the Silver partner never sees the Gold kit
    other.reload()
    expect(other.get_by_test_id("kits-empty").or_(other.get_by_test_id("kit-card").first)).to_be_visible()
    expect(other.get_by_test_id("kit-card").filter(has_text=kit_name)).to_have_count(0)

    for p in (admin, marketer, other):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
    assert console == []
