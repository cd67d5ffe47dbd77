"""When MDF's timers fire and what they carry (fund expiry warnings then expiry; claim reminders then the deadline),
and whether a timer that fired still applies. Every timer is a one-time schedule; none waits more than `MAX_TIMER`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mdf.domain.claims import awaiting_claim
from mdf.models import (
    ClaimDeadline,
    ClaimReminder,
    ClaimTimer,
    ClaimTimerRenewal,
    Fund,
    FundExpiry,
    FundExpiryWarning,
    FundRequest,
    FundTimer,
    FundTimerRenewal,
)
from shared.clock import timer_time

TimerMessage = FundTimer | ClaimTimer
MAX_TIMER = timedelta(days=360)  # longer timers renew themselves: no schedule waits more than a year ahead


@dataclass(frozen=True)
class Timer:
    """One message to put on MDF's workflow queue at `at`."""

    at: datetime
    message: TimerMessage

    def wire(self) -> tuple[str, dict[str, Any]]:
        """As the timer port takes it: the time to the second and the message's JSON."""
        return timer_time(self.at), self.message.model_dump(mode="json")


def _days(seconds: int) -> int:
    return max(1, round(seconds / 86400))


def _schedule(
    ends: datetime,
    fields: dict[str, Any],
    kinds: tuple[type[TimerMessage], type[TimerMessage], type[TimerMessage]],
    offsets: Sequence[int],
    now: datetime,
) -> list[Timer]:
    """Warnings `offsets` seconds before `ends` (skipping past ones, earliest first), then the final message.

    An end beyond what one timer may wait gets a single renewal message instead, which starts the next timer.
    """
    warning, final, renew = kinds
    if ends - now > MAX_TIMER:
        return [Timer(now + MAX_TIMER, renew(**fields, days_left=0))]
    warnings = [
        Timer(ends - timedelta(seconds=o), warning(**fields, days_left=_days(o)))
        for o in sorted(offsets, reverse=True)
        if ends - timedelta(seconds=o) > now
    ]
    return [*warnings, Timer(ends, final(**fields, days_left=0))]


def fund_schedule(fund: Fund, offsets: Sequence[int], now: datetime) -> list[Timer]:
    """Expiry warnings before the claim window ends, then the expiry itself."""
    ends = fund.claim_window_ends_at
    fields = {"partner_id": fund.partner_id, "fund_id": fund.fund_id, "claim_window_ends_at": ends}
    return _schedule(ends, fields, (FundExpiryWarning, FundExpiry, FundTimerRenewal), offsets, now)


def claim_schedule(request: FundRequest, offsets: Sequence[int], now: datetime) -> list[Timer]:
    """Claim reminders before the due date, then the deadline."""
    assert request.claim_due_at is not None
    fields = {"request_id": request.request_id, "claim_due_at": request.claim_due_at}
    return _schedule(request.claim_due_at, fields, (ClaimReminder, ClaimDeadline, ClaimTimerRenewal), offsets, now)


def claim_timer_current(request: FundRequest, claim_due_at: datetime) -> bool:
    """A claim timer applies only to the due date it was set for (to the second): a returned claim moves it."""
    return request.claim_due_at is not None and timer_time(request.claim_due_at) == timer_time(claim_due_at)


def claim_reminder_needed(request: FundRequest) -> bool:
    """Remind only while the partner is still to file (or refile) the claim."""
    return awaiting_claim(request)


def expiry_warning_needed(fund: Fund) -> bool:
    """Warn only about money that can still be used: an open fund with some of it available."""
    return fund.status == "open" and fund.available > 0


def fund_renewal_suffix(claim_window_ends_at: datetime) -> str:
    """A renewal's timer is named after the window's end date (the first timer of the fund has no suffix)."""
    return f"-{timer_time(claim_window_ends_at)[:10]}"


def claim_renewal_suffix(now: datetime) -> str:
    return f"-{now:%Y%m%d}"


def returned_claim_suffix(round_: int) -> str:
    """A returned claim's new due date gets its own timer, per claim round."""
    return f"-c{round_}"
