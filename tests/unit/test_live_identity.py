"""Live identity (shared/identity.py): who is refused, and how long an answer from the user pool is remembered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from shared.errors import DomainError
from shared.http import status_of
from shared.identity import Account, IdentityRevoked, IdentityUnavailable, LiveIdentity, cognito_lookup, groups_of

CLAIMS = {"sub": "sub-1", "email": "ada@example.com", "custom:partner_id": "prt_1", "cognito:groups": "partner-admin"}
LIVE = Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=frozenset({"partner-admin"}))


class Pool:
    """A user pool whose answer the test changes; counts look-ups."""

    def __init__(self, account: Account | None) -> None:
        self.account = account
        self.lookups: list[str] = []

    def __call__(self, username: str) -> Account | None:
        self.lookups.append(username)
        return self.account


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(identity: LiveIdentity, claims: dict[str, str] = CLAIMS) -> str:
    with pytest.raises(IdentityRevoked) as raised:
        identity.check(claims)
    assert status_of(raised.value) == 401 and raised.value.code == "unauthorized"
    return raised.value.message


def test_a_live_user_passes_and_is_looked_up_by_email() -> None:
    pool = Pool(LIVE)
    LiveIdentity(pool).check(CLAIMS)
    assert pool.lookups == ["ada@example.com"]


@pytest.mark.parametrize(
    ("account", "why"),
    [
        (None, "no longer exists"),
        (Account(sub="sub-2", enabled=True, status="CONFIRMED", partner_id="prt_1"), "no longer exists"),
        (Account(sub="sub-1", enabled=False, status="CONFIRMED", partner_id="prt_1"), "disabled"),
        (Account(sub="sub-1", enabled=True, status="RESET_REQUIRED", partner_id="prt_1"), "disabled"),
        (Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_2"), "organisation changed"),
        (Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id=None), "organisation changed"),
        (Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1"), "roles changed"),  # no groups
        (
            Account(
                sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=frozenset({"partner-user"})
            ),
            "roles changed",
        ),
    ],
)
def test_removed_disabled_or_moved_users_are_refused(account: Account | None, why: str) -> None:
    assert why in refused(LiveIdentity(Pool(account)))


def test_claims_without_a_user_are_refused_without_a_lookup() -> None:
    pool = Pool(LIVE)
    refused(LiveIdentity(pool), {"email": "ada@example.com"})
    refused(LiveIdentity(pool), {"sub": "sub-1"})
    assert pool.lookups == []


def test_vendor_staff_without_a_partner_pass() -> None:
    vendor = Account(sub="sub-9", enabled=True, status="CONFIRMED", partner_id=None)
    LiveIdentity(Pool(vendor)).check({"sub": "sub-9", "email": "ops@example.com"})


def test_an_answer_is_remembered_for_less_than_the_window_then_fetched_again() -> None:
    pool, clock = Pool(LIVE), Clock()
    identity = LiveIdentity(pool, max_age=60, clock=clock)
    identity.check(CLAIMS)
    pool.account = None  # the user is deleted right after the first request
    clock.now += 59.9
    identity.check(CLAIMS)  # still the remembered answer: at most one look-up per user and window
    assert len(pool.lookups) == 1
    clock.now += 0.1  # 60 s after the look-up: asked again, and refused
    refused(identity)
    assert len(pool.lookups) == 2
    pool.account = LIVE  # a refusal is remembered too (a revoked token hammering the API costs one look-up a minute)
    clock.now += 30
    refused(identity)
    assert len(pool.lookups) == 2


def test_users_are_remembered_apart_and_the_memory_is_bounded() -> None:
    pool, clock = Pool(LIVE), Clock()
    identity = LiveIdentity(pool, max_age=60, max_entries=2, clock=clock)
    for sub in ("a", "b", "c"):
        pool.account = Account(sub=sub, enabled=True, status="CONFIRMED", partner_id=None)
        identity.check({"sub": sub, "email": f"{sub}@example.com"})
    assert pool.lookups == ["a@example.com", "b@example.com", "c@example.com"]
    pool.account = Account(sub="a", enabled=True, status="CONFIRMED", partner_id=None)
    identity.check({"sub": "a", "email": "a@example.com"})  # "a" was the oldest and was forgotten
    pool.account = Account(sub="c", enabled=True, status="CONFIRMED", partner_id=None)
    identity.check({"sub": "c", "email": "c@example.com"})  # "c" is still remembered
    assert pool.lookups == ["a@example.com", "b@example.com", "c@example.com", "a@example.com"]


def test_an_unavailable_pool_fails_closed_and_is_not_remembered() -> None:
    from shared.identity import IdentityUnavailable

    calls = []

    def flaky(username: str) -> Account | None:
        calls.append(username)
        if len(calls) == 1:
            raise IdentityUnavailable()
        return LIVE

    identity = LiveIdentity(flaky)
    with pytest.raises(DomainError) as raised:
        identity.check(CLAIMS)
    assert status_of(raised.value) == 503 and raised.value.code == "identity_unavailable"
    identity.check(CLAIMS)
    assert len(calls) == 2


# ------------------------------------------------------------------------------------------------- groups (roles)

ADMIN_AND_USER = frozenset({"partner-admin", "partner-user"})


def test_a_user_removed_from_a_claimed_group_is_refused_once_the_remembered_answer_is_old() -> None:
    pool, clock = Pool(LIVE), Clock()
    identity = LiveIdentity(pool, max_age=60, clock=clock)
    identity.check(CLAIMS)
    pool.account = Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=frozenset())
    clock.now += 59.9
    identity.check(CLAIMS)  # demoted, but within the window of the remembered answer
    clock.now += 0.1
    assert refused(identity) == "Your roles changed since you signed in. Sign in again."
    assert len(pool.lookups) == 2  # the groups came with the same look-up: no extra cache entry or window


@pytest.mark.parametrize(
    "claimed",
    [
        "partner-admin",
        "",
        "[partner-admin partner-user]",
        "partner-admin,partner-user",
        "[partner-user, partner-admin]",
    ],
)
def test_a_token_may_claim_fewer_groups_than_the_user_now_has(claimed: str) -> None:
    """Added to a group since signing in: the new role comes with the next token; nothing is refused meanwhile."""
    now = Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=ADMIN_AND_USER)
    LiveIdentity(Pool(now)).check(CLAIMS | {"cognito:groups": claimed})


@pytest.mark.parametrize("claimed", ["[partner-admin vendor-admin]", "vendor-admin", ["partner-admin", "vendor-admin"]])
def test_any_claimed_group_the_user_is_not_in_refuses_the_token(claimed: object) -> None:
    now = Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=ADMIN_AND_USER)
    assert "roles changed" in refused(LiveIdentity(Pool(now)), CLAIMS | {"cognito:groups": claimed})  # type: ignore[dict-item]


class GroupPages:
    """AdminListGroupsForUser, answering in pages of `size`."""

    def __init__(self, groups: list[str], size: int) -> None:
        self.groups, self.size = groups, size
        self.calls: list[dict[str, object]] = []

    def admin_list_groups_for_user(self, **request: object) -> dict[str, object]:
        self.calls.append(request)
        start = int(str(request.get("NextToken", 0)))
        page: dict[str, object] = {"Groups": [{"GroupName": g} for g in self.groups[start : start + self.size]]}
        if start + self.size < len(self.groups):
            page["NextToken"] = str(start + self.size)
        return page


def test_every_page_of_the_users_groups_is_read() -> None:
    names = [f"group-{i}" for i in range(7)]
    cognito = GroupPages(names, size=3)
    assert groups_of(cognito, "pool-1", "ada") == frozenset(names)
    assert [call.get("NextToken") for call in cognito.calls] == [None, "3", "6"]
    assert all(call["UserPoolId"] == "pool-1" and call["Username"] == "ada" for call in cognito.calls)
    assert groups_of(GroupPages([], size=3), "pool-1", "ada") == frozenset()


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The Cognito client cognito_lookup gets, answering from a botocore Stubber (requests checked against the model)."""
    import boto3

    import shared.aws

    cognito = boto3.client(
        "cognito-idp", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    monkeypatch.setattr(shared.aws, "client", lambda service: cognito)
    with Stubber(cognito) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


USER = {
    "Username": "7f1c-uuid",
    "Enabled": True,
    "UserStatus": "CONFIRMED",
    "UserAttributes": [{"Name": "sub", "Value": "sub-1"}, {"Name": "custom:partner_id", "Value": "prt_1"}],
}


def test_the_lookup_reads_the_user_then_every_page_of_their_groups_by_username(stubbed: Stubber) -> None:
    stubbed.add_response("admin_get_user", USER, {"UserPoolId": "pool-1", "Username": "ada@example.com"})
    asked = {"UserPoolId": "pool-1", "Username": "7f1c-uuid", "Limit": 60}
    stubbed.add_response(
        "admin_list_groups_for_user", {"Groups": [{"GroupName": "partner-admin"}], "NextToken": "t1"}, asked
    )
    stubbed.add_response(
        "admin_list_groups_for_user", {"Groups": [{"GroupName": "partner-user"}]}, asked | {"NextToken": "t1"}
    )
    found = cognito_lookup("pool-1")("ada@example.com")
    assert found == Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1", groups=ADMIN_AND_USER)


def test_a_user_deleted_between_the_two_calls_is_gone(stubbed: Stubber) -> None:
    stubbed.add_response("admin_get_user", USER)
    stubbed.add_client_error("admin_list_groups_for_user", "UserNotFoundException", "User does not exist.")
    assert cognito_lookup("pool-1")("ada@example.com") is None


@pytest.mark.parametrize("error", ["TooManyRequestsException", "AccessDeniedException", "InternalErrorException"])
def test_groups_that_cannot_be_read_fail_closed_with_503(stubbed: Stubber, error: str) -> None:
    """Throttled, or a policy without AdminListGroupsForUser: 503 identity_unavailable, never an unchecked token."""
    stubbed.add_response("admin_get_user", USER)
    stubbed.add_client_error("admin_list_groups_for_user", error, "no", http_status_code=400)
    identity = LiveIdentity(cognito_lookup("pool-1"))
    with pytest.raises(IdentityUnavailable) as raised:
        identity.check(CLAIMS)
    assert status_of(raised.value) == 503 and raised.value.code == "identity_unavailable"


def test_the_user_is_looked_up_by_username_and_a_changed_email_refuses_the_old_token() -> None:
    pool = Pool(LIVE)
    claims = CLAIMS | {"cognito:username": "7d9c-user"}
    LiveIdentity(pool).check(claims)
    assert pool.lookups == ["7d9c-user"]  # not by the email alias, which would follow a changed address
    moved = Pool(Account(**{**LIVE.__dict__, "email": "ada.new@example.com"}))
    assert "email address changed" in refused(LiveIdentity(moved), claims)
    same = Pool(Account(**{**LIVE.__dict__, "email": "ADA@example.com"}))
    LiveIdentity(same).check(claims)  # addresses compare without case
