"""Timers as one-time EventBridge Scheduler schedules: valid deterministic names, at() times, the local due check."""

from __future__ import annotations

from datetime import UTC, datetime

from infrastructure.local.scheduler import due_time
from shared.workflows import SCHEDULE_NAME_MAX, _at, schedule_name

NOW = datetime(2026, 12, 6, 3, 0, 0, tzinfo=UTC)


def test_schedule_names_are_valid_and_deterministic() -> None:
    assert schedule_name("deal_01abc-protection-0-1") == "deal_01abc-protection-0-1"
    long = "mdf-fund-prt_01jabcdefghijklmnopqrstuvw-FY27-Q1-USD-2027-01-01-0"
    named = schedule_name(long)
    assert len(named) <= SCHEDULE_NAME_MAX and named == schedule_name(long)
    assert named != schedule_name(long[:-1] + "1")  # the hash keeps different timers apart
    assert schedule_name("a b/c:d") == "a-b-c-d"


def test_at_is_utc_without_zone_and_a_past_time_is_due_at_once() -> None:
    assert _at("2027-03-06T03:07:20Z", NOW) == "at(2027-03-06T03:07:20)"
    assert _at("2020-01-01T00:00:00Z", NOW) == "at(2026-12-06T03:00:01)"


def test_the_local_scheduler_reads_at_expressions_in_their_time_zone() -> None:
    assert due_time("at(2027-03-06T03:07:20)", "UTC") == datetime(2027, 3, 6, 3, 7, 20, tzinfo=UTC)
    assert due_time("at(2027-03-06T04:07:20)", "Europe/Paris") == datetime(2027, 3, 6, 3, 7, 20, tzinfo=UTC)
    assert due_time("rate(5 minutes)", "UTC") is None
