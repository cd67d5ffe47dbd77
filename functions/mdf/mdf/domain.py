"""MDF rules as pure functions: the ledger's arithmetic, requests, claims and their timers (no I/O).

Every amount is an int of minor units. A change to a fund returns the new fund and the ledger entries that explain
it; the repository writes both in one conditional transaction.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from contracts.deals import DealWon
from contracts.mdf import (
    Balance,
    MdfClaimApproved,
    MdfClaimPaid,
    MdfClaimRejected,
    MdfClaimReturned,
    MdfClaimSubmitted,
    MdfFundsAccrued,
    MdfFundsAdjusted,
    MdfFundsAllocated,
    MdfFundsExpired,
    MdfRequestApproved,
    MdfRequestRejected,
    MdfRequestSubmitted,
)
from mdf.models import (
    REVISABLE,
    ApprovalExpired,
    ApprovalStep,
    Claim,
    ClaimBody,
    ClaimDecision,
    EntryKind,
    Fund,
    FundRequest,
    FundRequestBody,
    LedgerEntry,
    Outcome,
    Period,
    PeriodBody,
    ProofFile,
    Reference,
    RequestDecision,
    TimelineEntry,
    Upload,
)
from shared.clock import timer_time
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.events import EventDetail
from shared.http import Principal
from shared.money import Money, format_money

NewId = Callable[[str], str]
LEDGER_ACTOR = "MDF ledger"


class InvalidState(Conflict):
    def __init__(self, message: str, code: str = "invalid_state") -> None:
        super().__init__(message, code=code)


class InsufficientFunds(Exception):
    """The entry would take `available` or `reserved` below zero."""


@dataclass
class Change:
    """What one rule decided: the records to write conditionally, the ledger entries and the events to publish."""

    request: FundRequest | None = None
    fund: Fund | None = None
    entries: list[LedgerEntry] = field(default_factory=list)
    events: list[EventDetail] = field(default_factory=list)
    guards: list[str] = field(default_factory=list)  # references that must never be booked twice
    outcome: str = ""


# ------------------------------------------------------------------ identities and periods
def fund_id(period_id: str, currency: str) -> str:
    return f"{period_id}.{currency}"


def parse_fund_id(value: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Z0-9][A-Z0-9-]{1,23})\.([A-Z]{3})", value or "")
    if not match:
        raise NotFound("No such fund.")
    return match.group(1), match.group(2)


def period_open(period: Period, now: datetime) -> bool:
    return now < period.claim_window_ends_at


def end_of(day: date) -> datetime:
    """The last instant of a UTC day, as the period and due dates mean it."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def new_period(body: PeriodBody, *, actor: str, now: datetime) -> Period:
    errors = []
    if body.ends_on < body.starts_on:
        errors.append(FieldError("ends_on", "must be on or after starts_on"))
    if body.claim_window_ends_at <= end_of(body.ends_on):
        errors.append(FieldError("claim_window_ends_at", "must be after the period ends"))
    if body.claim_window_ends_at <= now:
        errors.append(FieldError("claim_window_ends_at", "must be in the future"))
    if errors:
        raise ValidationFailed("The period's dates are inconsistent.", errors)
    return Period(**body.model_dump(), created_by=actor, created_at=now)


def ensure_no_overlap(period: Period, existing: Sequence[Period]) -> None:
    """Periods never overlap: a won deal's close date must name exactly one period to accrue into."""
    for other in existing:
        if other.starts_on <= period.ends_on and period.starts_on <= other.ends_on:
            raise Conflict(
                f"{period.period_id} would overlap {other.period_id} ({other.starts_on} to {other.ends_on}).",
                errors=[FieldError("starts_on", f"overlaps {other.period_id}")],
            )


def period_for(periods: Sequence[Period], day: date) -> Period | None:
    """The period whose dates contain `day` (periods never overlap)."""
    return next((p for p in periods if p.starts_on <= day <= p.ends_on), None)


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


