"""The ledger: a fund's running balance and the append-only entries that explain it (allocations, adjustments,
accruals from won deals and their reversals, releases and expiry). No entry may take `available` or `reserved` below
zero: a reversed accrual takes what `available` holds and records the rest as the fund's outstanding clawback."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from contracts.deals import DealWinReversed, DealWon
from contracts.mdf import (
    Balance,
    MdfAccrualReversed,
    MdfFundsAccrued,
    MdfFundsAdjusted,
    MdfFundsAllocated,
    MdfFundsExpired,
)
from mdf.domain.common import Change, InsufficientFunds, InvalidState, NewId, money, not_yet_due
from mdf.domain.periods import period_open
from mdf.models import EntryKind, Fund, LedgerEntry, Period, Reference, WinAccrual
from shared.errors import FieldError, ValidationFailed
from shared.events import EventDetail
from shared.money import Money, format_money

LEDGER_ACTOR = "MDF ledger"
# kind -> (change of available, change of reserved, change of paid, change of expired, running total it adds to)
_MOVES: dict[str, tuple[int, int, int, int, str | None]] = {
    "allocated": (1, 0, 0, 0, "allocated"),
    "accrued": (1, 0, 0, 0, "accrued"),
    "reserved": (-1, 1, 0, 0, None),
    "released": (1, -1, 0, 0, "released"),
    "paid": (0, -1, 1, 0, None),
    "expired": (-1, 0, 0, 1, None),
    "adjusted": (1, 0, 0, 0, "adjusted"),
    # from available what it holds, then from what expired unused, the rest is `clawback_outstanding` (book splits it)
    "accrual_reversed": (0, 0, 0, 0, "accrual_reversed"),
}
CREDITS_NEED_OPEN_FUND = frozenset({"allocated", "accrued", "reserved", "adjusted"})
MAX_BALANCE = 10**15  # the largest Money amount: every published balance must stay representable
Event = TypeVar("Event", bound=EventDetail)


def open_fund(partner_id: str, period: Period, currency: str, now: datetime) -> Fund:
    return Fund(
        partner_id=partner_id,
        period_id=period.period_id,
        period_name=period.name,
        currency=currency,
        claim_window_ends_at=period.claim_window_ends_at,
        opened_at=now,
        updated_at=now,
    )


def book(
    fund: Fund, kind: EntryKind, amount: int, *, reference: Reference, actor: str, note: str, now: datetime
) -> tuple[Fund, LedgerEntry]:
    """One ledger entry and the running balance after it; never lets available or reserved go below zero."""
    if kind != "adjusted" and amount <= 0:
        raise ValueError(f"a {kind} entry needs a positive amount, not {amount}")
    if kind in CREDITS_NEED_OPEN_FUND and fund.status != "open":
        raise InvalidState(f"The fund {fund.fund_id} has closed.", code="fund_closed")
    d_available, d_reserved, d_paid, d_expired, total = _MOVES[kind]
    changes: dict[str, Any] = {
        "available": fund.available + d_available * amount,
        "reserved": fund.reserved + d_reserved * amount,
        "paid": fund.paid + d_paid * amount,
        "expired": fund.expired + d_expired * amount,
        "seq": fund.seq + 1,
        "updated_at": now,
    }
    if total:
        changes[total] = getattr(fund, total) + amount
    from_expired = clawback = 0
    if kind == "accrual_reversed":
        from_available = min(fund.available, amount)
        from_expired = min(fund.expired, amount - from_available)  # expired unused: it went back to the vendor
        clawback = amount - from_available - from_expired  # reserved or spent: owed, never dropped
        changes["available"] = fund.available - from_available
        changes["expired"] = fund.expired - from_expired
        changes["clawback_outstanding"] = fund.clawback_outstanding + clawback
    if changes["available"] < 0 or changes["reserved"] < 0:
        raise InsufficientFunds(f"{kind} {amount} on {fund.fund_id}")
    if any(abs(value) > MAX_BALANCE for key, value in changes.items() if isinstance(value, int)):
        raise ValidationFailed(
            "The fund would exceed the largest supported balance.",
            [FieldError("amount.amount_minor", f"a fund holds at most {MAX_BALANCE} minor units")],
        )
    after = fund.model_copy(update=changes)
    entry = LedgerEntry(
        seq=after.seq,
        kind=kind,
        amount_minor=amount,
        currency=fund.currency,
        at=now,
        reference=reference,
        note=note,
        actor=actor,
        available_after=after.available,
        reserved_after=after.reserved,
        paid_after=after.paid,
        from_expired_minor=from_expired,
        clawback_minor=clawback,
    )
    return after, entry


def balance(fund: Fund) -> Balance:
    return Balance(
        available=money(fund.available, fund.currency),
        reserved=money(fund.reserved, fund.currency),
        paid=money(fund.paid, fund.currency),
    )


def fund_event(kind: type[Event], fund: Fund, *, now: datetime, new_id: NewId, **fields: Any) -> Event:
    """An event about a fund: whose, which, and its balance after the change (every fund event carries them)."""
    return kind.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=fund.partner_id,
        fund_id=fund.fund_id,
        period_id=fund.period_id,
        balance=balance(fund),
        **fields,
    )


def _vendor_booking(
    fund: Fund | None,
    period: Period,
    kind: EntryKind,
    amount_minor: int,
    *,
    currency: str,
    partner_id: str,
    note: str,
    actor: str,
    now: datetime,
    new_id: NewId,
    event: type[MdfFundsAllocated] | type[MdfFundsAdjusted],
    details: dict[str, Any],
) -> Change:
    """What vendor staff decided (an allocation or an adjustment), booked on a fund of an open period, with its event
    (`details` and the reference id as `<reference type>_id`) and a guard on its reference."""
    if not period_open(period, now) or (fund is not None and fund.status != "open"):
        raise InvalidState(f"The period {period.period_id} has closed; the fund can no longer change.", "fund_closed")
    fund = fund or open_fund(partner_id, period, currency, now)
    allocation = kind == "allocated"
    reference = Reference(
        type="allocation" if allocation else "adjustment", id=new_id("alloc" if allocation else "adj")
    )
    try:
        fund, entry = book(fund, kind, amount_minor, reference=reference, actor=actor, note=note, now=now)
    except InsufficientFunds as error:
        available = format_money(money(fund.available, currency))
        raise ValidationFailed(
            "The adjustment would take the available balance below zero.",
            [FieldError("amount.amount_minor", f"at most {available} can be debited")],
        ) from error
    booked = fund_event(event, fund, now=now, new_id=new_id, **{f"{reference.type}_id": reference.id}, **details)
    return Change(fund=fund, entries=[entry], events=[booked], guards=[f"{reference.type}:{reference.id}"])


def allocate(
    fund: Fund | None,
    period: Period,
    *,
    partner_id: str,
    amount: Money,
    note: str,
    actor: str,
    now: datetime,
    new_id: NewId,
) -> Change:
    return _vendor_booking(
        fund,
        period,
        "allocated",
        amount.amount_minor,
        currency=amount.currency,
        partner_id=partner_id,
        note=note,
        actor=actor,
        now=now,
        new_id=new_id,
        event=MdfFundsAllocated,
        details={"amount": amount, "allocated_by": actor, "note": note},
    )


def adjust(
    fund: Fund | None,
    period: Period,
    *,
    partner_id: str,
    amount_minor: int,
    currency: str,
    note: str,
    actor: str,
    now: datetime,
    new_id: NewId,
) -> Change:
    """A vendor correction: credit or debit `available`; a debit may not take it below zero."""
    return _vendor_booking(
        fund,
        period,
        "adjusted",
        amount_minor,
        currency=currency,
        partner_id=partner_id,
        note=note,
        actor=actor,
        now=now,
        new_id=new_id,
        event=MdfFundsAdjusted,
        details={"amount_minor": amount_minor, "currency": currency, "adjusted_by": actor, "note": note},
    )


def accrual_guard(deal_id: str, win_revision: int) -> str:
    """The fund's guard on one win's accrual (a deal's first win keeps the key it had before wins had revisions)."""
    return f"accrual:{deal_id}" if win_revision == 1 else f"accrual:{deal_id}#{win_revision}"


def recorded_outcome(recorded: WinAccrual) -> str:
    """Why a DealWon whose (deal, revision) MDF already recorded accrues nothing now."""
    if recorded.status == "reversed" and recorded.fund_id is None:
        return f"not accrued: win {recorded.win_revision} was reversed before it arrived"
    return "duplicate"


def accrue(fund: Fund | None, period: Period | None, won: DealWon, *, now: datetime, new_id: NewId) -> Change:
    """Credit `floor(deal value * rate)` and record where this win (deal, revision) accrued; an empty Change (with
    the reason in `outcome`) when nothing is due."""
    if period is None:
        return Change(outcome=f"no period contains the close date {won.close_date}")
    if not period_open(period, now) or (fund is not None and fund.status != "open"):
        return Change(outcome=f"period {period.period_id} has closed")
    amount = won.amount.amount_minor * period.accrual_rate_bp // 10_000
    if amount <= 0:
        return Change(outcome=f"nothing to accrue at {period.accrual_rate_bp} bp")
    fund = fund or open_fund(won.partner_id, period, won.amount.currency, now)
    fund, entry = book(
        fund,
        "accrued",
        amount,
        reference=Reference(type="deal", id=won.deal_id),
        actor=LEDGER_ACTOR,
        note=f"{period.accrual_rate_bp / 100:g}% of {format_money(won.amount)} won"
        + (f" (win {won.win_revision}, corrected)" if won.win_revision > 1 else ""),
        now=now,
    )
    event = fund_event(
        MdfFundsAccrued,
        fund,
        now=now,
        new_id=new_id,
        deal_id=won.deal_id,
        deal_amount=won.amount,
        accrual_rate_bp=period.accrual_rate_bp,
        amount=money(amount, fund.currency),
    )
    win = WinAccrual(
        deal_id=won.deal_id,
        win_revision=won.win_revision,
        status="accrued",
        partner_id=won.partner_id,
        fund_id=fund.fund_id,
        amount_minor=amount,
        currency=fund.currency,
        accrued_at=now,
    )
    return Change(
        fund=fund,
        entries=[entry],
        events=[event],
        guards=[accrual_guard(won.deal_id, won.win_revision)],
        win=win,
        outcome="accrued",
    )


def reverse_accrual(
    recorded: WinAccrual | None, fund: Fund | None, reversal: DealWinReversed, *, now: datetime, new_id: NewId
) -> Change:
    """Take back what the reversed win accrued: from `available` first, then from what expired unused (a closed
    fund's); what the partner already reserved or spent becomes the fund's `clawback_outstanding` (no balance goes
    negative, and nothing is dropped).

    A reversal that arrives before its win records a tombstone instead, so the late DealWon accrues nothing."""
    if recorded is None:
        tombstone = WinAccrual(
            deal_id=reversal.deal_id,
            win_revision=reversal.win_revision,
            status="reversed",
            partner_id=reversal.partner_id,
            reversed_at=now,
            reversal_reason=reversal.reason,
        )
        return Change(win=tombstone, outcome="nothing accrued yet: the win will accrue nothing")
    if recorded.status == "reversed":
        return Change(outcome="duplicate")
    if fund is None or recorded.fund_id != fund.fund_id:
        raise LookupError(f"fund {recorded.fund_id} of {recorded.partner_id} not found")
    fund, entry = book(
        fund,
        "accrual_reversed",
        recorded.amount_minor,
        reference=Reference(type="deal", id=reversal.deal_id),
        actor=LEDGER_ACTOR,
        note=f"Win {reversal.win_revision} reversed by {reversal.reversed_by}: {reversal.reason}",
        now=now,
    )
    shortfall, from_expired = entry.clawback_minor, entry.from_expired_minor
    debited = recorded.amount_minor - shortfall - from_expired
    event = fund_event(
        MdfAccrualReversed,
        fund,
        now=now,
        new_id=new_id,
        deal_id=reversal.deal_id,
        win_revision=reversal.win_revision,
        reason=reversal.reason,
        reversed_by=reversal.reversed_by,
        accrued=money(recorded.amount_minor, fund.currency),
        debited=money(debited, fund.currency),
        from_expired=money(from_expired, fund.currency),
        shortfall=money(shortfall, fund.currency),
        clawback_outstanding=money(fund.clawback_outstanding, fund.currency),
    )
    win = recorded.model_copy(
        update={
            "status": "reversed",
            "reversed_at": now,
            "reversal_reason": reversal.reason,
            "debited_minor": debited,
            "from_expired_minor": from_expired,
            "shortfall_minor": shortfall,
        }
    )
    return Change(
        fund=fund,
        entries=[entry],
        events=[event],
        guards=[f"accrual_reversed:{reversal.deal_id}#{reversal.win_revision}"],
        win=win,
        win_status_read="accrued",
        outcome="reversed" if not shortfall else "reversed with a clawback outstanding",
    )


def _expired(fund: Fund, amount: int, reason: str, *, now: datetime, new_id: NewId) -> MdfFundsExpired:
    return fund_event(
        MdfFundsExpired,
        fund,
        now=now,
        new_id=new_id,
        amount=money(amount, fund.currency),
        reason=reason,
        claim_window_ended_at=fund.claim_window_ends_at,
    )


def release(fund: Fund, amount: int, reference: Reference, *, note: str, now: datetime, new_id: NewId) -> Change:
    """Give reserved money back; on a closed fund it expires at once (the claim window is over)."""
    change = Change()
    if amount <= 0:
        return change
    fund, entry = book(fund, "released", amount, reference=reference, actor=LEDGER_ACTOR, note=note, now=now)
    change.entries.append(entry)
    if fund.status == "closed":
        fund, expired = book(
            fund,
            "expired",
            amount,
            reference=reference,
            actor=LEDGER_ACTOR,
            note="Released after the fund closed",
            now=now,
        )
        change.entries.append(expired)
        change.events.append(_expired(fund, amount, "released_after_close", now=now, new_id=new_id))
    change.fund = fund
    return change


def expire_fund(fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """At the end of the claim window the fund closes and whatever is still available expires."""
    if fund.status != "open":
        return Change(outcome="already closed")
    if now < fund.claim_window_ends_at:
        return not_yet_due()
    closed = fund.model_copy(update={"status": "closed", "updated_at": now})
    change = Change(fund=closed, outcome="closed")
    if fund.available > 0:
        amount = fund.available
        closed, entry = book(
            closed,
            "expired",
            amount,
            reference=Reference(type="fund", id=fund.fund_id),
            actor=LEDGER_ACTOR,
            note="Claim window ended",
            now=now,
        )
        change.fund, change.entries, change.outcome = closed, [entry], "expired"
        change.events.append(_expired(closed, amount, "claim_window_ended", now=now, new_id=new_id))
    return change
