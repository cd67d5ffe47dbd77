"""Programme tiers in headless Chromium against the local stack: a partner admin one certified engineer short of Gold
sees it on the Programme page (the tier, each criterion with its progress, the missing sentence); the LMS reports
the colleague's last required course, the channel team approves the upgrade from the mail viewer, and the page
shows Gold, with the upgrade as the newest line of the history."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from infrastructure.local.people import People
from infrastructure.local.seed_programme import TIER_APPROVER, deliver
from tests.e2e.test_training_tiers_story import one_engineer_short_of_gold, programme
from tests.support.browser import new_page, open_mail
from tests.support.partners import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def test_the_programme_page_shows_the_missing_engineer_then_gold(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    catalogue = programme(people, name="Browser story LMS")
    company = f"Northwind Browser {uuid.uuid4().hex[:6]}"
    engineers = one_engineer_short_of_gold(people, catalogue, company=company)
    page, approver = new_page(chromium), new_page(chromium)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{base}/#/signin")
    page.fill("#email", engineers.partner.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("header-org-name")).to_have_text(company)
    page.get_by_test_id("nav-programme").click()
    expect(page).to_have_url(re.compile("#/programme$"))

    expect(page.get_by_test_id("programme-tier")).to_have_text("Silver")
    gold = page.get_by_test_id("criteria-next")
    expect(gold.get_by_role("heading", level=2)).to_have_text("Next tier: Gold")
    expect(gold.get_by_test_id("missing-sentence")).to_have_text(["1 more certified engineer for Gold"])
    engineers_bar = gold.get_by_role("progressbar", name="Certified engineer")
    expect(engineers_bar).to_have_attribute("max", "2")
    expect(engineers_bar).to_have_attribute("aria-valuetext", "1 of 2 (50%)")
    unmet = gold.locator("[data-testid=criterion][data-met=false]")
    expect(unmet.get_by_test_id("criterion-missing")).to_have_text("1 more certified engineer for Gold")
    expect(gold.locator("[data-testid=criterion][data-met=true]")).to_have_count(2)  # won revenue, approved deals
    expect(page.get_by_test_id("history-row").first.get_by_test_id("history-change")).to_contain_text(
        "Registered → Silver"
    )
    # keyboard: from the heading, the page's link is the next stop
    page.get_by_role("heading", level=1).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("programme-training-link")).to_be_focused()

    # the LMS reports the colleague's last required course; the channel team approves the upgrade by its link
    answer = deliver(people, catalogue, engineers.colleague.email, "NET-201", datetime.now(UTC) - timedelta(minutes=20))
    assert answer.status_code == 200, answer.text
    open_mail(approver, base, TIER_APPROVER, f"Tier upgrade: {company} to Gold")
    email = approver.frame_locator("iframe")
    expect(email.locator("body")).to_contain_text("Proposed tier")
    approve_link = email.locator("a[data-decision=approve]").get_attribute("href")
    assert approve_link
    approver.goto(approve_link)
    expect(approver.locator("body")).to_contain_text(company)
    approver.click("#confirm")
    expect(approver.locator("#outcome")).to_have_attribute("data-outcome", "approved")

    tier = page.get_by_test_id("programme-tier")
    deadline = time.monotonic() + 30
    while tier.inner_text() != "Gold" and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
        expect(page.get_by_test_id("criteria-next")).to_be_visible()
    expect(tier).to_have_text("Gold")
    expect(page.get_by_test_id("criteria-next").get_by_role("heading", level=2)).to_have_text("Next tier: Platinum")
    newest = page.get_by_test_id("history-row").first
    expect(newest.get_by_test_id("history-change")).to_contain_text("Silver → Gold")
    expect(newest.get_by_test_id("history-kind")).to_have_text("Upgrade")
    expect(newest.get_by_test_id("history-reason")).not_to_be_empty()
    keep = page.get_by_test_id("criteria-current")
    expect(keep.get_by_role("progressbar", name="Certified engineer")).to_have_attribute(
        "aria-valuetext", "2 of 2 (100%)"
    )

    for p in (page, approver):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
    assert console == [], console
