"""Rewards in headless Chromium against the local stack, as the channel team and a partner's sales rep use them: a
vendor admin creates a campaign on #/admin/rewards; the partner user sees it open to them on #/rewards with its rule in
plain words; the user's deal is won and its reward, above the campaign's auto-approval amount, shows pending in the
history (campaign, source deal, status, date) and in the balance; the incentives approver approves it from the mail
viewer (the link's page decides nothing, its form does) and the user sees it available; the user redeems a payout and sees it requested; finance approves it from the mail viewer; finance
batches it on #/admin/rewards/payouts and marks the batch paid; the user sees the payout paid."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from infrastructure.local.people import People
from tests.e2e.test_deals_story import approved_deal, ensure_products, onboard
from tests.support.browser import new_page, open_mail
from tests.support.partners import PASSWORD, VENDOR_PASSWORD, vendor_admin

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

FINANCE = "finance@example.com"  # RewardFinanceApproverEmail's default
INCENTIVES = "channel-programme@example.com"  # RewardApproverEmail's default: rewards at or above auto-approval


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/#/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def reload_until(page: Page, ready: Any, what: str, timeout: float = 60.0) -> None:
    """Reload the page until `ready()` (the backend works asynchronously: earning, decisions, payments)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(500)
        page.reload()
        expect(page.get_by_test_id("balances").or_(page.get_by_test_id("balances-empty"))).to_be_visible()


