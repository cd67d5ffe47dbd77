"""The outbox publisher every context deploys: its table's stream (outbox inserts) -> the event bus.

Entries go out in stream order, up to 10 and 256 KB per PutEvents call (EventBridge's limits). Publishing stops at
the first record that fails (an entry EventBridge refused, a call that failed, a record that cannot be read): that
record and every later one are reported back (ReportBatchItemFailures, through shared.batch as every consumer), and
Lambda retries the stream from the first of them. Stopping there keeps events in stream order and sends none twice
because of a failure before it; when every record failed, Lambda retries the whole batch, bisecting it.
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


class NotPublished(Exception):
    """An earlier record of the batch failed: this one waits for the retry, so events keep their stream order."""


def publish(pending: list[Pending], events: Any) -> dict[int, Exception]:
    """PutEvents in batches, in order, until the first failure; the failures, by `id()` of their stream record (that
    record and every later one; shared.batch reads a record's sequence number only to report it)."""
    failed: dict[int, Exception] = {}
    runs = list(calls(pending))
    for index, run in enumerate(runs):
        try:
            answer = events.put_events(Entries=[item.entry for item in run])
        except Exception as error:  # whatever broke the call, each of its records is reported for a retry
            failed.update((id(item.record), error) for item in run)
        else:
            results = answer.get("Entries") or [] if answer.get("FailedEntryCount") else []
            for item, result in zip(run, results, strict=False):  # results come in the entries' order
                if result.get("ErrorCode"):
                    failed[id(item.record)] = EntryRefused(
                        f"EventBridge refused {item.entry['DetailType']}: "
                        f"{result['ErrorCode']} {result.get('ErrorMessage', '')}".rstrip()
                    )
        if failed:
            waiting = NotPublished("an earlier record of this batch failed; published on the retry")
            failed.update((id(item.record), waiting) for later in runs[index + 1 :] for item in later)
            break
    return failed


def entries(records: list[dict[str, Any]], *, bus_name: str, source: str) -> tuple[list[Pending], dict[int, Exception]]:
    """The entries of the records up to the first one that cannot be read (a bug, never expected); that record and
    the later ones are failures, so Lambda retries from it and, failing again, bisects down to it alone."""
    pending: list[Pending] = []
    for index, record in enumerate(records):
        try:
            found = pending_entry(record, bus_name=bus_name, source=source)
        except (KeyError, TypeError, ValueError) as error:
            logger.exception("an outbox stream record could not be read")
            unreadable: dict[int, Exception] = {id(record): error}
            waiting = NotPublished("an earlier record of this batch could not be read")
            unreadable.update((id(later), waiting) for later in records[index + 1 :])
            return pending, unreadable
        if found is not None:
            pending.append(found)
    return pending, {}


def outbox_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler, with settings validated now (at cold start, from the function's environment)."""
    settings = OutboxSettings.from_env()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records") or []
        pending, failed = entries(records, bus_name=settings.event_bus_name, source=settings.event_source)
        failed = publish(pending, client("events")) | failed

        def outcome(record: StreamRecord) -> None:
            if id(record.raw_event) in failed:
                raise failed[id(record.raw_event)]

        return process_stream(event, context, outcome)  # reports the failed records as every stream consumer does

    return handler
