"""AWS adapters of the shared ports (`shared.ports`): SES mail, Step Functions starts, EventBridge Scheduler timers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import mail, workflows


@dataclass(frozen=True)
class SesMailer:
    sender: str

    def send(self, email: mail.Email) -> str:
        return mail.send(self.sender, email)


class StepFunctionsStarter:
    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str:
        return workflows.start_execution(machine, name, payload)


@dataclass(frozen=True)
class SchedulerTimers:
    """Timers of one context: its schedule group, the role Scheduler assumes and the queue it sends to."""

    group: str
    role_arn: str
    queue_arn: str

    def schedule(self, name: str, timers: list[tuple[str, dict[str, Any]]], now: datetime) -> str:
        return workflows.schedule_messages(
            group=self.group, role_arn=self.role_arn, queue_arn=self.queue_arn, name=name, timers=timers, now=now
        )
