"""The local Lambda runtime: one isolated worker process per execution environment, Lambda-like failures."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infrastructure.local.runtime import FunctionRuntime, FunctionSpec, InvocationError, Runtime

Factory = Callable[..., FunctionRuntime]

HANDLERS = """
import json, os, sys, time

import shared


def report(event, context):
    print(json.dumps({"level": "INFO", "message": "printed to stdout"}))
    try:
        __import__(event.get("try_import", "infrastructure"))
        importable = True
    except ImportError:
        importable = False
    return {
        "environ": dict(os.environ),
        "sys_path": sys.path[:2],
        "shared": shared.__file__,
        "importable": importable,
        "cwd": os.getcwd(),
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
    }


def fail(event, context):
    raise ValueError("boom")


def crash(event, context):
    os._exit(3)


def slow(event, context):
    time.sleep(event["seconds"])
    return os.getpid()


def unserialisable(event, context):
    return {"when": object()}
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("function")
    code_dir = root / "code"
    code_dir.mkdir()
    (code_dir / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (code_dir / "broken.py").write_text("import does_not_exist\n")
    layer = root / "layer"
    (layer / "python" / "shared").mkdir(parents=True)
    (layer / "python" / "shared" / "__init__.py").write_text("")
    return code_dir, layer


def spec(code: tuple[Path, Path], handler: str, *, timeout: float = 10) -> FunctionSpec:
    code_dir, layer = code
    return FunctionSpec(
        logical_id="TestFunction",
        name="prm-local-TestFunction",
        arn="arn:aws:lambda:us-east-1:123456789012:function:prm-local-TestFunction",
        handler=handler,
        code_dir=code_dir,
        layer_dirs=(layer,),
        environment={
            "TABLE_NAME": "prm-dev-onboarding",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/prm-local-TestFunction",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        },
        memory_mb=512,
        timeout_seconds=timeout,
        log_path=code_dir.parent / "logs" / f"{handler}.log",
    )


@pytest.fixture
def runtime_factory(code: tuple[Path, Path]) -> Iterator[Factory]:
    runtimes: list[FunctionRuntime] = []

    def make(handler: str, **options: float) -> FunctionRuntime:
        runtime = FunctionRuntime(spec(code, handler, **options), reload_on_change=False)
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        for worker in runtime.close():
            worker.reap()


def test_a_worker_sees_only_its_environment_code_and_layer(
    runtime_factory: Factory, code: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))
    monkeypatch.setenv("SECRET_OF_THE_PARENT", "x")
    result = runtime_factory("handlers.report").invoke({})
    code_dir, layer = code
    assert result["environ"]["TABLE_NAME"] == "prm-dev-onboarding"
    assert "SECRET_OF_THE_PARENT" not in result["environ"]
    assert "PYTHONPATH" not in result["environ"]
    assert result["importable"] is False  # the repository (infrastructure, functions/...) is not on sys.path
    assert result["sys_path"] == [str(code_dir), str(layer / "python")]
    assert result["shared"].startswith(str(layer / "python" / "shared"))
    assert result["cwd"] == str(code_dir)
    context = result["context"]
    assert context["function_name"] == "prm-local-TestFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(":function:prm-local-TestFunction")
    assert context["memory_limit_in_mb"] == "512"
    assert context["log_group_name"] == "/aws/lambda/prm-local-TestFunction"
    assert 0 < context["remaining"] <= 10_000
    assert len(context["aws_request_id"]) == 36


def test_stdout_goes_to_the_function_log_not_the_result(runtime_factory: Factory, code: tuple[Path, Path]) -> None:
    runtime = runtime_factory("handlers.report")
    runtime.invoke({})
    log = runtime.spec.log_path.read_text()
    assert "printed to stdout" in log
    assert "START RequestId:" in log
    assert "Init Duration:" in log


def test_a_handler_exception_is_an_invocation_error_and_keeps_the_worker(runtime_factory: Factory) -> None:
    runtime = runtime_factory("handlers.fail")
    with pytest.raises(InvocationError) as raised:
        runtime.invoke({})
    assert raised.value.error_type == "ValueError"
    assert raised.value.message == "boom"
    assert any("boom" in line for line in raised.value.stack_trace)
    assert "ValueError: boom" in runtime.spec.log_path.read_text()
    [worker] = runtime._idle
    assert worker.process.poll() is None


def test_a_crashed_worker_is_replaced(runtime_factory: Factory, code: tuple[Path, Path]) -> None:
    crash = runtime_factory("handlers.crash")
    with pytest.raises(InvocationError) as raised:
        crash.invoke({})
    assert raised.value.error_type == "Runtime.ExitError"
    with pytest.raises(InvocationError):
        crash.invoke({})  # a fresh worker, which crashes again: no stuck state


def test_a_timeout_kills_the_worker_and_the_next_invocation_gets_a_new_one(runtime_factory: Factory) -> None:
    runtime = runtime_factory("handlers.slow", timeout=0.5)
    with pytest.raises(InvocationError) as raised:
        runtime.invoke({"seconds": 5})
    assert raised.value.error_type == "Sandbox.Timedout"
    assert isinstance(runtime.invoke({"seconds": 0}), int)


def test_an_import_error_fails_each_invocation_with_a_logged_error(runtime_factory: Factory) -> None:
    runtime = runtime_factory("broken.handler")
    for _ in range(2):
        with pytest.raises(InvocationError) as raised:
            runtime.invoke({})
        assert raised.value.error_type == "Runtime.ImportModuleError"
    assert "does_not_exist" in runtime.spec.log_path.read_text()


def test_an_unserialisable_result_is_a_marshal_error(runtime_factory: Factory) -> None:
    with pytest.raises(InvocationError) as raised:
        runtime_factory("handlers.unserialisable").invoke({})
    assert raised.value.error_type == "Runtime.MarshalError"


def test_at_most_two_workers_run_at_once(runtime_factory: Factory) -> None:
    runtime = runtime_factory("handlers.slow")
    runtime.invoke({"seconds": 0})  # warm one worker
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=3) as pool:
        pids = list(pool.map(lambda _: runtime.invoke({"seconds": 0.6}), range(3)))
    elapsed = time.perf_counter() - started
    assert len(set(pids)) == 2
    assert elapsed >= 1.2  # the third invocation waited for a free worker
    assert os.getpid() not in pids


