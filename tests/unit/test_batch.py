"""Partial-batch processing (shared.batch): the ReportBatchItemFailures contract for SQS and DynamoDB streams."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.batch import BatchProcessingError, process_sqs, process_stream


def sqs(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "receiptHandle": "r", "body": json.dumps(body), "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def stream(*names: str) -> dict[str, Any]:
    return {
        "Records": [
            {"eventID": f"e{i}", "eventName": name, "dynamodb": {"SequenceNumber": str(100 + i)}}
            for i, name in enumerate(names)
        ]
    }


def test_sqs_reports_only_the_failed_messages_and_handles_the_rest() -> None:
    seen = []

    def handle(record: Any) -> str:
        body = json.loads(record.body)
        if body == "bad":
            raise ValueError("poison")
        seen.append((record.message_id, body))
        return "ok"

    answer = process_sqs(sqs("a", "bad", "c"), None, handle)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert seen == [("m0", "a"), ("m2", "c")]


def test_stream_reports_failed_records_by_sequence_number() -> None:
    def handle(record: Any) -> None:
        if record.raw_event["eventName"] == "REMOVE":
            raise RuntimeError("cannot")

    assert process_stream(stream("INSERT", "REMOVE", "MODIFY"), None, handle) == {
        "batchItemFailures": [{"itemIdentifier": "101"}]
    }


def test_a_batch_whose_every_record_failed_raises_so_lambda_retries_it_whole() -> None:
    def handle(record: Any) -> None:
        raise ValueError(record.message_id)

    with pytest.raises(BatchProcessingError) as raised:
        process_sqs(sqs(1, 2), None, handle)
    assert [str(e) for e in raised.value.errors] == ["m0", "m1"]


def test_all_good_and_empty_batches_report_no_failures() -> None:
    assert process_sqs(sqs(1, 2), None, lambda record: None) == {"batchItemFailures": []}
    assert process_stream({"Records": []}, None, lambda record: None) == {"batchItemFailures": []}