# ------------------------------------------------------------------ the ledger
# kind -> (change of available, change of reserved, change of paid, change of expired, running total it adds to)
_MOVES: dict[str, tuple[int, int, int, int, str | None]] = {
    "allocated": (1, 0, 0, 0, "allocated"),
    "accrued": (1, 0, 0, 0, "accrued"),
    "reserved": (-1, 1, 0, 0, None),
    "released": (1, -1, 0, 0, "released"),
    "paid": (0, -1, 1, 0, None),
    "expired": (-1, 0, 0, 1, None),
    "adjusted": (1, 0, 0, 0, "adjusted"),
}
CREDITS_NEED_OPEN_FUND = frozenset({"allocated", "accrued", "reserved", "adjusted"})
MAX_BALANCE = 10**15  # the largest Money amount: every published balance must stay representable
RESUBMIT_GRACE = timedelta(days=14)  # time to add proof after a claim is returned, at least (within the window)
MAX_TIMER = timedelta(days=360)  # longer timers renew themselves: no schedule waits more than a year ahead


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
    )
    return after, entry


def balance(fund: Fund) -> Balance:
    def money(amount: int) -> Money:
        return Money(amount_minor=amount, currency=fund.currency)

    return Balance(available=money(fund.available), reserved=money(fund.reserved), paid=money(fund.paid))


def _money(amount: int, currency: str) -> Money:
    return Money(amount_minor=amount, currency=currency)


def _vendor_entry(
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
) -> tuple[Fund, LedgerEntry, str]:
    """Book what vendor staff decided (allocation or adjustment) on a fund of an open period; its reference id."""
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
        available = format_money(_money(fund.available, currency))
        raise ValidationFailed(
            "The adjustment would take the available balance below zero.",
            [FieldError("amount.amount_minor", f"at most {available} can be debited")],
        ) from error
    return fund, entry, reference.id


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
    fund, entry, allocation_id = _vendor_entry(
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
    )
    event = MdfFundsAllocated.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        fund_id=fund.fund_id,
        period_id=period.period_id,
        balance=balance(fund),
        allocation_id=allocation_id,
        amount=amount,
        allocated_by=actor,
        note=note,
    )
    return Change(fund=fund, entries=[entry], events=[event], guards=[f"allocation:{allocation_id}"])


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
    fund, entry, adjustment_id = _vendor_entry(
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
    )
    event = MdfFundsAdjusted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        fund_id=fund.fund_id,
        period_id=period.period_id,
        balance=balance(fund),
        adjustment_id=adjustment_id,
        amount_minor=amount_minor,
        currency=currency,
        adjusted_by=actor,
        note=note,
    )
    return Change(fund=fund, entries=[entry], events=[event], guards=[f"adjustment:{adjustment_id}"])


def accrue(fund: Fund | None, period: Period | None, won: DealWon, *, now: datetime, new_id: NewId) -> Change:
    """Credit `floor(deal value * rate)`; an empty Change (with the reason in `outcome`) when nothing is due."""
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
        note=f"{period.accrual_rate_bp / 100:g}% of {format_money(won.amount)} won",
        now=now,
    )
    event = MdfFundsAccrued.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=won.partner_id,
        fund_id=fund.fund_id,
        period_id=period.period_id,
        balance=balance(fund),
        deal_id=won.deal_id,
        deal_amount=won.amount,
        accrual_rate_bp=period.accrual_rate_bp,
        amount=_money(amount, fund.currency),
    )
    return Change(fund=fund, entries=[entry], events=[event], guards=[f"accrual:{won.deal_id}"], outcome="accrued")


def _release(fund: Fund, amount: int, reference: Reference, *, note: str, now: datetime, new_id: NewId) -> Change:
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
        change.events.append(
            MdfFundsExpired.occurred(
                at=now,
                event_id=new_id("evt"),
                partner_id=fund.partner_id,
                fund_id=fund.fund_id,
                period_id=fund.period_id,
                balance=balance(fund),
                amount=_money(amount, fund.currency),
                reason="released_after_close",
                claim_window_ended_at=fund.claim_window_ends_at,
            )
        )
    change.fund = fund
    return change


