"""Which rewards spending paid: payouts paid and items fulfilled spend a person's balance, and the spending is spread
over their available rewards oldest first, so a reward shows `paid` once it is covered (issue 12: "statuses ...
available, paid, reversed"). On the earning service's fakes; the DynamoDB adapter's version is
tests/integration/test_rewards_redemptions.py::test_a_fulfilled_item_pays_the_rewards_its_points_came_from."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from rewards.domain.ledger import book
from rewards.domain.settlement import gap
from rewards.models.earning import EntryReference
from rewards.service.earning import SPREAD_ROUND, SPREAD_ROUNDS
from tests.unit.test_rewards_service import World, won

ANN = ("p1", "ann@p1.com", "USD")


def spend(world: World, amount: int) -> None:
    """What a paid payout books on the account (redeemed, then paid), as the redemption service does."""
    account = world.repo.account(*ANN)
    assert account is not None
    for kind in ("redeemed", "paid"):
        account, entry = book(
            account,
            kind,
            amount,
            reference=EntryReference(type="payout", id="pay_1"),
            actor="finance",
            note=kind,
            now=world.clock(),
        )
        world.repo.entries.append(entry)
    world.repo.stored_accounts[ANN] = account


def three_available(world: World) -> list[str]:
    """Three 25.00 USD rewards, earned on three days (auto-approved and available at once)."""
    world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 2_500}])
    ids = []
    for day in range(3):
        world.clock.now += timedelta(days=1)
        world.earning.earn(won(deal_id=f"deal_{day}"))
        ids.append(max(world.repo.rewards.values(), key=lambda r: r.earned_at).reward_id)
    assert [world.repo.rewards[i].status for i in ids] == ["available"] * 3
    return ids


def test_spending_pays_the_oldest_rewards_first_and_a_part_of_the_next() -> None:
    world = World()
    first, second, third = three_available(world)
    spend(world, 6_000)

    outcome = world.earning.settle(*ANN)

    rewards = world.repo.rewards
    assert [rewards[i].status for i in (first, second, third)] == ["paid", "paid", "available"]
    assert [rewards[i].paid_amount for i in (first, second, third)] == [2_500, 2_500, 1_000]
    assert rewards[first].paid_at == world.clock.now and rewards[third].paid_at is None
    assert rewards[first].history[-1].status == "paid"
    paid_events = world.repo.events("RewardPaid")
    assert [e.reward_id for e in paid_events] == [first, second]  # the partly paid one is not announced
    assert "(paid)" in outcome
    assert world.repo.settlement(*ANN).settled == 6_000


def test_settling_again_changes_nothing() -> None:
    world = World()
    ids = three_available(world)
    spend(world, 2_500)
    world.earning.settle(*ANN)
    before = {i: world.repo.rewards[i].revision for i in ids}

    assert world.earning.settle(*ANN).endswith("nothing to spread")
    assert {i: world.repo.rewards[i].revision for i in ids} == before
    assert len(world.repo.events("RewardPaid")) == 1


def test_the_rest_of_a_partly_paid_reward_is_paid_by_the_next_spending() -> None:
    world = World()
    first, second, _ = three_available(world)
    spend(world, 1_000)
    world.earning.settle(*ANN)
    spend(world, 2_000)
    world.earning.settle(*ANN)

    assert (world.repo.rewards[first].status, world.repo.rewards[first].paid_amount) == ("paid", 2_500)
    assert (world.repo.rewards[second].status, world.repo.rewards[second].paid_amount) == ("available", 500)


def test_a_paid_reward_reversed_is_clawed_back_from_the_available_balance() -> None:
    world = World()
    first, *_ = three_available(world)
    spend(world, 2_500)
    world.earning.settle(*ANN)
    assert world.repo.rewards[first].status == "paid"

    world.earning.reverse(first, reason="deal booked twice", by="ops@vendor.example")

    account = world.repo.account(*ANN)
    assert account is not None
    assert world.repo.rewards[first].status == "reversed"
    assert world.repo.entries[-1].kind == "reversed"
    assert (account.available, account.paid, account.reversed) == (2_500, 2_500, 2_500)  # 5,000 left, less 2,500
    reversed_event = world.repo.events("RewardReversed")[-1]
    assert reversed_event.from_status == "paid"


def test_spending_with_no_reward_left_to_cover_is_covered_by_the_next_available_one() -> None:
    world = World()
    (only,) = three_available(world)[:1]
    for other in list(world.repo.rewards):
        if other != only:
            world.earning.reverse(other, reason="duplicate", by="ops@vendor.example")
    spend(world, 2_500)
    world.earning.reverse(only, reason="deal lost after all", by="ops@vendor.example")  # spent, then clawed back

    assert "no available reward left" in world.earning.settle(*ANN)
    assert gap(world.repo.account(*ANN), world.repo.settlement(*ANN)) == 2_500

    world.clock.now += timedelta(days=1)
    world.earning.earn(won(deal_id="deal_new"))  # earns it back: this reward is what the earlier payout paid
    newest = max(world.repo.rewards.values(), key=lambda r: r.earned_at)
    world.earning.settle(*ANN)
    assert world.repo.rewards[newest.reward_id].status == "paid"
    assert gap(world.repo.account(*ANN), world.repo.settlement(*ANN)) == 0


def test_one_call_spreads_over_a_bounded_number_of_rewards_and_the_next_call_goes_on() -> None:
    world = World()
    world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 100}], budget=10**9)
    many = SPREAD_ROUND * SPREAD_ROUNDS + 5
    for n in range(many):
        world.clock.now += timedelta(minutes=1)
        world.earning.earn(won(deal_id=f"deal_{n}"))
    spend(world, 100 * many)

    world.earning.settle(*ANN)
    paid = [r for r in world.repo.rewards.values() if r.status == "paid"]
    assert len(paid) == SPREAD_ROUND * SPREAD_ROUNDS
    world.earning.settle(*ANN)
    assert all(r.status == "paid" for r in world.repo.rewards.values())


def test_a_concurrent_change_is_read_again() -> None:
    world = World()
    first, *_ = three_available(world)
    spend(world, 2_500)
    original = world.repo.spread
    raced = []

    def lose_once(change):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(change)
            from rewards.ports import StaleAccount

            raise StaleAccount(change.reward.reward_id)
        original(change)

    world.repo.spread = lose_once  # type: ignore[method-assign]
    world.earning.settle(*ANN)
    assert raced and world.repo.rewards[first].status == "paid"


def unpaid_available(world: World) -> int:
    """What the rewards still available have not yet paid: it must equal the account's available balance."""
    return sum(r.amount - r.paid_amount for r in world.repo.rewards.values() if r.status == "available")


