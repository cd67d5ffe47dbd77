"""Security through the API Gateway emulator: the template's authorizer on every route, and tenant isolation."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infrastructure.local.people import People, Session
from infrastructure.local.template import load_template
from tests.support.partners import onboard as onboard_partner

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {
    ("POST", "/applications"),
    ("GET", "/applications/{application_id}/confirmation"),  # the applicant's signed email confirmation link
    ("POST", "/applications/{application_id}/confirmation"),
    ("GET", "/approvals/{approval_id}"),
    ("POST", "/approvals/{approval_id}"),
    ("GET", "/mdf/proofs/{request_id}/{file_id}"),  # a reviewer's signed proof-file link (tests/e2e/test_mdf_story.py)
    ("GET", "/rewards/claims/{claim_id}/proofs/{file_id}/review"),  # a SPIFF claim reviewer's signed proof-file link
}
PASSWORD = "Chosen-Password-42"


def routes() -> list[tuple[str, str]]:
    template = load_template(ROOT / "template.yaml")
    found = []
    for resource in template["Resources"].values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                found.append((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return sorted(found)


PROTECTED = [r for r in routes() if r not in PUBLIC]


def concrete(path: str) -> str:
    return path.replace("{partner_id}", "prt_x").replace("{approval_id}", "x")


def moto_signing_key() -> Any:
    """The private key moto's Cognito signs every pool's tokens with (so a token can differ in expiry alone)."""
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    key = json.loads(gzip.decompress(path.read_bytes()))
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key["keys"][0] if "keys" in key else key))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def user(people: People) -> Session:
    email = f"sec-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(email, PASSWORD, groups=["vendor-admin"], name="Security Tester")
    return people.sign_in(email, PASSWORD)


@pytest.fixture(scope="module")
def bad_tokens(people: People, user: Session, local_stack: Any) -> dict[str, str]:
    header = jwt.get_unverified_header(user.id_token)
    claims = jwt.decode(user.id_token, options={"verify_signature": False})
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    moto_private = moto_signing_key()

    cognito = local_stack.client("cognito-idp")
    other_pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=other_pool,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=other_pool, Username="intruder@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=other_pool, Username="intruder@example.com", Password=PASSWORD, Permanent=True
    )
    other = cognito.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "intruder@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    access = cognito.initiate_auth(
        ClientId=people.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    return {
        "garbage": "not-a-token",
        "unsigned (alg none)": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "wrong signature": jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": header["kid"]}),
        "HS256 with the public key id": jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": header["kid"]}),
        "another pool's audience": other["IdToken"],
        "another pool's issuer with our audience": jwt.encode(
            claims | {"iss": claims["iss"].rsplit("/", 1)[0] + "/" + other_pool},
            moto_private,
            algorithm="RS256",
            headers={"kid": header["kid"]},
        ),
        "expired": jwt.encode(
            claims | {"exp": int(time.time()) - 60, "iat": int(time.time()) - 3660},
            moto_private,
            algorithm="RS256",
            headers={"kid": header["kid"]},
        ),
        "access token": access,
        "forged partner claim": jwt.encode(
            claims | {"custom:partner_id": "prt_other"}, own_key, algorithm="RS256", headers={"kid": header["kid"]}
        ),
    }


def test_the_moto_key_really_signs_valid_tokens(people: People, user: Session, bad_tokens: dict[str, str]) -> None:
    """Guards the expired-token case: the same key with a future expiry is accepted, so only expiry differs."""
    claims = jwt.decode(user.id_token, options={"verify_signature": False})
    private = moto_signing_key()
    token = jwt.encode(
        claims | {"exp": int(time.time()) + 600},
        private,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(user.id_token)["kid"]},
    )
    assert people.api("GET", "/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_protected_route_refuses_missing_and_bad_tokens(
    people: People, bad_tokens: dict[str, str], method: str, path: str
) -> None:
    answer = people.api(method, concrete(path), json={})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized", (method, path, "no token")
    # The Cognito authorizer's refusals (not the LMS routes' own, which take no user token) say only "Unauthorized"...
    by_gateway = answer.headers.get("x-amzn-ErrorType") == "UnauthorizedException"
    assert by_gateway != (path in {"/training/webhooks/{connection_id}", "/xapi/statements"}), (method, path)
    assert not by_gateway or answer.json()["message"] == "Unauthorized"
    for name, token in bad_tokens.items():
        answer = people.api(method, concrete(path), json={}, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, (method, path, name, answer.status_code, answer.text)
        assert answer.json()["code"] == "unauthorized"
        if by_gateway and name == "expired":  # ...but for the one a client should answer by refreshing, as in AWS
            assert answer.json()["message"] == "The incoming token has expired", (method, path)


def test_a_token_expires_when_the_gateway_stops_honouring_it(user: Session) -> None:
    """exp is what Cognito puts there (the app client's IdTokenValidity, 5 minutes), the lifetime the gateway
    enforces: a client that refreshes by exp never meets a 401 first."""
    claims = jwt.decode(user.id_token, options={"verify_signature": False})
    assert claims["exp"] == claims["iat"] + 300


def test_valid_token_reaches_the_handler(people: People, user: Session) -> None:
    assert people.api("GET", "/me", session=user).status_code == 200


def test_unknown_route_and_bad_json_answer_json_errors(people: People, user: Session) -> None:
    missing = people.api("GET", "/nowhere", session=user)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = people.api("POST", "/applications", data="{nope", headers={"Content-Type": "application/json"})
    assert (
        bad.status_code == 400 and bad.json()["code"] == "invalid_json" and bad.json()["errors"][0]["field"] == "body"
    )


def test_cors_preflight_is_answered_from_the_template(people: People) -> None:
    answer = people.http.options(
        f"{people.stack.api_url}/applications",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert answer.status_code in (200, 204)
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


def onboard(people: People) -> tuple[Session, str]:
    partner = onboard_partner(people, company="Tenant Test Ltd")
    return partner.session, partner.partner_id


def test_a_partner_cannot_read_or_change_another_partners_organisation(people: People) -> None:
    (alice, alice_id), (bob, bob_id) = onboard(people), onboard(people)
    assert people.api("GET", f"/partners/{alice_id}", session=alice).status_code == 200
    for method, path, body in [
        ("GET", f"/partners/{bob_id}", None),
        ("PATCH", f"/partners/{bob_id}", {"phone": "+1 555 0100"}),
        ("GET", f"/partners/{bob_id}/users", None),
        ("POST", f"/partners/{bob_id}/users", {"email": "mole@example.com", "name": "Mole", "role": "partner-admin"}),
    ]:
        answer = people.api(method, path, session=alice, json=body)
        assert answer.status_code in (403, 404), (method, path, answer.status_code)
    assert people.api("GET", f"/partners/{bob_id}", session=bob).json()["phone"] is None
    users = people.api("GET", f"/partners/{bob_id}/users", session=bob).json()["items"]
    assert "mole@example.com" not in {u["email"] for u in users}