def expire_fund(fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """At the end of the claim window the fund closes and whatever is still available expires."""
    if fund.status != "open":
        return Change(outcome="already closed")
    if now < fund.claim_window_ends_at:
        return Change(outcome="not yet due")
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
        change.events.append(
            MdfFundsExpired.occurred(
                at=now,
                event_id=new_id("evt"),
                partner_id=fund.partner_id,
                fund_id=fund.fund_id,
                period_id=fund.period_id,
                balance=balance(closed),
                amount=_money(amount, fund.currency),
                reason="claim_window_ended",
                claim_window_ended_at=fund.claim_window_ends_at,
            )
        )
    return change


# ------------------------------------------------------------------ fund requests
def ensure_own(principal: Principal, request: FundRequest | None) -> FundRequest:
    """Another partner's request does not exist as far as this caller can tell."""
    if request is None or (request.partner_id != principal.partner_id and not principal.in_group("vendor-admin")):
        raise NotFound("No such fund request.")
    return request


def _timeline(request: FundRequest, now: datetime, status: str, note: str = "") -> list[TimelineEntry]:
    return [*request.timeline, TimelineEntry(at=now, status=status, note=note)]


def _check_request(
    body: FundRequestBody,
    period: Period | None,
    fund: Fund | None,
    *,
    lead_days: int,
    now: datetime,
    open_currencies: tuple[str, ...] = (),
) -> None:
    errors: list[FieldError] = []
    if period is None:
        raise ValidationFailed("Unknown programme period.", [FieldError("period_id", "no such period")])
    if not period_open(period, now):
        errors.append(FieldError("period_id", "this period has closed"))
    earliest = now.astimezone(UTC).date() + timedelta(days=lead_days)
    if body.starts_on < earliest:
        errors.append(FieldError("starts_on", f"must be on or after {earliest} ({lead_days} days ahead)"))
    if body.ends_on < body.starts_on:
        errors.append(FieldError("ends_on", "must be on or after starts_on"))
    if body.starts_on < period.starts_on or body.starts_on > period.ends_on:
        errors.append(FieldError("starts_on", f"must be within the period ({period.starts_on} to {period.ends_on})"))
    if body.ends_on > period.ends_on:
        errors.append(FieldError("ends_on", f"must be within the period (by {period.ends_on})"))
    currency = body.requested.currency
    if fund is None or fund.status != "open":
        # no balance to compare with: say so, and which currencies this partner can ask in for the period
        others = sorted(set(open_currencies) - {currency})
        if fund is None:
            what = f"you have no fund in {currency} for {period.period_id}"
        else:
            what = f"your {currency} fund for {period.period_id} is closed"
        hint = f"your open funds for this period are in {', '.join(others)}" if others else "you have none open"
        errors.append(FieldError("requested.currency", f"{what}; {hint}"))
    elif body.requested.amount_minor > fund.available:
        errors.append(
            FieldError(
                "requested.amount_minor",
                f"exceeds the available balance ({format_money(_money(fund.available, currency))})",
            )
        )
    if errors:
        raise ValidationFailed("The fund request cannot be accepted.", errors)


def submit(
    body: FundRequestBody,
    *,
    partner_id: str,
    user: str,
    period: Period | None,
    fund: Fund | None,
    lead_days: int,
    now: datetime,
    new_id: NewId,
    previous: FundRequest | None = None,
    open_currencies: tuple[str, ...] = (),
) -> Change:
    """A new request, or (with `previous`) a revision of a rejected or expired one: the next round.

    `open_currencies`: the currencies of the partner's open funds in the period (named when the one asked in has none).
    """
    _check_request(body, period, fund, lead_days=lead_days, now=now, open_currencies=open_currencies)
    if previous is not None and previous.status not in REVISABLE:
        raise InvalidState(f"Only a rejected or expired request can be revised; this one is {previous.status}.")
    fields = body.model_dump(exclude={"requested", "expected_outcome"})
    common: dict[str, Any] = fields | {
        "requested": body.requested,
        "expected_outcome": body.expected_outcome,
        "status": "submitted",
        "submitted_by": user,
        "submitted_at": now,
        "decision_due_at": None,
        "decided_at": None,
        "decision_reason": None,
        "granted": None,
    }
    if previous is None:
        request = FundRequest(
            request_id=new_id("mdfreq"),
            partner_id=partner_id,
            timeline=[TimelineEntry(at=now, status="submitted")],
            **common,
        )
    else:
        request = previous.model_copy(
            update=common
            | {
                "round": previous.round + 1,
                "approvals": [],
                "revision": previous.revision + 1,
                "timeline": _timeline(previous, now, "submitted", f"Revised (round {previous.round + 1})"),
            }
        )
    event = MdfRequestSubmitted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        request_id=request.request_id,
        round=request.round,
        fund_id=request.fund_id,
        period_id=request.period_id,
        activity_type=request.activity_type,
        title=request.title,
        starts_on=request.starts_on,
        ends_on=request.ends_on,
        requested=request.requested,
        submitted_by=user,
    )
    return Change(request=request, events=[event])


