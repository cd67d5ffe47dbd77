"""The API edge asks the user pool (AdminGetUser and AdminListGroupsForUser, in-process moto) whether a token's user is
still live and still holds the groups it claims."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from shared.identity import LiveIdentity, cognito_lookup
from tests.integration.conftest import Stack
from tests.support.lambda_events import LambdaContext, api_event, claims_for


def answer(app: Any, claims: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Call the app directly: `stack.call` would (re)create the claims' user first."""
    response = app(api_event("GET", "/me", claims=claims), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def claims(stack: Stack) -> dict[str, str]:
    found = claims_for(
        sub=f"sub-{uuid.uuid4().hex}",
        email=f"u-{uuid.uuid4().hex[:8]}@example.com",
        partner_id=None,
        groups=["vendor-admin"],
    )
    stack.ensure_user(found)
    return found


def test_a_live_user_passes_and_a_disabled_or_deleted_one_is_refused(stack: Stack, claims: dict[str, str]) -> None:
    cognito, pool = boto3.client("cognito-idp"), stack.ref("PartnerUserPool")
    assert answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)[0] == 200

    cognito.admin_disable_user(UserPoolId=pool, Username=claims["email"])
    status, body = answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)  # a new container
    assert status == 401 and body["code"] == "unauthorized" and set(body) == {"code", "message", "errors"}

    cognito.admin_enable_user(UserPoolId=pool, Username=claims["email"])
    assert answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)[0] == 200

    cognito.admin_delete_user(UserPoolId=pool, Username=claims["email"])
    status, body = answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)
    assert status == 401 and body["code"] == "unauthorized"


def test_a_user_removed_from_a_claimed_group_is_refused_and_one_added_to_a_group_is_not(
    stack: Stack, claims: dict[str, str]
) -> None:
    cognito, pool = boto3.client("cognito-idp"), stack.ref("PartnerUserPool")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=claims["email"], GroupName="partner-user")
    assert answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)[0] == 200  # one group more

    cognito.admin_remove_user_from_group(UserPoolId=pool, Username=claims["email"], GroupName="vendor-admin")
    status, body = answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)
    assert (status, body["code"]) == (401, "unauthorized") and "roles changed" in body["message"]
    fewer = claims | {"cognito:groups": "partner-user"}  # the token they get at their next sign-in
    assert answer(stack.load("OnboardingApiFunction", "onboarding.api").app, fewer)[0] == 200


def test_every_page_of_a_users_groups_counts(stack: Stack, claims: dict[str, str]) -> None:
    """More groups than one AdminListGroupsForUser page (60): the claimed one is on a later page."""
    cognito, pool = boto3.client("cognito-idp"), stack.ref("PartnerUserPool")
    names = [f"team-{uuid.uuid4().hex[:8]}" for _ in range(65)]
    for name in names:
        cognito.create_group(UserPoolId=pool, GroupName=name)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=claims["email"], GroupName=name)
    found = cognito_lookup(pool)(claims["email"])
    assert found is not None and found.groups == {"vendor-admin", *names}
    first = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=claims["email"])
    assert first.get("NextToken")  # moto pages it as AWS does
    assert answer(stack.load("OnboardingApiFunction", "onboarding.api").app, claims)[0] == 200


def test_a_pool_that_cannot_answer_fails_closed(stack: Stack, claims: dict[str, str]) -> None:
    api = stack.load("OnboardingApiFunction", "onboarding.api")
    api.edge.identity = LiveIdentity(cognito_lookup("us-east-1_NoSuchPool"))
    status, body = answer(api.app, claims)
    assert status == 503 and body["code"] == "identity_unavailable"


def test_public_routes_do_not_look_anyone_up(stack: Stack) -> None:
    api = stack.load("OnboardingApiFunction", "onboarding.api")
    api.edge.identity = LiveIdentity(lambda username: pytest.fail("a public route looked a user up"))
    response = api.app(api_event("POST", "/applications", body={}), LambdaContext())
    assert response["statusCode"] == 400  # reached the handler: the body is invalid
