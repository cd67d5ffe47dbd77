"""The cost meter: counts, exactly, what the local stack does that AWS would bill (benchmarks/cost.py reads it).

Off unless a `Meter` is given to `LocalStack(meter=...)`. Then it sees:
- every call to moto (a WSGI middleware in front of the moto server): service, action, who made it (the stack's own
  pollers and timers, a benchmark's harness, or the PRM: functions and Step Functions' service integrations),
  request and response bytes, and what the bill needs from the payload: DynamoDB request units (items sized before
  and after each write, under moto's DynamoDB lock, so a write is billed at the larger of the two as DynamoDB does),
  events put, SQS messages, email recipients, S3 bytes;
- every API Gateway request (the emulator's `handle`);
- every Lambda invocation, with the handler's duration as its worker measured it (and the init's on a cold start).

The unit arithmetic (DynamoDB item sizes, request units, 64 KB chunks) is here as plain functions, tested in
tests/infra/test_cost_model.py.
"""

from __future__ import annotations

import io
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote

from infrastructure.local import moto_patches
from infrastructure.local.template import REGION

STACK_AGENT = "prm-local-stack"  # infrastructure.local.stack.STACK_USER_AGENT
HARNESS_AGENT = "prm-cost-harness"  # a benchmark's own reads (execution histories): not part of any scenario
KB = 1024
CHUNK_64KB = 64 * KB

# X-Amz-Target prefixes of the JSON protocols -> service
_TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AmazonSQS": "sqs",
    "AWSStepFunctions": "stepfunctions",
    "AWSEvents": "events",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "secretsmanager": "secretsmanager",
    "AWSWAF_20190729": "wafv2",
}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


# ------------------------------------------------------------------------------------------ unit arithmetic


def _number_size(text: str) -> int:
    """DynamoDB's size of a number: about 1 byte per two significant digits, plus 1."""
    digits = text.strip().lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    if "e" in text.lower():
        digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "").split("E")[0]
    return math.ceil(len(digits) / 2) + 1


def attribute_value_size(value: dict[str, Any]) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """Size in bytes of one typed attribute value (DynamoDB JSON), by DynamoDB's documented rules."""
    [(kind, raw)] = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else math.floor(len(str(raw)) * 3 / 4)  # base64 text
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(attribute_value_size({"B": v}) for v in raw)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Size in bytes of an item (DynamoDB JSON): attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def write_units(before: int, after: int, *, transactional: bool = False) -> int:
    """Write request units of one item write: 1 per started KB of the larger of the old and the new item (at least
    1, a delete or a failed condition included); twice that inside a transaction."""
    units = max(1, math.ceil(max(before, after) / KB))
    return 2 * units if transactional else units


def read_units(sizes: Iterable[int], *, consistent: bool, transactional: bool = False, per_item: bool = True) -> float:
    """Read request units: 1 per started 4 KB read strongly consistent, half that eventually consistent, twice that
    in a transaction. GetItem and BatchGetItem round per item (a missing item still costs the minimum); a Query
    rounds the sum of the items it read."""
    sizes = list(sizes)
    if per_item:
        units = float(sum(max(1, math.ceil(size / (4 * KB))) for size in sizes))
    else:
        units = float(max(1, math.ceil(sum(sizes) / (4 * KB))))
    if transactional:
        return 2 * units
    return units if consistent else units / 2


def _projected(item: dict[str, Any], index: dict[str, Any]) -> dict[str, Any]:
    projection = index.get("projection") or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return item
    keep = {*index["keys"], *index.get("table_keys", [])}
    if kind == "INCLUDE":
        keep |= set(projection.get("NonKeyAttributes") or [])
    return {k: v for k, v in item.items() if k in keep}


