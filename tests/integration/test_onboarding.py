"""Onboarding handlers against moto: the HTTP edge, the outbox chain, decisions, invitations, the agreement gate."""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import pytest

from shared.clock import iso, utc_now
from shared.errors import Conflict, NotYetDue
from shared.http import Principal
from shared.workflows import schedule_name
from tests.integration.conftest import Stack
from tests.support.factories import application_body
from tests.support.lambda_events import LambdaContext, claims_for, stream_event


@pytest.fixture(scope="module")
def onboarding(stack: Stack) -> Any:
    return stack.load_context("Onboarding", "onboarding")


def application(domain: str | None = None, **changes: Any) -> dict[str, Any]:
    return application_body(domain, **changes)


def submit(stack: Stack, api: Any, body: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    return stack.call(api.app, "POST", "/applications", body=body, **kwargs)


def flush(stack: Stack, onboarding: Any) -> None:
    """Move everything onboarding wrote through its outbox, the bus and its queue into its consumer."""
    _, consumers, outbox = onboarding
    for _ in range(5):
        stack.pump_stream("OnboardingTable", outbox.handler)
        if not stack.deliver("OnboardingEventsQueue", consumers.handler)["delivered"]:
            break


def confirmation_link(stack: Stack, email: str) -> tuple[str, dict[str, str]]:
    """The application id and the signed query of the confirmation link last emailed to `email`."""
    mails = [
        m for m in stack.sent_mail() if email in m.destinations["ToAddresses"] and "data-confirmation-link" in m.body
    ]
    assert mails, f"no confirmation email to {email}"
    found = re.search(r'href="([^"]+)" data-confirmation-link', mails[-1].body)
    assert found
    url = urlsplit(html.unescape(found.group(1)))
    application_id = url.path.rstrip("/").split("/")[-2]
    return application_id, dict(parse_qsl(url.query))


def post_confirmation(stack: Stack, api: Any, application_id: str, query: dict[str, str]) -> tuple[int, Any, Any]:
    return stack.call(
        api.app,
        "POST",
        "/applications/{application_id}/confirmation",
        {"application_id": application_id},
        raw_body=urlencode(query),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def confirm(stack: Stack, onboarding: Any, receipt: dict[str, Any], email: str) -> None:
    """The applicant follows the emailed link and confirms (what starts the approval)."""
    api, _, _ = onboarding
    flush(stack, onboarding)
    application_id, query = confirmation_link(stack, email)
    assert application_id == receipt["application_id"]
    status, page, _ = post_confirmation(stack, api, application_id, query)
    assert status == 200 and "confirmed" in page, page
    flush(stack, onboarding)


def test_submission_gives_a_receipt_and_writes_application_claim_and_event_together(
    stack: Stack, onboarding: Any
) -> None:
    api, _, _ = onboarding
    status, body, headers = submit(stack, api, application(f"receipt-{uuid.uuid4().hex[:6]}.co.uk"))
    assert status == 201, body
    assert (
        body["status"] == "unconfirmed" and body["domain"].startswith("receipt-") and body["domain"].endswith(".co.uk")
    )
    assert body["confirm_by"] > body["submitted_at"]
    assert body["application_id"].startswith("app_") and body["submitted_at"].endswith("Z")
    assert headers["Access-Control-Allow-Origin"] == "http://portal.test"
    items = [i for i in stack.items("OnboardingTable") if body["application_id"] in json.dumps(i)]
    assert sorted(str(i.get("entity", i["pk"].split("#")[0])) for i in items) == [
        "application",
        "idempotency",
        "open_application_claim",  # the contact address; the domain is claimed only at confirmation
        "outbox",
    ]


def test_same_body_or_same_key_replays_the_first_receipt(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    body = application()
    first = submit(stack, api, body)
    assert first[0] == 201
    assert submit(stack, api, body)[:2] == first[:2]
    keyed = application()
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    one = submit(stack, api, keyed, headers=headers)
    assert submit(stack, api, keyed, headers=headers)[:2] == one[:2]
    status, error, _ = submit(stack, api, application(), headers=headers)
    assert status == 422 and error["code"] == "idempotency_key_reused"


def test_duplicate_domain_is_refused_while_pending(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    domain = f"{uuid.uuid4().hex[:8]}.co.uk"
    status, receipt, _ = submit(stack, api, application(domain))
    assert status == 201
    confirm(stack, onboarding, receipt, f"ada@{domain}")
    before = len(stack.items("OnboardingTable"))
    other = application(domain, website=f"http://Sales.{domain.upper()}:8080/x", contact_email=f"bob@{domain}")
    status, error, _ = submit(stack, api, other)
    assert status == 409 and error["code"] == "duplicate_application"
    assert error["errors"] == [{"field": "website", "message": f"{domain} has already applied"}]
    assert len(stack.items("OnboardingTable")) == before


def test_an_unconfirmed_application_blocks_nobody_and_the_first_confirmation_wins(
    stack: Stack, onboarding: Any
) -> None:
    """Anyone may submit for any website with any address: an application that is never confirmed must not hold the
    company's domain (the real applicant would get 409 for 48 hours, again and again)."""
    api, consumers, _ = onboarding
    domain = f"victim-{uuid.uuid4().hex[:8]}.com"
    squatter = application(domain, contact_email=f"mallory-{uuid.uuid4().hex[:6]}@evil.example")
    status, squatted, _ = submit(stack, api, squatter)
    assert status == 201 and squatted["status"] == "unconfirmed"
    status, real, _ = submit(stack, api, application(domain, company_name="Victim Ltd"))
    assert status == 201, real
    confirm(stack, onboarding, real, f"ada@{domain}")
    assert consumers_status(onboarding, real["application_id"]) == "pending"
    # Now the domain is taken: a new submission is refused, and a late confirmation of another one is closed.
    status, error, _ = submit(stack, api, application(domain, contact_email=f"bob@{domain}"))
    assert status == 409 and error["code"] == "duplicate_application"
    flush(stack, onboarding)
    application_id, query = confirmation_link(stack, squatter["contact_email"])
    assert application_id == squatted["application_id"]
    status, page, _ = post_confirmation(stack, api, application_id, query)
    assert status == 409 and f"{domain} already has a partner application in progress" in html.unescape(page)
    closed = consumers.service().repository.get_application(application_id)
    assert (closed.status, closed.closed_because, closed.decided_by) == ("rejected", "domain_taken", "system")
    assert post_confirmation(stack, api, application_id, query)[0] == 409  # again: the same answer
    assert consumers_status(onboarding, real["application_id"]) == "pending"  # the winner is untouched
    flush(stack, onboarding)
    told = [m for m in stack.sent_mail() if squatter["contact_email"] in m.destinations["ToAddresses"]]
    assert [m.subject for m in told if "closed this application" in m.body] == [
        "Your partner application for Acme Networks"
    ]
    # the closed application released its contact address: that address may apply again
    assert (
        submit(stack, api, application(f"other-{uuid.uuid4().hex[:8]}.com", contact_email=squatter["contact_email"]))[0]
        == 201
    )


def kept_items(stack: Stack) -> int:
    return len([i for i in stack.items("OnboardingTable") if not str(i["pk"]).startswith("idempotency")])


def test_one_open_confirmation_per_contact_address(stack: Stack, onboarding: Any) -> None:
    """Applications for different websites must not make the PRM email one address again and again."""
    api, consumers, _ = onboarding
    email = f"target-{uuid.uuid4().hex[:8]}@example.org"
    status, first, _ = submit(stack, api, application(contact_email=email))
    assert status == 201
    flush(stack, onboarding)
    before = kept_items(stack)
    status, error, _ = submit(stack, api, application(contact_email=email))
    assert status == 409 and error["code"] == "confirmation_pending", error
    assert error["errors"] == [
        {"field": "contact_email", "message": "a confirmation email was already sent to this address"}
    ]
    assert kept_items(stack) == before  # nothing written, so nothing emailed
    flush(stack, onboarding)
    assert len([m for m in stack.sent_mail() if email in m.destinations["ToAddresses"]]) == 1
    # Once the first is confirmed (or lapses), the address is free again.
    confirm(stack, onboarding, first, email)
    status, second, _ = submit(stack, api, application(contact_email=email))
    assert status == 201, second
    flush(stack, onboarding)
    assert consumers.handle_message(due(second["application_id"], "2020-01-01T00:00:00.000Z")) == "expired"
    assert submit(stack, api, application(contact_email=email))[0] == 201


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ("{not json", "body", "invalid_json"),
        ("[1, 2]", "body", "validation_error"),
        ("", "body", "invalid_json"),
        (json.dumps(application() | {"tier": "Gold"}), "tier", "validation_error"),
        (json.dumps(application(company_name="x" * 201)), "company_name", "validation_error"),
        (json.dumps(application(contact_email="ada@")), "contact_email", "validation_error"),
        (json.dumps(application(website="not a domain")), "website", "validation_error"),
        (json.dumps(application(country=44)), "country", "validation_error"),
        (
            json.dumps(application(expected_annual_revenue={"amount_minor": "100", "currency": "GBP"})),
            "expected_annual_revenue.amount_minor",
            "validation_error",
        ),
        (json.dumps(application() | {"padding": "x" * 70_000}), "body", "payload_too_large"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    stack: Stack, onboarding: Any, raw: str, field: str, code: str
) -> None:
    api, _, _ = onboarding
    before = len(stack.items("OnboardingTable"))
    status, body, _ = stack.call(api.app, "POST", "/applications", raw_body=raw)
    assert status == (413 if code == "payload_too_large" else 400), body
    assert body["code"] == code
    assert field in [e["field"] for e in body["errors"]]
    assert len(stack.items("OnboardingTable")) == before


def onboard(stack: Stack, onboarding: Any, domain: str | None = None) -> dict[str, Any]:
    """Apply, then deliver an approval decision as the workflow would; returns the application and partner id."""
    api, consumers, _ = onboarding
    body = application(domain)
    status, receipt, _ = submit(stack, api, body)
    assert status == 201
    confirm(stack, onboarding, receipt, body["contact_email"])
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.ref("OnboardingDecisionsQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "ApplicationDecision",
                "application_id": receipt["application_id"],
                "decision": "approved",
                "decided_by": "partner-approver@example.com",
                "reason": None,
                "decided_at": "2026-11-26T12:00:00.000Z",
            }
        ),
    )
    assert stack.deliver("OnboardingDecisionsQueue", consumers.handler)["batchItemFailures"] == []
    flush(stack, onboarding)
    app = consumers.service().repository.get_application(receipt["application_id"])
    return {"application_id": receipt["application_id"], "partner_id": app.partner_id, "email": app.contact.email}


def execution_arn(stack: Stack, application_id: str) -> str:
    arn = stack.ref("OnboardingApprovalStateMachine")
    return str(arn.replace(":stateMachine:", ":execution:") + f":{application_id}")


def test_only_a_confirmed_application_starts_the_approval_workflow_once(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    body = application()
    _status, receipt, _ = submit(stack, api, body)
    flush(stack, onboarding)
    sfn = boto3.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=execution_arn(stack, receipt["application_id"]))
    assert [
        m for m in stack.sent_mail() if m.subject.startswith("We received") and receipt["application_id"] in m.body
    ] == []
    # GET (what a mail scanner does) only shows the page; a tampered link is refused; POST confirms.
    application_id, query = confirmation_link(stack, body["contact_email"])
    path = {"application_id": application_id}
    status, page, headers = stack.call(api.app, "GET", "/applications/{application_id}/confirmation", path, query=query)
    assert status == 200 and "<form method='post'>" in page and headers["Referrer-Policy"] == "no-referrer"
    assert consumers_status(onboarding, application_id) == "unconfirmed"
    forged = query | {"email": "mallory@evil.example"}
    assert post_confirmation(stack, api, application_id, forged)[0] == 403
    assert post_confirmation(stack, api, "app_other", query)[0] == 403
    assert consumers_status(onboarding, application_id) == "unconfirmed"
    confirm(stack, onboarding, receipt, body["contact_email"])
    assert consumers_status(onboarding, application_id) == "pending"
    assert post_confirmation(stack, api, application_id, query)[0] == 200  # again: harmless
    flush(stack, onboarding)
    execution = sfn.describe_execution(executionArn=execution_arn(stack, receipt["application_id"]))
    assert execution["status"] in {"RUNNING", "SUCCEEDED"}
    started = json.loads(execution["input"])
    assert started["approval_id"] == f"onboarding-{receipt['application_id']}"
    assert started["timeouts"] == {"reminder_seconds": 2, "escalation_seconds": 2, "expiry_seconds": 2}
    received = [
        m for m in stack.sent_mail() if m.subject.startswith("We received") and receipt["application_id"] in m.body
    ]
    assert len(received) == 1  # the applicant's acknowledgement, after the confirmation


def test_approval_creates_partner_user_and_cognito_invitation_once(stack: Stack, onboarding: Any) -> None:
    _api, consumers, _ = onboarding
    partner = onboard(stack, onboarding)
    repository = consumers.service().repository
    profile = repository.get_partner(partner["partner_id"])
    assert profile.tier == "Registered" and profile.status == "active"
    users = repository.list_users(partner["partner_id"])
    assert [(u.email, u.role) for u in users] == [(partner["email"], "partner-admin")]
    assert users[0].invitation_sent_at is not None
    cognito = boto3.client("cognito-idp")
    user = cognito.admin_get_user(UserPoolId=stack.ref("PartnerUserPool"), Username=partner["email"])
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {"Name": "custom:partner_id", "Value": partner["partner_id"]} in user["UserAttributes"]
    invitations = [
        m for m in stack.sent_mail() if partner["email"] in m.destinations["ToAddresses"] and "temporary" in str(m.body)
    ]
    assert len(invitations) == 1
    # the same decision delivered again changes nothing and mails nobody
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.ref("OnboardingDecisionsQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "ApplicationDecision",
                "application_id": partner["application_id"],
                "decision": "rejected",
                "decided_by": "x@example.com",
                "reason": "late",
                "decided_at": "2026-11-26T12:00:00.000Z",
            }
        ),
    )
    stack.deliver("OnboardingDecisionsQueue", consumers.handler)
    flush(stack, onboarding)
    assert repository.get_application(partner["application_id"]).status == "approved"
    assert (
        len(
            [
                m
                for m in stack.sent_mail()
                if partner["email"] in m.destinations["ToAddresses"] and "temporary" in str(m.body)
            ]
        )
        == 1
    )


