"""Right after a partner user accepts the programme agreement, the other contexts (content, rewards, deals, MDF…) learn
of it from onboarding's `PartnerAgreementAccepted` a moment later, so their first answers may still be 403
`agreement_required` (contracts/onboarding_agreement_gate.py). The portal retries those with a short backoff before it
believes them; without a fresh acceptance a 403 `agreement_required` sends the partner to the agreement at once.
Chromium against the stub API (tests/support/portal_stub.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.portal_stub import (
    AGREEMENT,
    PARTNER_ID,
    PROFILE,
    Stub,
    brand,
    cognito_tokens,
    error,
    me,
    ok,
    session_script,
    stubbed_page,
)

pytestmark = pytest.mark.browser

ADMIN = ("partner-admin",)
BRAND = brand(editable=True)
NOT_YET = error(403, "agreement_required", "Accept the current programme agreement first.")


@pytest.fixture
def stub(portal_url: str) -> Stub:
    return Stub(
        base=portal_url,
        api={
            # onboarding knows at once: required before the acceptance, not after it
            ("GET", "/me"): [ok(me(roles=ADMIN, required=True)), ok(me(roles=ADMIN))],
            ("GET", "/agreements/current"): ok(AGREEMENT),
            ("POST", "/agreements/current/acceptance"): ok(
                {"version": "2026-01", "accepted_at": "2026-11-26T16:05:00Z", "accepted_by": "ada@acme.example"}, 201
            ),
            ("GET", f"/partners/{PARTNER_ID}"): ok(PROFILE),
        },
    )


@pytest.fixture
def page(chromium: Browser, stub: Stub) -> Iterator[Page]:
    with stubbed_page(chromium, stub, session=session_script(groups=ADMIN, once=True)) as page:
        yield page


def accept(page: Page, portal_url: str) -> None:
    page.goto(f"{portal_url}#/organisation")
    expect(page).to_have_url(re.compile(r"#/agreement$"))
    page.check("#accept_agreement")
    page.get_by_role("button", name="Accept agreement").click()
    expect(page).to_have_url(re.compile(r"#/organisation$"))


def brand_calls(stub: Stub) -> list[Any]:
    return stub.requests("GET", "/content/brand")


def test_a_late_agreement_projection_is_waited_for_not_shown(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/brand")] = [NOT_YET, NOT_YET, ok(BRAND)]
    accept(page, portal_url)
    section = page.get_by_test_id("brand-profile")
    expect(section.get_by_test_id("brand-display_name")).to_have_text("Acme Networks")
    expect(section.get_by_test_id("brand-form")).to_be_visible()
    expect(page.get_by_test_id("brand-error")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"#/organisation$"))  # not sent back to the agreement
    assert len(brand_calls(stub)) == 3
    assert len(stub.requests("POST", "/agreements/current/acceptance")) == 1


def test_other_refusals_are_not_retried(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/brand")] = [error(403, "forbidden", "You may not see this brand."), ok(BRAND)]
    accept(page, portal_url)
    expect(page.get_by_test_id("brand-error")).to_have_text(
        "We could not load your brand profile. You may not see this brand."
    )
    assert len(brand_calls(stub)) == 1


def test_the_retries_give_up_after_a_few_seconds_with_a_message(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/content/brand")] = [NOT_YET] * 7 + [ok(BRAND)]  # the projection catches up too late
    accept(page, portal_url)
    started = time.monotonic()
    expect(page.get_by_test_id("brand-error")).to_have_text(
        "We could not load your brand profile. Your acceptance of the programme agreement is still being recorded. "
        "Please try again in a moment.",
        timeout=15_000,
    )
    waited = time.monotonic() - started
    # the first try and six more over about six seconds, then the page says so (not back to the agreement just accepted)
    assert len(brand_calls(stub)) == 7
    assert 4 < waited < 10, waited
    expect(page).to_have_url(re.compile(r"#/organisation$"))
    page.reload()  # "try again in a moment": by now the projection has it
    expect(page.get_by_test_id("brand-display_name")).to_have_text("Acme Networks")
    expect(page.get_by_test_id("brand-error")).to_have_count(0)


def test_without_a_fresh_acceptance_the_refusal_is_believed_at_once(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", "/content/brand")] = [NOT_YET, ok(BRAND)]
    page.goto(f"{portal_url}#/organisation")
    expect(page).to_have_url(re.compile(r"#/agreement$"))
    assert len(brand_calls(stub)) == 1


def test_a_token_expiring_during_the_retries_is_refreshed_once_then_the_session_ends(
    page: Page, stub: Stub, portal_url: str
) -> None:
    """A 401 among the retries is handled as any 401: one refresh and a new try, then (refused again) the session ends
    with the sign-in page, not an error shown in the page."""
    stub.cognito["InitiateAuth"] = ok(cognito_tokens("renewed", refresh=False))
    stub.api[("GET", "/content/brand")] = [NOT_YET, error(401, "unauthorized", "The incoming token has expired")]
    accept(page, portal_url)
    expect(page).to_have_url(re.compile(r"#/signin$"))
    expect(page.get_by_test_id("flash")).to_contain_text("sign in again")
    assert len(stub.actions("InitiateAuth")) == 1  # the one refresh
    assert len(brand_calls(stub)) == 3  # refused (403), expired (401), expired again with the refreshed token
