"""Event source mappings: threads that poll SQS queues and DynamoDB streams and invoke functions with Lambda's event shapes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrastructure.local.filters import record_matches
from infrastructure.local.runtime import FunctionRuntime, InvocationError

logger = logging.getLogger(__name__)

SQS_WAIT_SECONDS = 1
SQS_RETRY_VISIBILITY_SECONDS = 1  # AWS keeps a failed message invisible for the queue's VisibilityTimeout
STREAM_POLL_SECONDS = 0.2
# A stream with no records for STREAM_BUSY_SECONDS is polled once a second instead of five times: each poll is two
# requests through moto's HTTP server, and an idle, empty stack spent 36% of a core on them and the queue pollers
# (12-13% with this and the stack's queue pollers reading their queue's creation time in-process). A new record after
# a quiet spell waits up to a second (Lambda polls a shard about 4 times a second).
STREAM_BUSY_SECONDS = 30.0
STREAM_IDLE_POLL_SECONDS = 1.0
STREAM_RETRY_BASE_SECONDS = 0.2
STREAM_RETRY_MAX_SECONDS = 2.0

StreamPosition = Callable[[str], int | None]


@dataclass
class MappingState:
    """Progress counters wait_idle() reads."""

    busy: bool = False
    completed: int = 0  # invocations finished (success or failure)
    lock: threading.Lock = field(default_factory=threading.Lock)


class EventSourceMapping(threading.Thread):
    """Base class: a daemon thread that polls one source for one function until stop() is called."""

    def __init__(self, name: str, function: FunctionRuntime, region: str) -> None:
        super().__init__(name=name, daemon=True)
        self.function = function
        self.region = region
        self.state = MappingState()
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Ask the thread to finish its current poll and exit."""
        self._stopping.set()

    def _source_replaced(self, what: str) -> None:
        # Only something outside the stack deletes or recreates its resources, e.g. mock_aws resetting moto's
        # process-wide state in a test run that shares this process; polling on would steal that test's messages.
        logger.error("%s: %s was deleted or replaced outside the local stack; this mapping stops", self.name, what)
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError, OSError) as error:
                if self._stopping.is_set():
                    return
                logger.warning("%s: poll failed: %s", self.name, error)
                self._stopping.wait(1.0)
            except Exception:
                logger.exception("%s: unexpected error; mapping keeps polling", self.name)
                self._stopping.wait(1.0)

    def poll_once(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def idle(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _invoke(self, event: dict[str, Any]) -> tuple[Any, InvocationError | None]:
        try:
            return self.function.invoke(event), None
        except InvocationError as error:
            logger.info("%s: invocation failed: %s", self.name, error)
            return None, error
        finally:
            with self.state.lock:
                self.state.completed += 1


def _failed_ids(result: Any, known: set[str]) -> set[str] | None:
    """The itemIdentifiers of a partial batch response; None when the response is malformed (whole batch fails)."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in known:
            return None
        ids.add(str(identifier))
    return ids


# ---------------------------------------------------------------------------------------------- SQS


class SqsMapping(EventSourceMapping):
    """Long-polls one queue and delivers batches; deletes what succeeded and lets failures come back after a short backoff."""

    def __init__(
        self,
        *,
        name: str,
        function: FunctionRuntime,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        batch_size: int = 10,
        report_batch_item_failures: bool = False,
        filters: list[dict[str, Any]] | None = None,
        queue_created: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(name, function, region)
        self.sqs = sqs
        self.queue_url = queue_url
        # when the queue was created (None: gone), read without a request; by default asked over HTTP
        self._queue_created = queue_created or self._created_over_http
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(int(batch_size), 10))
        self.report_batch_item_failures = report_batch_item_failures
        self.filters = filters or []
        self._created: str | None = None  # the queue's CreatedTimestamp when this mapping first saw it

    def _created_over_http(self) -> str | None:
        try:
            created = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["CreatedTimestamp"])
        except ClientError as error:
            if "NonExistentQueue" in str(error) or "QueueDoesNotExist" in str(error):
                return None
            raise
        return created["Attributes"].get("CreatedTimestamp")

    def _queue_is_ours(self) -> bool:
        stamp = self._queue_created()
        if stamp is None:
            return False
        if self._created is None:
            self._created = stamp
        return bool(stamp == self._created)

    def poll_once(self) -> None:
        if not self._queue_is_ours():
            self._source_replaced(f"queue {self.queue_url}")
            return
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=SQS_WAIT_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages") or []
        if not messages:
            return
        with self.state.lock:
            self.state.busy = True
        try:
            self._deliver(messages)
        finally:
            with self.state.lock:
                self.state.busy = False

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [self.record(message) for message in messages]
        handles = {record["messageId"]: record["receiptHandle"] for record in records}
        selected = [record for record in records if record_matches(self.filters, record)]
        # Lambda deletes messages that its filters drop.
        dropped = [record["messageId"] for record in records if record not in selected]
        if dropped:
            self._delete_messages({message_id: handles[message_id] for message_id in dropped})
        if not selected:
            return
        result, error = self._invoke({"Records": selected})
        ids = {record["messageId"] for record in selected}
        if error is not None:
            failed = ids
        elif self.report_batch_item_failures:
            partial = _failed_ids(result, ids)
            if partial is None:
                logger.warning("%s: malformed batchItemFailures %r; the whole batch is retried", self.name, result)
            failed = ids if partial is None else partial
        else:
            failed = set()
        self._delete_messages({message_id: handles[message_id] for message_id in ids - failed})
        if failed:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "ReceiptHandle": handles[message_id],
                        "VisibilityTimeout": SQS_RETRY_VISIBILITY_SECONDS,
                    }
                    for index, message_id in enumerate(sorted(failed))
                ],
            )

    def _delete_messages(self, handles: dict[str, str]) -> None:
        if handles:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(handles.values())],
            )

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        """Lambda's SQS record for one received message."""
        attributes = {
            key: value
            for key, value in (message.get("Attributes") or {}).items()
            if key
            in {
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "SequenceNumber",
                "MessageGroupId",
                "MessageDeduplicationId",
                "AWSTraceHeader",
            }
        }
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": (
                    base64.b64encode(value["BinaryValue"]).decode() if value.get("BinaryValue") is not None else None
                ),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
                "dataType": value.get("DataType"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        for value in message_attributes.values():
            for key in ("stringValue", "binaryValue"):
                if value[key] is None:
                    del value[key]
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def idle(self) -> bool:
        """No batch being handled and nothing visible, in flight or delayed in the queue."""
        with self.state.lock:
            if self.state.busy:
                return False
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())


# ---------------------------------------------------------------------------------------------- DynamoDB streams


def _jsonable(value: Any) -> Any:
    """Stream records from boto3 carry bytes and datetimes; Lambda delivers base64 strings and epoch seconds."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value


class StreamMapping(EventSourceMapping):
    """Reads a table's stream in order, filters, invokes, retries from the first failed record, then gives up to OnFailure."""

    def __init__(
        self,
        *,
        name: str,
        function: FunctionRuntime,
        streams: Any,
        sqs: Any,
        stream_arn: str,
        region: str,
        starting_position: str = "TRIM_HORIZON",
        batch_size: int = 100,
        maximum_retry_attempts: int = -1,
        report_batch_item_failures: bool = False,
        filters: list[dict[str, Any]] | None = None,
        on_failure_queue_url: str | None = None,
        checkpoints: dict[str, str] | None = None,
        latest_sequence: StreamPosition | None = None,
        release_iterator: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(name, function, region)
        self.streams = streams
        self.sqs = sqs
        self.stream_arn = stream_arn
        self.starting_position = starting_position
        self.batch_size = max(1, min(int(batch_size), 1000))
        self.maximum_retry_attempts = int(maximum_retry_attempts)
        self.report_batch_item_failures = report_batch_item_failures
        self.filters = filters or []
        self.on_failure_queue_url = on_failure_queue_url
        # shard id -> SequenceNumber of the last record handled (delivered, filtered out or given up on)
        self.checkpoints: dict[str, str] = dict(checkpoints or {})
        self._latest_sequence = latest_sequence
        self._release_iterator = release_iterator
        self._iterators: dict[str, str] = {}
        self._last_records = time.monotonic()

    def poll_once(self) -> None:
        try:
            description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        except ClientError as error:
            if "ResourceNotFound" not in str(error):
                raise
            description = {}
        if description.get("StreamLabel") != self.stream_arn.rsplit("/stream/", 1)[-1]:
            self._source_replaced(f"stream {self.stream_arn}")
            return
        shards = description.get("Shards") or []
        got_records = False
        for shard in shards:
            if self._stopping.is_set():
                return
            got_records = self._poll_shard(shard["ShardId"]) or got_records
        now = time.monotonic()
        if got_records:
            self._last_records = now
        else:
            quiet = now - self._last_records >= STREAM_BUSY_SECONDS
            self._stopping.wait(STREAM_IDLE_POLL_SECONDS if quiet else STREAM_POLL_SECONDS)

    def _iterator(self, shard_id: str) -> str:
        if shard_id in self._iterators:
            return self._iterators.pop(shard_id)
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if shard_id in self.checkpoints:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.checkpoints[shard_id]}
        else:
            request["ShardIteratorType"] = self.starting_position
        return str(self.streams.get_shard_iterator(**request)["ShardIterator"])

    def _poll_shard(self, shard_id: str) -> bool:
        iterator = self._iterator(shard_id)
        response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
        if self._release_iterator:
            self._release_iterator(iterator)
        records = [self.record(raw) for raw in response.get("Records") or []]
        if not records:
            if response.get("NextShardIterator"):
                self._iterators[shard_id] = response["NextShardIterator"]
            if shard_id not in self.checkpoints and self.starting_position == "LATEST":
                # Pin LATEST to a position so that records written from now on are not skipped by a later LATEST.
                latest = self._latest_sequence(self.stream_arn) if self._latest_sequence else None
                if latest is not None:
                    self.checkpoints[shard_id] = str(latest)
            return False
        with self.state.lock:
            self.state.busy = True
        try:
            self._deliver(shard_id, records)
        finally:
            with self.state.lock:
                self.state.busy = False
        return True

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        batch = [record for record in records if record_matches(self.filters, record)]
        attempts = 0
        while batch and not self._stopping.is_set():
            result, error = self._invoke({"Records": batch})
            ids = {record["dynamodb"]["SequenceNumber"] for record in batch}
            if error is None and not self.report_batch_item_failures:
                break
            failed = ids if error is not None else _failed_ids(result, ids)
            if failed is None:
                logger.warning("%s: malformed batchItemFailures %r; the whole batch is retried", self.name, result)
                failed = ids
            if not failed:
                break
            # Like Lambda: everything before the lowest failed record is done; retry from that record on.
            first_failed = min(int(sequence) for sequence in failed)
            done = [record for record in batch if int(record["dynamodb"]["SequenceNumber"]) < first_failed]
            if done:
                self.checkpoints[shard_id] = done[-1]["dynamodb"]["SequenceNumber"]
            batch = [record for record in batch if int(record["dynamodb"]["SequenceNumber"]) >= first_failed]
            attempts += 1
            if 0 <= self.maximum_retry_attempts < attempts:
                self._send_to_on_failure(shard_id, batch, error, attempts)
                break
            self._stopping.wait(min(STREAM_RETRY_BASE_SECONDS * 2 ** (attempts - 1), STREAM_RETRY_MAX_SECONDS))
        if self._stopping.is_set() and batch:
            return  # not checkpointed: the next start retries these records
        self.checkpoints[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]

    def _send_to_on_failure(
        self, shard_id: str, batch: list[dict[str, Any]], error: InvocationError | None, attempts: int
    ) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        now = dt.datetime.now(dt.UTC)
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.spec.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if error is not None else {}),
            },
            "version": "1.0",
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        logger.warning("%s: giving up on %d record(s) after %d attempts", self.name, len(batch), attempts)
        if self.on_failure_queue_url:
            self.sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(message))

    def record(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Lambda's DynamoDB stream record for one stream record from GetRecords."""
        change = _jsonable(raw.get("dynamodb") or {})
        dynamodb = {
            key: change[key]
            for key in (
                "ApproximateCreationDateTime",
                "Keys",
                "NewImage",
                "OldImage",
                "SequenceNumber",
                "SizeBytes",
                "StreamViewType",
            )
            if key in change
        }
        return {
            "eventID": raw.get("eventID") or uuid.uuid4().hex,
            "eventName": raw["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }

    def idle(self) -> bool:
        """No batch being handled and every record up to the stream's newest has been handled."""
        with self.state.lock:
            if self.state.busy:
                return False
        latest = self._latest_sequence(self.stream_arn) if self._latest_sequence else None
        if latest is None:
            return True
        handled = [int(sequence) for sequence in self.checkpoints.values()]
        return bool(handled) and max(handled) >= latest


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
