"""The local stack's moto answers Cognito as AWS does: only the public operations unsigned, every other one (Admin*,
ListUsers, groups, pools) only with a SigV4 signature by the stack's credentials, so a browser that holds the moto URL
(config.json) cannot make itself another partner's user or a vendor admin."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from infrastructure.local.cognito_guard import guarded_moto_server, public_actions
from infrastructure.local.stack import DUMMY_CREDENTIALS

REGION = "us-east-1"
TEMPORARY = "Temporary-Pass-42"
PASSWORD = "Correct-Horse-42"
PARTNER = "prt_01m94ks4j1d7pjfjw3zmnsfgaa"
ANOTHER_PARTNER = "prt_01m94ks4j1d7pjfjw3zmnsfgbb"
TARGET = "AWSCognitoIdentityProviderService."
ORIGIN = "http://127.0.0.1:8080"


@dataclass
class Moto:
    url: str
    pool_id: str
    client_id: str

    def client(self, **credentials: Any) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.url, region_name=REGION, **credentials)

    def signed(self) -> Any:
        return self.client(**DUMMY_CREDENTIALS)

    def unsigned(self) -> Any:
        """What a browser can do: no AWS credentials, no Authorization header."""
        return self.client(config=Config(signature_version=UNSIGNED))


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = guarded_moto_server("127.0.0.1", 0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    idp = boto3.client("cognito-idp", endpoint_url=url, region_name=REGION, **DUMMY_CREDENTIALS)
    pool_id = idp.create_user_pool(
        PoolName=f"partners-{uuid.uuid4().hex[:6]}",
        UsernameAttributes=["email"],
        Schema=[{"Name": "partner_id", "AttributeDataType": "String", "Mutable": True}],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="portal",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        WriteAttributes=["name"],
    )["UserPoolClient"]["ClientId"]
    for group in ("partner-admin", "partner-user", "vendor-admin"):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    yield Moto(url, pool_id, client_id)
    server.stop()


def invited(moto: Moto, *, password: str | None = PASSWORD) -> str:
    """A partner user as the PRM invites one (signed, as the functions call Cognito), signed in once if `password`."""
    email = f"pat-{uuid.uuid4().hex[:8]}@partner.example"
    idp = moto.signed()
    idp.admin_create_user(
        UserPoolId=moto.pool_id,
        Username=email,
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:partner_id", "Value": PARTNER},
        ],
    )
    idp.admin_add_user_to_group(UserPoolId=moto.pool_id, Username=email, GroupName="partner-user")
    if password is not None:
        idp.admin_set_user_password(UserPoolId=moto.pool_id, Username=email, Password=password, Permanent=True)
    return email


def state_of(moto: Moto, email: str) -> tuple[str, list[str]]:
    idp = moto.signed()
    user = idp.admin_get_user(UserPoolId=moto.pool_id, Username=email)
    partner = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "custom:partner_id")
    groups = idp.admin_list_groups_for_user(UserPoolId=moto.pool_id, Username=email)["Groups"]
    return partner, sorted(g["GroupName"] for g in groups)


def error_of(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def escalations(moto: Moto, email: str) -> list[tuple[str, dict[str, Any]]]:
    """What a partner user would send to make themselves another partner's admin or a vendor admin."""
    return [
        (
            "AdminUpdateUserAttributes",
            {
                "UserPoolId": moto.pool_id,
                "Username": email,
                "UserAttributes": [{"Name": "custom:partner_id", "Value": ANOTHER_PARTNER}],
            },
        ),
        ("AdminAddUserToGroup", {"UserPoolId": moto.pool_id, "Username": email, "GroupName": "vendor-admin"}),
        ("AdminRemoveUserFromGroup", {"UserPoolId": moto.pool_id, "Username": email, "GroupName": "partner-user"}),
    ]


def test_aws_public_operations_are_the_sign_in_and_self_service_ones() -> None:
    public = public_actions()
    assert {"InitiateAuth", "RespondToAuthChallenge", "GetUser", "UpdateUserAttributes", "SignUp"} <= public
    assert {"ChangePassword", "GlobalSignOut", "RevokeToken", "ForgotPassword", "ConfirmForgotPassword"} <= public
    assert not {name for name in public if name.startswith("Admin")}
    assert not public & {"ListUsers", "CreateUserPool", "CreateGroup", "DescribeUserPool", "UpdateUserPoolClient"}


