"""Time source: UTC, timezone-aware, ISO-8601 text; injectable for tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, PlainSerializer

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Current time in UTC, truncated to milliseconds so it round-trips through ISO-8601 text."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def iso(moment: datetime) -> str:
    """ISO-8601 text in UTC with a Z suffix (what every record and event stores)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Every timestamp the PRM stores or publishes: timezone-aware, written as ISO-8601 UTC with milliseconds and Z.
UtcDateTime = Annotated[AwareDatetime, PlainSerializer(iso, return_type=str, when_used="json")]


def timer_time(moment: datetime) -> str:
    """RFC 3339 to the second with Z (what timer messages and Scheduler's `at(...)` carry)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# A moment in a timer message: timezone-aware, written as `timer_time` (to the second, with Z).
TimerTime = Annotated[AwareDatetime, PlainSerializer(timer_time, return_type=str, when_used="json")]


def readable(moment: datetime) -> str:
    """A moment for people (emails, pages): `10 Feb 2027, 23:59 UTC`."""
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC").lstrip("0")
