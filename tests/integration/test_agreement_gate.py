"""The programme-agreement gate on every partner route of the template (issue 8.5a): onboarding, deals, MDF, training,
the programme's tiers, rewards and content.

Routes come from template.yaml itself, so a route added later is covered (or must be named here as exempt).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from contracts.onboarding_agreement_gate import PK
from shared.dynamo import Table
from tests.integration.conftest import Stack
from tests.support.factories import partner_onboarded
from tests.support.lambda_events import claims_for

VENDOR = claims_for(sub="vendor-gate", email="gate-admin@example.com", partner_id=None, groups=["vendor-admin"])
# Needed to accept the agreement at all (docs/api.md: the gate applies to every other partner route).
EXEMPT = frozenset({("GET", "/me"), ("GET", "/agreements/current"), ("POST", "/agreements/current/acceptance")})
# Vendor-only routes: a partner user is refused either way (403), whether by the gate or by the role check.
VENDOR_ONLY = frozenset(
    {
        ("POST", "/agreements"),
        ("POST", "/products"),
        ("POST", "/mdf/periods"),
        ("POST", "/mdf/periods/{period_id}/accrual"),
        ("GET", "/mdf/partners"),
        ("POST", "/mdf/allocations"),
        ("POST", "/mdf/adjustments"),
        ("POST", "/training/courses"),
        ("POST", "/training/certifications"),
        ("POST", "/training/connections"),
        ("POST", "/training/connections/{connection_id}/secrets"),
        ("POST", "/training/imports"),
        ("POST", "/training/imports/{import_id}/submission"),
        ("GET", "/training/imports/{import_id}"),
        ("GET", "/training/review"),
        ("POST", "/training/review/{item_id}/assignment"),
        ("POST", "/training/review/{item_id}/discard"),
        ("GET", "/programme/versions"),
        ("POST", "/programme/versions"),
        ("POST", "/programme/partners/{partner_id}/manual-criteria/{criterion_id}"),
        ("POST", "/programme/versions/{version_id}/withdrawal"),
        ("POST", "/rewards/campaigns"),
        ("PATCH", "/rewards/campaigns/{campaign_id}"),
        ("POST", "/rewards/campaigns/{campaign_id}/close"),
        ("POST", "/rewards/{reward_id}/hold"),
        ("POST", "/rewards/{reward_id}/release"),
        ("POST", "/rewards/{reward_id}/decline"),
        ("GET", "/rewards/rewards"),
        ("POST", "/rewards/catalogue"),
        ("POST", "/rewards/redemptions/{redemption_id}/fulfil"),
        ("POST", "/rewards/redemptions/{redemption_id}/cancel"),
        ("POST", "/rewards/partners/{partner_id}/tax-form"),
        ("GET", "/rewards/partners/{partner_id}/tax-form"),
        ("POST", "/rewards/payout-batches"),
        ("GET", "/rewards/payout-batches"),
        ("GET", "/rewards/payout-batches/{batch_id}"),
        ("POST", "/rewards/payout-batches/{batch_id}/paid"),
        ("GET", "/rewards/payouts"),
        ("POST", "/content/assets"),
        ("POST", "/content/assets/{asset_id}/versions"),
        ("POST", "/content/assets/{asset_id}/take-down"),
        ("PATCH", "/content/assets/{asset_id}"),
        ("GET", "/content/admin/assets"),
        ("GET", "/content/assets/{asset_id}/downloads/summary"),
        ("GET", "/content/stats"),
        ("POST", "/content/exports"),
        ("GET", "/content/exports/{export_id}"),
        ("POST", "/content/kits"),
        ("PATCH", "/content/kits/{kit_id}"),
    }
)
APPS = {
    "OnboardingApiFunction": "onboarding.api",
    "DealsApiFunction": "deals.api",
    "MdfApiFunction": "mdf.api",
    "TrainingApiFunction": "training.api",
    "TiersApiFunction": "tiers.api",
    "RewardsApiFunction": "rewards.api",
    "ContentApiFunction": "content.api",
}
CONTEXTS = {
    "DealsTable": "DealsEventsQueue",
    "MdfTable": "MdfEventsQueue",
    "TrainingTable": "TrainingEventsQueue",
    "TiersTable": "TiersEventsQueue",
    "RewardsTable": "RewardsPartnersQueue",  # rewards' partner projection keeps its agreement gate
    "ContentTable": "ContentEventsQueue",
}


def routes(stack: Stack) -> list[tuple[str, str, str]]:
    """(method, path, function) of every Api event that has the Cognito authorizer."""
    found = []
    for function_id in stack.template.resources_of_type("AWS::Serverless::Function"):
        events = stack.template.properties(function_id).get("Events") or {}
        for event in events.values():
            if event.get("Type") != "Api":
                continue
            props = event["Properties"]
            if (props.get("Auth") or {}).get("Authorizer") == "NONE":
                continue
            found.append((str(props["Method"]).upper(), str(props["Path"]), function_id))
    return sorted(found)


def path_params(path: str, partner_id: str) -> dict[str, str]:
    values = {
        "partner_id": partner_id,
        "deal_id": "deal_" + "0" * 26,
        "period_id": "FY27-Q1",
        "fund_id": "FY27-Q1.USD",
        "request_id": "mdfreq_" + "0" * 26,
        "file_id": "file_" + "0" * 26,
        "connection_id": "lms_" + "0" * 26,
        "import_id": "imp_" + "0" * 26,
        "item_id": "rev_" + "0" * 26,
        "criterion_id": "business-plan",
        "version_id": "v1",
        "campaign_id": "cmp_" + "0" * 26,
        "reward_id": "rwd_" + "0" * 32,
        "redemption_id": "rdm_" + "0" * 26,
        "batch_id": "batch_" + "0" * 26,
        "claim_id": "clm_" + "0" * 26,
        "asset_id": "ast_" + "0" * 24,
        "export_id": "exp_" + "0" * 26,
        "kit_id": "kit_" + "0" * 26,
        "upload_id": "logo_" + "0" * 26,
    }
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    assert set(names) <= set(values), f"{path}: give the test a value for its path parameters"
    return {name: values[name] for name in names}


def body_for(method: str, path: str) -> dict[str, Any] | None:
    if method not in ("POST", "PATCH", "PUT"):
        return None
    if path == "/partners/{partner_id}/users":  # onboarding validates the body before its gate
        return {"email": f"colleague-{uuid.uuid4().hex[:6]}@example.com", "name": "Colleague", "role": "partner-user"}
    if path == "/agreements":
        return {"version": f"never-{uuid.uuid4().hex[:6]}", "title": "Not by a partner", "body": "Refused."}
    return {}


@pytest.fixture(scope="module")
def apps(stack: Stack) -> dict[str, Any]:
    loaded = {fid: stack.load(fid, module) for fid, module in APPS.items()}
    loaded["DealsTable"] = stack.load("DealsEventsFunction", "deals.consumers")
    loaded["MdfTable"] = stack.load("MdfEventsFunction", "mdf.consumers")
    loaded["TrainingTable"] = stack.load("TrainingEventsFunction", "training.consumers")
    loaded["TiersTable"] = stack.load("TiersEventsFunction", "tiers.consumers")
    loaded["RewardsTable"] = stack.load("RewardsPartnersFunction", "rewards.partners")
    loaded["ContentTable"] = stack.load("ContentEventsFunction", "content.consumers")
    loaded["outbox"] = stack.load("OnboardingOutboxFunction", "onboarding.outbox")
    return loaded


def propagate(stack: Stack, apps: dict[str, Any], until: Any) -> None:
    """Onboarding's outbox onto the bus, and the bus into the gated contexts' consumers (as the local stack does)."""
    stack.pump_stream("OnboardingTable", apps["outbox"].handler)
    for table_id, queue_id in CONTEXTS.items():
        stack.flush(table_id, _NoOutbox(), {queue_id: apps[table_id].handler}, until=lambda t=table_id: until(t))


class _NoOutbox:
    @staticmethod
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return {"batchItemFailures": []}


def projected(stack: Stack, table_id: str, sk: str) -> dict[str, Any] | None:
    return Table(stack.ref(table_id)).get(PK, sk)


def call_all(stack: Stack, apps: dict[str, Any], claims: dict[str, str]) -> dict[tuple[str, str], tuple[int, Any]]:
    answers = {}
    for method, path, function_id in routes(stack):
        if (method, path) in EXEMPT:
            continue
        status, body, _ = stack.call(
            apps[function_id].app,
            method,
            path,
            path_params(path, claims["custom:partner_id"]),
            body=body_for(method, path),
            claims=claims,
        )
        assert status < 500, (method, path, status, body)
        answers[(method, path)] = (status, body)
    return answers


def test_every_partner_route_requires_the_current_agreement(stack: Stack, apps: dict[str, Any]) -> None:
    every = routes(stack)
    # the routes the issue names are among those checked, and every context with partner routes is covered
    assert {
        ("GET", "/mdf/funds"),
        ("POST", "/mdf/requests"),
        ("GET", "/partners/{partner_id}"),
        ("GET", "/training/me"),
        ("GET", "/programme"),
        ("GET", "/programme/tiers"),
    } <= {(m, p) for m, p, _ in every}
    assert {fid for _, _, fid in every} == set(APPS), "a new context with routes: add its app to this test"

    version = f"gate-{uuid.uuid4().hex[:8]}"
    onboarding = apps["OnboardingApiFunction"].app
    published = {"version": version, "title": "Programme terms", "body": "Play fair."}
    status, answer, _ = stack.call(onboarding, "POST", "/agreements", body=published, claims=VENDOR)
    assert status == 201, answer
    propagate(stack, apps, lambda t: (projected(stack, t, "CURRENT") or {}).get("version") == version)

    envelope = partner_onboarded()
    partner_id = envelope["detail"]["partner_id"]
    for queue_id in CONTEXTS.values():
        boto3.client("sqs").send_message(QueueUrl=stack.ref(queue_id), MessageBody=json.dumps(envelope))
    propagate(stack, apps, lambda t: projected(stack, t, "CURRENT") is not None)
    user = claims_for(
        sub=f"sub-gate-{uuid.uuid4().hex[:6]}",
        email=f"seller@{envelope['detail']['domain']}",
        partner_id=partner_id,
        groups=["partner-admin"],
    )

    # not accepted: 403 agreement_required on every partner route (vendor-only routes: 403 whatever the reason)
    for (method, path), (status, body) in call_all(stack, apps, user).items():
        assert status == 403, (method, path, status, body)
        if (method, path) not in VENDOR_ONLY:
            assert body["code"] == "agreement_required", (method, path, body)
            assert set(body) == {"code", "message", "errors"}

    # vendor staff accept no agreement
    status, _, _ = stack.call(apps["MdfApiFunction"].app, "GET", "/mdf/partners", claims=VENDOR)
    assert status == 200
    for function_id, path in (("TrainingApiFunction", "/training/review"), ("TiersApiFunction", "/programme/versions")):
        status, answer, _ = stack.call(apps[function_id].app, "GET", path, claims=VENDOR)
        assert status == 200, (path, answer)

    # accepted through onboarding: every gated context learns it from PartnerAgreementAccepted, and lets the user in
    status, answer, _ = stack.call(
        onboarding, "POST", "/agreements/current/acceptance", body={"version": version}, claims=user
    )
    assert status == 201, answer
    accepted = f"ACCEPTED#{version}#{user['sub']}"
    propagate(stack, apps, lambda t: projected(stack, t, accepted) is not None)
    for (method, path), (status, body) in call_all(stack, apps, user).items():
        refused = status == 403 and body.get("code") == "agreement_required"
        assert not refused, (method, path, body)
        if (method, path) in VENDOR_ONLY:  # still not theirs (a body check may come first)
            assert status in (400, 403), (method, path, body)


def test_an_older_publication_arriving_late_changes_nothing(stack: Stack, apps: dict[str, Any]) -> None:
    """Newest published version wins in the projection, whatever order the bus delivers in."""
    from datetime import datetime

    from contracts import onboarding_agreement_gate as agreements

    def parse_utc(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    table = Table(stack.ref("DealsTable"))
    current = agreements.PK, "CURRENT"
    before = table.get(*current)
    assert agreements.project_published(table, "newest", parse_utc("2999-01-01T00:00:00Z"))
    assert not agreements.project_published(table, "older", parse_utc("2998-01-01T00:00:00Z"))
    assert (table.get(*current) or {})["version"] == "newest"
    # leave the projection as other tests found it
    boto3.client("dynamodb").delete_item(
        TableName=stack.ref("DealsTable"), Key={"pk": {"S": PK}, "sk": {"S": "CURRENT"}}
    )
    if before:
        agreements.project_published(table, before["version"], parse_utc(before["published_at"]))