def test_a_won_deal_earns_a_reward_the_user_redeems_and_finance_pays(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    ensure_products(people)
    tag = uuid.uuid4().hex[:6]
    company = f"Rewards Browser {tag}"
    partner = onboard(people, company=company)
    vendor = vendor_admin(people, name="Rewards Admin")
    # The deal sells a product of its own: other stories' campaigns pay on the shared SKUs, and a campaign closed
    # today still pays for deals closed today (eligibility is judged at the fact's date), so their rewards would join
    # this user's balance.
    sku = f"BRW-{tag.upper()}"
    answer = people.api(
        "POST",
        "/products",
        session=vendor,
        json={"sku": sku, "name": f"Browser story product {tag}", "family": "Security"},
    )
    assert answer.status_code == 201, answer.text
    admin, rep, finance = new_page(chromium), new_page(chromium), new_page(chromium)
    approver = new_page(chromium)
    console: list[str] = []
    for p in (admin, rep):
        p.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    name = f"Browser story push {tag}"
    today = datetime.now(UTC).date()

    # ------------------------------------------------------------ the vendor admin creates the campaign
    sign_in(admin, base, vendor.email, VENDOR_PASSWORD)
    expect(admin).to_have_url(re.compile(r"#/admin/mdf"))
    admin.get_by_test_id("nav-rewards-admin").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Rewards administration")
    form = admin.get_by_test_id("campaign-form")
    form.locator("#campaign_name").fill(name)
    form.locator("#campaign_unit").select_option("USD")
    form.locator("#campaign_starts_on").fill(today.isoformat())
    form.locator("#campaign_ends_on").fill((today + timedelta(days=30)).isoformat())
    form.locator("#campaign_budget").fill("1000")
    form.locator("#campaign_auto_approve").fill("500")  # the $600.00 reward goes to the incentives approver
    rule = form.get_by_test_id("rule-item").first
    rule.locator("select").first.select_option("deal_won_fixed")
    rule.locator("input[data-rule-field=amount]").fill("600")
    expect(rule.get_by_test_id("rule-preview")).to_have_text("Partners read: “600.00 USD for each won deal”")
    admin.get_by_test_id("save-campaign").click()
    expect(form.get_by_test_id("admin-result")).to_contain_text(f"Created {name}")
    row = admin.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row.get_by_test_id("campaign-status")).to_have_text("Open")
    expect(row.get_by_test_id("campaign-rule")).to_have_text("600.00 USD for each won deal")
    campaign_id = row.get_attribute("data-campaign-id")
    assert campaign_id

    # ------------------------------------------------------------ the partner user sees it open to them
    sign_in(rep, base, partner.email, PASSWORD)
    expect(rep.get_by_test_id("header-org-name")).to_have_text(company)
    rep.get_by_test_id("nav-rewards").click()
    expect(rep).to_have_url(re.compile(r"#/rewards$"))
    card = rep.locator(f"[data-testid=campaign-card][data-campaign-id={campaign_id}]")
    expect(card.get_by_test_id("campaign-name")).to_have_text(name)
    expect(card.get_by_test_id("campaign-rule")).to_have_text("600.00 USD for each won deal")
    expect(card.get_by_test_id("campaign-eligibility")).to_have_text("Open to every partner")

    # ------------------------------------------------------------ a won deal earns the reward
    deal = approved_deal(people, partner, products=[sku])
    won = {"amount": {"amount_minor": 1_150_000, "currency": "USD"}, "close_date": today.isoformat()}
    answer = people.api("POST", f"/deals/{deal['deal_id']}/won", session=partner.session, json=won)
    assert answer.status_code == 200, answer.text
    earned = rep.get_by_test_id("history-row").filter(has_text=name)
    reload_until(rep, lambda: earned.count() > 0, "the reward of the won deal")
    expect(earned.get_by_test_id("history-source").get_by_role("link")).to_have_attribute(
        "href", f"#/deals/{deal['deal_id']}"
    )
    expect(earned.get_by_test_id("history-amount")).to_have_text("$600.00")
    expect(earned.get_by_test_id("history-date")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d{2}-\d{2}"))
    status = earned.get_by_test_id("history-status")
    expect(status).to_have_text("Pending")
    expect(earned.get_by_test_id("history-next-step")).to_have_text("Waiting for the channel team\u2019s approval")
    usd = rep.locator("[data-testid=balance-card][data-unit=USD]")
    expect(usd.get_by_test_id("balance-pending")).to_have_text("$600.00")
    expect(usd.get_by_test_id("balance-available")).to_have_text("$0.00")

    # ------------------------------------------------------------ the incentives approver approves it by email
    open_mail(approver, base, INCENTIVES, f"Reward approval: 600.00 USD for {partner.email.lower()}")
    email = approver.frame_locator("iframe")
    expect(email.locator("body")).to_contain_text(name)
    approve = email.locator("a[data-decision=approve]")
    approve.click()  # the viewer's frame opens links in the whole window: the link's page only asks to confirm
    expect(approver.locator("#confirm")).to_be_visible()
    rep.reload()
    expect(status).to_have_text("Pending")  # opening the link decided nothing
    approver.click("#confirm")
    expect(approver.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    reload_until(rep, lambda: status.inner_text() == "Available", "the reward to become available")
    expect(earned.get_by_test_id("history-next-step")).to_have_text("Ready to redeem")
    expect(usd.get_by_test_id("balance-available")).to_have_text("$600.00")
    expect(usd.get_by_test_id("balance-pending")).to_have_text("$0.00")

    # ------------------------------------------------------------ the user redeems a payout
    expect(rep.get_by_test_id("payout-minimum")).to_have_text("The smallest payout is $50.00. Available: $600.00.")
    rep.fill("#payout_amount", "700")
    expect(rep.locator("#payout_amount-error")).to_have_text("You have $600.00 available.")
    rep.fill("#payout_amount", "600")
    rep.get_by_test_id("redeem").click()
    expect(rep.get_by_test_id("action-result")).to_contain_text("Payout of $600.00 requested")
    payout = rep.get_by_test_id("redemption-row").first
    expect(payout.get_by_test_id("redemption-status")).to_have_text("Requested")
    expect(payout.get_by_test_id("redemption-next-step")).to_have_text("Finance approves the payout")
    expect(usd.get_by_test_id("balance-available")).to_have_text("$0.00")
    redemption_id = payout.get_attribute("data-redemption-id")

    # ------------------------------------------------------------ finance approves it by its email link
    open_mail(finance, base, FINANCE, f"to {partner.email.lower()}")
    email = finance.frame_locator("iframe")
    expect(email.locator("body")).to_contain_text(partner.email.lower())
    approve = email.locator("a[data-decision=approve]")
    approve.click()
    finance.click("#confirm")
    expect(finance.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    mine = rep.locator(f"[data-testid=redemption-row][data-redemption-id={redemption_id}]")
    reload_until(rep, lambda: mine.get_by_test_id("redemption-status").inner_text() == "Approved", "finance's approval")
    expect(mine.get_by_test_id("redemption-next-step")).to_have_text("Paid with the next payout batch")

    # ------------------------------------------------------------ finance batches and pays it
    admin.get_by_test_id("rewards-tab-payouts").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Payouts and tax forms")
    expect(admin.locator(f"[data-testid=payout-row][data-redemption-id={redemption_id}]")).to_be_visible()
    admin.get_by_test_id("create-batch").click()
    result = admin.get_by_test_id("batch-form").get_by_test_id("admin-result")
    expect(result).to_contain_text("created")
    found = re.search(r"Batch (batch_\w+) created", result.inner_text())
    assert found, result.inner_text()
    batch = admin.locator(f"[data-testid=batch-row][data-batch-id={found.group(1)}]")
    expect(batch.get_by_test_id("batch-status")).to_have_text("Ready")
    with admin.expect_popup() as popup:
        batch.get_by_test_id("batch-download").click()
    expect(batch.get_by_test_id("batch-state")).to_contain_text("Opened in a new tab")
    popup.value.close()
    batch.get_by_test_id("batch-mark-paid").click()
    batch.get_by_test_id("batch-mark-paid-confirm").click()
    expect(batch.get_by_test_id("batch-status")).to_have_text("Paid")

    reload_until(rep, lambda: mine.get_by_test_id("redemption-status").inner_text() == "Paid", "the payout paid")
    expect(mine.get_by_test_id("redemption-next-step")).to_have_text("None")
    expect(usd.get_by_test_id("balance-paid")).to_have_text("$600.00")
    # the payout spent the whole reward: the history says it was paid out
    reload_until(rep, lambda: status.inner_text() == "Paid", "the reward paid out")
    expect(earned.get_by_test_id("history-next-step")).to_have_text("None")

    for p in (admin, rep, approver):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
    assert console == [], console


APPROVER = "channel-programme@example.com"  # RewardApproverEmail's default: reviews SPIFF claims
PDF = b"%PDF-1.4\n% rewards story proof\n"


def test_a_spiff_claim_with_proof_is_returned_for_more_then_approved(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    tag = uuid.uuid4().hex[:6]
    company = f"Rewards Claims {tag}"
    partner = onboard(people, company=company)
    vendor = vendor_admin(people, name="Rewards Admin")
    name = f"Webinar SPIFF {tag}"
    today = datetime.now(UTC).date()
    body = {
        "name": name,
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "unit": "points",
        "budget": 100_000,
        "auto_approve_below": 10_000,
        "rules": [{"kind": "spiff_claim", "amount": 750, "description": "Host a customer webinar"}],
    }
    answer = people.api("POST", "/rewards/campaigns", session=vendor, json=body)
    assert answer.status_code == 201, answer.text
    campaign_id = answer.json()["campaign_id"]
    rep = new_page(chromium)
    console: list[str] = []
    rep.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)

    sign_in(rep, base, partner.email, PASSWORD)
    expect(rep.get_by_test_id("header-org-name")).to_have_text(company)
    rep.get_by_test_id("nav-rewards").click()
    card = rep.locator(f"[data-testid=campaign-card][data-campaign-id={campaign_id}]")
    reload_until(rep, lambda: card.count() > 0, "the campaign open to the partner")  # rewards learns of partners late
    expect(card.get_by_test_id("campaign-rule")).to_have_text(
        "750 points for an approved claim: Host a customer webinar"
    )
    card.get_by_test_id("campaign-claim").click()
    expect(rep.locator("#claim_rule")).to_have_value(f"{campaign_id}::r1")
    rep.fill("#claim_description", f"Webinar for Contoso Bank {tag}, 40 attendees")
    rep.set_input_files("#claim_files", {"name": "invitation.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(rep.locator("[data-testid=proof-item][data-file-name='invitation.pdf']")).to_have_attribute(
        "data-state", "uploaded"
    )
    rep.get_by_test_id("file-claim").click()
    expect(rep.get_by_test_id("action-result")).to_contain_text("Your claim was filed")
    claim = rep.get_by_test_id("claim-card").filter(has_text=name)
    expect(claim.get_by_test_id("claim-status")).to_have_text("Under review")
    expect(claim.get_by_test_id("claim-next-step")).to_have_text("The channel team reviews the proof")

    # the reviewer returns it for more proof (a reason is required), by the email's link
    [review] = people.wait_for_mail(people.to(APPROVER, subject=f"SPIFF claim: {name}"), timeout=60)
    reason = "Please add the attendee list."
    page = people.decide(people.links(review)["return"], reason=reason)
    assert page.status_code == 200 and "data-outcome='returned'" in page.text, page.text
    status = claim.get_by_test_id("claim-status")
    reload_until(rep, lambda: status.inner_text() == "More proof needed", "the returned claim")
    expect(claim.get_by_test_id("claim-reason")).to_contain_text(reason)
    expect(claim.get_by_test_id("claim-next-step")).to_have_text("Add proof and resubmit")

    claim.get_by_test_id("claim-resubmit-open").click()
    form = claim.get_by_test_id("resubmit-form")
    expect(form.locator("[data-testid=proof-item][data-state=attached]")).to_have_count(1)
    form.locator("input[type=file]").set_input_files(
        {"name": "attendees.pdf", "mimeType": "application/pdf", "buffer": PDF + b"% attendees\n"}
    )
    expect(form.locator("[data-testid=proof-item][data-state=uploaded]")).to_have_count(1)
    form.get_by_test_id("resubmit-claim").click()
    expect(rep.get_by_test_id("action-result")).to_contain_text("resubmitted")
    expect(claim.get_by_test_id("claim-status")).to_have_text("Under review")

    # the second round is approved: the claim earns its reward
    first_round = people.links(review)["approve"]
    about = people.to(APPROVER, subject=f"SPIFF claim: {name}")
    [second] = people.wait_for_mail(
        lambda m: about(m) and people.links(m).get("approve") not in (None, first_round), timeout=60
    )
    approve = people.links(second)["approve"]
    page = people.decide(approve)
    assert page.status_code == 200 and "data-outcome='approved'" in page.text, page.text
    reload_until(rep, lambda: status.inner_text() == "Approved", "the approved claim")
    earned = rep.get_by_test_id("history-row").filter(has_text=name)
    reload_until(rep, lambda: earned.count() > 0, "the claim's reward")
    expect(earned.get_by_test_id("history-source")).to_contain_text("Claim clm_")
    expect(earned.get_by_test_id("history-amount")).to_have_text("750 points")
    expect(
        rep.locator("[data-testid=balance-card][data-unit=points]").get_by_test_id("balance-available")
    ).to_have_text("750 points")

    assert rep.errors == [], rep.errors  # type: ignore[attr-defined]
    assert console == [], console
