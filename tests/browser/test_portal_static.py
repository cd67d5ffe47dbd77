"""Browser tests of the static partner portal (portal/) with no backend: the stub in tests/support/portal_stub.py
answers /config.json, the API under /api/ and the Cognito JSON API under /cognito/, and records every request."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from playwright.sync_api import Browser, Page, expect

from infrastructure.local import moto_patches
from shared.countries import COUNTRY_CODES
from tests.support.portal_stub import (
    ABORT,
    AGREEMENT,
    PARTNER_ID,
    PROFILE,
    UUID,
    Stub,
    cognito_error,
    cognito_tokens,
    error,
    me,
    ok,
    session_script,
    stubbed_page,
)

pytestmark = pytest.mark.browser

STRONG_PASSWORD = "Correct-Horse-9battery"
ADMIN = ("partner-admin",)


def tokens(marker: str = "1", *, expires_in: int = 3600, refresh: bool = True) -> dict[str, Any]:
    return cognito_tokens(marker, expires_in=expires_in, refresh=refresh, groups=ADMIN)


@pytest.fixture
def stub(portal_url: str) -> Stub:
    return Stub(base=portal_url)


@pytest.fixture
def page(chromium: Browser, stub: Stub) -> Iterator[Page]:
    with stubbed_page(chromium, stub) as page:
        yield page


def signed_in(page: Page, *, marker: str = "1", expires_in: int = 3600) -> None:
    """Start the page with tokens in sessionStorage, as after a sign-in (only on the first load)."""
    page.add_init_script(session_script(marker=marker, expires_in=expires_in, groups=ADMIN, once=True))


def fill_application(page: Page, *, amount: str = "1234.56", currency: str = "USD") -> None:
    page.fill("#company_name", "Acme Networks")
    page.fill("#website", "https://www.acme.example")
    page.select_option("#country", "GB")
    page.select_option("#partner_type", "reseller")
    page.fill("#contact_name", "Ada Lovelace")
    page.fill("#contact_email", "ada@acme.example")
    page.fill("#revenue_amount", amount)
    page.select_option("#revenue_currency", currency)


RECEIPT = {
    "application_id": "app_7Q2",
    "status": "unconfirmed",
    "submitted_at": "2026-11-26T16:00:00Z",
    "confirm_by": "2026-11-28T16:00:00Z",
    "domain": "acme.example",
}


# ---------------------------------------------------------------------------------------------- apply


def test_the_portal_names_the_programme_from_its_settings(page: Page, stub: Stub, portal_url: str) -> None:
    """Branding is configuration (the template's ProgrammeName, in config.json), not text in the portal's code."""
    page.goto(f"{portal_url}#/signin")
    expect(page.get_by_role("link", name="Contoso Partner Network")).to_be_visible()
    expect(page).to_have_title("Sign in · Contoso Partner Network")
    expect(page.get_by_text("Sign in to the Contoso Partner Network.")).to_be_visible()
    expect(page.locator("[data-programme]")).to_have_text("Contoso Partner Network")
    page.get_by_role("link", name="Become a partner").click()
    expect(page.get_by_text("Apply to join the Contoso Partner Network.", exact=False)).to_be_visible()


def test_apply_form_validates_as_you_type(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/signin")
    page.get_by_role("link", name="Become a partner").click()
    expect(page).to_have_url(re.compile(r"#/apply$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Become a partner")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # a route change moves focus to the new page

    page.reload()
    expect(page.locator("#company_name")).to_be_visible()
    page.keyboard.press("Tab")  # keyboard users first meet the skip link, which must not break the hash route
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/apply$"))
    page.keyboard.press("Tab")
    expect(page.locator("#company_name")).to_be_focused()

    email, email_error = page.locator("#contact_email"), page.locator("#contact_email-error")
    email.press_sequentially("ada@")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    email.press_sequentially("acme.example")
    expect(email_error).to_be_hidden()
    expect(email).not_to_have_attribute("aria-invalid", "true")

    page.fill("#website", "not a domain")
    expect(page.locator("#website-error")).to_contain_text("example.com")
    page.fill("#website", "acme.example")
    expect(page.locator("#website-error")).to_be_hidden()

    page.fill("#company_name", "x" * 201)
    expect(page.locator("#company_name-error")).to_contain_text("200 characters or fewer")
    page.fill("#company_name", "x" * 200)
    expect(page.locator("#company_name-error")).to_be_hidden()
    page.fill("#company_name", "")
    expect(page.locator("#company_name-error")).to_have_text("Enter your company\u2019s name.")

    page.fill("#contact_name", "n" * 121)
    expect(page.locator("#contact_name-error")).to_contain_text("120 characters")
    page.fill("#contact_email", "a" * 250 + "@x.io")
    expect(email_error).to_contain_text("254 characters")

    page.click("button[type=submit]")
    for field_id in ("company_name", "country", "partner_type", "revenue_amount"):
        expect(page.locator(f"#{field_id}-error")).to_be_visible()
    expect(page.locator("#company_name")).to_be_focused()
    expect(page.get_by_test_id("form-error")).to_contain_text("correct the highlighted fields")
    assert stub.requests("POST", "/applications") == []


def test_money_parsing_is_exact(page: Page, portal_url: str) -> None:
    page.goto(f"{portal_url}#/apply")
    expect(page.locator("#revenue_amount")).to_be_visible()
    results = page.evaluate(
        """async (cases) => {
            const { parseMoney } = await import('./js/money.js');
            return cases.map(([text, currency]) => parseMoney(text, currency));
        }""",
        [
            ["1234.56", "USD"],
            ["0.1", "USD"],
            ["19.99", "USD"],
            ["4.35", "EUR"],
            ["1,250,000", "GBP"],
            ["10000000000000.00", "USD"],
            ["1.234", "USD"],
            ["1.5", "JPY"],
            ["1500", "JPY"],
            ["-5", "USD"],
            ["1e3", "USD"],
            ["10000000000000.01", "USD"],
        ],
    )
    assert [r.get("minor") for r in results[:6]] == [123456, 10, 1999, 435, 125000000, 10**15]
    assert results[6] == {"ok": False, "error": "USD amounts have at most 2 decimal places."}
    assert results[7] == {"ok": False, "error": "JPY amounts have no decimal places."}
    assert results[8]["minor"] == 1500
    assert not any(r["ok"] for r in results[9:])
    assert results[-1]["error"] == "That amount is too large."

    page.fill("#revenue_amount", "1.234")
    expect(page.locator("#revenue_amount-error")).to_have_text("USD amounts have at most 2 decimal places.")
    page.select_option("#revenue_currency", "JPY")  # the currency decides the decimals: re-validated
    expect(page.locator("#revenue_amount-error")).to_have_text("JPY amounts have no decimal places.")
    page.fill("#revenue_amount", "1234")
    expect(page.locator("#revenue_amount-error")).to_be_hidden()
    expect(page.get_by_test_id("revenue-preview")).to_contain_text("1,234")


def test_apply_offers_every_country_the_api_accepts_sorted_by_name(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/apply")
    options = page.locator("#country option:not([value=''])")
    expect(options).to_have_count(len(COUNTRY_CODES))
    values = options.evaluate_all("(os) => os.map((o) => o.value)")
    labels = options.evaluate_all("(os) => os.map((o) => o.textContent)")
    assert set(values) == COUNTRY_CODES
    names = [label.rsplit(" (", 1)[0] for label in labels]
    assert names == page.evaluate("(ns) => [...ns].sort((a, b) => a.localeCompare(b, 'en'))", names)
    assert "Kazakhstan (KZ)" in labels and "Bosnia and Herzegovina (BA)" in labels  # not among the old 65
    page.select_option("#country", "KZ")
    expect(page.locator("#country")).to_have_value("KZ")


def test_apply_sends_exact_minor_units_once_and_shows_receipt(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/applications")] = ok(RECEIPT, 201)
    page.goto(f"{portal_url}#/apply")
    fill_application(page, amount="1234.56", currency="USD")
    page.fill("#revenue_amount", "1.234")
    page.click("button[type=submit]")
    expect(page.locator("#revenue_amount-error")).to_be_visible()
    assert stub.requests("POST", "/applications") == []

    page.fill("#revenue_amount", "0.1")
    expect(page.get_by_test_id("revenue-preview")).to_contain_text("0.10")
    page.fill("#revenue_amount", "1234.56")
    # A double click (and a second programmatic submit) while the first request is in flight sends once.
    page.evaluate(
        """() => {
            const button = document.querySelector('button[type=submit]');
            button.click();
            button.click();
            button.form.requestSubmit();
        }"""
    )
    expect(page.get_by_test_id("receipt-application-id")).to_have_text("app_7Q2")
    expect(page.get_by_test_id("receipt-domain")).to_have_text("acme.example")
    expect(page.get_by_test_id("receipt-submitted-at")).to_have_attribute("datetime", "2026-11-26T16:00:00Z")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    # nothing is reviewed until the applicant confirms their address: the receipt says so, and by when
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email to confirm")
    expect(page.get_by_test_id("receipt-status")).to_have_text("Waiting for your email confirmation")
    expect(page.get_by_test_id("receipt-confirm-by")).to_have_attribute("datetime", "2026-11-28T16:00:00Z")

    (call,) = stub.requests("POST", "/applications")
    assert call.body == {
        "company_name": "Acme Networks",
        "website": "https://www.acme.example",
        "country": "GB",
        "partner_type": "reseller",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@acme.example",
        "expected_annual_revenue": {"amount_minor": 123456, "currency": "USD"},
    }
    assert UUID.match(call.headers["idempotency-key"])
    assert "authorization" not in call.headers


def test_apply_shows_server_field_errors_on_the_matching_fields(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/applications")] = [
        error(
            400,
            "validation_error",
            "Request body is invalid.",
            [
                {"field": "contact_email", "message": "value is not a valid email address"},
                {"field": "expected_annual_revenue.amount_minor", "message": "Value error, must be at most 10^15"},
            ],
        ),
        error(
            409,
            "duplicate_application",
            "An application for acme.example exists.",
            [{"field": "website", "message": "acme.example already applied"}],
        ),
        ok(RECEIPT, 201),
    ]
    page.goto(f"{portal_url}#/apply")
    fill_application(page)
    page.click("button[type=submit]")
    expect(page.locator("#contact_email-error")).to_have_text("Value is not a valid email address")
    expect(page.locator("#revenue_amount-error")).to_have_text("Must be at most 10^15")
    expect(page.locator("#website-error")).to_be_hidden()
    expect(page.get_by_test_id("form-error")).to_be_visible()
    expect(page.locator("#contact_email")).to_be_focused()

    page.fill("#contact_email", "ada.lovelace@acme.example")  # editing a field clears its server error
    expect(page.locator("#contact_email-error")).to_be_hidden()
    page.click("button[type=submit]")
    expect(page.locator("#website-error")).to_have_text("acme.example already applied")
    expect(page.locator("#website")).to_have_attribute("aria-invalid", "true")

    page.fill("#website", "https://acme-two.example")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("receipt-application-id")).to_have_text("app_7Q2")
    first, second, third = stub.requests("POST", "/applications")
    # A changed body gets a fresh key (re-using one with another body would be answered 422).
    assert (
        len({first.headers["idempotency-key"], second.headers["idempotency-key"], third.headers["idempotency-key"]})
        == 3
    )


def test_apply_network_failure_keeps_answers_and_retries_with_same_key(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("POST", "/applications")] = [ABORT, ok(RECEIPT, 201)]
    page.goto(f"{portal_url}#/apply")
    fill_application(page)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("form-error")).to_contain_text("could not reach the server")
    expect(page.locator("#company_name")).to_have_value("Acme Networks")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("receipt-application-id")).to_have_text("app_7Q2")
    first, second = stub.requests("POST", "/applications")
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


# ---------------------------------------------------------------------------------------------- sign-in


def test_new_password_required_flow_calls_respond_to_auth_challenge(page: Page, stub: Stub, portal_url: str) -> None:
    stub.cognito["InitiateAuth"] = ok(
        {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": "session-abc",
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": "user-sub-1",
                "requiredAttributes": "[]",
                "userAttributes": "{}",
            },
        }
    )
    stub.cognito["RespondToAuthChallenge"] = ok(tokens("new"))
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)

    page.goto(f"{portal_url}#/organisation")
    expect(page).to_have_url(re.compile(r"#/signin$"))  # protected routes need a sign-in
    page.fill("#email", "ada@acme.example")
    page.fill("#password", "Temp-Password-1")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your new password")
    (initiate,) = stub.actions("InitiateAuth")
    assert initiate.headers["content-type"] == "application/x-amz-json-1.1"
    assert initiate.headers["x-amz-target"] == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert initiate.body == {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": "client-1",
        "AuthParameters": {"USERNAME": "ada@acme.example", "PASSWORD": "Temp-Password-1"},
    }

    page.fill("#new_password", "short")
    expect(page.get_by_test_id("rule-length")).to_have_attribute("data-met", "false")
    expect(page.locator("#new_password-error")).to_contain_text("at least 12 characters")
    page.fill("#confirm_password", "different")
    page.click("button[type=submit]")
    expect(page.locator("#confirm_password-error")).to_have_text("The passwords do not match.")
    assert stub.actions("RespondToAuthChallenge") == []

    page.fill("#new_password", STRONG_PASSWORD)
    for rule in ("length", "upper", "lower", "digit"):
        expect(page.get_by_test_id(f"rule-{rule}")).to_have_attribute("data-met", "true")
    page.fill("#confirm_password", STRONG_PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"#/organisation$"))
    expect(page.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")
    expect(page.get_by_test_id("header-user-email")).to_have_text("ada@acme.example")
    expect(page.get_by_test_id("header-org-name")).to_have_text("Acme Networks")
    (respond,) = stub.actions("RespondToAuthChallenge")
    assert respond.headers["x-amz-target"] == "AWSCognitoIdentityProviderService.RespondToAuthChallenge"
    assert respond.body == {
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "ClientId": "client-1",
        "Session": "session-abc",
        "ChallengeResponses": {"USERNAME": "ada@acme.example", "NEW_PASSWORD": STRONG_PASSWORD},
    }
    (me_call,) = stub.requests("GET", "/me")
    bearer = me_call.headers["authorization"]
    assert bearer.startswith("Bearer ")
    assert bearer.endswith(".signature-new")  # the ID token from RespondToAuthChallenge
    stored = json.loads(page.evaluate("sessionStorage.getItem('prm.auth')"))
    assert stored["refreshToken"] == "refresh-new"

    stub.cognito["RevokeToken"] = ok({})
    with page.expect_response(lambda r: r.request.headers.get("x-amz-target", "").endswith(".RevokeToken")):
        page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"#/signin$"))
    expect(page.get_by_test_id("flash")).to_have_text("You have signed out.")
    assert page.evaluate("sessionStorage.getItem('prm.auth')") is None
    (revoke,) = stub.actions("RevokeToken")  # the session ends at Cognito too: its refresh token is revoked
    assert revoke.body == {"Token": "refresh-new", "ClientId": "client-1"}


def test_sign_in_errors_are_friendly(page: Page, stub: Stub, portal_url: str) -> None:
    stub.cognito["InitiateAuth"] = [
        cognito_error("NotAuthorizedException", "Incorrect username or password."),
        ABORT,
    ]
    page.goto(f"{portal_url}#/signin")
    page.fill("#email", "ada@acme.example")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("form-error")).to_have_text("Incorrect email or password.")
    expect(page.locator("#password")).to_have_value("")
    page.fill("#password", "still-wrong")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("form-error")).to_contain_text("could not reach the sign-in service")


def test_expiring_token_is_refreshed_and_a_401_retries_once(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page, marker="old", expires_in=30)  # within the refresh margin
    stub.cognito["InitiateAuth"] = [ok(tokens("r1", refresh=False)), ok(tokens("r2", refresh=False))]
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = [error(401, "unauthorized", "expired"), ok(PROFILE)]
    page.goto(f"{portal_url}#/organisation")
    expect(page.get_by_test_id("profile-domain")).to_have_text("acme.example")

    first, second = stub.actions("InitiateAuth")
    assert first.body == {
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "ClientId": "client-1",
        "AuthParameters": {"REFRESH_TOKEN": "refresh-old"},
    }
    assert second.body["AuthParameters"] == {"REFRESH_TOKEN": "refresh-old"}  # the refresh token is kept
    assert stub.requests("GET", "/me")[0].headers["authorization"].endswith("signature-r1")
    partner_calls = stub.requests("GET", f"/partners/{PARTNER_ID}")
    assert [c.headers["authorization"].rsplit("-", 1)[-1] for c in partner_calls] == ["r1", "r2"]


def test_signing_out_while_a_refresh_is_in_flight_stays_signed_out(page: Page, stub: Stub, portal_url: str) -> None:
    """A refresh answered after the user signed out must not write its session back (it would hold a fresh ID token
    and the refresh token just revoked)."""
    page.goto(f"{portal_url}#/signin")
    expect(page.locator("#email")).to_be_visible()  # the app has read config.json and configured sign-in
    result = page.evaluate(
        """async () => {
            const auth = await import('./js/auth.js');
            const part = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_');
            const jwt = (claims) => `${part({ alg: 'none' })}.${part(claims)}.sig`;
            const now = Math.floor(Date.now() / 1000);
            let release;
            const calls = [];
            const realFetch = window.fetch;
            window.fetch = async (url, init) => {
                const action = String(init?.headers?.['X-Amz-Target'] || '').split('.').pop();
                calls.push(action);
                if (action === 'InitiateAuth') {
                    await new Promise((resolve) => { release = resolve; });
                    const tokens = { IdToken: jwt({ exp: now + 300, email: 'ada@acme.example' }), ExpiresIn: 300 };
                    return new Response(JSON.stringify({ AuthenticationResult: tokens }), { status: 200 });
                }
                return new Response('{}', { status: 200 });
            };
            try {
                const session = { idToken: jwt({ exp: now + 60 }), refreshToken: 'r1', expiresAt: Date.now() + 60000 };
                sessionStorage.setItem('prm.auth', JSON.stringify({ ...session, email: 'ada@acme.example' }));
                const pending = auth.getIdToken().then(() => 'refreshed', (error) => error.message);
                for (let waited = 0; !release && waited < 200; waited += 1) {  // until the refresh is in flight
                    await new Promise((resolve) => setTimeout(resolve, 25));
                }
                if (!release) return { outcome: await pending, calls };  // no refresh started: fails below, not hangs
                auth.signOut();
                release();
                return { outcome: await pending, signedIn: auth.isSignedIn(),
                         stored: sessionStorage.getItem('prm.auth'), calls };
            } finally {
                window.fetch = realFetch;
            }
        }"""
    )
    assert result == {
        "outcome": "You have signed out.",
        "signedIn": False,
        "stored": None,
        "calls": ["InitiateAuth", "RevokeToken"],
    }


def test_refresh_failure_returns_to_sign_in(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page, marker="old")
    stub.cognito["InitiateAuth"] = cognito_error("NotAuthorizedException", "Refresh Token has been revoked")
    stub.api[("GET", "/me")] = error(401, "unauthorized", "expired")
    page.goto(f"{portal_url}#/users")
    expect(page).to_have_url(re.compile(r"#/signin$"))
    expect(page.get_by_test_id("flash")).to_contain_text("sign in again")
    assert page.evaluate("sessionStorage.getItem('prm.auth')") is None


# ---------------------------------------------------------------------------------------------- agreement gate


def test_agreement_gate_blocks_navigation_until_accepted(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page)
    stub.api[("GET", "/me")] = [ok(me(roles=ADMIN, required=True)), ok(me(roles=ADMIN))]
    stub.api[("GET", "/agreements/current")] = ok(AGREEMENT)
    stub.api[("POST", "/agreements/current/acceptance")] = ok(
        {"version": "2026-01", "accepted_at": "2026-11-26T16:05:00Z", "accepted_by": "ada@acme.example"}, 201
    )
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    stub.api[("GET", f"/partners/{PARTNER_ID}/users")] = ok({"items": []})

    page.goto(f"{portal_url}#/users")
    expect(page).to_have_url(re.compile(r"#/agreement$"))
    expect(page.get_by_test_id("agreement-title")).to_have_text("Partner Programme Agreement")
    expect(page.get_by_test_id("agreement-version")).to_have_text("2026-01")
    expect(page.get_by_test_id("agreement-body").locator("p")).to_have_count(2)
    expect(page.locator("#site-nav")).to_be_hidden()

    for target in ("#/nowhere", "#/organisation", "#/users"):
        page.evaluate("(target) => { location.hash = target; }", target)
        expect(page).to_have_url(re.compile(r"#/agreement$"))
        expect(page.get_by_test_id("agreement-title")).to_be_visible()
    assert not [c for c in stub.calls if c.path.startswith("/partners")]

    page.click("button[type=submit]")
    expect(page.locator("#accept_agreement-error")).to_be_visible()
    assert stub.requests("POST", "/agreements/current/acceptance") == []

    page.check("#accept_agreement")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"#/users$"))  # where the partner was going, the last guarded route
    expect(page.locator("#site-nav")).to_be_visible()
    expect(page.get_by_test_id("users-empty")).to_be_visible()
    (accept,) = stub.requests("POST", "/agreements/current/acceptance")
    assert accept.body == {"version": "2026-01"}
    assert UUID.match(accept.headers["idempotency-key"])


def test_agreement_required_from_the_api_sends_the_partner_to_the_agreement(
    page: Page, stub: Stub, portal_url: str
) -> None:
    signed_in(page)
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = error(403, "agreement_required", "Accept the agreement first.")
    stub.api[("GET", "/agreements/current")] = ok(AGREEMENT)
    page.goto(f"{portal_url}#/organisation")
    expect(page).to_have_url(re.compile(r"#/agreement$"))
    expect(page.locator("#accept_agreement")).to_be_visible()


# ---------------------------------------------------------------------------------------------- pages


def test_network_failure_shows_retry_not_a_blank_page(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page)
    stub.api[("GET", "/me")] = [ABORT, ok(me(roles=ADMIN))]
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    page.goto(f"{portal_url}#/organisation")
    expect(page.get_by_test_id("error-panel")).to_contain_text("could not reach the server")
    page.get_by_test_id("retry").click()
    expect(page.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")


def test_organisation_profile_and_admin_edit(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page)
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    stub.api[("PATCH", f"/partners/{PARTNER_ID}")] = [
        error(
            400, "validation_error", "Request body is invalid.", [{"field": "phone", "message": "phone is too long"}]
        ),
        lambda call: ok({**PROFILE, **call.body}),
    ]
    page.goto(f"{portal_url}#/organisation")
    expect(page.get_by_test_id("profile-country")).to_have_text("United Kingdom (GB)")
    expect(page.get_by_test_id("profile-partner_type")).to_have_text("Reseller")
    expect(page.get_by_test_id("profile-tier")).to_have_text("Registered")
    expect(page.get_by_test_id("profile-status")).to_have_text("Active")
    expect(page.get_by_test_id("profile-onboarded_at").locator("time")).to_have_attribute(
        "datetime", "2026-11-20T09:30:00Z"
    )
    expect(page.get_by_test_id("profile-primary_contact")).to_have_text("Ada Lovelace <ada@acme.example>")
    expect(page.get_by_test_id("nav-organisation")).to_have_attribute("aria-current", "page")

    page.get_by_test_id("edit-profile").click()
    expect(page.locator("#phone")).to_be_focused()
    page.fill("#phone", "abc")
    expect(page.locator("#phone-error")).to_be_visible()
    page.fill("#phone", "+44 20 7946 0000")
    expect(page.locator("#phone-error")).to_be_hidden()
    page.click("button[type=submit]")
    expect(page.locator("#phone-error")).to_have_text("Phone is too long")
    page.fill("#phone", "+44 20 7946 0001")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("profile-phone")).to_have_text("+44 20 7946 0001")
    expect(page.get_by_test_id("profile-saved")).to_be_visible()
    assert stub.requests("PATCH", f"/partners/{PARTNER_ID}")[-1].body == {"phone": "+44 20 7946 0001"}
    assert "authorization" in stub.requests("PATCH", f"/partners/{PARTNER_ID}")[-1].headers


def test_users_list_and_invite(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page)
    users = [
        {
            "email": "ada@acme.example",
            "name": "Ada Lovelace",
            "role": "partner-admin",
            "status": "active",
            "invited_at": "2026-11-20T09:30:00Z",
            "invited_by": "system",
        },
        {
            "email": "bob@acme.example",
            "name": "Bob Byte",
            "role": "partner-user",
            "status": "invited",
            "invited_at": "2026-11-25T12:00:00Z",
            "invited_by": "ada@acme.example",
        },
    ]
    stub.api[("GET", "/me")] = ok(me(roles=ADMIN))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    stub.api[("GET", f"/partners/{PARTNER_ID}/users")] = ok({"items": users})
    stub.api[("POST", f"/partners/{PARTNER_ID}/users")] = [
        error(
            409,
            "user_exists",
            "A user with this email exists.",
            [{"field": "email", "message": "bob@acme.example is already a user"}],
        ),
        lambda call: ok(
            {**call.body, "status": "invited", "invited_at": "2026-11-26T16:10:00Z", "invited_by": "ada@acme.example"},
            201,
        ),
    ]
    page.goto(f"{portal_url}#/users")
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(2)
    bob = page.locator('[data-testid="user-row"][data-email="bob@acme.example"]')
    expect(bob.get_by_test_id("user-status")).to_have_text("Invited")
    expect(bob.get_by_test_id("user-role")).to_have_text("Partner user")
    expect(bob.get_by_test_id("user-invited-at")).to_have_attribute("datetime", "2026-11-25T12:00:00Z")
    expect(bob.get_by_test_id("user-next-step").locator("time")).to_have_attribute(
        "datetime", "2026-12-02T12:00:00.000Z"
    )

    page.fill("#invite_email", "bob@")
    expect(page.locator("#invite_email-error")).to_be_visible()
    page.fill("#invite_email", "bob@acme.example")
    page.fill("#invite_name", "Bob Byte")
    page.select_option("#invite_role", "partner-admin")
    page.click("button[type=submit]")
    expect(page.locator("#invite_email-error")).to_have_text("bob@acme.example is already a user")

    page.fill("#invite_email", "carol@acme.example")
    page.fill("#invite_name", "Carol Code")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("invite-success")).to_contain_text("carol@acme.example")
    expect(rows).to_have_count(3)
    carol = page.locator('[data-testid="user-row"][data-email="carol@acme.example"]')
    expect(carol.get_by_test_id("user-role")).to_have_text("Partner admin")
    expect(page.locator("#invite_email")).to_have_value("")
    last = stub.requests("POST", f"/partners/{PARTNER_ID}/users")[-1]
    assert last.body == {"email": "carol@acme.example", "name": "Carol Code", "role": "partner-admin"}
    assert UUID.match(last.headers["idempotency-key"])


def test_partner_user_cannot_edit_or_invite(page: Page, stub: Stub, portal_url: str) -> None:
    signed_in(page)
    stub.api[("GET", "/me")] = ok(me(roles=("partner-user",)))
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    stub.api[("GET", f"/partners/{PARTNER_ID}/users")] = ok({"items": []})
    page.goto(f"{portal_url}#/organisation")
    expect(page.get_by_test_id("profile-company_name")).to_be_visible()
    expect(page.get_by_test_id("edit-profile")).to_have_count(0)
    expect(page.get_by_test_id("profile-form")).to_have_count(0)
    page.get_by_test_id("nav-users").click()
    expect(page.get_by_test_id("users-empty")).to_be_visible()
    expect(page.get_by_test_id("invite-form")).to_have_count(0)


# ------------------------------------------------------------------------------------------- real Cognito wire format


@pytest.fixture(scope="module")
def moto_cognito() -> Iterator[dict[str, str]]:
    """moto's Cognito in server mode on another origin: a user with a temporary password, as the PRM invites."""
    moto_patches.apply()  # RevokeToken, as the local stack has it
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    idp = boto3.client(
        "cognito-idp", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    pool = idp.create_user_pool(
        PoolName="portal-test",
        UsernameAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
            }
        },
        Schema=[{"Name": "partner_id", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="portal",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool,
        Username="grace@acme.example",
        TemporaryPassword="Temporary-Pass-1",
        UserAttributes=[
            {"Name": "email", "Value": "grace@acme.example"},
            {"Name": "custom:partner_id", "Value": PARTNER_ID},
        ],
        MessageAction="SUPPRESS",
    )
    yield {"endpoint": endpoint, "pool": pool, "client": client}
    server.stop()


def test_sign_in_with_new_password_against_moto_cognito(
    chromium: Browser, portal_url: str, moto_cognito: dict[str, str]
) -> None:
    """The browser code speaks Cognito's JSON API as AWS does: cross-origin, unsigned, CORS preflight included."""
    stub = Stub(base=portal_url, cognito_endpoint=moto_cognito["endpoint"], client_id=moto_cognito["client"])
    stub.api[("GET", "/me")] = ok({**me(roles=ADMIN), "email": "grace@acme.example"})
    stub.api[("GET", f"/partners/{PARTNER_ID}")] = ok(PROFILE)
    with stubbed_page(chromium, stub) as page:
        page.goto(f"{portal_url}#/signin")
        page.fill("#email", "grace@acme.example")
        page.fill("#password", "Wrong-Password-1")
        page.click("button[type=submit]")
        expect(page.get_by_test_id("form-error")).to_have_text("Incorrect email or password.")

        page.fill("#password", "Temporary-Pass-1")
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", level=1)).to_have_text("Set your new password")
        page.fill("#new_password", STRONG_PASSWORD)
        page.fill("#confirm_password", STRONG_PASSWORD)
        page.click("button[type=submit]")
        expect(page.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")

        id_token = stub.requests("GET", "/me")[0].headers["authorization"].removeprefix("Bearer ")
        claims = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
        assert claims["email"] == "grace@acme.example"
        assert claims["custom:partner_id"] == PARTNER_ID
        assert claims["aud"] == moto_cognito["client"]

        # A refresh through REFRESH_TOKEN_AUTH keeps the session (forced by an API 401).
        stub.api[("GET", f"/partners/{PARTNER_ID}")] = [error(401, "unauthorized", "expired"), ok(PROFILE)]
        page.reload()
        expect(page.get_by_test_id("profile-company_name")).to_have_text("Acme Networks")
        first, second = stub.requests("GET", f"/partners/{PARTNER_ID}")[-2:]
        assert first.headers["authorization"] != second.headers["authorization"]

        # Signing out revokes the session's refresh token at Cognito: a copy of it mints nothing any more.
        refresh_token = json.loads(page.evaluate("sessionStorage.getItem('prm.auth')"))["refreshToken"]
        with page.expect_response(lambda r: r.request.headers.get("x-amz-target", "").endswith(".RevokeToken")) as sent:
            page.click("#sign-out")
        assert sent.value.status == 200
        expect(page.get_by_test_id("flash")).to_have_text("You have signed out.")
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=moto_cognito["endpoint"],
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            idp.initiate_auth(
                ClientId=moto_cognito["client"],
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
