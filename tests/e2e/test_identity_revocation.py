"""Identity is live: a removed, disabled or moved user's token is refused on every route (reads too), so is one that
claims a group its user was removed from, and the local Cognito refuses what AWS refuses (attributes the app client
may not write, self sign-up in an admin-only pool)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import jwt
import pytest
import requests

from infrastructure.local.people import People
from infrastructure.local.template import load_template
from tests.support.partners import PASSWORD, VENDOR_PASSWORD, Partner, onboard, vendor_admin

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

ROOT = Path(__file__).resolve().parents[2]
RECHECK_SECONDS = 1  # IdentityRecheckSeconds in tests/conftest.py (60 by default)
TABLES = ("OnboardingTable", "DealsTable", "MdfTable")


def authorized_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the template that carries the Cognito authorizer (the API's default)."""
    template = load_template(ROOT / "template.yaml")
    found = []
    for resource in template["Resources"].values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event.get("Type") == "Api" and (props.get("Auth") or {}).get("Authorizer") != "NONE":
                found.append((str(props["Method"]).upper(), str(props["Path"])))
    return sorted(found)


ROUTES = authorized_routes()


def concrete(path: str, partner_id: str) -> str:
    """Plausible path parameters: the user's own partner, ids shaped like the PRM's."""
    values = {
        "partner_id": partner_id,
        "deal_id": "deal_01m94ks4j1d7pjfjw3zmnsfg7m",
        "request_id": "mdfr_01m94ks4j1d7pjfjw3zmnsfg7m",
        "fund_id": "FY27-H1.USD",
        "period_id": "FY27-H1",
        "file_id": "file_01m94ks4j1d7pjfjw3zmnsfg7m",
        "connection_id": "lms_01m94ks4j1d7pjfjw3zmnsfg7m",
        "import_id": "imp_01m94ks4j1d7pjfjw3zmnsfg7m",
        "item_id": "rev_01m94ks4j1d7pjfjw3zmnsfg7m",
        "criterion_id": "business-plan",
        "version_id": "v1",
        "campaign_id": "cmp_01m94ks4j1d7pjfjw3zmnsfg7m",
        "reward_id": "rwd_0123456789abcdef0123456789abcdef",
        "redemption_id": "rdm_01m94ks4j1d7pjfjw3zmnsfg7m",
        "batch_id": "batch_01m94ks4j1d7pjfjw3zmnsfg7m",
        "claim_id": "clm_0123456789abcdef0123456789",
        "asset_id": "ast_0123456789abcdef01234567",
        "export_id": "exp_01m94ks4j1d7pjfjw3zmnsfg7m",
        "kit_id": "kit_01m94ks4j1d7pjfjw3zmnsfg7m",
        "upload_id": "logo_01m94ks4j1d7pjfjw3zmnsfg7m",
    }
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"give {path} a plausible value for its parameter"
    return path


def body_for(method: str, path: str, partner_id: str, mole: str) -> Any:
    """Bodies that a live partner admin's request would be accepted with, for the writes the issue names."""
    today = date.today()
    bodies: dict[tuple[str, str], Any] = {
        ("PATCH", "/partners/{partner_id}"): {"phone": "+1 555 0199", "description": "Taken over"},
        ("POST", "/partners/{partner_id}/users"): {"email": mole, "name": "Mole", "role": "partner-admin"},
        ("POST", "/deals"): {
            "prospect": {
                "company_name": f"Globex {uuid.uuid4().hex[:6]} Ltd",
                "website": f"https://www.prospect-{uuid.uuid4().hex[:8]}.co.uk/",
                "country": "GB",
                "contact": {"name": "Hank Scorpio", "email": "hank@globex.example", "title": "CTO"},
            },
            "products": ["NET-FW-100"],
            "estimated_value": {"amount_minor": 100_000, "currency": "USD"},
            "expected_close_date": (today + timedelta(days=60)).isoformat(),
            "description": "Branch firewall refresh.",
        },
        ("POST", "/mdf/requests"): {
            "period_id": "FY27-H1",
            "activity_type": "webinar",
            "title": "Webinar",
            "description": "A webinar for IT leaders.",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "requested": {"amount_minor": 100_000, "currency": "USD"},
            "expected_outcome": {"leads": 40, "pipeline_value": {"amount_minor": 5_000_000, "currency": "USD"}},
        },
    }
    return bodies.get((method, path), {} if method in ("POST", "PATCH") else None)


