"""Market development funds in headless Chromium against the local stack, as people do it: a vendor admin allocates
funds and corrects them on the MDF admin page; a partner user sees the balance and requests funds through the form;
channel marketing grants part of it from the approval email in the mail viewer; the partner files the claim with a real
PDF that goes straight to S3 (moto) by presigned POST; the reviewer pays part of it from the claim email; the partner
sees the request paid, the remainder released, and the ledger that explains the balance.

Approval links lapse 10 s after the email (tests/conftest.py): every step acts at once and polls in short intervals.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from infrastructure.local.people import People
from tests.support.browser import new_page, open_mail
from tests.support.mdf import MARKETING, PDF, current_period, wait_for_partner
from tests.support.partners import PASSWORD, VENDOR_PASSWORD, onboard, vendor_admin

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

MINUS = "\u2212"  # the ledger's sign for money going out


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/#/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def reload_until_status(page: Page, request_id: str, status: str, timeout: float = 20) -> None:
    """Reload the request's page until it shows `status` (the workflow moves on asynchronously)."""
    shown = page.get_by_test_id("request-status")
    deadline = time.monotonic() + timeout
    while shown.inner_text() != status and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
        expect(page.get_by_test_id("request-id")).to_have_text(request_id)  # rendered again
    expect(shown).to_have_text(status)


def decide_in_mail_viewer(approver: Page, base: str, subject: str, amount: str, shows: list[str]) -> None:
    """Open the approval email (check it `shows` each text), follow "Approve…", lower the amount on the confirmation
    page and confirm."""
    open_mail(approver, base, MARKETING, subject)
    email = approver.frame_locator("iframe")
    for text in shows:
        expect(email.locator("body")).to_contain_text(text)
    approve = email.locator("a[data-decision=approve]")
    expect(approve).to_have_text("Approve…")
    approve.click()  # the viewer's frame opens links in the whole window
    expect(approver.locator("#confirm")).to_be_visible()
    approver.fill("#amount", amount)
    approver.click("#confirm")
    expect(approver.locator("#outcome")).to_have_attribute("data-outcome", "approved")


