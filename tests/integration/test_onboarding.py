"""Onboarding handlers against moto: the HTTP edge, the outbox chain, decisions, invitations, the agreement gate."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Stack
from tests.support.factories import application_body
from tests.support.lambda_events import claims_for


@pytest.fixture(scope="module")
def onboarding(stack: Stack) -> Any:
    api = stack.load("OnboardingApiFunction", "onboarding.api")
    consumers = stack.load("OnboardingEventsFunction", "onboarding.consumers")
    outbox = stack.load("OnboardingOutboxFunction", "onboarding.outbox")
    return api, consumers, outbox


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


def test_submission_gives_a_receipt_and_writes_application_claim_and_event_together(
    stack: Stack, onboarding: Any
) -> None:
    api, _, _ = onboarding
    status, body, headers = submit(stack, api, application(f"receipt-{uuid.uuid4().hex[:6]}.co.uk"))
    assert status == 201, body
    assert body["status"] == "pending" and body["domain"].startswith("receipt-") and body["domain"].endswith(".co.uk")
    assert body["application_id"].startswith("app_") and body["submitted_at"].endswith("Z")
    assert headers["Access-Control-Allow-Origin"] == "http://portal.test"
    items = [i for i in stack.items("OnboardingTable") if body["application_id"] in json.dumps(i)]
    assert sorted(str(i.get("entity", i["pk"].split("#")[0])) for i in items) == [
        "application",
        "domain_claim",
        "idempotency",
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
    assert submit(stack, api, application(domain))[0] == 201
    before = len(stack.items("OnboardingTable"))
    other = application(domain, website=f"http://Sales.{domain.upper()}:8080/x", contact_email=f"bob@{domain}")
    status, error, _ = submit(stack, api, other)
    assert status == 409 and error["code"] == "duplicate_application"
    assert error["errors"] == [{"field": "website", "message": f"{domain} has already applied"}]
    assert len(stack.items("OnboardingTable")) == before


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
        (json.dumps(application() | {"padding": "x" * 70_000}), "body", "validation_error"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    stack: Stack, onboarding: Any, raw: str, field: str, code: str
) -> None:
    api, _, _ = onboarding
    before = len(stack.items("OnboardingTable"))
    status, body, _ = stack.call(api.app, "POST", "/applications", raw_body=raw)
    assert status == 400, body
    assert body["code"] == code
    assert field in [e["field"] for e in body["errors"]]
    assert len(stack.items("OnboardingTable")) == before


def onboard(stack: Stack, onboarding: Any, domain: str | None = None) -> dict[str, Any]:
    """Apply, then deliver an approval decision as the workflow would; returns the application and partner id."""
    api, consumers, _ = onboarding
    status, receipt, _ = submit(stack, api, application(domain))
    assert status == 201
    flush(stack, onboarding)
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


def test_submitted_event_starts_the_approval_workflow_once(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    _status, receipt, _ = submit(stack, api, application())
    flush(stack, onboarding)
    sfn = boto3.client("stepfunctions")
    arn = stack.ref("OnboardingApprovalStateMachine")
    execution = sfn.describe_execution(
        executionArn=arn.replace(":stateMachine:", ":execution:") + f":{receipt['application_id']}"
    )
    assert execution["status"] in {"RUNNING", "SUCCEEDED"}
    started = json.loads(execution["input"])
    assert started["approval_id"] == f"onboarding-{receipt['application_id']}"
    assert started["timeouts"] == {"reminder_seconds": 2, "escalation_seconds": 2, "expiry_seconds": 2}
    received = [m for m in stack.sent_mail() if receipt["application_id"] in str(m.body)]
    assert len(received) == 1  # the applicant's acknowledgement


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


def test_rejection_frees_the_domain_and_tells_the_applicant(stack: Stack, onboarding: Any) -> None:
    api, consumers, _ = onboarding
    domain = f"org-{uuid.uuid4().hex[:8]}.org"
    _, receipt, _ = submit(stack, api, application(domain))
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
