"""The rewards ledger: a person's account in one unit (its buckets) and the append-only entries that move amounts
between buckets. Every entry is numbered by the account's `seq` and carries the balances after it.

Only a reversal may take `available` below zero (the clawback of something already spent); a redemption is refused
while `available - amount < 0`, so a negative balance blocks redeeming until it is earned back. No other bucket may
ever go below zero."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewards.models.earning import Account, Balances, Bucket, EntryKind, EntryReference, LedgerEntry
from shared.errors import Conflict, FieldError
from shared.money import format_amount


def _words(amount: int, unit: str) -> str:
    """An amount as people read it (a clawback can make it negative)."""
    if unit == "points":
        return f"{amount:,} points"
    return ("-" if amount < 0 else "") + format_amount(abs(amount), unit)


__all__ = ["Account", "InsufficientBalance", "LedgerEntry", "book", "new_account"]

BUCKETS: tuple[str, ...] = (
    "pending",
    "on_hold",
    "approved",
    "available",
    "reserved",
    "paid",
    "declined",
    "reversed",
    "earned",
)
MAX_BALANCE = 10**15
# kind -> (the buckets it may take from (None: fixed), fixed source bucket, destination bucket)
_FROM: dict[str, frozenset[str]] = {
    "approved": frozenset({"pending", "on_hold"}),
    "declined": frozenset({"pending", "on_hold"}),
    "reversed": frozenset({"pending", "on_hold", "approved", "available"}),
}
_FIXED: dict[str, tuple[str | None, str]] = {
    "earned": (None, "pending"),
    "held": ("pending", "on_hold"),
    "unheld": ("on_hold", "pending"),
    "made_available": ("approved", "available"),
    "redeemed": ("available", "reserved"),
    "redemption_released": ("reserved", "available"),
    "paid": ("reserved", "paid"),
}
_DESTINATION = {"approved": "approved", "declined": "declined", "reversed": "reversed"}


class InsufficientBalance(Conflict):
    """The entry would take a bucket below zero (for a redemption: more than is available)."""

    def __init__(self, message: str, *, field: str = "amount") -> None:
        super().__init__(message, code="insufficient_balance", errors=[FieldError(field, message)])


def new_account(partner_id: str, person_email: str, unit: str, now: datetime) -> Account:
    return Account(partner_id=partner_id, person_email=person_email.lower(), unit=unit, updated_at=now)


def balances(account: Account) -> Balances:
    return Balances(**{bucket: getattr(account, bucket) for bucket in BUCKETS})


def moves(kind: EntryKind, bucket: Bucket | None) -> tuple[str | None, str]:
    """(the bucket the amount leaves, the bucket it enters) for an entry kind; `bucket` names the source where the
    kind allows several (approved, declined, reversed)."""
    if kind in _FROM:
        if bucket not in _FROM[kind]:
            allowed = ", ".join(sorted(_FROM[kind]))
            raise ValueError(f"a {kind} entry takes from one of {allowed}, not {bucket}")
        return bucket, _DESTINATION[kind]
    if bucket is not None and bucket != _FIXED[kind][0]:
        raise ValueError(f"a {kind} entry always takes from {_FIXED[kind][0]}, not {bucket}")
    return _FIXED[kind]


def book(
    account: Account,
    kind: EntryKind,
    amount: int,
    *,
    bucket: Bucket | None = None,
    reference: EntryReference,
    actor: str,
    note: str,
    now: datetime,
) -> tuple[Account, LedgerEntry]:
    """One ledger entry and the account after it."""
    if amount <= 0:
        raise ValueError(f"a {kind} entry needs a positive amount, not {amount}")
    source, destination = moves(kind, bucket)
    changes: dict[str, Any] = {destination: getattr(account, destination) + amount}
    if source is not None:
        changes[source] = getattr(account, source) - amount
    if kind == "earned":
        changes["earned"] = account.earned + amount
    if source is not None and changes[source] < 0 and not (source == "available" and kind == "reversed"):
        if kind == "redeemed":
            raise InsufficientBalance(f"Only {_words(account.available, account.unit)} is available to redeem.")
        raise InsufficientBalance(f"A {kind} entry of {amount} would take {source} below zero.", field=source)
    for value in changes.values():
        if abs(value) > MAX_BALANCE:
            raise InsufficientBalance(f"The account would exceed the largest supported balance ({MAX_BALANCE}).")
    after = account.model_copy(update=changes | {"seq": account.seq + 1, "updated_at": now})
    entry = LedgerEntry(
        partner_id=account.partner_id,
        person_email=account.person_email,
        unit=account.unit,
        seq=after.seq,
        kind=kind,
        amount=amount,
        bucket=source,
        at=now,
        reference=reference,
        actor=actor,
        note=note,
        balance=balances(after),
    )
    return after, entry