def test_a_browser_cannot_escalate_with_unsigned_admin_calls(moto: Moto) -> None:
    email = invited(moto)
    for action, body in escalations(moto, email):
        answer = requests.post(
            moto.url,
            headers={"X-Amz-Target": TARGET + action, "Content-Type": "application/x-amz-json-1.1", "Origin": ORIGIN},
            data=json.dumps(body),
            timeout=10,
        )
        assert answer.status_code == 400, (action, answer.text)
        assert answer.json()["__type"] == "MissingAuthenticationTokenException"
        assert answer.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)  # the portal can read why
    assert state_of(moto, email) == (PARTNER, ["partner-user"])


@pytest.mark.parametrize(
    "call",
    [
        lambda idp, moto: idp.list_users(UserPoolId=moto.pool_id),
        lambda idp, moto: idp.admin_get_user(UserPoolId=moto.pool_id, Username="nobody@example.com"),
        lambda idp, moto: idp.admin_list_groups_for_user(UserPoolId=moto.pool_id, Username="nobody@example.com"),
        lambda idp, moto: idp.admin_create_user(UserPoolId=moto.pool_id, Username="new@example.com"),
        lambda idp, moto: idp.describe_user_pool(UserPoolId=moto.pool_id),
        lambda idp, moto: idp.list_user_pool_clients(UserPoolId=moto.pool_id),
        lambda idp, moto: idp.create_user_pool(PoolName="mine"),
    ],
    ids=[
        "ListUsers",
        "AdminGetUser",
        "AdminListGroupsForUser",
        "AdminCreateUser",
        "DescribeUserPool",
        "ListUserPoolClients",
        "CreateUserPool",
    ],
)
def test_unsigned_iam_operations_are_refused(moto: Moto, call: Callable[[Any, Moto], Any]) -> None:
    assert error_of(lambda: call(moto.unsigned(), moto)) == ("MissingAuthenticationTokenException", 400)
    try:  # signed with the stack's credentials, moto answers it (found, or not found, but not refused)
        call(moto.signed(), moto)
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "UserNotFoundException"


def test_signed_admin_calls_work(moto: Moto) -> None:
    email = invited(moto)
    idp = moto.signed()
    idp.admin_update_user_attributes(
        UserPoolId=moto.pool_id,
        Username=email,
        UserAttributes=[{"Name": "custom:partner_id", "Value": ANOTHER_PARTNER}],
    )
    idp.admin_add_user_to_group(UserPoolId=moto.pool_id, Username=email, GroupName="partner-admin")
    assert state_of(moto, email) == (ANOTHER_PARTNER, ["partner-admin", "partner-user"])
    assert any(u["Username"] for u in idp.list_users(UserPoolId=moto.pool_id)["Users"])


def test_the_live_identity_check_reads_groups_signed_and_a_browser_cannot(moto: Moto) -> None:
    """shared/identity.py lists the caller's groups (AdminListGroupsForUser) with the stack's signature; unsigned,
    the guard refuses it as AWS does (a browser cannot learn who holds which role)."""
    from shared.identity import groups_of

    email = invited(moto)
    assert groups_of(moto.signed(), moto.pool_id, email) == {"partner-user"}
    assert error_of(lambda: groups_of(moto.unsigned(), moto.pool_id, email)) == (
        "MissingAuthenticationTokenException",
        400,
    )


@pytest.mark.parametrize(
    "credentials, expected",
    [
        ({"aws_access_key_id": "AKIAOTHERKEY", "aws_secret_access_key": "testing"}, "UnrecognizedClientException"),
        ({"aws_access_key_id": "testing", "aws_secret_access_key": "guessed"}, "InvalidSignatureException"),
    ],
    ids=["another access key", "the stack's key, another secret"],
)
def test_a_signature_by_other_credentials_is_refused(moto: Moto, credentials: dict[str, str], expected: str) -> None:
    email = invited(moto)
    idp = moto.client(**credentials)
    code = error_of(
        lambda: idp.admin_add_user_to_group(UserPoolId=moto.pool_id, Username=email, GroupName="vendor-admin")
    )
    assert code == (expected, 400)
    assert state_of(moto, email) == (PARTNER, ["partner-user"])


def _signed_request(moto: Moto, action: str, body: dict[str, Any]) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=moto.url + "/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": TARGET + action, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials("testing", "testing"), "cognito-idp", REGION).add_auth(request)
    return request


