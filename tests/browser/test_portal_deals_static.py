"""Browser tests of the portal's deal registration pages (#/deals, #/deals/new, #/deals/{id}) with no backend: the
stub in tests/support/portal_stub.py answers /config.json and the API from canned responses and records every
request (keyed by method and path without the query; each recorded call carries its parsed query)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PARTNER_NAV
from tests.support.portal_stub import (
    ABORT,
    UUID,
    Call,
    Stub,
    error,
    ok,
    partner_api,
)

pytestmark = pytest.mark.browser

DEAL_ID = "deal_01JDEAL"
PRODUCTS = [
    {"sku": "NET-FW-100", "name": "Firewall 100", "family": "Security"},
    {"sku": "NET-FW-400", "name": "Firewall 400", "family": "Security"},
    {"sku": "NET-SW-24", "name": "Switch 24-port", "family": "Switching"},
    {"sku": "NET-SW-48", "name": "Switch 48-port", "family": "Switching"},
    {"sku": "NET-AP-6", "name": "Access Point 6E", "family": "Wireless"},
]


def future_day(days: int = 60) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def iso_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def stub(portal_url: str) -> Stub:
    stub = Stub(base=portal_url, api=partner_api())
    stub.api[("GET", "/products")] = ok({"items": PRODUCTS})
    return stub


# ---------------------------------------------------------------------------------------------- data


def summary(deal_id: str, company: str, status: str, **extra: Any) -> dict[str, Any]:
    domain = re.sub(r"[^a-z]", "", company.lower()) + ".example"
    return {
        "deal_id": deal_id,
        "status": status,
        "prospect": {"company_name": company, "domain": domain},
        "estimated_value": {"amount_minor": 12000000, "currency": "USD"},
        "expected_close_date": future_day(90),
        "submitted_at": "2026-11-26T16:00:00.000Z",
        "protection_ends_at": None,
        "next_step": "Channel team review",
        "next_step_due": "2026-12-03",
        **extra,
    }


def deal(status: str = "approved", **extra: Any) -> dict[str, Any]:
    approved = status not in {"submitted", "under_review", "rejected"}
    timeline = [
        {"at": "2026-11-26T16:00:00.000Z", "status": "submitted", "note": "Registered by ada@acme.example"},
        {"at": "2026-11-27T09:00:00.000Z", "status": "under_review", "note": None},
    ]
    if approved:
        timeline.append({"at": "2026-11-28T10:30:00.000Z", "status": "approved", "note": "Welcome opportunity."})
    return {
        **summary(DEAL_ID, "Globex Ltd", status),
        "prospect": {
            "company_name": "Globex Ltd",
            "domain": "globex.co.uk",
            "website": "https://www.globex.co.uk",
            "country": "GB",
            "contact": {"name": "Hank Scorpio", "email": "hank@globex.co.uk", "title": "CTO"},
        },
        "protection_ends_at": iso_in(30 - 1 / 24) if approved else None,
        "next_step": "Update the pipeline stage" if approved else "Channel team review",
        "products": ["NET-FW-100", "NET-SW-48"],
        "description": "Branch firewall refresh, 40 sites.",
        "stage": "qualification" if approved else None,
        "extensions_used": 1,
        "max_extensions": 2,
        "extension_pending": False,
        "decision_reason": "Welcome opportunity." if approved else None,
        "won": None,
        "lost_reason": None,
        "timeline": timeline,
        **extra,
    }


def fill_registration(page: Page, *, amount: str = "120000", currency: str = "USD") -> None:
    page.fill("#prospect_company_name", "Globex Ltd")
    page.fill("#prospect_website", "https://www.globex.co.uk")
    page.select_option("#prospect_country", "GB")
    page.fill("#contact_name", "Hank Scorpio")
    page.fill("#contact_email", "hank@globex.co.uk")
    page.fill("#contact_title", "CTO")
    page.check("input[name=products][value=NET-FW-100]")
    page.fill("#value_amount", amount)
    page.select_option("#value_currency", currency)
    page.fill("#expected_close_date", future_day())
    page.fill("#description", "Branch firewall refresh, 40 sites.")


RECEIPT = {
    "deal_id": DEAL_ID,
    "status": "submitted",
    "submitted_at": "2026-11-26T16:00:00.000Z",
    "prospect_key": {"domain": "globex.co.uk", "company": "globex"},
}


# ---------------------------------------------------------------------------------------------- register


def test_register_form_validates_as_you_type(page: Page, stub: Stub, portal_url: str) -> None:
    many = [{"sku": f"SKU-{i:02d}", "name": f"Product {i}", "family": "Bundle"} for i in range(22)]
    stub.api[("GET", "/products")] = ok({"items": many})
    page.goto(f"{portal_url}#/deals/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a deal")
    expect(page.get_by_test_id("nav-deals")).to_have_attribute("aria-current", "true")  # the section stays current

    website, website_error = page.locator("#prospect_website"), page.locator("#prospect_website-error")
    website.press_sequentially("not a domain")
    expect(website_error).to_contain_text("example.com")
    expect(website).to_have_attribute("aria-invalid", "true")
    page.fill("#prospect_website", "globex.co.uk")
    expect(website_error).to_be_hidden()

    page.locator("#contact_email").press_sequentially("hank@")
    expect(page.locator("#contact_email-error")).to_contain_text("email address")
    page.locator("#contact_email").press_sequentially("globex.co.uk")
    expect(page.locator("#contact_email-error")).to_be_hidden()

    page.fill("#value_amount", "1.234")
    expect(page.locator("#value_amount-error")).to_have_text("USD amounts have at most 2 decimal places.")
    page.select_option("#value_currency", "JPY")  # the currency decides the decimals: re-validated
    expect(page.locator("#value_amount-error")).to_have_text("JPY amounts have no decimal places.")
    page.fill("#value_amount", "1500")
    expect(page.locator("#value_amount-error")).to_be_hidden()
    expect(page.get_by_test_id("value-preview")).to_contain_text("1,500")

    page.fill("#expected_close_date", "2020-01-31")
    expect(page.locator("#expected_close_date-error")).to_have_text("The expected close date must be in the future.")
    page.fill("#expected_close_date", datetime.now(UTC).date().isoformat())  # today is not the future
    expect(page.locator("#expected_close_date-error")).to_be_visible()
    page.fill("#expected_close_date", future_day())
    expect(page.locator("#expected_close_date-error")).to_be_hidden()
    expect(page.locator("#expected_close_date")).to_have_attribute("min", re.compile(r"^\d{4}-\d{2}-\d{2}$"))

    counter = page.get_by_test_id("description-count")
    expect(counter).to_have_text("0 / 2000")
    page.fill("#description", "é" * 2001)  # code points, as the API counts them
    expect(counter).to_have_text("2001 / 2000")
    expect(page.locator("#description-error")).to_contain_text("2000 characters or fewer")
    page.fill("#description", "Branch firewall refresh.")
    expect(counter).to_have_text("24 / 2000")
    expect(page.locator("#description-error")).to_be_hidden()

    for i in range(21):
        page.check(f"input[name=products][value=SKU-{i:02d}]")
    expect(page.locator("#products-error")).to_have_text("Choose at most 20 products (now 21).")
    page.uncheck("input[name=products][value=SKU-00]")
    expect(page.locator("#products-error")).to_be_hidden()
    for i in range(1, 21):
        page.uncheck(f"input[name=products][value=SKU-{i:02d}]")
    expect(page.locator("#products-error")).to_have_text("Choose at least one product.")

    page.click("button[type=submit]")
    for field_id in ("prospect_company_name", "prospect_country", "contact_name", "products"):
        expect(page.locator(f"#{field_id}-error")).to_be_visible()
    expect(page.locator("#contact_title-error")).to_be_hidden()  # optional
    expect(page.locator("#prospect_company_name")).to_be_focused()
    expect(page.get_by_test_id("form-error")).to_contain_text("correct the highlighted fields")
    assert stub.requests("POST", "/deals") == []


def test_register_maps_server_field_errors_by_dotted_path(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/deals")] = [
        error(
            400,
            "validation_error",
            "Request body is invalid.",
            [
                {"field": "prospect.website", "message": "Value error, not a public domain"},
                {"field": "prospect.contact.email", "message": "value is not a valid email address"},
                {"field": "products.0", "message": "unknown product NET-FW-100"},
                {"field": "estimated_value.amount_minor", "message": "must be at most 10^15"},
                {"field": "expected_close_date", "message": "must be in the future"},
            ],
        ),
        error(
            409,
            "duplicate_registration",
            "You already registered this prospect.",
            [{"field": "prospect.company_name", "message": "Globex Ltd is already registered by you"}],
        ),
        ok(RECEIPT, 201),
    ]
    page.goto(f"{portal_url}#/deals/new")
    fill_registration(page)
    page.click("button[type=submit]")
    expect(page.locator("#prospect_website-error")).to_have_text("Not a public domain")
    expect(page.locator("#contact_email-error")).to_have_text("Value is not a valid email address")
    expect(page.locator("#products-error")).to_have_text("Unknown product NET-FW-100")
    expect(page.locator("#value_amount-error")).to_have_text("Must be at most 10^15")
    expect(page.locator("#expected_close_date-error")).to_have_text("Must be in the future")
    expect(page.locator("#prospect_website")).to_be_focused()
    expect(page.get_by_test_id("form-error")).to_have_text("Please correct the highlighted fields.")

    page.fill("#prospect_website", "globex.co.uk")  # editing a field clears its server error, not the others
    expect(page.locator("#prospect_website-error")).to_be_hidden()
    expect(page.locator("#value_amount-error")).to_be_visible()
    page.check("input[name=products][value=NET-FW-400]")  # so does editing the products group
    expect(page.locator("#products-error")).to_be_hidden()

    page.click("button[type=submit]")
    expect(page.locator("#prospect_company_name-error")).to_have_text("Globex Ltd is already registered by you")
    expect(page.get_by_test_id("form-error")).to_contain_text("already has a pending or approved registration")

    page.fill("#prospect_company_name", "Globex Holdings")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("deal-receipt-id")).to_have_text(DEAL_ID)
    keys = {c.headers["idempotency-key"] for c in stub.requests("POST", "/deals")}
    assert len(keys) == 3  # a changed body gets a fresh key


def test_register_sends_exact_money_once_and_shows_the_prospect_key(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/deals")] = ok(RECEIPT, 201)
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal("submitted"))
    stub.api[("GET", "/deals")] = ok({"items": [], "next_cursor": None})
    page.goto(f"{portal_url}#/deals")
    page.get_by_test_id("register-deal").first.click()
    expect(page).to_have_url(re.compile(r"#/deals/new$"))
    fill_registration(page, amount="1,000,004.35", currency="EUR")  # 1000004.35 * 100 is not exact in binary
    page.fill("#contact_title", "")
    expect(page.get_by_test_id("value-preview")).to_contain_text("1,000,004.35")
    # A double click (and a second programmatic submit) while the first request is in flight sends once.
    page.evaluate(
        """() => {
            const button = document.querySelector('[data-testid=deal-form] button[type=submit]');
            button.click();
            button.click();
            button.form.requestSubmit();
        }"""
    )
    expect(page.get_by_test_id("deal-receipt-id")).to_have_text(DEAL_ID)
    expect(page.get_by_test_id("deal-receipt-domain")).to_have_text("globex.co.uk")
    expect(page.get_by_test_id("deal-receipt-company")).to_have_text("globex")
    submitted = page.get_by_test_id("deal-receipt-submitted-at")
    expect(submitted).to_have_attribute("datetime", "2026-11-26T16:00:00.000Z")
    expect(submitted).to_contain_text("16:00")
    expect(submitted).to_contain_text("UTC")

    (call,) = stub.requests("POST", "/deals")
    assert call.body == {
        "prospect": {
            "company_name": "Globex Ltd",
            "website": "https://www.globex.co.uk",
            "country": "GB",
            "contact": {"name": "Hank Scorpio", "email": "hank@globex.co.uk"},  # an empty title is left out
        },
        "products": ["NET-FW-100"],
        "estimated_value": {"amount_minor": 100000435, "currency": "EUR"},
        "expected_close_date": future_day(),
        "description": "Branch firewall refresh, 40 sites.",
    }
    assert UUID.match(call.headers["idempotency-key"])
    assert call.headers["authorization"].startswith("Bearer ")

    page.get_by_test_id("receipt-deal-link").click()
    expect(page).to_have_url(re.compile(rf"#/deals/{DEAL_ID}$"))
    expect(page.get_by_test_id("deal-status")).to_have_text("Submitted")


def test_availability_check_shows_only_available_or_protected_until(page: Page, stub: Stub, portal_url: str) -> None:
    def check(call: Call) -> Any:
        if call.query.get("domain") == "www.globex.co.uk":
            # Even if an answer carried more, the page shows the protection end date and nothing else.
            return ok({"status": "protected", "protected_until": "2027-02-24T12:00:00.000Z", "partner_name": "Initech"})
        if call.query.get("company_name") == "Umbrella":
            return ABORT
        return ok({"status": "available"})

    stub.api[("GET", "/deals/prospect-check")] = check
    checks = lambda: stub.requests("GET", "/deals/prospect-check")  # noqa: E731
    page.goto(f"{portal_url}#/deals/new")
    availability = page.get_by_test_id("availability")
    expect(page.locator("#prospect_company_name")).to_be_visible()
    expect(availability).to_be_hidden()

    page.get_by_test_id("check-availability").click()
    expect(availability).to_have_text("Enter the prospect\u2019s website or company name first.")
    assert checks() == []

    page.fill("#prospect_company_name", "Globex Ltd")
    page.locator("#prospect_company_name").press("Tab")  # losing focus checks automatically
    expect(availability).to_have_text("Available")
    assert [c.query for c in checks()] == [{"company_name": "Globex Ltd"}]

    page.fill("#prospect_website", "https://www.Globex.co.uk/about")
    expect(availability).to_be_hidden()  # the answer was for another prospect
    page.get_by_test_id("check-availability").click()  # the website loses focus too: still one request
    expect(availability).to_have_text(re.compile(r"^Already protected until \S.*2027$"))
    expect(page.get_by_test_id("protected-until")).to_have_attribute("datetime", "2027-02-24T12:00:00.000Z")
    expect(page.get_by_text("Initech")).to_have_count(0)
    assert [c.query for c in checks()][1:] == [{"domain": "www.globex.co.uk", "company_name": "Globex Ltd"}]

    page.locator("#prospect_website").focus()
    page.locator("#prospect_country").focus()  # the same prospect again: the answer is reused
    expect(availability).to_contain_text("Already protected until")
    assert len(checks()) == 2

    page.fill("#prospect_website", "")
    page.fill("#prospect_company_name", "Umbrella")
    page.get_by_test_id("check-availability").click()
    expect(availability).to_have_text(
        "Availability could not be checked. We could not reach the server. Check your connection and try again."
    )
    assert checks()[-1].query == {"company_name": "Umbrella"}


# ---------------------------------------------------------------------------------------------- list


def test_deals_list_filters_by_status_and_paginates_with_the_cursor(page: Page, stub: Stub, portal_url: str) -> None:
    first_page = [
        summary(
            f"deal_{i:02d}",
            f"Prospect {i:02d}",
            "approved" if i % 2 else "submitted",
            protection_ends_at="2027-02-24T12:00:00.000Z" if i % 2 else None,
        )
        for i in range(20)
    ]
    second_page = [summary("deal_20", "Prospect Twenty", "rejected", next_step=None, next_step_due=None)]
    approved = [summary("deal_a1", "Approved One", "approved", protection_ends_at="2027-03-01T00:00:00.000Z")]

    def deals(call: Call) -> dict[str, Any]:
        if call.query.get("status") == "approved":
            return ok({"items": approved, "next_cursor": None})
        if call.query.get("status") == "lost":
            return ok({"items": [], "next_cursor": None})
        if call.query.get("cursor") == "c2":
            return ok({"items": second_page, "next_cursor": None})
        return ok({"items": first_page, "next_cursor": "c2"})

    stub.api[("GET", "/deals")] = deals
    page.goto(f"{portal_url}#/organisation")
    nav = page.locator("#site-nav a")
    expect(nav).to_have_text(PARTNER_NAV)
    page.get_by_test_id("nav-deals").click()
    expect(page).to_have_url(re.compile(r"#/deals$"))
    expect(page.get_by_test_id("nav-deals")).to_have_attribute("aria-current", "page")

    rows = page.get_by_test_id("deal-row")
    expect(rows).to_have_count(20)
    row = page.locator('[data-testid="deal-row"][data-deal-id="deal_01"]')
    expect(row.get_by_test_id("deal-status")).to_have_text("Approved")
    expect(row.get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", "2027-02-24T12:00:00.000Z")
    expect(row.get_by_test_id("deal-next-step")).to_contain_text("Channel team review")
    expect(row.get_by_test_id("deal-next-step").locator("time")).to_have_attribute("datetime", "2026-12-03")
    expect(row.get_by_test_id("deal-value")).to_have_text("$120,000.00")
    pending = page.locator('[data-testid="deal-row"][data-deal-id="deal_00"]')
    expect(pending.get_by_test_id("deal-protection-ends")).to_have_text("—")
    (first,) = stub.requests("GET", "/deals")
    assert first.query == {"limit": "20"}

    page.get_by_test_id("load-more").click()
    expect(rows).to_have_count(21)
    expect(page.get_by_test_id("load-more")).to_have_count(0)  # no next_cursor: nothing more to load
    last = page.locator('[data-testid="deal-row"][data-deal-id="deal_20"]')
    expect(last.get_by_test_id("deal-status")).to_have_text("Rejected")
    expect(last.get_by_test_id("deal-next-step")).to_have_text("None")
    expect(last.get_by_role("link")).to_be_focused()
    assert stub.requests("GET", "/deals")[1].query == {"limit": "20", "cursor": "c2"}

    page.select_option("[data-testid=status-filter]", "approved")
    expect(rows).to_have_count(1)
    expect(page.locator('[data-testid="deal-row"][data-deal-id="deal_a1"]')).to_be_visible()
    expect(page.get_by_test_id("load-more")).to_have_count(0)
    assert stub.requests("GET", "/deals")[2].query == {"status": "approved", "limit": "20"}
    expect(page).to_have_url(re.compile(r"#/deals\?status=approved$"))

    page.reload()  # the filter is kept in the address
    expect(page.get_by_test_id("status-filter")).to_have_value("approved")
    expect(rows).to_have_count(1)

    page.select_option("[data-testid=status-filter]", "lost")
    expect(page.get_by_test_id("deals-empty")).to_contain_text("No deals are lost.")
    page.get_by_role("button", name="Show all deals").click()
    expect(rows).to_have_count(20)
    expect(page.get_by_test_id("status-filter")).to_have_value("")

    page.locator('[data-testid="deal-row"][data-deal-id="deal_01"]').get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"#/deals/deal_01$"))


def test_closed_deals_show_their_protection_released_not_an_end_date(page: Page, stub: Stub, portal_url: str) -> None:
    """`GET /deals` still carries a closed deal's `protection_ends_at`, but won, lost and reversed wins released the
    prospect (the prospect check says available): no end date for them; an expired one says when it ended."""
    ends = "2027-02-24T12:00:00.000Z"
    closed = {"won": "deal_w", "lost": "deal_l", "win_reversed": "deal_r"}
    items = [
        summary("deal_a", "Still Protected", "approved", protection_ends_at=ends),
        *(
            summary(deal_id, f"Closed {status}", status, protection_ends_at=ends, next_step="No further action")
            for status, deal_id in closed.items()
        ),
        summary("deal_x", "Lapsed Prospect", "expired", protection_ends_at="2026-10-01T00:00:00.000Z"),
    ]
    stub.api[("GET", "/deals")] = ok({"items": items, "next_cursor": None})
    page.goto(f"{portal_url}#/deals")
    row = lambda deal_id: page.locator(f'[data-testid="deal-row"][data-deal-id="{deal_id}"]')  # noqa: E731
    expect(row("deal_a").get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", ends)
    for deal_id in closed.values():
        expect(row(deal_id).get_by_test_id("deal-protection-released")).to_have_text("Released")
        expect(row(deal_id).get_by_test_id("deal-protection-ends")).to_have_count(0)
        expect(row(deal_id).locator("td[data-label='Protection ends'] time")).to_have_count(0)
    lapsed = row("deal_x")
    expect(lapsed.locator("td[data-label='Protection ends']")).to_have_text(re.compile(r"^Ended \S"))
    expect(lapsed.get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", "2026-10-01T00:00:00.000Z")

    for status in closed:  # the deal's own page says so too, with no end date and no days left
        stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(
            deal(status, protection_ends_at=ends, lost_reason="Budget cut." if status == "lost" else None)
        )
        page.goto(f"{portal_url}#/deals/{DEAL_ID}")
        page.reload()
        said = (
            "the win was withdrawn" if status == "win_reversed" else "the deal is closed"
        )  # not closed: won or lost again
        expect(page.get_by_test_id("deal-protection-released")).to_have_text(f"Protection released ({said})")
        expect(page.get_by_test_id("deal-protection-ends")).to_have_count(0)
        expect(page.get_by_test_id("deal-days-left")).to_have_count(0)
        expect(page.locator(".deal-protection")).not_to_contain_text("ends")
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal("expired", protection_ends_at="2026-10-01T00:00:00.000Z"))
    page.reload()
    expect(page.locator(".deal-protection")).to_contain_text("Protection ended")
    expect(page.get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", "2026-10-01T00:00:00.000Z")
    expect(page.get_by_test_id("deal-protection-released")).to_have_count(0)


def test_empty_list_invites_registering(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/deals")] = ok({"items": [], "next_cursor": None})
    page.goto(f"{portal_url}#/deals")
    empty = page.get_by_test_id("deals-empty")
    expect(empty).to_contain_text("No deals registered yet")
    empty.get_by_role("link", name="Register your first deal").click()
    expect(page).to_have_url(re.compile(r"#/deals/new$"))
    expect(page.locator("input[name=products][value=NET-AP-6]")).to_be_visible()


# ---------------------------------------------------------------------------------------------- detail


def test_deal_shows_timeline_and_only_the_actions_its_status_allows(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = [
        ok(deal("submitted")),
        ok(deal("approved")),
        ok(deal("approved", extension_pending=True)),
        ok(deal("approved", extensions_used=2)),
        ok(deal("won", won={"amount": {"amount_minor": 11500000, "currency": "USD"}, "close_date": "2026-12-20"})),
    ]
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Ltd")
    expect(page.get_by_test_id("deal-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("deal-protection-ends")).to_have_text("—")
    expect(page.get_by_test_id("timeline-entry")).to_have_count(2)
    expect(page.get_by_test_id("deal-waiting")).to_be_visible()
    for selector in ("#stage", "#won_amount", "#lost_reason", "#extension_justification"):
        expect(page.locator(selector)).to_have_count(0)

    page.reload()
    expect(page.get_by_test_id("deal-status")).to_have_text("Approved")
    expect(page.get_by_test_id("deal-days-left")).to_have_text("30 days left")
    entries = page.get_by_test_id("timeline-entry")
    expect(entries).to_have_count(3)
    expect(entries.get_by_test_id("timeline-status")).to_have_text(["Submitted", "Under review", "Approved"])
    expect(entries.nth(2).get_by_test_id("timeline-note")).to_have_text("Welcome opportunity.")
    expect(entries.nth(0).locator("time")).to_have_attribute("datetime", "2026-11-26T16:00:00.000Z")
    expect(page.get_by_test_id("deal-products").locator("li")).to_have_text(
        ["Firewall 100 (NET-FW-100)", "Switch 48-port (NET-SW-48)"]  # named from GET /products
    )
    expect(page.locator("#main")).not_to_contain_text("null")
    expect(page.locator("#main")).not_to_contain_text("undefined")
    expect(page.get_by_test_id("deal-value")).to_have_text("$120,000.00")
    expect(page.get_by_test_id("deal-close-date")).to_have_text(re.compile(r"\S"))
    expect(page.get_by_test_id("prospect-contact")).to_contain_text("Hank Scorpio, CTO")
    expect(page.locator("#stage")).to_have_value("qualification")
    expect(page.locator("#won_currency")).to_have_value("USD")
    for selector in ("#lost_reason", "#extension_justification", "[data-testid=save-stage]"):
        expect(page.locator(selector)).to_be_visible()
    expect(page.get_by_test_id("extensions-used")).to_have_text("1 of 2 extensions used")

    page.reload()  # an extension is pending: no second request
    expect(page.get_by_test_id("extension-pending")).to_be_visible()
    expect(page.locator("#extension_justification")).to_have_count(0)
    expect(page.locator("#stage")).to_be_visible()

    page.reload()  # both extensions used
    expect(page.get_by_test_id("extensions-used")).to_have_text("2 of 2 extensions used")
    expect(page.locator("[data-testid=request-extension]")).to_have_count(0)

    page.reload()
    expect(page.get_by_test_id("deal-status")).to_have_text("Won")
    expect(page.get_by_test_id("deal-outcome")).to_contain_text("$115,000.00")
    expect(page.get_by_test_id("deal-actions")).to_have_count(0)


def test_deal_actions_send_exact_bodies_and_rerender_from_the_answer(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal())
    stage_change = {"at": "2026-12-01T08:00:00.000Z", "status": "stage_changed", "note": "Qualification → Proposal"}
    stub.api[("POST", f"/deals/{DEAL_ID}/stage")] = lambda call: ok(
        deal(stage=call.body["stage"], timeline=[*deal()["timeline"], stage_change])
    )
    stub.api[("POST", f"/deals/{DEAL_ID}/extension")] = ok(deal(stage="proposal", extension_pending=True), 202)
    stub.api[("POST", f"/deals/{DEAL_ID}/won")] = lambda call: ok(
        deal("won", won={"amount": call.body["amount"], "close_date": call.body["close_date"]})
    )
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")

    page.select_option("#stage", "proposal")
    page.get_by_test_id("save-stage").click()
    expect(page.get_by_test_id("action-result")).to_have_text("Stage saved: Proposal.")
    expect(page.get_by_test_id("deal-stage")).to_have_text("Proposal")
    expect(page.get_by_test_id("timeline-entry")).to_have_count(4)
    expect(page.get_by_test_id("timeline-status").last).to_have_text("Stage changed")
    (stage,) = stub.requests("POST", f"/deals/{DEAL_ID}/stage")
    assert stage.body == {"stage": "proposal"}
    assert UUID.match(stage.headers["idempotency-key"])

    justification = page.locator("#extension_justification")
    justification.press_sequentially("Too short")
    expect(page.locator("#extension_justification-error")).to_contain_text("at least 10 characters")
    page.get_by_test_id("request-extension").click()
    assert stub.requests("POST", f"/deals/{DEAL_ID}/extension") == []
    justification.fill("Customer board meets in March to sign off.")
    expect(page.locator("#extension_justification-error")).to_be_hidden()
    page.get_by_test_id("request-extension").click()
    expect(page.get_by_test_id("extension-pending")).to_be_visible()
    expect(page.locator("#extension_justification")).to_have_count(0)
    assert stub.requests("POST", f"/deals/{DEAL_ID}/extension")[0].body == {
        "justification": "Customer board meets in March to sign off."
    }

    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    page.fill("#won_amount", "115000.29")  # 115000.29 * 100 is 11500028.999999998 in binary floating point
    page.fill("#won_close_date", tomorrow)
    expect(page.locator("#won_close_date-error")).to_have_text("The close date cannot be in the future.")
    closed = (date.fromisoformat(tomorrow) - timedelta(days=3)).isoformat()
    page.fill("#won_close_date", closed)
    page.get_by_test_id("mark-won").click()
    expect(page.get_by_test_id("deal-status")).to_have_text("Won")
    expect(page.get_by_test_id("deal-outcome")).to_contain_text("$115,000.29")
    expect(page.get_by_test_id("deal-actions")).to_have_count(0)
    (won,) = stub.requests("POST", f"/deals/{DEAL_ID}/won")
    assert won.body == {"amount": {"amount_minor": 11500029, "currency": "USD"}, "close_date": closed}


def test_invalid_state_409_is_shown_as_a_message(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = [ok(deal()), ok(deal("expired"))]
    stub.api[("POST", f"/deals/{DEAL_ID}/lost")] = error(
        409, "invalid_state", "The deal has expired; no changes are allowed now."
    )
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")
    page.get_by_test_id("mark-lost").click()
    expect(page.locator("#lost_reason-error")).to_have_text("Enter the reason the deal was lost.")
    assert stub.requests("POST", f"/deals/{DEAL_ID}/lost") == []

    page.fill("#lost_reason", "Chose a competitor.")
    page.get_by_test_id("mark-lost").click()
    lost_form = page.get_by_test_id("lost-form")
    expect(lost_form.get_by_test_id("invalid-state")).to_contain_text(
        "The deal has expired; no changes are allowed now."
    )
    expect(page.locator("#lost_reason")).to_have_value("Chose a competitor.")
    expect(page.get_by_test_id("mark-lost")).to_be_enabled()
    assert stub.requests("POST", f"/deals/{DEAL_ID}/lost")[0].body == {"reason": "Chose a competitor."}

    lost_form.get_by_role("button", name="Reload the deal").click()
    expect(page.get_by_test_id("deal-status")).to_have_text("Expired")
    expect(page.get_by_test_id("deal-actions")).to_have_count(0)


def test_unknown_deal_is_not_found(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/deals/deal_other")] = error(404, "not_found", "No such deal.")
    page.goto(f"{portal_url}#/deals/deal_other")
    expect(page.get_by_test_id("deal-not-found")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deal not found")
