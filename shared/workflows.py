"""Workflow adapters shared by the contexts: idempotent Step Functions starts and one-time timer schedules."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shared.aws import client

SCHEDULE_NAME_MAX = 64
_SCHEDULE_NAME_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]")


class ApprovalTimeouts(Protocol):
    """How long an approval waits (shared.settings.ApprovalTimings, or a context's own route)."""

    @property
    def reminder_seconds(self) -> int: ...
    @property
    def escalation_seconds(self) -> int: ...
    @property
    def expiry_seconds(self) -> int: ...


def approval_timeouts(timings: ApprovalTimeouts) -> dict[str, int]:
    """The `timeouts` of an approval request (the approvals context's workflow input)."""
    return {
        "reminder_seconds": timings.reminder_seconds,
        "escalation_seconds": timings.escalation_seconds,
        "expiry_seconds": timings.expiry_seconds,
    }


def escalation_of(approver: str, escalation: str) -> list[str]:
    """Who an escalated approval goes to: the approver still, and the escalation contact (once if the same)."""
    return list(dict.fromkeys([approver, escalation]))


def approval_route(approver: str, escalation: str, timings: ApprovalTimeouts) -> dict[str, Any]:
    """An approval request's `approvers` (one approver, then the escalation) and `timeouts`."""
    return {
        "approvers": {"initial": [approver], "escalation": escalation_of(approver, escalation)},
        "timeouts": approval_timeouts(timings),
    }


def start_execution(machine: str, name: str, payload: dict[str, Any]) -> str:
    """Start `machine` once per `name` (a deterministic id): a repeated start changes nothing."""
    sfn = client("stepfunctions")
    try:
        return str(sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"])
    except sfn.exceptions.ExecutionAlreadyExists:
        return "already started"


def schedule_name(name: str) -> str:
    """A valid, deterministic EventBridge Scheduler name (64 characters of [0-9A-Za-z_.-]) for `name`."""
    safe = _SCHEDULE_NAME_UNSAFE.sub("-", name)
    if len(safe) <= SCHEDULE_NAME_MAX:
        return safe
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{safe[: SCHEDULE_NAME_MAX - 13]}-{digest}"


def _at(due: str, now: datetime) -> str:
    """at(...) for an ISO-8601 UTC time; a time already due fires within the minute (Scheduler's precision)."""
    moment = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(UTC)
    moment = max(moment, now.astimezone(UTC) + timedelta(seconds=1))
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def schedule_messages(
    *,
    group: str,
    role_arn: str,
    queue_arn: str,
    name: str,
    timers: list[tuple[str, dict[str, Any]]],
    now: datetime,
) -> str:
    """One one-time EventBridge Scheduler schedule per (due time, message): at its time Scheduler sends the message
    to the queue and deletes the schedule. Names are deterministic (`name`-<index>), so a repeated call changes nothing.

    A timer costs nothing while it waits (no open workflow); the consumer ignores a message whose due date moved.
    """
    scheduler = client("scheduler")
    created = 0
    for index, (due, message) in enumerate(timers):
        try:
            scheduler.create_schedule(
                Name=schedule_name(f"{name}-{index}"),
                GroupName=group,
                ScheduleExpression=_at(due, now),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={"Arn": queue_arn, "RoleArn": role_arn, "Input": json.dumps(message)},
            )
            created += 1
        except scheduler.exceptions.ConflictException:
            continue  # made by an earlier delivery of the same event
    return f"{created} of {len(timers)} timers scheduled ({name})"
