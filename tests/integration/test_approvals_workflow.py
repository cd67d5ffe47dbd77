"""Approvals and the onboarding approval state machine against moto: links, single decisions, reminders, expiry."""

from __future__ import annotations

import json
import re
import time
import uuid
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import boto3
import pytest

from shared.links import LinkClaim, sign
from tests.integration.conftest import Stack


@pytest.fixture(scope="module")
def approvals(stack: Stack) -> Any:
    return (
        stack.load("ApprovalsApiFunction", "approvals.api"),
        stack.load("ApprovalRequestsFunction", "approvals.requests"),
        stack.load("ApprovalDecisionsFunction", "approvals.decisions"),
    )


def start(stack: Stack, *, reminder: int = 60, escalation: int = 60, expiry: int = 60) -> dict[str, Any]:
    application_id = f"app_{uuid.uuid4().hex[:12]}"
    workflow_input = {
        "approval_id": f"onboarding-{application_id}",
        "application_id": application_id,
        "subject": f"Partner application: Acme ({application_id})",
        "summary": [{"label": "Company", "value": "Acme <script>"}],
        "approvers": {"initial": ["first@example.com"], "escalation": ["first@example.com", "second@example.com"]},
        "timeouts": {"reminder_seconds": reminder, "escalation_seconds": escalation, "expiry_seconds": expiry},
    }
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("OnboardingApprovalStateMachine"),
        name=application_id,
        input=json.dumps(workflow_input),
    )
    return workflow_input | {"execution_arn": execution["executionArn"]}


