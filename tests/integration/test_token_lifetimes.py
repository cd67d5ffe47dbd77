"""The template's app client, provisioned into moto: its tokens' `exp` is what Cognito puts there (IdTokenValidity and
AccessTokenValidity in their TokenValidityUnits, 5 minutes), and the local API gateway refuses an expired one with a
401 that says it expired, so a client that refreshes by `exp` and the gateway agree."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import jwt
import pytest
from moto.utilities.utils import load_resource

from infrastructure.local.auth import CognitoTokenVerifier, id_token_seconds
from infrastructure.local.gateway import ApiGateway, Route
from tests.integration.conftest import Stack
from tests.support.in_process_aws import REGION

PASSWORD = "Correct-Horse-42"


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.fixture(scope="module")
def signed_in(stack: Stack) -> dict[str, Any]:
    cognito, pool_id = boto3.client("cognito-idp"), stack.ref("PartnerUserPool")
    email = f"lifetime-{uuid.uuid4().hex[:8]}@example.com"
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    answer: dict[str, Any] = cognito.initiate_auth(
        ClientId=stack.ref("PortalUserPoolClient"),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return answer


def test_the_template_client_lasts_five_minutes() -> None:
    """Guards the numbers below: the template says 5 minutes for ID and access tokens."""
    from infrastructure.local.stack import REPO_ROOT
    from infrastructure.local.template import Template, load_template

    props = Template(load_template(REPO_ROOT / "template.yaml")).properties("PortalUserPoolClient")
    assert (props["IdTokenValidity"], props["TokenValidityUnits"]["IdToken"]) == (5, "minutes")
    assert (props["AccessTokenValidity"], props["TokenValidityUnits"]["AccessToken"]) == (5, "minutes")
    assert id_token_seconds(props) == 300


def test_tokens_expire_when_the_app_client_says(stack: Stack, signed_in: dict[str, Any]) -> None:
    identity, access = _claims(signed_in["IdToken"]), _claims(signed_in["AccessToken"])
    assert identity["exp"] == identity["iat"] + 300
    assert access["exp"] == access["iat"] + 300
    assert signed_in["ExpiresIn"] == 300  # the access token's lifetime, as Cognito answers it


def test_refreshed_tokens_expire_when_the_app_client_says(stack: Stack, signed_in: dict[str, Any]) -> None:
    refreshed = boto3.client("cognito-idp").initiate_auth(
        ClientId=stack.ref("PortalUserPoolClient"),
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": signed_in["RefreshToken"]},
    )["AuthenticationResult"]
    identity = _claims(refreshed["IdToken"])
    assert identity["exp"] == identity["iat"] + 300 and refreshed["ExpiresIn"] == 300


def _gateway(stack: Stack, now: float) -> ApiGateway:
    """The template's API: its UNAUTHORIZED gateway response, and the authorizer as the local stack builds it."""
    client_id = stack.ref("PortalUserPoolClient")
    raw = stack.template.properties("PrmApi")
    verifier = CognitoTokenVerifier(
        region=REGION,
        user_pool_id=stack.ref("PartnerUserPool"),
        client_ids=[client_id],
        fetch_jwks=lambda: dict(load_resource("cognitoidp/resources/jwks-public.json")),
        clock=lambda: now,
        id_token_seconds={client_id: id_token_seconds(stack.template.properties("PortalUserPoolClient"))},
    )
    return ApiGateway(
        api_id="abc123defg",
        stage="dev",
        account_id="123456789012",
        routes=[Route("/me", "GET", "OnboardingApiFunction", "CognitoAuthorizer")],
        invoke=lambda *_: {"statusCode": 200, "headers": {}, "body": "{}"},
        function_timeouts={},
        authorizers={"CognitoAuthorizer": verifier},
        gateway_responses=stack.template.resolve(raw["GatewayResponses"]),
    )


def test_the_gateway_honours_a_token_until_exp_and_then_says_it_expired(
    stack: Stack, signed_in: dict[str, Any]
) -> None:
    token, expires = signed_in["IdToken"], _claims(signed_in["IdToken"])["exp"]
    headers = [("Authorization", f"Bearer {token}")]
    assert _gateway(stack, expires - 1).handle("GET", "/me", headers=headers).status == 200
    expired = _gateway(stack, expires).handle("GET", "/me", headers=headers)
    assert expired.status == 401
    assert json.loads(expired.body) == {
        "code": "unauthorized",
        "message": "The incoming token has expired",
        "errors": [],
    }

    # Any other refusal is the same 401 and code, without the word: only an expired token is worth refreshing.
    for bad in ([], [("Authorization", "Bearer not-a-token")], [("Authorization", f"Bearer {token}x")]):
        refused = _gateway(stack, expires - 1).handle("GET", "/me", headers=bad)
        assert refused.status == 401
        assert json.loads(refused.body) == {"code": "unauthorized", "message": "Unauthorized", "errors": []}


def test_a_restored_stack_gives_its_app_client_the_template_settings_again(stack: Stack) -> None:
    """Provisioning over existing resources (a restarted `make dev`) updates the client as a deploy would: a snapshot
    taken with other token lifetimes gets the template's again, and keeps its client id."""
    cognito, pool_id, client_id = (
        boto3.client("cognito-idp"),
        stack.ref("PartnerUserPool"),
        stack.ref("PortalUserPoolClient"),
    )
    before = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    cognito.update_user_pool_client(
        UserPoolId=pool_id,
        ClientId=client_id,
        ClientName=before["ClientName"],
        IdTokenValidity=60,
        AccessTokenValidity=60,
        TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
        ExplicitAuthFlows=before["ExplicitAuthFlows"],
    )
    stack.provisioner.provision()
    after = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert stack.ref("PortalUserPoolClient") == client_id
    assert (after["IdTokenValidity"], after["AccessTokenValidity"]) == (5, 5)
    keys = ("TokenValidityUnits", "ExplicitAuthFlows", "RefreshTokenValidity", "EnableTokenRevocation")
    assert {k: after.get(k) for k in keys} == {k: before.get(k) for k in keys}