def consumers_status(onboarding: Any, application_id: str) -> str:
    return str(onboarding[1].service().repository.get_application(application_id).status)


def test_rejection_frees_the_domain_and_tells_the_applicant(stack: Stack, onboarding: Any) -> None:
    api, consumers, _ = onboarding
    domain = f"org-{uuid.uuid4().hex[:8]}.org"
    _, receipt, _ = submit(stack, api, application(domain))
    confirm(stack, onboarding, receipt, f"ada@{domain}")
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("OnboardingDecisionsQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "ApplicationDecision",
                "application_id": receipt["application_id"],
                "decision": "rejected",
                "decided_by": "partner-approver@example.com",
                "reason": "Outside our territories",
                "decided_at": "2026-11-26T12:00:00.000Z",
            }
        ),
    )
    stack.deliver("OnboardingDecisionsQueue", consumers.handler)
    flush(stack, onboarding)
    assert consumers.service().repository.get_application(receipt["application_id"]).status == "rejected"
    told = [
        m
        for m in stack.sent_mail()
        if f"ada@{domain}" in m.destinations["ToAddresses"] and "Outside our territories" in m.body
    ]
    assert len(told) == 1
    assert submit(stack, api, application(domain, company_name="Acme Again"))[0] == 201


def partner_claims(
    partner: dict[str, Any], *, sub: str | None = None, groups: list[str] | None = None
) -> dict[str, str]:
    return claims_for(
        sub=sub or f"sub-{partner['partner_id']}",
        email=partner["email"],
        partner_id=partner["partner_id"],
        groups=groups or ["partner-admin"],
    )


