"""The MDF state machines (request approval, claim review) run in moto, with the test playing the approvals service;
the fund and claim timers are one-time EventBridge Scheduler schedules, fired by the local stack's scheduler.

The machines are created straight from their ASL files with the two queue URLs substituted, not from template.yaml, so
these tests pin the workflow contract of docs/mdf.md ("Workflow messages") on their own.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]
MACHINES = ROOT / "infrastructure" / "statemachines"
ROLE_ARN = "arn:aws:iam::123456789012:role/prm-test-mdf-workflows"
FAR = {"reminder_seconds": 60, "escalation_seconds": 60, "expiry_seconds": 60}
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def definition(file_name: str, substitutions: dict[str, str], *, quick_retries: bool = False) -> str:
    """The ASL text with `${Name}` replaced, as DefinitionSubstitutions does; every placeholder must be given.

    `quick_retries` shortens every Retry to one attempt after a second, so that failure paths finish quickly.
    """
    text = (MACHINES / file_name).read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([^}]+)\}", text))
    assert used <= set(substitutions), f"{file_name}: no substitution for {sorted(used - set(substitutions))}"
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    if quick_retries:
        document = json.loads(text)
        shorten_retries(document)
        text = json.dumps(document)
    return text


def shorten_retries(node: Any) -> None:
    if isinstance(node, dict):
        for retrier in node.get("Retry") or []:
            retrier.update(IntervalSeconds=1, MaxAttempts=1)
        for value in node.values():
            shorten_retries(value)
    elif isinstance(node, list):
        for value in node:
            shorten_retries(value)


class Workflows:
    """Two fresh queues and the two MDF machines reading them (fresh per test, so no message leaks between tests)."""

    def __init__(self, *, quick_retries: bool = False, max_message_size: int | None = None) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")
        attributes = {"MaximumMessageSize": str(max_message_size)} if max_message_size else {}
        self.approvals_queue = self.sqs.create_queue(QueueName=f"mdf-test-approvals-{suffix}", Attributes=attributes)[
            "QueueUrl"
        ]
        self.mdf_queue = self.sqs.create_queue(QueueName=f"mdf-test-workflow-{suffix}", Attributes=attributes)[
            "QueueUrl"
        ]
        substitutions = {"ApprovalRequestsQueueUrl": self.approvals_queue, "MdfWorkflowQueueUrl": self.mdf_queue}
        self.machines = {
            name: self.sfn.create_state_machine(
                name=f"mdf-test-{name.replace('_', '-')}-{suffix}",
                definition=definition(f"{name}.asl.json", substitutions, quick_retries=quick_retries),
                roleArn=ROLE_ARN,
                type="STANDARD",
            )["stateMachineArn"]
            for name in ("mdf_request_approval", "mdf_claim_review")
        }
        self._buffers: dict[str, list[dict[str, Any]]] = {self.approvals_queue: [], self.mdf_queue: []}

    def start(self, machine: str, workflow_input: dict[str, Any]) -> str:
        return str(
            self.sfn.start_execution(
                stateMachineArn=self.machines[machine], name=uuid.uuid4().hex, input=json.dumps(workflow_input)
            )["executionArn"]
        )

    def _pull(self, queue: str) -> None:
        answer = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in answer.get("Messages", []):
            self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            self._buffers[queue].append(json.loads(message["Body"]) | {"_received": time.monotonic()})

    def next(self, queue: str, timeout: float = 10) -> dict[str, Any]:
        """The next message on `queue` (body parsed; `_received` is when the test saw it)."""
        deadline = time.monotonic() + timeout
        while not self._buffers[queue]:
            assert time.monotonic() < deadline, "no message in time"
            self._pull(queue)
            if not self._buffers[queue]:
                time.sleep(0.05)
        return self._buffers[queue].pop(0)

    def approval_request(self, timeout: float = 10) -> dict[str, Any]:
        body = self.next(self.approvals_queue, timeout)
        body.pop("_received")
        return body

    def mdf_message(self, timeout: float = 10) -> dict[str, Any]:
        body = self.next(self.mdf_queue, timeout)
        body.pop("_received")
        return body

    def expect_decision(
        self, execution: str, run: dict[str, Any], *, marketing: dict[str, Any], finance: dict[str, Any] | None
    ) -> None:
        """The chain handed MDF its decision, the execution succeeded, and nothing else was sent."""
        assert self.mdf_message() == {
            "message_type": "MdfRequestDecision",
            "request_id": run["request_id"],
            "round": 1,
            "marketing": marketing,
            "finance": finance,
        }
        assert self.finished(execution)["status"] == "SUCCEEDED"
        self.nothing_more()

    def nothing_more(self) -> None:
        for queue in (self.approvals_queue, self.mdf_queue):
            self._pull(queue)
            assert self._buffers[queue] == [], f"unexpected messages: {self._buffers[queue]}"

    def decide(self, request: dict[str, Any], outcome: dict[str, Any]) -> None:
        """What the approvals service does once an approver decided."""
        self.sfn.send_task_success(taskToken=request["task_token"], output=json.dumps(outcome))

    def finished(self, execution_arn: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            assert time.monotonic() < deadline, "execution still running"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def wf(aws: None) -> Workflows:
    return Workflows()


def outcome(decision: str, by: str, amount_minor: int | None, reason: str | None = None) -> dict[str, Any]:
    return {
        "decision": decision,
        "decided_by": by,
        "reason": reason,
        "decided_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "amount_minor": amount_minor,
    }


def request_input(*, requested: int, threshold: int = 1_000_000, timeouts: dict[str, int] = FAR) -> dict[str, Any]:
    request_id = f"req_{uuid.uuid4().hex[:10]}"
    return {
        "request_id": request_id,
        "round": 1,
        "approval_id": f"mdf-{request_id}-1",
        "subject": "MDF request: Spring roadshow (Acme)",
        "summary": [{"label": "Partner", "value": "Acme"}, {"label": "Activity", "value": "event"}],
        "amount": {"currency": "USD", "max_minor": requested, "label": "Amount to grant"},
        "finance_threshold_minor": threshold,
        "approvers": {
            "marketing": ["m@example.com"],
            "marketing_escalation": ["m@example.com", "d@example.com"],
            "finance": ["f@example.com"],
            "finance_escalation": ["f@example.com", "d@example.com"],
        },
        "timeouts": dict(timeouts),
    }


def assert_marketing_request(request: dict[str, Any], run: dict[str, Any], kind: str = "request") -> None:
    assert request == {
        "approval_id": f"{run['approval_id']}-marketing",
        "task_token": request["task_token"],
        "kind": kind,
        "subject": run["subject"],
        "summary": run["summary"],
        "approvers": run["approvers"]["marketing_escalation" if kind == "escalation" else "marketing"],
        "decisions": ["approve", "reject"],
        "amount": run["amount"],
        "earlier": None,
    }
    assert request["task_token"]


# ------------------------------------------------------------------ fund request approval


@pytest.mark.parametrize("granted", [400_000, 1_000_000], ids=["below", "at-threshold"])
def test_marketing_approval_up_to_the_threshold_needs_no_finance_step(wf: Workflows, granted: int) -> None:
    run = request_input(requested=1_200_000)
    execution = wf.start("mdf_request_approval", run)
    request = wf.approval_request()
    assert_marketing_request(request, run)
    marketing = outcome("approved", "m@example.com", granted, "Good plan")
    wf.decide(request, marketing)

    wf.expect_decision(execution, run, marketing=marketing, finance=None)


def test_marketing_grants_part_above_the_threshold_then_finance_grants_less(wf: Workflows) -> None:
    run = request_input(requested=2_000_000)
    execution = wf.start("mdf_request_approval", run)
    request = wf.approval_request()
    assert_marketing_request(request, run)
    marketing = outcome("approved", "m@example.com", 1_500_000, "Trimmed the venue")
    wf.decide(request, marketing)

    finance_request = wf.approval_request()
    assert finance_request == {
        "approval_id": f"{run['approval_id']}-finance",
        "task_token": finance_request["task_token"],
        "kind": "request",
        "subject": run["subject"],
        "summary": run["summary"],
        "approvers": ["f@example.com"],
        "decisions": ["approve", "reject"],
        "amount": {"currency": "USD", "max_minor": 1_500_000, "label": "Amount to grant"},
        "earlier": {
            "label": "Channel marketing",
            "decided_by": "m@example.com",
            "decision": "approved",
            "amount_minor": 1_500_000,
            "reason": "Trimmed the venue",
        },
    }
    assert finance_request["task_token"] != request["task_token"]
    finance = outcome("approved", "f@example.com", 1_200_000)
    wf.decide(finance_request, finance)

    wf.expect_decision(execution, run, marketing=marketing, finance=finance)


def test_an_approval_without_an_amount_grants_what_was_asked_and_still_goes_to_finance(wf: Workflows) -> None:
    run = request_input(requested=2_000_000)
    execution = wf.start("mdf_request_approval", run)
    wf.decide(wf.approval_request(), outcome("approved", "m@example.com", None))

    finance_request = wf.approval_request()
    assert finance_request["approval_id"] == f"{run['approval_id']}-finance"
    assert finance_request["amount"]["max_minor"] == 2_000_000
    assert finance_request["earlier"]["amount_minor"] == 2_000_000
    finance = outcome("rejected", "f@example.com", None, "Over the quarter's budget")
    wf.decide(finance_request, finance)

    decision = wf.mdf_message()
    assert decision["marketing"]["amount_minor"] == 2_000_000
    assert decision["finance"] == finance
    assert wf.finished(execution)["status"] == "SUCCEEDED"


def test_an_undeliverable_request_closes_expires_and_fails_the_execution(aws: None) -> None:
    wf = Workflows(quick_retries=True, max_message_size=1024)  # SQS refuses the request: its summary is too long
    run = request_input(requested=500_000)
    run["summary"] = [{"label": "Description", "value": "x" * 2000}]
    execution = wf.start("mdf_request_approval", run)
    assert wf.approval_request() == {"approval_id": f"{run['approval_id']}-marketing", "kind": "close"}
    assert wf.mdf_message()["message_type"] == "MdfApprovalExpired"
    described = wf.finished(execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "ApprovalRequestFailed"
    wf.nothing_more()


def test_marketing_rejection_ends_the_chain(wf: Workflows) -> None:
    run = request_input(requested=5_000_000)
    execution = wf.start("mdf_request_approval", run)
    marketing = outcome("rejected", "m@example.com", None, "Not aligned with the campaign plan")
    wf.decide(wf.approval_request(), marketing)

    wf.expect_decision(execution, run, marketing=marketing, finance=None)


def test_nobody_in_marketing_decides_reminds_escalates_closes_and_expires(wf: Workflows) -> None:
    run = request_input(
        requested=500_000, timeouts={"reminder_seconds": 1, "escalation_seconds": 1, "expiry_seconds": 1}
    )
    execution = wf.start("mdf_request_approval", run)
    stages = [wf.approval_request() for _ in range(3)]
    for request, kind in zip(stages, ["request", "reminder", "escalation"], strict=True):
        assert_marketing_request(request, run, kind)
    assert len({r["task_token"] for r in stages}) == 3
    assert wf.approval_request() == {"approval_id": f"{run['approval_id']}-marketing", "kind": "close"}
    assert wf.mdf_message() == {
        "message_type": "MdfApprovalExpired",
        "request_id": run["request_id"],
        "round": 1,
        "purpose": "request",
    }
    assert wf.finished(execution)["status"] == "SUCCEEDED"
    wf.nothing_more()


def test_nobody_in_finance_decides_closes_the_finance_approval(wf: Workflows) -> None:
    run = request_input(
        requested=3_000_000, timeouts={"reminder_seconds": 2, "escalation_seconds": 1, "expiry_seconds": 1}
    )
    execution = wf.start("mdf_request_approval", run)
    wf.decide(wf.approval_request(), outcome("approved", "m@example.com", 3_000_000))
    stages = [wf.approval_request() for _ in range(3)]
    assert [(r["approval_id"], r["kind"]) for r in stages] == [
        (f"{run['approval_id']}-finance", kind) for kind in ("request", "reminder", "escalation")
    ]
    assert stages[2]["approvers"] == ["f@example.com", "d@example.com"]
    assert all(r["earlier"]["amount_minor"] == 3_000_000 for r in stages)
    assert wf.approval_request() == {"approval_id": f"{run['approval_id']}-finance", "kind": "close"}
    assert wf.mdf_message() == {
        "message_type": "MdfApprovalExpired",
        "request_id": run["request_id"],
        "round": 1,
        "purpose": "request",
    }
    assert wf.finished(execution)["status"] == "SUCCEEDED"
    wf.nothing_more()


# ------------------------------------------------------------------ claim review


def claim_input(*, timeouts: dict[str, int] = FAR) -> dict[str, Any]:
    request_id = f"req_{uuid.uuid4().hex[:10]}"
    return {
        "request_id": request_id,
        "round": 2,
        "attempt": 1,
        "approval_id": f"mdf-claim-{request_id}-2-1",
        "subject": "MDF claim: Spring roadshow (Acme)",
        "summary": [{"label": "Spent", "value": "USD 9,500.00"}],
        "amount": {"currency": "USD", "max_minor": 950_000, "label": "Amount to pay"},
        "approvers": {"initial": ["m@example.com"], "escalation": ["m@example.com", "d@example.com"]},
        "timeouts": dict(timeouts),
    }


@pytest.mark.parametrize(
    "review",
    [
        outcome("approved", "m@example.com", 900_000, "One invoice was out of scope"),
        outcome("returned", "m@example.com", None, "Please add the attendee list"),
    ],
    ids=["approve", "return"],
)
def test_claim_review_hands_the_review_to_mdf(wf: Workflows, review: dict[str, Any]) -> None:
    run = claim_input()
    execution = wf.start("mdf_claim_review", run)
    request = wf.approval_request()
    assert request == {
        "approval_id": run["approval_id"],
        "task_token": request["task_token"],
        "kind": "request",
        "subject": run["subject"],
        "summary": run["summary"],
        "approvers": ["m@example.com"],
        "decisions": ["approve", "reject", "return"],
        "amount": {"currency": "USD", "max_minor": 950_000, "label": "Amount to pay"},
        "earlier": None,
    }
    wf.decide(request, review)
    assert wf.mdf_message() == {
        "message_type": "MdfClaimDecision",
        "request_id": run["request_id"],
        "round": 2,
        "review": review,
    }
    assert wf.finished(execution)["status"] == "SUCCEEDED"
    wf.nothing_more()


def test_unreviewed_claim_reminds_escalates_closes_and_expires(wf: Workflows) -> None:
    run = claim_input(timeouts={"reminder_seconds": 1, "escalation_seconds": 1, "expiry_seconds": 1})
    execution = wf.start("mdf_claim_review", run)
    stages = [wf.approval_request() for _ in range(3)]
    assert [r["kind"] for r in stages] == ["request", "reminder", "escalation"]
    assert [r["approvers"] for r in stages] == [["m@example.com"], ["m@example.com"], run["approvers"]["escalation"]]
    assert {r["approval_id"] for r in stages} == {run["approval_id"]}
    assert wf.approval_request() == {"approval_id": run["approval_id"], "kind": "close"}
    assert wf.mdf_message() == {
        "message_type": "MdfApprovalExpired",
        "request_id": run["request_id"],
        "round": 2,
        "purpose": "claim",
        "attempt": 1,
    }
    assert wf.finished(execution)["status"] == "SUCCEEDED"


# ------------------------------------------------------------------ timers


def at(seconds_from_now: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled(wf: Workflows, schedule: list[dict[str, Any]], name: str) -> str:
    """The timers as the MDF adapter makes them: one one-time schedule per message, to the MDF workflow queue."""
    from shared import workflows

    scheduler = boto3.client("scheduler")
    if not scheduler.list_schedule_groups(NamePrefix="prm-test-timers")["ScheduleGroups"]:
        scheduler.create_schedule_group(Name="prm-test-timers")
    queue_arn = wf.sqs.get_queue_attributes(QueueUrl=wf.mdf_queue, AttributeNames=["QueueArn"])["Attributes"]
    timers = [(item["at"], item["message"]) for item in schedule]
    with pytest.MonkeyPatch.context() as patch:
        # This test's clients, not the functions' cached ones (nor their observability set-up) in shared.aws.
        patch.setattr(workflows, "client", boto3.client)
        return workflows.schedule_messages(
            group="prm-test-timers",
            role_arn=ROLE_ARN,
            queue_arn=queue_arn["QueueArn"],
            name=name,
            timers=timers,
            now=datetime.now(UTC),
        )


def test_timers_are_one_time_schedules_delivered_at_their_time_in_order(wf: Workflows) -> None:
    from infrastructure.local.scheduler import ScheduleRunner

    fund = {"partner_id": "ptn_1", "fund_id": "FY27-Q1.USD", "claim_window_ends_at": at(4)}
    schedule = [
        {"at": at(-3600), "message": {"message_type": "MdfFundExpiryWarning", **fund, "days_left": 30}},
        {"at": at(3600), "message": {"message_type": "MdfFundExpiryWarning", **fund, "days_left": 7}},
        {"at": at(7200), "message": {"message_type": "MdfFundExpiry", **fund, "days_left": 0}},
    ]
    assert (
        scheduled(wf, schedule, "mdf-fund-ptn_1-FY27-Q1-USD") == "3 of 3 timers scheduled (mdf-fund-ptn_1-FY27-Q1-USD)"
    )
    # a repeated delivery of the event that set the timer changes nothing
    assert scheduled(wf, schedule, "mdf-fund-ptn_1-FY27-Q1-USD").startswith("0 of 3")
    scheduler = boto3.client("scheduler")
    made = scheduler.list_schedules(GroupName="prm-test-timers")["Schedules"]
    assert sorted(s["Name"] for s in made) == [f"mdf-fund-ptn_1-FY27-Q1-USD-{i}" for i in range(3)]
    last = scheduler.get_schedule(GroupName="prm-test-timers", Name="mdf-fund-ptn_1-FY27-Q1-USD-2")
    assert last["ScheduleExpression"] == f"at({schedule[2]['at'][:-1]})" and last["ActionAfterCompletion"] == "DELETE"
    assert json.loads(last["Target"]["Input"]) == schedule[2]["message"] and last["Target"]["RoleArn"] == ROLE_ARN

    # Only this test's group: other tests in this process may have left schedules in moto's global backend.
    runner = ScheduleRunner(sqs=wf.sqs, queue_url=lambda _arn: wf.mdf_queue, groups=["prm-test-timers"])
    now = datetime.now(UTC)
    assert runner.fire_due(now + timedelta(seconds=2)) == 1  # a time already past fires at once (within a second)
    assert wf.mdf_message() == schedule[0]["message"]
    assert runner.fire_due(now + timedelta(seconds=3700)) == 1
    assert runner.fire_due(now + timedelta(seconds=7300)) == 1
    assert [wf.mdf_message(), wf.mdf_message()] == [schedule[1]["message"], schedule[2]["message"]]
    assert scheduler.list_schedules(GroupName="prm-test-timers")["Schedules"] == []  # deleted after completion
    wf.nothing_more()


def test_a_timer_that_cannot_be_delivered_does_not_hold_back_later_ones_and_stays(aws: None) -> None:
    from infrastructure.local.scheduler import ScheduleRunner

    wf = Workflows(max_message_size=1024)
    schedule = [
        {"at": at(-60), "message": {"message_type": "MdfClaimReminder", "request_id": "r1", "note": "x" * 2000}},
        {"at": at(-30), "message": {"message_type": "MdfClaimDeadline", "request_id": "r1", "days_left": 0}},
    ]
    scheduled(wf, schedule, "mdf-claimdue-r1-1")
    # Only this test's group: other tests in this process may have left schedules in moto's global backend.
    runner = ScheduleRunner(sqs=wf.sqs, queue_url=lambda _arn: wf.mdf_queue, groups=["prm-test-timers"])
    assert runner.fire_due(datetime.now(UTC) + timedelta(seconds=2)) == 1  # the later one is not held back
    assert wf.mdf_message() == schedule[1]["message"]
    names = [s["Name"] for s in boto3.client("scheduler").list_schedules(GroupName="prm-test-timers")["Schedules"]]
    assert names == ["mdf-claimdue-r1-1-0"]  # not lost: tried again on the next tick, as Scheduler retries
    wf.nothing_more()
