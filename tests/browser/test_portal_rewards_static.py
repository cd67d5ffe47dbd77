"""Browser tests of the portal's rewards pages (#/rewards, #/admin/rewards, …/catalogue, …/payouts) with no backend:
the stub in tests/support/portal_stub.py answers /config.json and the API from canned responses shaped as the rewards
API answers (functions/rewards/rewards/api.py, api_redemptions.py), and records every request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PARTNER_NAV, VENDOR_NAV
from tests.support.portal_stub import (
    PARTNER_ID,
    UUID,
    Call,
    Stub,
    error,
    me,
    ok,
    partner_api,
    raw,
)
from tests.support.rewards_shapes import HISTORY_REDEMPTION_KEYS, HISTORY_REWARD_KEYS

pytestmark = pytest.mark.browser

VIEWS = Path(__file__).resolve().parents[2] / "portal" / "js" / "views"
MODULES = ["rewards.js", "rewards-admin.js", "rewards-common.js", "rewards-proofs.js"]
CAMPAIGN = "cmp_01JQ3W8P2F"
SPIFF_CAMPAIGN = "cmp_01JQ3W8SPIF"
REWARD = "rwd_" + "a" * 32
REWARD_2 = "rwd_" + "b" * 32
REDEMPTION = "rdm_01jq3w8p2fabcdefghjkmnpqrs"
ITEM = "item_01jq3w8p2fabcdefghjkmnpqrs"
CLAIM = "clm_01jq3w8p2fabcdef0123456789"
FILE_1 = "file_01jq3w8p2fabcdefghjkmnpqr1"
FILE_2 = "file_01jq3w8p2fabcdefghjkmnpqr2"
BATCH = "batch_01jq3w8p2fabcdefghjkmnpqrs"
BUCKET = "https://rewards-bucket.s3.amazonaws.com/"


def iso_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


PAID_REQUESTED_AT = iso_in(-41)
PAID_STATUS_AT = iso_in(-30)


def campaign(**changes: Any) -> dict[str, Any]:
    """A campaign as partners get it from `GET /rewards/campaigns` (no budget bookkeeping)."""
    return {
        "campaign_id": CAMPAIGN,
        "name": "Q1 Firewall Push",
        "description": "Sell more firewalls this quarter.",
        "starts_on": day_in(-10),
        "ends_on": day_in(80),
        "unit": "points",
        "eligibility": {"tiers": [], "regions": ["EMEA"], "partner_types": []},
        "available_after_days": 0,
        "rules": [
            {"kind": "deal_won_fixed", "rule_id": "r1", "amount": 500, "in_words": "500 points for each won deal"},
            # no in_words: the page says the rule from the object the way the API does
            {"kind": "deal_won_per_sku", "rule_id": "r2", "sku": "FW-100", "amount": 200},
        ],
        "status": "open",
        "created_at": iso_in(-11),
        "updated_at": iso_in(-11),
        "closed_at": None,
    } | changes


SPIFF = campaign(
    campaign_id=SPIFF_CAMPAIGN,
    name="Webinar SPIFF",
    unit="USD",
    eligibility={"tiers": [], "regions": [], "partner_types": []},
    rules=[
        {
            "kind": "spiff_claim",
            "rule_id": "r1",
            "amount": 10000,
            "description": "Host a customer webinar",
            "in_words": "100.00 USD for an approved claim: Host a customer webinar",
        }
    ],
)


def reward(reward_id: str = REWARD, **changes: Any) -> dict[str, Any]:
    return {
        "type": "reward",
        "id": reward_id,
        "campaign_id": CAMPAIGN,
        "campaign_name": "Q1 Firewall Push",
        "source": {
            "kind": "deal",
            "id": "deal_01",
            "revision": 1,
            "label": "Globex Ltd",
            "description": "Deal with Globex Ltd won",
        },
        "rule": "500 points for each won deal",
        "amount": 500,
        "unit": "points",
        "amount_in_words": "500 points",
        "status": "available",
        "status_reason": None,
        "status_at": iso_in(-2),
        "at": iso_in(-3),
        "available_at": iso_in(-2),
        "paid_amount": 0,
        "paid_at": None,
    } | changes


def history_redemption(**changes: Any) -> dict[str, Any]:
    """A redemption line of `GET /rewards/me` (rewards.api.history_answer; keys: tests/support/rewards_shapes.py)."""
    return {
        "type": "redemption",
        "redemption_id": REDEMPTION,
        "kind": "payout",
        "item_id": None,
        "item_name": None,
        "amount": 6000,
        "unit": "USD",
        "status": "requested",
        "status_reason": None,
        "status_at": iso_in(0),
        "at": iso_in(0),
    } | changes


def test_history_stubs_have_the_api_shape() -> None:
    assert set(reward()) == HISTORY_REWARD_KEYS
    assert set(history_redemption()) == HISTORY_REDEMPTION_KEYS


def balance(unit: str, **values: int) -> dict[str, Any]:
    base = {"available": 0, "pending": 0, "on_hold": 0, "approved": 0, "reserved": 0, "paid": 0}
    return {"unit": unit, **base, **values, "available_in_words": ""}


def my_rewards(items: list[dict[str, Any]] | None = None, cursor: str | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "balances": [balance("USD", available=12000, pending=5000), balance("points", available=1500, on_hold=300)],
        "items": items if items is not None else [reward()],
        "next_cursor": cursor,
        "payout_minimums": {"USD": 5000, "EUR": 5000},
    } | changes


def redemption(**changes: Any) -> dict[str, Any]:
    return {
        "redemption_id": REDEMPTION,
        "partner_id": PARTNER_ID,
        "person": "ada@acme.example",
        "kind": "payout",
        "amount": {"amount": 6000, "unit": "USD"},
        "item_id": None,
        "item_name": None,
        "status": "requested",
        "status_reason": None,
        "status_at": iso_in(0),
        "history": [],
        "requested_at": iso_in(0),
        "tax_year": None,
        "batch_id": None,
        "revision": 1,
    } | changes


CATALOGUE_ITEM = {
    "item_id": ITEM,
    "name": "Branded headphones",
    "description": "Noise cancelling.",
    "cost_points": 1000,
    "stock": 3,
    "active": True,
    "revision": 1,
    "created_by": "admin@vendor.example",
    "created_at": iso_in(-20),
    "updated_at": iso_in(-20),
}


def claim(**changes: Any) -> dict[str, Any]:
    return {
        "claim_id": CLAIM,
        "partner_id": PARTNER_ID,
        "person": "ada@acme.example",
        "campaign_id": SPIFF_CAMPAIGN,
        "campaign_name": "Webinar SPIFF",
        "rule_id": "r1",
        "amount": {"amount": 10000, "unit": "USD"},
        "description": "Webinar with Contoso Bank, 40 attendees",
        "proof_files": [
            {"file_id": FILE_1, "file_name": "attendees.pdf", "content_type": "application/pdf", "size_bytes": 1200}
        ],
        "status": "returned",
        "status_reason": "Add the attendee list with company names.",
        "status_at": iso_in(-1),
        "round": 1,
        "submitted_at": iso_in(-4),
        "decided_by": "incentives@vendor.example",
        "history": [],
        "revision": 2,
    } | changes


def upload_slot(file_id: str) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "upload": {
            "url": BUCKET,
            "fields": {"key": f"claims/{PARTNER_ID}/{file_id}", "policy": "p", "x-amz-signature": "s"},
        },
        "expires_in": 900,
        "max_bytes": 10 * 1024 * 1024,
    }


@pytest.fixture
def stub(portal_url: str) -> Stub:
    api = partner_api()
    api[("GET", "/rewards/me")] = ok(my_rewards())
    api[("GET", "/rewards/campaigns")] = ok({"items": [campaign(), SPIFF]})
    api[("GET", "/rewards/catalogue")] = ok({"items": [CATALOGUE_ITEM]})
    api[("GET", "/rewards/redemptions")] = ok({"items": [], "next_cursor": None})
    api[("GET", "/rewards/claims")] = ok({"items": [], "next_cursor": None})
    return Stub(base=portal_url, api=api)


# ---------------------------------------------------------------------------------------------- the modules


def test_the_rewards_modules_never_insert_markup() -> None:
    for name in MODULES:
        source = (VIEWS / name).read_text()
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert forbidden not in source, f"{name} uses {forbidden}"


def test_amounts_and_rules_read_in_plain_words(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/rewards")
    expect(page.get_by_test_id("balance-card")).to_have_count(2)
    result = page.evaluate(
        """async () => {
            const c = await import('./js/views/rewards-common.js');
            const p = await import('./js/views/rewards-proofs.js');
            return {
                amounts: [c.unitAmount(1500, 'points'), c.unitAmount(1, 'points'), c.unitAmount(-250, 'points'),
                          c.unitAmount(5000, 'USD'), c.unitAmount(-2000, 'USD'), c.unitAmount(1200, 'JPY')],
                parsed: [c.parseUnitAmount('1,500', 'points'), c.parseUnitAmount('1.5', 'points'),
                         c.parseUnitAmount('50.25', 'USD'), c.parseUnitAmount('0', 'USD'),
                         c.parseUnitAmount('0', 'USD', { positive: false }), c.parseUnitAmount('', 'points')],
                inputs: [c.unitInput(5025, 'USD'), c.unitInput(1500, 'points'), c.unitInput(700, 'JPY')],
                rules: [
                    c.ruleWords({ kind: 'deal_won_per_thousand', currency: 'EUR', amount_per_thousand: 250 }, 'USD'),
                    c.ruleWords({ kind: 'certification_earned', certification_id: 'cne', amount: 1000 }, 'points'),
                    c.ruleWords({ kind: 'deal_won_fixed', amount: 5, in_words: 'as the API says it' }, 'points'),
                ],
                next: [c.historyNextStep({ type: 'reward', status: 'pending' }),
                       c.historyNextStep({ type: 'redemption', kind: 'payout', status: 'on_hold' }),
                       c.historyNextStep({ type: 'reward', status: 'declined' })],
                eligibility: [c.eligibilityWords({ tiers: [], regions: [], partner_types: [] }),
                              c.eligibilityWords({ tiers: ['gold'], regions: ['EMEA'], partner_types: ['isv'] })],
                files: [p.checkClaimProof({ name: 'a.exe', size: 10 }), p.checkClaimProof({ name: 'attendees.CSV', size: 10 }),
                        p.checkClaimProof({ name: 'a.png', size: 0 }),
                        p.checkClaimProof({ name: 'a.jpg', size: 11 * 1024 * 1024 })],
            };
        }"""
    )
    assert result["amounts"] == ["1,500 points", "1 point", "\u2212250 points", "$50.00", "\u2212$20.00", "¥1,200"]
    assert result["parsed"] == [
        {"ok": True, "value": 1500},
        {"ok": False, "error": "Enter a whole number of points."},
        {"ok": True, "value": 5025},
        {"ok": False, "error": "Enter an amount greater than zero."},
        {"ok": True, "value": 0},
        {"ok": False, "error": "Enter an amount."},
    ]
    assert result["inputs"] == ["50.25", "1500", "700"]
    assert result["rules"] == [
        "2.50 USD per 1,000 EUR of won deal value (deals won in EUR only; rounded down)",
        "1,000 points the first time a person earns certification cne",
        "as the API says it",
    ]
    assert result["next"] == [
        "Waiting for the channel team\u2019s approval",
        "Paid once your organisation\u2019s tax form is on file",
        "",
    ]
    assert result["eligibility"] == ["Open to every partner", "Open to tiers: gold; regions: EMEA; partner types: isv"]
    assert result["files"][0] == "Only PDF, PNG, JPEG, CSV and Excel (.xlsx) files can be attached."
    assert result["files"][1] == ""
    assert result["files"][2] == "This file is empty."
    assert result["files"][3].startswith("Files can be at most 10")


# ---------------------------------------------------------------------------------------------- the partner's page


def test_rewards_page_shows_balances_history_and_the_campaigns_open_to_me(
    page: Page, stub: Stub, portal_url: str
) -> None:
    held = reward(
        REWARD_2,
        campaign_name="Certified Engineers 2027",
        source={"kind": "certification", "id": "cert_cne", "revision": None, "description": ""},
        rule="1,000 points the first time a person earns certification cert_cne",
        amount=1000,
        status="on_hold",
        status_reason="Checking the certificate with the LMS.",
    )
    older = [
        reward("rwd_" + "c" * 32, status="declined", status_reason="campaign budget exhausted", at=iso_in(-40)),
        reward("rwd_" + "d" * 32, paid_amount=200, at=iso_in(-41)),  # partly spent by a redemption
        history_redemption(status="paid", at=PAID_REQUESTED_AT, status_at=PAID_STATUS_AT),
        history_redemption(
            redemption_id="rdm_01jq3w8p2fabcdefghjkmnpqzz",
            amount=1000,
            unit="points",
            at=iso_in(-42),
            status_at=iso_in(-42),
            kind="item",
            item_id=ITEM,
            item_name="Branded headphones",  # stored at request time (the catalogue is not looked up)
        ),
    ]

    def me_rewards(call: Call) -> dict[str, Any]:
        if call.query.get("cursor") == "c2":
            return ok(my_rewards(older))
        return ok(my_rewards([reward(), held], cursor="c2"))

    stub.api[("GET", "/rewards/me")] = me_rewards
    page.goto(f"{portal_url}#/organisation")
    expect(page.locator("#site-nav a")).to_have_text(PARTNER_NAV)
    page.get_by_test_id("nav-rewards").click()
    expect(page).to_have_url(re.compile(r"#/rewards$"))
    expect(page.get_by_test_id("nav-rewards")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rewards")

    points = page.locator("[data-testid=balance-card][data-unit=points]")
    expect(points.get_by_test_id("balance-available")).to_have_text("1,500 points")
    expect(points.get_by_test_id("balance-on-hold")).to_have_text("300 points")
    usd = page.locator("[data-testid=balance-card][data-unit=USD]")
    expect(usd.get_by_test_id("balance-available")).to_have_text("$120.00")
    expect(usd.get_by_test_id("balance-pending")).to_have_text("$50.00")
    expect(page.get_by_test_id("balance-blocked")).to_have_count(0)

    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(2)
    first = page.locator(f"[data-testid=history-row][data-id={REWARD}]")
    expect(first.get_by_test_id("history-campaign")).to_contain_text("Q1 Firewall Push")
    expect(first.get_by_test_id("history-rule")).to_have_text("500 points for each won deal")
    expect(first.get_by_test_id("history-source").get_by_role("link")).to_have_attribute("href", "#/deals/deal_01")
    expect(first.get_by_test_id("history-source")).to_have_text("Deal with Globex Ltd")  # the prospect, not the id
    expect(first.get_by_test_id("history-amount")).to_have_text("500 points")
    expect(first.get_by_test_id("history-status")).to_have_text("Available")
    expect(first.get_by_test_id("history-next-step")).to_have_text("Ready to redeem")
    expect(first.get_by_test_id("history-date")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    second = page.locator(f"[data-testid=history-row][data-id={REWARD_2}]")
    expect(second.get_by_test_id("history-source")).to_have_text("Certification cert_cne")
    expect(second.get_by_test_id("history-status")).to_have_text("On hold")
    expect(second.get_by_test_id("history-reason")).to_have_text("Checking the certificate with the LMS.")

    expect(first.get_by_test_id("history-paid-part")).to_have_count(0)
    page.get_by_test_id("history-load-more").click()
    expect(rows).to_have_count(6)
    partly = page.locator(f"[data-testid=history-row][data-id=rwd_{'d' * 32}]")
    expect(partly.get_by_test_id("history-status")).to_have_text("Available")
    expect(partly.get_by_test_id("history-paid-part")).to_have_text("200 points of it paid out")
    item = page.locator("[data-testid=history-row][data-id=rdm_01jq3w8p2fabcdefghjkmnpqzz]")
    expect(item.get_by_test_id("history-source")).to_have_text("Catalogue item: Branded headphones")
    expect(item.get_by_test_id("history-amount")).to_have_text("\u22121,000 points")
    expect(item.get_by_test_id("history-next-step")).to_have_text("The vendor sends the item")
    expect(page.get_by_test_id("history-load-more")).to_have_count(0)
    declined = rows.nth(2)
    expect(declined.get_by_test_id("history-status")).to_have_text("Declined")
    expect(declined.get_by_test_id("history-reason")).to_have_text("campaign budget exhausted")
    expect(declined.get_by_test_id("history-next-step")).to_have_text("None")
    paid = page.locator(f"[data-testid=history-row][data-id={REDEMPTION}]")
    expect(paid).to_have_attribute("data-type", "redemption")
    expect(paid.get_by_test_id("history-source")).to_have_text("Payout")
    expect(paid.get_by_test_id("history-amount")).to_have_text("\u2212$60.00")
    expect(paid.get_by_test_id("history-status")).to_have_text("Paid")
    # the line's date is when it was requested (`at`), its status date is beside the status
    expect(paid.get_by_test_id("history-date")).to_have_attribute("datetime", PAID_REQUESTED_AT)
    expect(paid.get_by_test_id("history-status-at")).to_have_attribute("datetime", PAID_STATUS_AT)
    assert stub.requests("GET", "/rewards/me")[-1].query == {"limit": "20", "cursor": "c2"}

    cards = page.get_by_test_id("campaign-card")
    expect(cards).to_have_count(2)
    push = page.locator(f"[data-testid=campaign-card][data-campaign-id={CAMPAIGN}]")
    expect(push.get_by_test_id("campaign-name")).to_have_text("Q1 Firewall Push")
    expect(push.get_by_test_id("campaign-rule")).to_have_text(
        ["500 points for each won deal", "200 points for each won deal that includes FW-100"]
    )
    expect(push.get_by_test_id("campaign-eligibility")).to_have_text("Open to regions: EMEA")
    webinar = page.locator(f"[data-testid=campaign-card][data-campaign-id={SPIFF_CAMPAIGN}]")
    expect(webinar.get_by_test_id("campaign-rule")).to_have_text(
        "100.00 USD for an approved claim: Host a customer webinar"
    )
    # a partner user (not an admin) gets no organisation totals
    expect(page.get_by_test_id("org-rewards")).to_have_count(0)
    assert stub.requests("GET", "/rewards/organisation") == []


def test_a_negative_balance_blocks_redemption_and_says_why(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/rewards/me")] = ok(
        my_rewards(
            [reward(status="reversed", status_reason="The deal's win was withdrawn.")],
            balances=[balance("USD", available=-2000, paid=10000)],
        )
    )
    page.goto(f"{portal_url}#/rewards")
    card = page.locator("[data-testid=balance-card][data-unit=USD]")
    expect(card.get_by_test_id("balance-available")).to_have_text("\u2212$20.00")
    expect(card.get_by_test_id("balance-blocked")).to_contain_text("redemption is blocked until you earn it back")
    expect(page.get_by_test_id("redeem-blocked")).to_contain_text("USD balance is negative")
    expect(page.get_by_test_id("history-reason")).to_have_text("The deal's win was withdrawn.")
    page.fill("#payout_amount", "50")
    expect(page.locator("#payout_amount-error")).to_contain_text("redemption is blocked until you earn it back")
    page.get_by_test_id("redeem").click()
    assert stub.requests("POST", "/rewards/redemptions") == []


def test_partner_admins_see_the_organisations_totals_per_person(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=("partner-admin",)))

    def person(email: str, unit: str, **values: int) -> dict[str, Any]:
        return {"person_email": email, "earned": 0, "reversed": 0, "declined": 0} | balance(unit, **values)

    stub.api[("GET", "/rewards/organisation")] = ok(
        {
            "people": [
                person("nancy@acme.example", "points", earned=2500, available=1500, pending=1000),
                person("ada@acme.example", "USD", earned=22000, available=12000, paid=10000),
            ],
            "totals": [
                {"unit": "USD", "earned": 22000, "available": 12000, "pending": 0, "on_hold": 0, "paid": 10000},
                {"unit": "points", "earned": 2500, "available": 1500, "pending": 1000, "on_hold": 0, "paid": 0},
            ],
        }
    )
    colleague = claim(person="nancy@acme.example")
    stub.api[("GET", "/rewards/claims")] = ok({"items": [colleague], "next_cursor": None})
    page.goto(f"{portal_url}#/rewards")
    expect(page.get_by_role("heading", name="Claims in your organisation")).to_be_visible()
    card = page.locator(f"[data-testid=claim-card][data-claim-id={CLAIM}]")
    expect(card.get_by_test_id("claim-person")).to_have_text("nancy@acme.example")
    expect(card.get_by_test_id("claim-status")).to_have_text("More proof needed")
    expect(card.get_by_test_id("claim-resubmit-open")).to_have_count(0)  # only Nancy resubmits her claim
    org = page.get_by_test_id("org-rewards")
    expect(org.get_by_role("heading", level=2)).to_have_text("Your organisation\u2019s rewards")
    people = org.get_by_test_id("org-person-row")
    expect(people.get_by_test_id("org-person-email")).to_have_text(["ada@acme.example", "nancy@acme.example"])
    nancy = org.locator('[data-testid=org-person-row][data-email="nancy@acme.example"]')
    expect(nancy.get_by_test_id("org-person-earned")).to_have_text("2,500 points")
    expect(nancy.get_by_test_id("org-person-pending")).to_have_text("1,000 points")
    usd = org.locator("[data-testid=org-total-row][data-unit=USD]")
    expect(usd.get_by_test_id("org-total-paid")).to_have_text("$100.00")


def test_the_organisations_rewards_add_up_with_declined_and_reversed(page: Page, stub: Stub, portal_url: str) -> None:
    """`GET /rewards/organisation` answers every bucket of each account and of the totals; `earned` is the sum of all
    the others (docs/rewards.md), so the page shows each of them and every row adds up."""
    stub.api[("GET", "/me")] = ok(me(roles=("partner-admin",)))
    stub.api[("GET", "/rewards/claims")] = ok({"items": [], "next_cursor": None})
    buckets = ["pending", "on_hold", "approved", "available", "reserved", "paid", "declined", "reversed"]
    ada = {"earned": 82500, "pending": 10000, "approved": 5000, "available": 20000, "reserved": 5000, "paid": 6500}
    ada |= {"declined": 21000, "reversed": 15000}
    # Bob's win was reversed after he redeemed it: the reversal takes it from Available, which goes below zero
    bob = {"earned": 30000, "available": -4000, "reserved": 4000, "paid": 15000, "reversed": 15000}
    people = [
        {
            "person_email": email,
            "earned": v["earned"],
            "reversed": v.get("reversed", 0),
            "declined": v.get("declined", 0),
        }
        | balance("USD", **{k: n for k, n in v.items() if k not in {"earned", "reversed", "declined"}})
        for email, v in (("ada@acme.example", ada), ("bob@acme.example", bob))
    ]
    for person in people:
        assert person["earned"] == sum(person[key] for key in buckets)  # the canned answer is consistent
    stub.api[("GET", "/rewards/organisation")] = ok(
        {
            "people": people,
            # as the API sums them (functions/rewards/rewards/api.py): every bucket of the people's accounts
            "totals": [{"unit": "USD"} | {key: sum(p[key] for p in people) for key in ("earned", *buckets)}],
        }
    )
    page.goto(f"{portal_url}#/rewards")
    org = page.get_by_test_id("org-rewards")
    headers = [
        "Earned",
        "Pending",
        "On hold",
        "Approved",
        "Available",
        "Being redeemed",
        "Paid",
        "Declined",
        "Reversed",
    ]
    expect(org.get_by_test_id("org-totals").locator("th[scope=col]")).to_have_text(["Unit", *headers])
    expect(org.get_by_test_id("org-people").locator("th[scope=col]")).to_have_text(["Person", "Unit", *headers])
    expect(org.get_by_test_id("org-rewards-legend")).to_contain_text("declined (never granted) and reversed")

    row = org.locator('[data-testid=org-person-row][data-email="ada@acme.example"]')
    expected = {"earned": "$825.00", "pending": "$100.00", "on-hold": "$0.00", "approved": "$50.00"}
    expected |= {"available": "$200.00", "reserved": "$50.00", "paid": "$65.00", "declined": "$210.00"}
    expected |= {"reversed": "$150.00"}
    for key, text in expected.items():
        expect(row.get_by_test_id(f"org-person-{key}")).to_have_text(text)
    bob_row = org.locator('[data-testid=org-person-row][data-email="bob@acme.example"]')
    expect(bob_row.get_by_test_id("org-person-available")).to_have_text("\u2212$40.00")
    expect(bob_row.get_by_test_id("org-person-reversed")).to_have_text("$150.00")

    total = org.locator("[data-testid=org-total-row][data-unit=USD]")
    totals = {"earned": "$1,125.00", "pending": "$100.00", "approved": "$50.00", "available": "$160.00"}
    totals |= {"reserved": "$90.00", "paid": "$215.00", "declined": "$210.00", "reversed": "$300.00"}
    for key, text in totals.items():
        expect(total.get_by_test_id(f"org-total-{key}")).to_have_text(text)
    # every row adds up as shown: Earned is the sum of the other columns
    for shown in (row, bob_row, total):
        figures = shown.locator("td.num").all_inner_texts()
        cents = [round(float(t.replace("\u2212", "-").replace("$", "").replace(",", "")) * 100) for t in figures]
        assert cents[0] == sum(cents[1:]), figures


# ---------------------------------------------------------------------------------------------- redemption


def test_a_payout_shows_its_minimum_validates_as_you_type_and_is_sent_once(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("POST", "/rewards/redemptions")] = [
        error(
            409,
            "insufficient_balance",
            "Not enough available balance.",
            [{"field": "amount", "message": "only $120.00 is available"}],
        ),
        ok(redemption(), 201),
    ]
    page.goto(f"{portal_url}#/rewards")
    expect(page.get_by_test_id("payout-minimum")).to_have_text("The smallest payout is $50.00. Available: $120.00.")
    page.fill("#payout_amount", "20")
    expect(page.locator("#payout_amount-error")).to_have_text("The smallest payout is $50.00.")
    page.fill("#payout_amount", "130")
    expect(page.locator("#payout_amount-error")).to_have_text("You have $120.00 available.")
    page.fill("#payout_amount", "60")
    expect(page.locator("#payout_amount-error")).to_be_hidden()
    page.get_by_test_id("redeem").click()
    expect(page.locator("#payout_amount-error")).to_have_text("Only $120.00 is available")
    page.get_by_test_id("redeem").click()
    expect(page.get_by_test_id("action-result")).to_contain_text("Payout of $60.00 requested")
    posts = stub.requests("POST", "/rewards/redemptions")
    assert [p.body for p in posts] == [{"kind": "payout", "amount": {"amount_minor": 6000, "currency": "USD"}}] * 2
    key = posts[0].headers["idempotency-key"]
    assert UUID.match(key) and posts[1].headers["idempotency-key"] == key  # the same fill is one redemption


def test_a_catalogue_item_shows_its_cost_and_stock(page: Page, stub: Stub, portal_url: str) -> None:
    sold_out = CATALOGUE_ITEM | {"item_id": "item_01jq3w8p2fabcdefghjkmnpqzz", "name": "Jacket", "stock": 0}
    stub.api[("GET", "/rewards/catalogue")] = ok({"items": [CATALOGUE_ITEM, sold_out]})
    stub.api[("POST", "/rewards/redemptions")] = ok(
        redemption(
            kind="item", item_id=ITEM, item_name="Branded headphones", amount={"amount": 1000, "unit": "points"}
        ),
        201,
    )
    stub.api[("GET", "/rewards/redemptions")] = ok(
        {
            "items": [
                redemption(
                    status="on_hold", status_reason="tax form required", status_at=iso_in(-1), requested_at=iso_in(-2)
                )
            ],
            "next_cursor": None,
        }
    )
    page.goto(f"{portal_url}#/rewards")
    row = page.locator(f"[data-testid=redemption-row][data-redemption-id={REDEMPTION}]")
    expect(row.get_by_test_id("redemption-status")).to_have_text("On hold")
    expect(row.get_by_test_id("redemption-reason")).to_have_text("tax form required")
    expect(row.get_by_test_id("redemption-next-step")).to_have_text(
        "Paid once your organisation\u2019s tax form is on file"
    )
    expect(row.get_by_test_id("redemption-amount")).to_have_text("$60.00")

    page.select_option("#redeem_kind", "item")
    expect(page.get_by_test_id("payout-fields")).to_be_hidden()
    expect(page.locator("#redeem_item option")).to_have_text(
        [
            "Choose an item…",
            "Branded headphones \u2013 1,000 points (3 in stock)",
            "Jacket \u2013 1,000 points (out of stock)",
        ]
    )
    page.select_option("#redeem_item", "item_01jq3w8p2fabcdefghjkmnpqzz")
    expect(page.locator("#redeem_item-error")).to_have_text("Jacket is out of stock.")
    page.select_option("#redeem_item", ITEM)
    expect(page.get_by_test_id("item-cost")).to_have_text(
        "Branded headphones costs 1,000 points; 3 in stock. You have 1,500 points available."
    )
    page.get_by_test_id("redeem").click()
    expect(page.get_by_test_id("action-result")).to_contain_text("Redeemed 1,000 points for Branded headphones")
    post = stub.requests("POST", "/rewards/redemptions")[0]
    assert post.body == {"kind": "item", "item_id": ITEM}
    assert UUID.match(post.headers["idempotency-key"])


# ---------------------------------------------------------------------------------------------- claims


def test_a_spiff_claim_uploads_its_proof_then_is_filed(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/rewards/claims/uploads")] = [ok(upload_slot(FILE_1), 201), ok(upload_slot(FILE_2), 201)]
    stub.external[("POST", BUCKET)] = raw(204)
    stub.api[("POST", "/rewards/claims")] = [
        error(
            422,
            "validation_error",
            "Some proof files are not acceptable.",
            [{"field": "proof_files.1", "message": "photo.png is not a PNG image"}],
        ),
        ok(claim(status="submitted", status_reason=None), 201),
    ]
    page.goto(f"{portal_url}#/rewards")
    expect(page.locator("#claim_rule")).to_have_value(f"{SPIFF_CAMPAIGN}::r1")  # the only SPIFF open
    page.locator(f"[data-testid=campaign-card][data-campaign-id={SPIFF_CAMPAIGN}]").get_by_test_id(
        "campaign-claim"
    ).click()
    expect(page.get_by_role("heading", name="Claim a SPIFF")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/rewards$"))  # the page's own jump, not a route
    page.get_by_test_id("file-claim").click()
    expect(page.locator("#claim_description-error")).to_have_text("Say what the claim is for.")
    expect(page.locator("#claim_files-error")).to_have_text("Attach at least one proof file.")
    page.fill("#claim_description", "Webinar with Contoso Bank, 40 attendees")
    page.set_input_files(
        "#claim_files",
        [
            {"name": "attendees.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 list"},
            {"name": "photo.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n"},
            {"name": "notes.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"},
        ],
    )
    expect(page.locator("[data-testid=proof-item][data-file-name='notes.exe']")).to_have_attribute(
        "data-state", "invalid"
    )
    page.locator("[data-testid=proof-item][data-file-name='notes.exe']").get_by_test_id("proof-remove").click()
    expect(page.locator("[data-testid=proof-item][data-state=uploaded]")).to_have_count(2)
    uploads = stub.requests("POST", "/rewards/claims/uploads")
    assert [u.body for u in uploads] == [
        {"file_name": "attendees.pdf", "content_type": "application/pdf", "size_bytes": 13},
        {"file_name": "photo.png", "content_type": "image/png", "size_bytes": 6},
    ]
    parts = stub.sent_to("POST", BUCKET)[0].multipart()
    assert [p.name for p in parts][-1] == "file" and parts[0].name == "key"

    page.get_by_test_id("file-claim").click()
    photo = page.locator("[data-testid=proof-item][data-file-name='photo.png']")
    expect(photo).to_have_attribute("data-state", "refused")
    expect(page.locator("#claim_files-error")).to_contain_text("photo.png is not a PNG image")
    photo.get_by_test_id("proof-remove").click()
    page.get_by_test_id("file-claim").click()
    expect(page.get_by_test_id("action-result")).to_contain_text("Your claim was filed")
    posts = stub.requests("POST", "/rewards/claims")
    assert posts[-1].body == {
        "campaign_id": SPIFF_CAMPAIGN,
        "rule_id": "r1",
        "description": "Webinar with Contoso Bank, 40 attendees",
        "proof_files": [FILE_1],
    }
    assert UUID.match(posts[-1].headers["idempotency-key"])


def test_a_claim_returned_for_more_proof_is_resubmitted(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/rewards/claims")] = ok({"items": [claim()], "next_cursor": None})
    stub.api[("POST", "/rewards/claims/uploads")] = ok(upload_slot(FILE_2), 201)
    stub.external[("POST", BUCKET)] = raw(204)
    stub.api[("POST", f"/rewards/claims/{CLAIM}/resubmit")] = ok(claim(status="submitted", round=2), 200)
    page.goto(f"{portal_url}#/rewards")
    card = page.locator(f"[data-testid=claim-card][data-claim-id={CLAIM}]")
    expect(card.get_by_test_id("claim-status")).to_have_text("More proof needed")
    expect(card.get_by_test_id("claim-reason")).to_contain_text("Add the attendee list with company names.")
    expect(card.get_by_test_id("claim-next-step")).to_have_text("Add proof and resubmit")
    expect(card.get_by_test_id("claim-amount")).to_have_text("$100.00")
    card.get_by_test_id("claim-resubmit-open").click()
    form = card.get_by_test_id("resubmit-form")
    expect(card.get_by_test_id("claim-resubmit-open")).to_have_count(0)
    expect(form.locator("[data-testid=proof-item][data-state=attached]")).to_have_count(1)
    form.locator("input[type=file]").set_input_files(
        {"name": "list.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 names"}
    )
    expect(form.locator("[data-testid=proof-item][data-state=uploaded]")).to_have_count(1)
    form.get_by_test_id("resubmit-claim").click()
    expect(page.get_by_test_id("action-result")).to_contain_text("resubmitted")
    post = stub.requests("POST", f"/rewards/claims/{CLAIM}/resubmit")[0]
    assert post.body == {"description": "Webinar with Contoso Bank, 40 attendees", "proof_files": [FILE_1, FILE_2]}
    assert UUID.match(post.headers["idempotency-key"])


# ---------------------------------------------------------------------------------------------- vendor admin

VENDOR_CAMPAIGN = campaign(
    budget=100000, committed=2500, remaining=97500, per_partner_cap=None, auto_approve_below=1000
)


@pytest.fixture
def vendor(stub: Stub) -> Stub:
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/periods")] = ok({"items": []})
    stub.api[("GET", "/mdf/partners")] = ok(
        {"items": [{"partner_id": PARTNER_ID, "company_name": "Acme Networks", "country": "GB"}], "next_cursor": None}
    )
    stub.api[("GET", "/rewards/campaigns")] = ok({"items": [VENDOR_CAMPAIGN]})
    return stub


def test_vendor_admin_creates_a_campaign_with_rules_in_plain_words(page: Page, vendor: Stub, portal_url: str) -> None:
    created = campaign(campaign_id="cmp_01NEWCAMPAIGN", name="FY27 SPIFF", unit="USD", budget=500000, committed=0)
    vendor.api[("POST", "/rewards/campaigns")] = [
        error(
            422,
            "validation_error",
            "Request body is invalid.",
            [{"field": "rules.1.spiff_claim.description", "message": "String should have at least 1 character"}],
        ),
        ok(created, 201),
    ]
    page.goto(f"{portal_url}#/admin/rewards")
    expect(page.locator("#site-nav a")).to_have_text(VENDOR_NAV)
    expect(page.get_by_test_id("nav-rewards-admin")).to_have_attribute("aria-current", "page")
    row = page.locator(f"[data-testid=campaign-row][data-campaign-id={CAMPAIGN}]")
    expect(row.get_by_test_id("campaign-budget")).to_contain_text("2,500 points of 100,000 points")
    expect(row.get_by_test_id("campaign-rule")).to_have_text(
        ["500 points for each won deal", "200 points for each won deal that includes FW-100"]
    )

    form = page.get_by_test_id("campaign-form")
    page.fill("#campaign_name", "FY27 SPIFF")
    page.select_option("#campaign_unit", "USD")
    page.fill("#campaign_starts_on", day_in(1))
    page.fill("#campaign_ends_on", day_in(0))
    expect(page.locator("#campaign_ends_on-error")).to_have_text("The campaign cannot end before it starts.")
    page.fill("#campaign_ends_on", day_in(90))
    page.fill("#campaign_budget", "5000")
    page.fill("#campaign_cap", "6000")
    expect(page.locator("#campaign_cap-error")).to_have_text("The cap per partner cannot be more than the budget.")
    page.fill("#campaign_cap", "1000")
    page.fill("#campaign_auto_approve", "100")
    page.check("#campaign_regions-EMEA")
    page.fill("#campaign_tiers", "gold, Platinum")
    expect(page.locator("#campaign_tiers-error")).to_contain_text("Not a tier id: Platinum")
    page.fill("#campaign_tiers", "gold")
    rules = form.get_by_test_id("rule-item")
    first = rules.nth(0)
    first.locator("select").first.select_option("deal_won_per_thousand")
    first.locator("input[data-rule-field=amount]").fill("2.50")
    first.locator("select[data-rule-field=currency]").select_option("EUR")
    expect(first.get_by_test_id("rule-preview")).to_have_text(
        "Partners read: “2.50 USD per 1,000 EUR of won deal value (deals won in EUR only; rounded down)”"
    )
    page.get_by_test_id("add-rule").click()
    second = rules.nth(1)
    second.locator("select").first.select_option("spiff_claim")
    second.locator("input[data-rule-field=amount]").fill("100")
    second.locator("textarea[data-rule-field=description]").fill(" ")
    page.get_by_test_id("save-campaign").click()  # the empty description: the server's error lands on it
    assert len(vendor.requests("POST", "/rewards/campaigns")) == 0
    second.locator("textarea[data-rule-field=description]").fill("x")
    page.get_by_test_id("save-campaign").click()
    expect(second.locator(".field-error:visible")).to_have_text("String should have at least 1 character")
    second.locator("textarea[data-rule-field=description]").fill("Host a customer webinar")
    expect(second.get_by_test_id("rule-preview")).to_have_text(
        "Partners read: “100.00 USD for an approved claim: Host a customer webinar”"
    )
    page.get_by_test_id("save-campaign").click()
    expect(form.get_by_test_id("admin-result")).to_have_text("Created FY27 SPIFF (cmp_01NEWCAMPAIGN).")
    posts = vendor.requests("POST", "/rewards/campaigns")
    assert posts[-1].body == {
        "name": "FY27 SPIFF",
        "description": "",
        "starts_on": day_in(1),
        "ends_on": day_in(90),
        "unit": "USD",
        "eligibility": {"tiers": ["gold"], "regions": ["EMEA"], "partner_types": []},
        "budget": 500000,
        "per_partner_cap": 100000,
        "auto_approve_below": 10000,
        "available_after_days": 0,
        "rules": [
            {"kind": "deal_won_per_thousand", "currency": "EUR", "amount_per_thousand": 250},
            {"kind": "spiff_claim", "amount": 10000, "description": "Host a customer webinar"},
        ],
    }
    assert UUID.match(posts[-1].headers["idempotency-key"])
    assert posts[-1].headers["idempotency-key"] != posts[0].headers["idempotency-key"]  # another fill, another key
    expect(form.get_by_test_id("rule-item")).to_have_count(1)  # the form starts afresh


def test_vendor_admin_edits_and_closes_a_campaign(page: Page, vendor: Stub, portal_url: str) -> None:
    vendor.api[("PATCH", f"/rewards/campaigns/{CAMPAIGN}")] = ok(VENDOR_CAMPAIGN | {"budget": 150000})
    vendor.api[("POST", f"/rewards/campaigns/{CAMPAIGN}/close")] = ok(VENDOR_CAMPAIGN | {"status": "closed"})
    page.goto(f"{portal_url}#/admin/rewards")
    row = page.locator(f"[data-testid=campaign-row][data-campaign-id={CAMPAIGN}]")
    expect(page.get_by_test_id("cancel-edit")).to_have_count(0)
    row.get_by_test_id("campaign-edit").click()
    expect(page.get_by_test_id("campaign-form-mode")).to_have_text("Edit Q1 Firewall Push")
    expect(page.get_by_test_id("cancel-edit")).to_be_visible()
    expect(page.locator("#campaign_unit")).to_be_disabled()
    expect(page.get_by_test_id("rules-locked")).to_be_visible()  # it started 10 days ago
    expect(page.locator("#campaign_budget")).to_have_value("100000")
    page.fill("#campaign_budget", "150000")
    page.get_by_test_id("save-campaign").click()
    expect(page.get_by_test_id("campaign-form").get_by_test_id("admin-result")).to_have_text("Saved Q1 Firewall Push.")
    patch = vendor.requests("PATCH", f"/rewards/campaigns/{CAMPAIGN}")[0]
    assert patch.body["budget"] == 150000 and patch.body["auto_approve_below"] == 1000
    assert "rules" not in patch.body and "unit" not in patch.body and "starts_on" not in patch.body

    row.get_by_test_id("campaign-close").click()
    row.get_by_test_id("campaign-close-confirm").click()
    expect(page.get_by_test_id("campaign-row")).to_have_count(1)
    close = vendor.requests("POST", f"/rewards/campaigns/{CAMPAIGN}/close")
    assert len(close) == 1 and close[0].body == {} and UUID.match(close[0].headers["idempotency-key"])


def attention(reward_id: str = REWARD, **changes: Any) -> dict[str, Any]:
    """A reward as vendor staff get it from `GET /rewards/rewards?status=…` (functions/rewards/rewards/api.py)."""
    return {
        "reward_id": reward_id,
        "partner": {"partner_id": PARTNER_ID, "name": "Acme Networks"},
        "person_email": "ada@acme.example",
        "campaign_id": CAMPAIGN,
        "campaign_name": "Q1 Firewall Push",
        "rule": "500 points for each won deal",
        "source": {"kind": "deal", "id": "deal_01", "revision": 1, "description": "Deal deal_01 won"},
        "amount": 500,
        "unit": "points",
        "amount_in_words": "500 points",
        "status": "pending",
        "status_reason": None,
        "status_at": iso_in(-1),
        "earned_at": iso_in(-1),
        "fact_at": iso_in(-2),
        "available_at": None,
        "approval_lapsed": False,
        "next_step": "Waiting for the approver's decision (email link); hold it to pause with a reason",
        "history": [],
    } | changes


def by_status(lists: dict[str, list[dict[str, Any]]], more: dict[str, Any] | None = None) -> Any:
    """`GET /rewards/rewards`: the list of the asked status (a second page when the cursor is `page2`)."""

    def answer(call: Call) -> dict[str, Any]:
        if call.query.get("cursor") == "page2":
            return ok({"items": (more or {}).get(call.query["status"], []), "next_cursor": None})
        wanted = call.query.get("campaign_id")
        items = [i for i in lists.get(call.query["status"], []) if wanted in (None, i["campaign_id"])]
        return ok({"items": items, "next_cursor": "page2" if (more or {}).get(call.query["status"]) else None})

    return answer


def test_vendor_admin_sees_what_needs_attention_and_holds_a_pending_reward(
    page: Page, vendor: Stub, portal_url: str
) -> None:
    lists = {"pending": [attention(), attention(REWARD_2, person_email="bob@acme.example")], "on_hold": []}
    later = attention("rwd_" + "c" * 32, person_email="cy@acme.example")
    vendor.api[("GET", "/rewards/rewards")] = by_status(lists, {"pending": [later]})

    def hold(call: Call) -> dict[str, Any]:
        held = attention(status="on_hold", status_reason=call.body["reason"], next_step="On hold: release it")
        lists["pending"] = lists["pending"][1:]
        lists["on_hold"] = [held]
        return ok(held)

    vendor.api[("POST", f"/rewards/{REWARD}/hold")] = hold
    page.goto(f"{portal_url}#/admin/rewards/attention")
    expect(page.get_by_test_id("rewards-tab-attention")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("nav-rewards-admin")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("attention-empty-on_hold")).to_have_text("No reward is on hold.")
    row = page.locator(f"[data-testid=attention-row][data-reward-id={REWARD}]")
    expect(row.get_by_test_id("attention-person")).to_have_text("ada@acme.example")
    expect(row.get_by_test_id("attention-partner")).to_have_text("Acme Networks")
    expect(row.get_by_test_id("attention-campaign-name")).to_have_text("Q1 Firewall Push")
    expect(row.get_by_test_id("attention-rule")).to_have_text("500 points for each won deal")
    expect(row.get_by_test_id("attention-amount")).to_have_text("500 points")
    expect(row.get_by_test_id("attention-source")).to_have_text("Deal deal_01")
    expect(row.get_by_test_id("attention-status")).to_have_text("Pending")
    expect(row.get_by_test_id("attention-next-step")).to_contain_text("approver")
    expect(row.get_by_test_id("reward-release")).to_have_count(0)
    page.get_by_test_id("attention-more-pending").click()
    expect(page.locator("[data-testid=attention-table-pending] [data-testid=attention-row]")).to_have_count(3)
    row.get_by_test_id("reward-hold").click()
    row.get_by_test_id("reward-hold-confirm").click()
    expect(row.get_by_test_id("reward-hold-error")).to_have_text("Say why the reward is held.")
    row.get_by_test_id("reward-hold-reason").fill("Checking the deal with the distributor.")
    row.get_by_test_id("reward-hold-confirm").click()
    held = page.locator(f"[data-testid=attention-table-on_hold] [data-reward-id={REWARD}]")
    expect(held.get_by_test_id("attention-reason")).to_have_text("Checking the deal with the distributor.")
    expect(held.get_by_test_id("attention-status")).to_have_text("On hold")
    expect(page.locator("[data-testid=attention-table-pending] [data-testid=attention-row]")).to_have_count(1)
    post = vendor.requests("POST", f"/rewards/{REWARD}/hold")[0]
    assert post.body == {"reason": "Checking the deal with the distributor."}
    assert UUID.match(post.headers["idempotency-key"])
    queries = [c.query for c in vendor.requests("GET", "/rewards/rewards")]
    assert {"status": "pending", "limit": "20"} in queries and {"status": "on_hold", "limit": "20"} in queries
    assert {"status": "pending", "limit": "20", "cursor": "page2"} in queries


def test_vendor_admin_releases_or_declines_a_held_reward_and_filters_by_campaign(
    page: Page, vendor: Stub, portal_url: str
) -> None:
    lapsed = attention(
        status="on_hold",
        status_reason="Waiting for the PO",
        approval_lapsed=True,
        next_step="On hold and its approval lapsed: release it to ask the approver again, or decline it",
    )
    other = attention(REWARD_2, status="on_hold", status_reason="Duplicate?", person_email="bob@acme.example")
    lists: dict[str, list[dict[str, Any]]] = {"pending": [], "on_hold": [lapsed, other]}
    vendor.api[("GET", "/rewards/rewards")] = by_status(lists)

    def release(call: Call) -> dict[str, Any]:
        lists["on_hold"] = [other]
        lists["pending"] = [attention(campaign_id="cmp_01OTHERCAMP")]
        return ok(attention())

    def decline(call: Call) -> dict[str, Any]:
        lists["on_hold"] = []
        return ok(attention(REWARD_2, status="declined", status_reason=call.body["reason"]))

    vendor.api[("POST", f"/rewards/{REWARD}/release")] = release
    vendor.api[("POST", f"/rewards/{REWARD_2}/decline")] = [
        error(409, "invalid_state", "The reward is declined already."),
        decline,
    ]
    page.goto(f"{portal_url}#/admin/rewards/attention")
    row = page.locator(f"[data-testid=attention-table-on_hold] [data-reward-id={REWARD}]")
    expect(row.get_by_test_id("attention-next-step")).to_contain_text("lapsed")
    expect(row.get_by_test_id("reward-hold")).to_have_count(0)
    row.get_by_test_id("reward-release").click()
    expect(page.locator(f"[data-testid=attention-table-pending] [data-reward-id={REWARD}]")).to_be_visible()
    assert vendor.requests("POST", f"/rewards/{REWARD}/release")[0].body == {}

    second = page.locator(f"[data-testid=attention-table-on_hold] [data-reward-id={REWARD_2}]")
    second.get_by_test_id("reward-decline").click()
    second.get_by_test_id("reward-decline-reason").fill("x" * 501)
    second.get_by_test_id("reward-decline-confirm").click()
    expect(second.get_by_test_id("reward-decline-error")).to_contain_text("500 characters or fewer")
    second.get_by_test_id("reward-decline-reason").fill("Duplicate of deal_01")
    second.get_by_test_id("reward-decline-confirm").click()
    expect(second.get_by_test_id("reward-action-state")).to_contain_text("The reward is declined already.")
    second.get_by_test_id("reward-decline-confirm").click()
    expect(page.get_by_test_id("attention-empty-on_hold")).to_be_visible()
    declines = vendor.requests("POST", f"/rewards/{REWARD_2}/decline")
    assert [d.body for d in declines] == [{"reason": "Duplicate of deal_01"}] * 2
    assert declines[0].headers["idempotency-key"] == declines[1].headers["idempotency-key"]  # one decision, retried

    page.get_by_test_id("attention-campaign").select_option(CAMPAIGN)  # the released one is another campaign's
    expect(page.get_by_test_id("attention-empty-pending")).to_have_text("No reward is waiting for the approver.")
    assert {"status": "pending", "limit": "20", "campaign_id": CAMPAIGN} in [
        c.query for c in vendor.requests("GET", "/rewards/rewards")
    ]


def test_the_campaigns_tab_has_no_hold_form_any_more(page: Page, vendor: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/admin/rewards")
    expect(page.get_by_test_id("campaigns-table")).to_be_visible()
    expect(page.get_by_test_id("hold-form")).to_have_count(0)
    expect(page.get_by_test_id("rewards-tab-attention")).to_have_text("Needs attention")


def test_vendor_admin_keeps_the_catalogue_and_sends_redeemed_items(page: Page, vendor: Stub, portal_url: str) -> None:
    added = CATALOGUE_ITEM | {
        "item_id": "item_01jq3w8p2fabcdefghjkmnpqyy",
        "name": "Mug",
        "cost_points": 200,
        "stock": 50,
    }
    vendor.api[("POST", "/rewards/catalogue")] = ok(added, 201)
    vendor.api[("PATCH", f"/rewards/catalogue/{ITEM}")] = ok(CATALOGUE_ITEM | {"stock": 10})
    waiting = redemption(
        kind="item", item_id=ITEM, item_name="Branded headphones", amount={"amount": 1000, "unit": "points"}
    )
    vendor.api[("GET", "/rewards/redemptions")] = [
        ok({"items": [waiting], "next_cursor": None}),
        ok({"items": [], "next_cursor": None}),
    ]
    vendor.api[("POST", f"/rewards/redemptions/{REDEMPTION}/fulfil")] = ok(waiting | {"status": "fulfilled"})
    page.goto(f"{portal_url}#/admin/rewards/catalogue")
    expect(page.get_by_test_id("nav-rewards-admin")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("rewards-tab-catalogue")).to_have_attribute("aria-current", "page")
    row = page.locator(f"[data-testid=catalogue-row][data-item-id={ITEM}]")
    expect(row.get_by_test_id("item-cost")).to_have_text("1,000 points")
    row.get_by_test_id("item-stock").fill("ten")
    expect(row.locator(".field-error")).to_contain_text("Enter a whole number")
    row.get_by_test_id("item-stock").fill("10")
    row.get_by_test_id("save-stock").click()
    expect(row.get_by_test_id("stock-saved")).to_have_text("Saved: 10 in stock.")
    assert vendor.requests("PATCH", f"/rewards/catalogue/{ITEM}")[0].body == {"stock": 10}

    page.fill("#item_name", "Mug")
    page.fill("#item_description", "Ceramic.")
    page.fill("#item_cost", "0")
    expect(page.locator("#item_cost-error")).to_have_text("An item costs at least 1 point.")
    page.fill("#item_cost", "200")
    page.fill("#item_stock", "50")
    page.get_by_test_id("add-item").click()
    expect(page.get_by_test_id("item-form").get_by_test_id("admin-result")).to_have_text(
        "Added Mug: 200 points, 50 in stock."
    )
    post = vendor.requests("POST", "/rewards/catalogue")[0]
    assert post.body == {"name": "Mug", "description": "Ceramic.", "cost_points": 200, "stock": 50}
    assert UUID.match(post.headers["idempotency-key"])

    send = page.locator(f"[data-testid=send-row][data-redemption-id={REDEMPTION}]")
    expect(send).to_contain_text("ada@acme.example")
    send.get_by_test_id("fulfil").click()
    expect(page.get_by_test_id("items-to-send-empty")).to_be_visible()
    assert vendor.requests("GET", "/rewards/redemptions")[0].query == {
        "kind": "item",
        "status": "requested",
        "limit": "50",
    }


def test_finance_batches_downloads_and_pays_payouts_and_records_a_tax_form(
    page: Page, vendor: Stub, portal_url: str
) -> None:
    approved = redemption(status="approved", status_at=iso_in(-1))
    batch = {
        "batch_id": BATCH,
        "status": "ready",
        "payout_ids": [REDEMPTION],
        "rows": [
            {
                "partner_id": PARTNER_ID,
                "company_name": "Acme Networks",
                "person": "ada@acme.example",
                "currency": "USD",
                "total_minor": 6000,
                "count": 1,
                "payout_ids": [REDEMPTION],
            }
        ],
        "totals": [{"amount_minor": 6000, "currency": "USD"}],
        "created_by": "finance@vendor.example",
        "created_at": iso_in(0),
        "paid_by": None,
        "paid_at": None,
        "revision": 1,
    }
    download_url = "https://rewards-bucket.s3.amazonaws.com/payout-batches/batch.csv"
    vendor.api[("GET", "/rewards/redemptions")] = [
        ok({"items": [approved], "next_cursor": None}),
        ok({"items": [], "next_cursor": None}),
    ]
    vendor.api[("GET", "/rewards/payout-batches")] = [
        ok({"items": [], "next_cursor": None}),
        ok({"items": [batch], "next_cursor": None}),
        ok({"items": [batch | {"status": "paid", "paid_at": iso_in(0), "paid_by": "finance@vendor.example"}]}),
    ]
    vendor.api[("POST", "/rewards/payout-batches")] = ok(batch, 201)
    vendor.api[("GET", f"/rewards/payout-batches/{BATCH}")] = ok(
        batch | {"download": {"url": download_url, "expires_in": 300}}
    )
    vendor.external[("GET", download_url)] = raw(200, b"partner_id,company_name\n", {"Content-Type": "text/plain"})
    vendor.api[("POST", f"/rewards/payout-batches/{BATCH}/paid")] = ok(batch | {"status": "paid"})
    vendor.api[("POST", f"/rewards/partners/{PARTNER_ID}/tax-form")] = ok(
        {
            "tax_form": {"partner_id": PARTNER_ID, "reference": "W-9 2026", "received_on": day_in(-1)},
            "released": [redemption(status="approved")],
        }
    )
    held = redemption(
        redemption_id="rdm_01jq3w8p2fheldheldheldhz",
        amount={"amount": 45000, "unit": "USD"},
        status="on_hold",
        status_reason="tax form required",
        status_at=iso_in(-2),
        requested_at=iso_in(-3),
    ) | {"payee": "ada@acme.example", "partner_name": "Acme Networks"}
    vendor.api[("GET", "/rewards/payouts")] = [
        ok({"items": [held], "next_cursor": None}),
        ok({"items": [], "next_cursor": None}),
    ]
    page.goto(f"{portal_url}#/admin/rewards/payouts")
    waiting = page.locator("[data-testid=held-payout-row][data-redemption-id=rdm_01jq3w8p2fheldheldheldhz]")
    expect(waiting.get_by_test_id("held-partner")).to_contain_text("Acme Networks")
    expect(waiting.get_by_test_id("held-payee")).to_have_text("ada@acme.example")
    expect(waiting.get_by_test_id("held-amount")).to_have_text("$450.00")
    expect(waiting.get_by_test_id("held-reason")).to_have_text("tax form required")
    assert vendor.requests("GET", "/rewards/payouts")[0].query == {"status": "on_hold", "limit": "100"}
    payout = page.locator(f"[data-testid=payout-row][data-redemption-id={REDEMPTION}]")
    expect(payout.get_by_test_id("payout-amount")).to_have_text("$60.00")
    expect(page.get_by_test_id("batches-empty")).to_be_visible()
    page.get_by_test_id("create-batch").click()
    expect(page.get_by_test_id("batch-form").get_by_test_id("admin-result")).to_have_text(
        f"Batch {BATCH} created: 1 payee, 1 payout."
    )
    row = page.locator(f"[data-testid=batch-row][data-batch-id={BATCH}]")
    expect(row.get_by_test_id("batch-totals")).to_have_text("$60.00")
    expect(row.get_by_test_id("batch-next-step")).to_have_text("Pay each row of the CSV, then mark the batch paid")
    expect(page.get_by_test_id("approved-payouts-empty")).to_be_visible()
    create = vendor.requests("POST", "/rewards/payout-batches")[0]
    assert create.body == {} and UUID.match(create.headers["idempotency-key"])

    with page.expect_popup() as popup:
        row.get_by_test_id("batch-download").click()
    popup.value.wait_for_url(download_url)
    expect(row.get_by_test_id("batch-state")).to_have_text("Opened in a new tab. The link works for 5 minutes.")

    row.get_by_test_id("batch-mark-paid").click()
    row.get_by_test_id("batch-mark-paid-confirm").click()
    expect(row.get_by_test_id("batch-status")).to_have_text("Paid")
    expect(row.get_by_test_id("batch-next-step")).to_have_text("None")
    paid = vendor.requests("POST", f"/rewards/payout-batches/{BATCH}/paid")
    assert len(paid) == 1 and UUID.match(paid[0].headers["idempotency-key"])

    waiting.get_by_test_id("held-record-tax-form").click()  # the held payout's partner fills the form
    expect(page.locator("#tax_partner")).to_have_value(PARTNER_ID)
    expect(page.locator("#tax_reference")).to_be_focused()
    page.fill("#tax_reference", "W-9 2026")
    page.fill("#tax_received_on", day_in(1))
    expect(page.locator("#tax_received_on-error")).to_have_text("The day it was received cannot be in the future.")
    page.fill("#tax_received_on", day_in(-1))
    page.get_by_test_id("record-tax-form").click()
    expect(page.get_by_test_id("tax-form").get_by_test_id("admin-result")).to_have_text(
        "Tax form W-9 2026 is on file for Acme Networks. 1 held payout was released."
    )
    tax = vendor.requests("POST", f"/rewards/partners/{PARTNER_ID}/tax-form")[0]
    assert tax.body == {"reference": "W-9 2026", "received_on": day_in(-1)}
    expect(page.get_by_test_id("held-payouts-empty")).to_be_visible()  # released: the lists are read again


def test_partner_users_do_not_get_the_rewards_admin_pages(page: Page, stub: Stub, portal_url: str) -> None:
    for route in ("/admin/rewards", "/admin/rewards/attention", "/admin/rewards/catalogue", "/admin/rewards/payouts"):
        page.goto(f"{portal_url}#{route}")
        expect(page.get_by_test_id("not-vendor-admin")).to_be_visible()
        expect(page.get_by_test_id("nav-rewards-admin")).to_have_count(0)
    assert stub.requests("GET", "/rewards/payout-batches") == []