@pytest.mark.parametrize("order", list(itertools.permutations(["pay", "reverse"])))
def test_a_payout_and_a_reversal_in_either_order_leave_the_same_statuses(order: tuple[str, str]) -> None:
    world = World()
    first, second, third = three_available(world)
    spend(world, 2_500)
    for step in order:
        if step == "pay":
            world.earning.settle(*ANN)
        else:
            world.earning.reverse(first, reason="deal booked twice", by="ops@vendor.example")
            world.earning.settle(*ANN)  # RewardReversed reaches the consumer: what was spread over it is spread again

    statuses = [world.repo.rewards[i].status for i in (first, second, third)]
    assert statuses == ["reversed", "paid", "available"]
    account = world.repo.account(*ANN)
    assert account is not None and unpaid_available(world) == account.available == 2_500
    assert gap(account, world.repo.settlement(*ANN)) == 0


def test_random_histories_keep_the_available_rewards_equal_to_the_available_balance() -> None:
    import random

    for seed in range(40):
        rng = random.Random(seed)
        world = World()
        world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 700}], budget=10**9)
        deals = 0
        for _ in range(25):
            move = rng.choice(["earn", "earn", "spend", "reverse", "settle"])
            account = world.repo.account(*ANN)
            if move == "earn":
                world.clock.now += timedelta(minutes=1)
                world.earning.earn(won(deal_id=f"deal_{deals}"))
                deals += 1
            elif move == "spend" and account is not None and account.available > 0:
                spend(world, rng.randint(1, account.available))
            elif move == "reverse":
                live = [r for r in world.repo.rewards.values() if r.status in {"available", "paid"}]
                if live:
                    world.earning.reverse(rng.choice(live).reward_id, reason="reversed", by="ops@vendor.example")
            world.earning.settle(*ANN)
        account = world.repo.account(*ANN)
        if account is None:
            continue
        settled = world.repo.settlement(*ANN).settled
        paid_over_live = sum(r.paid_amount for r in world.repo.rewards.values() if r.status in {"available", "paid"})
        assert settled == paid_over_live, seed  # what is spread sits on rewards that still count
        if gap(account, world.repo.settlement(*ANN)) == 0:
            assert unpaid_available(world) == account.available, seed
        else:  # spending waits for rewards to cover it: nothing is available, nothing left unpaid
            assert unpaid_available(world) == 0 and account.available <= 0, seed
