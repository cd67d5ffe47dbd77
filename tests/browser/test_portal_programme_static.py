"""Browser tests of the portal's programme and training pages (#/programme, #/training, #/admin/training) with no
backend: the stub in tests/support/portal_stub.py answers /config.json and the API from canned responses shaped as
the tiers and training APIs answer, and records every request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PARTNER_NAV, VENDOR_NAV
from tests.support.portal_stub import (
    PARTNER_ID,
    Stub,
    error,
    me,
    ok,
    partner_api,
)

pytestmark = pytest.mark.browser

VERSION = "ver_01JVERSION"
CERTIFICATION = "cert_01JCNE"


def iso_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def ref(tier_id: str, rank: int) -> dict[str, Any]:
    return {"tier_id": tier_id, "name": tier_id.capitalize(), "rank": rank}


def revenue(value: int, threshold: int, tier: str) -> dict[str, Any]:
    met = value >= threshold
    short = f"USD {(threshold - value) / 100:,.2f} more won revenue in the last 12 months for {tier}"
    return {
        "kind": "won_revenue",
        "key": "USD",
        "label": "Won revenue",
        "value": value,
        "threshold": threshold,
        "met": met,
        "missing": None if met else short,
        "currency": "USD",
    }


def deals(value: int, threshold: int, tier: str) -> dict[str, Any]:
    met = value >= threshold
    short = threshold - value
    return {
        "kind": "approved_deals",
        "key": "approved_deals",
        "label": "Approved deal registrations",
        "value": value,
        "threshold": threshold,
        "met": met,
        "missing": None
        if met
        else f"{short} more approved deal registration{'s' if short > 1 else ''} in the last 12 months for {tier}",
        "currency": None,
    }


def engineers(value: int, threshold: int, tier: str) -> dict[str, Any]:
    met = value >= threshold
    short = threshold - value
    return {
        "kind": "certification",
        "key": CERTIFICATION,
        "label": "certified engineer",
        "value": value,
        "threshold": threshold,
        "met": met,
        "missing": None if met else f"{short} more certified engineer{'s' if short > 1 else ''} for {tier}",
        "currency": None,
    }


def business_plan(met: bool) -> dict[str, Any]:
    return {
        "kind": "manual",
        "key": "business_plan",
        "label": "Signed business plan",
        "value": met,
        "threshold": True,
        "met": met,
        "missing": None if met else "Signed business plan (confirmed by the channel team) for Platinum",
        "currency": None,
    }


def history(*entries: tuple[str, str | None, str, str]) -> list[dict[str, Any]]:
    """(kind, previous, tier, reason), newest first."""
    ranks = {"registered": 0, "silver": 1, "gold": 2, "platinum": 3}
    return [
        {
            "seq": len(entries) - i,
            "at": iso_in(-(i + 1) * 10),
            "kind": kind,
            "tier": ref(tier, ranks[tier]),
            "previous": ref(previous, ranks[previous]) if previous else None,
            "reason": reason,
            "criteria_version": VERSION,
            "by": None,
            "direction": kind if kind in ("initial", "upgrade", "downgrade") else None,
        }
        for i, (kind, previous, tier, reason) in enumerate(entries)
    ]


SILVER_HISTORY = history(
    ("upgrade", "registered", "silver", "Met every Silver criterion; approved by channel-programme@example.com."),
    ("initial", None, "registered", "Joined the programme."),
)


def view(tier_id: str, rank: int, benefits: list[str], criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """A tier of the version in force with each criterion against the partner's totals (`current`, `next`)."""
    return {
        "tier": ref(tier_id, rank),
        "benefits": benefits,
        "met": all(c["met"] for c in criteria),
        "criteria": criteria,
        "missing": [c["missing"] for c in criteria if c["missing"]],
    }


SILVER_BENEFITS = ["Market development funds", "10% product discount"]


