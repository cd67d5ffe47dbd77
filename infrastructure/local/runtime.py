"""Lambda runtime emulation: each function runs in its own worker processes, with its own environment and sys.path."""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
INIT_TIMEOUT_SECONDS = 30.0  # Lambda allows 10 s; a busy two-core laptop starting every worker at once needs more.
RELOAD_CHECK_INTERVAL_SECONDS = 1.0
# Lambda reclaims an execution environment that has been idle for a while (minutes; AWS does not say exactly). The
# local stack does the same, so a long `make dev` holds only the workers of the functions in use (issue 8: about
# 50 MB per worker, 27 functions).
WORKER_IDLE_SECONDS = 300.0


@dataclass(frozen=True)
class FunctionSpec:
    """Everything needed to run one AWS::Serverless::Function locally."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: float
    log_path: Path


class InvocationError(Exception):
    """An invocation failed the way Lambda reports it: the handler raised, timed out, or the runtime failed."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> InvocationError:
        """Build one from the worker's {errorType, errorMessage, stackTrace}."""
        return cls(str(payload.get("errorType")), str(payload.get("errorMessage")), payload.get("stackTrace"))


class _WorkerProcess:
    """One warm 'execution environment': a subprocess that has imported the handler."""

    def __init__(self, spec: FunctionSpec, generation: float) -> None:
        self.spec = spec
        self.generation = generation
        self.ready = False
        self.idle_since = time.monotonic()
        # (handler ms, init ms or None) of the last invocation, as the worker measured them
        self.last_report: tuple[float | None, float | None] = (None, None)
        parent_socket, child_socket = socket.socketpair()
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                # the logical id is only a label for `ps`: which function a worker process runs
                [sys.executable, "-I", "-u", str(WORKER_SCRIPT), str(child_socket.fileno()), spec.logical_id],
                env=spec.environment,
                cwd=spec.code_dir if spec.code_dir.is_dir() else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(child_socket.fileno(),),
                start_new_session=True,  # Ctrl-C in the terminal reaches the stack, which then stops workers itself
            )
        child_socket.close()
        self.conn = Connection(parent_socket.detach())
        sys_path = [str(spec.code_dir), *(str(layer / "python") for layer in spec.layer_dirs)]
        config = {
            "handler": spec.handler,
            "sys_path": sys_path,
            "function_name": spec.name,
            "function_arn": spec.arn,
        }
        self.conn.send_bytes(json.dumps(config).encode())

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        if not self.conn.poll(timeout):
            return None
        try:
            message: dict[str, Any] = json.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            code = self.process.wait(timeout=5)
            raise InvocationError(
                "Runtime.ExitError", f"RequestId: worker exited with status {code} (see {self.spec.log_path})"
            ) from None
        return message

    def wait_ready(self) -> None:
        if self.ready:
            return
        message = self._receive(INIT_TIMEOUT_SECONDS)
        if message is None:
            raise InvocationError("Sandbox.Timedout", f"init did not finish within {INIT_TIMEOUT_SECONDS:.0f} s")
        if not message.get("ready"):
            raise InvocationError.from_payload(message.get("error") or {})
        self.ready = True

    def invoke(self, event: Any, timeout: float) -> Any:
        self.wait_ready()
        request_id = str(uuid.uuid4())
        deadline_ms = int((time.time() + timeout) * 1000)
        self.conn.send_bytes(
            json.dumps({"event": event, "request_id": request_id, "deadline_ms": deadline_ms}).encode()
        )
        message = self._receive(timeout)
        if message is None:
            self.last_report = (timeout * 1000, None)
            raise InvocationError("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")
        self.last_report = (message.get("duration_ms"), message.get("init_ms"))
        if not message.get("ok"):
            raise InvocationError.from_payload(message.get("error") or {})
        return message.get("result")

    def close(self) -> None:
        try:
            self.conn.close()  # the worker sees EOF and exits
        except OSError:
            pass

    def reap(self, timeout: float = 2.0) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _code_generation(directories: Iterable[Path]) -> float:
    """The newest modification time of any Python file under the given directories."""
    newest = 0.0
    stack = [str(directory) for directory in directories]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=True):
                if entry.name != "__pycache__" and not entry.name.startswith("."):
                    stack.append(entry.path)
            elif entry.name.endswith(".py"):
                newest = max(newest, entry.stat().st_mtime)
    return newest


