"""The vendor admin's training and programme pages in headless Chromium against the local stack, as a channel team
member uses them: a course and a certification that requires it are added to the catalogue; an LMS connection is
created and its secret shown once (it signs a real webhook delivery), then rotated; the criteria version in force is
listed, a version for a later date is created from it and withdrawn again. A second story imports a CSV file of
completions (presigned upload to moto's S3, the asynchronous import, the report per row)."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from infrastructure.local.people import People
from infrastructure.local.seed_programme import completion_body, signed_headers, wait_for_tier
from tests.e2e.test_deals_story import onboard as onboard_for_deals
from tests.e2e.test_training_tiers_story import programme
from tests.support.browser import new_page
from tests.support.partners import VENDOR_PASSWORD, vendor_admin

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/#/signin")
    page.fill("#email", email)
    page.fill("#password", VENDOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"#/admin/mdf"))  # vendor staff start on their admin pages


def deliver(people: People, connection_id: str, secret: str, lms_course_id: str, email: str) -> dict[str, Any]:
    """A `course.completed` webhook signed with `secret`, as the learning system sends it."""
    payload = json.dumps(completion_body(email, lms_course_id, datetime.now(UTC) - timedelta(hours=1)))
    answer = people.http.post(
        f"{people.stack.api_url}/training/webhooks/{connection_id}",
        data=payload,
        headers=signed_headers(secret, payload),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_vendor_admin_builds_the_catalogue_connects_an_lms_and_versions_the_programme(
    local_stack: Any, chromium: Browser
) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    programme(people, name="Admin story demo LMS")  # the demo catalogue and the version in force
    vendor = vendor_admin(people, name="Training Admin")
    page = new_page(chromium)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    tag = uuid.uuid4().hex[:8]

    sign_in(page, base, vendor.email)
    expect(page.locator("#site-nav a")).to_contain_text(
        ["MDF admin", "Training review", "Training catalogue", "LMS & imports", "Programme admin"]
    )

    # ------------------------------------------------------------ a course, then a certification that requires it
    page.get_by_test_id("nav-training-catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training catalogue")
    expect(page.locator('[data-testid=course-row] [data-testid=course-lms-id]:text-is("NET-101")')).to_have_count(1)
    course_form = page.get_by_test_id("course-form")
    course_form.locator("#course_title").fill(f"SD-WAN Essentials {tag}")
    course_form.locator("#course_lms_id").fill(f"SDWAN-{tag}")
    course_form.locator("#course_credit_hours").fill("2.5")
    course_form.locator("#course_language").fill("en")
    activity = f"https://lms.example.com/xapi/sd-wan-{tag}"
    course_form.locator("#course_activity_ids").fill(f"{activity}\n{activity}/")
    expect(course_form.locator("#course_activity_ids-error")).to_have_text("Line 2: this activity id is listed twice.")
    course_form.locator("#course_activity_ids").fill(activity)
    course_form.get_by_test_id("create-course").click()
    expect(course_form.get_by_test_id("admin-result")).to_have_text(f"Added “SD-WAN Essentials {tag}” (SDWAN-{tag}).")
    row = page.get_by_test_id("course-row").filter(has_text=f"SDWAN-{tag}")
    expect(row.get_by_test_id("course-hours")).to_have_text("2.5 hours")
    expect(row.get_by_test_id("course-activity-ids")).to_have_text(activity)
    expect(row.get_by_test_id("course-uses")).to_have_text("Offered; not part of a certification yet")

    cert_form = page.get_by_test_id("certification-form")
    cert_form.locator("#cert_name").fill(f"SD-WAN Specialist {tag}")
    cert_form.get_by_label(f"SD-WAN Essentials {tag} (SDWAN-{tag})").check()
    cert_form.locator("#cert_validity").fill("12")
    cert_form.locator("#cert_window").fill("6")
    cert_form.get_by_test_id("create-certification").click()
    expect(cert_form.get_by_test_id("admin-result")).to_have_text(f"Added the certification “SD-WAN Specialist {tag}”.")
    cert_row = page.get_by_test_id("certification-row").filter(has_text=f"SD-WAN Specialist {tag}")
    expect(cert_row.get_by_test_id("cert-courses")).to_have_text(f"SD-WAN Essentials {tag}")
    expect(cert_row.get_by_test_id("cert-validity")).to_have_text("12 months")
    expect(cert_row.get_by_test_id("cert-window")).to_have_text("6 months")
    expect(row.get_by_test_id("course-uses")).to_have_text(f"Counts toward SD-WAN Specialist {tag}")
    page.reload()  # what the page shows is what the API keeps
    expect(page.get_by_test_id("certification-row").filter(has_text=f"SD-WAN Specialist {tag}")).to_have_count(1)

    # ------------------------------------------------------------ an LMS connection: the secret, once
    page.get_by_test_id("nav-training-connections").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LMS connections and imports")
    page.locator("#connection_name").fill(f"Story LMS {tag}")
    page.get_by_test_id("create-connection").click()
    panel = page.get_by_test_id("secret-panel")
    expect(panel).to_be_focused()
    connection_id = panel.get_by_test_id("connection-id").inner_text()
    secret = panel.get_by_test_id("connection-secret").inner_text()
    assert re.fullmatch(r"lms_[0-9a-z]{26}", connection_id), connection_id
    assert secret.startswith("whsec_"), secret
    expect(panel.get_by_test_id("connection-webhook-url")).to_have_text(
        re.compile(rf"^https?://.+/training/webhooks/{connection_id}$")
    )
    panel.get_by_test_id("copy-secret").click()
    expect(panel.get_by_test_id("copy-state")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    # the secret the page showed signs a real delivery (an unknown learner: kept for review)
    learner = f"someone-{tag}@unknown.example"
    assert deliver(people, connection_id, secret, f"SDWAN-{tag}", learner) == {"status": "review"}
    page.get_by_test_id("dismiss-secret").click()
    expect(page.get_by_test_id("secret-panel")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(secret)
    row = page.locator(f'[data-testid=connection-row][data-connection-id="{connection_id}"]')
    expect(row.get_by_test_id("connection-status")).to_have_text("Created")

    # rotated: a new secret, shown once; the old one keeps working for a while
    row.get_by_test_id("connection-rotate").click()
    page.get_by_test_id("rotate-secret").click()
    panel = page.get_by_test_id("secret-panel")
    expect(panel.get_by_test_id("previous-valid-until")).to_contain_text("Keeps working until")
    rotated = panel.get_by_test_id("connection-secret").inner_text()
    assert rotated.startswith("whsec_") and rotated != secret
    assert deliver(people, connection_id, rotated, f"SDWAN-{tag}", f"other-{tag}@unknown.example") == {
        "status": "review"
    }
    expect(row.get_by_test_id("connection-status")).to_have_text("Secret rotated")
    page.reload()  # nothing keeps a secret: after a reload it is gone; the connection is listed by the API
    expect(page.locator("main")).not_to_contain_text(rotated)
    listed = page.locator(f'[data-testid=connection-row][data-connection-id="{connection_id}"]')
    more = page.get_by_test_id("connections-more")
    while not listed.count() and more.count():
        more.click()
        page.wait_for_timeout(300)
    expect(listed.get_by_test_id("connection-name")).to_have_text(f"Story LMS {tag}")
    expect(listed.get_by_test_id("connection-status")).to_have_text("Previous secret retiring")
    # a listed connection is rotated from its row, no id typed; the newest secret signs, the one before too
    listed.get_by_test_id("connection-rotate").click()
    expect(page.locator("#rotate_connection")).to_have_value(connection_id)
    page.get_by_test_id("rotate-secret").click()
    third = page.get_by_test_id("secret-panel").get_by_test_id("connection-secret").inner_text()
    assert third.startswith("whsec_") and third not in (secret, rotated)
    assert deliver(people, connection_id, third, f"SDWAN-{tag}", f"third-{tag}@unknown.example") == {"status": "review"}
    expect(listed.get_by_test_id("connection-status")).to_have_text("Secret rotated")
    page.get_by_test_id("dismiss-secret").click()

    # the review list has the delivery the new connection made
    page.get_by_test_id("nav-training-admin").click()
    expect(page.get_by_test_id("review-row").first).to_be_visible()
    review = page.get_by_test_id("review-row").filter(has_text=learner)
    more = page.get_by_test_id("review-load-more")
    while not review.count() and more.count():
        more.click()
        page.wait_for_timeout(300)
    expect(review.get_by_test_id("review-course")).to_have_text(f"SDWAN-{tag}")

    # ------------------------------------------------------------ the programme's versions
    partner = onboard_for_deals(people, company=f"Picker Partner {tag}")
    wait_for_tier(people, partner.session, "registered")
    page.get_by_test_id("nav-programme-admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme administration")
    in_force = page.locator("[data-testid=version-row][data-status=in_force]")
    expect(in_force).to_have_count(1)
    expect(in_force.get_by_test_id("version-status")).to_have_text("In force")
    expect(in_force.get_by_test_id("version-tier-names")).to_contain_text("Registered → Silver → Gold")
    expect(in_force.get_by_test_id("withdraw-version")).to_have_count(0)

    form = page.get_by_test_id("version-form")
    expect(form.get_by_test_id("tier-editor").first.locator("legend")).to_have_text("Tier 1 (entry tier)")
    later = date(2080 + random.randrange(15), random.randrange(1, 13), random.randrange(1, 29)).isoformat()
    form.locator("#version_effective_from").fill(later)
    form.get_by_test_id("create-version").click()
    result = form.get_by_test_id("admin-result")
    expect(result).to_contain_text(f"it applies from {later}.")
    version_id = re.search(r"Created (v\d+)", result.inner_text()).group(1)  # type: ignore[union-attr]
    announced = page.locator(f'[data-testid=version-row][data-version-id="{version_id}"]')
    expect(announced.get_by_test_id("version-status")).to_have_text("Announced")
    expect(announced.get_by_test_id("version-effective")).to_have_attribute("datetime", later)
    expect(announced.get_by_test_id("version-next-step")).to_contain_text("Withdraw it before then")

    announced.get_by_test_id("withdraw-version").click()
    page.locator("#withdraw_reason").fill("Created by the browser story; never meant to apply.")
    page.get_by_test_id("withdraw").click()
    expect(page.get_by_test_id("withdraw-form").get_by_test_id("admin-result")).to_have_text(
        f"Withdrew {version_id}: it will not apply."
    )
    page.reload()
    withdrawn = page.locator(f'[data-testid=version-row][data-version-id="{version_id}"]')
    expect(withdrawn).to_have_attribute("data-status", "withdrawn")
    expect(withdrawn.get_by_test_id("version-next-step")).to_contain_text("never meant to apply")
    expect(page.locator("[data-testid=version-row][data-status=in_force]")).to_have_count(1)
    # the manual-criterion picker lists the programme's own partners (GET /programme/partners), with their tier
    picker = page.locator("#manual_partner")
    expect(picker.locator(f'option[value="{partner.partner_id}"]')).to_have_text(f"Picker Partner {tag} (Registered)")
    picker.select_option(partner.partner_id)
    expect(page.get_by_test_id("partner-standing").get_by_role("heading", level=2).first).to_have_text(
        f"Standing of Picker Partner {tag}"
    )

    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    assert console == [], console


def test_a_vendor_admin_imports_completions_from_a_csv_file(local_stack: Any, chromium: Browser) -> None:
    base = local_stack.base_url.rstrip("/")
    people = People(local_stack)
    catalogue = programme(people, name="Import story demo LMS")
    assert "NET-101" in catalogue.course_ids
    vendor = vendor_admin(people, name="Import Admin")
    page = new_page(chromium)
    tag = uuid.uuid4().hex[:8]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    csv = (
        "learner_email,lms_course_id,result,completed_at,score,learner_name\n"
        f"nobody-{tag}@unknown.example,NET-101,passed,{yesterday},91,Nobody\n"
        f"nobody-{tag}@unknown.example,NET-101,passed,2999-01-01,91,Nobody\n"
    ).encode()

    sign_in(page, base, vendor.email)
    page.get_by_test_id("nav-training-connections").click()
    page.locator("#import_file").set_input_files({"name": f"weekly-{tag}.csv", "mimeType": "text/csv", "buffer": csv})
    page.get_by_test_id("start-import").click()
    card = page.get_by_test_id("import-card")
    expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(card.get_by_test_id("import-file")).to_have_text(f"weekly-{tag}.csv")
    expect(card.get_by_test_id("import-progress-text")).to_have_text("2 of 2")
    expect(card.get_by_test_id("import-ignored")).to_have_text("learner_name")
    report = card.get_by_test_id("report-row")
    expect(report.get_by_test_id("report-status")).to_have_text(["Unknown learner", "Invalid"])
    expect(report.nth(1).get_by_test_id("report-reason")).to_contain_text("completed_at")
    import_id = card.get_attribute("data-import-id")
    expect(page).to_have_url(re.compile(rf"\?import={import_id}$"))
    page.reload()
    expect(page.get_by_test_id("report-row")).to_have_count(2)
    # the recent imports list it (newest first): opened from there, without its id in the address
    page.goto(f"{base}/#/admin/training/connections")
    listed = page.locator(f'[data-testid=imports-row][data-import-id="{import_id}"]')
    expect(listed).to_have_attribute("data-status", "completed")
    expect(listed.get_by_test_id("imports-row-file")).to_have_text(f"weekly-{tag}.csv")
    expect(page.get_by_test_id("import-card")).to_have_count(0)
    listed.get_by_test_id("imports-open").click()
    expect(page.get_by_test_id("import-card")).to_have_attribute("data-import-id", import_id)
    expect(page.get_by_test_id("report-row")).to_have_count(2)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