def silver(**changes: Any) -> dict[str, Any]:
    """Silver, one certified engineer short of Gold (the demo's Northwind), as `GET /programme` answers."""
    return {
        "partner_id": PARTNER_ID,
        "company_name": "Acme Networks",
        "tier": ref("silver", 1) | {"since": iso_in(-10), "benefits": SILVER_BENEFITS},
        "criteria_version": VERSION,
        "window_days": 365,
        "current": view(
            "silver", 1, SILVER_BENEFITS, [revenue(1_800_000, 500_000, "Silver"), engineers(1, 1, "Silver")]
        ),
        "next": view(
            "gold",
            2,
            ["20% product discount"],
            [revenue(1_800_000, 1_500_000, "Gold"), deals(1, 1, "Gold"), engineers(1, 2, "Gold")],
        ),
        "pending_upgrade": None,
        "grace_period": None,
        "history": SILVER_HISTORY,
    } | changes


@pytest.fixture
def stub(portal_url: str) -> Stub:
    api = partner_api()
    # the course catalogue on #/training (tests/browser/test_portal_training_admin_static.py covers it)
    api[("GET", "/training/courses")] = ok({"items": []})
    api[("GET", "/training/certifications")] = ok({"items": []})
    return Stub(base=portal_url, api=api)


# ---------------------------------------------------------------------------------------------- programme


def test_programme_page_shows_the_tier_its_benefits_and_what_the_next_tier_needs(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("GET", "/programme")] = ok(silver())
    page.goto(f"{portal_url}#/organisation")
    expect(page.locator("#site-nav a")).to_have_text(PARTNER_NAV)
    page.get_by_test_id("nav-programme").click()
    expect(page).to_have_url(re.compile(r"#/programme$"))
    expect(page.get_by_test_id("nav-programme")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    expect(page.get_by_test_id("programme-tier")).to_have_text("Silver")
    expect(page.get_by_test_id("programme-benefit")).to_have_text(["Market development funds", "10% product discount"])
    expect(page.get_by_test_id("programme-criteria-version")).to_have_text(VERSION)

    gold = page.get_by_test_id("criteria-next")
    expect(gold.get_by_role("heading", level=2)).to_have_text("Next tier: Gold")
    expect(gold.get_by_test_id("missing-sentence")).to_have_text(["1 more certified engineer for Gold"])
    criteria = gold.get_by_test_id("criterion")
    expect(criteria).to_have_count(3)
    expect(criteria.get_by_test_id("criterion-label")).to_have_text(
        ["Won revenue", "Approved deal registrations", "Certified engineer"]
    )
    expect(criteria.get_by_test_id("criterion-value")).to_have_text(
        ["$18,000.00 of $15,000.00", "1 of 1", "1 of 2"], use_inner_text=True
    )
    expect(criteria.get_by_test_id("criterion-met")).to_have_text(["Met", "Met", "Not met"])

    # the progress bars: native <progress> (role progressbar) named by the criterion, capped at the threshold
    bars = gold.get_by_role("progressbar")
    expect(bars).to_have_count(3)
    engineers_bar = gold.get_by_role("progressbar", name="Certified engineer")
    expect(engineers_bar).to_have_attribute("max", "2")
    assert engineers_bar.evaluate("el => el.value") == 1
    expect(engineers_bar).to_have_attribute("aria-valuetext", "1 of 2 (50%)")
    revenue_bar = gold.get_by_role("progressbar", name="Won revenue")
    assert revenue_bar.evaluate("el => [el.value, el.max]") == [1_500_000, 1_500_000]  # over the threshold: full
    unmet = gold.locator("[data-testid=criterion][data-met=false]")
    expect(unmet.get_by_test_id("criterion-missing")).to_have_text("1 more certified engineer for Gold")
    met = gold.locator("[data-testid=criterion][data-met=true]")
    expect(met.get_by_test_id("criterion-missing")).to_have_count(0)

    keep = page.get_by_test_id("criteria-current")
    expect(keep.get_by_role("heading", level=2)).to_have_text("Keeping Silver")
    expect(keep.get_by_test_id("criterion")).to_have_count(2)

    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(2)
    expect(rows.get_by_test_id("history-change")).to_have_text(
        [re.compile("^Registered → Silver"), re.compile("^Registered")]
    )
    expect(rows.get_by_test_id("history-kind")).to_have_text(["Upgrade", "Joined the programme"])
    expect(rows.first.get_by_test_id("history-reason")).to_contain_text("Met every Silver criterion")
    expect(rows.first.get_by_test_id("history-version")).to_have_text(VERSION)
    expect(page.get_by_test_id("programme-grace")).to_have_count(0)
    expect(page.get_by_test_id("programme-pending-upgrade")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(re.compile(r"\b(null|undefined|NaN)\b"))
    assert [c.path for c in stub.calls if c.path.startswith("/programme")] == ["/programme"]


def test_programme_page_is_keyboard_navigable(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/programme")] = ok(silver())
    stub.api[("GET", "/training/me")] = ok({"completions": [], "certifications": []})
    page.goto(f"{portal_url}#/organisation")
    expect(page.get_by_test_id("profile-tier")).to_be_visible()
    page.locator("#main").focus()
    # from the navigation to the page by keyboard alone
    page.get_by_test_id("nav-mdf").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-programme")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/programme$"))
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page.get_by_test_id("programme-tier")).to_have_text("Silver")
    # the page's link, then the history table's scrollable region, are the tab stops
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("programme-training-link")).to_be_focused()
    page.keyboard.press("Tab")
    region = page.get_by_role("region", name=re.compile("^Tier history, newest first"))
    expect(region).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/training$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Training")


