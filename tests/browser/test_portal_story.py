"""The onboarding story in headless Chromium against the local stack: apply, approve from the mail viewer,
first sign-in with a new password, accept the agreement, see the organisation, invite a colleague who signs in."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from infrastructure.local.people import People
from tests.support.browser import new_page, open_mail

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

PASSWORD = "Chosen-Password-42"


@pytest.fixture(scope="module")
def agreement(local_stack: Any) -> str:
    people = People(local_stack)
    admin = f"vendor-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(admin, "VendorAdmin-2026", groups=["vendor-admin"], name="Vendor Admin")
    session = people.sign_in(admin, "VendorAdmin-2026")
    current = f"2026-b{uuid.uuid4().hex[:4]}"
    body = {
        "version": current,
        "title": "Partner Programme Agreement",
        "body": "1. Scope\nThe programme.\n\n2. Conduct\nGood faith.",
    }
    people.api("POST", "/agreements", session=session, json=body).raise_for_status()
    return current


def test_partner_onboarding_in_the_portal(local_stack: Any, chromium: Browser, agreement: str) -> None:
    base = local_stack.base_url.rstrip("/")
    domain = f"acme-{uuid.uuid4().hex[:6]}.co.uk"
    page = new_page(chromium)

    # 3. apply in the portal and get a receipt
    page.goto(f"{base}/#/apply")
    page.fill("#company_name", "Acme Networks")
    page.fill("#website", f"https://www.{domain}/about")
    page.select_option("#country", "GB")
    page.select_option("#partner_type", "reseller")
    page.fill("#contact_name", "Ada Lovelace")
    page.fill("#contact_email", f"ada@{domain}")
    page.fill("#revenue_amount", "1234.56")
    page.click("button[type=submit]")
    application_id = page.get_by_test_id("receipt-application-id").inner_text()
    assert application_id.startswith("app_")
    expect(page.get_by_test_id("receipt-domain")).to_have_text(domain)
    expect(page.get_by_test_id("receipt-status")).to_have_text("Waiting for your email confirmation")

    # the applicant confirms the address from the emailed link (the page's button; opening it confirms nothing)
    applicant = new_page(chromium)
    open_mail(applicant, base, f"ada@{domain}", "Confirm your partner application")
    confirm_link = applicant.frame_locator("iframe").locator("a[data-confirmation-link]").get_attribute("href")
    assert confirm_link
    applicant.goto(confirm_link)
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Confirm your partner application")
    applicant.click("#confirm")
    expect(applicant.locator("#outcome")).to_contain_text("your email address is confirmed")

    # 4. the approver opens the email in the mail viewer, follows "Approve…", sees the application and confirms
    approver = new_page(chromium)
    open_mail(approver, base, "partner-approver@example.com", f"Partner application: Acme Networks ({domain})")
    body = approver.frame_locator("iframe")
    approve_link = body.locator("a[data-decision=approve]").get_attribute("href")
    assert approve_link
    approver.goto(approve_link)
    expect(approver.get_by_role("heading", level=1)).to_contain_text("Acme Networks")
    expect(approver.locator("body")).to_contain_text("1,234.56 USD")
    approver.click("#confirm")
    expect(approver.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    approver.goto(approve_link)  # the link a second time decides nothing more
    expect(approver.locator("body")).to_contain_text("Already decided")

    # 5. the invitation email carries a temporary password
    open_mail(approver, base, f"ada@{domain}", "Your Example Vendor Partner Network account")
    temporary = approver.frame_locator("iframe").locator("[data-temporary-password]").inner_text()

    # 6. first sign-in sets a new password, then the agreement comes before anything else
    page.goto(f"{base}/#/signin")
    page.fill("#email", f"ada@{domain}")
    page.fill("#password", temporary)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your new password")
    page.fill("#new_password", PASSWORD)
    page.fill("#confirm_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile("#/agreement$"))
    expect(page.get_by_test_id("agreement-version")).to_contain_text(agreement)
    page.evaluate("location.hash = '#/users'")
    expect(page).to_have_url(re.compile("#/agreement$"))
    page.check("#accept_agreement")
    page.click("button[type=submit]")
    page.get_by_test_id("nav-organisation").click()
    expect(page.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")
    expect(page.get_by_test_id("profile-tier")).to_have_text("Registered")
    expect(page.get_by_test_id("profile-domain")).to_have_text(domain)
    expect(page.get_by_test_id("header-org-name")).to_have_text("Acme Networks")

    # ... and invites a colleague, who signs in the same way
    page.get_by_test_id("nav-users").click()
    page.fill("#invite_email", f"grace@{domain}")
    page.fill("#invite_name", "Grace Hopper")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("invite-success")).to_be_visible()
    expect(page.get_by_test_id("user-row")).to_have_count(2)

    open_mail(approver, base, f"grace@{domain}", "Your Example Vendor Partner Network account")
    grace_mail = approver.frame_locator("iframe")
    expect(grace_mail.locator("body")).to_contain_text("Grace")
    grace_password = grace_mail.locator("[data-temporary-password]").inner_text()
    colleague = new_page(chromium)
    colleague.goto(f"{base}/#/signin")
    colleague.fill("#email", f"grace@{domain}")
    colleague.fill("#password", grace_password)
    colleague.click("button[type=submit]")
    colleague.fill("#new_password", PASSWORD)
    colleague.fill("#confirm_password", PASSWORD)
    colleague.click("button[type=submit]")
    colleague.check("#accept_agreement")
    colleague.click("button[type=submit]")
    colleague.get_by_test_id("nav-organisation").click()
    expect(colleague.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")
    expect(colleague.get_by_test_id("edit-profile")).to_have_count(0)  # a partner user cannot edit

    # Signing out ends the session at Cognito too (through the local stack's Cognito, as the portal reaches AWS's):
    # the refresh token it held mints nothing any more, while Ada's own session goes on.
    grace_refresh = json.loads(colleague.evaluate("sessionStorage.getItem('prm.auth')"))["refreshToken"]
    with colleague.expect_response(
        lambda r: r.request.headers.get("x-amz-target", "").endswith(".RevokeToken")
    ) as sent:
        colleague.click("#sign-out")
    assert sent.value.status == 200
    people = People(local_stack)
    cognito = local_stack.client("cognito-idp")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=people.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": grace_refresh}
        )
    page.evaluate("location.hash = '#/users'")
    expect(page.get_by_test_id("user-row")).to_have_count(2)

    for p in (page, approver, colleague):
        assert p.errors == [], p.errors  # type: ignore[attr-defined]
