"""Browser tests of a deal whose win the vendor reversed (`win_reversed`), with no backend (tests/support/portal_stub.py):
the status label, the reversal's reason, author and time, and the two ways out the partner has: mark it won again with
the corrected amount, or mark it lost. Vendor staff do not open deals in the portal, so there is no reversal form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.portal_stub import UUID, Call, Stub, error, ok, partner_api

pytestmark = pytest.mark.browser

DEAL_ID = "deal_01JREVERSED"
REVERSED_AT = "2026-12-02T09:15:00.000Z"
REVERSAL = {
    "win_revision": 1,
    "reason": "The distributor invoice shows 98,000 EUR, not 115,000 EUR.",
    "reversed_by": "vera@vendor.example",
    "reversed_at": REVERSED_AT,
    "previous_amount": {"amount_minor": 11500000, "currency": "EUR"},
    "previous_close_date": "2026-11-30",
}


@pytest.fixture
def stub(portal_url: str) -> Stub:
    stub = Stub(base=portal_url, api=partner_api())
    stub.api[("GET", "/products")] = ok(
        {"items": [{"sku": "NET-FW-100", "name": "Firewall 100", "family": "Security"}]}
    )
    return stub


def deal(status: str = "win_reversed", **extra: Any) -> dict[str, Any]:
    timeline = [
        {"at": "2026-11-26T16:00:00.000Z", "status": "submitted", "note": "Registered by ada@acme.example"},
        {"at": "2026-11-28T10:30:00.000Z", "status": "approved", "note": "Welcome opportunity."},
        {"at": "2026-11-30T12:00:00.000Z", "status": "won", "note": "Won: 115,000.00 EUR, closed 2026-11-30."},
        {
            "at": REVERSED_AT,
            "status": "win_reversed",
            "note": f"Win of 115,000.00 EUR reversed by vera@vendor.example: {REVERSAL['reason']}",
        },
    ]
    return {
        "deal_id": DEAL_ID,
        "status": status,
        "prospect": {"company_name": "Initech GmbH", "domain": "initech.de", "country": "DE", "contact": {}},
        "estimated_value": {"amount_minor": 12000000, "currency": "USD"},  # the estimate's currency differs on purpose
        "expected_close_date": "2026-12-31",
        "submitted_at": "2026-11-26T16:00:00.000Z",
        "protection_ends_at": "2027-01-27T10:30:00.000Z",
        "next_step": "Win reversed by the vendor: mark it won again with the corrected amount, or lost",
        "next_step_due": None,
        "products": ["NET-FW-100"],
        "description": "Firewalls for three plants.",
        "stage": "commit",
        "extensions_used": 0,
        "max_extensions": 2,
        "extension_pending": False,
        "decision_reason": "Welcome opportunity.",
        "won": None,
        "win_revision": 1,
        "win_reversal": REVERSAL,
        "lost_reason": None,
        "timeline": timeline,
        **extra,
    }


def corrected(call: Call) -> dict[str, Any]:
    won = {"amount": call.body["amount"], "close_date": call.body["close_date"]}
    entry = {"at": "2026-12-03T08:00:00.000Z", "status": "won", "note": "Won (correction 1)."}
    return ok(deal("won", won=won, win_revision=2, timeline=[*deal()["timeline"], entry]))


def test_a_reversed_win_shows_why_who_and_when_and_offers_only_the_corrections(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal())
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech GmbH")
    expect(page.get_by_test_id("deal-status")).to_have_text("Win reversed")
    expect(page.get_by_test_id("deal-status")).to_have_class("badge badge-warn")
    expect(page.get_by_test_id("deal-win-reversed")).to_contain_text("The vendor reversed this win.")
    card = page.get_by_test_id("deal-reversal")
    expect(card.get_by_role("heading", level=2)).to_have_text("Win reversed")
    expect(card.get_by_test_id("reversal-reason")).to_have_text(REVERSAL["reason"])
    expect(card.get_by_test_id("reversal-by")).to_have_text("vera@vendor.example")
    expect(card.get_by_test_id("reversal-at").locator("time")).to_have_attribute("datetime", REVERSED_AT)
    expect(card.get_by_test_id("reversal-previous")).to_contain_text("€115,000.00")
    statuses = page.get_by_test_id("timeline-entry").get_by_test_id("timeline-status")
    expect(statuses).to_have_text(["Submitted", "Approved", "Won", "Win reversed"])
    expect(page.locator("#main")).not_to_contain_text("undefined")
    expect(page.locator("#main")).not_to_contain_text("null")

    # The partner's two ways out, and nothing an open deal offers.
    expect(page.get_by_test_id("deal-actions").get_by_role("heading", level=2)).to_have_text("Correct this deal")
    expect(page.get_by_test_id("won-form").get_by_role("heading", level=3)).to_have_text("Mark won (corrected amount)")
    expect(page.get_by_test_id("won-hint")).to_contain_text("The reversed win recorded €115,000.00")
    expect(page.get_by_test_id("mark-won")).to_have_text("Mark won (corrected)")
    expect(page.locator("#won_currency")).to_have_value("EUR")  # the reversed win's, not the estimate's
    expect(page.locator("#won_close_date")).to_have_value("2026-11-30")
    expect(page.get_by_test_id("lost-form")).to_be_visible()
    for selector in ("#stage", "#extension_justification", "[data-testid=extension-card]"):
        expect(page.locator(selector)).to_have_count(0)


def test_the_corrected_win_validates_as_you_type_shows_server_errors_and_rerenders(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal())
    stub.api[("POST", f"/deals/{DEAL_ID}/won")] = [
        error(
            422,
            "validation_failed",
            "The request is invalid.",
            [{"field": "amount.amount_minor", "message": "must be at most 10^15"}],
        ),
        corrected,
    ]
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")
    page.get_by_test_id("mark-won").click()
    expect(page.locator("#won_amount-error")).to_have_text("Enter the final amount.")
    assert stub.requests("POST", f"/deals/{DEAL_ID}/won") == []

    amount = page.locator("#won_amount")
    amount.press_sequentially("98,000.5x")
    expect(page.locator("#won_amount-error")).to_be_visible()
    amount.fill("98000.10")
    expect(page.locator("#won_amount-error")).to_be_hidden()
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    page.fill("#won_close_date", tomorrow)
    expect(page.locator("#won_close_date-error")).to_have_text("The close date cannot be in the future.")
    page.fill("#won_close_date", "2026-11-30")
    expect(page.locator("#won_close_date-error")).to_be_hidden()

    page.get_by_test_id("mark-won").click()  # the server refuses the amount: its message lands on the field
    expect(page.locator("#won_amount-error")).to_have_text("Must be at most 10^15")
    expect(amount).to_have_value("98000.10")
    expect(page.get_by_test_id("deal-status")).to_have_text("Win reversed")

    page.get_by_test_id("mark-won").click()
    expect(page.get_by_test_id("action-result")).to_have_text("Marked as won with the corrected amount.")
    expect(page.get_by_test_id("deal-status")).to_have_text("Won")
    expect(page.get_by_test_id("deal-outcome")).to_contain_text("Won (corrected):")
    expect(page.get_by_test_id("deal-outcome")).to_contain_text("€98,000.10")
    expect(page.get_by_test_id("deal-actions")).to_have_count(0)
    expect(page.get_by_test_id("reversal-reason")).to_have_text(REVERSAL["reason"])  # the history stays
    first, second = stub.requests("POST", f"/deals/{DEAL_ID}/won")
    assert second.body == {"amount": {"amount_minor": 9800010, "currency": "EUR"}, "close_date": "2026-11-30"}
    assert first.body == second.body
    assert UUID.match(second.headers["idempotency-key"])


def test_a_reversed_win_can_be_marked_lost_with_a_reason(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", f"/deals/{DEAL_ID}")] = ok(deal())
    stub.api[("POST", f"/deals/{DEAL_ID}/lost")] = lambda call: ok(deal("lost", lost_reason=call.body["reason"]))
    page.goto(f"{portal_url}#/deals/{DEAL_ID}")
    page.get_by_test_id("mark-lost").click()
    expect(page.locator("#lost_reason-error")).to_have_text("Enter the reason the deal was lost.")
    assert stub.requests("POST", f"/deals/{DEAL_ID}/lost") == []
    page.fill("#lost_reason", "The customer cancelled the order.")
    expect(page.locator("#lost_reason-error")).to_be_hidden()
    page.get_by_test_id("mark-lost").click()
    expect(page.get_by_test_id("deal-status")).to_have_text("Lost")
    expect(page.get_by_test_id("deal-outcome")).to_contain_text("The customer cancelled the order.")
    expect(page.get_by_test_id("deal-actions")).to_have_count(0)
    (lost,) = stub.requests("POST", f"/deals/{DEAL_ID}/lost")
    assert lost.body == {"reason": "The customer cancelled the order."}


def test_the_deals_list_labels_and_filters_reversed_wins(page: Page, stub: Stub, portal_url: str) -> None:
    row = {
        key: deal()[key]
        for key in (
            "deal_id",
            "status",
            "prospect",
            "estimated_value",
            "expected_close_date",
            "submitted_at",
            "protection_ends_at",
            "next_step",
            "next_step_due",
        )
    }
    stub.api[("GET", "/deals")] = lambda call: ok(
        {"items": [row] if call.query.get("status") in (None, "win_reversed") else [], "next_cursor": None}
    )
    page.goto(f"{portal_url}#/deals")
    found = page.locator(f'[data-testid="deal-row"][data-deal-id="{DEAL_ID}"]')
    expect(found.get_by_test_id("deal-status")).to_have_text("Win reversed")
    expect(found.get_by_test_id("deal-next-step")).to_contain_text("corrected amount")
    page.select_option("[data-testid=status-filter]", label="Win reversed")
    expect(page).to_have_url(f"{portal_url}#/deals?status=win_reversed")
    expect(page.get_by_test_id("deal-row")).to_have_count(1)
    assert stub.requests("GET", "/deals")[-1].query == {"status": "win_reversed", "limit": "20"}