VENDOR = claims_for(sub="vendor-1", email="channel@example.com", partner_id=None, groups=["vendor-admin"])


def principal_from_claims(claims: dict[str, str]) -> Principal:
    return Principal(
        sub=claims["sub"], email=claims["email"], name="", partner_id=None, groups=frozenset(["vendor-admin"])
    )


def test_agreement_gate_profile_and_tenant_isolation(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    mine, theirs = onboard(stack, onboarding), onboard(stack, onboarding)
    me = partner_claims(mine)
    version = f"v-{uuid.uuid4().hex[:6]}"
    status, _, _ = stack.call(
        api.app,
        "POST",
        "/agreements",
        body={"version": version, "title": "Programme terms", "body": "Be nice."},
        claims=me,
    )
    assert status == 403
    status, agreement, _ = stack.call(
        api.app,
        "POST",
        "/agreements",
        body={"version": version, "title": "Programme terms", "body": "Be nice."},
        claims=VENDOR,
    )
    assert status == 201 and agreement["version"] == version

    status, who, _ = stack.call(api.app, "GET", "/me", claims=me)
    assert status == 200 and who["agreement"] == {
        "required": True,
        "current_version": version,
        "accepted_version": None,
    }
    status, error, _ = stack.call(
        api.app, "GET", "/partners/{partner_id}", {"partner_id": mine["partner_id"]}, claims=me
    )
    assert status == 403 and error["code"] == "agreement_required"

    status, error, _ = stack.call(api.app, "POST", "/agreements/current/acceptance", body={"version": "old"}, claims=me)
    assert status == 409 and error["code"] == "agreement_version_mismatch"
    status, accepted, _ = stack.call(
        api.app, "POST", "/agreements/current/acceptance", body={"version": version}, claims=me
    )
    assert status == 201 and accepted["accepted_by"] == mine["email"]
    again = stack.call(api.app, "POST", "/agreements/current/acceptance", body={"version": version}, claims=me)
    assert again[0] == 201 and again[1]["accepted_at"] == accepted["accepted_at"]

    status, profile, _ = stack.call(
        api.app, "GET", "/partners/{partner_id}", {"partner_id": mine["partner_id"]}, claims=me
    )
    assert status == 200 and profile["tier"] == "Registered" and profile["partner_id"] == mine["partner_id"]
    # another partner's organisation is invisible and unchangeable
    other = {"partner_id": theirs["partner_id"]}
    assert stack.call(api.app, "GET", "/partners/{partner_id}", other, claims=me)[0] == 404
    assert stack.call(api.app, "PATCH", "/partners/{partner_id}", other, body={"phone": "1"}, claims=me)[0] == 404
    assert stack.call(api.app, "GET", "/partners/{partner_id}/users", other, claims=me)[0] == 404
    invite = {"email": "eve@evil.example", "name": "Eve", "role": "partner-admin"}
    assert stack.call(api.app, "POST", "/partners/{partner_id}/users", other, body=invite, claims=me)[0] == 404

    status, updated, _ = stack.call(
        api.app,
        "PATCH",
        "/partners/{partner_id}",
        {"partner_id": mine["partner_id"]},
        body={"phone": "+44 20 7946 0000"},
        claims=me,
    )
    assert status == 200 and updated["phone"] == "+44 20 7946 0000"
    user_claims = partner_claims(mine, sub="sub-colleague", groups=["partner-user"])
    stack.call(api.app, "POST", "/agreements/current/acceptance", body={"version": version}, claims=user_claims)
    assert (
        stack.call(
            api.app,
            "PATCH",
            "/partners/{partner_id}",
            {"partner_id": mine["partner_id"]},
            body={"phone": "0"},
            claims=user_claims,
        )[0]
        == 403
    )


def test_partner_admin_invites_a_colleague_once(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    mine = onboard(stack, onboarding)
    me = partner_claims(mine)
    current = stack.call(api.app, "GET", "/agreements/current", claims=me)
    if current[0] == 200:
        stack.call(
            api.app, "POST", "/agreements/current/acceptance", body={"version": current[1]["version"]}, claims=me
        )
    path = {"partner_id": mine["partner_id"]}
    colleague = {"email": f"Grace@{mine['email'].split('@')[1]}", "name": "Grace Hopper", "role": "partner-user"}
    status, user, _ = stack.call(api.app, "POST", "/partners/{partner_id}/users", path, body=colleague, claims=me)
    assert status == 201 and user["status"] == "invited" and user["email"] == colleague["email"].lower()
    assert stack.call(api.app, "POST", "/partners/{partner_id}/users", path, body=colleague, claims=me)[:2] == (
        201,
        user,
    )
    status, error, _ = stack.call(
        api.app,
        "POST",
        "/partners/{partner_id}/users",
        path,
        body={"email": mine["email"], "name": "Dup", "role": "partner-user"},
        claims=me,
    )
    assert status == 409 and error["code"] == "user_exists" and error["errors"][0]["field"] == "email"
    flush(stack, onboarding)
    status, users, _ = stack.call(api.app, "GET", "/partners/{partner_id}/users", path, claims=me)
    assert status == 200 and {u["email"] for u in users["items"]} == {mine["email"], colleague["email"].lower()}
    mails = [m for m in stack.sent_mail() if colleague["email"].lower() in m.destinations["ToAddresses"]]
    assert len(mails) == 1
    status, error, _ = stack.call(
        api.app,
        "POST",
        "/partners/{partner_id}/users",
        path,
        body={"email": "bad", "name": "", "role": "owner"},
        claims=me,
    )
    assert status == 400 and {e["field"] for e in error["errors"]} == {"email", "name", "role"}


def due(application_id: str, at: str) -> dict[str, Any]:
    return {"message_type": "ApplicationConfirmationDue", "application_id": application_id, "due_at": at}


def test_an_unconfirmed_application_lapses_without_reaching_the_approver(stack: Stack, onboarding: Any) -> None:
    api, consumers, _ = onboarding
    domain = f"unconfirmed-{uuid.uuid4().hex[:8]}.org"
    _, receipt, _ = submit(stack, api, application(domain))
    flush(stack, onboarding)
    application_id = receipt["application_id"]
    # the deadline is a one-time schedule that puts this message on the decisions queue
    group = stack.env("OnboardingEventsFunction")["SCHEDULE_GROUP"]
    schedule = boto3.client("scheduler").get_schedule(
        GroupName=group, Name=schedule_name(f"confirm-{application_id}-0")
    )
    assert schedule["ScheduleExpression"].startswith("at(") and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == stack.attr("OnboardingDecisionsQueue", "Arn")
    assert json.loads(schedule["Target"]["Input"])["application_id"] == application_id
    # one that arrives early (clock skew) fails, to come again; it changes nothing
    with pytest.raises(NotYetDue):
        consumers.handle_message(due(application_id, "2999-01-01T00:00:00.000Z"))
    assert consumers_status(onboarding, application_id) == "unconfirmed"
    mails_before = len(stack.sent_mail())
    assert consumers.handle_message(due(application_id, "2020-01-01T00:00:00.000Z")) == "expired"
    records = stack.stream_records("OnboardingTable")
    expired = [r["dynamodb"]["NewImage"] for r in records if "PartnerApplicationExpired" in json.dumps(r, default=str)]
    assert expired and "not_confirmed" in json.dumps(expired)
    onboarding[2].handler(stream_event(records, stack.attr("OnboardingTable", "StreamArn")), LambdaContext())
    flush(stack, onboarding)
    assert consumers_status(onboarding, application_id) == "expired"
    assert len(stack.sent_mail()) == mails_before  # never email an address nobody confirmed
    _, query = confirmation_link(stack, f"ada@{domain}")
    assert post_confirmation(stack, api, application_id, query)[0] == 410
    assert submit(stack, api, application(domain, company_name="Acme, for real"))[0] == 201  # domain freed


def reject(stack: Stack, onboarding: Any, application_id: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("OnboardingDecisionsQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "ApplicationDecision",
                "application_id": application_id,
                "decision": "rejected",
                "decided_by": "partner-approver@example.com",
                "reason": "Not now",
                "decided_at": "2026-11-26T12:00:00.000Z",
            }
        ),
    )
    stack.deliver("OnboardingDecisionsQueue", onboarding[1].handler)


def test_a_replayed_submission_tells_the_current_state_or_is_a_new_application(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    body = application()
    _, first, _ = submit(stack, api, body)
    assert submit(stack, api, body)[1] == first  # a retry: the same receipt
    confirm(stack, onboarding, first, body["contact_email"])
    status, retried, _ = submit(stack, api, body)
    assert status == 201 and retried["application_id"] == first["application_id"] and retried["status"] == "pending"
    reject(stack, onboarding, first["application_id"])
    # the same body after the rejection: a new application (not the old id with a stale "pending")
    status, again, _ = submit(stack, api, body)
    assert status == 201 and again["application_id"] != first["application_id"] and again["status"] == "unconfirmed"
    assert submit(stack, api, body)[1] == again  # whose retry replays it in turn
    # with an Idempotency-Key the answer stays that request's application, with its status as it is now
    keyed = application()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    _, answer, _ = submit(stack, api, keyed, headers=key)
    confirm(stack, onboarding, answer, keyed["contact_email"])
    reject(stack, onboarding, answer["application_id"])
    status, replayed, _ = submit(stack, api, keyed, headers=key)
    assert status == 201 and replayed["application_id"] == answer["application_id"]
    assert replayed["status"] == "rejected"


def test_replaying_every_event_after_the_dedup_records_expired_repeats_no_side_effect(
    stack: Stack, onboarding: Any
) -> None:
    """The bus archive can replay events after consumers' de-duplication records (24 h) are gone."""
    api, consumers, outbox = onboarding
    started = iso(utc_now())

    def pump() -> None:
        flush(stack, onboarding)
        while stack.deliver("OnboardingDecisionsQueue", consumers.handler)["delivered"]:
            flush(stack, onboarding)

    domain = f"replay-{uuid.uuid4().hex[:8]}.org"
    partner = onboard(stack, onboarding, domain)
    me = partner_claims(partner)
    current = stack.call(api.app, "GET", "/agreements/current", claims=me)
    if current[0] == 200:
        stack.call(
            api.app, "POST", "/agreements/current/acceptance", body={"version": current[1]["version"]}, claims=me
        )
    colleague = {"email": f"grace@{domain}", "name": "Grace Hopper", "role": "partner-user"}
    path = {"partner_id": partner["partner_id"]}
    assert stack.call(api.app, "POST", "/partners/{partner_id}/users", path, body=colleague, claims=me)[0] == 201
    rejected = application(f"replay-no-{uuid.uuid4().hex[:8]}.org")
    _, receipt, _ = submit(stack, api, rejected)
    confirm(stack, onboarding, receipt, rejected["contact_email"])
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("OnboardingDecisionsQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "ApplicationDecision",
                "application_id": receipt["application_id"],
                "decision": "rejected",
                "decided_by": "partner-approver@example.com",
                "reason": "Not now",
                "decided_at": "2026-11-26T12:00:00.000Z",
            }
        ),
    )
    pump()
    lapsed = application(f"replay-lapsed-{uuid.uuid4().hex[:8]}.org")
    _, lapsed_receipt, _ = submit(stack, api, lapsed)
    pump()
    consumers.handle_message(due(lapsed_receipt["application_id"], "2020-01-01T00:00:00.000Z"))
    pump()
    # What the archive holds: every event this scenario published (the outbox items, as stream INSERT records).
    dynamodb = boto3.client("dynamodb")
    scanned = dynamodb.scan(TableName=stack.ref("OnboardingTable"))["Items"]
    outbox_items = [
        item
        for item in sorted(scanned, key=lambda i: i.get("created_at", {}).get("S", ""))
        if item.get("entity", {}).get("S") == "outbox" and item["created_at"]["S"] >= started
    ]
    published = [
        {"eventID": item["pk"]["S"], "eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": str(n)}}
        for n, item in enumerate(outbox_items, start=1)
    ]
    assert {p["dynamodb"]["NewImage"]["detail_type"]["S"] for p in published} >= {
        "PartnerApplicationSubmitted",
        "PartnerApplicationConfirmed",
        "PartnerApplicationRejected",
        "PartnerApplicationExpired",
        "PartnerOnboarded",
        "PartnerUserInvited",
    }

    cognito = boto3.client("cognito-idp")
    pool = stack.ref("PartnerUserPool")
    people = [partner["email"], colleague["email"]]

    def state() -> Any:
        table = sorted(
            (
                json.dumps(i, sort_keys=True, default=str)
                for i in stack.items("OnboardingTable")
                if not str(i["pk"]).startswith(("idempotency", "OUTBOX"))
            ),
        )
        users = [cognito.admin_get_user(UserPoolId=pool, Username=p) for p in people]
        return table, [(u["UserStatus"], u["UserLastModifiedDate"]) for u in users]

    before, mails_before = state(), len(stack.sent_mail())
    executions_before = boto3.client("stepfunctions").list_executions(
        stateMachineArn=stack.ref("OnboardingApprovalStateMachine")
    )["executions"]
    for item in stack.items("OnboardingTable"):  # the de-duplication records expired
        if str(item["pk"]).startswith("idempotency"):
            boto3.client("dynamodb").delete_item(
                TableName=stack.ref("OnboardingTable"), Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}}
            )
    replayed = outbox.handler(stream_event(published, stack.attr("OnboardingTable", "StreamArn")), LambdaContext())
    assert replayed["batchItemFailures"] == []
    delivered = 0
    while batch := stack.deliver("OnboardingEventsQueue", consumers.handler, wait=1)["delivered"]:
        delivered += batch
    own = [p for p in published if p["dynamodb"]["NewImage"]["detail_type"]["S"] in consumers.EVENT_HANDLERS]
    assert delivered == len(own) >= 7  # every event onboarding consumes came again
    assert len(stack.sent_mail()) == mails_before, [m.subject for m in stack.sent_mail()[mails_before:]]
    assert state() == before
    executions_after = boto3.client("stepfunctions").list_executions(
        stateMachineArn=stack.ref("OnboardingApprovalStateMachine")
    )["executions"]
    assert len(executions_after) == len(executions_before)