def test_a_signed_request_that_was_altered_is_refused(moto: Moto) -> None:
    email = invited(moto)
    body = {"UserPoolId": moto.pool_id, "Username": email, "GroupName": "partner-user"}
    request = _signed_request(moto, "AdminAddUserToGroup", body)
    sent = requests.post(moto.url + "/", headers=dict(request.headers.items()), data=request.body, timeout=10)
    assert sent.status_code == 200, sent.text  # the request as signed passes

    tampered = json.dumps({**body, "GroupName": "vendor-admin"}).encode()
    answer = requests.post(moto.url + "/", headers=dict(request.headers.items()), data=tampered, timeout=10)
    assert (answer.status_code, answer.json()["__type"]) == (400, "InvalidSignatureException")
    retarget = {**dict(request.headers.items()), "X-Amz-Target": TARGET + "AdminRemoveUserFromGroup"}
    answer = requests.post(moto.url + "/", headers=retarget, data=request.body, timeout=10)
    assert (answer.status_code, answer.json()["__type"]) == (400, "InvalidSignatureException")
    # moto routes a request by the service its Authorization header names: a made-up signature reaches Cognito.
    for forged in (
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, "
        "Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, "
        "Signature=\u00e9t\u00e9",  # not ASCII: refused, not a 500
    ):
        headers = {"X-Amz-Target": TARGET + "AdminAddUserToGroup", "X-Amz-Date": "20260101T000000Z"}
        answer = requests.post(moto.url + "/", headers=headers | {"Authorization": forged}, data=tampered, timeout=10)
        assert answer.status_code == 400, answer.text
        assert answer.json()["__type"] in ("InvalidSignatureException", "IncompleteSignatureException")
    assert state_of(moto, email) == (PARTNER, ["partner-user"])


@pytest.mark.parametrize(
    "smuggle",
    [
        {"target": TARGET + "InitiateAuth.AdminAddUserToGroup"},  # moto reads only the target's last dotted part
        {"target": TARGET + "InitiateAuth", "query": "?Action=AdminAddUserToGroup"},  # moto prefers Action
        {"target": TARGET + "AdminAddUserToGroup", "method": "OPTIONS"},  # moto runs an OPTIONS request's action
        {"target": TARGET + "AdminAddUserToGroup", "method": "PUT"},
    ],
    ids=["dotted target", "Action in the query", "OPTIONS", "PUT"],
)
def test_an_admin_call_dressed_as_a_public_one_is_refused(moto: Moto, smuggle: dict[str, str]) -> None:
    email = invited(moto)
    headers = {"X-Amz-Target": smuggle["target"], "Content-Type": "application/x-amz-json-1.1"}
    answer = requests.request(
        smuggle.get("method", "POST"),
        moto.url + "/" + smuggle.get("query", ""),
        headers=headers,
        data=json.dumps({"UserPoolId": moto.pool_id, "Username": email, "GroupName": "vendor-admin"}),
        timeout=10,
    )
    assert answer.status_code in (200, 400), answer.text  # a preflight's 200 runs nothing
    assert state_of(moto, email) == (PARTNER, ["partner-user"])


def test_the_portal_sign_in_and_self_service_work_unsigned(moto: Moto) -> None:
    """What the portal sends from the browser: InitiateAuth, the new-password challenge, then token-only calls."""
    email = invited(moto, password=None)
    idp = moto.unsigned()
    challenge = idp.initiate_auth(
        ClientId=moto.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": TEMPORARY},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    tokens = idp.respond_to_auth_challenge(
        ClientId=moto.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    access = tokens["AccessToken"]
    assert idp.get_user(AccessToken=access)["Username"]
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Pat"}])
    assert error_of(
        lambda: idp.update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": "custom:partner_id", "Value": ANOTHER_PARTNER}]
        )
    ) == ("NotAuthorizedException", 400)
    refreshed = idp.initiate_auth(
        ClientId=moto.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]}
    )
    assert refreshed["AuthenticationResult"]["IdToken"]
    idp.global_sign_out(AccessToken=access)
    assert state_of(moto, email) == (PARTNER, ["partner-user"])


def test_the_guard_still_refuses_sign_up_however_it_is_sent(moto: Moto) -> None:
    body = {"ClientId": moto.client_id, "Username": "walk-in@example.com", "Password": PASSWORD}
    for idp in (moto.unsigned(), moto.signed()):  # AllowAdminCreateUserOnly binds signed callers too

        def sign_up(idp: Any = idp) -> Any:
            return idp.sign_up(**body)

        assert error_of(sign_up) == ("NotAuthorizedException", 400)
    answer = requests.post(
        moto.url,
        headers={"X-Amz-Target": TARGET + "InitiateAuth.SignUp", "Content-Type": "application/x-amz-json-1.1"},
        data=json.dumps(body),
        timeout=10,
    )
    assert (answer.status_code, answer.json()["__type"]) == (400, "NotAuthorizedException")


def test_public_keys_and_cors_preflight_need_no_signature(moto: Moto) -> None:
    jwks = requests.get(f"{moto.url}/{moto.pool_id}/.well-known/jwks.json", timeout=10)
    assert jwks.status_code == 200 and jwks.json()["keys"]
    preflight = requests.options(
        moto.url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
        timeout=10,
    )
    assert preflight.status_code == 200 and preflight.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
