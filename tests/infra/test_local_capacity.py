"""The local stack under load: bursts of connections, concurrent requests to one route, memory that does not pile up,
and a prompt stop with workflows open."""

from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import socket
import subprocess
import textwrap
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from infrastructure.local.gateway import ApiGateway, Route
from infrastructure.local.mail import Mailbox
from infrastructure.local.runtime import FunctionRuntime, FunctionSpec
from infrastructure.local.server import LocalHttpServer, Site
from infrastructure.local.stack import LocalStack
from tests.support.processes import fresh_stack_command
from tests.support.workflows import ask_and_wait

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SLOW_HANDLER = """
import time


def handler(event, context):
    started = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    return {"statusCode": 200, "body": str(started)}


def stuck(event, context):
    time.sleep(event["seconds"])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Site:
    (tmp_path / "index.html").write_text("<html></html>")
    return Site(tmp_path, Mailbox(), lambda: {"ok": True})


def test_a_burst_of_connections_is_queued_not_refused(site: Site) -> None:
    """50 clients connect while the server is busy (not accepting): the kernel must queue them all (listen backlog)."""
    server = LocalHttpServer(site, HOST, 0)  # bound and listening, not yet accepting
    sockets = []
    try:
        for _ in range(50):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex((HOST, server.port))
            sockets.append(client)
        deadline = time.monotonic() + 3
        connected: set[socket.socket] = set()
        while len(connected) < len(sockets) and time.monotonic() < deadline:
            _, writable, _ = select.select([], [s for s in sockets if s not in connected], [], 0.2)
            connected |= {s for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0}
        assert len(connected) == 50, f"only {len(connected)} of 50 connections were queued"
        server.start()
        for client in sockets:
            client.setblocking(True)
            client.settimeout(10)
            client.sendall(b"GET /config.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = [client.recv(64) for client in sockets]
        assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    finally:
        for client in sockets:
            client.close()
        server.stop()


@pytest.fixture
def function(tmp_path: Path) -> Iterator[Callable[[str, float], FunctionRuntime]]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow.py").write_text(textwrap.dedent(SLOW_HANDLER))
    runtimes: list[FunctionRuntime] = []

    def make(handler: str, timeout: float) -> FunctionRuntime:
        runtime = FunctionRuntime(
            FunctionSpec(
                logical_id="SlowFunction",
                name="prm-local-SlowFunction",
                arn="arn:aws:lambda:us-east-1:123456789012:function:prm-local-SlowFunction",
                handler=handler,
                code_dir=code,
                layer_dirs=(),
                environment={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                memory_mb=128,
                timeout_seconds=timeout,
                log_path=tmp_path / "logs" / "slow.log",
            ),
            reload_on_change=False,
        )
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        for worker in runtime.close(kill_busy=True):
            worker.reap()


def test_fifty_concurrent_requests_to_one_route_are_all_answered(
    site: Site, function: Callable[[str, float], FunctionRuntime]
) -> None:
    """Each request's 1 s Lambda timeout counts from when its handler starts: waiting for one of the function's workers
    (25 rounds of 0.2 s on two workers, far longer than 1 s) is not a timeout, and no connection is refused."""
    slow_function = function("slow.handler", 1.0)
    site.gateway = ApiGateway(
        api_id="abc123defg",
        stage="dev",
        account_id="123456789012",
        routes=[Route(path="/slow", method="POST", function="SlowFunction", authorizer=None)],
        invoke=lambda _function, event, timeout: slow_function.invoke(event, timeout),
        function_timeouts={"SlowFunction": 1.0},
        authorizers={},
        throttling=False,
    )
    server = LocalHttpServer(site, HOST, 0)
    server.start()
    try:
        url = f"http://{HOST}:{server.port}/api/slow"
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda _: requests.post(url, json={}, timeout=60), range(50)))
        assert [answer.status_code for answer in answers] == [200] * 50
        # Every handler started with (nearly) its whole second left, however long it waited for a worker.
        assert min(int(answer.text) for answer in answers) > 500
    finally:
        server.stop()


def test_stopping_does_not_wait_for_a_running_invocation(
    function: Callable[[str, float], FunctionRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """A stop ends an invocation that would run for its whole (long) timeout, as Lambda stops an environment; that is
    the stack stopping, not the function failing, so it is not logged as an error."""
    from infrastructure.local.runtime import InvocationError, Runtime

    caplog.set_level(logging.INFO, logger="infrastructure.local.runtime")
    slow_function = function("slow.stuck", 90.0)
    runtime = Runtime([])
    runtime.functions["SlowFunction"] = slow_function
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(slow_function.invoke, {"seconds": 60}, 90)
        deadline = time.monotonic() + 30
        while not slow_function._busy or not all(w.ready for w in slow_function._busy):
            assert time.monotonic() < deadline, "the invocation did not start"
            time.sleep(0.05)
        time.sleep(0.3)  # inside the handler now
        started = time.monotonic()
        runtime.close(kill_busy=True)
        with pytest.raises(InvocationError) as stopped:
            running.result(timeout=10)
    assert stopped.value.error_type == "Runtime.ExitError"
    assert time.monotonic() - started < 10
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "infrastructure.local.runtime"]
    assert ("INFO", "SlowFunction: invocation stopped by the stack's shutdown") in said
    assert not [message for level, message in said if level == "ERROR"], said


def test_moto_does_not_keep_objects_nobody_uses() -> None:
    """moto's BaseModel tracks every instance it creates; the local stack's patch lets unused ones be freed."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from infrastructure.local import moto_patches

    moto_patches.apply()
    item = Item(hash_key=DynamoType({"S": "a"}), range_key=None, attrs={"pk": {"S": "a"}, "n": {"N": "1"}})
    alive = Item(hash_key=DynamoType({"S": "b"}), range_key=None, attrs={"pk": {"S": "b"}})
    dead = weakref.ref(item)
    del item
    gc.collect()
    assert dead() is None
    assert alive in list(Item.instances_tracked)  # type: ignore[attr-defined]  # the dashboard still sees live ones


