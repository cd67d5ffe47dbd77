"""What every MDF rule returns (a `Change`), the errors rules raise, and small helpers they share.

Every amount is an int of minor units. A change to a fund returns the new fund and the ledger entries that explain
it; the repository writes both in one conditional transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from mdf.models import Fund, FundRequest, LedgerEntry, TimelineEntry, WinAccrual
from shared.errors import Conflict
from shared.events import EventDetail
from shared.money import Money

NewId = Callable[[str], str]


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
    win: WinAccrual | None = None  # what a win accrued (or its reversal), written beside the fund
    win_status_read: str | None = None  # the record's status as read (None: it must not exist yet)
    outcome: str = ""
    too_early: bool = False  # a timer arrived before its time (clock skew): retry it later, never drop it


def not_yet_due() -> Change:
    return Change(outcome="not yet due", too_early=True)


def end_of(day: date) -> datetime:
    """The last instant of a UTC day, as the period and due dates mean it."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def money(amount: int, currency: str) -> Money:
    return Money(amount_minor=amount, currency=currency)


def timeline(request: FundRequest, now: datetime, status: str, note: str = "") -> list[TimelineEntry]:
    """The request's timeline with one more entry."""
    return [*request.timeline, TimelineEntry(at=now, status=status, note=note)]