def index_write_units(before: dict[str, Any] | None, after: dict[str, Any] | None, index: dict[str, Any]) -> int:
    """Write units a table write costs in one global secondary index (standard writes, also in transactions): an
    item entering, leaving or changing in the index is one write of its projected size; a changed index key is a
    delete plus a put; an item the index does not hold, or whose projection did not change, costs nothing."""
    keys = index["keys"]
    held_before = before is not None and all(k in before for k in keys)
    held_after = after is not None and all(k in after for k in keys)
    old = _projected(before, index) if held_before and before is not None else None
    new = _projected(after, index) if held_after and after is not None else None
    if old is not None and new is not None:
        if any(old[k] != new[k] for k in keys):
            return write_units(item_size(old), 0) + write_units(item_size(new), 0)
        if old == new:
            return 0
        return write_units(item_size(old), item_size(new))
    if old is not None:
        return write_units(item_size(old), 0)
    if new is not None:
        return write_units(item_size(new), 0)
    return 0


def chunks_64kb(size: int) -> int:
    """SQS requests and EventBridge events are billed per started 64 KB of payload (at least 1)."""
    return max(1, math.ceil(size / CHUNK_64KB))


def eventbridge_entry_size(entry: dict[str, Any]) -> int:
    """An event's billed size (EventBridge's PutEvents entry size: Time, Source, DetailType, Detail, Resources)."""
    size = 14 if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name) or "").encode())
    size += sum(len(str(r).encode()) for r in entry.get("Resources") or [])
    return size


# ------------------------------------------------------------------------------------------ request classification