def test_grace_period_and_pending_upgrade_are_explained(page: Page, stub: Stub, portal_url: str) -> None:
    gold_history = history(
        ("grace_started", None, "gold", "No longer meets every Gold criterion: 1 more certified engineer for Gold."),
        ("upgrade", "silver", "gold", "Met every Gold criterion."),
    )
    grace = {
        "tier": ref("gold", 2),
        "started_at": iso_in(-30),
        "ends_at": f"{day_in(60)}T10:00:00.000Z",
        "ends_on": day_in(60),
        "would_become": ref("silver", 1),
        "missing": ["1 more certified engineer for Gold"],
    }
    gold_benefits = ["20% product discount"]
    standing = silver(
        tier=ref("gold", 2) | {"since": iso_in(-100), "benefits": gold_benefits},
        current=view(
            "gold",
            2,
            gold_benefits,
            [revenue(1_800_000, 1_500_000, "Gold"), deals(2, 1, "Gold"), engineers(1, 2, "Gold")],
        ),
        next=view(
            "platinum",
            3,
            [],
            [
                revenue(1_800_000, 25_000_000, "Platinum"),
                deals(2, 5, "Platinum"),
                engineers(1, 4, "Platinum"),
                business_plan(False),
            ],
        ),
        grace_period=grace,
        history=gold_history,
    )
    stub.api[("GET", "/programme")] = ok(standing)
    page.goto(f"{portal_url}#/programme")
    notice = page.get_by_test_id("programme-grace")
    expect(notice.get_by_role("heading")).to_have_text("Grace period")
    expect(notice).to_contain_text("It keeps Gold until")
    expect(notice.get_by_test_id("grace-ends-on")).to_have_attribute("datetime", day_in(60))
    expect(notice.get_by_test_id("grace-would-become")).to_have_text("Silver")
    expect(notice.get_by_test_id("grace-missing").locator("li")).to_have_text(["1 more certified engineer for Gold"])

    keep = page.get_by_test_id("criteria-current")
    expect(keep.locator("[data-met=false]").get_by_test_id("criterion-missing")).to_have_text(
        "1 more certified engineer for Gold"
    )
    platinum = page.get_by_test_id("criteria-next")
    expect(platinum.get_by_test_id("missing-sentence")).to_have_text(
        [
            "USD 232,000.00 more won revenue in the last 12 months for Platinum",
            "3 more approved deal registrations in the last 12 months for Platinum",
            "3 more certified engineers for Platinum",
            "Signed business plan (confirmed by the channel team) for Platinum",
        ]
    )
    plan = platinum.locator("[data-kind=manual]")
    expect(plan.get_by_test_id("criterion-value")).to_have_text("Not confirmed yet")
    expect(plan.get_by_role("progressbar")).to_have_count(0)  # met or not: no bar
    expect(platinum.get_by_role("progressbar")).to_have_count(3)
    rows = page.get_by_test_id("history-row")
    expect(rows.get_by_test_id("history-kind")).to_have_text(["Grace period started", "Upgrade"])
    expect(rows.get_by_test_id("history-change")).to_have_text([re.compile("^Gold"), re.compile("^Silver → Gold")])

    # a pending upgrade instead
    stub.api[("GET", "/programme")] = ok(
        silver(
            pending_upgrade={
                "upgrade_id": "upg_01",
                "proposed": ref("gold", 2),
                "criteria_version": VERSION,
                "requested_at": iso_in(-1),
            },
            next=view("gold", 2, [], [revenue(1_800_000, 1_500_000, "Gold"), engineers(2, 2, "Gold")]),
        )
    )
    page.reload()
    expect(page.get_by_test_id("programme-pending-upgrade")).to_contain_text("Upgrade to Gold requested.")
    expect(page.get_by_test_id("next-missing")).to_have_text("Your organisation meets every Gold criterion.")
    expect(page.get_by_test_id("programme-grace")).to_have_count(0)