def test_an_idle_worker_is_reclaimed_and_the_next_invocation_starts_a_new_one(runtime_factory: Factory) -> None:
    runtime = runtime_factory("handlers.slow")
    first = runtime.invoke({"seconds": 0})
    [worker] = runtime._idle
    assert runtime.reclaim_idle(60) == 0  # used a moment ago: kept
    assert runtime.workers == 1
    worker.idle_since -= 61
    assert runtime.reclaim_idle(60) == 1
    assert runtime.workers == 0
    assert worker.process.wait(timeout=10) == 0  # it exited on its own, as asked
    second = runtime.invoke({"seconds": 0})
    assert second != first
    assert runtime.workers == 1


def test_a_busy_worker_is_never_reclaimed(runtime_factory: Factory) -> None:
    runtime = runtime_factory("handlers.slow")
    runtime.invoke({"seconds": 0})
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(runtime.invoke, {"seconds": 1})
        time.sleep(0.3)
        [busy] = runtime._busy
        busy.idle_since -= 3600  # idle for an hour before this invocation
        assert runtime.reclaim_idle(60) == 0
        assert isinstance(running.result(timeout=10), int)
    assert runtime.workers == 1


def test_the_runtime_reclaims_idle_workers_of_every_function_on_its_own(code: tuple[Path, Path]) -> None:
    runtime = Runtime([spec(code, "handlers.slow")], idle_seconds=1.0)
    try:
        runtime.invoke("TestFunction", {"seconds": 0})
        assert runtime.workers == 1
        deadline = time.monotonic() + 10
        while runtime.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runtime.workers == 0
        assert isinstance(runtime.invoke("TestFunction", {"seconds": 0}), int)  # a cold start, and it works
    finally:
        runtime.close()
    assert runtime._reclaimer is not None
    runtime._reclaimer.join(timeout=5)
    assert not runtime._reclaimer.is_alive()  # stopping the stack stops the reclaimer


