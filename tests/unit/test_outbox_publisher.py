"""The outbox publisher (shared.outbox_publisher): batched PutEvents, partial failures mapped back to stream records.

EventBridge is a real botocore client under a Stubber: every call's parameters are checked against the service model
and against the entries expected, in order; no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import shared.outbox_publisher as publisher
from shared.batch import BatchProcessingError
from tests.support.lambda_events import LambdaContext, stream_event

BUS, SOURCE = "prm-test-bus", "prm.deals"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/prm-deals/stream/2026-01-01T00:00:00.000"
CREATED = datetime(2026, 11, 26, 16, 0, 0, 123000, tzinfo=UTC)


def outbox_record(n: int, *, detail_bytes: int = 0, name: str = "INSERT", entity: str = "outbox") -> dict[str, Any]:
    detail = json.dumps({"event_id": f"evt_{n:03d}", "deal_id": f"deal_{n % 4}", "pad": "x" * detail_bytes})
    return {
        "eventID": f"e{n}",
        "eventName": name,
        "dynamodb": {
            "SequenceNumber": str(1000 + n),
            "NewImage": {
                "pk": {"S": f"OUTBOX#evt_{n:03d}"},
                "entity": {"S": entity},
                "detail_type": {"S": f"DealEvent{n}"},
                "detail": {"S": detail},
                "created_at": {"S": "2026-11-26T16:00:00.123Z"},
            },
        },
    }


def entry(record: dict[str, Any]) -> dict[str, Any]:
    """The entry the publisher must send for `record`: the stored detail untouched (event id included)."""
    image = record["dynamodb"]["NewImage"]
    return {
        "EventBusName": BUS,
        "Source": SOURCE,
        "DetailType": image["detail_type"]["S"],
        "Detail": image["detail"]["S"],
        "Time": CREATED,
    }


def accepted(count: int) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{i}"} for i in range(count)]}


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A stubbed EventBridge client in place of shared.aws's; every queued call must have been made."""
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    monkeypatch.setattr(publisher, "client", lambda service: client)
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    monkeypatch.setenv("EVENT_SOURCE", SOURCE)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def run(records: list[dict[str, Any]]) -> dict[str, Any]:
    handler = publisher.outbox_handler()
    return handler(stream_event(records, STREAM_ARN), LambdaContext())  # type: ignore[no-any-return]


def failures(*records: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}


def test_23_records_go_out_in_3_calls_of_at_most_10_in_stream_order(events: Stubber) -> None:
    records = [outbox_record(n) for n in range(23)]
    for chunk in (records[0:10], records[10:20], records[20:23]):
        events.add_response("put_events", accepted(len(chunk)), {"Entries": [entry(r) for r in chunk]})

    assert run(records) == failures()


def test_a_refused_entry_stops_the_batch_there_so_events_keep_their_order(events: Stubber) -> None:
    records = [outbox_record(n) for n in range(12)]
    refused = accepted(10)
    refused["FailedEntryCount"] = 1
    refused["Entries"][6] = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
    events.add_response("put_events", refused, {"Entries": [entry(r) for r in records[:10]]})
    # no second call: records 10 and 11 wait for the retry, which Lambda starts at record 6

    assert run(records) == failures(records[6], records[10], records[11])


def test_a_failed_call_fails_its_records_and_holds_back_the_later_ones(events: Stubber) -> None:
    records = [outbox_record(n) for n in range(25)]
    events.add_response("put_events", accepted(10), {"Entries": [entry(r) for r in records[:10]]})
    events.add_client_error("put_events", "InternalException", "try again", expected_params=None)

    assert run(records) == failures(*records[10:])


def test_an_unreadable_record_fails_itself_and_the_later_ones_and_the_earlier_ones_go_out(events: Stubber) -> None:
    records = [outbox_record(n) for n in range(4)]
    del records[2]["dynamodb"]["NewImage"]["detail"]  # a bug, never expected: it must not lose the others
    events.add_response("put_events", accepted(2), {"Entries": [entry(r) for r in records[:2]]})

    assert run(records) == failures(records[2], records[3])


def test_when_every_record_failed_the_batch_fails_whole_so_lambda_retries_and_bisects_it(events: Stubber) -> None:
    records = [outbox_record(n) for n in range(3)]
    events.add_client_error("put_events", "AccessDeniedException", "no", expected_params=None)

    with pytest.raises(BatchProcessingError):
        run(records)


def test_records_that_are_not_outbox_inserts_are_neither_sent_nor_reported(events: Stubber) -> None:
    records = [
        outbox_record(0),
        outbox_record(1, name="MODIFY"),
        outbox_record(2, entity="deal"),
        outbox_record(3, name="REMOVE"),
        outbox_record(4),
    ]
    events.add_response("put_events", accepted(2), {"Entries": [entry(records[0]), entry(records[4])]})

    assert run(records) == failures()


def test_a_call_stays_under_256_kb_and_an_oversized_entry_goes_alone() -> None:
    def pending(*records: dict[str, Any]) -> list[publisher.Pending]:
        found = [publisher.pending_entry(r, bus_name=BUS, source=SOURCE) for r in records]
        return [p for p in found if p is not None]

    big = pending(*(outbox_record(n, detail_bytes=100 * 1024) for n in range(5)))
    assert [len(run) for run in publisher.calls(big)] == [2, 2, 1]  # a third 100 KB entry would pass 256 KB
    assert all(sum(p.size for p in run) <= publisher.MAX_BYTES_PER_CALL for run in publisher.calls(big))

    huge = pending(outbox_record(0), outbox_record(1, detail_bytes=300 * 1024), outbox_record(2))
    assert [[p.record["eventID"] for p in run] for run in publisher.calls(huge)] == [["e0"], ["e1"], ["e2"]]


def test_an_entry_is_sized_as_eventbridge_counts_it() -> None:
    item = publisher.pending_entry(outbox_record(7), bus_name=BUS, source=SOURCE)
    assert item is not None
    e = item.entry
    assert item.size == 14 + len(SOURCE) + len(e["DetailType"]) + len(e["Detail"].encode("utf-8"))
