"""SQS and stream consumers: Powertools partial-batch processing, so one bad record never blocks or loses others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response


def process_sqs(event: dict[str, Any], context: Any, record_handler: Callable[[Any], Any]) -> dict[str, Any]:
    """Handle each SQS record; failed ones are reported back (ReportBatchItemFailures) for redelivery, then DLQ."""
    processor = BatchProcessor(event_type=EventType.SQS)
    return cast(
        dict[str, Any],
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context),
    )


def process_stream(event: dict[str, Any], context: Any, record_handler: Callable[[Any], Any]) -> dict[str, Any]:
    """Handle each DynamoDB stream record; failures are reported so Lambda retries from the first failed one."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return cast(
        dict[str, Any],
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context),
    )