def footprint(stack: Any, *needles: str) -> dict[str, list[str]]:
    """Every item (as JSON) of the contexts' tables that mentions one of `needles` (tests may scan; handlers never)."""
    dynamodb = stack.client("dynamodb")
    found: dict[str, list[str]] = {}
    for table in TABLES:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=stack.resource(table)):
            for item in page["Items"]:
                text = json.dumps(item, sort_keys=True)
                if any(needle in text for needle in needles):
                    items.append(text)
        found[table] = sorted(items)
    return found


def settle(stack: Any, *needles: str, timeout: float = 20.0) -> dict[str, list[str]]:
    """The footprint once event consumers and workflows have stopped changing it."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        stack.wait_idle()
        current = footprint(stack, *needles)
        if current == previous:
            return current
        assert time.monotonic() < deadline, "the partner's records kept changing"
        previous = current
        time.sleep(0.5)


def sub_of(people: People, email: str) -> str:
    user = people.stack.client("cognito-idp").admin_get_user(UserPoolId=people.pool_id, Username=email)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def delete(people: People, partner: Partner) -> None:
    people.stack.client("cognito-idp").admin_delete_user(UserPoolId=people.pool_id, Username=partner.email)


def disable(people: People, partner: Partner) -> None:
    people.stack.client("cognito-idp").admin_disable_user(UserPoolId=people.pool_id, Username=partner.email)


def move(people: People, partner: Partner) -> None:
    people.stack.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=people.pool_id,
        Username=partner.email,
        UserAttributes=[{"Name": "custom:partner_id", "Value": "prt_01m94ks4j1d7pjfjw3zmnsfg7m"}],
    )


@pytest.mark.parametrize("revoke", [delete, disable, move], ids=["deleted", "disabled", "moved to another partner"])
def test_a_revoked_partner_admins_token_is_refused_on_every_route_and_changes_nothing(
    people: People, revoke: Callable[[People, Partner], None]
) -> None:
    partner = onboard(people, company=f"Revoked {revoke.__name__.title()} Ltd")
    vendor = vendor_admin(people)
    sub = sub_of(people, partner.email)
    assert people.api("GET", "/me", session=partner.session).status_code == 200  # the token works, and is remembered
    mole = f"mole-{uuid.uuid4().hex[:6]}@example.com"
    before = settle(people.stack, partner.partner_id, sub, partner.email)
    # read once the other contexts' answers (the tier from PartnerOnboarded) have landed: they are not the user's doing
    profile = people.api("GET", f"/partners/{partner.partner_id}", session=vendor).json()

    revoke(people, partner)
    time.sleep(RECHECK_SECONDS + 0.2)

    allowed = []
    for method, path in ROUTES:
        answer = people.api(
            method,
            concrete(path, partner.partner_id),
            session=partner.session,
            json=body_for(method, path, partner.partner_id, mole),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if answer.status_code != 401 or answer.json().get("code") != "unauthorized":
            allowed.append(f"{method} {path} -> {answer.status_code} {answer.text[:120]}")
        else:
            assert set(answer.json()) == {"code", "message", "errors"}
    assert not allowed, "a revoked user's token was not refused:\n" + "\n".join(allowed)

    assert people.api("GET", f"/partners/{partner.partner_id}", session=vendor).json() == profile
    assert settle(people.stack, partner.partner_id, sub, partner.email, mole) == before
    cognito = people.stack.client("cognito-idp")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=people.pool_id, Username=mole)
    assert not [m for m in people.stack.mail() if mole in m["destinations"]]


def test_a_demoted_partner_admin_or_vendor_admin_loses_the_role_within_the_recheck_window(people: People) -> None:
    """Roles are live too: removed from a group, a user's token (which still claims it) is refused; signed in again,
    they can do what their remaining groups allow, and no more."""
    partner = onboard(people, company="Demoted Admin Ltd")
    vendor = vendor_admin(people)
    former_vendor = vendor_admin(people, name="Former Vendor Admin")
    cognito = people.stack.client("cognito-idp")  # the stack's admin client, as a vendor's console would act
    pid = partner.partner_id
    for session in (partner.session, former_vendor):
        assert people.api("GET", f"/partners/{pid}", session=session).status_code == 200  # and remembered
    settle(people.stack, pid)  # the other contexts' answers to PartnerOnboarded (the tier) have landed
    profile = people.api("GET", f"/partners/{pid}", session=vendor).json()
    colleague = f"colleague-{uuid.uuid4().hex[:6]}@{partner.domain}"

    def invite(session: Any) -> requests.Response:
        return people.api(
            "POST",
            f"/partners/{pid}/users",
            session=session,
            json={"email": colleague, "name": "Colleague", "role": "partner-user"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    def edit(session: Any) -> requests.Response:
        return people.api(
            "PATCH", f"/partners/{pid}", session=session, json={"phone": "+1 555 0199", "description": "Taken over"}
        )

    # Demoted: still a partner user of the same partner, no longer its admin; the vendor admin loses their only group.
    cognito.admin_add_user_to_group(UserPoolId=people.pool_id, Username=partner.email, GroupName="partner-user")
    cognito.admin_remove_user_from_group(UserPoolId=people.pool_id, Username=partner.email, GroupName="partner-admin")
    cognito.admin_remove_user_from_group(
        UserPoolId=people.pool_id, Username=former_vendor.email, GroupName="vendor-admin"
    )
    time.sleep(RECHECK_SECONDS + 0.2)

    for answer in (
        invite(partner.session),
        edit(partner.session),
        people.api("GET", f"/partners/{pid}", session=partner.session),  # the whole token is stale, reads too
        people.api("GET", f"/partners/{pid}", session=former_vendor),
        people.api("GET", "/deals", session=former_vendor),  # another function: every route checks
    ):
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "unauthorized" and "roles changed" in answer.json()["message"]
    assert people.api("GET", f"/partners/{pid}", session=vendor).json() == profile
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=people.pool_id, Username=colleague)

    # Signed in again: the token carries the groups the user has now, and the routes judge them by those.
    again = people.sign_in(partner.email, PASSWORD)
    assert jwt.decode(again.id_token, options={"verify_signature": False})["cognito:groups"] == ["partner-user"]
    assert people.api("GET", "/me", session=again).status_code == 200
    assert people.api("GET", f"/partners/{pid}", session=again).status_code == 200  # a partner user may read it
    for answer in (invite(again), edit(again)):
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), answer.text
    former = people.sign_in(former_vendor.email, VENDOR_PASSWORD)
    assert "cognito:groups" not in jwt.decode(former.id_token, options={"verify_signature": False})
    assert people.api("GET", f"/partners/{pid}", session=former).status_code == 404  # no longer sees every partner
    assert people.api("GET", f"/partners/{pid}", session=vendor).json() == profile


def test_a_live_users_routes_still_answer_after_the_recheck_window(people: People) -> None:
    vendor = vendor_admin(people)
    for _ in range(2):
        assert people.api("GET", "/me", session=vendor).status_code == 200
        assert people.api("GET", "/deals", session=vendor).status_code == 200
        time.sleep(RECHECK_SECONDS + 0.1)


# ---------------------------------------------------------------------------------------------- local Cognito = AWS


def template_client() -> dict[str, Any]:
    template = load_template(ROOT / "template.yaml")
    return dict(template["Resources"]["PortalUserPoolClient"]["Properties"])


def template_pool() -> dict[str, Any]:
    template = load_template(ROOT / "template.yaml")
    return dict(template["Resources"]["PartnerUserPool"]["Properties"])


def access_token(people: People, email: str) -> str:
    answer = people.stack.client("cognito-idp").initiate_auth(
        ClientId=people.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return str(answer["AuthenticationResult"]["AccessToken"])


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_a_user_cannot_write_attributes_the_app_client_does_not_allow(people: People) -> None:
    assert template_client()["WriteAttributes"] == ["name"], "the test assumes the template's WriteAttributes"
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}@example.com", "prt_01m94ks4j1d7pjfjw3zmnsfgbb"
    people.create_user(
        alice, PASSWORD, groups=["partner-admin"], name="Alice", partner_id="prt_01m94ks4j1d7pjfjw3zmnsfgaa"
    )
    token = access_token(people, alice)
    cognito = people.stack.client("cognito-idp")

    for attributes in (
        [{"Name": "custom:partner_id", "Value": bob}],
        [{"Name": "name", "Value": "Alice"}, {"Name": "custom:partner_id", "Value": bob}],
        [{"Name": "email", "Value": "ceo@bob.example"}],
    ):
        code, message = error_of(
            lambda a=attributes: cognito.update_user_attributes(AccessToken=token, UserAttributes=a)
        )
        assert (code, message) == ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
    code, _ = error_of(
        lambda: cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=["custom:partner_id"])
    )
    assert code == "NotAuthorizedException"
    cognito.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "name", "Value": "Alice Renamed"}])

    user = cognito.admin_get_user(UserPoolId=people.pool_id, Username=alice)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["custom:partner_id"] == "prt_01m94ks4j1d7pjfjw3zmnsfgaa" and attributes["name"] == "Alice Renamed"
    signed_in_again = people.sign_in(alice, PASSWORD)  # the claims the API would trust
    claims = jwt.decode(signed_in_again.id_token, options={"verify_signature": False})
    assert claims["custom:partner_id"] == "prt_01m94ks4j1d7pjfjw3zmnsfgaa" and claims["name"] == "Alice Renamed"


def test_self_sign_up_is_refused_when_the_pool_is_admin_only(people: People) -> None:
    assert template_pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    cognito = people.stack.client("cognito-idp")
    email = f"walk-in-{uuid.uuid4().hex[:6]}@example.com"
    code, message = error_of(
        lambda: cognito.sign_up(
            ClientId=people.client_id,
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:partner_id", "Value": "prt_x"}],
        )
    )
    assert (code, message) == ("NotAuthorizedException", "SignUp is not permitted for this user pool")
    code, _ = error_of(lambda: cognito.confirm_sign_up(ClientId=people.client_id, Username=email, ConfirmationCode="1"))
    assert code == "NotAuthorizedException"
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=people.pool_id, Username=email)


def test_the_portal_reads_the_refusal_cross_origin(people: People) -> None:
    """The browser calls Cognito directly: a refusal carries moto's CORS headers, like its other answers."""
    answer = requests.post(
        people.stack.moto_url,
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp",
            "Content-Type": "application/x-amz-json-1.1",
            "Origin": people.stack.base_url,
        },
        data=json.dumps({"ClientId": people.client_id, "Username": "x@example.com", "Password": PASSWORD}),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "NotAuthorizedException"
    assert answer.headers.get("Access-Control-Allow-Origin") in ("*", people.stack.base_url)