def test_partner_requests_and_claims_funds_and_channel_marketing_pays_part(
    local_stack: Any, chromium: Browser, tmp_path: Path
) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    vendor = vendor_admin(people, name="MDF Admin")
    period = current_period(people, vendor)
    fund_id = f"{period}.USD"
    company = f"Gamma Events {uuid.uuid4().hex[:4]}"
    partner = onboard(people, company=company)  # through the real flow
    wait_for_partner(people, vendor, partner.partner_id)
    title = f"Zero-trust webinar {uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date().isoformat()
    invoice = tmp_path / "webinar-invoice.pdf"
    invoice.write_bytes(PDF)
    admin, page, approver = new_page(chromium), new_page(chromium), new_page(chromium)

    # ------------------------------------------------------------ the vendor admin allocates and corrects
    sign_in(admin, base, vendor.email, VENDOR_PASSWORD)
    expect(admin).to_have_url(re.compile(r"#/admin/mdf"))  # vendor staff have no organisation: MDF admin is home
    allocation = admin.get_by_test_id("allocation-form")
    allocation.locator("#allocation_partner").select_option(partner.partner_id)
    funds = admin.get_by_test_id("partner-funds")
    expect(funds.get_by_test_id("partner-funds-empty")).to_be_visible()
    allocation.locator("#allocation_period").select_option(period)
    allocation.locator("#allocation_amount").fill("10000.00")
    allocation.locator("#allocation_currency").select_option("USD")
    allocation.locator("#allocation_note").fill("Q launch budget")
    allocation.get_by_test_id("allocate-funds").click()
    expect(allocation.get_by_test_id("admin-result")).to_contain_text(f"Allocated $10,000.00 to {company}")
    card = funds.locator(f'[data-testid=fund-card][data-fund-id="{fund_id}"]')
    expect(card.get_by_test_id("fund-available")).to_have_text("$10,000.00")

    adjustment = admin.get_by_test_id("adjustment-form")
    expect(adjustment.locator("#adjustment_partner")).to_have_value(partner.partner_id)
    adjustment.locator("#adjustment_period").select_option(period)
    adjustment.locator("#adjustment_direction").select_option("debit")
    adjustment.locator("#adjustment_currency").select_option("USD")
    adjustment.locator("#adjustment_amount").fill("10000.01")  # more than available: refused in the browser
    expect(adjustment.locator("#adjustment_amount-error")).to_have_text(
        "At most the $10,000.00 available can be debited."
    )
    adjustment.locator("#adjustment_amount").fill("1000")
    adjustment.locator("#adjustment_note").fill("Allocated twice for the webinar series.")
    adjustment.get_by_test_id("adjust-fund").click()
    expect(adjustment.get_by_test_id("admin-result")).to_contain_text(f"Debited $1,000.00 from {company} for")
    expect(adjustment.get_by_test_id("admin-result")).to_contain_text("Available now: $9,000.00.")
    expect(card.get_by_test_id("fund-available")).to_have_text("$9,000.00")
    expect(card.get_by_test_id("fund-adjusted")).to_have_text(f"{MINUS}$1,000.00")

    # ------------------------------------------------------------ the partner sees the balance and asks for funds
    sign_in(page, base, partner.email, PASSWORD)
    expect(page.get_by_test_id("header-org-name")).to_have_text(company)
    page.get_by_test_id("nav-mdf").click()
    expect(page).to_have_url(re.compile(r"#/mdf"))
    mine = page.locator(f'[data-testid=fund-card][data-fund-id="{fund_id}"]')
    expect(mine.get_by_test_id("fund-available")).to_have_text("$9,000.00")
    expect(mine.get_by_test_id("fund-reserved")).to_have_text("$0.00")
    rows = page.get_by_test_id("ledger-row")
    expect(rows.get_by_test_id("ledger-kind")).to_have_text(["Adjusted", "Allocated"])
    expect(rows.get_by_test_id("ledger-amount")).to_have_text([f"{MINUS}$1,000.00", "+$10,000.00"])
    expect(rows.nth(0).get_by_test_id("ledger-note")).to_have_text("Allocated twice for the webinar series.")

    page.get_by_test_id("request-funds").first.click()
    expect(page).to_have_url(re.compile(r"#/mdf/requests/new$"))
    page.select_option("#period_id", period)
    expect(page.get_by_test_id("available-amount")).to_have_text("$9,000.00")
    page.select_option("#activity_type", "webinar")
    page.fill("#title", title)
    page.fill("#description", "A webinar for 200 IT leaders with a live demo.")
    page.fill("#starts_on", today)  # MdfRequestLeadDays is 0 in tests: the activity may run today
    page.fill("#ends_on", today)
    page.select_option("#requested_currency", "USD")
    page.fill("#requested_amount", "4000.00")
    page.fill("#expected_leads", "40")
    page.fill("#pipeline_amount", "500000")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(re.compile(r"#/mdf/requests/mdfreq_[^/?]+$"))
    expect(page.get_by_test_id("action-result")).to_contain_text("Your request was submitted")
    request_id = page.get_by_test_id("request-id").inner_text()
    expect(page.get_by_test_id("request-requested")).to_have_text("$4,000.00")

    # ------------------------------------------------------------ channel marketing grants 3,000.00 of 4,000.00
    decide_in_mail_viewer(
        approver, base, f"Approval needed: MDF request: {title}", "3000.00", [company, "4,000.00 USD"]
    )
    expect(approver.locator("#outcome")).to_contain_text("3,000.00 USD")

    reload_until_status(page, request_id, "Approved")
    expect(page.get_by_test_id("request-granted")).to_have_text("$3,000.00")
    approval = page.get_by_test_id("approval-row")
    expect(approval.get_by_test_id("approval-amount")).to_have_text("$3,000.00")
    expect(approval.get_by_test_id("approval-by")).to_have_text(MARKETING)
    expect(page.get_by_test_id("claim-due")).to_contain_text("$3,000.00 is reserved")

    # ------------------------------------------------------------ the claim, with a real PDF uploaded to S3
    claim = page.get_by_test_id("claim-form")
    claim.locator("#amount_spent").fill("2500.00")
    claim.locator("#result_leads").fill("52")
    claim.locator("#result_attendees").fill("180")
    claim.locator("#invoice_number").fill("INV-2026-0042")
    claim.locator("#claim_notes").fill("Recording and invoice attached.")
    claim.locator("#proof_files").set_input_files(invoice)
    proof = claim.locator('[data-testid=proof-item][data-file-name="webinar-invoice.pdf"]')
    expect(proof).to_have_attribute("data-state", "uploaded")  # presigned POST straight to moto's S3
    claim.get_by_test_id("file-claim").click()
    expect(page.get_by_test_id("action-result")).to_contain_text("Your claim was filed")
    expect(page.get_by_test_id("request-status")).to_have_text("Claimed")
    expect(page.get_by_test_id("claim-status")).to_have_text("Claim submitted")
    expect(page.get_by_test_id("claim-file-name")).to_have_text("webinar-invoice.pdf")

    # ------------------------------------------------------------ the reviewer pays 2,000.00 of the 2,500.00 spent
    proof_link = f"webinar-invoice.pdf (application/pdf, {len(PDF):,} bytes)"  # the reviewer's signed link
    decide_in_mail_viewer(
        approver, base, f"Approval needed: MDF claim: {title}", "2000.00", [proof_link, "2,500.00 USD"]
    )
    expect(approver.locator("#outcome")).to_contain_text("2,000.00 USD")

    reload_until_status(page, request_id, "Paid")
    expect(page.get_by_test_id("request-decision")).to_have_text("Paid: $2,000.00.")
    expect(page.get_by_test_id("claim-status")).to_have_text("Claim approved")
    expect(page.get_by_test_id("claim-approved-amount")).to_have_text("$2,000.00")
    expect(page.get_by_test_id("claim-form")).to_have_count(0)

    # ------------------------------------------------------------ the fund: paid, the remainder released, the ledger
    page.get_by_test_id("mdf-tab-funds").click()
    expect(mine.get_by_test_id("fund-available")).to_have_text("$7,000.00")  # 9,000 - 3,000 reserved + 1,000 back
    expect(mine.get_by_test_id("fund-reserved")).to_have_text("$0.00")
    expect(mine.get_by_test_id("fund-paid")).to_have_text("$2,000.00")
    expect(mine.get_by_test_id("fund-adjusted")).to_have_text(f"{MINUS}$1,000.00")
    expect(rows.get_by_test_id("ledger-kind")).to_have_text(["Released", "Paid", "Reserved", "Adjusted", "Allocated"])
    expect(rows.get_by_test_id("ledger-amount")).to_have_text(
        ["+$1,000.00", f"{MINUS}$2,000.00", f"{MINUS}$3,000.00", f"{MINUS}$1,000.00", "+$10,000.00"]
    )
    expect(rows.get_by_test_id("ledger-balance")).to_have_text(
        ["$7,000.00", "$6,000.00", "$6,000.00", "$9,000.00", "$10,000.00"]
    )
    for row in range(3):  # the request explains the reservation, the payment and the release
        expect(rows.nth(row).get_by_test_id("ledger-reference").get_by_role("link")).to_have_attribute(
            "href", f"#/mdf/requests/{request_id}"
        )
    page.screenshot(path=str(tmp_path / "mdf-story.png"), full_page=True)

    for p in (admin, page, approver):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
