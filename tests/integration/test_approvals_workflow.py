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

from shared.links import LinkClaim, Purpose, link_query, sign
from tests.integration.conftest import Stack
from tests.support.workflows import ask_and_wait


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


def deliver_requests(
    stack: Stack, requests: Any, run: dict[str, Any], *, expect: int = 1, timeout: float = 10
) -> list[dict[str, Any]]:
    """Hand the run's messages on the approval requests queue to the consumer until its workflow sent `expect` of
    them; returns those. The queue is the worker's, shared with every earlier test's workflows, other modules' too
    (onboarding's and MDF's leave hundreds, more than the consumer gets through in `timeout`): their messages are
    passed over, hidden while searching, and left in the queue as found."""
    seen: dict[str, dict[str, Any]] = {}
    passed: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < expect and time.monotonic() < deadline:
            messages = stack.receive("ApprovalRequestsQueue", visibility=int(timeout) + 60)
            ours = [m for m in messages if json.loads(m["Body"]).get("approval_id") == run["approval_id"]]
            passed += [m["ReceiptHandle"] for m in messages if m not in ours]
            seen.update((m["MessageId"], json.loads(m["Body"])) for m in ours if m["MessageId"] not in seen)
            stack.hand_over("ApprovalRequestsQueue", requests.handler, ours)
            if not messages:
                time.sleep(0.1)
    finally:
        sqs, url = boto3.client("sqs"), stack.ref("ApprovalRequestsQueue")
        for handle in passed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return list(seen.values())


def mails_about(stack: Stack, run: dict[str, Any]) -> list[Any]:
    return [m for m in stack.sent_mail() if run["approval_id"] in m.body]


def links_for(stack: Stack, approval_id: str, approver: str) -> dict[str, str]:
    mails = [m for m in stack.sent_mail() if approval_id in m.body and approver in m.destinations["ToAddresses"]]
    assert mails, f"no approval mail to {approver}"
    links = {}
    for href in map(unescape, re.findall(r"href='([^']+)'", mails[-1].body)):
        decision = parse_qs(urlparse(href).query).get("decision")  # summary lines may be links too
        if decision:
            links[decision[0]] = href
    return links


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


