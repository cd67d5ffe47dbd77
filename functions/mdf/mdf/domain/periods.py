"""Programme periods (they never overlap) and the identity of a fund: one per partner, period and currency."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from mdf.domain.common import end_of
from mdf.models import Period
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed


def fund_id(period_id: str, currency: str) -> str:
    return f"{period_id}.{currency}"


def parse_fund_id(value: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Z0-9][A-Z0-9-]{1,23})\.([A-Z]{3})", value or "")
    if not match:
        raise NotFound("No such fund.")
    return match.group(1), match.group(2)


def period_open(period: Period, now: datetime) -> bool:
    return now < period.claim_window_ends_at


def ensure_consistent(period: Period, *, now: datetime) -> Period:
    """A new period's dates: it ends on or after it starts, and its claim window ends after it, in the future."""
    errors = []
    if period.ends_on < period.starts_on:
        errors.append(FieldError("ends_on", "must be on or after starts_on"))
    if period.claim_window_ends_at <= end_of(period.ends_on):
        errors.append(FieldError("claim_window_ends_at", "must be after the period ends"))
    if period.claim_window_ends_at <= now:
        errors.append(FieldError("claim_window_ends_at", "must be in the future"))
    if errors:
        raise ValidationFailed("The period's dates are inconsistent.", errors)
    return period


def ensure_new(period: Period, existing: Sequence[Period]) -> None:
    """A period id is used once, and periods never overlap: a won deal's close date names one period to accrue into."""
    if any(p.period_id == period.period_id for p in existing):
        raise Conflict(f"{period.period_id} exists.", errors=[FieldError("period_id", "already exists")])
    ensure_no_overlap(period, existing)


def ensure_no_overlap(period: Period, existing: Sequence[Period]) -> None:
    for other in existing:
        if other.starts_on <= period.ends_on and period.starts_on <= other.ends_on:
            raise Conflict(
                f"{period.period_id} would overlap {other.period_id} ({other.starts_on} to {other.ends_on}).",
                errors=[FieldError("starts_on", f"overlaps {other.period_id}")],
            )


def period_for(periods: Sequence[Period], day: date) -> Period | None:
    """The period whose dates contain `day` (periods never overlap)."""
    return next((p for p in periods if p.starts_on <= day <= p.ends_on), None)


def newest_first(periods: Sequence[Period]) -> list[Period]:
    return sorted(periods, key=lambda p: (p.starts_on, p.period_id), reverse=True)