def test_top_tier_no_tier_yet_and_a_failure(page: Page, stub: Stub, portal_url: str) -> None:
    top = silver(
        tier=ref("platinum", 3) | {"since": iso_in(-3), "benefits": []},
        current=view("platinum", 3, [], [business_plan(True)]),
        next=None,
        history=[],
    )
    stub.api[("GET", "/programme")] = [
        ok(top),
        ok(silver(tier={"since": None, "benefits": []}, current=None, next=None, history=[])),
        error(404, "no_tier", "Your organisation has no tier yet: it is being set up."),
        error(503, "unavailable", "Down."),
        ok(silver()),
    ]
    page.goto(f"{portal_url}#/programme")
    expect(page.get_by_test_id("programme-tier")).to_have_text("Platinum")
    expect(page.get_by_test_id("programme-top-tier")).to_contain_text("Platinum is the programme\u2019s highest tier.")
    expect(page.get_by_test_id("programme-benefits-none")).to_be_visible()
    expect(page.get_by_test_id("criteria-current").get_by_test_id("criterion-value")).to_have_text(
        "Confirmed by the channel team"
    )
    expect(page.get_by_test_id("tier-history-empty")).to_have_text("No tier changes yet.")
    page.reload()
    expect(page.get_by_test_id("programme-empty")).to_contain_text("No tier yet")
    page.reload()
    expect(page.get_by_test_id("programme-empty")).to_contain_text("No tier yet")  # the API's 404 no_tier
    page.reload()
    expect(page.get_by_test_id("error-panel")).to_contain_text("We could not load your programme tier.")
    page.get_by_test_id("retry").click()
    expect(page.get_by_test_id("programme-tier")).to_have_text("Silver")


def test_programme_text_from_the_api_is_never_markup(page: Page, stub: Stub, portal_url: str) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    standing = silver(tier=ref("silver", 1) | {"name": hostile, "since": iso_in(-1), "benefits": [hostile]})
    standing["history"] = [SILVER_HISTORY[0] | {"reason": hostile}]
    stub.api[("GET", "/programme")] = ok(standing)
    page.goto(f"{portal_url}#/programme")
    expect(page.get_by_test_id("programme-tier")).to_have_text(hostile)
    expect(page.get_by_test_id("programme-benefit")).to_have_text(hostile)
    expect(page.get_by_test_id("history-reason")).to_have_text(hostile)
    expect(page.locator("main img")).to_have_count(0)


# ---------------------------------------------------------------------------------------------- training


def award(name: str, *, earned: float, expires: float, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "award_id": f"awd_{name.lower().replace(' ', '_')}",
        "certification_id": f"cert_{name.lower().replace(' ', '_')}",
        "name": name,
        "status": status,
        "earned_at": iso_in(earned),
        "first_earned_at": iso_in(earned),
        "expires_at": iso_in(expires),
    } | extra