def under_review(request: FundRequest, *, decision_due_at: datetime, now: datetime) -> FundRequest | None:
    if request.status != "submitted":
        return None
    return request.model_copy(
        update={
            "status": "under_review",
            "decision_due_at": decision_due_at,
            "revision": request.revision + 1,
            "timeline": _timeline(request, now, "under_review", "Channel marketing is reviewing"),
        }
    )


def _step(name: str, outcome: Outcome, now: datetime) -> ApprovalStep:
    return ApprovalStep(
        step=name,
        decision=outcome.decision,
        by=outcome.decided_by,
        amount_minor=outcome.amount_minor,
        reason=outcome.reason,
        at=outcome.decided_at or now,
    )


def claim_due(request: FundRequest, *, claim_due_days: int, window_ends_at: datetime) -> datetime:
    return min(end_of(request.ends_on + timedelta(days=claim_due_days)), window_ends_at)


def decide_request(
    request: FundRequest,
    decision: RequestDecision,
    fund: Fund | None,
    *,
    claim_due_days: int,
    now: datetime,
    new_id: NewId,
) -> Change:
    """Apply the approval chain's outcome once: reserve what was granted, or reject (nothing is reserved)."""
    if decision.round != request.round or request.status not in ("submitted", "under_review"):
        return Change(outcome="stale decision")
    steps = [_step("Channel marketing", decision.marketing, now)]
    if decision.finance is not None:
        steps.append(_step("Finance", decision.finance, now))
    refusal = next((s for s in steps if s.decision != "approved"), None)
    base = {"approvals": steps, "decided_at": now, "decision_due_at": None, "revision": request.revision + 1}
    if refusal is None:
        # No step grants more than was asked or than the step before it (finance at most marketing's amount).
        granted = min([request.requested.amount_minor, *(s.amount_minor for s in steps if s.amount_minor is not None)])
        if fund is None or fund.status != "open" or fund.available < granted:
            available = fund.available if fund is not None and fund.status == "open" else 0
            reason = (
                f"Approved for {format_money(_money(granted, request.requested.currency))}, but the fund has only "
                f"{format_money(_money(available, request.requested.currency))} available now; revise the request."
            )
            return _reject(request, base, reason, "insufficient_funds", LEDGER_ACTOR, now, new_id)
        assert fund is not None
        fund, entry = book(
            fund,
            "reserved",
            granted,
            reference=Reference(type="request", id=request.request_id),
            actor=steps[-1].by,
            note=request.title,
            now=now,
        )
        due = claim_due(request, claim_due_days=claim_due_days, window_ends_at=fund.claim_window_ends_at)
        granted_money = _money(granted, request.requested.currency)
        note = f"Granted {format_money(granted_money)}" + (
            f" of {format_money(request.requested)} asked" if granted < request.requested.amount_minor else ""
        )
        approved = request.model_copy(
            update=base
            | {
                "status": "approved",
                "granted": granted_money,
                "decision_reason": steps[-1].reason,
                "claim_due_at": due,
                "timeline": _timeline(request, now, "approved", note),
            }
        )
        event = MdfRequestApproved.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            fund_id=fund.fund_id,
            period_id=fund.period_id,
            balance=balance(fund),
            request_id=request.request_id,
            round=request.round,
            requested=request.requested,
            granted=granted_money,
            approved_by=[s.by for s in steps],
            claim_due_at=due,
        )
        return Change(
            request=approved,
            fund=fund,
            entries=[entry],
            events=[event],
            guards=[f"reserve:{request.request_id}"],
            outcome="approved",
        )
    return _reject(request, base, refusal.reason or "Rejected.", "rejected", refusal.by, now, new_id)


