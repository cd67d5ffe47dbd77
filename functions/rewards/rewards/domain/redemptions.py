"""Redeeming a balance: a payout of a currency account, or a catalogue item for points. A redemption books
`redeemed` (available -> reserved); an item is then fulfilled (`paid`) or cancelled (released), a payout is decided by
finance (rules in `payouts`). Every rule returns a `RedemptionChange` that the repository writes in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.rewards import (
    PayoutApproved,
    PayoutHeld,
    PayoutPaid,
    RedemptionCancelled,
    RedemptionFulfilled,
    RedemptionRequested,
    RewardAmount,
)
from rewards.domain.ledger import book, new_account
from rewards.domain.payouts import approve_or_hold, approved, moved, tax_year
from rewards.models.common import POINTS
from rewards.models.earning import Account, EntryReference, LedgerEntry
from rewards.models.redemptions import (
    CatalogueItem,
    ItemRequest,
    PayeeYear,
    PayoutRequest,
    Redemption,
    Review,
    StatusChange,
)
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.events import EventDetail
from shared.money import format_amount

NewId = Callable[[str], str]
FINANCE_LAPSED = "Finance did not decide in time; the amount is available again."


class InvalidState(Conflict):
    def __init__(self, message: str, code: str = "invalid_state") -> None:
        super().__init__(message, code=code)


class OutOfStock(Conflict):
    def __init__(self, item_id: str) -> None:
        super().__init__(
            "The item is out of stock.",
            code="out_of_stock",
            errors=[FieldError("item_id", f"{item_id} is out of stock")],
        )


@dataclass
class RedemptionChange:
    """What a rule decided: the redemption, the account after its ledger entries (written on condition that the
    account is still at `account_seq`), the catalogue item's stock move, the payee's year and the events."""

    redemption: Redemption | None = None
    account: Account | None = None
    account_seq: int | None = None
    entries: list[LedgerEntry] = field(default_factory=list)
    stock_delta: int = 0  # -1: take one of the item (conditionally: only while in stock); +1: put it back
    year: PayeeYear | None = None
    events: list[EventDetail] = field(default_factory=list)
    outcome: str = ""


def _reference(redemption_id: str) -> EntryReference:
    return EntryReference(type="redemption", id=redemption_id)


def _amount(redemption: Redemption) -> RewardAmount:
    return RewardAmount(amount=redemption.amount, unit=redemption.unit)


def _redeem(
    account: Account | None,
    *,
    partner_id: str,
    person: str,
    unit: str,
    amount: int,
    now: datetime,
    new_id: NewId,
    item: CatalogueItem | None = None,
) -> RedemptionChange:
    redemption_id = new_id("rdm")
    read = account or new_account(partner_id, person, unit, now)
    words = format_amount(amount, unit) if unit != POINTS else f"{amount:,} points"
    note = f"Redeemed {words}" + (f" for {item.name}" if item else " as a payout")
    after, entry = book(read, "redeemed", amount, reference=_reference(redemption_id), actor=person, note=note, now=now)
    redemption = Redemption(
        redemption_id=redemption_id,
        partner_id=partner_id,
        person=person,
        kind="item" if item else "payout",
        unit=unit,
        amount=amount,
        item_id=item.item_id if item else None,
        item_name=item.name if item else None,
        status="requested",
        status_at=now,
        history=[StatusChange(status="requested", at=now, by=person)],
        requested_at=now,
    )
    event = RedemptionRequested.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        redemption_id=redemption_id,
        person_email=person,
        kind=redemption.kind,
        amount=_amount(redemption),
        item_id=redemption.item_id,
    )
    return RedemptionChange(
        redemption=redemption,
        account=after,
        account_seq=account.seq if account else None,
        entries=[entry],
        stock_delta=-1 if item else 0,
        events=[event],
        outcome="requested",
    )


def redeem_payout(
    account: Account | None,
    body: PayoutRequest,
    *,
    partner_id: str,
    person: str,
    minimum: int | None,
    now: datetime,
    new_id: NewId,
) -> RedemptionChange:
    """A payout of at least the currency's minimum from the person's own available balance in that currency."""
    currency, amount = body.amount.currency, body.amount.amount_minor
    if minimum is None:
        raise ValidationFailed(
            "Payouts are not offered in this currency.",
            [FieldError("amount.currency", f"payouts are not offered in {currency}")],
        )
    if amount < minimum:
        raise ValidationFailed(
            "The payout is below the minimum.",
            [FieldError("amount.amount_minor", f"the smallest payout is {format_amount(minimum, currency)}")],
        )
    return _redeem(account, partner_id=partner_id, person=person, unit=currency, amount=amount, now=now, new_id=new_id)


def redeem_item(
    account: Account | None,
    item: CatalogueItem | None,
    body: ItemRequest,
    *,
    partner_id: str,
    person: str,
    now: datetime,
    new_id: NewId,
) -> RedemptionChange:
    """A catalogue item for its cost in points (one of its stock: the write takes it only while stock lasts)."""
    if item is None or not item.active:
        raise NotFound("No such catalogue item.", code="item_not_found")
    if item.stock < 1:
        raise OutOfStock(item.item_id)
    return _redeem(
        account,
        partner_id=partner_id,
        person=person,
        unit=POINTS,
        amount=item.cost_points,
        now=now,
        new_id=new_id,
        item=item,
    )


def _release(
    redemption: Redemption,
    account: Account,
    status: str,
    *,
    reason: str,
    by: str,
    now: datetime,
    new_id: NewId,
) -> RedemptionChange:
    after, entry = book(
        account,
        "redemption_released",
        redemption.amount,
        reference=_reference(redemption.redemption_id),
        actor=by,
        note=reason,
        now=now,
    )
    event = RedemptionCancelled.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=redemption.partner_id,
        redemption_id=redemption.redemption_id,
        person_email=redemption.person,
        amount=_amount(redemption),
        reason=reason[:500],
        cancelled_by=by,
    )
    return RedemptionChange(
        redemption=moved(redemption, status, reason=reason, by=by, now=now),
        account=after,
        account_seq=account.seq,
        entries=[entry],
        stock_delta=1 if redemption.kind == "item" else 0,
        events=[event],
        outcome=status,
    )


def fulfil(redemption: Redemption, account: Account, *, by: str, now: datetime, new_id: NewId) -> RedemptionChange:
    """A vendor admin delivered the item: the points are spent (`paid`)."""
    if redemption.kind != "item":
        raise InvalidState("Only catalogue item redemptions are fulfilled; payouts are paid in a batch.", "not_an_item")
    if redemption.status == "fulfilled":
        return RedemptionChange(outcome="already fulfilled")  # a repeated request changes nothing
    if redemption.status != "requested":
        raise InvalidState(f"The redemption is {redemption.status}; only a requested one can be fulfilled.")
    after, entry = book(
        account,
        "paid",
        redemption.amount,
        reference=_reference(redemption.redemption_id),
        actor=by,
        note=f"Fulfilled: {redemption.item_name}",
        now=now,
    )
    assert redemption.item_id is not None
    event = RedemptionFulfilled.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=redemption.partner_id,
        redemption_id=redemption.redemption_id,
        person_email=redemption.person,
        item_id=redemption.item_id,
        amount=_amount(redemption),
        fulfilled_by=by,
    )
    return RedemptionChange(
        redemption=moved(redemption, "fulfilled", reason=None, by=by, now=now),
        account=after,
        account_seq=account.seq,
        entries=[entry],
        events=[event],
        outcome="fulfilled",
    )


CANCELLABLE = {"item": frozenset({"requested"}), "payout": frozenset({"requested", "on_hold"})}


def cancel(
    redemption: Redemption, account: Account, *, reason: str, by: str, now: datetime, new_id: NewId
) -> RedemptionChange:
    """A vendor admin cancels an item not yet fulfilled, or a payout not yet approved: the amount is available again
    (and the item back in stock)."""
    if redemption.status == "cancelled":
        return RedemptionChange(outcome="already cancelled")  # a repeated request changes nothing
    if redemption.status not in CANCELLABLE[redemption.kind]:
        raise InvalidState(f"The redemption is {redemption.status}; it can no longer be cancelled.")
    return _release(redemption, account, "cancelled", reason=reason, by=by, now=now, new_id=new_id)


# ------------------------------------------------------------------ payouts: finance's decision and payment
def _money_event(
    kind: type[PayoutApproved] | type[PayoutHeld], payout: Redemption, now: datetime, new_id: NewId, **fields: str
) -> EventDetail:
    return kind.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=payout.partner_id,
        redemption_id=payout.redemption_id,
        person_email=payout.person,
        amount=payout.money,
        **fields,
    )


def decide_payout(
    payout: Redemption,
    account: Account | None,
    year: PayeeYear,
    review: Review,
    *,
    form_on_file: bool,
    threshold: int | None,
    now: datetime,
    new_id: NewId,
) -> RedemptionChange:
    """Finance's decision, applied once: approve (or hold for a tax form), reject (released with the reason); a
    decision about a payout that is no longer waiting for one (cancelled meanwhile, or applied before) changes nothing."""
    if payout.kind != "payout" or payout.status != "requested":
        return RedemptionChange(outcome=f"stale decision: the payout is {payout.status}")
    by = review.decided_by
    if review.decision == "approved":
        decided, counted = approve_or_hold(payout, year, form_on_file=form_on_file, threshold=threshold, by=by, now=now)
        if counted is None:
            held = _money_event(PayoutHeld, decided, now, new_id, reason=decided.status_reason or "")
            return RedemptionChange(redemption=decided, events=[held], outcome="on_hold")
        event = _money_event(PayoutApproved, decided, now, new_id, approved_by=by)
        return RedemptionChange(redemption=decided, year=counted, events=[event], outcome="approved")
    if account is None:
        raise LookupError(f"the account of {payout.redemption_id} is missing")
    reason = review.reason or "Finance did not approve the payout."
    return _release(payout, account, "rejected", reason=reason, by=by, now=now, new_id=new_id)


def payout_lapsed(payout: Redemption, account: Account | None, *, now: datetime, new_id: NewId) -> RedemptionChange:
    """Nobody in finance decided in time: the amount is available again (the person may ask again)."""
    if payout.kind != "payout" or payout.status != "requested":
        return RedemptionChange(outcome=f"nothing to expire: the payout is {payout.status}")
    if account is None:
        raise LookupError(f"the account of {payout.redemption_id} is missing")
    return _release(payout, account, "expired", reason=FINANCE_LAPSED, by="rewards", now=now, new_id=new_id)


def release_hold(payout: Redemption, year: PayeeYear, *, by: str, now: datetime, new_id: NewId) -> RedemptionChange:
    """A tax form is on file now: a held payout is approved (and counted in the payee's year)."""
    if payout.status != "on_hold":
        return RedemptionChange(outcome=f"not held: the payout is {payout.status}")
    decided, counted = approved(payout, year, by=by, now=now, reason="tax form on file")
    event = _money_event(PayoutApproved, decided, now, new_id, approved_by=by)
    return RedemptionChange(redemption=decided, year=counted, events=[event], outcome="approved")


def mark_paid(
    payout: Redemption, account: Account, batch_id: str, *, by: str, now: datetime, new_id: NewId
) -> RedemptionChange:
    """A batched payout was paid: the reserved amount is spent (`paid`), once."""
    if payout.status == "paid":
        return RedemptionChange(outcome="already paid")
    if payout.status != "approved" or payout.batch_id != batch_id:
        raise InvalidState(f"The payout {payout.redemption_id} is {payout.status}, not approved in this batch.")
    after, entry = book(
        account,
        "paid",
        payout.amount,
        reference=EntryReference(type="payout", id=payout.redemption_id),
        actor=by,
        note=f"Paid in batch {batch_id}",
        now=now,
    )
    event = PayoutPaid.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=payout.partner_id,
        redemption_id=payout.redemption_id,
        batch_id=batch_id,
        person_email=payout.person,
        amount=payout.money,
        paid_at=now,
    )
    return RedemptionChange(
        redemption=moved(payout, "paid", reason=None, by=by, now=now),
        account=after,
        account_seq=account.seq,
        entries=[entry],
        events=[event],
        outcome="paid",
    )


def year_of(payout: Redemption, stored: PayeeYear | None, now: datetime) -> PayeeYear:
    """The payee's approved total this calendar year, in the payout's currency (zero when nothing was approved)."""
    return stored or PayeeYear(
        partner_id=payout.partner_id, person=payout.person, year=tax_year(now), currency=payout.unit
    )
