"""Live identity (shared/identity.py): who is refused, and how long an answer from the user pool is remembered."""

from __future__ import annotations

import pytest

from shared.errors import DomainError
from shared.http import status_of
from shared.identity import Account, IdentityRevoked, LiveIdentity

CLAIMS = {"sub": "sub-1", "email": "ada@example.com", "custom:partner_id": "prt_1", "cognito:groups": "partner-admin"}
LIVE = Account(sub="sub-1", enabled=True, status="CONFIRMED", partner_id="prt_1")


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
