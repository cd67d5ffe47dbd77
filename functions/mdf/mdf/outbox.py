"""MDF's outbox publisher (Handler `mdf.outbox.handler`): table stream -> event bus."""

from __future__ import annotations

from typing import Any

from mdf.settings import OutboxSettings
from shared.batch import process_stream
from shared.observability import logger, metrics, tracer
from shared.outbox import publish_outbox_record

SETTINGS = OutboxSettings.from_env()


def record_handler(record: Any) -> str | None:
    return publish_outbox_record(record.raw_event, bus_name=SETTINGS.event_bus_name, source=SETTINGS.event_source)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_stream(event, context, record_handler)