def classify(  # noqa: PLR0911, PLR0912 - one answer per protocol and S3 method
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> tuple[str, str]:
    """(service, action) of a request to moto, read as the AWS SDKs send it."""
    target = headers.get("x-amz-target", "")
    service = ""
    if target:
        prefix, _, action = target.rpartition(".")
        service = _TARGETS.get(prefix, prefix.lower())
        return service, action
    scope = _SCOPE.search(headers.get("authorization", ""))
    if scope:
        service = scope.group(1)
    else:
        credential = parse_qs(query).get("X-Amz-Credential")
        if credential:
            found = _QUERY_SCOPE.search(unquote(credential[0]))
            service = found.group(1) if found else ""
    form_action = ""
    content_type = headers.get("content-type", "")
    if "x-www-form-urlencoded" in content_type and body:
        form_action = (parse_qs(body.decode(errors="replace")).get("Action") or [""])[0]
    form_action = form_action or (parse_qs(query).get("Action") or [""])[0]
    if path.startswith("/moto-api"):
        return "moto-api", path
    if re.fullmatch(r"/[^/]+/\.well-known/[^/]+", path):
        return "cognito-idp", "JWKS"
    if not service and "multipart/form-data" in content_type:
        service = "s3"  # a browser's presigned POST upload
    if service == "ses" and path.startswith("/v2/"):
        service = "sesv2"
    if form_action:
        return service or "unknown", form_action
    parts = [p for p in path.split("/") if p]
    if service == "scheduler":
        names = {"POST": "CreateSchedule", "DELETE": "DeleteSchedule", "GET": "GetSchedule", "PUT": "UpdateSchedule"}
        return service, names.get(method, method) if parts[:1] == ["schedules"] else f"{method} {path}"
    if service == "sesv2":
        return service, "SendEmail" if path.rstrip("/").endswith("outbound-emails") else f"{method} {path}"
    if service == "s3" or not service:
        service = "s3" if not service and method in {"GET", "HEAD", "PUT", "POST", "DELETE"} else service
        params = parse_qs(query, keep_blank_values=True)
        if method == "PUT":
            return "s3", "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
        if method == "POST":
            return "s3", "DeleteObjects" if "delete" in params else "PostObject"
        if method == "DELETE":
            return "s3", "DeleteObject"
        if method == "HEAD":
            return "s3", "HeadObject" if len(parts) > 1 else "HeadBucket"
        if method == "GET":
            return "s3", "GetObject" if len(parts) > 1 else "ListObjects"
    return service or "unknown", f"{method} {path}"


# ------------------------------------------------------------------------------------------ the meter


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        return bytes(stream.read(int(length))) if int(length) else b""
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Meter:
    """Thread-safe counters of one local stack; `reset()` starts a scenario, `snapshot()` reads it."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.api_requests: list[dict[str, Any]] = []
        self.invocations: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self.calls, self.api_requests, self.invocations = [], [], []

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {
                "calls": list(self.calls),
                "api_requests": list(self.api_requests),
                "invocations": list(self.invocations),
            }

    # -------------------------------------------------------------- hooks the stack installs
    def record_invocation(self, function: str, duration_ms: float | None, init_ms: float | None, ok: bool) -> None:
        with self._lock:
            self.invocations.append({"function": function, "duration_ms": duration_ms, "init_ms": init_ms, "ok": ok})

    def gateway(self, gateway: Any) -> Any:
        """Count every request the API Gateway emulator serves (method, path, status, bytes)."""
        handle = gateway.handle

        def metered(method: str, path: str, **kwargs: Any) -> Any:
            response = handle(method, path, **kwargs)
            with self._lock:
                self.api_requests.append(
                    {
                        "method": method,
                        "path": path,
                        "status": response.status,
                        "request_bytes": len(kwargs.get("body") or b""),
                        "response_bytes": len(response.body),
                    }
                )
            return response

        setattr(gateway, "handle", metered)  # noqa: B010 - an instance attribute, not a method assignment
        return gateway

    def wsgi_middleware(self, app: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap moto's WSGI application: every call is recorded once moto has answered it."""

        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            headers = {
                key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
            }
            if environ.get("CONTENT_TYPE"):
                headers["content-type"] = environ["CONTENT_TYPE"]
            method, path, query = (
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
            )
            service, action = classify(method, path, query, headers, body)
            agent = headers.get("user-agent", "")
            source = "stack" if STACK_AGENT in agent else "harness" if HARNESS_AGENT in agent else "prm"
            status: list[str] = []

            def recording_start_response(code: str, response_headers: Any, exc_info: Any = None) -> Any:
                status.append(code)
                return start_response(code, response_headers, exc_info)

            writes = service == "dynamodb" and action in DYNAMODB_WRITES
            request = _json(body) if service in {"dynamodb", "events", "sqs", "sesv2", "stepfunctions"} else {}
            started = time.perf_counter()
            with moto_patches.dynamodb_lock() if writes else nullcontext():
                before = self._items_written(action, request) if writes else []
                result = app(environ, recording_start_response)
                try:
                    chunks = list(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
                after = [(table, moto_patches.dynamodb_item(table, key, self.region)) for table, key, _ in before]
            response = b"".join(chunks)
            code = int(status[0].split()[0]) if status else 0
            record: dict[str, Any] = {
                "service": service,
                "action": action,
                "source": source,
                "status": code,
                "request_bytes": len(body),
                "response_bytes": len(response),
                "ms": round((time.perf_counter() - started) * 1000, 3),
            }
            try:
                record |= self._details(service, action, request, body, response, before, after)
            except Exception as error:  # a payload the meter cannot read must not fail the call
                record["meter_error"] = repr(error)
            with self._lock:
                self.calls.append(record)
            return [response]

        return middleware

    # -------------------------------------------------------------- payload details
    def _items_written(
        self, action: str, request: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        """(table, key or item, stored item before) of every item a write touches; ConditionChecks are marked."""
        touched: list[tuple[str, dict[str, Any]]] = []
        if action == "PutItem":
            touched.append((request["TableName"], request["Item"]))
        elif action in {"UpdateItem", "DeleteItem"}:
            touched.append((request["TableName"], request["Key"]))
        elif action == "TransactWriteItems":
            for operation in request.get("TransactItems", []):
                [(_kind, spec)] = operation.items()
                touched.append((spec["TableName"], spec.get("Item") or spec.get("Key") or {}))
        elif action == "BatchWriteItem":
            for table, operations in (request.get("RequestItems") or {}).items():
                for operation in operations:
                    if "PutRequest" in operation:
                        touched.append((table, operation["PutRequest"]["Item"]))
                    else:
                        touched.append((table, operation["DeleteRequest"]["Key"]))
        return [(table, key, moto_patches.dynamodb_item(table, key, self.region)) for table, key in touched]

    def _details(  # noqa: PLR0911 - one answer per billed service
        self,
        service: str,
        action: str,
        request: dict[str, Any],
        body: bytes,
        response: bytes,
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]],
        after: list[tuple[str, dict[str, Any] | None]],
    ) -> dict[str, Any]:
        if service == "dynamodb":
            return self._dynamodb(action, request, response, before, after)
        if service == "events" and action == "PutEvents":
            sizes = [eventbridge_entry_size(entry) for entry in request.get("Entries", [])]
            return {"events": len(sizes), "event_chunks": sum(chunks_64kb(s) for s in sizes), "event_bytes": sum(sizes)}
        if service == "sqs":
            if action == "ReceiveMessage":
                messages = _json(response).get("Messages") or []
                return {"messages": len(messages), "message_ids": [m.get("MessageId") for m in messages]}
            if action in {"SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"}:
                entries = request.get("Entries") or []
                return {"messages": len(entries), "chunks": chunks_64kb(len(body))}
            if action == "SendMessage":
                return {"messages": 1, "chunks": chunks_64kb(len(str(request.get("MessageBody", "")).encode()))}
        if service == "sesv2" and action == "SendEmail":
            destination = _json(body).get("Destination") or {}
            recipients = sum(len(destination.get(k) or []) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
            return {"recipients": recipients}
        if service == "s3" and action in {"PutObject", "PostObject"}:
            return {"bytes_in": len(body)}
        if service == "stepfunctions" and action == "StartExecution":
            return {"execution": str(request.get("name") or ""), "state_machine": str(request.get("stateMachineArn"))}
        return {}

    def _dynamodb(
        self,
        action: str,
        request: dict[str, Any],
        response: bytes,
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]],
        after: list[tuple[str, dict[str, Any] | None]],
    ) -> dict[str, Any]:
        if action in DYNAMODB_WRITES:
            transactional = action == "TransactWriteItems"
            wru = 0
            index_wru = 0
            sizes = []
            for (table, _key, old), (_table, new) in zip(before, after, strict=True):
                size = max(item_size(old), item_size(new))
                sizes.append(size)
                wru += write_units(item_size(old), item_size(new), transactional=transactional)
                for index in moto_patches.dynamodb_indexes(table, self.region):
                    index_wru += index_write_units(old, new, index)
            return {"wru": wru, "index_wru": index_wru, "items": len(sizes), "item_bytes": sizes}
        answer = _json(response)
        if action == "GetItem":
            size = item_size(answer.get("Item"))
            consistent = bool(request.get("ConsistentRead"))
            return {"rru": read_units([size], consistent=consistent), "items": 1, "item_bytes": [size]}
        if action == "BatchGetItem":
            sizes = [item_size(i) for items in (answer.get("Responses") or {}).values() for i in items]
            requested = sum(len(spec.get("Keys") or []) for spec in (request.get("RequestItems") or {}).values())
            sizes += [0] * max(0, requested - len(sizes))  # keys not found still cost the minimum
            consistent = all(spec.get("ConsistentRead") for spec in (request.get("RequestItems") or {}).values())
            return {"rru": read_units(sizes, consistent=consistent), "items": len(sizes), "item_bytes": sizes}
        if action == "TransactGetItems":
            sizes = [item_size(r.get("Item")) for r in answer.get("Responses") or []]
            return {"rru": read_units(sizes, consistent=True, transactional=True), "items": len(sizes)}
        if action in {"Query", "Scan"}:
            sizes = [item_size(i) for i in answer.get("Items") or []]
            consistent = bool(request.get("ConsistentRead"))
            return {
                "rru": read_units(sizes, consistent=consistent, per_item=False),
                "items": len(sizes),
                "scanned": answer.get("ScannedCount", len(sizes)),
                "item_bytes": sizes,
            }
        return {}
