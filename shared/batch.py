"""SQS and stream consumers: partial-batch processing, so one bad record never blocks or loses others.

This is the ReportBatchItemFailures contract Powertools' BatchProcessor implements, in the few lines our consumers
use: importing `aws_lambda_powertools.utilities.batch` costs ~35 ms of cold start (asyncio, the parser's models of
every event source, all event data classes) for a loop over records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.observability import logger


class BatchProcessingError(Exception):
    """Every record of the batch failed: Lambda retries the whole batch (as Powertools' processor does)."""

    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__(f"All {len(errors)} records failed processing; each error was logged.")
        self.errors = errors


@dataclass(frozen=True)
class SqsRecord:
    raw_event: dict[str, Any]

    @property
    def message_id(self) -> str:
        return str(self.raw_event["messageId"])

    @property
    def body(self) -> str:
        return str(self.raw_event["body"])


@dataclass(frozen=True)
class StreamRecord:
    raw_event: dict[str, Any]

    @property
    def sequence_number(self) -> str:
        return str(self.raw_event["dynamodb"]["SequenceNumber"])


def _process(
    records: list[Any], record_handler: Callable[[Any], Any], identifier: Callable[[Any], str]
) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    errors: list[BaseException] = []
    for record in records:
        try:
            record_handler(record)
        except Exception as error:
            logger.exception("record failed", extra={"item_identifier": identifier(record)})
            errors.append(error)
            failures.append({"itemIdentifier": identifier(record)})
    if records and len(errors) == len(records):
        raise BatchProcessingError(errors)
    return {"batchItemFailures": failures}


def process_sqs(event: dict[str, Any], context: Any, record_handler: Callable[[Any], Any]) -> dict[str, Any]:
    """Handle each SQS record; failed ones are reported back (ReportBatchItemFailures) for redelivery, then DLQ."""
    records = [SqsRecord(raw) for raw in event.get("Records") or []]
    return _process(records, record_handler, lambda record: record.message_id)


def process_stream(event: dict[str, Any], context: Any, record_handler: Callable[[Any], Any]) -> dict[str, Any]:
    """Handle each DynamoDB stream record; failures are reported so Lambda retries from the first failed one."""
    records = [StreamRecord(raw) for raw in event.get("Records") or []]
    return _process(records, record_handler, lambda record: record.sequence_number)
