"""Driving the portal and the local mail viewer in Chromium, as a person would."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

# The portal's navigation, in order, as each kind of user sees it (portal/js/app.js ROUTES): one list for every test
PARTNER_NAV = ["Organisation", "Users", "Deals", "MDF", "Programme", "Training", "Rewards", "Library"]
VENDOR_NAV = [
    "MDF admin",
    "Training review",
    "Training catalogue",
    "LMS & imports",
    "Programme admin",
    "Rewards admin",
    "Content admin",
]


def new_page(browser: Browser) -> Page:
    """A fresh browser context (its own session); page errors are collected in `page.errors`."""
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def open_mail(page: Page, base: str, to: str, subject_part: str) -> Page:
    """Open the newest email to `to` whose subject contains `subject_part`, in the local mail viewer."""
    page.goto(f"{base}/_mail/")
    row = page.locator("tr").filter(has_text=to).filter(has_text=subject_part).first
    for _ in range(100):
        if row.count():
            break
        page.wait_for_timeout(200)
        page.reload()
    row.get_by_role("link").first.click()
    return page
