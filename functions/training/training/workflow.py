"""Adapters of training's workflow ports: the award timers (`TrainingTimers`, one-time EventBridge Scheduler
schedules to the work queue, through the shared TimerScheduler) and the work queue itself (`WorkQueue`, SQS: import
jobs, one message per chunk)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.aws import client
from shared.clock import timer_time
from shared.ports import TimerScheduler
from training.domain import awards
from training.models import Award


@dataclass(frozen=True)
class AwardTimers:
    """Reminders at each offset before expiry still in the future (and one at once for the nearest offset already
    passed), then the expiry: named after the award and its expiry, so a renewal schedules a new timer and the old
    one's messages are stale."""

    timers: TimerScheduler
    reminder_offsets: Sequence[int]

    def start_certification_timer(self, award: Award, now: datetime) -> str:
        timer = awards.certification_timer(award, self.reminder_offsets, now)
        return self.timers.schedule(
            f"{award.award_id}-{timer_time(award.expires_at)}",
            [(timer_time(at), message.model_dump(mode="json")) for at, message in timer],
            now,
        )


@dataclass(frozen=True)
class SqsWorkQueue:
    queue_url: str

    @classmethod
    def from_arn(cls, queue_arn: str) -> SqsWorkQueue:
        """The queue of an ARN (the consumer's setting names its work queue by ARN, as timer targets are named),
        addressed by the URL SQS gives it: `https://sqs.<region>.<domain>/<account>/<name>`."""
        _, partition, _, region, account, name = queue_arn.split(":", 5)
        domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        return cls(f"https://sqs.{region}.{domain}/{account}/{name}")

    def send(self, message: dict[str, Any]) -> str:
        answer = client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
        return str(answer["MessageId"])