def _reject(
    request: FundRequest, base: dict[str, Any], reason: str, outcome: str, by: str, now: datetime, new_id: NewId
) -> Change:
    rejected = request.model_copy(
        update=base
        | {"status": "rejected", "decision_reason": reason, "timeline": _timeline(request, now, "rejected", reason)}
    )
    event = MdfRequestRejected.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=request.partner_id,
        request_id=request.request_id,
        round=request.round,
        reason=reason,
        decided_by=by,
    )
    return Change(request=rejected, events=[event], outcome=outcome)


def approval_lapsed(request: FundRequest, message: ApprovalExpired, *, now: datetime) -> Change:
    if message.round != request.round or request.status not in ("submitted", "under_review"):
        return Change(outcome="stale")
    reason = "Nobody decided in time; revise and resubmit the request."
    expired = request.model_copy(
        update={
            "status": "expired",
            "decision_reason": reason,
            "decision_due_at": None,
            "revision": request.revision + 1,
            "timeline": _timeline(request, now, "expired", reason),
        }
    )
    return Change(request=expired, outcome="expired")


# ------------------------------------------------------------------ claims
PROOF_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


PROOF_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}


def proof_key(partner_id: str, request_id: str, file_id: str, file_name: str) -> str:
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", file_name)).strip("._")[:100] or "file"
    return f"proofs/{partner_id}/{request_id}/{file_id}/{safe}"


def proof_problem(upload: Upload, *, size: int, content_type: str, head: bytes, max_bytes: int) -> str | None:
    """Why an uploaded object is not acceptable proof, or None. The bytes are checked, not only the declared type."""
    if content_type != upload.content_type:
        return f"was uploaded as {content_type or 'an unknown type'}, not {upload.content_type}"
    if not 0 < size <= max_bytes:
        return f"is {size} bytes; proof files must be 1 byte to {max_bytes // (1024 * 1024)} MB"
    signatures = PROOF_SIGNATURES.get(content_type)
    if signatures is not None:
        if not any(head.startswith(s) for s in signatures):
            return f"is not a valid {PROOF_LABELS[content_type]} file"
    elif b"\x00" in head:
        return "is not a text (CSV) file"
    else:
        try:  # final=False: a multi-byte character cut at the end of the sample is fine, a bad byte is not
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return "is not UTF-8 text (CSV)"
    return None


def ensure_can_claim(request: FundRequest, *, now: datetime) -> None:
    reopened = request.status == "claimed" and request.claim is not None and request.claim.status == "returned"
    if request.status != "approved" and not reopened:
        raise InvalidState(f"A claim can be filed only on an approved request; this one is {request.status}.")
    if now.astimezone(UTC).date() < request.ends_on:
        raise InvalidState(f"File the claim once the activity has ended ({request.ends_on}).", "activity_not_ended")
    if request.claim_due_at is not None and now > request.claim_due_at:
        raise InvalidState(f"The claim was due by {timer_time(request.claim_due_at)}.", "claim_overdue")


def file_claim(
    request: FundRequest, body: ClaimBody, files: list[ProofFile], *, user: str, now: datetime, new_id: NewId
) -> Change:
    ensure_can_claim(request, now=now)
    granted = request.granted
    assert granted is not None
    errors = []
    if body.amount_spent.currency != granted.currency:
        errors.append(FieldError("amount_spent.currency", f"must be {granted.currency}, the granted currency"))
    elif body.amount_spent.amount_minor > granted.amount_minor:
        errors.append(FieldError("amount_spent.amount_minor", f"exceeds the granted {format_money(granted)}"))
    if errors:
        raise ValidationFailed("The claim cannot be accepted.", errors)
    round_ = request.claim.round + 1 if request.claim is not None else 1
    claim = Claim(
        status="submitted",
        round=round_,
        amount_spent=body.amount_spent,
        proof_files=files,
        results=body.results,
        notes=body.notes,
        submitted_by=user,
        submitted_at=now,
    )
    note = f"Claimed {format_money(body.amount_spent)} with {len(files)} proof file{'s' if len(files) != 1 else ''}"
    claimed = request.model_copy(
        update={
            "status": "claimed",
            "claim": claim,
            "revision": request.revision + 1,
            "timeline": _timeline(request, now, "claim_submitted", note),
        }
    )
    event = MdfClaimSubmitted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=request.partner_id,
        request_id=request.request_id,
        round=round_,
        fund_id=request.fund_id,
        amount_spent=body.amount_spent,
        proof_files=len(files),
        submitted_by=user,
    )
    return Change(request=claimed, events=[event])