TRAINING = {
    "completions": [
        {
            "completion_id": "cmp_1",
            "course_id": "crs_1",
            "course_title": "Network Security Fundamentals",
            "passed": True,
            "score_scaled": 0.86,
            "completed_at": iso_in(-700),
            "source": "webhook",
        },
        {
            "completion_id": "cmp_2",
            "course_id": "crs_2",
            "course_title": "Firewall Deployment",
            "passed": False,
            "score_scaled": None,
            "completed_at": iso_in(-2),
            "source": "xapi",
        },
    ],
    "certifications": [
        award("Certified Network Engineer", earned=-690, expires=40),
        award("Cloud Security Associate", earned=-30, expires=700),
        award("Wireless Specialist", earned=-800, expires=-70, status="expired"),
    ],
}


def test_training_page_shows_my_courses_and_certifications_with_expiry(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/training/me")] = ok(TRAINING)
    page.goto(f"{portal_url}#/training")
    expect(page.get_by_test_id("nav-training")).to_have_attribute("aria-current", "page")
    cards = page.get_by_test_id("certification-card")
    expect(cards.get_by_test_id("certification-name")).to_have_text(
        ["Certified Network Engineer", "Cloud Security Associate", "Wireless Specialist"]
    )
    expect(cards.get_by_test_id("certification-status")).to_have_text(["Expiring soon", "Active", "Expired"])
    expect(cards.first.get_by_test_id("certification-expiry-warning")).to_contain_text(
        re.compile(r"Expires in (39|40) days")
    )
    expect(cards.nth(1).get_by_test_id("certification-expiry-warning")).to_have_count(0)
    expect(cards.nth(2).get_by_test_id("certification-expired-note")).to_be_visible()
    expect(cards.first.get_by_test_id("certification-expires")).to_have_attribute(
        "datetime", TRAINING["certifications"][0]["expires_at"]
    )
    rows = page.get_by_test_id("completion-row")
    expect(rows.get_by_test_id("completion-course")).to_have_text(
        [re.compile("^Firewall Deployment"), re.compile("^Network Security Fundamentals")]  # newest first
    )
    expect(rows.get_by_test_id("completion-result")).to_have_text(["Not passed", "Passed (86%)"])
    expect(page.get_by_test_id("training-people")).to_have_count(0)  # a partner user: no organisation list
    assert stub.requests("GET", "/training/people") == []


def test_a_partner_admin_sees_the_organisations_certified_people(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=("partner-admin",)))
    stub.api[("GET", "/training/me")] = ok({"completions": [], "certifications": []})
    holder = award("Certified Network Engineer", earned=-100, expires=630) | {"email": "ada@acme.example"}
    soon = award("Certified Network Engineer", earned=-690, expires=20) | {"email": "bob@acme.example"}
    stub.api[("GET", "/training/people")] = ok(
        {
            "certifications": [
                {"certification_id": CERTIFICATION, "name": "Certified Network Engineer", "holders": [holder, soon]},
                {"certification_id": "cert_none", "name": "Nobody holds this", "holders": []},
            ]
        }
    )
    page.goto(f"{portal_url}#/training")
    expect(page.get_by_test_id("my-certifications-empty")).to_be_visible()
    expect(page.get_by_test_id("my-completions-empty")).to_be_visible()
    people = page.get_by_test_id("training-people")
    expect(people.get_by_role("heading", level=2)).to_have_text("Certified people in your organisation")
    expect(people.get_by_test_id("people-certification")).to_have_text(["Certified Network Engineer · 2 people"])
    rows = people.get_by_test_id("person-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-email", "bob@acme.example")  # soonest expiry first
    expect(rows.get_by_test_id("person-status")).to_have_text(["Expiring soon", "Active"])


