"""Browser tests of the portal's market development funds pages (#/mdf, #/mdf/requests[/new|/{id}], #/admin/mdf)
with no backend: the stub in tests/support/portal_stub.py answers docs/mdf.md's JSON, and stands in for S3's presigned
POST and download URLs on another origin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PARTNER_NAV, VENDOR_NAV
from tests.support.portal_stub import (
    PARTNER_ID,
    UUID,
    Call,
    Stub,
    error,
    me,
    ok,
    partner_api,
    raw,
)

pytestmark = pytest.mark.browser

REQUEST_ID = "mdfr_01JREQ"
PARTNERS = [
    {"partner_id": PARTNER_ID, "company_name": "Acme Networks", "country": "GB"},
    {"partner_id": "prt_02", "company_name": "Globex", "country": "DE"},
]


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def instant(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")


def usd(minor: int, currency: str = "USD") -> dict[str, Any]:
    return {"amount_minor": minor, "currency": currency}


def period(period_id: str = "FY27-Q1", **extra: Any) -> dict[str, Any]:
    return {
        "period_id": period_id,
        "name": "Q1 FY2027",
        "starts_on": day(-30),
        "ends_on": day(60),
        "claim_window_ends_at": instant(120),
        "accrual_rate_bp": 150,
        "status": "open",
        **extra,
    }


def fund(period_id: str = "FY27-Q1", currency: str = "USD", **extra: Any) -> dict[str, Any]:
    return {
        "fund_id": f"{period_id}.{currency}",
        "period_id": period_id,
        "period_name": "Q1 FY2027",
        "currency": currency,
        "available": usd(1_250_000, currency),
        "reserved": usd(300_000, currency),
        "paid": usd(150_000, currency),
        "expired": usd(0, currency),
        "allocated": usd(1_500_000, currency),
        "accrued": usd(200_000, currency),
        "adjusted": usd(0, currency),
        "accrual_reversed": usd(0, currency),
        "clawback_outstanding": usd(0, currency),
        "status": "open",
        "claim_window_ends_at": instant(120),
        "entries": 4,
        **extra,
    }


def entry(seq: int, kind: str, minor: int, available: int, reference: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": kind,
        "amount": usd(minor),
        "at": f"2026-11-{10 + seq:02d}T09:00:00Z",
        "reference": reference,
        "note": None,
        "actor": "system",
        "balance": {"available": usd(available), "reserved": usd(300_000), "paid": usd(150_000)},
        **extra,
    }


def mdf_request(status: str = "approved", **extra: Any) -> dict[str, Any]:
    approved = status not in {"submitted", "under_review", "rejected", "expired"}
    return {
        "request_id": REQUEST_ID,
        "title": "Partner summit booth",
        "activity_type": "event",
        "status": status,
        "requested": usd(500_000),
        "granted": usd(400_000) if approved else None,
        "starts_on": day(-20),
        "ends_on": day(-2),
        "submitted_at": "2026-11-01T10:00:00Z",
        "next_step": "File the claim" if approved else "Channel marketing decision",
        "next_step_due": day(40),
        "claim_status": None,
        "period_id": "FY27-Q1",
        "fund_id": "FY27-Q1.USD",
        "description": "A booth at the regional partner summit.",
        "expected_outcome": {"leads": 40, "pipeline_value": usd(25_000_000)},
        "round": 1,
        "decision_reason": None,
        "approvals": [
            {
                "step": "channel_marketing",
                "decision": "approved" if approved else "rejected",
                "by": "marketing@vendor.example",
                "amount": usd(400_000) if approved else None,
                "reason": "Granted 4,000 of 5,000." if approved else "Too little detail on the audience.",
                "at": "2026-11-03T12:00:00Z",
            }
        ],
        "claim_due_at": instant(40) if approved else None,
        "claim": None,
        "timeline": [
            {"at": "2026-11-01T10:00:00Z", "status": "submitted", "note": None},
            {"at": "2026-11-03T12:00:00Z", "status": status, "note": None},
        ],
        **extra,
    }


def claim(status: str = "submitted", *, size_bytes: int = 21, **extra: Any) -> dict[str, Any]:
    """A claim with one proof file, invoice.pdf (`size_bytes` long)."""
    return {
        "status": status,
        "round": 1,
        "amount_spent": usd(398_750),
        "approved_amount": None,
        "proof_files": [
            {
                "file_id": "file_01",
                "file_name": "invoice.pdf",
                "content_type": "application/pdf",
                "size_bytes": size_bytes,
            }
        ],
        "results": {"leads": 52, "attendees": 310, "invoice_number": "INV-2026-118"},
        "notes": "Booth 14.",
        "submitted_at": "2026-11-26T16:00:00Z",
        "decided_at": None,
        "decided_by": None,
        "reason": None,
        **extra,
    }


@pytest.fixture
def stub(portal_url: str) -> Stub:
    stub = Stub(base=portal_url, api=partner_api())
    stub.api[("GET", "/mdf/periods")] = ok({"items": [period(), period("FY26-Q4", name="Q4 FY2026", status="closed")]})
    stub.api[("GET", "/mdf/funds")] = ok({"items": [fund()]})
    stub.api[("GET", "/mdf/requests")] = ok({"items": [], "next_cursor": None})
    return stub


# ---------------------------------------------------------------------------------------------- funds and ledger


def test_funds_show_balances_the_expiry_warning_and_the_ledger(page: Page, stub: Stub, portal_url: str) -> None:
    closing = fund("FY26-Q4", period_name="Q4 FY2026", claim_window_ends_at=instant(20.5))
    stub.api[("GET", "/mdf/funds")] = ok({"items": [closing, fund("FY27-Q1", "EUR")]})
    newest = [
        entry(4, "reserved", 300_000, 1_250_000, {"type": "request", "id": REQUEST_ID}),
        entry(3, "accrued", 200_000, 1_550_000, {"type": "deal", "id": "deal_01"}),
    ]
    older = [
        entry(2, "adjusted", -50_000, 1_350_000, {"type": "adjustment", "id": "adj_1"}, note="Correction"),
        entry(1, "allocated", 1_400_000, 1_400_000, {"type": "allocation", "id": "alloc_1"}),
    ]

    def ledger(call: Call) -> dict[str, Any]:
        if call.query.get("cursor") == "c2":
            return ok({"fund": closing, "items": older, "next_cursor": None})
        return ok({"fund": closing, "items": newest, "next_cursor": "c2"})

    stub.api[("GET", "/mdf/funds/FY26-Q4.USD/ledger")] = ledger
    stub.api[("GET", "/mdf/funds/FY27-Q1.EUR/ledger")] = ok(
        {"fund": fund("FY27-Q1", "EUR"), "items": [], "next_cursor": None}
    )

    page.goto(f"{portal_url}#/organisation")
    expect(page.locator("#site-nav a")).to_have_text(PARTNER_NAV)
    page.get_by_test_id("nav-mdf").click()
    expect(page.get_by_test_id("nav-mdf")).to_have_attribute("aria-current", "page")

    cards = page.get_by_test_id("fund-card")
    expect(cards).to_have_count(2)
    q4 = page.locator('[data-testid=fund-card][data-fund-id="FY26-Q4.USD"]')
    expect(q4.get_by_test_id("fund-period")).to_have_text("Q4 FY2026")
    expect(q4.get_by_test_id("fund-currency")).to_have_text("USD")
    expect(q4.get_by_test_id("fund-available")).to_have_text("$12,500.00")
    expect(q4.get_by_test_id("fund-reserved")).to_have_text("$3,000.00")
    expect(q4.get_by_test_id("fund-paid")).to_have_text("$1,500.00")
    expect(q4.get_by_test_id("fund-expired")).to_have_text("$0.00")
    expect(q4.get_by_test_id("fund-expiry-warning")).to_have_text(
        "The claim window ends in 21 days. $12,500.00 still available will expire then."
    )
    eur = page.locator('[data-testid=fund-card][data-fund-id="FY27-Q1.EUR"]')
    expect(eur.get_by_test_id("fund-available")).to_contain_text("12,500.00")
    expect(eur.get_by_test_id("fund-expiry-warning")).to_have_count(0)
    expect(eur.get_by_test_id("fund-claim-window")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))

    rows = page.get_by_test_id("ledger-row")  # the first open fund is shown
    expect(rows).to_have_count(2)
    expect(rows.get_by_test_id("ledger-kind")).to_have_text(["Reserved", "Accrued"])
    expect(rows.get_by_test_id("ledger-amount")).to_have_text(["\u2212$3,000.00", "+$2,000.00"])
    expect(rows.get_by_test_id("ledger-balance")).to_have_text(["$12,500.00", "$15,500.00"])
    expect(rows.nth(0).get_by_test_id("ledger-reference").get_by_role("link")).to_have_attribute(
        "href", f"#/mdf/requests/{REQUEST_ID}"
    )
    expect(rows.nth(1).get_by_test_id("ledger-reference").get_by_role("link")).to_have_attribute(
        "href", "#/deals/deal_01"
    )
    expect(rows.nth(0).get_by_test_id("ledger-at")).to_have_attribute("datetime", "2026-11-14T09:00:00Z")
    assert stub.requests("GET", "/mdf/funds/FY26-Q4.USD/ledger")[0].query == {"limit": "25"}

    page.get_by_test_id("ledger-load-more").click()
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("ledger-load-more")).to_have_count(0)
    # An adjustment's amount is signed: a debit is negative.
    expect(rows.get_by_test_id("ledger-amount")).to_have_text(
        ["\u2212$3,000.00", "+$2,000.00", "\u2212$500.00", "+$14,000.00"]
    )
    expect(rows.nth(2).get_by_test_id("ledger-note")).to_have_text("Correction")
    assert stub.requests("GET", "/mdf/funds/FY26-Q4.USD/ledger")[1].query == {"limit": "25", "cursor": "c2"}

    eur.get_by_test_id("show-ledger").click()
    expect(page.get_by_test_id("ledger-empty")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/mdf\?fund=FY27-Q1\.EUR$"))
    expect(eur.get_by_test_id("show-ledger")).to_have_attribute("aria-pressed", "true")


# ---------------------------------------------------------------------------------------------- new request


def fill_request(page: Page, *, amount: str) -> None:
    page.select_option("#period_id", "FY27-Q1")
    page.select_option("#activity_type", "webinar")
    page.fill("#title", "Zero-trust webinar series")
    page.fill("#description", "Three webinars for IT managers in the UK.")
    page.fill("#starts_on", day(15))
    page.fill("#ends_on", day(20))
    page.fill("#requested_amount", amount)
    page.fill("#expected_leads", "1,200")
    page.fill("#pipeline_amount", "50000.10")


def test_a_fund_card_shows_every_running_total_so_it_adds_up(page: Page, stub: Stub, portal_url: str) -> None:
    """The fund's running totals (functions/mdf fund_view) add up to what it holds: allocated + accrued + adjusted
    - accruals reversed + clawback outstanding = available + reserved + paid + expired (docs/mdf.md)."""
    reversed_fund = fund(
        allocated=usd(2_500_000),
        accrued=usd(165_000),
        adjusted=usd(-30_000),
        accrual_reversed=usd(300_000),
        clawback_outstanding=usd(50_000),  # reversed after it was reserved or spent: still in reserved/paid, owed back
        available=usd(1_234_000),
        reserved=usd(500_000),
        paid=usd(601_000),
        expired=usd(50_000),
    )
    plain = fund("FY27-Q1", "EUR")  # nothing adjusted or reversed: those are left out
    stub.api[("GET", "/mdf/funds")] = ok({"items": [reversed_fund, plain]})
    page.goto(f"{portal_url}#/mdf")
    card = page.locator('[data-testid=fund-card][data-fund-id="FY27-Q1.USD"]')
    expect(card.get_by_test_id("fund-available")).to_have_text("$12,340.00")
    expect(card.get_by_test_id("fund-totals")).to_contain_text(
        "Allocated $25,000.00 \u00b7 accrued +$1,650.00 \u00b7 adjusted \u2212$300.00 \u00b7 accruals reversed "
        "\u2212$3,000.00 \u00b7 clawback outstanding +$500.00 = $23,850.00 (available + reserved + paid + expired)."
    )
    expect(card.get_by_test_id("fund-accrual-reversed")).to_have_text("\u2212$3,000.00")
    expect(card.get_by_test_id("fund-clawback-note")).to_contain_text("$500.00 of the reversed accruals")
    sources = 25_000_00 + 1_650_00 - 300_00 - 3_000_00 + 500_00
    held = sum(
        round(float(card.get_by_test_id(f"fund-{key}").inner_text().replace("$", "").replace(",", "")) * 100)
        for key in ("available", "reserved", "paid", "expired")
    )
    assert sources == held == 2_385_000
    expect(card.get_by_test_id("fund-held")).to_have_text("$23,850.00")

    other = page.locator('[data-testid=fund-card][data-fund-id="FY27-Q1.EUR"]')
    expect(other.get_by_test_id("fund-totals")).to_have_text(
        "Allocated \u20ac15,000.00 \u00b7 accrued +\u20ac2,000.00 = \u20ac17,000.00 (available + reserved + paid + expired)."
    )
    for testid in ("fund-adjusted", "fund-accrual-reversed", "fund-clawback", "fund-clawback-note"):
        expect(other.get_by_test_id(testid)).to_have_count(0)


def test_new_request_checks_the_fund_and_shows_the_servers_field_errors(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("POST", "/mdf/requests")] = [
        error(
            400,
            "validation_error",
            "Request body is invalid.",
            [
                {"field": "starts_on", "message": "must be at least 10 days from today"},
                {"field": "requested.amount_minor", "message": "more than the fund's available balance"},
                {"field": "expected_outcome.leads", "message": "must be at most 100000"},
            ],
        ),
        lambda call: ok(mdf_request("submitted", request_id="mdfr_NEW", title=call.body["title"]), 201),
    ]
    stub.api[("GET", "/mdf/requests/mdfr_NEW")] = ok(mdf_request("submitted", request_id="mdfr_NEW"))
    page.goto(f"{portal_url}#/mdf/requests/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request funds")
    expect(page.get_by_test_id("nav-mdf")).to_have_attribute("aria-current", "true")
    expect(page.locator("#period_id option")).to_have_text(["Choose a period…", "Q1 FY2027 (FY27-Q1)"])  # open ones

    fill_request(page, amount="12500.01")
    expect(page.get_by_test_id("available-amount")).to_have_text("$12,500.00")
    expect(page.locator("#requested_currency")).to_have_value("USD")
    expect(page.locator("#requested_amount-error")).to_have_text(
        "This is more than the $12,500.00 available in this fund."
    )
    page.fill("#requested_amount", "1234.567")
    expect(page.locator("#requested_amount-error")).to_have_text("USD amounts have at most 2 decimal places.")
    page.fill("#ends_on", day(14))
    expect(page.locator("#ends_on-error")).to_have_text("The activity cannot end before it starts.")
    page.fill("#ends_on", day(20))
    page.fill("#title", "x" * 121)
    expect(page.locator("#title-error")).to_contain_text("120 characters or fewer")
    page.fill("#title", "Zero-trust webinar series")
    page.fill("#requested_amount", "12500")  # all of the available balance may be asked for
    expect(page.locator("#requested_amount-error")).to_be_hidden()

    page.fill("#requested_amount", "1234.57")  # 1234.57 * 100 is 123456.99999999999 in binary floating point
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#starts_on-error")).to_have_text("Must be at least 10 days from today")
    expect(page.locator("#requested_amount-error")).to_have_text("More than the fund's available balance")
    expect(page.locator("#expected_leads-error")).to_have_text("Must be at most 100000")
    expect(page.get_by_test_id("form-error")).to_have_text("Please correct the highlighted fields.")
    expect(page.locator("#starts_on")).to_be_focused()

    page.fill("#starts_on", day(16))  # editing a field clears its server error, not the others
    expect(page.locator("#starts_on-error")).to_be_hidden()
    expect(page.locator("#requested_amount-error")).to_be_visible()
    page.fill("#expected_leads", "30")
    page.fill("#requested_amount", "1234.56")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(re.compile(r"#/mdf/requests/mdfr_NEW$"))
    expect(page.get_by_test_id("action-result")).to_contain_text("Your request was submitted")
    expect(page.get_by_test_id("request-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("decision-due")).to_contain_text("Decision due")

    first, second = stub.requests("POST", "/mdf/requests")
    assert first.body["requested"] == {"amount_minor": 123457, "currency": "USD"}
    assert second.body == {
        "period_id": "FY27-Q1",
        "activity_type": "webinar",
        "title": "Zero-trust webinar series",
        "description": "Three webinars for IT managers in the UK.",
        "starts_on": day(16),
        "ends_on": day(20),
        "requested": {"amount_minor": 123456, "currency": "USD"},
        "expected_outcome": {"leads": 30, "pipeline_value": {"amount_minor": 5000010, "currency": "USD"}},
    }
    assert UUID.match(second.headers["idempotency-key"])
    assert first.headers["idempotency-key"] != second.headers["idempotency-key"]


# ---------------------------------------------------------------------------------------------- list


def test_requests_list_shows_status_next_step_due_date_and_claim(page: Page, stub: Stub, portal_url: str) -> None:
    items = [
        {**mdf_request("claimed"), "request_id": "mdfr_1", "claim_status": "returned", "next_step": "Add proof"},
        {**mdf_request("under_review"), "request_id": "mdfr_2", "next_step_due": day(-1)},
        {
            **mdf_request("paid"),
            "request_id": "mdfr_3",
            "claim_status": "approved",
            "next_step": None,
            "next_step_due": None,
        },
    ]
    stub.api[("GET", "/mdf/requests")] = lambda call: ok(
        {"items": [i for i in items if call.query.get("status") in (None, i["status"])], "next_cursor": None}
    )
    page.goto(f"{portal_url}#/mdf")
    page.get_by_test_id("mdf-tab-requests").click()
    rows = page.get_by_test_id("request-row")
    expect(rows).to_have_count(3)
    expect(rows.get_by_test_id("request-status")).to_have_text(["Claimed", "Under review", "Paid"])
    expect(rows.get_by_test_id("request-claim-status")).to_have_text(["More proof needed", "—", "Claim approved"])
    expect(rows.nth(0).get_by_test_id("request-next-step")).to_contain_text("Add proof")
    expect(rows.nth(0).get_by_test_id("next-step-due")).to_have_attribute("datetime", day(40))
    expect(rows.nth(1).get_by_test_id("request-next-step")).to_contain_text("Overdue since")
    expect(rows.nth(2).get_by_test_id("request-next-step")).to_have_text("None")
    expect(rows.nth(0).get_by_test_id("request-requested")).to_have_text("$5,000.00")
    expect(rows.nth(0).get_by_test_id("request-granted")).to_have_text("granted $4,000.00")
    expect(rows.nth(0).get_by_role("link")).to_have_attribute("href", "#/mdf/requests/mdfr_1")
    assert stub.requests("GET", "/mdf/requests")[0].query == {"limit": "20"}

    page.select_option("[data-testid=status-filter]", "paid")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"#/mdf/requests\?status=paid$"))
    page.get_by_test_id("request-funds").first.click()
    expect(page).to_have_url(re.compile(r"#/mdf/requests/new$"))


# ---------------------------------------------------------------------------------------------- claim with uploads


def test_claim_uploads_proof_by_presigned_post_then_files_the_claim(page: Page, stub: Stub, portal_url: str) -> None:
    bucket_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-mdf-proofs"  # another origin, as S3 is
    fields = {
        "key": f"proofs/{PARTNER_ID}/{REQUEST_ID}/file_01",
        "Content-Type": "application/pdf",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "AKIA/20261126/us-east-1/s3/aws4_request",
        "x-amz-date": "20261126T160000Z",
        "policy": "eyJjb25kaXRpb25zIjpbXX0=",
        "x-amz-signature": "abc123",
    }
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(mdf_request("approved"))
    stub.api[("POST", f"/mdf/requests/{REQUEST_ID}/claim/uploads")] = ok(
        {
            "file_id": "file_01",
            "upload": {"url": bucket_url, "fields": fields},
            "expires_in": 600,
            "max_bytes": 20_971_520,
        },
        201,
    )
    # S3 answers 204 with Access-Control-Allow-Origin (the stub adds it); Playwright itself answers the CORS preflight
    # that the upload's progress listener causes.
    stub.external[("POST", bucket_url)] = raw(204)
    stub.api[("POST", f"/mdf/requests/{REQUEST_ID}/claim")] = ok(
        mdf_request("claimed", claim_status="submitted", claim=claim()), 201
    )
    download_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-mdf-proofs/download/invoice.pdf"
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}/claim/files/file_01")] = ok(
        {"url": download_url, "file_name": "invoice.pdf", "expires_in": 300}
    )
    stub.external[("GET", download_url)] = raw(200, b"%PDF-1.4 proof", {"Content-Type": "application/pdf"})

    page.goto(f"{portal_url}#/mdf/requests/{REQUEST_ID}")
    expect(page.get_by_test_id("request-status")).to_have_text("Approved")
    expect(page.get_by_test_id("claim-due")).to_contain_text("$4,000.00 is reserved")
    expect(page.get_by_test_id("claim-due-date")).to_be_visible()
    expect(page.get_by_test_id("approval-row").get_by_test_id("approval-amount")).to_have_text("$4,000.00")
    expect(page.get_by_test_id("approval-row").get_by_test_id("approval-decision")).to_have_text("Approved")
    expect(page.get_by_test_id("timeline-entry")).to_have_count(2)

    page.get_by_test_id("file-claim").click()  # nothing filled in: every field says what it needs
    expect(page.locator("#proof_files-error")).to_have_text("Attach at least one proof file.")
    expect(page.locator("#amount_spent-error")).to_have_text("Enter what the activity cost.")
    page.fill("#amount_spent", "4000.01")
    expect(page.locator("#amount_spent-error")).to_have_text(
        "The amount spent cannot be more than the $4,000.00 granted."
    )
    page.fill("#amount_spent", "3987.50")
    page.fill("#result_leads", "52")
    page.fill("#result_attendees", "310")
    page.fill("#invoice_number", "INV-2026-118")
    page.fill("#claim_notes", "Booth 14.")

    pdf = b"%PDF-1.4 summit proof"
    page.evaluate(  # record every state each proof file goes through
        """() => {
            window.proofStates = [];
            new MutationObserver((changes) => {
                for (const item of document.querySelectorAll('[data-testid=proof-item]')) {
                    const seen = `${item.dataset.fileName}:${item.dataset.state}`;
                    if (window.proofStates.at(-1) !== seen) window.proofStates.push(seen);
                }
            }).observe(document.querySelector('[data-testid=proof-list]'), { childList: true, subtree: true });
        }"""
    )
    page.set_input_files(
        "#proof_files",
        [
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": pdf},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not allowed"},
        ],
    )
    invoice = page.locator('[data-testid=proof-item][data-file-name="invoice.pdf"]')
    expect(invoice).to_have_attribute("data-state", "uploaded")
    expect(invoice.get_by_test_id("proof-state")).to_have_text("Uploaded")
    text = page.locator('[data-testid=proof-item][data-file-name="notes.txt"]')
    expect(text).to_have_attribute("data-state", "invalid")  # refused in the browser: no upload slot asked for
    expect(text.get_by_test_id("proof-error")).to_contain_text("Only PDF, PNG, JPEG, CSV and Excel")
    states = [s for s in page.evaluate("window.proofStates") if s.startswith("invoice.pdf")]
    assert states == ["invoice.pdf:requesting", "invoice.pdf:uploading", "invoice.pdf:uploaded"]
    (slot,) = stub.requests("POST", f"/mdf/requests/{REQUEST_ID}/claim/uploads")
    assert slot.body == {"file_name": "invoice.pdf", "content_type": "application/pdf", "size_bytes": len(pdf)}

    (upload,) = stub.sent_to("POST", bucket_url)
    parts = upload.multipart()
    assert [p.name for p in parts] == [*fields, "file"]  # every presigned field first, the file last
    assert {p.name: p.text for p in parts[:-1]} == fields
    assert (parts[-1].filename, parts[-1].content_type, parts[-1].data) == ("invoice.pdf", "application/pdf", pdf)
    assert "authorization" not in upload.headers  # the presigned policy is the only credential S3 gets

    page.get_by_test_id("file-claim").click()
    expect(page.locator("#proof_files-error")).to_have_text("Remove the files that were not accepted, or retry them.")
    text.get_by_test_id("proof-remove").click()
    expect(page.get_by_test_id("proof-item")).to_have_count(1)
    page.get_by_test_id("file-claim").click()

    expect(page.get_by_test_id("action-result")).to_contain_text("Your claim was filed")
    expect(page.get_by_test_id("request-status")).to_have_text("Claimed")
    expect(page.get_by_test_id("claim-status")).to_have_text("Claim submitted")
    expect(page.get_by_test_id("claim-amount-spent")).to_have_text("$3,987.50")
    expect(page.get_by_test_id("claim-results")).to_have_text("52 leads, 310 attendees, invoice INV-2026-118")
    expect(page.get_by_test_id("claim-form")).to_have_count(0)
    (filed,) = stub.requests("POST", f"/mdf/requests/{REQUEST_ID}/claim")
    assert filed.body == {
        "amount_spent": {"amount_minor": 398750, "currency": "USD"},
        "proof_files": ["file_01"],
        "results": {"leads": 52, "attendees": 310, "invoice_number": "INV-2026-118"},
        "notes": "Booth 14.",
    }
    assert UUID.match(filed.headers["idempotency-key"])

    with page.expect_popup() as popup_info:
        page.locator('[data-testid=claim-file][data-file-id="file_01"]').get_by_test_id("download-file").click()
    popup = popup_info.value
    popup.wait_for_url(download_url)
    assert stub.requests("GET", f"/mdf/requests/{REQUEST_ID}/claim/files/file_01")
    expect(page.get_by_test_id("download-state")).to_contain_text("Opened in a new tab")


def test_returned_claim_keeps_its_files_retries_an_upload_and_marks_a_refused_file(
    page: Page, stub: Stub, portal_url: str
) -> None:
    returned = claim(
        "returned",
        size_bytes=2048,
        notes="",
        submitted_at="2026-11-20T16:00:00Z",
        decided_at="2026-11-22T09:00:00Z",
        decided_by="marketing@vendor.example",
        reason="Please add photos of the booth.",
    )
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(
        mdf_request("claimed", claim_status="returned", claim=returned)
    )
    stub.api[("POST", f"/mdf/requests/{REQUEST_ID}/claim")] = error(
        400,
        "validation_error",
        "A proof file was refused.",
        [{"field": "proof_files.1", "message": "booth.png is not a valid PNG file"}],
    )
    page.goto(f"{portal_url}#/mdf/requests/{REQUEST_ID}")
    expect(page.get_by_test_id("claim-reason")).to_contain_text("Please add photos of the booth.")
    expect(page.get_by_test_id("claim-status")).to_have_text("More proof needed")
    expect(page.get_by_role("heading", name="Resubmit your claim")).to_be_visible()
    expect(page.locator("#amount_spent")).to_have_value("3987.50")  # prefilled from the returned claim
    expect(page.locator("#invoice_number")).to_have_value("INV-2026-118")
    kept = page.locator('[data-testid=proof-item][data-file-name="invoice.pdf"]')
    expect(kept).to_have_attribute("data-state", "attached")

    # A photo whose upload link expired before it was used: the file says so, and "Retry" asks for a new one.
    bucket_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-mdf-proofs"
    stub.api[("POST", f"/mdf/requests/{REQUEST_ID}/claim/uploads")] = lambda call: ok(
        {
            "file_id": f"file_{len(stub.requests('POST', call.path)) + 1:02d}",
            "upload": {"url": bucket_url, "fields": {"key": "k", "Content-Type": "image/png"}},
            "expires_in": 600,
            "max_bytes": 20_971_520,
        },
        201,
    )
    expired = "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>"
    stub.external[("POST", bucket_url)] = [raw(403, expired, {"Content-Type": "application/xml"}), raw(204)]
    page.set_input_files("#proof_files", {"name": "booth.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n"})
    photo = page.locator('[data-testid=proof-item][data-file-name="booth.png"]')
    expect(photo).to_have_attribute("data-state", "failed")
    expect(photo.get_by_test_id("proof-error")).to_have_text("The upload link expired. Try again.")
    photo.get_by_test_id("proof-retry").click()
    expect(photo).to_have_attribute("data-state", "uploaded")
    assert len(stub.requests("POST", f"/mdf/requests/{REQUEST_ID}/claim/uploads")) == 2

    page.get_by_test_id("file-claim").click()  # the storage's bytes are checked when the claim is filed
    expect(photo).to_have_attribute("data-state", "refused")
    expect(photo.get_by_test_id("proof-error")).to_have_text("booth.png is not a valid PNG file")
    expect(page.locator("#proof_files-error")).to_have_text("booth.png is not a valid PNG file")
    expect(kept).to_have_attribute("data-state", "attached")  # the file the reviewer already saw is kept
    # The retried upload got a new slot (file_03); the first one (file_02) never reached the storage.
    assert stub.requests("POST", f"/mdf/requests/{REQUEST_ID}/claim")[0].body["proof_files"] == ["file_01", "file_03"]

    checks = page.evaluate(
        """async () => {
            const { checkProofFile, proofContentType } = await import('./js/uploads.js');
            const max = 20 * 1024 * 1024;
            return [
                checkProofFile({ name: 'report.PDF', size: max }),
                checkProofFile({ name: 'big.pdf', size: max + 1 }),
                checkProofFile({ name: 'huge.xlsx', size: 35 * 1024 * 1024 }),
                checkProofFile({ name: 'empty.csv', size: 0 }),
                checkProofFile({ name: 'setup.exe', size: 10 }),
                ['a.jpg', 'b.JPEG', 'c.csv', 'd.xlsx', 'e.png', 'f.xls'].map(proofContentType),
            ];
        }"""
    )
    assert checks[0] == ""
    assert checks[1] == "Files can be at most 20 MB; this one is larger."
    assert checks[2] == "Files can be at most 20 MB; this one is 35 MB."
    assert checks[3] == "This file is empty."
    assert checks[4].startswith("Only PDF, PNG, JPEG, CSV and Excel")
    assert checks[5] == [
        "image/jpeg",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "image/png",
        None,
    ]


def test_rejected_request_is_revised_and_resubmitted(page: Page, stub: Stub, portal_url: str) -> None:
    rejected = mdf_request(
        "rejected", decision_reason="Too little detail on the audience.", starts_on=day(15), ends_on=day(20)
    )
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(rejected)
    stub.api[("POST", f"/mdf/requests/{REQUEST_ID}/revision")] = lambda call: ok(
        mdf_request("submitted", round=2, description=call.body["description"])
    )
    page.goto(f"{portal_url}#/mdf/requests/{REQUEST_ID}")
    expect(page.get_by_test_id("request-decision")).to_have_text("Rejected. Too little detail on the audience.")
    section = page.get_by_test_id("revision-section")
    expect(section.locator("#title")).to_have_value("Partner summit booth")  # prefilled
    expect(section.locator("#requested_amount")).to_have_value("5000.00")
    expect(section.locator("#pipeline_amount")).to_have_value("250000.00")
    expect(section.locator("#expected_leads")).to_have_value("40")
    section.locator("#description").fill("A booth at the summit; audience: 300 UK IT managers.")
    section.get_by_role("button", name="Resubmit request").click()
    expect(page.get_by_test_id("action-result")).to_have_text("Your revised request was submitted (round 2).")
    expect(page.get_by_test_id("request-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("revision-section")).to_have_count(0)
    (sent,) = stub.requests("POST", f"/mdf/requests/{REQUEST_ID}/revision")
    assert sent.body["requested"] == {"amount_minor": 500000, "currency": "USD"}
    assert sent.body["description"] == "A booth at the summit; audience: 300 UK IT managers."


# ---------------------------------------------------------------------------------------------- vendor admin


def test_admin_creates_a_period_and_allocates_funds(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/partners")] = lambda call: ok(
        {"items": [{"partner_id": "prt_02", "company_name": "Globex", "country": "DE"}], "next_cursor": None}
        if call.query.get("cursor") == "p2"
        else {
            "items": [{"partner_id": PARTNER_ID, "company_name": "Acme Networks", "country": "GB"}],
            "next_cursor": "p2",
        }
    )
    funds_after = [fund(available=usd(2_250_000))]
    stub.api[("GET", "/mdf/funds")] = [ok({"items": [fund()]}), ok({"items": funds_after})]
    stub.api[("POST", "/mdf/periods")] = [
        error(409, "conflict", "Period FY27-Q2 already exists."),
        lambda call: ok({**call.body, "status": "open"}, 201),
    ]
    stub.api[("POST", "/mdf/periods/FY27-Q1/accrual")] = lambda call: ok(
        period(accrual_rate_bp=call.body["accrual_rate_bp"])
    )
    stub.api[("POST", "/mdf/allocations")] = [
        error(400, "validation_error", "Request body is invalid.", [{"field": "note", "message": "note is too short"}]),
        lambda call: ok(
            {
                "fund": funds_after[0],
                "entry": entry(
                    5,
                    "allocated",
                    call.body["amount"]["amount_minor"],
                    2_250_000,
                    {"type": "allocation", "id": "alloc_2"},
                ),
            },
            201,
        ),
    ]

    page.goto(f"{portal_url}#/organisation")  # vendor staff have no organisation: their home is the admin page
    expect(page).to_have_url(re.compile(r"#/admin/mdf$"))
    expect(page.locator("#site-nav a")).to_have_text(VENDOR_NAV)
    expect(page.get_by_test_id("nav-mdf-admin")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("period-row")).to_have_count(2)
    expect(
        page.locator('[data-testid=period-row][data-period-id="FY27-Q1"]').get_by_test_id("period-rate")
    ).to_have_text("1.5 %")

    form = page.get_by_test_id("period-form")
    form.locator("#new_period_id").fill("FY27-Q1")
    expect(form.locator("#new_period_id-error")).to_have_text("A period with this ID exists.")
    form.locator("#new_period_id").fill("fy27_q2")
    expect(form.locator("#new_period_id-error")).to_contain_text("capital letters, digits or")
    form.locator("#new_period_id").fill("FY27-Q2")
    form.locator("#new_period_name").fill("Q2 FY2027")
    form.locator("#new_period_starts_on").fill(day(100))
    form.locator("#new_period_ends_on").fill(day(190))
    form.locator("#new_period_claim_window").fill(day(190))
    expect(form.locator("#new_period_claim_window-error")).to_have_text("The claim window must end after the period.")
    form.locator("#new_period_claim_window").fill(day(250))
    form.locator("#new_period_rate").fill("1.255")
    expect(form.locator("#new_period_rate-error")).to_contain_text("two decimal places")
    form.locator("#new_period_rate").fill("2.25")
    form.get_by_test_id("create-period").click()
    expect(form.locator("#new_period_id-error")).to_have_text("Period FY27-Q2 already exists.")
    form.get_by_test_id("create-period").click()
    expect(form.get_by_test_id("admin-result")).to_have_text("Period FY27-Q2 created.")
    expect(page.get_by_test_id("period-row")).to_have_count(3)
    assert stub.requests("POST", "/mdf/periods")[-1].body == {
        "period_id": "FY27-Q2",
        "name": "Q2 FY2027",
        "starts_on": day(100),
        "ends_on": day(190),
        "claim_window_ends_at": f"{day(250)}T23:59:59Z",  # the end of that day, UTC
        "accrual_rate_bp": 225,
    }

    accrual = page.get_by_test_id("accrual-form")
    accrual.locator("#accrual_period").select_option("FY27-Q1")
    expect(accrual.locator("#accrual_rate")).to_have_value("1.5")
    accrual.locator("#accrual_rate").fill("0.75")
    expect(accrual.get_by_test_id("accrual-preview")).to_have_text("75 basis points")
    accrual.get_by_test_id("set-accrual-rate").click()
    expect(accrual.get_by_test_id("admin-result")).to_have_text("Q1 FY2027: accrual rate 0.75 %.")
    expect(
        page.locator('[data-testid=period-row][data-period-id="FY27-Q1"]').get_by_test_id("period-rate")
    ).to_have_text("0.75 %")
    assert stub.requests("POST", "/mdf/periods/FY27-Q1/accrual")[0].body == {"accrual_rate_bp": 75}

    allocation = page.get_by_test_id("allocation-form")
    expect(allocation.locator("#allocation_partner option")).to_have_text(
        ["Choose a partner…", "Acme Networks (United Kingdom)", "Globex (Germany)"]  # both pages of partners
    )
    allocation.locator("#allocation_partner").select_option(PARTNER_ID)
    funds = page.get_by_test_id("partner-funds")
    expect(funds.get_by_test_id("fund-available")).to_have_text("$12,500.00")
    assert stub.requests("GET", "/mdf/funds")[0].query == {"partner_id": PARTNER_ID}
    allocation.locator("#allocation_period").select_option("FY27-Q1")
    allocation.locator("#allocation_amount").fill("10000.10")
    allocation.locator("#allocation_currency").select_option("USD")
    allocation.locator("#allocation_note").fill("Q1")
    allocation.get_by_test_id("allocate-funds").click()
    expect(allocation.locator("#allocation_note-error")).to_have_text("Note is too short")
    allocation.locator("#allocation_note").fill("Q1 launch campaign")
    allocation.get_by_test_id("allocate-funds").click()
    expect(allocation.get_by_test_id("admin-result")).to_have_text(
        "Allocated $10,000.10 to Acme Networks for Q1 FY2027. Available now: $22,500.00."
    )
    expect(funds.get_by_test_id("fund-available")).to_have_text("$22,500.00")
    assert stub.requests("POST", "/mdf/allocations")[-1].body == {
        "partner_id": PARTNER_ID,
        "period_id": "FY27-Q1",
        "amount": {"amount_minor": 1000010, "currency": "USD"},
        "note": "Q1 launch campaign",
    }
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}$"))


def test_admin_credits_and_debits_a_fund_with_a_reason(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/partners")] = ok(
        {
            "items": [
                {"partner_id": PARTNER_ID, "company_name": "Acme Networks", "country": "GB"},
                {"partner_id": "prt_02", "company_name": "Globex", "country": "DE"},
            ],
            "next_cursor": None,
        }
    )
    debited = fund(available=usd(1_160_000), adjusted=usd(-90_000))
    credited = fund(available=usd(1_283_457), adjusted=usd(33_457))
    stub.api[("GET", "/mdf/funds")] = [ok({"items": [fund()]}), ok({"items": [debited]}), ok({"items": [credited]})]

    def booked(after: dict[str, Any], seq: int) -> Any:
        return lambda call: ok(
            {
                "fund": after,
                "entry": entry(
                    seq,
                    "adjusted",
                    call.body["amount"]["amount_minor"],
                    after["available"]["amount_minor"],
                    {"type": "adjustment", "id": f"adj_{seq}"},
                    note=call.body["note"],
                ),
            },
            201,
        )

    stub.api[("POST", "/mdf/adjustments")] = [
        # the fund changed since it was shown: the server's limit is lower than the page's
        error(
            400,
            "validation_error",
            "The adjustment would take the available balance below zero.",
            [{"field": "amount.amount_minor", "message": "at most 9,000.00 USD can be debited"}],
        ),
        booked(debited, 5),
        booked(credited, 6),
    ]

    page.goto(f"{portal_url}#/admin/mdf")
    form = page.get_by_test_id("adjustment-form")
    expect(form.get_by_role("heading", name="Adjust a fund")).to_be_visible()
    form.locator("#adjustment_partner").select_option(PARTNER_ID)
    funds = page.get_by_test_id("partner-funds")
    expect(funds.get_by_test_id("fund-available")).to_have_text("$12,500.00")
    expect(page.locator("#allocation_partner")).to_have_value(PARTNER_ID)  # both forms are about that partner
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}$"))

    form.get_by_test_id("adjust-fund").click()  # nothing chosen: every field says what it needs
    expect(form.locator("#adjustment_period-error")).to_have_text("Choose a period.")
    expect(form.locator("#adjustment_direction-error")).to_have_text("Choose whether to credit or debit the fund.")
    expect(form.locator("#adjustment_amount-error")).to_have_text("Enter the amount of the correction.")
    expect(form.locator("#adjustment_note-error")).to_have_text("Give the reason for the correction.")
    assert not stub.requests("POST", "/mdf/adjustments")

    form.locator("#adjustment_period").select_option("FY27-Q1")
    form.locator("#adjustment_currency").select_option("USD")
    form.locator("#adjustment_direction").select_option("debit")
    form.locator("#adjustment_amount").fill("12500.01")  # more than the fund shown has available
    expect(form.locator("#adjustment_amount-error")).to_have_text("At most the $12,500.00 available can be debited.")
    form.locator("#adjustment_currency").select_option("EUR")  # the partner has no EUR fund in the period
    expect(form.locator("#adjustment_amount-error")).to_have_text(
        "This partner has no fund in this period and currency to debit."
    )
    form.locator("#adjustment_direction").select_option("credit")  # a credit may open a fund
    expect(form.locator("#adjustment_amount-error")).to_be_hidden()
    form.locator("#adjustment_currency").select_option("USD")
    form.locator("#adjustment_direction").select_option("debit")
    form.locator("#adjustment_amount").fill("1000")
    expect(form.get_by_test_id("adjustment-preview")).to_have_text("\u2212$1,000.00 from the available balance")
    form.locator("#adjustment_note").fill("Duplicate allocation in October.")
    form.get_by_test_id("adjust-fund").click()
    expect(form.locator("#adjustment_amount-error")).to_have_text("At most 9,000.00 USD can be debited")
    expect(form.get_by_test_id("form-error")).to_have_text("Please correct the highlighted fields.")
    expect(form.locator("#adjustment_amount")).to_be_focused()

    form.locator("#adjustment_amount").fill("900.00")  # editing the field clears the server's message
    expect(form.locator("#adjustment_amount-error")).to_be_hidden()
    form.get_by_test_id("adjust-fund").click()
    expect(form.get_by_test_id("admin-result")).to_have_text(
        "Debited $900.00 from Acme Networks for Q1 FY2027. Available now: $11,600.00."
    )
    expect(funds.get_by_test_id("fund-available")).to_have_text("$11,600.00")  # refreshed
    expect(funds.get_by_test_id("fund-adjusted")).to_have_text("\u2212$900.00")
    expect(form.locator("#adjustment_amount")).to_have_value("")
    expect(form.locator("#adjustment_note")).to_have_value("")

    form.locator("#adjustment_direction").select_option("credit")
    form.locator("#adjustment_amount").fill("1234.57")  # 1234.57 * 100 is 123456.99999999999 as a binary float
    expect(form.get_by_test_id("adjustment-preview")).to_have_text("+$1,234.57 to the available balance")
    form.locator("#adjustment_note").fill("  Q4 event co-funding agreed late.  ")
    form.get_by_test_id("adjust-fund").click()
    expect(form.get_by_test_id("admin-result")).to_have_text(
        "Credited $1,234.57 to Acme Networks for Q1 FY2027. Available now: $12,834.57."
    )
    expect(funds.get_by_test_id("fund-adjusted")).to_have_text("+$334.57")

    refused, debit, credit = stub.requests("POST", "/mdf/adjustments")
    assert refused.body["amount"] == {"amount_minor": -100_000, "currency": "USD"}
    assert debit.body == {
        "partner_id": PARTNER_ID,
        "period_id": "FY27-Q1",
        "amount": {"amount_minor": -90_000, "currency": "USD"},
        "note": "Duplicate allocation in October.",
    }
    assert credit.body == {
        "partner_id": PARTNER_ID,
        "period_id": "FY27-Q1",
        "amount": {"amount_minor": 123_457, "currency": "USD"},
        "note": "Q4 event co-funding agreed late.",
    }
    keys = {c.headers["idempotency-key"] for c in (refused, debit, credit)}
    assert len(keys) == 3 and all(UUID.match(k) for k in keys)
    assert [c.query for c in stub.requests("GET", "/mdf/funds")] == [{"partner_id": PARTNER_ID}] * 3


def test_partner_users_do_not_get_the_admin_page(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/admin/mdf")
    expect(page.get_by_test_id("not-vendor-admin")).to_be_visible()
    expect(page.get_by_test_id("nav-mdf-admin")).to_have_count(0)
    assert not [c for c in stub.calls if c.path.startswith(("/mdf/partners", "/mdf/allocations"))]


# ---------------------------------------------------------------------------------------------- vendor admin: requests


def as_vendor_admin(stub: Stub) -> None:
    """Sign in as vendor staff (no organisation) who administer Acme Networks and Globex."""
    stub.api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    stub.api[("GET", "/mdf/partners")] = ok({"items": PARTNERS, "next_cursor": None})


def test_admin_sees_the_chosen_partners_requests_and_filters_them(page: Page, stub: Stub, portal_url: str) -> None:
    as_vendor_admin(stub)
    acme = [
        {
            **mdf_request("claimed"),
            "request_id": "mdfr_1",
            "title": "Summit booth",
            "claim_status": "submitted",
            "next_step": "Claim review",
        },
        {**mdf_request("under_review"), "request_id": "mdfr_2", "title": "Webinar series", "next_step_due": day(-1)},
        {
            **mdf_request("paid"),
            "request_id": "mdfr_3",
            "title": "Print mailing",
            "claim_status": "approved",
            "next_step": None,
            "next_step_due": None,
        },
    ]

    def requests(call: Call) -> dict[str, Any]:
        partner = call.query.get("partner_id")
        if not partner:  # as the API: vendor staff must name the partner
            return error(400, "validation_error", "Name the partner.", [{"field": "partner_id", "message": "required"}])
        if partner != PARTNER_ID:
            return ok({"items": [], "next_cursor": None})
        status = call.query.get("status")
        items = [i for i in acme if status in (None, i["status"])]
        if status:
            return ok({"items": items, "next_cursor": None})
        if call.query.get("cursor") == "r2":
            return ok({"items": items[2:], "next_cursor": None})
        return ok({"items": items[:2], "next_cursor": "r2"})

    stub.api[("GET", "/mdf/requests")] = requests
    page.goto(f"{portal_url}#/admin/mdf")
    section = page.get_by_test_id("partner-requests")
    expect(section.get_by_test_id("partner-requests-hint")).to_have_text(
        "Choose a partner to see its fund requests and claims."
    )
    expect(section.get_by_test_id("request-row")).to_have_count(0)
    assert not stub.requests("GET", "/mdf/requests")

    page.locator("#allocation_partner").select_option(PARTNER_ID)
    expect(section.get_by_role("heading", level=2)).to_have_text("Fund requests of Acme Networks")
    expect(section.get_by_test_id("partner-requests-hint")).to_be_hidden()
    rows = section.get_by_test_id("request-row")
    expect(rows).to_have_count(2)
    expect(rows.get_by_test_id("request-status")).to_have_text(["Claimed", "Under review"])
    expect(rows.get_by_test_id("request-claim-status")).to_have_text(["Claim submitted", "—"])
    expect(rows.nth(0).get_by_test_id("request-next-step")).to_contain_text("Claim review")
    expect(rows.nth(0).get_by_test_id("next-step-due")).to_have_attribute("datetime", day(40))
    expect(rows.nth(1).get_by_test_id("request-next-step")).to_contain_text("Overdue since")
    expect(section.get_by_test_id("partner-requests-count")).to_have_text("2 requests shown; there are more")
    expect(rows.nth(0).get_by_role("link")).to_have_attribute("href", f"#/mdf/requests/mdfr_1?partner={PARTNER_ID}")
    assert stub.requests("GET", "/mdf/requests")[0].query == {"partner_id": PARTNER_ID, "limit": "20"}

    section.get_by_test_id("load-more").click()
    expect(rows).to_have_count(3)
    expect(section.get_by_test_id("load-more")).to_have_count(0)
    expect(rows.nth(2).get_by_test_id("request-status")).to_have_text("Paid")
    expect(rows.nth(2).get_by_test_id("request-next-step")).to_have_text("None")
    expect(rows.nth(2).get_by_role("link")).to_be_focused()  # keyboard users continue at the new rows
    assert stub.requests("GET", "/mdf/requests")[1].query == {"partner_id": PARTNER_ID, "limit": "20", "cursor": "r2"}

    section.locator("#request_status_filter").select_option("paid")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("request-title")).to_contain_text("Print mailing")
    expect(section.get_by_test_id("partner-requests-count")).to_have_text("1 request · Paid")
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}&request_status=paid$"))
    assert stub.requests("GET", "/mdf/requests")[-1].query == {
        "partner_id": PARTNER_ID,
        "status": "paid",
        "limit": "20",
    }

    section.get_by_test_id("request-status-filter").select_option("rejected")
    expect(section.get_by_test_id("partner-requests-empty")).to_contain_text("No requests are rejected.")
    section.get_by_role("button", name="Show all requests").click()
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}$"))

    # Another partner: its funds and requests; the forms follow it.
    page.locator("#adjustment_partner").select_option("prt_02")
    expect(section.get_by_role("heading", level=2)).to_have_text("Fund requests of Globex")
    expect(section.get_by_test_id("partner-requests-empty")).to_have_text("Globex has not asked for funds yet.")
    expect(section.get_by_test_id("request-status-filter")).to_be_hidden()  # nothing to filter
    assert stub.requests("GET", "/mdf/requests")[-1].query == {"partner_id": "prt_02", "limit": "20"}

    # The partner and the filter are kept in the hash: the page opens as it was left.
    page.goto(f"{portal_url}#/admin/mdf?partner={PARTNER_ID}&request_status=paid")
    expect(page.locator("#request_status_filter")).to_have_value("paid")
    expect(page.locator("#allocation_partner")).to_have_value(PARTNER_ID)
    expect(rows).to_have_count(1)
    assert all(c.query.get("partner_id") for c in stub.requests("GET", "/mdf/requests"))


def test_admin_opens_a_partners_request_read_only_and_downloads_its_proof(
    page: Page, stub: Stub, portal_url: str
) -> None:
    as_vendor_admin(stub)
    returned = claim(
        "returned",
        decided_at="2026-11-28T09:00:00Z",
        decided_by="marketing@vendor.example",
        reason="Please add photos of the booth.",
    )
    detail = mdf_request("claimed", claim_status="returned", claim=returned)
    stub.api[("GET", "/mdf/requests")] = ok({"items": [detail], "next_cursor": None})
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(detail)
    download_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-mdf-proofs/download/invoice.pdf"
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}/claim/files/file_01")] = ok(
        {"url": download_url, "file_name": "invoice.pdf", "expires_in": 300}
    )
    stub.external[("GET", download_url)] = raw(200, b"%PDF-1.4 proof", {"Content-Type": "application/pdf"})

    page.goto(f"{portal_url}#/admin/mdf?partner={PARTNER_ID}")
    row = page.locator(f'[data-testid=request-row][data-request-id="{REQUEST_ID}"]')
    expect(row.get_by_test_id("request-claim-status")).to_have_text("More proof needed")
    row.get_by_role("link", name="Partner summit booth").click()

    expect(page).to_have_url(re.compile(rf"#/mdf/requests/{REQUEST_ID}\?partner={PARTNER_ID}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner summit booth")
    expect(page.locator("#site-nav a")).to_have_text(VENDOR_NAV)
    expect(page.get_by_test_id("nav-mdf-admin")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("vendor-read-only")).to_contain_text("Read-only")
    expect(page.get_by_test_id("request-status")).to_have_text("Claimed")
    expect(page.get_by_test_id("request-claim-status")).to_have_text("More proof needed")
    expect(page.get_by_test_id("request-id")).to_have_text(REQUEST_ID)
    expect(page.get_by_test_id("claim-due")).to_contain_text("The partner adds files and resubmits the claim by")
    expect(page.get_by_test_id("approval-row").get_by_test_id("approval-decision")).to_have_text("Approved")
    expect(page.get_by_test_id("approval-row").get_by_test_id("approval-amount")).to_have_text("$4,000.00")
    expect(page.get_by_test_id("timeline-entry")).to_have_count(2)
    expect(page.get_by_test_id("claim-status")).to_have_text("More proof needed")
    expect(page.get_by_test_id("claim-reason")).to_contain_text("Please add photos of the booth.")
    expect(page.get_by_test_id("claim-amount-spent")).to_have_text("$3,987.50")
    # None of the partner's actions: no claim form (a returned claim takes one for the partner), no MDF tabs.
    for testid in ("claim-section", "claim-form", "revision-section", "mdf-tab-funds", "request-funds"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(page.locator("#proof_files")).to_have_count(0)

    with page.expect_popup() as popup_info:
        page.locator('[data-testid=claim-file][data-file-id="file_01"]').get_by_test_id("download-file").click()
    popup_info.value.wait_for_url(download_url)
    expect(page.get_by_test_id("download-state")).to_contain_text("Opened in a new tab")
    assert stub.requests("GET", f"/mdf/requests/{REQUEST_ID}/claim/files/file_01")
    assert not [c for c in stub.calls if c.method != "GET"]  # reading changed nothing

    back = page.get_by_test_id("back-to-admin")
    expect(back).to_have_text("\u2190 MDF administration")
    back.click()
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}$"))
    expect(page.locator("#allocation_partner")).to_have_value(PARTNER_ID)
    expect(row).to_be_visible()


def test_admin_reads_a_request_from_its_link_and_a_missing_one_leads_back(
    page: Page, stub: Stub, portal_url: str
) -> None:
    as_vendor_admin(stub)
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(
        mdf_request("rejected", decision_reason="Too little detail on the audience.")
    )
    page.goto(f"{portal_url}#/mdf/requests/{REQUEST_ID}")  # e.g. from an email: no partner named
    expect(page.get_by_test_id("request-decision")).to_have_text("Rejected. Too little detail on the audience.")
    expect(page.get_by_test_id("vendor-read-only")).to_be_visible()
    expect(page.get_by_test_id("revision-section")).to_have_count(0)
    expect(page.get_by_test_id("back-to-admin")).to_have_attribute("href", "#/admin/mdf")
    assert not stub.requests("GET", "/mdf/periods")  # the revision form's periods are never loaded

    page.goto(f"{portal_url}#/mdf/requests/mdfr_GONE?partner={PARTNER_ID}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request not found")
    panel = page.get_by_test_id("request-not-found")
    expect(panel).to_contain_text("There is no fund request with this ID.")
    panel.get_by_role("link", name="Back to MDF administration").click()
    expect(page).to_have_url(re.compile(rf"#/admin/mdf\?partner={PARTNER_ID}$"))

    page.goto(f"{portal_url}#/mdf/requests")  # the partner's own pages stay closed to vendor staff
    expect(page).to_have_url(re.compile(r"#/admin/mdf$"))


def test_partner_users_see_no_vendor_view_of_a_request(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", f"/mdf/requests/{REQUEST_ID}")] = ok(mdf_request("rejected", starts_on=day(15), ends_on=day(20)))
    page.goto(f"{portal_url}#/mdf/requests/{REQUEST_ID}?partner=prt_02")  # a vendor link does not change the page
    expect(page.get_by_test_id("revision-section")).to_be_visible()
    expect(page.get_by_test_id("mdf-tab-requests")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("nav-mdf")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="\u2190 All fund requests")).to_have_attribute("href", "#/mdf/requests")
    for testid in ("vendor-read-only", "back-to-admin", "nav-mdf-admin"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
