"""MDF rules without AWS: the ledger's exact integer arithmetic, accrual, requests, claims, expiry, proofs and timers."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts.deals import DealWinReversed, DealWon
from contracts.mdf import (
    Balance,
    MdfAccrualReversed,
    MdfClaimApproved,
    MdfClaimPaid,
    MdfClaimRejected,
    MdfClaimReturned,
    MdfClaimSubmitted,
    MdfFundsAccrued,
    MdfFundsAllocated,
    MdfFundsExpired,
    MdfRequestApproved,
    MdfRequestRejected,
    MdfRequestSubmitted,
)
from mdf.domain import claims, ledger, periods, requests, timers
from mdf.domain import proofs as proof_keys
from mdf.domain.common import Change, InsufficientFunds, InvalidState
from mdf.models import (
    ClaimBody,
    ClaimDeadline,
    ClaimDecision,
    ClaimReminder,
    EntryKind,
    Fund,
    FundExpiry,
    FundExpiryWarning,
    FundRequest,
    FundRequestBody,
    LedgerEntry,
    Outcome,
    Period,
    ProofFile,
    Reference,
    RequestApprovalExpired,
    RequestDecision,
    Upload,
    WinAccrual,
    workflow_message,
)
from shared import proof_files as proof_rules
from shared.clock import timer_time
from shared.errors import Conflict, ValidationFailed
from shared.money import Money

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW_ENDS = datetime(2027, 2, 28, 0, 0, tzinfo=UTC)  # FY27-Q1's claim window, two months after it ends
AFTER_ACTIVITY = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # the day after body()'s activity ended
PARTNER, PARTNER_USER, ADMIN = "prt_1", "ann@partner.example", "admin@vendor.example"
MARKETING, FINANCE = "mkt@vendor.example", "fin@vendor.example"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ids = itertools.count()

# What each entry kind does to (available, reserved, paid, expired), written from docs/mdf.md, not from the ledger rules.
EFFECT: dict[str, tuple[int, int, int, int]] = {
    "allocated": (1, 0, 0, 0),
    "accrued": (1, 0, 0, 0),
    "reserved": (-1, 1, 0, 0),
    "released": (1, -1, 0, 0),
    "paid": (0, -1, 1, 0),
    "expired": (-1, 0, 0, 1),
    "adjusted": (1, 0, 0, 0),
    "accrual_reversed": (-1, 0, 0, 0),  # of what available can cover; the rest is `clawback_minor` (outstanding)
}


def ids(prefix: str) -> str:
    return f"{prefix}_{next(_ids)}"


def usd(amount: int) -> Money:
    return Money(amount_minor=amount, currency="USD")


def money(amount: int, currency: str = "USD") -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


def period(**changes: Any) -> Period:
    return Period.model_validate(
        {
            "period_id": "FY27-Q1",
            "name": "FY27 Q1",
            "starts_on": date(2026, 10, 1),
            "ends_on": date(2026, 12, 31),
            "claim_window_ends_at": WINDOW_ENDS,
            "accrual_rate_bp": 250,
        }
        | changes
    )


def funded(amount: int = 1_000_000, *, in_period: Period | None = None) -> Fund:
    """A new fund with one allocation (built by the rules, so its totals are consistent)."""
    change = ledger.allocate(
        None,
        in_period or period(),
        partner_id=PARTNER,
        amount=usd(amount),
        note="Q1 budget",
        actor=ADMIN,
        now=NOW,
        new_id=ids,
    )
    assert change.fund is not None
    return change.fund


def booked(fund: Fund, kind: EntryKind, amount: int, *, now: datetime = NOW) -> tuple[Fund, LedgerEntry]:
    return ledger.book(
        fund, kind, amount, reference=Reference(type="allocation", id=ids("ref")), actor=ADMIN, note="", now=now
    )


def closed(fund: Fund) -> Fund:
    change = ledger.expire_fund(fund, now=fund.claim_window_ends_at, new_id=ids)
    assert change.fund is not None and change.fund.status == "closed"
    return change.fund


def body(**changes: Any) -> FundRequestBody:
    return FundRequestBody.model_validate(
        {
            "period_id": "FY27-Q1",
            "activity_type": "event",
            "title": "Winter roadshow",
            "description": "Three city breakfasts with the firewall team.",
            "starts_on": "2026-12-07",
            "ends_on": "2026-12-10",
            "requested": money(400_000),
            "expected_outcome": {"leads": 40, "pipeline_value": money(10_000_000)},
        }
        | changes
    )


def submit(
    fund: Fund | None,
    *,
    in_period: Period | None = None,
    now: datetime = NOW,
    previous: FundRequest | None = None,
    **changes: Any,
) -> Change:
    return requests.submit(
        body(**changes),
        partner_id=PARTNER,
        user=PARTNER_USER,
        period=in_period or period(),
        fund=fund,
        lead_days=10,
        now=now,
        new_id=ids,
        previous=previous,
    )


def submitted(fund: Fund | None, **changes: Any) -> FundRequest:
    change = submit(fund, **changes)
    assert change.request is not None
    return change.request


def outcome(decision: str = "approved", *, by: str = MARKETING, amount: int | None = None, reason: str = "") -> Outcome:
    return Outcome.model_validate(
        {"decision": decision, "decided_by": by, "amount_minor": amount, "reason": reason or None, "decided_at": NOW}
    )


def request_decision(
    request: FundRequest, marketing: Outcome, finance: Outcome | None = None, *, round_: int | None = None
) -> RequestDecision:
    return RequestDecision(
        message_type="MdfRequestDecision",
        request_id=request.request_id,
        round=request.round if round_ is None else round_,
        marketing=marketing,
        finance=finance,
    )


def decide(
    request: FundRequest, fund: Fund | None, marketing: Outcome, finance: Outcome | None = None, *, days: int = 60
) -> Change:
    return requests.decide_request(
        request, request_decision(request, marketing, finance), fund, claim_due_days=days, now=NOW, new_id=ids
    )


def approved(granted: int = 400_000, *, allocated: int = 1_000_000) -> tuple[FundRequest, Fund]:
    """A request for 400_000 approved for `granted` (reserved) on a fund allocated `allocated`."""
    fund = funded(allocated)
    change = decide(submitted(fund), fund, outcome(amount=granted))
    assert change.request is not None and change.fund is not None
    return change.request, change.fund


def proofs(count: int = 1) -> list[ProofFile]:
    return [
        ProofFile(
            file_id=f"file_{n:026d}",
            file_name=f"invoice-{n}.pdf",
            content_type="application/pdf",
            size_bytes=48_213,
            key=f"proofs/{PARTNER}/req/file_{n:026d}/invoice-{n}.pdf",
        )
        for n in range(count)
    ]


def claim_body(spent: int, currency: str = "USD") -> ClaimBody:
    return ClaimBody.model_validate(
        {
            "amount_spent": money(spent, currency),
            "proof_files": [p.file_id for p in proofs()],
            "results": {"leads": 31, "attendees": 120, "invoice_number": "INV-2026-118"},
            "notes": "Venue and catering.",
        }
    )


def file_claim(request: FundRequest, spent: int, *, now: datetime = AFTER_ACTIVITY, currency: str = "USD") -> Change:
    return claims.file_claim(request, claim_body(spent, currency), proofs(), user=PARTNER_USER, now=now, new_id=ids)


def claimed(spent: int = 250_000, granted: int = 400_000, *, allocated: int = 1_000_000) -> tuple[FundRequest, Fund]:
    request, fund = approved(granted, allocated=allocated)
    change = file_claim(request, spent)
    assert change.request is not None
    return change.request, fund


def review(
    request: FundRequest, decision: str, *, amount: int | None = None, round_: int | None = None
) -> ClaimDecision:
    assert request.claim is not None
    return ClaimDecision(
        message_type="MdfClaimDecision",
        request_id=request.request_id,
        round=request.claim.round if round_ is None else round_,
        review=outcome(decision, amount=amount, reason="" if decision == "approved" else "See notes"),
    )


def decide_claim(request: FundRequest, fund: Fund, decision: str, **options: Any) -> Change:
    return claims.decide_claim(request, review(request, decision, **options), fund, now=NOW, new_id=ids)


def balance_of(fund: Fund) -> tuple[int, int, int, int]:
    return fund.available, fund.reserved, fund.paid, fund.expired


def entries_of(change: Change) -> list[tuple[str, int]]:
    return [(e.kind, e.amount_minor) for e in change.entries]


def nothing_changed(change: Change) -> bool:
    return change.request is None and change.fund is None and not change.entries and not change.events


def won(amount: int, *, close_date: date = date(2026, 11, 20), currency: str = "USD") -> DealWon:
    return DealWon.occurred(
        at=NOW,
        event_id=ids("evt"),
        partner_id=PARTNER,
        deal_id=ids("deal"),
        amount=Money(amount_minor=amount, currency=currency),
        close_date=close_date,
    )


def upload(content_type: str = "application/pdf", file_name: str = "invoice.pdf") -> Upload:
    return Upload(
        file_id="file_" + "a" * 26,
        request_id="mdfreq_1",
        partner_id=PARTNER,
        key=proof_keys.proof_key(PARTNER, "mdfreq_1", "file_" + "a" * 26, file_name),
        file_name=file_name,
        content_type=content_type,
        size_bytes=1_000,
        created_at=NOW,
    )


# ------------------------------------------------------------------ the ledger: book


def base_fund() -> Fund:
    """allocated 1_500, reserved 500: available 1_000, reserved 500, seq 2."""
    fund, _ = booked(funded(1_500), "reserved", 500)
    assert (balance_of(fund), fund.seq) == ((1_000, 500, 0, 0), 2)
    return fund


@pytest.mark.parametrize(
    ("kind", "amount", "after", "totals"),
    [
        ("allocated", 100, (1_100, 500, 0, 0), (1_600, 0, 0, 0)),
        ("accrued", 100, (1_100, 500, 0, 0), (1_500, 100, 0, 0)),
        ("reserved", 100, (900, 600, 0, 0), (1_500, 0, 0, 0)),
        ("released", 100, (1_100, 400, 0, 0), (1_500, 0, 100, 0)),
        ("paid", 100, (1_000, 400, 100, 0), (1_500, 0, 0, 0)),
        ("expired", 100, (900, 500, 0, 100), (1_500, 0, 0, 0)),
        ("adjusted", 100, (1_100, 500, 0, 0), (1_500, 0, 0, 100)),
        ("adjusted", -100, (900, 500, 0, 0), (1_500, 0, 0, -100)),
        ("reserved", 1_000, (0, 1_500, 0, 0), (1_500, 0, 0, 0)),  # down to exactly zero is fine
        ("paid", 500, (1_000, 0, 500, 0), (1_500, 0, 0, 0)),
    ],
)
def test_book_moves_the_balance_and_running_totals_exactly(
    kind: EntryKind, amount: int, after: tuple[int, int, int, int], totals: tuple[int, int, int, int]
) -> None:
    fund = base_fund()
    reference = Reference(type="request", id="mdfreq_9")
    later = NOW + timedelta(hours=1)
    new, entry = ledger.book(fund, kind, amount, reference=reference, actor=ADMIN, note="why", now=later)
    assert balance_of(new) == after
    assert (new.allocated, new.accrued, new.released, new.adjusted) == totals
    assert new.seq == 3 and new.updated_at == later and new.opened_at == fund.opened_at
    assert entry == LedgerEntry(
        seq=3,
        kind=kind,
        amount_minor=amount,
        currency="USD",
        at=later,
        reference=reference,
        note="why",
        actor=ADMIN,
        available_after=after[0],
        reserved_after=after[1],
        paid_after=after[2],
    )
    assert new.available + new.reserved + new.paid + new.expired == new.allocated + new.accrued + new.adjusted


@pytest.mark.parametrize(
    ("kind", "amount"),
    [("reserved", 1_001), ("expired", 1_001), ("adjusted", -1_001), ("released", 501), ("paid", 501)],
)
def test_book_never_takes_available_or_reserved_below_zero(kind: EntryKind, amount: int) -> None:
    fund = base_fund()
    snapshot = fund.model_copy(deep=True)
    with pytest.raises(InsufficientFunds):
        booked(fund, kind, amount)
    assert fund == snapshot


@pytest.mark.parametrize("kind", ["allocated", "accrued", "reserved", "adjusted"])
def test_book_refuses_credits_and_reservations_on_a_closed_fund(kind: EntryKind) -> None:
    fund = base_fund().model_copy(update={"status": "closed"})
    with pytest.raises(InvalidState) as refused:
        booked(fund, kind, 1)
    assert refused.value.code == "fund_closed"


def test_book_still_releases_pays_and_expires_on_a_closed_fund() -> None:
    fund = base_fund().model_copy(update={"status": "closed"})
    fund, _ = booked(fund, "paid", 200)
    fund, _ = booked(fund, "released", 300)
    fund, _ = booked(fund, "expired", 1_300)
    assert balance_of(fund) == (0, 0, 200, 1_300) and fund.seq == 5 and fund.status == "closed"


@pytest.mark.parametrize("kind", ["allocated", "accrued", "reserved", "released", "paid", "expired"])
@pytest.mark.parametrize("amount", [0, -1])
def test_book_refuses_zero_and_negative_amounts(kind: EntryKind, amount: int) -> None:
    with pytest.raises(ValueError):
        booked(base_fund(), kind, amount)


# ------------------------------------------------------------------ allocation and accrual


def test_allocate_opens_the_fund_with_the_periods_window_and_publishes_the_balance() -> None:
    change = ledger.allocate(
        None, period(), partner_id=PARTNER, amount=usd(1_000_000), note="Q1 budget", actor=ADMIN, now=NOW, new_id=ids
    )
    fund = change.fund
    assert fund is not None
    assert (fund.fund_id, fund.partner_id, fund.period_name, fund.currency, fund.status) == (
        "FY27-Q1.USD",
        PARTNER,
        "FY27 Q1",
        "USD",
        "open",
    )
    assert fund.claim_window_ends_at == WINDOW_ENDS and fund.opened_at == NOW
    assert balance_of(fund) == (1_000_000, 0, 0, 0) and fund.allocated == 1_000_000 and fund.seq == 1
    [entry] = change.entries
    assert (entry.seq, entry.kind, entry.amount_minor, entry.available_after, entry.actor) == (
        1,
        "allocated",
        1_000_000,
        1_000_000,
        ADMIN,
    )
    [event] = change.events
    assert isinstance(event, MdfFundsAllocated)
    assert event.allocation_id == entry.reference.id and entry.reference.type == "allocation"
    assert (event.fund_id, event.period_id, event.amount, event.allocated_by, event.note) == (
        "FY27-Q1.USD",
        "FY27-Q1",
        usd(1_000_000),
        ADMIN,
        "Q1 budget",
    )
    assert event.balance == Balance(available=usd(1_000_000), reserved=usd(0), paid=usd(0))
    assert change.guards == [f"allocation:{event.allocation_id}"]

    again = ledger.allocate(
        fund, period(), partner_id=PARTNER, amount=usd(234_567), note="", actor=ADMIN, now=NOW, new_id=ids
    )
    assert again.fund is not None and again.fund.allocated == 1_234_567 and again.entries[0].seq == 2


def test_allocate_is_refused_once_the_claim_window_has_passed_or_the_fund_closed() -> None:
    for now in (WINDOW_ENDS, WINDOW_ENDS + timedelta(days=1)):
        with pytest.raises(InvalidState) as refused:
            ledger.allocate(
                None, period(), partner_id=PARTNER, amount=usd(1), note="", actor=ADMIN, now=now, new_id=ids
            )
        assert refused.value.code == "fund_closed"
    with pytest.raises(InvalidState):
        ledger.allocate(
            closed(funded()), period(), partner_id=PARTNER, amount=usd(1), note="", actor=ADMIN, now=NOW, new_id=ids
        )


@pytest.mark.parametrize(
    ("deal_amount", "rate_bp", "credited"),
    [
        (999_999, 250, 24_999),
        (1_000_000, 250, 25_000),
        (39, 250, 0),
        (40, 250, 1),
        (1, 9_999, 0),
        (1, 10_000, 1),
        (999_999_999_999_999, 9_999, 999_899_999_999_999),  # beyond float's 53 bits: must be integer arithmetic
    ],
)
def test_accrual_is_the_floor_of_the_rate_in_basis_points(deal_amount: int, rate_bp: int, credited: int) -> None:
    deal = won(deal_amount)
    change = ledger.accrue(None, period(accrual_rate_bp=rate_bp), deal, now=NOW, new_id=ids)
    if credited == 0:
        assert nothing_changed(change) and change.outcome == f"nothing to accrue at {rate_bp} bp"
        return
    assert change.fund is not None and change.outcome == "accrued"
    assert balance_of(change.fund) == (credited, 0, 0, 0) and change.fund.accrued == credited
    assert change.fund.allocated == 0
    [entry] = change.entries
    assert (entry.kind, entry.amount_minor, entry.reference) == (
        "accrued",
        credited,
        Reference(type="deal", id=deal.deal_id),
    )
    [event] = change.events
    assert isinstance(event, MdfFundsAccrued)
    assert (event.amount, event.deal_amount, event.accrual_rate_bp) == (usd(credited), usd(deal_amount), rate_bp)
    assert change.guards == [f"accrual:{deal.deal_id}"]


def test_accrual_adds_to_an_existing_fund_in_the_deals_currency() -> None:
    fund = funded(1_000_000)
    change = ledger.accrue(fund, period(), won(999_999), now=NOW, new_id=ids)
    assert change.fund is not None
    assert balance_of(change.fund) == (1_024_999, 0, 0, 0) and change.fund.seq == 2
    euro = ledger.accrue(None, period(), won(999_999, currency="EUR"), now=NOW, new_id=ids)
    assert euro.fund is not None and euro.fund.fund_id == "FY27-Q1.EUR" and euro.entries[0].currency == "EUR"


def test_nothing_is_accrued_without_an_open_period_or_a_rate() -> None:
    no_period = ledger.accrue(None, None, won(1_000_000), now=NOW, new_id=ids)
    assert nothing_changed(no_period) and "no period contains the close date 2026-11-20" in no_period.outcome
    late = ledger.accrue(None, period(), won(1_000_000), now=WINDOW_ENDS, new_id=ids)
    assert nothing_changed(late) and late.outcome == "period FY27-Q1 has closed"
    closed_fund = ledger.accrue(closed(funded()), period(), won(1_000_000), now=NOW, new_id=ids)
    assert nothing_changed(closed_fund) and closed_fund.outcome == "period FY27-Q1 has closed"
    no_rate = ledger.accrue(None, period(accrual_rate_bp=0), won(1_000_000), now=NOW, new_id=ids)
    assert nothing_changed(no_rate) and no_rate.outcome == "nothing to accrue at 0 bp"


def reversal(deal_id: str, *, revision: int = 1, amount: int = 1_000_000) -> DealWinReversed:
    return DealWinReversed.occurred(
        at=NOW,
        event_id=ids("evt"),
        partner_id=PARTNER,
        deal_id=deal_id,
        win_revision=revision,
        reason="Booked twice by the distributor",
        reversed_by=ADMIN,
        previous_amount=usd(amount),
    )


def accrued_win(fund: Fund | None, deal: DealWon) -> tuple[Fund, WinAccrual]:
    change = ledger.accrue(fund, period(), deal, now=NOW, new_id=ids)
    assert change.fund is not None and change.win is not None and change.win_status_read is None
    return change.fund, change.win


def test_accrual_records_where_each_win_revision_accrued_under_its_own_guard() -> None:
    first = won(1_000_000)
    fund, win = accrued_win(None, first)
    assert win == WinAccrual(
        deal_id=first.deal_id,
        win_revision=1,
        status="accrued",
        partner_id=PARTNER,
        fund_id="FY27-Q1.USD",
        amount_minor=25_000,
        currency="USD",
        accrued_at=NOW,
    )
    corrected = first.model_copy(update={"win_revision": 2, "amount": usd(800_000)})
    change = ledger.accrue(fund, period(), corrected, now=NOW, new_id=ids)
    assert change.guards == [f"accrual:{first.deal_id}#2"] and change.win is not None
    assert (change.win.win_revision, change.win.amount_minor) == (2, 20_000)
    assert change.entries[0].note == "2.5% of 8,000.00 USD won (win 2, corrected)"


def test_a_reversed_win_takes_its_accrual_back_from_available() -> None:
    deal = won(1_000_000)
    fund, win = accrued_win(funded(100_000), deal)
    change = ledger.reverse_accrual(win, fund, reversal(deal.deal_id), now=NOW, new_id=ids)
    assert change.fund is not None and change.outcome == "reversed"
    assert balance_of(change.fund) == (100_000, 0, 0, 0)
    assert (change.fund.accrued, change.fund.accrual_reversed, change.fund.clawback_outstanding) == (25_000, 25_000, 0)
    [entry] = change.entries
    assert (entry.kind, entry.amount_minor, entry.clawback_minor, entry.available_after) == (
        "accrual_reversed",
        25_000,
        0,
        100_000,
    )
    assert entry.reference == Reference(type="deal", id=deal.deal_id)
    assert entry.note == f"Win 1 reversed by {ADMIN}: Booked twice by the distributor"
    [event] = change.events
    assert isinstance(event, MdfAccrualReversed)
    assert (event.accrued, event.debited, event.shortfall, event.clawback_outstanding) == (
        usd(25_000),
        usd(25_000),
        usd(0),
        usd(0),
    )
    assert (event.win_revision, event.reversed_by, event.balance.available) == (1, ADMIN, usd(100_000))
    assert change.win is not None and change.win_status_read == "accrued"
    assert (change.win.status, change.win.debited_minor, change.win.shortfall_minor) == ("reversed", 25_000, 0)
    assert change.guards == [f"accrual_reversed:{deal.deal_id}#1"]


def test_a_reversal_of_money_already_reserved_records_the_shortfall_as_an_outstanding_clawback() -> None:
    deal = won(1_000_000)
    fund, win = accrued_win(funded(10_000), deal)  # available 35_000
    fund, _ = booked(fund, "reserved", 30_000)  # available 5_000: 20_000 of the accrual is already reserved
    change = ledger.reverse_accrual(win, fund, reversal(deal.deal_id), now=NOW, new_id=ids)
    assert change.fund is not None and change.outcome == "reversed with a clawback outstanding"
    assert balance_of(change.fund) == (0, 30_000, 0, 0)  # never below zero
    assert (change.fund.accrual_reversed, change.fund.clawback_outstanding) == (25_000, 20_000)
    [entry] = change.entries
    assert (entry.amount_minor, entry.clawback_minor, entry.available_after) == (25_000, 20_000, 0)
    [event] = change.events
    assert isinstance(event, MdfAccrualReversed)
    assert (event.debited, event.from_expired, event.shortfall, event.clawback_outstanding) == (
        usd(5_000),
        usd(0),
        usd(20_000),
        usd(20_000),
    )
    assert change.win is not None and (change.win.debited_minor, change.win.shortfall_minor) == (5_000, 20_000)


def test_a_reversal_after_the_fund_closed_takes_back_what_expired_and_owes_only_what_was_spent() -> None:
    deal = won(1_000_000)
    fund, win = accrued_win(None, deal)
    unused = ledger.reverse_accrual(win, closed(fund), reversal(deal.deal_id), now=NOW, new_id=ids)
    assert unused.fund is not None and unused.fund.status == "closed" and unused.outcome == "reversed"
    assert (unused.fund.available, unused.fund.expired, unused.fund.clawback_outstanding) == (0, 0, 0)
    assert (unused.entries[0].from_expired_minor, unused.entries[0].clawback_minor) == (25_000, 0)

    fund, win = accrued_win(funded(10_000), deal)  # available 35_000
    fund, _ = booked(fund, "reserved", 30_000)
    fund, _ = booked(fund, "paid", 30_000)  # 5_000 left, expired at the close
    change = ledger.reverse_accrual(win, closed(fund), reversal(deal.deal_id), now=NOW, new_id=ids)
    assert change.fund is not None and balance_of(change.fund) == (0, 0, 30_000, 0)
    assert change.fund.clawback_outstanding == 20_000  # spent beyond what the fund really held
    [event] = change.events
    assert isinstance(event, MdfAccrualReversed)
    assert (event.debited, event.from_expired, event.shortfall) == (usd(0), usd(5_000), usd(20_000))


def test_a_reversal_before_its_win_leaves_a_tombstone_and_the_late_win_accrues_nothing() -> None:
    deal = won(1_000_000)
    early = ledger.reverse_accrual(None, None, reversal(deal.deal_id), now=NOW, new_id=ids)
    assert early.fund is None and not early.entries and not early.events
    assert early.win is not None and early.win_status_read is None
    assert (early.win.status, early.win.fund_id, early.win.amount_minor) == ("reversed", None, 0)
    assert ledger.recorded_outcome(early.win) == "not accrued: win 1 was reversed before it arrived"
    again = ledger.reverse_accrual(early.win, None, reversal(deal.deal_id), now=NOW, new_id=ids)
    assert nothing_changed(again) and again.win is None and again.outcome == "duplicate"


def test_a_reversal_of_a_win_whose_fund_cannot_be_read_is_retried_not_dropped() -> None:
    deal = won(1_000_000)
    _, win = accrued_win(None, deal)
    with pytest.raises(LookupError):
        ledger.reverse_accrual(win, None, reversal(deal.deal_id), now=NOW, new_id=ids)


def test_period_for_picks_the_period_containing_the_date() -> None:
    q1 = period()
    q2 = period(period_id="FY27-Q2", starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31))
    assert periods.period_for([q1, q2], date(2026, 10, 1)) is q1
    assert periods.period_for([q1, q2], date(2026, 12, 31)) is q1
    assert periods.period_for([q1, q2], date(2027, 1, 1)) is q2
    assert periods.period_for([q1, q2], date(2026, 9, 30)) is None
    assert periods.period_for([], date(2026, 11, 1)) is None
    assert periods.period_for([q2, q1], date(2026, 11, 26)) is q1


def test_periods_never_overlap() -> None:
    q1 = period()
    periods.ensure_no_overlap(period(period_id="FY27-Q2", starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31)), [q1])
    for starts_on, ends_on in ((date(2026, 12, 31), date(2027, 3, 31)), (date(2026, 9, 1), date(2026, 10, 1))):
        with pytest.raises(Conflict) as refused:
            periods.ensure_no_overlap(period(period_id="FY27-X", starts_on=starts_on, ends_on=ends_on), [q1])
        assert refused.value.errors[0].field == "starts_on"


# ------------------------------------------------------------------ fund requests: submission


def field_errors(attempt: Callable[[], object]) -> list[str]:
    with pytest.raises(ValidationFailed) as refused:
        attempt()
    return [e.field for e in refused.value.errors]


def test_submission_requires_a_known_open_period() -> None:
    fund = funded()
    assert field_errors(
        lambda: requests.submit(
            body(), partner_id=PARTNER, user=PARTNER_USER, period=None, fund=fund, lead_days=10, now=NOW, new_id=ids
        )
    ) == ["period_id"]
    late = datetime(2026, 11, 27, tzinfo=UTC)
    assert field_errors(lambda: submit(fund, in_period=period(claim_window_ends_at=late), now=late)) == ["period_id"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"starts_on": "2026-12-05"}, ["starts_on"]),  # today (26 Nov) + 10 lead days is 6 Dec
        ({"starts_on": "2026-12-12", "ends_on": "2026-12-11"}, ["ends_on"]),
        ({"starts_on": "2027-01-10", "ends_on": "2027-01-12"}, ["starts_on", "ends_on"]),  # after the period
        ({"ends_on": "2027-01-02"}, ["ends_on"]),
        ({"requested": money(1_000_001)}, ["requested.amount_minor"]),
        (
            {"starts_on": "2026-11-30", "ends_on": "2026-11-29", "requested": money(2_000_000)},
            ["starts_on", "ends_on", "requested.amount_minor"],
        ),
    ],
)
def test_submission_field_errors(changes: dict[str, Any], fields: list[str]) -> None:
    assert field_errors(lambda: submit(funded(1_000_000), **changes)) == fields


def test_submission_needs_an_open_fund_with_the_money() -> None:
    with pytest.raises(ValidationFailed) as no_fund:
        submit(None, requested=money(1))
    assert no_fund.value.errors[0].field == "requested.currency"
    assert no_fund.value.errors[0].message == "you have no fund in USD for FY27-Q1; you have none open"
    assert "balance" not in no_fund.value.errors[0].message  # not "exceeds the available balance (0.00 USD)"
    assert field_errors(lambda: submit(closed(funded()), requested=money(1))) == ["requested.currency"]
    with pytest.raises(ValidationFailed) as short:
        submit(funded(123_456), requested=money(123_457))
    assert "(1,234.56 USD)" in short.value.errors[0].message


def test_a_request_in_a_currency_without_a_fund_names_the_currencies_there_are() -> None:
    """Issue 8.5e: an EUR request where the partner has only USD and GBP funds said "exceeds ... (0.00 EUR)"."""
    eur = {"amount_minor": 100_000, "currency": "EUR"}
    with pytest.raises(ValidationFailed) as refused:
        requests.submit(
            body(requested=eur),
            partner_id=PARTNER,
            user=PARTNER_USER,
            period=period(),
            fund=None,
            lead_days=10,
            now=NOW,
            new_id=ids,
            open_currencies=("USD", "GBP"),
        )
    [error] = refused.value.errors
    assert error.field == "requested.currency"
    assert error.message == "you have no fund in EUR for FY27-Q1; your open funds for this period are in GBP, USD"


def test_a_valid_submission() -> None:
    fund = funded(1_000_000)
    change = submit(fund, starts_on="2026-12-06", requested=money(1_000_000))  # the earliest day, all the money
    request = change.request
    assert request is not None and change.fund is None and not change.entries  # nothing is reserved yet
    assert (request.status, request.round, request.partner_id, request.fund_id) == (
        "submitted",
        1,
        PARTNER,
        "FY27-Q1.USD",
    )
    assert request.requested == usd(1_000_000) and request.granted is None and request.approvals == []
    assert [(t.status, t.at) for t in request.timeline] == [("submitted", NOW)]
    [event] = change.events
    assert isinstance(event, MdfRequestSubmitted)
    assert (event.request_id, event.round, event.requested, event.submitted_by, event.starts_on) == (
        request.request_id,
        1,
        usd(1_000_000),
        PARTNER_USER,
        date(2026, 12, 6),
    )


def test_a_rejected_or_expired_request_may_be_revised_as_the_next_round() -> None:
    fund = funded(1_000_000)
    first = submitted(fund)
    rejected = decide(first, fund, outcome("rejected", reason="Too early")).request
    assert rejected is not None and rejected.status == "rejected" and rejected.approvals
    change = submit(fund, previous=rejected, title="Winter roadshow, two cities", requested=money(300_000))
    revised = change.request
    assert revised is not None
    assert (revised.request_id, revised.status, revised.round, revised.approvals) == (
        first.request_id,
        "submitted",
        2,
        [],
    )
    assert revised.requested == usd(300_000) and revised.decision_reason is None and revised.decided_at is None
    assert [t.status for t in revised.timeline] == ["submitted", "rejected", "submitted"]
    assert revised.timeline[-1].note == "Revised (round 2)"
    assert isinstance(change.events[0], MdfRequestSubmitted) and change.events[0].round == 2

    lapse = RequestApprovalExpired(
        message_type="MdfApprovalExpired", request_id=revised.request_id, round=2, purpose="request"
    )
    expired = requests.approval_lapsed(revised, lapse, now=NOW).request
    assert expired is not None and expired.status == "expired"
    third = submit(fund, previous=expired).request
    assert third is not None and third.round == 3


@pytest.mark.parametrize("status", ["submitted", "under_review", "approved", "claimed", "paid", "lapsed"])
def test_only_rejected_or_expired_requests_can_be_revised(status: str) -> None:
    fund = funded()
    previous = submitted(fund).model_copy(update={"status": status})
    with pytest.raises(InvalidState):
        submit(fund, previous=previous)


# ------------------------------------------------------------------ fund requests: the approval chain


def test_marketing_alone_approves_the_full_amount_and_it_is_reserved() -> None:
    fund = funded(1_000_000)
    request = requests.under_review(submitted(fund), decision_due_at=NOW + timedelta(days=5), now=NOW)
    assert request is not None
    for amount in (None, 400_000):
        change = decide(request, fund, outcome(amount=amount))
        done, new = change.request, change.fund
        assert done is not None and new is not None and change.outcome == "approved"
        assert done.status == "approved" and done.granted == usd(400_000) and done.decision_due_at is None
        assert balance_of(new) == (600_000, 400_000, 0, 0) and new.seq == 2
        assert entries_of(change) == [("reserved", 400_000)]
        entry = change.entries[0]
        assert entry.reference == Reference(type="request", id=request.request_id) and entry.actor == MARKETING
        assert (entry.available_after, entry.reserved_after, entry.paid_after) == (600_000, 400_000, 0)
        assert [(s.step, s.decision, s.by) for s in done.approvals] == [("Channel marketing", "approved", MARKETING)]
        assert change.guards == [f"reserve:{request.request_id}"]
        [event] = change.events
        assert isinstance(event, MdfRequestApproved)
        assert (event.granted, event.requested, event.approved_by, event.claim_due_at) == (
            usd(400_000),
            usd(400_000),
            [MARKETING],
            done.claim_due_at,
        )
        assert event.balance == Balance(available=usd(600_000), reserved=usd(400_000), paid=usd(0))


def test_a_partial_approval_reserves_exactly_the_granted_amount() -> None:
    fund = funded(1_000_000)
    change = decide(submitted(fund), fund, outcome(amount=250_001))
    assert change.request is not None and change.fund is not None
    assert change.request.granted == usd(250_001) and entries_of(change) == [("reserved", 250_001)]
    assert balance_of(change.fund) == (749_999, 250_001, 0, 0)
    assert change.request.timeline[-1].note == "Granted 2,500.01 USD of 4,000.00 USD asked"


def test_finance_after_marketing_grants_the_smaller_amount() -> None:
    fund = funded(1_000_000)
    request = submitted(fund)
    change = decide(request, fund, outcome(amount=300_000), outcome(by=FINANCE, amount=200_000, reason="Budget"))
    assert change.request is not None and change.fund is not None
    assert change.request.granted == usd(200_000) and balance_of(change.fund) == (800_000, 200_000, 0, 0)
    assert [(s.step, s.by, s.amount_minor) for s in change.request.approvals] == [
        ("Channel marketing", MARKETING, 300_000),
        ("Finance", FINANCE, 200_000),
    ]
    assert change.request.decision_reason == "Budget" and change.entries[0].actor == FINANCE
    assert isinstance(change.events[0], MdfRequestApproved) and change.events[0].approved_by == [MARKETING, FINANCE]


@pytest.mark.parametrize("finance_amount", [None, 300_001, 400_000])
def test_finance_never_grants_more_than_marketing(finance_amount: int | None) -> None:
    fund = funded(1_000_000)
    change = decide(submitted(fund), fund, outcome(amount=300_000), outcome(by=FINANCE, amount=finance_amount))
    assert change.request is not None and change.fund is not None
    assert change.request.granted == usd(300_000) and balance_of(change.fund) == (700_000, 300_000, 0, 0)


@pytest.mark.parametrize(
    ("marketing", "finance", "by", "reason"),
    [
        (outcome(amount=300_000), outcome("rejected", by=FINANCE, reason="No budget left"), FINANCE, "No budget left"),
        (outcome("rejected", reason="Not a fit"), None, MARKETING, "Not a fit"),
    ],
)
def test_a_rejection_reserves_nothing(marketing: Outcome, finance: Outcome | None, by: str, reason: str) -> None:
    fund = funded(1_000_000)
    change = decide(submitted(fund), fund, marketing, finance)
    assert change.request is not None and change.outcome == "rejected"
    assert change.fund is None and change.entries == [] and change.guards == []
    assert (change.request.status, change.request.decision_reason, change.request.granted) == ("rejected", reason, None)
    [event] = change.events
    assert isinstance(event, MdfRequestRejected) and (event.decided_by, event.reason) == (by, reason)


def test_a_stale_round_or_a_second_delivery_changes_nothing() -> None:
    fund = funded(1_000_000)
    request = submitted(fund)
    stale = requests.decide_request(
        request, request_decision(request, outcome(), round_=2), fund, claim_due_days=60, now=NOW, new_id=ids
    )
    assert nothing_changed(stale) and stale.outcome == "stale decision"
    first = decide(request, fund, outcome())
    assert first.request is not None and first.fund is not None
    for settled in (first.request, first.request.model_copy(update={"status": "rejected"})):
        again = decide(settled, first.fund, outcome())
        assert nothing_changed(again) and again.outcome == "stale decision"


def test_approval_without_the_money_left_rejects_and_books_nothing() -> None:
    fund = funded(1_000_000)
    request = submitted(fund)
    others, _ = booked(fund, "reserved", 900_001)  # another request took most of it meanwhile
    change = decide(request, others, outcome(amount=100_000))
    assert change.request is not None and change.outcome == "insufficient_funds"
    assert change.fund is None and change.entries == [] and change.request.status == "rejected"
    assert change.request.decision_reason == (
        "Approved for 1,000.00 USD, but the fund has only 999.99 USD available now; revise the request."
    )
    [event] = change.events
    assert isinstance(event, MdfRequestRejected) and event.decided_by == ledger.LEDGER_ACTOR
    gone = decide(request, closed(fund), outcome())
    assert gone.outcome == "insufficient_funds" and gone.fund is None and gone.request is not None
    assert "only 0.00 USD available" in str(gone.request.decision_reason)  # a closed fund has nothing to give
    exact = decide(request, others, outcome(amount=99_999))  # exactly what is left is fine
    assert exact.fund is not None and balance_of(exact.fund) == (0, 1_000_000, 0, 0)


def test_a_grant_above_the_requested_amount_is_capped() -> None:
    fund = funded(1_000_000)
    change = decide(submitted(fund), fund, outcome(amount=900_000))
    assert change.request is not None and change.fund is not None
    assert change.request.granted == usd(400_000) and balance_of(change.fund) == (600_000, 400_000, 0, 0)


def test_claim_due_is_the_end_of_ends_on_plus_due_days_within_the_claim_window() -> None:
    fund = funded(1_000_000)
    request = submitted(fund)  # the activity ends on 10 Dec 2026
    change = decide(request, fund, outcome(), days=60)
    assert change.request is not None
    assert change.request.claim_due_at == datetime(2027, 2, 8, 23, 59, 59, tzinfo=UTC)
    capped = decide(request, fund, outcome(), days=90)  # 10 Mar 2027 would be after the window
    assert capped.request is not None and capped.request.claim_due_at == WINDOW_ENDS


# ------------------------------------------------------------------ claims: filing


def test_a_claim_is_filed_once_the_activity_ended_and_before_it_is_due() -> None:
    request, _ = approved(400_000)
    change = file_claim(request, 400_000, now=datetime(2026, 12, 10, 0, 0, tzinfo=UTC))  # ends_on itself
    claimed_request = change.request
    assert claimed_request is not None and claimed_request.claim is not None
    assert change.fund is None and change.entries == []  # filing moves no money
    assert claimed_request.status == "claimed" and claimed_request.claim.status == "submitted"
    assert claimed_request.claim.round == 1 and claimed_request.claim.amount_spent == usd(400_000)
    assert claimed_request.timeline[-1].note == "Claimed 4,000.00 USD with 1 proof file"
    [event] = change.events
    assert isinstance(event, MdfClaimSubmitted)
    assert (event.round, event.amount_spent, event.proof_files, event.fund_id) == (1, usd(400_000), 1, "FY27-Q1.USD")


def test_claim_timing_is_checked() -> None:
    request, _ = approved()
    with pytest.raises(InvalidState) as early:
        file_claim(request, 1, now=datetime(2026, 12, 9, 23, 59, 59, tzinfo=UTC))
    assert early.value.code == "activity_not_ended"
    assert request.claim_due_at is not None
    file_claim(request, 1, now=request.claim_due_at)  # the last second still counts
    with pytest.raises(InvalidState) as late:
        claims.ensure_can_claim(request, now=request.claim_due_at + timedelta(seconds=1))
    assert late.value.code == "claim_overdue"


def test_a_claim_is_only_for_an_approved_request() -> None:
    fund = funded()
    with pytest.raises(InvalidState) as refused:
        file_claim(submitted(fund), 1)
    assert refused.value.code == "invalid_state"
    request, _ = claimed()
    with pytest.raises(InvalidState):  # one claim under review at a time
        file_claim(request, 1)


def test_the_claimed_amount_and_currency_must_match_the_grant() -> None:
    request, _ = approved(300_000)
    with pytest.raises(ValidationFailed) as above:
        file_claim(request, 300_001)
    assert [(e.field, e.message) for e in above.value.errors] == [
        ("amount_spent.amount_minor", "exceeds the granted 3,000.00 USD")
    ]
    with pytest.raises(ValidationFailed) as other:
        file_claim(request, 1_000, currency="EUR")
    assert [e.field for e in other.value.errors] == ["amount_spent.currency"]
    assert file_claim(request, 300_000).request is not None


def test_a_returned_claim_may_be_resubmitted_as_the_next_round() -> None:
    request, fund = claimed(250_000)
    returned = decide_claim(request, fund, "returned")
    assert returned.request is not None
    refiled = file_claim(returned.request, 260_000)
    assert refiled.request is not None and refiled.request.claim is not None
    assert (refiled.request.claim.round, refiled.request.claim.status) == (2, "submitted")
    assert isinstance(refiled.events[0], MdfClaimSubmitted) and refiled.events[0].round == 2
    stale = claims.decide_claim(
        refiled.request, review(refiled.request, "approved", round_=1), fund, now=NOW, new_id=ids
    )
    assert nothing_changed(stale) and stale.outcome == "stale decision"
    paid = decide_claim(refiled.request, fund, "approved")
    assert paid.fund is not None and entries_of(paid) == [("paid", 260_000), ("released", 140_000)]


# ------------------------------------------------------------------ claims: the review


def test_full_approval_pays_the_spend_and_releases_the_rest() -> None:
    request, fund = claimed(spent=250_000, granted=400_000, allocated=1_000_000)
    assert balance_of(fund) == (600_000, 400_000, 0, 0)
    change = decide_claim(request, fund, "approved")
    new = change.fund
    assert new is not None and change.outcome == "paid"
    assert balance_of(new) == (750_000, 0, 250_000, 0)
    assert (new.released, new.allocated, new.seq) == (150_000, 1_000_000, 4)
    assert [
        (e.seq, e.kind, e.amount_minor, e.available_after, e.reserved_after, e.paid_after) for e in change.entries
    ] == [
        (3, "paid", 250_000, 600_000, 150_000, 250_000),
        (4, "released", 150_000, 750_000, 0, 250_000),
    ]
    reference = Reference(type="claim", id=f"{request.request_id}#1")
    assert all(e.reference == reference for e in change.entries) and change.entries[0].actor == MARKETING
    done = change.request
    assert done is not None and done.claim is not None
    assert (done.status, done.claim.status, done.claim.approved_amount) == ("paid", "approved", usd(250_000))
    assert done.timeline[-1].note == "Paid 2,500.00 USD; released 1,500.00 USD"
    approved_event, paid_event = change.events
    assert isinstance(approved_event, MdfClaimApproved) and approved_event.approved_amount == usd(250_000)
    assert isinstance(paid_event, MdfClaimPaid)
    assert (paid_event.amount, paid_event.released) == (usd(250_000), usd(150_000))
    assert paid_event.balance == Balance(available=usd(750_000), reserved=usd(0), paid=usd(250_000))
    assert change.guards == [f"settle:{request.request_id}"]


@pytest.mark.parametrize(
    ("approved_amount", "paid", "released"),
    [(200_000, 200_000, 200_000), (1, 1, 399_999), (250_000, 250_000, 150_000), (300_000, 250_000, 150_000)],
)
def test_partial_approval_pays_the_approved_amount_at_most_the_spend(
    approved_amount: int, paid: int, released: int
) -> None:
    request, fund = claimed(spent=250_000, granted=400_000)
    change = decide_claim(request, fund, "approved", amount=approved_amount)
    assert change.fund is not None and change.request is not None and change.request.claim is not None
    assert entries_of(change) == [("paid", paid), ("released", released)]
    assert balance_of(change.fund) == (600_000 + released, 0, paid, 0)
    assert change.request.claim.approved_amount == usd(paid)


def test_spending_all_of_the_grant_releases_nothing() -> None:
    request, fund = claimed(spent=400_000, granted=400_000)
    change = decide_claim(request, fund, "approved")
    assert change.fund is not None and change.request is not None
    assert entries_of(change) == [("paid", 400_000)] and balance_of(change.fund) == (600_000, 0, 400_000, 0)
    assert change.request.timeline[-1].note == "Paid 4,000.00 USD"
    assert isinstance(change.events[1], MdfClaimPaid) and change.events[1].released == usd(0)


def test_rejecting_a_claim_releases_all_of_the_grant() -> None:
    request, fund = claimed(spent=250_000, granted=400_000)
    change = decide_claim(request, fund, "rejected")
    assert change.fund is not None and change.request is not None and change.request.claim is not None
    assert change.outcome == "rejected" and entries_of(change) == [("released", 400_000)]
    assert balance_of(change.fund) == (1_000_000, 0, 0, 0) and change.fund.released == 400_000
    assert (change.request.status, change.request.claim.status, change.request.claim.reason) == (
        "claim_rejected",
        "rejected",
        "See notes",
    )
    assert [type(e) for e in change.events] == [MdfClaimRejected]


def test_returning_a_claim_keeps_the_reservation() -> None:
    request, fund = claimed()
    change = decide_claim(request, fund, "returned")
    assert change.fund is None and change.entries == [] and change.outcome == "returned"
    assert change.request is not None and change.request.claim is not None
    assert (change.request.status, change.request.claim.status) == ("claimed", "returned")
    assert [type(e) for e in change.events] == [MdfClaimReturned]
    assert requests.next_step(change.request)[0] == "Add the requested proof and resubmit the claim"


def test_a_release_on_a_closed_fund_expires_at_once() -> None:
    request, fund = claimed(spent=250_000, granted=400_000, allocated=1_000_000)
    fund = closed(fund)
    assert balance_of(fund) == (0, 400_000, 0, 600_000)
    change = decide_claim(request, fund, "approved")
    assert change.fund is not None
    assert entries_of(change) == [("paid", 250_000), ("released", 150_000), ("expired", 150_000)]
    assert balance_of(change.fund) == (0, 0, 250_000, 750_000) and change.fund.status == "closed"
    assert [type(e) for e in change.events] == [MdfClaimApproved, MdfClaimPaid, MdfFundsExpired]
    expired = change.events[2]
    assert isinstance(expired, MdfFundsExpired)
    assert (expired.amount, expired.reason, expired.claim_window_ended_at) == (
        usd(150_000),
        "released_after_close",
        WINDOW_ENDS,
    )
    assert expired.balance == Balance(available=usd(0), reserved=usd(0), paid=usd(250_000))

    rejected = decide_claim(request, fund, "rejected")
    assert rejected.fund is not None and entries_of(rejected) == [("released", 400_000), ("expired", 400_000)]
    assert balance_of(rejected.fund) == (0, 0, 0, 1_000_000)
    assert [type(e) for e in rejected.events] == [MdfClaimRejected, MdfFundsExpired]


def test_a_claim_decision_for_another_round_or_state_changes_nothing() -> None:
    request, fund = claimed()
    stale = claims.decide_claim(request, review(request, "approved", round_=2), fund, now=NOW, new_id=ids)
    assert nothing_changed(stale) and stale.outcome == "stale decision"
    paid = decide_claim(request, fund, "approved")
    assert paid.request is not None and paid.fund is not None
    again = decide_claim(paid.request, paid.fund, "approved")
    assert nothing_changed(again) and again.outcome == "stale decision"


# ------------------------------------------------------------------ claims: the deadline


def test_an_approved_request_without_a_claim_lapses_at_the_due_date() -> None:
    request, fund = approved(400_000)
    assert request.claim_due_at is not None
    early = claims.claim_deadline(request, fund, now=request.claim_due_at - timedelta(seconds=1), new_id=ids)
    assert nothing_changed(early) and early.outcome == "not yet due"
    change = claims.claim_deadline(request, fund, now=request.claim_due_at, new_id=ids)
    assert change.fund is not None and change.request is not None and change.outcome == "lapsed"
    assert entries_of(change) == [("released", 400_000)]
    assert change.entries[0].reference == Reference(type="request", id=request.request_id)
    assert balance_of(change.fund) == (1_000_000, 0, 0, 0) and change.request.status == "lapsed"
    assert change.guards == [f"settle:{request.request_id}"]


def test_a_returned_claim_not_resubmitted_lapses_too() -> None:
    request, fund = claimed(granted=300_000)
    returned = decide_claim(request, fund, "returned").request
    assert returned is not None and returned.claim_due_at is not None
    change = claims.claim_deadline(returned, fund, now=returned.claim_due_at, new_id=ids)
    assert change.outcome == "lapsed" and entries_of(change) == [("released", 300_000)]


def test_nothing_is_due_for_a_claim_under_review_or_settled() -> None:
    request, fund = claimed()
    assert request.claim_due_at is not None
    later = request.claim_due_at + timedelta(days=1)
    under_review = claims.claim_deadline(request, fund, now=later, new_id=ids)
    assert nothing_changed(under_review) and under_review.outcome == "nothing due"
    paid = decide_claim(request, fund, "approved").request
    assert paid is not None and claims.claim_deadline(paid, fund, now=later, new_id=ids).outcome == "nothing due"


# ------------------------------------------------------------------ fund expiry


def test_expiry_expires_exactly_the_available_amount_and_keeps_reservations() -> None:
    _, fund = approved(400_000, allocated=1_000_001)
    early = ledger.expire_fund(fund, now=WINDOW_ENDS - timedelta(seconds=1), new_id=ids)
    assert nothing_changed(early) and early.outcome == "not yet due"
    change = ledger.expire_fund(fund, now=WINDOW_ENDS, new_id=ids)
    new = change.fund
    assert new is not None and change.outcome == "expired"
    assert new.status == "closed" and balance_of(new) == (0, 400_000, 0, 600_001) and new.seq == 3
    assert entries_of(change) == [("expired", 600_001)]
    assert change.entries[0].reference == Reference(type="fund", id="FY27-Q1.USD")
    [event] = change.events
    assert isinstance(event, MdfFundsExpired)
    assert (event.amount, event.reason, event.claim_window_ended_at) == (
        usd(600_001),
        "claim_window_ended",
        WINDOW_ENDS,
    )
    assert event.balance == Balance(available=usd(0), reserved=usd(400_000), paid=usd(0))
    again = ledger.expire_fund(new, now=WINDOW_ENDS + timedelta(days=1), new_id=ids)
    assert nothing_changed(again) and again.outcome == "already closed"


def test_a_fund_with_nothing_available_closes_without_an_entry() -> None:
    _, fund = approved(400_000, allocated=400_000)
    change = ledger.expire_fund(fund, now=WINDOW_ENDS, new_id=ids)
    assert change.fund is not None and change.outcome == "closed"
    assert change.fund.status == "closed" and change.fund.seq == fund.seq
    assert balance_of(change.fund) == (0, 400_000, 0, 0) and change.entries == [] and change.events == []


# ------------------------------------------------------------------ proof files


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        (XLSX, b"PK\x03\x04\x14\x00\x06\x00"),
        ("text/csv", "name,city\nZoë,Zürich\n".encode()),
    ],
)
def test_proof_with_the_right_signature_is_accepted(content_type: str, head: bytes) -> None:
    kwargs = {"content_type": content_type, "head": head, "max_bytes": 20 * 1024 * 1024}
    assert proof_rules.proof_problem(upload(content_type), size=1_000, **kwargs) is None
    assert proof_rules.proof_problem(upload(content_type), size=1, **kwargs) is None
    assert proof_rules.proof_problem(upload(content_type), size=20 * 1024 * 1024, **kwargs) is None


@pytest.mark.parametrize(
    ("content_type", "head", "problem"),
    [
        ("application/pdf", b"\x89PNG\r\n\x1a\n", "is not a valid PDF file"),
        ("image/png", b"%PDF-1.7", "is not a valid PNG file"),
        ("image/jpeg", b"\xff\xd8", "is not a valid JPEG file"),
        (XLSX, b"PK\x05\x06", "is not a valid XLSX file"),
        ("application/pdf", b"", "is not a valid PDF file"),
        ("text/csv", b"name,city\nA,\x00B\n", "is not a text (CSV) file"),
        ("text/csv", b"name,city\n\xff\xfeA,B\n", "is not UTF-8 text (CSV)"),
        ("text/csv", b"name,city\nZ\xc3(rich\n", "is not UTF-8 text (CSV)"),
        ("text/csv", b"name,city\nA,B\xff", "is not UTF-8 text (CSV)"),  # an invalid byte, not a cut character
        ("text/csv", b"name,city\nA,\xf0\x9f\x98\x80\xff", "is not UTF-8 text (CSV)"),
    ],
)
def test_proof_with_the_wrong_bytes_is_refused(content_type: str, head: bytes, problem: str) -> None:
    found = proof_rules.proof_problem(
        upload(content_type), size=1_000, content_type=content_type, head=head, max_bytes=2_000
    )
    assert found == problem


@pytest.mark.parametrize("cut", [b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"])
def test_a_multibyte_character_cut_at_the_end_of_the_sample_is_fine(cut: bytes) -> None:
    head = b"name,amount\nZo\xc3\xab,\xe2\x82\xac5\n" + cut
    assert (
        proof_rules.proof_problem(upload("text/csv"), size=9_999, content_type="text/csv", head=head, max_bytes=10_000)
        is None
    )


def test_proof_type_and_size_must_match_the_upload() -> None:
    pdf = upload("application/pdf")
    head, max_bytes = b"%PDF-1.4", 20 * 1024 * 1024
    assert proof_rules.proof_problem(pdf, size=10, content_type="image/png", head=head, max_bytes=max_bytes) == (
        "was uploaded as image/png, not application/pdf"
    )
    assert proof_rules.proof_problem(pdf, size=10, content_type="", head=head, max_bytes=max_bytes) == (
        "was uploaded as an unknown type, not application/pdf"
    )
    for size in (0, max_bytes + 1):
        assert proof_rules.proof_problem(
            pdf, size=size, content_type="application/pdf", head=head, max_bytes=max_bytes
        ) == (f"is {size} bytes; proof files must be 1 byte to 20 MB")


@pytest.mark.parametrize(
    "file_name",
    ["../../etc/passwd", "a/../b.pdf", "..\\..\\boot.ini", "report..final.pdf", "....", "/", "..", "x" * 300 + ".pdf"],
)
def test_proof_keys_stay_under_the_partner_request_and_file_prefix(file_name: str) -> None:
    key = proof_keys.proof_key(PARTNER, "mdfreq_1", "file_" + "a" * 26, file_name)
    prefix = f"proofs/{PARTNER}/mdfreq_1/file_{'a' * 26}/"
    assert key.startswith(prefix)
    name = key.removeprefix(prefix)
    assert name and "/" not in name and "\\" not in name and ".." not in key and len(name) <= 100
    assert proof_keys.proof_key(PARTNER, "mdfreq_1", "file_1", "Invoice 12 (final).pdf").endswith(
        "/Invoice_12_final_.pdf"
    )


# ------------------------------------------------------------------ timers


def test_fund_schedule_warns_before_the_window_ends_then_expires() -> None:
    fund = funded()
    offsets = [7 * 86_400, 30 * 86_400, 120 * 86_400]  # 120 days before the end is already past
    schedule = [timer.wire() for timer in timers.fund_schedule(fund, offsets, NOW)]  # as the timers get them
    assert [(at, message["message_type"], message["days_left"]) for at, message in schedule] == [
        ("2027-01-29T00:00:00Z", "MdfFundExpiryWarning", 30),
        ("2027-02-21T00:00:00Z", "MdfFundExpiryWarning", 7),
        ("2027-02-28T00:00:00Z", "MdfFundExpiry", 0),
    ]
    for _, message in schedule:
        assert message["claim_window_ends_at"] == "2027-02-28T00:00:00Z"  # to the second, as timers carry it
        timer = workflow_message(message)  # exactly the fields of docs/mdf.md, nothing more
        assert isinstance(timer, FundExpiryWarning | FundExpiry)
        assert (timer.partner_id, timer.fund_id, timer.claim_window_ends_at) == (PARTNER, "FY27-Q1.USD", WINDOW_ENDS)
    late = timers.fund_schedule(fund, offsets, WINDOW_ENDS - timedelta(days=1))
    assert [t.wire()[1]["message_type"] for t in late] == ["MdfFundExpiry"]


def test_claim_schedule_reminds_before_the_due_date_then_ends() -> None:
    request, _ = approved()
    schedule = [timer.wire() for timer in timers.claim_schedule(request, [7 * 86_400], NOW)]
    assert schedule == [
        (
            "2027-02-01T23:59:59Z",
            {
                "request_id": request.request_id,
                "claim_due_at": "2027-02-08T23:59:59Z",
                "message_type": "MdfClaimReminder",
                "days_left": 7,
            },
        ),
        (
            "2027-02-08T23:59:59Z",
            {
                "request_id": request.request_id,
                "claim_due_at": "2027-02-08T23:59:59Z",
                "message_type": "MdfClaimDeadline",
                "days_left": 0,
            },
        ),
    ]
    assert [type(workflow_message(message)) for _, message in schedule] == [ClaimReminder, ClaimDeadline]
    assert len(timers.claim_schedule(request, [7 * 86_400], datetime(2027, 2, 2, tzinfo=UTC))) == 1


# ------------------------------------------------------------------ the invariant under random operations


class Ledgers:
    """Every fund the random run touched, with all of its entries, and every request."""

    def __init__(self) -> None:
        self.funds: dict[str, Fund] = {}
        self.entries: dict[str, list[LedgerEntry]] = {}
        self.requests: dict[str, FundRequest] = {}
        self.expiries: Counter[str] = Counter()
        self.wins: dict[tuple[str, int], WinAccrual] = {}

    def apply(self, change: Change) -> None:
        if change.win is not None:
            self.wins[change.win.deal_id, change.win.win_revision] = change.win
        if change.fund is None:
            assert change.entries == []
        else:
            key = change.fund.fund_id
            before = self.funds[key].seq if key in self.funds else 0
            assert [e.seq for e in change.entries] == list(range(before + 1, change.fund.seq + 1))
            self.funds[key] = change.fund
            self.entries.setdefault(key, []).extend(change.entries)
        if change.request is not None:
            self.requests[change.request.request_id] = change.request
        self.expiries.update(e.reason for e in change.events if isinstance(e, MdfFundsExpired))

    def check(self) -> None:
        for key, fund in self.funds.items():
            assert fund.available >= 0 and fund.reserved >= 0
            assert fund.available + fund.reserved + fund.paid + fund.expired == (
                fund.allocated + fund.accrued + fund.adjusted - fund.accrual_reversed + fund.clawback_outstanding
            )
            sums = [0, 0, 0, 0]
            totals: Counter[str] = Counter()
            for number, entry in enumerate(self.entries[key], start=1):
                assert entry.seq == number and entry.amount_minor > 0 and entry.currency == fund.currency
                moved = entry.amount_minor - entry.clawback_minor - entry.from_expired_minor
                for i, sign in enumerate(EFFECT[entry.kind]):
                    sums[i] += sign * moved
                sums[3] -= entry.from_expired_minor  # a reversal takes back what had expired unused
                totals[entry.kind] += entry.amount_minor
                assert (entry.available_after, entry.reserved_after, entry.paid_after) == tuple(sums[:3])
            assert tuple(sums) == balance_of(fund) and fund.seq == len(self.entries[key])
            assert (fund.allocated, fund.accrued, fund.released, fund.accrual_reversed) == (
                totals["allocated"],
                totals["accrued"],
                totals["released"],
                totals["accrual_reversed"],
            )
            clawbacks = sum(e.clawback_minor for e in self.entries[key])
            assert fund.clawback_outstanding == clawbacks
            open_reservations = sum(
                r.granted.amount_minor
                for r in self.requests.values()
                if r.fund_id == key and r.status in ("approved", "claimed") and r.granted is not None
            )
            assert fund.reserved == open_reservations
            if fund.status == "closed":
                assert fund.available == 0


def test_random_operations_keep_every_fund_balanced() -> None:
    rng = random.Random(7)
    ledgers = Ledgers()
    opened = [period()]
    seen: Counter[str] = Counter()

    def current() -> tuple[Period, Fund | None]:
        return opened[-1], ledgers.funds.get(periods.fund_id(opened[-1].period_id, "USD"))

    def pick(*statuses: str, claim: str | None = None) -> FundRequest | None:
        found = [
            r
            for r in ledgers.requests.values()
            if r.status in statuses and (claim is None or (r.claim is not None and r.claim.status == claim))
        ]
        return rng.choice(found) if found else None

    def allocate() -> str:
        in_period, fund = current()
        if fund is not None and fund.status == "closed":
            with pytest.raises(InvalidState):
                ledger.allocate(
                    fund, in_period, partner_id=PARTNER, amount=usd(1), note="", actor=ADMIN, now=NOW, new_id=ids
                )
            opened.append(period(period_id=f"FY27-P{len(opened)}", name=f"Period {len(opened)}"))
            in_period, fund = current()
        amount = usd(rng.randint(1, 500_000))
        change = ledger.allocate(
            fund, in_period, partner_id=PARTNER, amount=amount, note="", actor=ADMIN, now=NOW, new_id=ids
        )
        ledgers.apply(change)
        return "allocated"

    def accrue() -> str:
        in_period, fund = current()
        change = ledger.accrue(fund, in_period, won(rng.randint(1, 2_000_000)), now=NOW, new_id=ids)
        ledgers.apply(change)
        return change.outcome

    def reverse() -> str:
        accrued = [w for w in ledgers.wins.values() if w.status == "accrued"]
        if not accrued:
            return "skipped"
        win = rng.choice(accrued)
        assert win.fund_id is not None
        event = reversal(win.deal_id, amount=win.amount_minor)
        change = ledger.reverse_accrual(win, ledgers.funds[win.fund_id], event, now=NOW, new_id=ids)
        ledgers.apply(change)
        again = ledger.reverse_accrual(
            ledgers.wins[win.deal_id, 1], ledgers.funds[win.fund_id], event, now=NOW, new_id=ids
        )
        assert nothing_changed(again) and again.outcome == "duplicate"
        [entry] = change.entries
        return "clawback" if entry.clawback_minor else "from_expired" if entry.from_expired_minor else change.outcome

    def submit_request() -> str:
        in_period, fund = current()
        if fund is None or fund.status != "open" or fund.available == 0:
            return "skipped"
        change = submit(
            fund, in_period=in_period, period_id=in_period.period_id, requested=money(rng.randint(1, fund.available))
        )
        ledgers.apply(change)
        return "submitted"

    def decide_request() -> str:
        request = pick("submitted", "under_review")
        if request is None:
            return "skipped"
        requested = request.requested.amount_minor
        amount = rng.choice([None, rng.randint(1, requested), requested + rng.randint(1, 1_000)])
        marketing = outcome(rng.choice(["approved", "approved", "approved", "rejected"]), amount=amount, reason="x")
        finance = None
        if marketing.decision == "approved" and rng.randrange(10) < 3:
            limit = amount if amount is not None and amount <= requested else requested
            finance = outcome(
                rng.choice(["approved", "rejected"]), by=FINANCE, amount=rng.choice([None, rng.randint(1, limit)])
            )
        fund = ledgers.funds.get(request.fund_id)
        change = decide(request, fund, marketing, finance)
        if change.request is not None and change.request.granted is not None:
            assert change.entries[0].amount_minor == change.request.granted.amount_minor <= requested
        ledgers.apply(change)
        twice = decide(ledgers.requests[request.request_id], ledgers.funds.get(request.fund_id), marketing, finance)
        assert nothing_changed(twice)
        return change.outcome

    def claim() -> str:
        request = pick("approved") or pick("claimed", claim="returned")
        if request is None or request.granted is None:
            return "skipped"
        ledgers.apply(file_claim(request, rng.randint(1, request.granted.amount_minor)))
        return "claimed"

    def decide_claim_() -> str:
        request = pick("claimed", claim="submitted")
        if request is None or request.claim is None:
            return "skipped"
        spent = request.claim.amount_spent.amount_minor
        decision = rng.choice(["approved", "approved", "rejected", "returned"])
        amount = rng.choice([None, rng.randint(1, spent), spent + 1]) if decision == "approved" else None
        change = decide_claim(request, ledgers.funds[request.fund_id], decision, amount=amount)
        if change.outcome == "paid":
            assert request.granted is not None
            paid = sum(e.amount_minor for e in change.entries if e.kind == "paid")
            released = sum(e.amount_minor for e in change.entries if e.kind == "released")
            assert paid == min(amount or spent, spent) and paid + released == request.granted.amount_minor
        ledgers.apply(change)
        return change.outcome

    def lapse() -> str:
        request = pick("approved") or pick("claimed", claim="returned")
        if request is None or request.claim_due_at is None:
            return "skipped"
        change = claims.claim_deadline(request, ledgers.funds[request.fund_id], now=request.claim_due_at, new_id=ids)
        ledgers.apply(change)
        return change.outcome

    def expire() -> str:
        _, fund = current()
        if fund is None:
            return "skipped"
        change = ledger.expire_fund(fund, now=WINDOW_ENDS, new_id=ids)
        ledgers.apply(change)
        return change.outcome

    operations = [allocate, accrue, submit_request, decide_request, claim, decide_claim_, lapse, expire, reverse]
    weights = [14, 6, 22, 20, 14, 14, 5, 2, 6]
    for _ in range(500):
        operation = rng.choices(operations, weights)[0]
        seen[f"{operation.__name__}:{operation()}"] += 1
        ledgers.check()

    # The run went through every path it claims to test.
    for path in (
        "allocate:allocated",
        "accrue:accrued",
        "decide_request:approved",
        "decide_request:rejected",
        "decide_request:insufficient_funds",
        "decide_claim_:paid",
        "decide_claim_:rejected",
        "decide_claim_:returned",
        "lapse:lapsed",
        "expire:expired",
        "reverse:reversed",
        "reverse:from_expired",  # (a clawback of spent money has its own tests: reversals here rarely find one)
    ):
        assert seen[path] > 0, (path, seen)
    assert len(opened) > 1 and ledgers.expiries["claim_window_ended"] > 0
    assert ledgers.expiries["released_after_close"] > 0  # reservations settled after their fund closed


# ------------------------------------------------------------------ review fixes: deadlines, long timers, caps


def test_a_claim_returned_after_its_due_date_gets_time_to_resubmit_within_the_window() -> None:
    request, fund = claimed(granted=300_000)
    assert request.claim_due_at is not None
    late = request.claim_due_at + timedelta(days=3)  # the review ran past the due date
    change = claims.decide_claim(request, review(request, "returned"), fund, now=late, new_id=ids)
    returned = change.request
    assert returned is not None and returned.claim_due_at is not None
    assert returned.claim_due_at == min(late + claims.RESUBMIT_GRACE, fund.claim_window_ends_at)
    claims.ensure_can_claim(returned, now=late + timedelta(days=1))  # may resubmit, not `claim_overdue`
    # and never past the claim window: a return after the window leaves a due date that has passed (it lapses)
    after_window = fund.claim_window_ends_at + timedelta(days=1)
    closing = claims.decide_claim(request, review(request, "returned"), fund, now=after_window, new_id=ids)
    assert closing.request is not None and closing.request.claim_due_at == fund.claim_window_ends_at


def test_timers_further_than_an_execution_may_wait_renew_themselves() -> None:
    fund = funded(in_period=period(claim_window_ends_at=NOW + timedelta(days=500)))
    [renewal] = [timer.wire() for timer in timers.fund_schedule(fund, [2_592_000, 604_800], NOW)]
    assert renewal[1]["message_type"] == "MdfFundTimerRenewal"
    assert renewal[0] == timer_time(NOW + timers.MAX_TIMER)
    near = timers.fund_schedule(fund, [2_592_000, 604_800], NOW + timedelta(days=400))
    assert [t.wire()[1]["message_type"] for t in near] == [
        "MdfFundExpiryWarning",
        "MdfFundExpiryWarning",
        "MdfFundExpiry",
    ]


def test_a_fund_never_exceeds_the_largest_representable_balance() -> None:
    fund = funded(ledger.MAX_BALANCE)
    with pytest.raises(ValidationFailed) as refused:
        booked(fund, "allocated", 1)
    assert refused.value.errors[0].field == "amount.amount_minor"
