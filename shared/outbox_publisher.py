"""The outbox publisher every context deploys: its table's stream (outbox inserts) -> the event bus.

Entries go out in stream order, up to 10 and 256 KB per PutEvents call (EventBridge's limits). Exactly the records
whose entry EventBridge refused, or whose call failed, are reported back (ReportBatchItemFailures, through
shared.batch as every consumer: Lambda retries the stream from the first of them; when every record failed, it
retries the whole batch, bisecting it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.aws import client
from shared.batch import StreamRecord, process_stream
from shared.observability import logger, metrics, tracer
from shared.settings import Settings

MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = 256 * 1024


class OutboxSettings(Settings):
    event_bus_name: str = Field(min_length=1)
    event_source: str = Field(pattern=r"^prm\.[a-z]+$")


class EntryRefused(Exception):
    """EventBridge did not take one entry (throttled, internal failure, ...); Lambda retries its record."""


@dataclass(frozen=True)
class Pending:
    """One outbox stream record and its PutEvents entry."""

    record: dict[str, Any]
    entry: dict[str, Any]

    @property
    def size(self) -> int:
        """The entry's size as EventBridge counts it against the call's 256 KB: Time 14 bytes, strings in UTF-8."""
        entry = self.entry
        return 14 + sum(len(entry[key].encode()) for key in ("Source", "DetailType", "Detail"))


def pending_entry(record: dict[str, Any], *, bus_name: str, source: str) -> Pending | None:
    """The entry for the event one stream record holds, or None for a record that is not an outbox insert."""
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("entity", {}).get("S") != "outbox":
        return None
    entry = {
        "EventBusName": bus_name,
        "Source": source,
        "DetailType": image["detail_type"]["S"],
        "Detail": image["detail"]["S"],
        "Time": datetime.fromisoformat(image["created_at"]["S"].replace("Z", "+00:00")),
    }
    return Pending(record, entry)


def calls(pending: list[Pending]) -> Iterator[list[Pending]]:
    """Consecutive runs of entries, each within one call's limits (an entry alone over 256 KB goes alone, to be
    refused alone)."""
    run: list[Pending] = []
    size = 0
    for item in pending:
        if run and (len(run) == MAX_ENTRIES_PER_CALL or size + item.size > MAX_BYTES_PER_CALL):
            yield run
            run, size = [], 0
        run.append(item)
        size += item.size
    if run:
        yield run


def publish(pending: list[Pending], events: Any) -> dict[int, Exception]:
    """PutEvents in batches, in order; the failures, by `id()` of their stream record (a failed call fails each of its
    records; shared.batch reads a record's sequence number only to report it)."""
    failed: dict[int, Exception] = {}
    for run in calls(pending):
        try:
            answer = events.put_events(Entries=[item.entry for item in run])
        except Exception as error:  # whatever broke the call, each of its records is reported for a retry
            failed.update((id(item.record), error) for item in run)
            continue
        if answer.get("FailedEntryCount"):
            for item, result in zip(run, answer["Entries"], strict=True):  # results come in the entries' order
                if result.get("ErrorCode"):
                    failed[id(item.record)] = EntryRefused(
                        f"EventBridge refused {item.entry['DetailType']}: "
                        f"{result['ErrorCode']} {result.get('ErrorMessage', '')}".rstrip()
                    )
    return failed


def outbox_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler, with settings validated now (at cold start, from the function's environment)."""
    settings = OutboxSettings.from_env()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records") or []
        found = (pending_entry(r, bus_name=settings.event_bus_name, source=settings.event_source) for r in records)
        failed = publish([p for p in found if p is not None], client("events"))

        def outcome(record: StreamRecord) -> None:
            if id(record.raw_event) in failed:
                raise failed[id(record.raw_event)]

        return process_stream(event, context, outcome)  # reports the failed records as every stream consumer does

    return handler