def test_a_confirmation_just_before_the_deadline_fires_is_not_expired(
    stack: Stack, onboarding: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirmation timer checked `unconfirmed`, then the applicant's confirmation committed: the timer must not
    expire the now pending application (as `not_decided`, with its approval workflow started)."""
    api, consumers, _ = onboarding
    body = application()
    _, receipt, _ = submit(stack, api, body)
    flush(stack, onboarding)
    application_id = receipt["application_id"]
    seen_by_timer = consumers.service().repository.get_application(application_id)
    assert seen_by_timer.status == "unconfirmed"
    confirm(stack, onboarding, receipt, body["contact_email"])
    with monkeypatch.context() as timer_reads_first:  # the timer's read, before the commit
        timer_reads_first.setattr(consumers.service().repository, "get_application", lambda _id: seen_by_timer)
        assert consumers.handle_message(due(application_id, "2020-01-01T00:00:00.000Z")) == "already decided"
    assert consumers_status(onboarding, application_id) == "pending"
    # and the approval workflow's expiry does not expire an application still waiting for its confirmation
    _, other, _ = submit(stack, api, application())
    expiry = {"message_type": "ApplicationExpired", "application_id": other["application_id"]}
    assert consumers.handle_message(expiry) == "already decided"
    assert consumers_status(onboarding, other["application_id"]) == "unconfirmed"


def test_an_older_agreement_published_concurrently_does_not_replace_the_newer_one(
    stack: Stack, onboarding: Any
) -> None:
    """Deals and MDF keep the agreement with the newest published_at; onboarding's current one must agree."""
    from onboarding.models import AgreementRequest

    _, consumers, _ = onboarding
    repository = consumers.service().repository
    started = utc_now()
    newer, older = f"v-new-{uuid.uuid4().hex[:6]}", f"v-old-{uuid.uuid4().hex[:6]}"
    principal = principal_from_claims(VENDOR)
    consumers.service().publish_agreement(
        principal, AgreementRequest(version=newer, title="Programme terms", body="Newer.")
    )
    late = replace(consumers.service(), clock=lambda: started - timedelta(seconds=5))
    with pytest.raises(Conflict) as refused:
        late.publish_agreement(principal, AgreementRequest(version=older, title="Programme terms", body="Older."))
    assert refused.value.code == "conflict" and "newer agreement" in refused.value.message
    assert repository.current_agreement().version == newer
    assert repository.table.get("AGREEMENT", f"VERSION#{older}") is None  # nothing of the older publish was kept


def test_an_address_whose_application_is_overdue_may_apply_again_before_the_lapse_is_processed(
    stack: Stack, onboarding: Any
) -> None:
    """The contact-address hold ends at the deadline even if the timer is late; the late lapse then leaves the new
    application's hold alone."""
    from onboarding.models import ApplicationRequest

    api, consumers, _ = onboarding
    email = f"late-{uuid.uuid4().hex[:8]}@example.org"
    three_days_ago = utc_now() - timedelta(days=3)
    overdue = replace(consumers.service(), clock=lambda: three_days_ago, confirm_within=timedelta(days=2))
    old = overdue.submit_application(ApplicationRequest.model_validate(application(contact_email=email)))
    status, new, _ = submit(stack, api, application(contact_email=email))
    assert status == 201, new
    assert consumers.handle_message(due(old.application_id, iso(old.confirm_by))) == "expired"
    status, error, _ = submit(stack, api, application(contact_email=email))
    assert status == 409 and error["code"] == "confirmation_pending"  # the new application still holds the address