def decision_messages(stack: Stack, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages onboarding's decisions queue holds for this run's application (the queue is shared with every
    earlier test's workflows, whose expiries may still be arriving)."""
    messages = stack.receive("OnboardingDecisionsQueue")
    for message in messages:
        boto3.client("sqs").delete_message(
            QueueUrl=stack.ref("OnboardingDecisionsQueue"), ReceiptHandle=message["ReceiptHandle"]
        )
    bodies = [json.loads(m["Body"]) for m in messages]
    return [body for body in bodies if body.get("application_id") == run["application_id"]]


def test_links_confirm_then_decide_once_and_resume_the_workflow(stack: Stack, approvals: Any) -> None:
    api, requests, decisions = approvals
    run = start(stack)
    [request] = deliver_requests(stack, requests, run)
    assert request["kind"] == "request" and "task_token" in request
    mails_before = len(mails_about(stack, run))
    links = links_for(stack, run["approval_id"], "first@example.com")
    assert set(links) == {"approve", "reject"}
    assert request["task_token"] not in json.dumps(links)  # the raw task token never appears in a URL

    # the same request delivered again: stored once, mailed once
    boto3.client("sqs").send_message(QueueUrl=stack.ref("ApprovalRequestsQueue"), MessageBody=json.dumps(request))
    stack.deliver("ApprovalRequestsQueue", requests.handler)
    assert len(mails_about(stack, run)) == mails_before

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
    [decision] = wait_for(lambda: decision_messages(stack, run))
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
    deliver_requests(stack, requests, run)
    links = links_for(stack, run["approval_id"], "first@example.com")
    status, html = page(stack, api, "POST", links["reject"], {"reason": "  "})
    assert status == 400 and "reason" in html.lower()
    assert page(stack, api, "GET", links["reject"])[0] == 200

    key = (
        boto3.client("secretsmanager")
        .get_secret_value(SecretId=stack.ref("ApprovalLinkSecret"))["SecretString"]
        .encode()
    )
    expired = LinkClaim(
        run["approval_id"], "approve", "first@example.com", int(time.time()) - 1, purpose=Purpose.APPROVAL
    )
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
    [decision] = wait_for(lambda: decision_messages(stack, run))
    assert decision["decision"] == "rejected" and decision["reason"] == "Outside our territories"


def test_no_decision_reminds_then_escalates_then_closes_and_expires(stack: Stack, approvals: Any) -> None:
    api, requests, _ = approvals
    run = start(stack, reminder=1, escalation=1, expiry=1)
    bodies = deliver_requests(stack, requests, run, expect=4, timeout=20)
    assert [b["kind"] for b in bodies] == ["request", "reminder", "escalation", "close"]
    assert bodies[2]["approvers"] == ["first@example.com", "second@example.com"]
    assert len({b["task_token"] for b in bodies[:3]}) == 3
    subjects = [m.subject for m in stack.sent_mail() if run["approval_id"] in m.body]
    assert sum(s.startswith("Approval needed") for s in subjects) == 1
    assert sum(s.startswith("Reminder") for s in subjects) == 1
    assert sum(s.startswith("Escalated") for s in subjects) == 2  # the first approver and the second
    [expiry] = wait_for(lambda: decision_messages(stack, run))
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
    bodies = deliver_requests(stack, requests, run, expect=2, timeout=10)
    assert [b["kind"] for b in bodies] == ["request", "reminder"]
    links = links_for(stack, run["approval_id"], "first@example.com")  # the reminder's link
    assert page(stack, api, "POST", links["approve"])[0] == 200
    stack.pump_stream("ApprovalsTable", decisions.handler)
    [decision] = wait_for(lambda: decision_messages(stack, run))
    assert decision["decision"] == "approved"


def test_a_workflow_run_again_adopts_the_approval_without_a_second_email(stack: Stack, approvals: Any) -> None:
    """A restarted local stack runs an interrupted execution again from its start (as a restarted execution in AWS):
    its request for the still-pending approval swaps the task token (its task waits: SendTaskHeartbeat) and mails
    nobody; the stopped run's request delivered again late is ignored (its token waits no more); the first email's
    link decides, and the decision reaches the run that waits now."""
    api, requests, decisions = approvals
    sfn = boto3.client("stepfunctions")
    run = start(stack)
    [first] = deliver_requests(stack, requests, run)
    links = links_for(stack, run["approval_id"], "first@example.com")
    assert len(mails_about(stack, run)) == 1
    sfn.stop_execution(executionArn=run["execution_arn"])  # the interrupted run is gone

    workflow_input = {k: v for k, v in run.items() if k != "execution_arn"}
    rerun = sfn.start_execution(
        stateMachineArn=stack.ref("OnboardingApprovalStateMachine"),
        name=f"{run['application_id']}-rerun",
        input=json.dumps(workflow_input),
    )["executionArn"]
    [again] = deliver_requests(stack, requests, run)
    assert again["kind"] == "request" and again["task_token"] != first["task_token"]
    assert len(mails_about(stack, run)) == 1  # no second "Approval needed"
    [item] = [i for i in stack.items("ApprovalsTable") if i.get("approval_id") == run["approval_id"]]
    assert (item["status"], item["task_token"], int(item["token_version"])) == ("pending", again["task_token"], 2)

    # SQS delivers the stopped run's request once more, after the re-run's: it must not take the token back.
    boto3.client("sqs").send_message(QueueUrl=stack.ref("ApprovalRequestsQueue"), MessageBody=json.dumps(first))
    [late] = deliver_requests(stack, requests, run)
    assert late["task_token"] == first["task_token"]
    [item] = [i for i in stack.items("ApprovalsTable") if i.get("approval_id") == run["approval_id"]]
    assert (item["status"], item["task_token"], int(item["token_version"])) == ("pending", again["task_token"], 2)
    assert len(mails_about(stack, run)) == 1

    status, html = page(stack, api, "POST", links["approve"], {"reason": "Still a fit"})
    assert status == 200 and "data-outcome='approved'" in html
    stack.pump_stream("ApprovalsTable", decisions.handler)
    [decision] = wait_for(lambda: decision_messages(stack, run))
    assert decision["decision"] == "approved" and decision["reason"] == "Still a fit"
    wait_for(lambda: sfn.describe_execution(executionArn=rerun)["status"] == "SUCCEEDED")


# ---------------------------------------------------------------- options: partial amount, return, earlier step


@pytest.fixture(scope="module")
def ask_machine(stack: Stack) -> str:
    """A one-state workflow that asks approvals with every option and ends with what SendTaskSuccess handed it."""
    fields = ("approval_id", "subject", "summary", "approvers", "decisions", "amount", "earlier")
    body = {"kind": "request", "task_token.$": "$$.Task.Token"} | {f"{name}.$": f"$.{name}" for name in fields}
    definition = ask_and_wait({"QueueUrl": stack.ref("ApprovalRequestsQueue"), "MessageBody": body}, TimeoutSeconds=60)
    return str(
        boto3.client("stepfunctions").create_state_machine(
            name=f"test-ask-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/test-ask-approval",
        )["stateMachineArn"]
    )


def ask(machine: str, **options: Any) -> dict[str, Any]:
    approval_id = f"mdf-{uuid.uuid4().hex[:12]}"
    workflow_input = {
        "approval_id": approval_id,
        "subject": f"MDF request: Spring roadshow ({approval_id})",
        "summary": [{"label": "Partner", "value": "Acme"}],
        "approvers": ["finance@example.com"],
        "decisions": ["approve", "reject"],
        "amount": None,
        "earlier": None,
    } | options
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=machine, name=approval_id, input=json.dumps(workflow_input)
    )
    return workflow_input | {"execution_arn": execution["executionArn"]}


def workflow_result(execution_arn: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    wait_for(lambda: sfn.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED")
    return json.loads(sfn.describe_execution(executionArn=execution_arn)["output"])  # type: ignore[no-any-return]


def test_a_partial_amount_after_an_earlier_step_resumes_the_workflow(
    stack: Stack, approvals: Any, ask_machine: str
) -> None:
    api, requests, decisions = approvals
    run = ask(
        ask_machine,
        decisions=["approve", "reject", "return"],
        amount={"currency": "USD", "max_minor": 500_000, "label": "Amount to grant"},
        earlier={
            "label": "Channel marketing",
            "decided_by": "cm@example.com",
            "decision": "approved",
            "amount_minor": 500_000,
            "reason": "Good plan",
        },
        summary=[
            {"label": "Proposal", "value": "plan.pdf", "href": "https://files.example.com/p?a=1&b=2"},
            {"label": "Trap", "value": "click", "href": "javascript:alert(1)"},
        ],
    )
    [request] = deliver_requests(stack, requests, run)
    assert request["amount"]["max_minor"] == 500_000 and request["decisions"][-1] == "return"
    links = links_for(stack, run["approval_id"], "finance@example.com")
    assert set(links) == {"approve", "reject", "return"}
    [mail] = [m for m in stack.sent_mail() if run["approval_id"] in m.body]
    assert "Channel marketing: approved 5,000.00 USD by cm@example.com (Good plan)" in mail.body
    assert "href='https://files.example.com/p?a=1&amp;b=2' rel='noopener noreferrer'" in mail.body
    assert "javascript:" not in mail.body

    status, html = page(stack, api, "GET", links["return"])
    assert status == 200 and "Confirm: return" in html
    assert page(stack, api, "POST", links["return"], {"reason": " "})[0] == 400
    status, html = page(stack, api, "GET", links["approve"])
    assert status == 200 and "value='5000.00'" in html and "(at most 5,000.00 USD)" in html
    assert "Channel marketing: approved 5,000.00 USD by cm@example.com (Good plan)" in html
    status, html = page(stack, api, "POST", links["approve"], {"amount": "5,000.01"})
    assert status == 400 and "at most 5,000.00 USD" in html and "value='5,000.01'" in html

    status, html = page(stack, api, "POST", links["approve"], {"amount": "1,250.50", "reason": "Within budget"})
    assert status == 200 and "Thank you: approved 1,250.50 USD." in html
    assert page(stack, api, "POST", links["return"], {"reason": "too late"})[0] == 409
    [record] = [i for i in stack.items("ApprovalsTable") if i.get("approval_id") == run["approval_id"]]
    assert record["decision"] == "approve" and record["amount_minor"] == 125_050

    stack.pump_stream("ApprovalsTable", decisions.handler)
    result = workflow_result(run["execution_arn"])
    assert result == {
        "decision": "approved",
        "decided_by": "finance@example.com",
        "reason": "Within budget",
        "decided_at": result["decided_at"],
        "amount_minor": 125_050,
    }


def test_return_for_more_information_resumes_the_workflow(stack: Stack, approvals: Any, ask_machine: str) -> None:
    api, requests, decisions = approvals
    run = ask(
        ask_machine,
        decisions=["approve", "reject", "return"],
        amount={"currency": "JPY", "max_minor": 800_000, "label": "Amount to pay"},
    )
    deliver_requests(stack, requests, run)
    links = links_for(stack, run["approval_id"], "finance@example.com")
    status, html = page(stack, api, "POST", links["return"], {"reason": "Add the invoice", "amount": "5"})
    assert status == 200 and "data-outcome='returned'" in html
    stack.pump_stream("ApprovalsTable", decisions.handler)
    result = workflow_result(run["execution_arn"])
    assert result["decision"] == "returned" and result["reason"] == "Add the invoice" and result["amount_minor"] is None


def test_a_plain_request_with_nulls_refuses_a_return_link(stack: Stack, approvals: Any, ask_machine: str) -> None:
    api, requests, decisions = approvals
    run = ask(ask_machine)  # "amount": null and "earlier": null, as a workflow sends them
    [request] = deliver_requests(stack, requests, run)
    assert request["amount"] is None and request["earlier"] is None
    links = links_for(stack, run["approval_id"], "finance@example.com")
    assert set(links) == {"approve", "reject"}

    key = (
        boto3.client("secretsmanager")
        .get_secret_value(SecretId=stack.ref("ApprovalLinkSecret"))["SecretString"]
        .encode()
    )
    claim = LinkClaim(
        run["approval_id"], "return", "finance@example.com", int(time.time()) + 600, purpose=Purpose.APPROVAL
    )
    signed_return = links["approve"].split("?")[0] + "?" + link_query(key, claim)
    assert page(stack, api, "GET", signed_return)[0] == 403
    assert page(stack, api, "POST", signed_return, {"reason": "More please"})[0] == 403

    status, html = page(stack, api, "POST", links["approve"], {"amount": "12"})
    assert status == 200 and "Thank you: approved." in html
    stack.pump_stream("ApprovalsTable", decisions.handler)
    result = workflow_result(run["execution_arn"])
    assert result["decision"] == "approved" and result["amount_minor"] is None
