"""The outbox publisher every context deploys: its table's stream (outbox inserts) -> the event bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.aws import client
from shared.batch import process_stream
from shared.observability import logger, metrics, tracer
from shared.settings import Settings


class OutboxSettings(Settings):
    event_bus_name: str = Field(min_length=1)
    event_source: str = Field(pattern=r"^prm\.[a-z]+$")


def publish_outbox_record(record: dict[str, Any], *, bus_name: str, source: str) -> str | None:
    """Publish the event held by one stream record; returns the detail-type, or None for a non-outbox record."""
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("entity", {}).get("S") != "outbox":
        return None
    detail_type = image["detail_type"]["S"]
    answer = client("events").put_events(
        Entries=[
            {
                "EventBusName": bus_name,
                "Source": source,
                "DetailType": detail_type,
                "Detail": image["detail"]["S"],
                "Time": datetime.fromisoformat(image["created_at"]["S"].replace("Z", "+00:00")),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        entry = answer["Entries"][0]
        raise RuntimeError(f"EventBridge refused {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
    return detail_type


def outbox_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler, with settings validated now (at cold start, from the function's environment)."""
    settings = OutboxSettings.from_env()

    def record_handler(record: Any) -> str | None:
        return publish_outbox_record(record.raw_event, bus_name=settings.event_bus_name, source=settings.event_source)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_stream(event, context, record_handler)

    return handler
