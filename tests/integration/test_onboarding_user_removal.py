"""Onboarding's removal of partner users and its tier projection, handlers against moto: the route, the user pool
(sign-out, disable), the conditional write with its outbox event, the consumer of PartnerUserRemoved and of the tiers
context's PartnerTierChanged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from onboarding import domain
from onboarding.models import TierChange
from onboarding.ports import DirectoryUnavailable, StaleRecord
from shared.ids import new_id
from shared.principal import Principal
from tests.integration.conftest import Stack
from tests.integration.test_onboarding import VENDOR, flush, onboard, partner_claims
from tests.support.factories import bus_envelope
from tests.support.lambda_events import LambdaContext, api_event, claims_for

REMOVAL = "/partners/{partner_id}/users/removal"
USERS = "/partners/{partner_id}/users"


@pytest.fixture(scope="module")
def onboarding(stack: Stack) -> Any:
    return stack.load_context("Onboarding", "onboarding")


def accept_agreement(stack: Stack, api: Any, claims: dict[str, str]) -> None:
    """Past the agreement gate, whichever test published an agreement first."""
    current = stack.call(api.app, "GET", "/agreements/current", claims=claims)
    if current[0] == 200:
        body = {"version": current[1]["version"]}
        stack.call(api.app, "POST", "/agreements/current/acceptance", body=body, claims=claims)


def organisation(stack: Stack, onboarding: Any, *colleagues: tuple[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """An onboarded partner whose admin invited `colleagues` (name, role); every invitation went out."""
    api, _, _ = onboarding
    mine = onboard(stack, onboarding)
    admin = partner_claims(mine, sub=f"sub-{uuid.uuid4().hex[:8]}")
    accept_agreement(stack, api, admin)
    domain = mine["email"].split("@", 1)[1]
    for name, role in colleagues:
        body = {"email": f"{name}@{domain}", "name": name.title(), "role": role}
        status, _, _ = stack.call(api.app, "POST", USERS, {"partner_id": mine["partner_id"]}, body=body, claims=admin)
        assert status == 201
    flush(stack, onboarding)
    return mine, admin


def account(stack: Stack, email: str) -> dict[str, Any]:
    return boto3.client("cognito-idp").admin_get_user(UserPoolId=stack.ref("PartnerUserPool"), Username=email)  # type: ignore[no-any-return]


def outbox_events(stack: Stack, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
    return stack.outbox_events("OnboardingTable", detail_type, **detail)


def remove(
    stack: Stack, api: Any, partner_id: str, body: Any, claims: dict[str, str], **kwargs: Any
) -> tuple[int, Any]:
    status, answer, _ = stack.call(
        api.app, "POST", REMOVAL, {"partner_id": partner_id}, body=body, claims=claims, **kwargs
    )
    return status, answer


def test_a_removed_user_is_signed_out_disabled_refused_listed_as_removed_and_not_invited_back(
    stack: Stack, onboarding: Any
) -> None:
    api, consumers, _ = onboarding
    mine, admin = organisation(stack, onboarding, ("grace", "partner-user"))
    grace = f"grace@{mine['email'].split('@', 1)[1]}"
    grace_claims = claims_for(
        sub=f"sub-grace-{uuid.uuid4().hex[:6]}", email=grace, partner_id=mine["partner_id"], groups=["partner-user"]
    )
    stack.ensure_user(grace_claims)  # she signed in: a live account with a token
    assert account(stack, grace)["Enabled"] is True
    path = {"partner_id": mine["partner_id"]}

    status, removed = remove(stack, api, mine["partner_id"], {"email": grace.upper(), "reason": "removed"}, admin)
    assert status == 200, removed
    assert (removed["email"], removed["status"], removed["removed_by"], removed["removal_reason"]) == (
        grace,
        "removed",
        mine["email"],
        "removed",
    )
    assert account(stack, grace)["Enabled"] is False
    # the user record and its event were written together
    [event] = outbox_events(stack, "PartnerUserRemoved", user_email=grace)
    assert (event["partner_id"], event["removed_by"], event["reason"], event["removed_at"]) == (
        mine["partner_id"],
        mine["email"],
        "removed",
        removed["removed_at"],
    )
    # the same request again answers the same; another request (reason, key) answers the removal as recorded
    assert remove(stack, api, mine["partner_id"], {"email": grace.upper(), "reason": "removed"}, admin) == (
        200,
        removed,
    )
    status, again = remove(
        stack,
        api,
        mine["partner_id"],
        {"email": grace, "reason": "disabled"},
        admin,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 200 and again == removed
    assert len(outbox_events(stack, "PartnerUserRemoved", user_email=grace)) == 1

    # her token is refused (a direct call: the harness's `call` would re-enable the account it signs in)
    refused = api.app(api_event("GET", "/me", claims=grace_claims), LambdaContext())
    assert refused["statusCode"] == 401 and json.loads(refused["body"])["code"] == "unauthorized"

    status, users, _ = stack.call(api.app, "GET", USERS, path, claims=admin)
    assert status == 200 and {u["email"]: u["status"] for u in users["items"]}[grace] == "removed"
    status, error, _ = stack.call(
        api.app, "POST", USERS, path, body={"email": grace, "name": "Grace", "role": "partner-user"}, claims=admin
    )
    assert status == 409 and error["code"] == "user_removed" and error["errors"][0]["field"] == "email"
    other, other_admin = organisation(stack, onboarding)
    status, error, _ = stack.call(
        api.app,
        "POST",
        USERS,
        {"partner_id": other["partner_id"]},
        body={"email": grace, "name": "Grace", "role": "partner-admin"},
        claims=other_admin,
    )
    assert status == 409 and error["code"] == "user_exists"
    flush(stack, onboarding)
    assert account(stack, grace)["Enabled"] is False  # nothing re-enabled or re-invited her

    # the consumer of PartnerUserRemoved finishes a revocation the request did not (a crash after the write)
    boto3.client("cognito-idp").admin_enable_user(UserPoolId=stack.ref("PartnerUserPool"), Username=grace)
    delivered = bus_envelope("prm.onboarding", "PartnerUserRemoved", event | {"event_id": f"evt_{uuid.uuid4().hex}"})
    assert consumers.handle_message(delivered, LambdaContext()) == "access revoked"
    assert account(stack, grace)["Enabled"] is False


def test_removal_refusals_say_why_and_change_nothing(stack: Stack, onboarding: Any) -> None:
    api, _, _ = onboarding
    mine, admin = organisation(stack, onboarding, ("grace", "partner-user"))
    domain = mine["email"].split("@", 1)[1]
    grace = f"grace@{domain}"
    theirs, their_admin = organisation(stack, onboarding)
    grace_claims = claims_for(
        sub=f"sub-grace-{uuid.uuid4().hex[:6]}", email=grace, partner_id=mine["partner_id"], groups=["partner-user"]
    )
    accept_agreement(stack, api, grace_claims)

    def state() -> list[str]:
        return sorted(
            json.dumps(i, sort_keys=True, default=str)
            for i in stack.items("OnboardingTable")
            if not str(i["pk"]).startswith("idempotency") and str(i.get("entity")) != "acceptance"
        )

    before = state()
    pid = mine["partner_id"]
    cases = [
        (admin, {"email": mine["email"], "reason": "removed"}, 409, "cannot_remove_self"),
        (VENDOR, {"email": mine["email"], "reason": "removed"}, 409, "last_partner_admin"),
        (admin, {"email": f"nobody@{domain}", "reason": "removed"}, 404, "user_not_found"),
        (their_admin, {"email": grace, "reason": "removed"}, 404, "not_found"),  # another partner's path
        (grace_claims, {"email": mine["email"], "reason": "removed"}, 403, "forbidden"),  # not an admin
        (admin, {"email": grace, "reason": "fired"}, 400, "validation_error"),
        (admin, {"email": grace, "reason": "removed", "partner_id": theirs["partner_id"]}, 400, "validation_error"),
        (admin, {"reason": "removed"}, 400, "validation_error"),
    ]
    for claims, body, expected, code in cases:
        status, error = remove(stack, api, pid, body, claims)
        assert (status, error["code"]) == (expected, code), (body, error)
        if expected == 409:
            assert error["errors"][0]["field"] == "email" and error["message"]
        if expected == 400:
            assert {e["field"] for e in error["errors"]} & {"reason", "partner_id", "email"}
    # their admin cannot reach grace through their own organisation either
    status, error = remove(stack, api, theirs["partner_id"], {"email": grace, "reason": "removed"}, their_admin)
    assert (status, error["code"]) == (404, "user_not_found")
    assert state() == before
    assert account(stack, grace)["Enabled"] is True


def test_a_pool_failure_answers_503_and_the_repeat_finishes_the_removal(
    stack: Stack, onboarding: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, _, _ = onboarding
    mine, admin = organisation(stack, onboarding, ("bob", "partner-admin"))
    bob = f"bob@{mine['email'].split('@', 1)[1]}"
    directory = api.service().identity

    def unreachable(email: str) -> bool:
        raise DirectoryUnavailable("throttled")

    with monkeypatch.context() as pool_down:
        pool_down.setattr(directory, "revoke", unreachable)
        status, error = remove(stack, api, mine["partner_id"], {"email": bob, "reason": "disabled"}, admin)
    assert status == 503 and error["code"] == "revocation_pending" and bob in error["message"]
    assert account(stack, bob)["Enabled"] is True
    status, removed = remove(stack, api, mine["partner_id"], {"email": bob, "reason": "disabled"}, admin)
    assert status == 200 and removed["status"] == "removed" and removed["removal_reason"] == "disabled"
    assert account(stack, bob)["Enabled"] is False
    assert len(outbox_events(stack, "PartnerUserRemoved", user_email=bob)) == 1
    # the vendor admin may not remove the one admin left
    status, error = remove(stack, api, mine["partner_id"], {"email": mine["email"], "reason": "removed"}, VENDOR)
    assert (status, error["code"]) == (409, "last_partner_admin")


def test_two_admins_removing_each_other_leave_one_by_the_writes_condition(stack: Stack, onboarding: Any) -> None:
    """Both removals were decided on reads from before either committed: the second write checks the admin it relies
    on is still one, and does not commit."""
    _, consumers, _ = onboarding
    mine, _ = organisation(stack, onboarding, ("bob", "partner-admin"))
    pid, repository = mine["partner_id"], consumers.service().repository
    ada, bob = (
        repository.get_user(pid, mine["email"]),
        repository.get_user(pid, f"bob@{mine['email'].split('@', 1)[1]}"),
    )

    def by(user: Any) -> Principal:
        return Principal(sub="s", email=user.email, name="", partner_id=pid, groups=frozenset({"partner-admin"}))

    now = datetime.now(UTC)
    ada_removed, first = domain.remove_user(by(bob), ada, other_admins=[bob], reason="removed", now=now, new_id=new_id)
    bob_removed, second = domain.remove_user(by(ada), bob, other_admins=[ada], reason="removed", now=now, new_id=new_id)
    repository.record_removal(ada_removed, first, expected=ada.status, keeper=bob)
    with pytest.raises(StaleRecord):
        repository.record_removal(bob_removed, second, expected=bob.status, keeper=ada)
    assert repository.get_user(pid, bob.email).status == bob.status
    assert outbox_events(stack, "PartnerUserRemoved", user_email=bob.email) == []
    assert len(outbox_events(stack, "PartnerUserRemoved", user_email=ada.email)) == 1


def tier_changed(partner_id: str, tier_id: str, rank: int, effective_at: str, event_id: str) -> dict[str, Any]:
    """A `PartnerTierChanged` as the bus delivers it from the tiers context."""
    detail = {
        "event_id": event_id,
        "occurred_at": effective_at,
        "version": "1",
        "partner_id": partner_id,
        "previous": None,
        "tier": {"tier_id": tier_id, "name": tier_id.title(), "rank": rank},
        "direction": "upgrade",
        "reason": "Met the criteria.",
        "criteria_version": "2026-11-01",
        "approved_by": None,
        "effective_at": effective_at,
    }
    return bus_envelope("prm.tiers", "PartnerTierChanged", detail)


def test_the_profile_shows_the_newest_tier_and_since_when(stack: Stack, onboarding: Any) -> None:
    api, consumers, _ = onboarding
    mine, admin = organisation(stack, onboarding)
    path = {"partner_id": mine["partner_id"]}
    status, profile, _ = stack.call(api.app, "GET", "/partners/{partner_id}", path, claims=admin)
    assert status == 200 and (profile["tier"], profile["tier_id"], profile["tier_since"]) == ("Registered", None, None)

    gold = tier_changed(mine["partner_id"], "gold", 2, "2026-12-01T10:00:00.000Z", f"evt_{uuid.uuid4().hex}")
    silver = tier_changed(mine["partner_id"], "silver", 1, "2026-11-30T10:00:00.000Z", f"evt_{uuid.uuid4().hex}")
    sqs = boto3.client("sqs")
    for envelope in (gold, silver, gold):  # a late older change, and a redelivery
        sqs.send_message(QueueUrl=stack.ref("OnboardingEventsQueue"), MessageBody=json.dumps(envelope))
        assert stack.deliver("OnboardingEventsQueue", consumers.handler)["batchItemFailures"] == []
    status, profile, _ = stack.call(api.app, "GET", "/partners/{partner_id}", path, claims=admin)
    assert (profile["tier"], profile["tier_id"], profile["tier_since"]) == ("Gold", "gold", "2026-12-01T10:00:00.000Z")
    assert "tier_order" not in profile and "revision" not in profile
    # the write's own condition refuses an older change that passed a stale read (two changes in flight at once)
    repository = consumers.service().repository
    read_before = repository.get_partner(mine["partner_id"]).model_copy(update={"tier_order": None})
    late = TierChange(mine["partner_id"], "silver", "Silver", datetime(2026, 11, 30, 10, tzinfo=UTC), "evt_late")
    stale = domain.apply_tier(read_before, late)
    assert stale is not None and not repository.record_tier(stale)
    assert repository.get_partner(mine["partner_id"]).tier_id == "gold"
    # a profile edit and a tier change do not overwrite each other
    status, updated, _ = stack.call(
        api.app, "PATCH", "/partners/{partner_id}", path, body={"phone": "+1 555"}, claims=admin
    )
    assert status == 200 and updated["tier_id"] == "gold" and "tier_order" not in updated
    later = tier_changed(mine["partner_id"], "platinum", 3, "2026-12-02T10:00:00.000Z", f"evt_{uuid.uuid4().hex}")
    assert consumers.handle_message(later, LambdaContext()) == "tier platinum shown"
    status, profile, _ = stack.call(api.app, "GET", "/partners/{partner_id}", path, claims=VENDOR)
    assert (profile["tier"], profile["phone"]) == ("Platinum", "+1 555")
    stranger = tier_changed(f"prt_{uuid.uuid4().hex[:10]}", "gold", 2, "2026-12-01T10:00:00.000Z", "evt_x")
    assert consumers.handle_message(stranger, LambdaContext()).startswith("no such partner")
