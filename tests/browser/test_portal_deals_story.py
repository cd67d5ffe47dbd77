"""Deal registration in headless Chromium against the local stack: a partner admin checks availability and registers
a deal above the automatic approval limit, the channel manager approves it from the mail viewer, and the partner
sees it approved and protected, on the deal's page and in the list."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from infrastructure.local.people import People
from tests.e2e.test_deals_story import CHANNEL_MANAGER, PROTECTION, ensure_products, onboard
from tests.support.browser import new_page, open_mail
from tests.support.partners import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def test_partner_registers_a_deal_and_the_channel_manager_approves_it(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    ensure_products(people)
    partner = onboard(people, company="Delta Networks")  # through the real flow; deals knows the partner now
    suffix = uuid.uuid4().hex[:8]
    company, domain = f"Wayne Enterprises {suffix} Ltd", f"wayne-{suffix}.co.uk"
    page, approver = new_page(chromium), new_page(chromium)

    # the partner admin signs in through the portal
    page.goto(f"{base}/#/signin")
    page.fill("#email", partner.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("header-org-name")).to_have_text("Delta Networks")
    page.get_by_test_id("nav-deals").click()
    expect(page).to_have_url(re.compile("#/deals$"))
    page.get_by_test_id("register-deal").first.click()
    expect(page).to_have_url(re.compile("#/deals/new$"))

    # availability first, then the registration
    page.fill("#prospect_company_name", company)
    page.fill("#prospect_website", f"https://www.{domain}/contact")
    page.get_by_test_id("check-availability").click()
    availability = page.get_by_test_id("availability")
    expect(availability).to_have_attribute("data-state", "available")
    expect(availability).to_have_text("Available")
    page.select_option("#prospect_country", "GB")
    page.fill("#contact_name", "Lucius Fox")
    page.fill("#contact_email", f"lucius@{domain}")
    page.fill("#contact_title", "CTO")
    page.check("input[name=products][value=NET-FW-100]")
    page.fill("#value_amount", "100000.00")
    page.select_option("#value_currency", "USD")
    expect(page.get_by_test_id("value-preview")).to_contain_text("100,000.00")
    page.fill("#expected_close_date", (date.today() + timedelta(days=45)).isoformat())
    page.fill("#description", "Campus firewalls for 12 sites.")
    page.get_by_role("button", name="Register deal").click()

    deal_id = page.get_by_test_id("deal-receipt-id").inner_text()
    assert deal_id.startswith("deal_")
    expect(page.get_by_test_id("deal-receipt-status")).to_have_text("Submitted for review")
    expect(page.get_by_test_id("deal-receipt-domain")).to_have_text(domain)
    expect(page.get_by_test_id("deal-receipt-company")).to_have_text(f"wayneenterprises{suffix}")
    submitted = page.get_by_test_id("deal-receipt-submitted-at")
    expect(submitted).to_contain_text("UTC")
    submitted_at = submitted.get_attribute("datetime")
    assert submitted_at and submitted_at.endswith("Z")
    assert abs(datetime.fromisoformat(submitted_at.replace("Z", "+00:00")) - datetime.now(UTC)) < timedelta(minutes=2)

    # the EMEA channel manager opens the approval email in the mail viewer and approves on the confirmation page
    open_mail(approver, base, CHANNEL_MANAGER, f"Deal registration: {company} ({domain})")
    email = approver.frame_locator("iframe")
    expect(email.locator("body")).to_contain_text("100,000.00 USD")
    approve_link = email.locator("a[data-decision=approve]").get_attribute("href")
    assert approve_link
    approver.goto(approve_link)
    expect(approver.get_by_role("heading", level=1)).to_contain_text(company)
    # The approver sees the partner by company name, never by its internal id.
    expect(approver.locator("body")).to_contain_text("Delta Networks")
    expect(approver.locator("body")).not_to_contain_text(partner.partner_id)
    approver.click("#confirm")
    expect(approver.locator("#outcome")).to_have_attribute("data-outcome", "approved")

    # the partner sees the deal approved and protected
    page.get_by_test_id("receipt-deal-link").click()
    expect(page).to_have_url(re.compile(f"#/deals/{deal_id}$"))
    status = page.get_by_test_id("deal-status")
    deadline = time.monotonic() + 20
    while status.inner_text() != "Approved" and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
        expect(page.get_by_test_id("deal-id")).to_have_text(deal_id)
    expect(status).to_have_text("Approved")
    deal = people.api("GET", f"/deals/{deal_id}", session=partner.session).json()
    assert deal["status"] == "approved"
    ends = deal["protection_ends_at"]
    assert abs(datetime.fromisoformat(ends.replace("Z", "+00:00")) - (datetime.now(UTC) + PROTECTION)) < timedelta(
        minutes=2
    )
    expect(page.get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", ends)
    expect(page.get_by_test_id("deal-days-left")).to_have_text(re.compile(r"^(89|90|91) days left$"))
    expect(page.get_by_test_id("timeline-status")).to_have_text(["Submitted", "Under review", "Approved"])
    expect(page.get_by_test_id("deal-actions")).to_be_visible()

    # ... and in the list, with the protection end
    page.get_by_test_id("nav-deals").click()
    row = page.locator(f"[data-testid=deal-row][data-deal-id='{deal_id}']")
    expect(row.get_by_test_id("deal-status")).to_have_text("Approved")
    expect(row.get_by_test_id("deal-prospect")).to_contain_text(company)
    expect(row.get_by_test_id("deal-protection-ends")).to_have_attribute("datetime", ends)
    expect(row.get_by_test_id("deal-value")).to_contain_text("100,000.00")

    for p in (page, approver):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
