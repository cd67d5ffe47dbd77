"""The API Gateway emulator's Cognito authorizer: only a valid, unexpired ID token of the right pool and client passes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws
from moto.utilities.utils import load_resource

from infrastructure.local.auth import CognitoTokenVerifier, TokenRejected, api_gateway_claims, id_token_seconds

REGION = "us-east-1"
PASSWORD = "Correct-Horse-42"


@dataclass
class Pool:
    pool_id: str
    client_id: str
    id_token: str
    access_token: str


def _pool(cognito: Any, name: str, email: str) -> Pool:
    pool_id = cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="portal", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    for group in ("partner-admin", "partner-user"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    tokens = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return Pool(pool_id, client_id, tokens["IdToken"], tokens["AccessToken"])


@pytest.fixture(scope="module")
def pools() -> Iterator[tuple[Pool, Pool]]:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        yield _pool(cognito, "partners", "ada@acme.example"), _pool(cognito, "other", "eve@evil.example")


def _jwks() -> dict[str, Any]:
    keys: dict[str, Any] = load_resource("cognitoidp/resources/jwks-public.json")
    return keys


def verifier(pool: Pool, *, clock: float | None = None) -> CognitoTokenVerifier:
    return CognitoTokenVerifier(
        region=REGION,
        user_pool_id=pool.pool_id,
        client_ids=[pool.client_id],
        fetch_jwks=_jwks,
        clock=(lambda: clock) if clock is not None else time.time,
    )


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_id_token_yields_its_claims(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    claims = verifier(pool).verify(f"Bearer {pool.id_token}")
    assert claims["token_use"] == "id"
    assert claims["email"] == "ada@acme.example"
    assert claims["aud"] == pool.client_id
    assert verifier(pool).verify(pool.id_token) == claims  # the bare token works too


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"])
def test_missing_or_malformed_tokens_are_rejected(pools: tuple[Pool, Pool], header: str | None) -> None:
    with pytest.raises(TokenRejected):
        verifier(pools[0]).verify(header)


def test_an_unsigned_alg_none_token_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    forged = {**_claims(pool.id_token), "cognito:groups": ["vendor-admin"]}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'dummy'})}.{_b64(forged)}."
    with pytest.raises(TokenRejected):
        verifier(pool).verify(f"Bearer {token}")


def test_an_hs256_token_keyed_with_the_public_key_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    public_jwk = json.dumps(_jwks()["keys"][0])
    token = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'dummy'})}.{_b64(_claims(pool.id_token))}"
    signature = hmac.new(public_jwk.encode(), token.encode(), hashlib.sha256).digest()
    token += "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(TokenRejected):
        verifier(pool).verify(token)


def test_a_token_signed_with_another_key_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = own_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = jwt.encode(_claims(pool.id_token), pem, algorithm="RS256", headers={"kid": "dummy"})
    with pytest.raises(TokenRejected, match="invalid token"):
        verifier(pool).verify(f"Bearer {token}")


def test_a_token_with_a_tampered_payload_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    header, _, signature = pool.id_token.split(".")
    payload = _b64({**_claims(pool.id_token), "custom:partner_id": "prt_someone_else"})
    with pytest.raises(TokenRejected):
        verifier(pool).verify(f"{header}.{payload}.{signature}")


def test_another_pools_token_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, other = pools
    # moto signs every pool's tokens with one key, so only iss tells them apart.
    with pytest.raises(TokenRejected, match="invalid token"):
        verifier(pool).verify(f"Bearer {other.id_token}")


def test_a_token_for_another_app_client_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    other_client = CognitoTokenVerifier(
        region=REGION, user_pool_id=pool.pool_id, client_ids=["some-other-client"], fetch_jwks=_jwks
    )
    with pytest.raises(TokenRejected, match="another app client"):
        other_client.verify(pool.id_token)


def test_an_access_token_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    with pytest.raises(TokenRejected, match="not an ID token"):
        verifier(pool).verify(f"Bearer {pool.access_token}")


def test_an_expired_token_is_rejected(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    expiry = _claims(pool.id_token)["exp"]
    assert verifier(pool, clock=expiry - 1).verify(pool.id_token)
    with pytest.raises(TokenRejected, match="expired"):
        verifier(pool, clock=expiry).verify(pool.id_token)


def test_the_jwks_is_fetched_once_and_cached(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    calls: list[int] = []

    def counting_fetch() -> dict[str, Any]:
        calls.append(1)
        return _jwks()

    cached = CognitoTokenVerifier(
        region=REGION, user_pool_id=pool.pool_id, client_ids=[pool.client_id], fetch_jwks=counting_fetch
    )
    for _ in range(3):
        cached.verify(pool.id_token)
    assert len(calls) == 1


def test_claims_are_passed_on_as_api_gateway_strings() -> None:
    shaped = api_gateway_claims(
        {
            "sub": "abc",
            "cognito:groups": ["partner-admin", "partner-user"],
            "email_verified": True,
            "exp": 1469818373,
            "iat": 1469814773,
            "auth_time": 1469814773,
            "custom:partner_id": "prt_1",
        }
    )
    assert shaped == {
        "sub": "abc",
        "cognito:groups": "partner-admin,partner-user",
        "email_verified": "true",
        "exp": "Fri Jul 29 18:52:53 UTC 2016",
        "iat": "Fri Jul 29 17:52:53 UTC 2016",
        "auth_time": "1469814773",
        "custom:partner_id": "prt_1",
    }


def _signed_by_moto(claims: dict[str, Any]) -> str:
    """A token signed with the key moto's Cognito signs with: correctly signed, whatever its claims say."""
    private = load_resource("cognitoidp/resources/jwks-private.json")
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(private["keys"][0] if "keys" in private else private))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "odd",
    [
        {"aud": ["CLIENT"]},
        {"aud": ["CLIENT", "another-client"]},
        {"aud": 42},
        {"aud": {"client": "LIST"}},
        {"exp": "9999999999"},
        {"exp": "never"},
        {"exp": True},
        {"exp": [9999999999]},
        {"exp": {"at": 9999999999}},
    ],
)
def test_a_correctly_signed_token_with_odd_claim_types_is_refused_not_a_crash(
    pools: tuple[Pool, Pool], odd: dict[str, Any]
) -> None:

    pool, _ = pools
    claims = _claims(pool.id_token)
    odd = json.loads(json.dumps(odd).replace('"CLIENT"', json.dumps(pool.client_id)))
    token = _signed_by_moto(claims | odd)
    assert verifier(pool).verify(_signed_by_moto(claims))  # the key really signs valid tokens: only `odd` differs
    with pytest.raises(TokenRejected):
        verifier(pool).verify(f"Bearer {token}")
    assert _gateway_status(pool, token) == 401


