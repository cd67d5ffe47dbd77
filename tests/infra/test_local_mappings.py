"""Local event source mappings against a moto server: Lambda's SQS and DynamoDB stream event shapes, partial failures,
redrive to the DLQ, retries from the failed record, OnFailure destinations and FilterCriteria."""

from __future__ import annotations

import functools
import json
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infrastructure.local.mappings import SqsMapping, StreamMapping
from infrastructure.local.moto_patches import latest_stream_sequence, release_shard_iterator, sqs_queue_created
from infrastructure.local.runtime import FunctionRuntime, FunctionSpec

REGION = "us-east-1"

HANDLERS = """
import json, os


def _log(kind, event):
    with open(os.environ["CALLS"], "a") as calls:
        calls.write(json.dumps({"kind": kind, "event": event}) + "\\n")


def sqs(event, context):
    _log("sqs", event)
    failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"]).get("fail")]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def stream(event, context):
    _log("stream", event)
    failed = [
        r["dynamodb"]["SequenceNumber"] for r in event["Records"] if "poison" in r["dynamodb"].get("NewImage", {})
    ]
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
"""


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def clients(moto_url: str) -> Callable[[str], Any]:
    session = boto3.session.Session()

    def client(service: str) -> Any:
        return session.client(
            service,
            endpoint_url=moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture
def function(tmp_path: Path, moto_url: str) -> Callable[[str], FunctionRuntime]:
    (tmp_path / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    runtimes: list[FunctionRuntime] = []

    def make(handler: str) -> FunctionRuntime:
        spec = FunctionSpec(
            logical_id="Consumer",
            name="Consumer",
            arn="arn:aws:lambda:us-east-1:123456789012:function:Consumer",
            handler=handler,
            code_dir=tmp_path,
            layer_dirs=(),
            environment={"CALLS": str(tmp_path / "calls.jsonl"), "AWS_ENDPOINT_URL": moto_url},
            memory_mb=128,
            timeout_seconds=10,
            log_path=tmp_path / "consumer.log",
        )
        runtime = FunctionRuntime(spec, reload_on_change=False)
        runtimes.append(runtime)
        return runtime

    yield make  # type: ignore[misc]
    for runtime in runtimes:
        for worker in runtime.close():
            worker.reap()


def calls(runtime: FunctionRuntime) -> list[dict[str, Any]]:
    path = Path(runtime.spec.environment["CALLS"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def streamed_table(ddb: Any, table: str, view: str) -> str:
    """A table keyed by `pk` with a stream of `view` images; its stream's ARN."""
    answer = ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return str(answer["TableDescription"]["LatestStreamArn"])


def test_sqs_records_partial_failures_and_redrive(clients: Callable[[str], Any], function: Any) -> None:
    sqs = clients("sqs")
    name = f"orders-{uuid.uuid4().hex[:6]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "120",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    runtime = function("handlers.sqs")
    mapping = SqsMapping(
        name="Consumer.Orders",
        function=runtime,
        sqs=sqs,
        queue_url=queue,
        queue_arn=arn,
        region=REGION,
        batch_size=10,
        report_batch_item_failures=True,
    )
    sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps({"n": 1}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
    )
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": 2, "fail": True}))
    mapping.start()
    try:
        dead = eventually(lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages"))
        assert dead and json.loads(dead[0]["Body"]) == {"n": 2, "fail": True}
        assert eventually(mapping.idle, timeout=5)
    finally:
        mapping.stop()
        mapping.join()
    records = [record for call in calls(runtime) for record in call["event"]["Records"]]
    bodies = [json.loads(record["body"]) for record in records]
    assert bodies.count({"n": 1}) == 1  # succeeded once, deleted
    assert bodies.count({"n": 2, "fail": True}) == 2  # maxReceiveCount receives, then the DLQ
    first = next(record for record in records if json.loads(record["body"]) == {"n": 1})
    assert set(first) >= {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == arn
    assert first["awsRegion"] == REGION
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"]["kind"]["stringValue"] == "order"
    assert first["messageAttributes"]["kind"]["dataType"] == "String"
    retried = [r for r in records if json.loads(r["body"]).get("fail")]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in retried] == ["1", "2"]


def test_stream_records_filters_retries_and_on_failure(clients: Callable[[str], Any], function: Any) -> None:
    ddb, sqs = clients("dynamodb"), clients("sqs")
    table = f"ledger-{uuid.uuid4().hex[:6]}"
    stream_arn = streamed_table(ddb, table, "NEW_AND_OLD_IMAGES")
    failures = sqs.create_queue(QueueName=f"{table}-failures")["QueueUrl"]
    runtime = function("handlers.stream")
    mapping = StreamMapping(
        name="Consumer.Ledger",
        function=runtime,
        streams=clients("dynamodbstreams"),
        sqs=sqs,
        stream_arn=stream_arn,
        region=REGION,
        starting_position="TRIM_HORIZON",
        batch_size=10,
        maximum_retry_attempts=1,
        report_batch_item_failures=True,
        filters=[{"eventName": ["INSERT"]}],
        on_failure_queue_url=failures,
        latest_sequence=latest_stream_sequence,
        release_iterator=release_shard_iterator,
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "poison": {"BOOL": True}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "2"}})  # MODIFY: filtered out
    mapping.start()
    try:
        failed = eventually(lambda: sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=0).get("Messages"))
        assert failed, "no OnFailure message"
        assert eventually(mapping.idle, timeout=5)
    finally:
        mapping.stop()
        mapping.join()
    info = json.loads(failed[0]["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 2
    assert info["DDBStreamBatchInfo"]["streamArn"] == stream_arn
    deliveries = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in call["event"]["Records"]] for call in calls(runtime)]
    assert deliveries == [["a", "b", "c"], ["b", "c"]]  # a retry starts at the first failed record
    assert info["DDBStreamBatchInfo"]["batchSize"] == 2
    record = calls(runtime)[0]["event"]["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stream_arn
    assert record["awsRegion"] == REGION
    change = record["dynamodb"]
    assert change["Keys"] == {"pk": {"S": "a"}}
    assert change["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["ApproximateCreationDateTime"], int | float)
    assert isinstance(change["SizeBytes"], int)
    assert mapping.checkpoints  # every record, the filtered MODIFY included, is behind the checkpoint


@pytest.mark.parametrize("read", ["over HTTP", "in process"])
def test_a_mapping_stops_when_its_queue_is_replaced_behind_its_back(
    clients: Callable[[str], Any], function: Any, read: str
) -> None:
    # e.g. an in-process mock_aws test resetting moto and provisioning same-named queues: never steal its messages.
    sqs = clients("sqs")
    name = f"replaced-{uuid.uuid4().hex[:6]}"
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    runtime = function("handlers.sqs")
    mapping = SqsMapping(
        name="Consumer.Replaced",
        function=runtime,
        sqs=sqs,
        queue_url=queue,
        queue_arn=arn,
        region=REGION,
        # the local stack reads moto's backend (it runs in-process), saving a request before every receive
        queue_created=functools.partial(sqs_queue_created, queue, REGION) if read == "in process" else None,
    )
    mapping.start()
    try:
        time.sleep(1.5)
        sqs.delete_queue(QueueUrl=queue)
        time.sleep(1.1)  # moto's CreatedTimestamp has one-second resolution
        queue = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": 1}))
        mapping.join(timeout=10)
        assert not mapping.is_alive()
        assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
    finally:
        mapping.stop()
        mapping.join()
    assert calls(runtime) == []


def test_a_quiet_stream_is_polled_less_often_and_a_new_record_still_arrives(
    clients: Callable[[str], Any], function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infrastructure.local import mappings

    monkeypatch.setattr(mappings, "STREAM_BUSY_SECONDS", 1.0)
    ddb = clients("dynamodb")
    table = f"quiet-{uuid.uuid4().hex[:6]}"
    stream_arn = streamed_table(ddb, table, "NEW_IMAGE")
    streams = clients("dynamodbstreams")
    polls: list[float] = []
    describe = streams.describe_stream

    def counted(**kwargs: Any) -> Any:
        polls.append(time.monotonic())
        return describe(**kwargs)

    monkeypatch.setattr(streams, "describe_stream", counted)
    runtime = function("handlers.stream")
    mapping = StreamMapping(
        name="Consumer.Quiet",
        function=runtime,
        streams=streams,
        sqs=clients("sqs"),
        stream_arn=stream_arn,
        region=REGION,
        latest_sequence=latest_stream_sequence,
        release_iterator=release_shard_iterator,
    )
    mapping.start()
    try:
        time.sleep(0.9)
        busy = len(polls)  # in its first second: every 0.2 s
        time.sleep(1.5)
        polls.clear()
        time.sleep(3.0)
        quiet = len(polls)  # after a quiet second: every second
        assert busy >= 3
        assert quiet <= 4
        ddb.put_item(TableName=table, Item={"pk": {"S": "late"}})
        eventually(lambda: calls(runtime), timeout=5)
    finally:
        mapping.stop()
        mapping.join()
    assert [call["event"]["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] for call in calls(runtime)] == ["late"]