def test_prewarm_starts_only_the_functions_named(code: tuple[Path, Path]) -> None:
    specs = [spec(code, "handlers.slow"), spec(code, "handlers.report")]
    specs[1] = FunctionSpec(**{**specs[1].__dict__, "logical_id": "OtherFunction"})
    runtime = Runtime(specs)
    try:
        runtime.prewarm(["TestFunction", "NotAFunction"])
        assert runtime.functions["TestFunction"].workers == 1
        assert runtime.functions["OtherFunction"].workers == 0
    finally:
        runtime.close()


def test_changed_code_gets_a_fresh_worker(tmp_path: Path) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    module = code_dir / "reloading.py"
    module.write_text("import os\n\ndef handler(event, context):\n    return ['v1', os.getpid()]\n")
    runtime = FunctionRuntime(
        FunctionSpec(
            logical_id="Reloading",
            name="Reloading",
            arn="arn:aws:lambda:us-east-1:123456789012:function:Reloading",
            handler="reloading.handler",
            code_dir=code_dir,
            layer_dirs=(),
            environment={},
            memory_mb=128,
            timeout_seconds=10,
            log_path=tmp_path / "reloading.log",
        )
    )
    try:
        version, first_pid = runtime.invoke({})
        assert version == "v1"
        time.sleep(1.1)  # changes are looked for at most once a second
        module.write_text("import os\n\ndef handler(event, context):\n    return ['v2', os.getpid()]\n")
        version, second_pid = runtime.invoke({})
        assert version == "v2"
        assert second_pid != first_pid
    finally:
        for worker in runtime.close():
            worker.reap()


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "soon"])
def test_the_idle_option_takes_only_zero_or_a_positive_number_of_seconds(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from infrastructure.local.__main__ import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(["start", f"--worker-idle-seconds={value}"])
    assert "--worker-idle-seconds" in capsys.readouterr().err
    assert _parser().parse_args(["start", "--worker-idle-seconds", "0"]).worker_idle_seconds == 0
    assert _parser().parse_args(["start"]).worker_idle_seconds == 300


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_the_runtime_refuses_an_idle_time_that_is_not_a_positive_number(code: tuple[Path, Path], value: float) -> None:
    with pytest.raises(ValueError, match="idle_seconds"):
        Runtime([spec(code, "handlers.slow")], idle_seconds=value)


def test_a_worker_still_starting_is_not_reclaimed_and_ends_quietly_when_stopped(
    code: tuple[Path, Path], tmp_path: Path
) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "sluggish.py").write_text("import time\ntime.sleep(2)\n\ndef handler(event, context):\n    return 1\n")
    sluggish = FunctionSpec(**{**spec(code, "sluggish.handler").__dict__, "code_dir": code_dir})
    runtime = FunctionRuntime(sluggish, reload_on_change=False)
    try:
        runtime.prewarm()
        [worker] = runtime._idle
        worker.idle_since -= 3600
        assert runtime.reclaim_idle(60) == 0  # importing its handler: not idle
        time.sleep(3)
        assert runtime.reclaim_idle(60) == 1  # started and never used since
        assert worker.process.wait(timeout=10) == 0
    finally:
        for stopping in runtime.close():
            stopping.reap()
    assert "Traceback" not in sluggish.log_path.read_text()


def test_a_worker_stopped_while_it_starts_exits_without_a_traceback(code: tuple[Path, Path], tmp_path: Path) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "sluggish.py").write_text("import time\ntime.sleep(1)\n\ndef handler(event, context):\n    return 1\n")
    sluggish = FunctionSpec(**{**spec(code, "sluggish.handler").__dict__, "code_dir": code_dir})
    runtime = FunctionRuntime(sluggish, reload_on_change=False)
    runtime.prewarm()
    [worker] = runtime.close()  # the stack stops while the worker still imports its handler
    assert worker.process.wait(timeout=10) == 0
    assert "Traceback" not in sluggish.log_path.read_text()
