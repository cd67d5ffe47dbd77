"""Human text over HTTP (issue 8.5c): a control character or direction override is a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.integration.conftest import Stack
from tests.support.factories import application_body, partner_onboarded
from tests.support.lambda_events import claims_for


def test_bodies_with_control_characters_are_refused_naming_the_field(stack: Stack) -> None:
    onboarding = stack.load("OnboardingApiFunction", "onboarding.api")
    deals = stack.load("DealsApiFunction", "deals.api")
    deals_consumers = stack.load("DealsEventsFunction", "deals.consumers")
    envelope = partner_onboarded()
    boto3.client("sqs").send_message(QueueUrl=stack.ref("DealsEventsQueue"), MessageBody=json.dumps(envelope))
    stack.deliver("DealsEventsQueue", deals_consumers.handler)
    seller = claims_for(
        sub=f"sub-{envelope['detail']['partner_id']}",
        email=f"seller@{envelope['detail']['domain']}",
        partner_id=envelope["detail"]["partner_id"],
        groups=["partner-admin"],
    )
    if stack.accept_projected_agreement("DealsTable", "DealsEventsQueue", seller):
        stack.deliver("DealsEventsQueue", deals_consumers.handler)

    cases: list[tuple[Any, str, dict[str, Any], dict[str, str] | None, str]] = [
        (onboarding.app, "/applications", application_body(company_name="Acme\x00 Networks"), None, "company_name"),
        (onboarding.app, "/applications", application_body(contact_name="Ada\u202eecalevol"), None, "contact_name"),
        (
            deals.app,
            "/deals",
            {
                "prospect": {
                    "company_name": "Globex \u2066Ltd\u2069",
                    "website": "globex.example",
                    "country": "GB",
                    "contact": {"name": "Hank", "email": "hank@globex.example"},
                },
                "products": ["NET-FW-100"],
                "estimated_value": {"amount_minor": 1, "currency": "USD"},
                "expected_close_date": "2099-01-01",
                "description": "Branch firewalls\x1b[2J",
            },
            seller,
            "prospect.company_name",
        ),
    ]
    for app, path, body, claims, field in cases:
        status, answer, _ = stack.call(app, "POST", path, body=body, claims=claims)
        assert status == 400, (path, answer)
        assert answer["code"] == "validation_error" and set(answer) == {"code", "message", "errors"}
        assert field in [e["field"] for e in answer["errors"]], answer
        if path == "/deals":
            assert "description" in [e["field"] for e in answer["errors"]]