@pytest.mark.parametrize(
    "odd",
    [
        {"exp": 1e20},
        {"exp": 10**30},
        {"exp": float("inf")},
        {"exp": float("nan")},
        {"exp": 253402300800},  # 10000-01-01: past what a date can show
        {"iat": 1e20},
        {"iat": 10**30},
        {"iat": float("inf")},
        {"iat": float("-inf")},
        {"iat": float("nan")},
        {"iat": -(10**20)},
        {"iat": True},
        {"iat": "1469814773"},
    ],
    ids=repr,
)
def test_a_correctly_signed_token_with_an_unrepresentable_time_is_refused_not_a_crash(
    pools: tuple[Pool, Pool], odd: dict[str, Any]
) -> None:
    """exp/iat become dates for the function (api_gateway_claims): a time no date can show is a 401, never a 500."""

    pool, _ = pools
    token = _signed_by_moto(_claims(pool.id_token) | odd)  # PyJWT writes inf/nan as JSON Infinity/NaN
    with pytest.raises(TokenRejected):
        verifier(pool).verify(f"Bearer {token}")
    assert _gateway_status(pool, token) == 401


def test_a_far_but_representable_expiry_still_passes(pools: tuple[Pool, Pool]) -> None:
    pool, _ = pools
    claims = verifier(pool).verify(_signed_by_moto(_claims(pool.id_token) | {"exp": 253402300799.0}))
    assert api_gateway_claims(claims)["exp"] == "Fri Dec 31 23:59:59 UTC 9999"


def test_an_id_token_lasts_only_the_app_clients_id_token_validity(pools: tuple[Pool, Pool]) -> None:
    """A token whose exp runs past its client's IdTokenValidity (this client's moto token lasts an hour) is honoured
    only for the validity the template gives the client (5 minutes here), and refused as expired."""
    pool, _ = pools
    issued = float(_claims(pool.id_token)["iat"])

    def strict(now: float) -> CognitoTokenVerifier:
        return CognitoTokenVerifier(
            region=REGION,
            user_pool_id=pool.pool_id,
            client_ids=[pool.client_id],
            fetch_jwks=_jwks,
            clock=lambda: now,
            id_token_seconds={pool.client_id: 300},
        )

    assert strict(issued + 299).verify(pool.id_token)["aud"] == pool.client_id
    with pytest.raises(TokenRejected, match="IdTokenValidity"):
        strict(issued + 300).verify(pool.id_token)  # moto's own exp (an hour) is still ahead
    assert verifier(pool, clock=issued + 300).verify(pool.id_token)  # without a configured lifetime, exp rules


@pytest.mark.parametrize(
    ("properties", "seconds"),
    [
        ({}, 3600.0),  # CloudFormation's defaults: 1, in hours
        ({"IdTokenValidity": 5, "TokenValidityUnits": {"IdToken": "minutes"}}, 300.0),
        ({"IdTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "minutes"}}, 7200.0),
        ({"IdTokenValidity": 1, "TokenValidityUnits": {"IdToken": "days"}}, 86400.0),
    ],
)
def test_id_token_lifetime_follows_the_clients_validity_and_units(properties: dict[str, Any], seconds: float) -> None:
    assert id_token_seconds(properties) == seconds


def test_the_local_authorizer_takes_each_clients_lifetime_from_the_template() -> None:
    from infrastructure.local.stack import REPO_ROOT
    from infrastructure.local.template import Template, load_template

    template = Template(load_template(REPO_ROOT / "template.yaml"))
    clients = template.resources_of_type("AWS::Cognito::UserPoolClient")
    assert clients, "the template declares the portal's app client"
    for logical_id in clients:
        assert id_token_seconds(template.properties(logical_id)) <= 300, f"{logical_id}: ID tokens last 5 minutes"


def _gateway_status(pool: Pool, token: str) -> int:
    """What the local API Gateway answers a GET /me (behind the Cognito authorizer) with this token."""
    from infrastructure.local.gateway import ApiGateway, Route

    gateway = ApiGateway(
        api_id="abc123defg",
        stage="dev",
        account_id="123456789012",
        routes=[Route("/me", "GET", "Onboarding", "Cognito")],
        invoke=lambda *_: pytest.fail("an invalid token reached the function"),
        function_timeouts={},
        authorizers={"Cognito": verifier(pool)},
    )
    return int(gateway.handle("GET", "/me", headers=[("Authorization", f"Bearer {token}")]).status)