def test_the_browser_cannot_use_the_admin_api_the_portal_config_points_it_at(people: People) -> None:
    """config.json gives every browser the Cognito endpoint; as in AWS, only the public operations answer unsigned."""
    config = requests.get(f"{people.stack.base_url}/config.json", timeout=10).json()["cognito"]
    own, other = "prt_01m94ks4j1d7pjfjw3zmnsfgaa", "prt_01m94ks4j1d7pjfjw3zmnsfgbb"
    pat = f"pat-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(pat, PASSWORD, groups=["partner-user"], name="Pat", partner_id=own)

    def unsigned(action: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(
            config["endpoint"],
            headers={
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
                "Content-Type": "application/x-amz-json-1.1",
                "Origin": people.stack.base_url,
            },
            data=json.dumps(body),
            timeout=10,
        )

    pool = {"UserPoolId": config["userPoolId"]}
    for action, body in (
        (
            "AdminUpdateUserAttributes",
            {"Username": pat, "UserAttributes": [{"Name": "custom:partner_id", "Value": other}]},
        ),
        ("AdminAddUserToGroup", {"Username": pat, "GroupName": "vendor-admin"}),
        ("ListUsers", {}),
    ):
        answer = unsigned(action, pool | body)
        assert answer.status_code == 400, (action, answer.text)
        assert answer.json()["__type"] == "MissingAuthenticationTokenException"
        assert answer.headers.get("Access-Control-Allow-Origin") in ("*", people.stack.base_url)

    cognito = people.stack.client("cognito-idp")  # the stack's own credentials, as the functions and seed sign
    user = cognito.admin_get_user(UserPoolId=config["userPoolId"], Username=pat)
    assert {"Name": "custom:partner_id", "Value": own} in user["UserAttributes"]
    groups = cognito.admin_list_groups_for_user(UserPoolId=config["userPoolId"], Username=pat)["Groups"]
    assert [group["GroupName"] for group in groups] == ["partner-user"]
    signed_in = unsigned(
        "InitiateAuth",
        {
            "ClientId": config["clientId"],
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": pat, "PASSWORD": PASSWORD},
        },
    )
    assert signed_in.status_code == 200, signed_in.text  # the portal's sign-in still needs no AWS credentials
    claims = jwt.decode(signed_in.json()["AuthenticationResult"]["IdToken"], options={"verify_signature": False})
    assert claims["custom:partner_id"] == own and claims["cognito:groups"] == ["partner-user"]


def test_other_pools_keep_their_own_settings(people: People) -> None:
    """The guard follows each pool's configuration: a pool that allows self sign-up still does."""
    cognito = people.stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"open-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="open")["UserPoolClient"]["ClientId"]
    cognito.sign_up(ClientId=client, Username="walk-in@example.com", Password=PASSWORD)
    assert cognito.admin_get_user(UserPoolId=pool, Username="walk-in@example.com")["Username"] == "walk-in@example.com"
