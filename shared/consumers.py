"""Event consumers: an EventBridge event from a queue, parsed into its contract and handled once per event id."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from shared.batch import process_sqs
from shared.events import EventBridgeEvent
from shared.idempotency import run_once
from shared.observability import logger, metrics, tracer

Handlers = Mapping[str, tuple[type[Any], Callable[[Any], str]]]


def handle_event(body: dict[str, Any], handlers: Handlers, *, table_name: str, lambda_context: Any = None) -> str:
    """Dispatch by detail-type; publishing is at least once, so the event id makes a redelivery change nothing."""
    envelope = EventBridgeEvent.model_validate(body)
    model, handler = handlers[envelope.detail_type]
    detail = model.model_validate(envelope.detail)
    logger.append_keys(event_id=detail.event_id, partner_id=detail.partner_id)

    def once(request: dict[str, Any]) -> dict[str, Any]:
        return {"outcome": handler(detail)}

    key = {"event_id": detail.event_id}
    return str(run_once(once, table_name=table_name, key=key, payload=key, lambda_context=lambda_context)["outcome"])


MessageHandler = Callable[[dict[str, Any], Any], str]


class QueueDispatch(Protocol):
    def __call__(self, body: dict[str, Any], context: Any = None) -> str: ...


def events_or_messages(events: Handlers, on_message: MessageHandler, *, table_name: str) -> QueueDispatch:
    """A context's queue carries bus events (they have a `detail-type`: to their handler, once per event id) and its
    own workflow and timer messages (to `on_message(body, context)`)."""

    def handle_message(body: dict[str, Any], context: Any = None) -> str:
        if "detail-type" in body:
            return handle_event(body, events, table_name=table_name, lambda_context=context)
        return on_message(body, context)

    return handle_message


def sqs_handler(handle_message: MessageHandler) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler for SQS event sources: each JSON body to `handle_message(body, context)`, failures reported
    per record (ReportBatchItemFailures), with Powertools logging, metrics and tracing."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def record_handler(record: Any) -> str:
            outcome = handle_message(json.loads(record.body), context)
            logger.info("message handled", extra={"message_id": record.message_id, "outcome": outcome})
            return outcome

        return process_sqs(event, context, record_handler)

    return handler