def deliver_requests(stack: Stack, requests: Any, *, expect: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """Wait for the workflow's messages on the approval requests queue and hand them to the consumer."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < expect and time.monotonic() < deadline:
        messages = stack.receive("ApprovalRequestsQueue", wait=0)
        if not messages:
            time.sleep(0.1)
            continue
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            boto3.client("sqs").change_message_visibility(
                QueueUrl=stack.ref("ApprovalRequestsQueue"), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        stack.deliver("ApprovalRequestsQueue", requests.handler)
    return bodies


def links_for(stack: Stack, approval_id: str, approver: str) -> dict[str, str]:
    mails = [m for m in stack.sent_mail() if approval_id in m.body and approver in m.destinations["ToAddresses"]]
    assert mails, f"no approval mail to {approver}"
    hrefs = re.findall(r"href='([^']+)'", mails[-1].body)
    return {parse_qs(urlparse(unescape(h)).query)["decision"][0]: unescape(h) for h in hrefs}


def page(stack: Stack, api: Any, method: str, link: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    url = urlparse(link)
    approval_id = url.path.rsplit("/", 1)[1]
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    if method == "GET":
        status, body, _ = stack.call(
            api.app, "GET", "/approvals/{approval_id}", {"approval_id": approval_id}, query=query
        )
    else:
        status, body, _ = stack.call(
            api.app,
            "POST",
            "/approvals/{approval_id}",
            {"approval_id": approval_id},
            raw_body=urlencode(query | (form or {})),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    return status, body


def wait_for(predicate: Any, timeout: float = 15, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def decision_messages(stack: Stack) -> list[dict[str, Any]]:
    messages = stack.receive("OnboardingDecisionsQueue")
    for message in messages:
        boto3.client("sqs").delete_message(
            QueueUrl=stack.ref("OnboardingDecisionsQueue"), ReceiptHandle=message["ReceiptHandle"]
        )
    return [json.loads(m["Body"]) for m in messages]


def test_links_confirm_then_decide_once_and_resume_the_workflow(stack: Stack, approvals: Any) -> None:
    api, requests, decisions = approvals
    run = start(stack)
    [request] = deliver_requests(stack, requests)
    assert request["kind"] == "request" and "task_token" in request
    mails_before = len(stack.sent_mail())
    links = links_for(stack, run["approval_id"], "first@example.com")
    assert set(links) == {"approve", "reject"}
    assert request["task_token"] not in json.dumps(links)  # the raw task token never appears in a URL

    # the same request delivered again: stored once, mailed once
    boto3.client("sqs").send_message(QueueUrl=stack.ref("ApprovalRequestsQueue"), MessageBody=json.dumps(request))
    stack.deliver("ApprovalRequestsQueue", requests.handler)
    assert len(stack.sent_mail()) == mails_before

    status, html = page(stack, api, "GET", links["approve"])
    assert status == 200 and "Confirm: approve" in html and "Acme &lt;script&gt;" in html and "<script>" not in html
    status, html = page(stack, api, "GET", links["approve"])  # mail scanners prefetch: GET never decides
    assert status == 200
    assert stack.pump_stream("ApprovalsTable", decisions.handler) in ({"batchItemFailures": []},)
    assert boto3.client("stepfunctions").describe_execution(executionArn=run["execution_arn"])["status"] == "RUNNING"

    tampered = links["approve"].replace("first%40example.com", "mallory%40example.com")
    assert page(stack, api, "POST", tampered)[0] == 403
    forged = links["reject"].replace("decision=reject", "decision=approve")
    assert page(stack, api, "POST", forged)[0] == 403

    status, html = page(stack, api, "POST", links["approve"], {"reason": "Strong fit"})
    assert status == 200 and "data-outcome='approved'" in html
    assert page(stack, api, "POST", links["approve"])[0] == 409
    assert page(stack, api, "POST", links["reject"], {"reason": "too late"})[0] == 409
    assert page(stack, api, "GET", links["reject"])[0] == 409

    stack.pump_stream("ApprovalsTable", decisions.handler)
    [decision] = wait_for(lambda: decision_messages(stack))
    assert decision == {
        "message_type": "ApplicationDecision",
        "application_id": run["application_id"],
        "decision": "approved",
        "decided_by": "first@example.com",
        "reason": "Strong fit",
        "decided_at": decision["decided_at"],
    }
    wait_for(
        lambda: (
            boto3.client("stepfunctions").describe_execution(executionArn=run["execution_arn"])["status"] == "SUCCEEDED"
        )
    )


def test_rejection_needs_a_reason_and_expired_links_are_refused(stack: Stack, approvals: Any) -> None:
    api, requests, decisions = approvals
    run = start(stack)
    deliver_requests(stack, requests)
    links = links_for(stack, run["approval_id"], "first@example.com")
    status, html = page(stack, api, "POST", links["reject"], {"reason": "  "})
    assert status == 400 and "reason" in html.lower()
    assert page(stack, api, "GET", links["reject"])[0] == 200

    key = (
        boto3.client("secretsmanager")
        .get_secret_value(SecretId=stack.ref("ApprovalLinkSecret"))["SecretString"]
        .encode()
    )
    expired = LinkClaim(run["approval_id"], "approve", "first@example.com", int(time.time()) - 1)
    query = {
        "decision": "approve",
        "approver": "first@example.com",
        "expires": str(expired.expires),
        "signature": sign(key, expired),
    }
    status, html, _ = stack.call(
        api.app, "GET", "/approvals/{approval_id}", {"approval_id": run["approval_id"]}, query=query
    )
    assert status == 403 and "expired" in html.lower()
    assert (
        stack.call(api.app, "GET", "/approvals/{approval_id}", {"approval_id": run["approval_id"]}, query={})[0] == 400
    )

    status, html = page(stack, api, "POST", links["reject"], {"reason": "Outside our territories"})
    assert status == 200 and "data-outcome='rejected'" in html
    stack.pump_stream("ApprovalsTable", decisions.handler)
    [decision] = wait_for(lambda: decision_messages(stack))
    assert decision["decision"] == "rejected" and decision["reason"] == "Outside our territories"


def test_no_decision_reminds_then_escalates_then_closes_and_expires(stack: Stack, approvals: Any) -> None:
    api, requests, _ = approvals
    run = start(stack, reminder=1, escalation=1, expiry=1)
    bodies = deliver_requests(stack, requests, expect=4, timeout=20)
    assert [b["kind"] for b in bodies] == ["request", "reminder", "escalation", "close"]
    assert bodies[2]["approvers"] == ["first@example.com", "second@example.com"]
    assert len({b["task_token"] for b in bodies[:3]}) == 3
    subjects = [m.subject for m in stack.sent_mail() if run["approval_id"] in m.body]
    assert sum(s.startswith("Approval needed") for s in subjects) == 1
    assert sum(s.startswith("Reminder") for s in subjects) == 1
    assert sum(s.startswith("Escalated") for s in subjects) == 2  # the first approver and the second
    [expiry] = wait_for(lambda: decision_messages(stack))
    assert expiry == {"message_type": "ApplicationExpired", "application_id": run["application_id"]}
    wait_for(
        lambda: (
            boto3.client("stepfunctions").describe_execution(executionArn=run["execution_arn"])["status"] == "SUCCEEDED"
        )
    )
    # the escalated approver's link now finds a closed approval
    links = links_for(stack, run["approval_id"], "second@example.com")
    assert page(stack, api, "GET", links["approve"])[0] == 410
    assert page(stack, api, "POST", links["approve"])[0] == 410


def test_a_decision_after_the_reminder_resumes_the_workflow_on_the_new_token(stack: Stack, approvals: Any) -> None:
    api, requests, decisions = approvals
    run = start(stack, reminder=1, escalation=60)
    bodies = deliver_requests(stack, requests, expect=2, timeout=10)
    assert [b["kind"] for b in bodies] == ["request", "reminder"]
    links = links_for(stack, run["approval_id"], "first@example.com")  # the reminder's link
    assert page(stack, api, "POST", links["approve"])[0] == 200
    stack.pump_stream("ApprovalsTable", decisions.handler)
    [decision] = wait_for(lambda: decision_messages(stack))
    assert decision["decision"] == "approved"
