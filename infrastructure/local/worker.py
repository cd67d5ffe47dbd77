"""Lambda-like worker process: imports one handler and runs the invocations it receives on a socket (stdout is the log).

Run by the local stack as ``python -I -u worker.py <fd>``; it imports nothing from the project until told which
handler to load, so the function sees only its own code directory and layers on sys.path.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any


class CognitoIdentity:
    """The (empty) Cognito identity of a non-mobile invocation, as the Python runtime provides it."""

    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The context object the AWS Python runtime passes to a handler."""

    def __init__(self, config: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.function_name: str = config["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = config["function_arn"]
        # The AWS runtime reads it from the environment, so it is a string there as well.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity()
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        """Write to the function's log, like the runtime's context.log."""
        sys.stdout.write(message)
        sys.stdout.flush()


def _error(error_type: str, exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": error_type,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def main() -> int:
    """Serve invocations until the parent closes the socket."""
    conn = Connection(int(sys.argv[1]))
    config = json.loads(conn.recv_bytes())
    sys.path[:0] = config["sys_path"]
    init_started = time.perf_counter()
    try:
        handler = _load_handler(config["handler"])
    except Exception as exc:
        error_type = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        print(f"[ERROR] {error_type}: Unable to import handler '{config['handler']}'", file=sys.stderr)
        traceback.print_exc()
        conn.send_bytes(json.dumps({"ready": False, "error": _error(error_type, exc)}).encode())
        return 1
    init_ms: float | None = (time.perf_counter() - init_started) * 1000
    try:
        conn.send_bytes(b'{"ready": true}')
    except (BrokenPipeError, ConnectionResetError, OSError):
        return 0  # the stack stopped, or reclaimed this worker, while it started: a normal end
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return 0  # the stack stopped (or gave up on this worker): a normal end, not a function crash
        request_id = request["request_id"]
        context = LambdaContext(config, request_id, int(request["deadline_ms"]))
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.perf_counter()
        try:
            result = handler(request["event"], context)
            try:
                reply = json.dumps({"ok": True, "result": result})
            except (TypeError, ValueError) as exc:
                reply = json.dumps({"ok": False, "error": _error("Runtime.MarshalError", exc)})
        except Exception as exc:
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            reply = json.dumps({"ok": False, "error": _error(type(exc).__name__, exc)})
        duration = (time.perf_counter() - started) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else ""
        # The handler's time (and the init's, on a cold start) travel with the reply: the cost meter bills them.
        report = f', "duration_ms": {duration:.3f}, "init_ms": {json.dumps(init_ms)}'
        init_ms = None
        print(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms{init}", flush=True)
        sys.stderr.flush()
        try:
            conn.send_bytes(reply[:-1].encode() + report.encode() + b"}")
        except (ConnectionResetError, BrokenPipeError):
            return 0  # the stack stopped while this invocation ran; nobody is waiting for its answer


def exit_now(code: int) -> None:
    """Leave without interpreter teardown, logs flushed: unloading boto3, pydantic, Powertools and moto module by module
    (and moto's threads one by one) only delays an exit whose work is done. The stack's command line leaves this way
    too; a worker does as a Lambda environment is simply stopped (the demo's two dozen workers ending at once made
    that teardown most of a stop)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
