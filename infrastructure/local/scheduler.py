"""EventBridge Scheduler locally: moto stores schedules but never fires them, so the local stack fires the due ones.

One thread for all schedules (however many timers are waiting): every `interval` seconds it reads moto's scheduler
backend in-process, sends the target input of each due one-time schedule (`at(...)`) to its SQS target, and then
deletes the schedule (ActionAfterCompletion DELETE) or leaves it completed (NONE). Rate and cron schedules and
targets other than SQS are not emulated (logged once). Like Scheduler, delivery is at least once: a send that fails is
retried on the next tick, and a schedule is removed only after its message is on the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from infrastructure.local import moto_patches
from infrastructure.local.template import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.5


def due_time(expression: str, timezone: str | None) -> datetime | None:
    """When a one-time schedule is due (UTC), or None for rate/cron expressions."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    local = datetime.fromisoformat(expression[3:-1])
    return local.replace(tzinfo=ZoneInfo(timezone or "UTC")).astimezone(UTC)


class ScheduleRunner(threading.Thread):
    """Fires due one-time schedules of moto's EventBridge Scheduler (every group) to their SQS queues."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: Callable[[str], str],
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
        interval: float = TICK_SECONDS,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_seconds: float = 60.0,
        groups: Collection[str] | None = None,
    ) -> None:
        super().__init__(name="prm-local-scheduler", daemon=True)
        self.groups = frozenset(groups) if groups is not None else None  # None: every group, as the stack runs it
        self.sqs = sqs
        self.queue_url = queue_url
        self.account_id = account_id
        self.region = region
        self.interval = interval
        self.housekeeping = housekeeping  # other periodic upkeep of the local stack, run on this thread
        self.housekeeping_seconds = housekeeping_seconds
        self.fired = 0
        self._stopping = threading.Event()
        self._warned: set[str] = set()

    def stop(self) -> None:
        """Finish the current tick and exit."""
        self._stopping.set()

    def run(self) -> None:
        upkeep_at = time.monotonic() + self.housekeeping_seconds
        while not self._stopping.wait(self.interval):
            try:
                self.fire_due()
            except Exception:
                logger.exception("scheduler: tick failed; retrying")
            if self.housekeeping is not None and time.monotonic() >= upkeep_at:
                upkeep_at = time.monotonic() + self.housekeeping_seconds
                try:
                    self.housekeeping()
                except Exception:
                    logger.exception("scheduler: housekeeping failed")

    def _backend(self) -> Any:
        return moto_patches.scheduler_backend(self.region, self.account_id)

    def pending(self) -> int:
        """Enabled one-time schedules not yet fired."""
        return sum(1 for _, schedule in self._schedules() if self._due(schedule) is not None)

    def _schedules(self) -> list[tuple[Any, Any]]:
        backend = self._backend()
        groups = [g for name, g in list(backend.schedule_groups.items()) if self.groups is None or name in self.groups]
        return [(group, schedule) for group in groups for schedule in list(group.schedules.values())]

    def _due(self, schedule: Any) -> datetime | None:
        if schedule.state != "ENABLED" or getattr(schedule, "prm_completed", False):
            return None
        due = due_time(str(schedule.schedule_expression), schedule.schedule_expression_timezone)
        if due is None:
            self._warn(schedule.arn, f"{schedule.arn}: only at(...) schedules fire locally")
        return due

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("scheduler: %s", message)

    def fire_due(self, now: datetime | None = None) -> int:
        """Deliver every schedule due at `now`; returns how many were delivered."""
        now = now or datetime.now(UTC)
        delivered = 0
        for group, schedule in self._schedules():
            if self._stopping.is_set():
                break
            due = self._due(schedule)
            if due is None or due > now:
                continue
            target = schedule.target or {}
            arn = str(target.get("Arn", ""))
            if ":sqs:" not in arn:
                self._warn(schedule.arn, f"{schedule.arn}: target {arn} is not SQS; not delivered locally")
                continue
            request: dict[str, Any] = {"QueueUrl": self.queue_url(arn), "MessageBody": target.get("Input") or "{}"}
            fifo = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if fifo:
                request["MessageGroupId"] = fifo
            try:
                self.sqs.send_message(**request)
            except Exception as error:  # the next tick tries again; later schedules are not held back
                logger.warning("scheduler: %s: could not send to %s: %s", schedule.arn, arn, error)
                continue
            delivered += 1
            if schedule.action_after_completion == "DELETE":
                group.schedules.pop(schedule.name, None)
            else:
                schedule.prm_completed = True  # a one-time schedule runs once; it stays until deleted
        self.fired += delivered
        return delivered

    def wait_until_none_due(self, timeout: float) -> None:
        """Return once no schedule is due (for tests); TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while any((due := self._due(s)) is not None and due <= datetime.now(UTC) for _, s in self._schedules()):
            if time.monotonic() > deadline:
                raise TimeoutError("due schedules were not delivered")
            time.sleep(0.05)
