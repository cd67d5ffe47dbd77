"""Capture what the PRM publishes on its bus (a test rule -> SQS queue) and check it against the published schemas."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


class EventCapture:
    """Subscribes a queue to every `prm.*` event on the bus, like another AWS workload would."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        events, sqs = stack.client("events"), stack.client("sqs")
        name = f"test-capture-{uuid.uuid4().hex[:8]}"
        self.queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = stack.resource("PrmEventBus")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "prm."}]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        sqs = self.stack.client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return self.seen
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def wait_for(self, detail_type: str, *, timeout: float = 20, **detail: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.poll():
                if event["detail-type"] == detail_type and all(event["detail"].get(k) == v for k, v in detail.items()):
                    return event
            time.sleep(0.2)
        raise AssertionError(f"no {detail_type} event with {detail}")


def validate(event: dict[str, Any]) -> None:
    """The event as delivered validates against the versioned schema checked into events/schemas/."""
    version = event["detail"]["version"]
    schema = json.loads((SCHEMAS / event["source"] / f"{event['detail-type']}.v{version}.json").read_text())
    Draft4Validator(schema, format_checker=FormatChecker()).validate(event)