def decide_claim(request: FundRequest, decision: ClaimDecision, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """Approve (book `paid`, release the unspent rest), reject (release all) or return the claim, once."""
    claim = request.claim
    if request.status != "claimed" or claim is None or claim.status != "submitted" or claim.round != decision.round:
        return Change(outcome="stale decision")
    review = decision.review
    granted = request.granted
    assert granted is not None
    reference = Reference(type="claim", id=f"{request.request_id}#{claim.round}")
    decided = {"decided_at": now, "decided_by": review.decided_by, "reason": review.reason}
    common = {"revision": request.revision + 1}
    if review.decision == "returned":
        reason = review.reason or "More proof is needed."
        # The partner gets time to add proof even when the review ran past the due date (never past the window).
        due = min(max(request.claim_due_at or now, now + RESUBMIT_GRACE), fund.claim_window_ends_at)
        returned = request.model_copy(
            update=common
            | {
                "claim": claim.model_copy(update=decided | {"status": "returned", "reason": reason}),
                "claim_due_at": due,
                "timeline": _timeline(request, now, "claim_returned", f"{reason} (resubmit by {timer_time(due)})"),
            }
        )
        event = MdfClaimReturned.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            request_id=request.request_id,
            round=claim.round,
            reason=reason,
            decided_by=review.decided_by,
        )
        return Change(request=returned, events=[event], outcome="returned")
    if review.decision == "rejected":
        reason = review.reason or "Rejected."
        change = _release(fund, granted.amount_minor, reference, note="Claim rejected", now=now, new_id=new_id)
        change.request = request.model_copy(
            update=common
            | {
                "status": "claim_rejected",
                "claim": claim.model_copy(update=decided | {"status": "rejected", "reason": reason}),
                "timeline": _timeline(request, now, "claim_rejected", reason),
            }
        )
        change.events.insert(
            0,
            MdfClaimRejected.occurred(
                at=now,
                event_id=new_id("evt"),
                partner_id=request.partner_id,
                request_id=request.request_id,
                round=claim.round,
                reason=reason,
                decided_by=review.decided_by,
            ),
        )
        change.guards, change.outcome = [f"settle:{request.request_id}"], "rejected"
        return change
    asked = review.amount_minor if review.amount_minor is not None else claim.amount_spent.amount_minor
    pay = min(asked, claim.amount_spent.amount_minor)
    pay = min(pay, granted.amount_minor)
    paid_fund, paid_entry = book(
        fund, "paid", pay, reference=reference, actor=review.decided_by, note="Claim approved", now=now
    )
    rest = granted.amount_minor - pay
    released = _release(paid_fund, rest, reference, note="Unspent reservation", now=now, new_id=new_id)
    final = released.fund or paid_fund
    paid_money, rest_money = _money(pay, granted.currency), _money(rest, granted.currency)
    note = f"Paid {format_money(paid_money)}" + (f"; released {format_money(rest_money)}" if rest else "")
    approved = request.model_copy(
        update=common
        | {
            "status": "paid",
            "claim": claim.model_copy(update=decided | {"status": "approved", "approved_amount": paid_money}),
            "timeline": _timeline(request, now, "paid", note),
        }
    )
    events: list[EventDetail] = [
        MdfClaimApproved.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            request_id=request.request_id,
            round=claim.round,
            amount_spent=claim.amount_spent,
            approved_amount=paid_money,
            approved_by=review.decided_by,
        ),
        MdfClaimPaid.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            fund_id=fund.fund_id,
            period_id=fund.period_id,
            balance=balance(final),
            request_id=request.request_id,
            amount=paid_money,
            released=rest_money,
        ),
        *released.events,
    ]
    return Change(
        request=approved,
        fund=final,
        entries=[paid_entry, *released.entries],
        events=events,
        guards=[f"settle:{request.request_id}"],
        outcome="paid",
    )