# Told of every finished invocation: (logical id, handler ms or None, init ms or None, succeeded).
InvocationObserver = Callable[[str, float | None, float | None, bool], None]


class FunctionRuntime:
    """Up to max_workers warm workers of one function; crashed or outdated workers are replaced on demand."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        max_workers: int = 2,
        reload_on_change: bool = True,
        observer: InvocationObserver | None = None,
    ) -> None:
        self.spec = spec
        self.observer = observer
        self.max_workers = max_workers
        self._reload_on_change = reload_on_change
        self._code_dirs = (spec.code_dir, *(layer / "python" for layer in spec.layer_dirs))
        self._generation = _code_generation(self._code_dirs)
        self._checked_at = time.monotonic()
        self._idle: list[_WorkerProcess] = []
        self._busy: set[_WorkerProcess] = set()
        self._count = 0
        self._closed = False
        self._condition = threading.Condition()

    def prewarm(self) -> None:
        """Start one worker now (without waiting for its init) so that the first invocation finds it warm."""
        with self._condition:
            if self._count or self._closed:
                return
            self._count += 1
        try:
            worker = _WorkerProcess(self.spec, self._generation)
        except Exception:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        self._release(worker, healthy=True)

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        """Run the handler with event; returns its result or raises InvocationError."""
        worker = self._acquire()
        healthy = False
        worker.last_report = (None, None)
        try:
            result = worker.invoke(event, self.spec.timeout_seconds if timeout is None else timeout)
            healthy = True
            self._observe(worker, ok=True)
            return result
        except InvocationError as error:
            self._observe(worker, ok=False)
            # A handler exception leaves the environment usable; timeouts, crashes and init failures do not.
            healthy = worker.ready and error.error_type not in {"Sandbox.Timedout", "Runtime.ExitError"}
            if self._closed and error.error_type == "Runtime.ExitError":
                # close(kill_busy=True): the stack is stopping, not the function failing; the event source delivers
                # the event again after the next start (a queue's message becomes visible, a stream is re-read).
                logger.info("%s: invocation stopped by the stack's shutdown", self.spec.logical_id)
            elif not worker.ready or error.error_type.startswith(("Runtime.", "Sandbox.")):
                logger.error("%s: %s (log: %s)", self.spec.logical_id, error, self.spec.log_path)
            raise
        finally:
            self._release(worker, healthy)

    def _observe(self, worker: _WorkerProcess, *, ok: bool) -> None:
        if self.observer is not None:
            duration, init = worker.last_report
            self.observer(self.spec.logical_id, duration, init, ok)

    def _refresh_generation(self) -> None:
        if not self._reload_on_change or time.monotonic() - self._checked_at < RELOAD_CHECK_INTERVAL_SECONDS:
            return
        self._checked_at = time.monotonic()
        generation = _code_generation(self._code_dirs)
        if generation != self._generation:
            logger.info("%s: code changed; new invocations get fresh workers", self.spec.logical_id)
            self._generation = generation

    def _acquire(self) -> _WorkerProcess:
        with self._condition:
            while True:
                if self._closed:
                    raise InvocationError("Runtime.Unavailable", "the local stack is stopping")
                self._refresh_generation()
                while self._idle:
                    worker = self._idle.pop()
                    if worker.generation == self._generation and worker.process.poll() is None:
                        self._busy.add(worker)
                        return worker
                    self._discard(worker)
                if self._count < self.max_workers:
                    self._count += 1
                    break
                self._condition.wait()
        try:
            worker = _WorkerProcess(self.spec, self._generation)
        except Exception:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._busy.add(worker)
            closed = self._closed
        if closed:
            worker.process.kill()  # close() ran while this worker started: it must not outlive the stack
        return worker

    def _discard(self, worker: _WorkerProcess) -> None:
        """Forget a worker (caller holds the lock) and let it exit in the background."""
        self._count -= 1
        worker.close()
        threading.Thread(target=worker.reap, daemon=True).start()

    def _release(self, worker: _WorkerProcess, healthy: bool) -> None:
        with self._condition:
            self._busy.discard(worker)
            if healthy and not self._closed:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            else:
                if not healthy:
                    worker.process.kill()
                self._discard(worker)
            self._condition.notify()

    def reclaim_idle(self, idle_seconds: float) -> int:
        """Let every worker idle for at least idle_seconds exit, as Lambda reclaims idle environments; returns how
        many. The next invocation starts a worker again (a cold start)."""
        with self._condition:
            now = time.monotonic()
            # a prewarmed worker still importing its handler is not idle yet (it is not `ready` until first used)
            stale = [
                worker
                for worker in self._idle
                if now - worker.idle_since >= idle_seconds and (worker.ready or worker.conn.poll(0))
            ]
            self._idle = [worker for worker in self._idle if worker not in stale]
            for worker in stale:
                self._discard(worker)
        return len(stale)

    @property
    def workers(self) -> int:
        """Workers started and not yet discarded (busy, idle or starting)."""
        return self._count

    def close(self, *, kill_busy: bool = False) -> list[_WorkerProcess]:
        """Stop accepting invocations and ask idle workers to exit; returns them so the caller can reap them.

        With kill_busy, workers still running an invocation are killed too (their invocations fail with
        Runtime.ExitError, as when Lambda stops an execution environment); otherwise they finish first.
        """
        with self._condition:
            self._closed = True
            workers, self._idle = self._idle, []
            self._count -= len(workers)
            busy = list(self._busy) if kill_busy else []
            self._condition.notify_all()
        for worker in workers:
            worker.close()
        for worker in busy:
            if worker.process.poll() is None:
                worker.process.kill()
        return workers


class Runtime:
    """All functions of the stack, by logical id. Workers start at a function's first invocation (or at prewarm)
    and, with idle_seconds, exit after that long without an invocation, checked by one thread."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec],
        *,
        max_workers: int = 2,
        observer: InvocationObserver | None = None,
        idle_seconds: float | None = None,
    ) -> None:
        self.functions = {
            spec.logical_id: FunctionRuntime(spec, max_workers=max_workers, observer=observer) for spec in specs
        }
        if idle_seconds is not None and not (math.isfinite(idle_seconds) and idle_seconds > 0):
            raise ValueError(f"idle_seconds must be a positive number of seconds or None, not {idle_seconds!r}")
        self.idle_seconds = idle_seconds
        self._stopping = threading.Event()
        self._reclaimer: threading.Thread | None = None
        if idle_seconds:
            self._reclaimer = threading.Thread(target=self._reclaim_idle, name="worker-reclaimer", daemon=True)
            self._reclaimer.start()

    def _reclaim_idle(self) -> None:
        assert self.idle_seconds
        interval = min(max(self.idle_seconds / 4, 0.5), 30.0)
        while not self._stopping.wait(interval):
            for function in self.functions.values():
                if function.reclaim_idle(self.idle_seconds):
                    logger.debug("%s: idle workers reclaimed", function.spec.logical_id)

    def invoke(self, logical_id: str, event: Any, timeout: float | None = None) -> Any:
        """Invoke a function synchronously (RequestResponse)."""
        return self.functions[logical_id].invoke(event, timeout)

    def prewarm(self, logical_ids: Iterable[str] | None = None) -> None:
        """Start one worker per function (or per function named) in the background."""
        for logical_id in self.functions if logical_ids is None else logical_ids:
            if logical_id in self.functions:
                self.functions[logical_id].prewarm()

    @property
    def workers(self) -> int:
        """Workers of all functions, started and not yet discarded."""
        return sum(function.workers for function in self.functions.values())

    def close(self, *, kill_busy: bool = False, timeout: float = 2.0) -> None:
        """Stop every worker: idle ones exit on EOF, busy ones finish (or are killed with kill_busy); stragglers still
        running after `timeout` seconds in all are killed."""
        self._stopping.set()
        workers = [worker for function in self.functions.values() for worker in function.close(kill_busy=kill_busy)]
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.reap(max(0.0, deadline - time.monotonic()))
