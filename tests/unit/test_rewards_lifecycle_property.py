"""Rewards' whole lifecycle as a property, through the services on in-memory fakes: random sequences of earn, approve,
hold, release (of a hold), decline, reverse, redeem, cancel (the release of a redemption) and fulfil (pay), checked
after every step against an independent model that knows only each reward's and each redemption's status (the
balances are sums over those statuses, not the ledger's move table). Also: the identical DealWon delivered three
times, shuffled with its reversal, always leaves the same ledger."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from rewards.domain.earning import DealFact
from rewards.models.earning import CampaignBody, RewardDecision
from rewards.models.redemptions import CatalogueItemBody, ItemRequest
from rewards.service.redemptions import RedemptionsService
from shared.errors import Conflict
from shared.principal import Principal
from tests.support.fakes_rewards_redemptions import FakeRedemptionStore
from tests.unit.test_rewards_service import ADMIN, START, World, won

PEOPLE = ("ann@p1.com", "bob@p1.com")
AUTO_BELOW = 500  # points: smaller rewards are approved (and available) at once, larger ones wait for the approver
COSTS = (40, 250, 900)  # catalogue items' prices in points


def partner_user(email: str) -> Principal:
    return Principal(sub=email, email=email, name=email, partner_id="p1", groups=frozenset({"partner-user"}))


def _ids() -> Callable[[str], str]:
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(counter):026d}"


@dataclass
class Model:
    """What should be true, from statuses alone."""

    rewards: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # reward -> (status, amount, person)
    redemptions: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # id -> (status, cost, person)

    def total(self, person: str, status: str) -> int:
        return sum(a for s, a, p in self.rewards.values() if p == person and s == status)

    def spent(self, person: str, status: str) -> int:
        return sum(c for s, c, p in self.redemptions.values() if p == person and s == status)

    def balances(self, person: str) -> dict[str, int]:
        reserved, paid = self.spent(person, "requested"), self.spent(person, "fulfilled")
        return {
            "pending": self.total(person, "pending"),
            "on_hold": self.total(person, "on_hold"),
            "approved": 0,  # no waiting days: approval makes a reward available at once
            # what became available and was not reversed, less what was redeemed and not given back
            "available": self.total(person, "available") - reserved - paid,
            "reserved": reserved,
            "paid": paid,
            "declined": self.total(person, "declined"),
            "reversed": self.total(person, "reversed"),
            "earned": sum(a for _, a, p in self.rewards.values() if p == person),
        }

    def move(self, reward_id: str, allowed: dict[str, str]) -> None:
        status, amount, person = self.rewards[reward_id]
        self.rewards[reward_id] = (allowed.get(status, status), amount, person)


class Lifecycle:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = World()
        self.model = Model()
        self.deals: dict[str, str] = {}  # reward -> deal
        body = {
            "name": "Points",
            "starts_on": "2026-03-01",
            "ends_on": "2026-05-31",
            "unit": "points",
            "budget": 10**12,
            "auto_approve_below": AUTO_BELOW,
            # one point per USD of won value: a deal's amount in cents / 100
            "rules": [{"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 1_000}],
        }
        self.world.api.create_campaign(ADMIN, CampaignBody.model_validate(body))
        repo = self.world.repo
        # the redemption side shares the people's accounts and the ledger with the earning side, as the table does
        self.store = FakeRedemptionStore(accounts=repo.stored_accounts, entries=repo.entries)
        self.redemptions = RedemptionsService(  # type: ignore[call-arg]
            repository=self.store, clock=self.world.clock, new_id=_ids(), payout_minimums={}
        )
        self.items = [
            self.redemptions.add_item(
                ADMIN, CatalogueItemBody(name=f"Item {c}", description="A thing", cost_points=c, stock=10**6)
            ).item_id
            for c in COSTS
        ]

    # ------------------------------------------------------------- operations
    def _pick(self, pool: list[str]) -> str | None:
        return self.rng.choice(sorted(pool)) if pool else None

    def earn(self) -> None:
        deal_id, person = f"deal_{len(self.deals)}", self.rng.choice(PEOPLE)
        points = self.rng.choice([self.rng.randint(1, AUTO_BELOW - 1), self.rng.randint(AUTO_BELOW, 2_000)])
        fact = won(deal_id, earner=person, amount_minor=points * 100)
        self.world.earning.earn(fact)
        [reward] = self.world.repo.rewards_of_source("deal", deal_id, 1)
        self.deals[reward.reward_id] = deal_id
        self.model.rewards[reward.reward_id] = ("available" if points < AUTO_BELOW else "pending", points, person)

    def _decide(self, decision: str) -> None:
        reward_id = self._pick(list(self.model.rewards))
        if reward_id is None:
            return
        self.world.earning.apply_decision(
            RewardDecision(
                message_type="RewardDecision",
                reward_id=reward_id,
                decision=decision,  # type: ignore[arg-type]
                decided_by="approver@vendor.com",
                reason="not this one" if decision == "rejected" else None,
                decided_at=self.world.clock(),
            )
        )
        after = "available" if decision == "approved" else "declined"
        self.model.move(reward_id, {"pending": after, "on_hold": after})

    def approve(self) -> None:
        self._decide("approved")

    def decline(self) -> None:
        self._decide("rejected")

    def _vendor_step(self, act: Callable[[str], object], moves: dict[str, str], repeat: str) -> None:
        """A vendor admin's step: legal from `moves`' statuses, answered as is in `repeat`, refused otherwise."""
        reward_id = self._pick(list(self.model.rewards))
        if reward_id is None:
            return
        status = self.model.rewards[reward_id][0]
        if status in moves or status == repeat:
            act(reward_id)
            self.model.move(reward_id, moves)
        else:
            with pytest.raises(Conflict):
                act(reward_id)

    def hold(self) -> None:
        self._vendor_step(lambda r: self.world.api.hold(ADMIN, r, "checking"), {"pending": "on_hold"}, "on_hold")

    def release_hold(self) -> None:
        self._vendor_step(lambda r: self.world.api.release(ADMIN, r), {"on_hold": "pending"}, "pending")

    def reverse(self) -> None:
        reward_id = self._pick(list(self.model.rewards))
        if reward_id is None:
            return
        self.world.earning.win_reversed(
            deal_id=self.deals[reward_id], revision=1, reason="booked twice", reversed_by="ops@vendor.com"
        )
        live = {"pending", "on_hold", "approved", "available"}
        self.model.move(reward_id, dict.fromkeys(live, "reversed"))

    def redeem(self) -> None:
        person, index = self.rng.choice(PEOPLE), self.rng.randrange(len(COSTS))
        if self.model.balances(person)["available"] >= COSTS[index]:
            done = self.redemptions.redeem(partner_user(person), ItemRequest(kind="item", item_id=self.items[index]))
            self.model.redemptions[done.redemption_id] = ("requested", COSTS[index], person)
        else:  # more than is available (or a negative balance after a clawback): refused, nothing changes
            with pytest.raises(Conflict):
                self.redemptions.redeem(partner_user(person), ItemRequest(kind="item", item_id=self.items[index]))

    def _settle(self, act: Callable[[str], object], after: str) -> None:
        redemption_id = self._pick(list(self.model.redemptions))
        if redemption_id is None:
            return
        status, cost, person = self.model.redemptions[redemption_id]
        if status in {"requested", after}:
            act(redemption_id)
            self.model.redemptions[redemption_id] = (after, cost, person)
        else:
            with pytest.raises(Conflict):
                act(redemption_id)

    def cancel(self) -> None:
        self._settle(lambda r: self.redemptions.cancel(ADMIN, r, "out of stock"), "cancelled")

    def fulfil(self) -> None:
        self._settle(lambda r: self.redemptions.fulfil(ADMIN, r), "fulfilled")

    # ------------------------------------------------------------- the property
    def check(self, step: str) -> None:
        repo = self.world.repo
        for reward_id, (status, amount, _) in self.model.rewards.items():
            reward = repo.rewards[reward_id]
            assert (reward.status, reward.amount) == (status, amount), (step, reward_id)
        for redemption_id, (status, _, _) in self.model.redemptions.items():
            assert self.store.stored[redemption_id].status == status, (step, redemption_id)
        for person in PEOPLE:
            account = repo.account("p1", person, "points")
            expected = self.model.balances(person)
            if account is None:
                assert not any(expected.values()), step
                continue
            actual = {bucket: getattr(account, bucket) for bucket in expected}
            assert actual == expected, (step, person)
            entries = repo.ledger("p1", person, "points")
            assert [e.seq for e in entries] == list(range(1, account.seq + 1)), step  # append-only, numbered
            if entries:  # every entry carries the running balance: the last one is the account's
                assert {b: getattr(entries[-1].balance, b) for b in expected} == expected, step


OPERATIONS: dict[str, tuple[int, Callable[[Lifecycle], None]]] = {
    "earn": (5, Lifecycle.earn),
    "approve": (2, Lifecycle.approve),
    "hold": (2, Lifecycle.hold),
    "release_hold": (1, Lifecycle.release_hold),
    "decline": (1, Lifecycle.decline),
    "reverse": (1, Lifecycle.reverse),
    "redeem": (3, Lifecycle.redeem),
    "cancel": (1, Lifecycle.cancel),
    "fulfil": (2, Lifecycle.fulfil),
}


@pytest.mark.parametrize("seed", range(40))
def test_random_lifecycles_keep_statuses_and_balances_with_the_model(seed: int) -> None:
    run = Lifecycle(seed)
    names = list(OPERATIONS)
    weights = [OPERATIONS[n][0] for n in names]
    for step in range(80):
        name = run.rng.choices(names, weights)[0]
        run.world.clock.now = START + timedelta(minutes=step)
        OPERATIONS[name][1](run)
        run.check(f"{step}:{name}")
    assert run.model.rewards  # every sequence earned something


# ------------------------------------------------------------------ the identical DealWon x3 shuffled with its reversal
def _final_ledger(order: tuple[str, ...], **campaign: object) -> tuple[object, ...]:
    world = World()
    world.campaign(**campaign)
    fact: DealFact = won()  # the identical fact, however often (and under whichever event id) it arrives
    for step in order:
        if step == "won":
            world.earning.earn(fact)
        else:
            world.earning.win_reversed(deal_id="deal_1", revision=1, reason="booked twice", reversed_by="ops@v.com")
    account = world.account()
    entries = tuple((e.seq, e.kind, e.amount, e.bucket) for e in world.repo.ledger("p1", "ann@p1.com", "USD"))
    statuses = tuple(sorted((r.reward_id, r.status, r.status_reason) for r in world.repo.rewards.values()))
    buckets = tuple(getattr(account, b) for b in ("pending", "on_hold", "approved", "available", "reversed", "earned"))
    [campaign] = world.repo.stored_campaigns.values()
    return buckets, entries, statuses, campaign.committed


@pytest.mark.parametrize(
    "campaign",
    [{}, {"rules": [{"kind": "deal_won_fixed", "amount": 7_500}]}],
    ids=["approved-at-once", "waiting-for-the-approver"],
)
def test_the_same_deal_won_three_times_shuffled_with_its_reversal_leaves_one_ledger(
    campaign: dict[str, object],
) -> None:
    orders = set(itertools.permutations(("won", "won", "won", "reversed")))
    assert len(orders) == 4
    finals = {_final_ledger(order, **campaign) for order in itertools.permutations(("won", "won", "won", "reversed"))}
    assert len(finals) == 1, finals
    [(buckets, entries, statuses, committed)] = finals
    amount = 7_500 if campaign else 2_500
    assert buckets[4] == amount and buckets[5] == amount  # reversed what was earned, once
    assert buckets[:4] == (0, 0, 0, 0) and committed == 0
    [(_, status, reason)] = statuses
    assert (status, reason) == ("reversed", "booked twice")
    assert entries[0][1] == "earned" and entries[-1][1] == "reversed"