def _wait_for_stack(process: subprocess.Popen[bytes], base_url: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the stack exited early with {process.returncode}")
        try:
            config: dict[str, object] = requests.get(f"{base_url}/config.json", timeout=2).json()
            if config["cognito"]["userPoolId"]:  # type: ignore[index]
                return config
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.3)
    raise AssertionError("the stack did not start")


@pytest.mark.timeout(300)
def test_sigterm_stops_the_stack_promptly_with_workflows_open(tmp_path: Path) -> None:
    """`make dev` with pending approvals open stops on SIGTERM within seconds (a correctness bound, kept generous)."""
    import boto3

    port, moto_port = _free_port(), _free_port()
    process = subprocess.Popen(
        fresh_stack_command(port=port, moto_port=moto_port, state_dir=tmp_path / "state"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stack.log").open("wb"),
    )
    try:
        _wait_for_stack(process, f"http://{HOST}:{port}")
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=f"http://{HOST}:{moto_port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        approval = next(arn for name, arn in machines.items() if name.endswith("deal-approval"))
        day = 86_400
        for number in range(20):
            deal_id = f"deal_sigterm{number}_{uuid.uuid4().hex[:6]}"
            sfn.start_execution(
                stateMachineArn=approval,
                name=deal_id,
                input=json.dumps(
                    {
                        "approval_id": f"deal-{deal_id}-registration-0",
                        "deal_id": deal_id,
                        "purpose": "registration",
                        "subject": "Deal registration: test",
                        "summary": [{"label": "Request", "value": "Deal registration"}],
                        "approvers": {"initial": ["a@example.com"], "escalation": ["a@example.com"]},
                        "timeouts": {"reminder_seconds": day, "escalation_seconds": day, "expiry_seconds": day},
                    }
                ),
            )
        deadline = time.monotonic() + 30
        while sum(e["status"] == "RUNNING" for e in sfn.list_executions(stateMachineArn=approval)["executions"]) < 20:
            assert time.monotonic() < deadline, "the approvals did not open"
            time.sleep(0.3)
        # Each one waits for its approver (waitForTaskToken) once its request was mailed: the stack is then settled,
        # as a developer's stack is when they stop it (not in the middle of its first imports).
        mails = f"http://{HOST}:{port}/_mail/api/messages"
        while len(requests.get(mails, timeout=5).json()) < 20:
            assert time.monotonic() < deadline + 60, "the approval requests were not mailed"
            time.sleep(0.3)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # the stack prints every thread's stack: where it is stuck
            time.sleep(2)
            log = (tmp_path / "stack.log").read_text(errors="replace")[-20000:]
            pytest.fail(f"the stack was still running 10 s after SIGTERM; its log ends:\n{log}")
        assert code == 0
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack for this module only, stopped when its tests are done: the session's `local_stack` would keep polling
    and firing timers beside the in-process moto tests that run next in the same pytest-xdist worker."""
    from tests.conftest import TEST_PARAMETERS

    with LocalStack(
        port=0,
        moto_port=0,
        parameters=dict(TEST_PARAMETERS),
        state_dir=tmp_path_factory.mktemp("capacity-stack"),
        fresh=True,
        seed=False,
    ) as stack:
        yield stack


def test_the_stack_fires_due_timer_schedules_and_deletes_them(own_stack: LocalStack) -> None:
    """moto stores EventBridge Scheduler schedules but never runs them: the stack delivers due one-time schedules of
    the template's timer group to their SQS target (one thread for all of them) and deletes each after it ran."""
    group = own_stack.resource("TimerScheduleGroup")
    environment = own_stack.runtime.functions["DealsEventsFunction"].spec.environment
    assert environment["SCHEDULE_GROUP"] == group
    assert environment["WORKFLOW_QUEUE_ARN"] == own_stack.attr("DealsWorkflowQueue", "Arn")
    assert environment["SCHEDULER_ROLE_ARN"] == "arn:aws:iam::123456789012:role/" + own_stack.resource(
        "TimerSchedulerRole"
    )
    sqs, scheduler = own_stack.client("sqs"), own_stack.client("scheduler")
    queue_url = sqs.create_queue(QueueName=f"timer-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    soon = datetime.now(UTC) + timedelta(seconds=1)
    names = [f"timer-test-{uuid.uuid4().hex[:8]}-{kind}" for kind in ("due", "later")]
    for name, at in zip(names, (soon, soon + timedelta(days=90)), strict=True):
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={"Arn": queue_arn, "RoleArn": "arn:aws:iam::123456789012:role/x", "Input": json.dumps({"n": name})},
        )
    received: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while not received and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        received += [json.loads(message["Body"]) for message in messages]
    assert received == [{"n": names[0]}]

    def left() -> list[str]:
        return [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"] if s["Name"] in names]

    # The stack deletes a schedule just after it sent the message: the test may read the list in between.
    deadline = time.monotonic() + 10
    while left() != [names[1]] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left() == [names[1]]  # the due one was deleted after it ran; the later one waits, holding no thread
    scheduler.delete_schedule(GroupName=group, Name=names[1])


def test_finished_step_functions_threads_are_not_kept() -> None:
    """moto lists every thread its interpreter starts; the stack's housekeeping drops the finished ones."""
    import threading

    from moto.stepfunctions.parser.utils import TMP_THREADS

    from infrastructure.local.moto_patches import prune_finished_threads

    release = threading.Event()
    finished = threading.Thread(target=lambda: None)
    running = threading.Thread(target=release.wait, daemon=True)
    for thread in (finished, running):
        thread.start()
        TMP_THREADS.append(thread)
    finished.join()
    try:
        prune_finished_threads()
        assert finished not in TMP_THREADS and running in TMP_THREADS
    finally:
        release.set()


def test_an_execution_waiting_for_an_approver_holds_one_thread_and_still_times_out(own_stack: LocalStack) -> None:
    """A waitForTaskToken Task with a timeout waits on the execution's own thread (moto would add one per Task), and
    still ends in States.Timeout at the timeout, or with the callback's output before it."""
    from infrastructure.local.moto_patches import step_functions_threads

    definition = ask_and_wait(
        {"QueueUrl.$": "$.queue", "MessageBody": {"token.$": "$$.Task.Token"}},
        TimeoutSecondsPath="$.timeout",
        ResultPath="$.outcome",
        Catch=[{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Lapsed"}],
    )
    definition["States"]["Lapsed"] = {"Type": "Pass", "Result": "lapsed", "ResultPath": "$.outcome", "End": True}
    sqs, sfn = own_stack.client("sqs"), own_stack.client("stepfunctions")
    queue = sqs.create_queue(QueueName=f"callback-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    machine = sfn.create_state_machine(
        name=f"callback-test-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]

    def settled_threads() -> int:
        time.sleep(0.5)  # the Tasks that only sent a message end
        return step_functions_threads()

    def finished(arn: str) -> dict[str, object]:
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.1)
        return dict(described)

    before = settled_threads()
    waiting = [
        sfn.start_execution(
            stateMachineArn=machine, name=f"waiting-{number}", input=json.dumps({"queue": queue, "timeout": 120})
        )["executionArn"]
        for number in range(5)
    ]
    tokens: list[str] = []
    deadline = time.monotonic() + 30
    while len(tokens) < 5 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            tokens.append(json.loads(message["Body"])["token"])
    assert len(tokens) == 5
    assert settled_threads() - before == 5  # one per waiting execution (moto alone: two)

    for number, token in enumerate(tokens):
        sfn.send_task_success(taskToken=token, output=json.dumps({"decision": number}))
    outcomes = [json.loads(str(finished(arn)["output"]))["outcome"] for arn in waiting]
    assert sorted(outcome["decision"] for outcome in outcomes) == [0, 1, 2, 3, 4]
    assert settled_threads() == before

    lapsing = sfn.start_execution(
        stateMachineArn=machine, name="lapsing", input=json.dumps({"queue": queue, "timeout": 1})
    )
    lapsed = finished(lapsing["executionArn"])
    assert lapsed["status"] == "SUCCEEDED"
    assert json.loads(str(lapsed["output"]))["outcome"] == "lapsed"
    history = sfn.get_execution_history(executionArn=lapsing["executionArn"])["events"]
    assert "TaskTimedOut" in [event["type"] for event in history]
