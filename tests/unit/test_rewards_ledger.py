"""The rewards ledger: each move, the guards, and random sequences against a simple model of the buckets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.domain.ledger import BUCKETS, InsufficientBalance, book, new_account
from rewards.models.earning import Account, EntryReference

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REF = EntryReference(type="reward", id="rwd_test01")


def _book(account: Account, kind: Any, amount: int, bucket: Any = None) -> Account:
    after, entry = book(account, kind, amount, bucket=bucket, reference=REF, actor="test", note="", now=NOW)
    assert entry.seq == after.seq == account.seq + 1
    assert entry.balance.model_dump() == {b: getattr(after, b) for b in BUCKETS}
    return after


def test_a_reward_moves_from_earned_to_paid() -> None:
    account = new_account("p1", "Ann@Example.com", "USD", NOW)
    assert account.person_email == "ann@example.com"
    account = _book(account, "earned", 500)
    assert (account.pending, account.earned) == (500, 500)
    account = _book(account, "held", 500)
    assert (account.pending, account.on_hold) == (0, 500)
    account = _book(account, "unheld", 500)
    account = _book(account, "approved", 500, "pending")
    account = _book(account, "made_available", 500)
    account = _book(account, "redeemed", 200)
    account = _book(account, "redemption_released", 50)
    account = _book(account, "paid", 150)
    assert (account.available, account.reserved, account.paid, account.earned, account.seq) == (350, 0, 150, 500, 8)


def test_only_a_reversal_takes_available_below_zero_and_then_redeeming_is_refused() -> None:
    account = _book(
        _book(_book(new_account("p1", "a@b.co", "points", NOW), "earned", 100), "approved", 100, "pending"),
        "made_available",
        100,
    )
    account = _book(account, "redeemed", 100)
    account = _book(account, "paid", 100)
    account = _book(_book(account, "earned", 30), "approved", 30, "pending")
    account = _book(account, "reversed", 80, "available")
    assert (account.available, account.reversed) == (-80, 80)
    with pytest.raises(InsufficientBalance) as refused:
        _book(account, "redeemed", 1)
    assert refused.value.errors[0].field == "amount"
    account = _book(account, "made_available", 30)
    assert account.available == -50


@pytest.mark.parametrize(
    ("kind", "bucket"),
    [
        ("held", None),
        ("approved", "pending"),
        ("declined", "on_hold"),
        ("made_available", None),
        ("paid", None),
        ("redemption_released", None),
        ("reversed", "approved"),
        ("redeemed", None),
    ],
)
def test_no_move_takes_a_bucket_below_zero(kind: str, bucket: str | None) -> None:
    with pytest.raises(InsufficientBalance):
        _book(new_account("p1", "a@b.co", "points", NOW), kind, 1, bucket)


@pytest.mark.parametrize(
    ("kind", "bucket"),
    [
        ("approved", None),
        ("approved", "available"),
        ("declined", "approved"),
        ("reversed", "reserved"),
        ("held", "approved"),
        ("earned", "pending"),
    ],
)
def test_the_source_bucket_must_be_one_the_kind_allows(kind: str, bucket: str | None) -> None:
    account = _book(new_account("p1", "a@b.co", "points", NOW), "earned", 10)
    with pytest.raises(ValueError, match="takes from"):
        _book(account, kind, 1, bucket)


@pytest.mark.parametrize("amount", [0, -5])
def test_amounts_are_positive(amount: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        _book(new_account("p1", "a@b.co", "points", NOW), "earned", amount)


# kind -> (source choices, destination) in the simple model
MODEL: dict[str, tuple[list[str | None], str]] = {
    "earned": ([None], "pending"),
    "held": (["pending"], "on_hold"),
    "unheld": (["on_hold"], "pending"),
    "approved": (["pending", "on_hold"], "approved"),
    "made_available": (["approved"], "available"),
    "declined": (["pending", "on_hold"], "declined"),
    "reversed": (["pending", "on_hold", "approved", "available"], "reversed"),
    "redeemed": (["available"], "reserved"),
    "redemption_released": (["reserved"], "available"),
    "paid": (["reserved"], "paid"),
}


@pytest.mark.parametrize("seed", range(40))
def test_random_sequences_agree_with_a_simple_model(seed: int) -> None:
    rng = random.Random(seed)
    account = new_account("p1", "a@b.co", "points", NOW)
    model = dict.fromkeys(BUCKETS, 0)
    entries = []
    for step in range(300):
        kind: Any = rng.choice(list(MODEL))
        sources, destination = MODEL[kind]
        source = rng.choice(sources)
        amount = rng.randint(1, 60)
        expect = dict(model)
        if source:
            expect[source] -= amount
        expect[destination] += amount
        if kind == "earned":
            expect["earned"] += amount
        # the bucket an amount leaves may not go below zero, except available on a reversal (a clawback)
        allowed = source is None or expect[source] >= 0 or (source == "available" and kind == "reversed")
        try:
            account, entry = book(
                account,
                kind,
                amount,
                bucket=source if kind in {"approved", "declined", "reversed"} else None,  # type: ignore[arg-type]
                reference=REF,
                actor="t",
                note="",
                now=NOW + timedelta(seconds=step),
            )
        except InsufficientBalance:
            assert not allowed, (kind, source, amount, model)
            continue
        assert allowed, (kind, source, amount, model)
        model = expect
        entries.append(entry)
        assert {b: getattr(account, b) for b in BUCKETS} == model
        # money is conserved: what was earned is in exactly one bucket
        assert sum(model[b] for b in BUCKETS if b != "earned") == model["earned"]
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries and entries[-1].balance.model_dump() == model