def claim_deadline(request: FundRequest, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """No (re)submitted claim by the due date: the request lapses and its reservation is released."""
    waiting = request.status == "approved" or (
        request.status == "claimed" and request.claim is not None and request.claim.status == "returned"
    )
    if not waiting or request.claim_due_at is None or request.granted is None:
        return Change(outcome="nothing due")
    if now < request.claim_due_at:
        return Change(outcome="not yet due")
    reference = Reference(type="request", id=request.request_id)
    change = _release(
        fund, request.granted.amount_minor, reference, note="No claim by the due date", now=now, new_id=new_id
    )
    change.request = request.model_copy(
        update={
            "status": "lapsed",
            "revision": request.revision + 1,
            "timeline": _timeline(request, now, "lapsed", "No claim was filed by the due date; funds released"),
        }
    )
    change.guards, change.outcome = [f"settle:{request.request_id}"], "lapsed"
    return change


# ------------------------------------------------------------------ what the partner sees next
def next_step(request: FundRequest) -> tuple[str, datetime | None]:
    claim = request.claim
    if request.status == "submitted":
        return "Awaiting review", None
    if request.status == "under_review":
        return "Decision due", request.decision_due_at
    if request.status == "approved":
        return "Run the activity, then file a claim with proof", request.claim_due_at
    if request.status in REVISABLE:
        return "Revise and resubmit if you wish", None
    if request.status == "claimed" and claim is not None and claim.status == "returned":
        return "Add the requested proof and resubmit the claim", request.claim_due_at
    if request.status == "claimed":
        return "Claim under review", None
    return "No further action", None


# ------------------------------------------------------------------ timers
def _days(seconds: int) -> int:
    return max(1, round(seconds / 86400))


def _schedule(
    ends: datetime, message: dict[str, Any], kinds: tuple[str, str, str], offsets: Sequence[int], now: datetime
) -> list[dict[str, Any]]:
    """Warnings `offsets` seconds before `ends` (skipping past ones, earliest first), then the final message.

    An end beyond what one execution may wait gets a single renewal message instead, which starts the next timer.
    """
    warning, final, renew = kinds
    if ends - now > MAX_TIMER:
        return [{"at": timer_time(now + MAX_TIMER), "message": message | {"message_type": renew, "days_left": 0}}]
    schedule = [
        {
            "at": timer_time(ends - timedelta(seconds=o)),
            "message": message | {"message_type": warning, "days_left": _days(o)},
        }
        for o in sorted(offsets, reverse=True)
        if ends - timedelta(seconds=o) > now
    ]
    return [*schedule, {"at": timer_time(ends), "message": message | {"message_type": final, "days_left": 0}}]


def fund_schedule(fund: Fund, offsets: Sequence[int], now: datetime) -> list[dict[str, Any]]:
    """Expiry warnings before the claim window ends, then the expiry itself."""
    ends = fund.claim_window_ends_at
    message = {"partner_id": fund.partner_id, "fund_id": fund.fund_id, "claim_window_ends_at": timer_time(ends)}
    return _schedule(ends, message, ("MdfFundExpiryWarning", "MdfFundExpiry", "MdfFundTimerRenewal"), offsets, now)


def claim_schedule(request: FundRequest, offsets: Sequence[int], now: datetime) -> list[dict[str, Any]]:
    """Claim reminders before the due date, then the deadline."""
    assert request.claim_due_at is not None
    message = {"request_id": request.request_id, "claim_due_at": timer_time(request.claim_due_at)}
    kinds = ("MdfClaimReminder", "MdfClaimDeadline", "MdfClaimTimerRenewal")
    return _schedule(request.claim_due_at, message, kinds, offsets, now)