def test_training_failures_are_shown_with_a_retry(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/training/me")] = [error(503, "unavailable", "Down."), ok(TRAINING)]
    page.goto(f"{portal_url}#/training")
    expect(page.get_by_test_id("error-panel")).to_contain_text("We could not load your training.")
    page.get_by_test_id("retry").click()
    expect(page.get_by_test_id("certification-card")).to_have_count(3)


# ---------------------------------------------------------------------------------------------- vendor admin


def review_item(item_id: str, email: str, reason: str = "unknown_learner", **extra: Any) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "reason": reason,
        "status": "open",
        "source": "webhook",
        "learner_email": email,
        "learner_ref": None,
        "lms_course_id": "NET-101",
        "passed": True,
        "score_scaled": 0.9,
        "completed_at": iso_in(-1),
        "received_at": iso_in(-1),
    } | extra


def test_vendor_admin_assigns_and_discards_review_items(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/periods")] = ok({"items": []})
    stub.api[("GET", "/mdf/partners")] = ok({"items": [], "next_cursor": None})
    stub.api[("GET", "/training/review")] = lambda call: ok(
        {
            "items": [review_item("rvw_3", "carol@acme.example", "unknown_course", lms_course_id="NET-999")],
            "next_cursor": None,
        }
        if call.query.get("cursor") == "r2"
        else {
            "items": [review_item("rvw_1", "jamie@contoso.example"), review_item("rvw_2", "test@lms.example")],
            "next_cursor": "r2",
        }
    )
    stub.api[("POST", "/training/review/rvw_1/assignment")] = [
        error(
            400,
            "validation_error",
            "Not a partner user.",
            [{"field": "learner_email", "message": "no partner user has this email address"}],
        ),
        ok({"item_id": "rvw_1", "status": "assigned"}),
    ]
    stub.api[("POST", "/training/review/rvw_2/discard")] = ok({"item_id": "rvw_2", "status": "discarded"})

    page.goto(f"{portal_url}#/admin/training")
    expect(page.locator("#site-nav a")).to_have_text(VENDOR_NAV)
    expect(page.get_by_test_id("nav-training-admin")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("review-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("review-load-more").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(2).get_by_test_id("review-reason")).to_contain_text("No course has this LMS course id")
    expect(rows.nth(2).get_by_role("button")).to_be_focused()  # keyboard users continue at the new rows

    rows.first.get_by_role("button", name="Resolve jamie@contoso.example · NET-101").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Resolve: jamie@contoso.example"))).to_be_focused()
    form = page.get_by_test_id("assign-form")
    form.locator("#assign_email").fill("nope")
    form.get_by_test_id("assign").click()
    expect(form.locator("#assign_email-error")).to_contain_text("Enter an email address")
    assert stub.requests("POST", "/training/review/rvw_1/assignment") == []
    form.locator("#assign_email").fill("hans@contoso.example")
    form.get_by_test_id("assign").click()
    expect(form.locator("#assign_email-error")).to_contain_text("No partner user has this email address")
    form.get_by_test_id("assign").click()
    expect(page.get_by_test_id("review-result")).to_have_text("Assigned to hans@contoso.example.")
    expect(rows).to_have_count(2)
    sent = stub.requests("POST", "/training/review/rvw_1/assignment")
    assert [c.body for c in sent] == [{"learner_email": "hans@contoso.example"}] * 2
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]  # the same fill: the same key

    rows.first.get_by_test_id("review-resolve").click()
    discard = page.get_by_test_id("discard-form")
    discard.get_by_test_id("discard").click()
    expect(discard.locator("#discard_reason-error")).to_have_text("Say why this completion is discarded.")
    discard.locator("#discard_reason").fill("A test account of the LMS.")
    discard.get_by_test_id("discard").click()
    expect(page.get_by_test_id("review-result")).to_have_text("Discarded.")
    expect(rows).to_have_count(1)
    assert stub.requests("POST", "/training/review/rvw_2/discard")[0].body == {"reason": "A test account of the LMS."}


def test_partner_users_do_not_get_the_review_page(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/admin/training")
    expect(page.get_by_test_id("not-vendor-admin")).to_be_visible()
    expect(page.get_by_test_id("nav-training-admin")).to_have_count(0)
    assert stub.requests("GET", "/training/review") == []
