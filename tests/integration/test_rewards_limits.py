"""Rewards earning at its limits against moto: a first reward larger than the per-partner cap is declined (and the
cap's condition holds on a partner with nothing committed yet), a budget change racing an earning never sets the
budget below what is committed, a per-1,000 rule on a huge deal is declined instead of failing into the DLQ, a late
DealWon earns under a campaign closed after the deal, and the identical DealWon delivered three times (the same
event id, or re-published under new ones) shuffled with its reversal always leaves the same ledger."""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Stack
from tests.integration.test_rewards_earning import TODAY, VENDOR, Rewards, ledger_of, person
from tests.support.factories import bus_envelope
from tests.support.lambda_events import LambdaContext


@pytest.fixture(scope="module")
def rewards(stack: Stack) -> Rewards:
    return Rewards(stack)


@pytest.fixture(autouse=True)
def closed_after(rewards: Rewards) -> Iterator[None]:
    yield
    rewards.close_all()


def deal_won(partner_id: str, deal_id: str, earner: str, *, amount: int = 1_000_000) -> dict[str, Any]:
    return bus_envelope(
        "prm.deals",
        "DealWon",
        {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "version": "1",
            "partner_id": partner_id,
            "deal_id": deal_id,
            "amount": {"amount_minor": amount, "currency": "USD"},
            "close_date": TODAY.isoformat(),
            "registered_by": earner,
            "products": [],
            "win_revision": 1,
        },
    )


def mine(rewards: Rewards, campaign_id: str, partner_id: str) -> list[dict[str, Any]]:
    return [r for r in rewards.rewards_of(campaign_id) if r["partner_id"] == partner_id]


# ------------------------------------------------------------------ the per-partner cap
def test_a_first_reward_larger_than_the_per_partner_cap_is_declined(rewards: Rewards) -> None:
    campaign = rewards.campaign(per_partner_cap=100, rules=[{"kind": "deal_won_fixed", "amount": 150}])
    partner_id = rewards.onboard()
    rewards.won(partner_id, "deal_capped", person(partner_id)["email"])
    rewards.flush(until=lambda: mine(rewards, campaign["campaign_id"], partner_id))
    [reward] = mine(rewards, campaign["campaign_id"], partner_id)
    assert reward["status"] == "declined"
    assert "per-partner cap of 1.00 USD" in reward["status_reason"]
    stored = rewards.item(f"CAMPAIGN#{campaign['campaign_id']}", "CAMPAIGN")
    assert stored is not None and stored["committed"] == 0
    assert (rewards.item(f"CAMPAIGN#{campaign['campaign_id']}", f"PARTNER#{partner_id}") or {}).get("committed", 0) == 0


def test_the_cap_condition_refuses_an_oversized_amount_on_a_partner_with_nothing_committed(
    rewards: Rewards,
) -> None:
    """The adapter's own condition, beyond the domain's check: the partner's commitment item does not exist yet."""
    from rewards.domain.earning import Applied, DealFact, plan_earning
    from rewards.domain.ledger import new_account
    from rewards.models.earning import Campaign
    from rewards.ports import BudgetExhausted
    from rewards.repository.store import RewardsRepository

    answer = rewards.campaign(rules=[{"kind": "deal_won_fixed", "amount": 150}], auto_approve_below=1_000)
    repository = RewardsRepository(rewards.stack.ref("RewardsTable"))
    campaign = repository.campaign(answer["campaign_id"])
    assert isinstance(campaign, Campaign)
    now = datetime.now(UTC)

    def earning(partner_id: str, cap: int) -> Any:
        fact = DealFact(partner_id, f"deal_{uuid.uuid4().hex[:8]}", 1, 1_000, "USD", now, (), f"a@{partner_id}.com")
        applied = Applied(campaign, campaign.rules[0], 150, "150")
        planned = plan_earning(
            applied,
            fact,
            new_account(partner_id, fact.earner, "USD", now),
            new_account=True,
            refused=None,
            reversal=None,
            now=now,
            event_ids=[f"evt_{uuid.uuid4().hex}" for _ in range(4)],
        )
        assert planned.committed == 150
        return dataclasses.replace(planned, per_partner_cap=cap)

    with pytest.raises(BudgetExhausted) as refused:
        repository.earn(earning(f"p{uuid.uuid4().hex[:8]}", 100))
    assert refused.value.per_partner
    fits = f"p{uuid.uuid4().hex[:8]}"
    repository.earn(earning(fits, 150))  # exactly the cap: the missing item passes
    assert rewards.item(f"CAMPAIGN#{campaign.campaign_id}", f"PARTNER#{fits}")["committed"] == 150  # type: ignore[index]


# ------------------------------------------------------------------ a budget change racing an earning
def test_a_budget_change_read_before_an_earning_cannot_go_below_what_is_committed(rewards: Rewards) -> None:
    from rewards.domain.campaigns import patch_campaign
    from rewards.models.earning import CampaignPatch
    from rewards.ports import CampaignConflict
    from rewards.repository.store import RewardsRepository

    answer = rewards.campaign(budget=10_000)
    repository = RewardsRepository(rewards.stack.ref("RewardsTable"))
    read = repository.campaign(answer["campaign_id"])  # the budget change reads: nothing committed yet
    assert read is not None and read.committed == 0
    partner_id = rewards.onboard()
    rewards.won(partner_id, "deal_racing", person(partner_id)["email"])  # an earning lands meanwhile
    rewards.flush(until=lambda: mine(rewards, answer["campaign_id"], partner_id))
    cut = patch_campaign(read, CampaignPatch(budget=1_000), now=datetime.now(UTC))
    with pytest.raises(CampaignConflict):
        repository.save_campaign(cut, expected_revision=read.revision)
    stored = rewards.item(f"CAMPAIGN#{answer['campaign_id']}", "CAMPAIGN")
    assert stored is not None and stored["budget"] == 10_000 and stored["committed"] == 2_500
    path = {"campaign_id": answer["campaign_id"]}
    status, body = rewards.call(
        "PATCH", "/rewards/campaigns/{campaign_id}", path, body={"budget": 1_000}, claims=VENDOR
    )
    assert status == 400 and body["errors"][0]["field"] == "budget", body
    status, body = rewards.call(
        "PATCH", "/rewards/campaigns/{campaign_id}", path, body={"budget": 2_500}, claims=VENDOR
    )
    assert status == 200 and body["budget"] == 2_500


# ------------------------------------------------------------------ a per-1,000 rule on a huge deal
def test_a_per_thousand_reward_on_a_huge_deal_is_declined_not_retried_into_the_dlq(rewards: Rewards) -> None:
    rule = {"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 10**15}
    campaign = rewards.campaign(unit="points", budget=10**15, rules=[rule])
    partner_id = rewards.onboard()
    envelope = deal_won(partner_id, "deal_huge", person(partner_id)["email"], amount=10**14)
    outcome = rewards.consumers.handle_message(envelope, LambdaContext())  # raised before: retried into the DLQ
    [reward] = mine(rewards, campaign["campaign_id"], partner_id)
    assert reward["status"] == "declined", outcome
    assert "larger than the campaign's budget" in reward["status_reason"]
    stored = rewards.item(f"CAMPAIGN#{campaign['campaign_id']}", "CAMPAIGN")
    assert stored is not None and stored["committed"] == 0


# ------------------------------------------------------------------ eligibility at the fact's time
def test_a_late_deal_won_earns_under_a_campaign_closed_after_the_deal(rewards: Rewards) -> None:
    campaign = rewards.campaign()
    path = {"campaign_id": campaign["campaign_id"]}
    status, closed = rewards.call("POST", "/rewards/campaigns/{campaign_id}/close", path, body={}, claims=VENDOR)
    assert status == 200 and closed["status"] == "closed"
    partner_id = rewards.onboard()
    email = person(partner_id)["email"]
    rewards.won(partner_id, "deal_late", email, close_date=TODAY - timedelta(days=1))  # closed before the campaign
    rewards.won(partner_id, "deal_after", email, close_date=TODAY + timedelta(days=1))  # after it: nothing
    rewards.flush()
    assert [r["source"]["id"] for r in mine(rewards, campaign["campaign_id"], partner_id)] == ["deal_late"]


# ------------------------------------------------------------------ the identical DealWon x3 shuffled with its reversal
def test_the_identical_deal_won_three_times_shuffled_with_its_reversal_leaves_one_ledger(rewards: Rewards) -> None:
    """Every order of three deliveries of one DealWon and its DealWinReversed, with the three deliveries the same
    message (one event id: redelivered) or re-published under new event ids, on a fresh partner each time."""
    campaign = rewards.campaign()
    queue = rewards.stack.ref("RewardsEventsQueue")
    results = set()
    for republished in (False, True):
        for order in sorted(set(itertools.permutations(("won", "won", "won", "reversed")))):
            partner_id = rewards.onboard()
            email = person(partner_id)["email"]
            original = deal_won(partner_id, "deal_thrice", email)
            for step in order:
                if step == "reversed":
                    rewards.reversed(partner_id, "deal_thrice", 1)
                else:
                    envelope = json.loads(json.dumps(original))
                    if republished:
                        envelope["detail"]["event_id"] = f"evt_{uuid.uuid4().hex}"
                    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(envelope))
                rewards.flush()  # one at a time: the order is the order of delivery
            buckets, entries = ledger_of(rewards, partner_id, email)
            kinds = tuple((kind, amount, bucket or "") for _, kind, amount, bucket in entries)
            [reward] = mine(rewards, campaign["campaign_id"], partner_id)
            results.add((buckets, kinds, reward["status"], reward["status_reason"]))
    assert len(results) == 1, results
    [(buckets, kinds, status, reason)] = results
    assert (status, reason) == ("reversed", "booked twice")
    assert dict(buckets) == {
        "pending": 0,
        "on_hold": 0,
        "approved": 0,
        "available": 0,
        "reversed": 2_500,
        "earned": 2_500,
    }
    assert sorted(kinds) == [  # once each: earned, approved and available at once, then reversed
        ("approved", 2_500, "pending"),
        ("earned", 2_500, ""),
        ("made_available", 2_500, "approved"),
        ("reversed", 2_500, "available"),
    ]
    stored = rewards.item(f"CAMPAIGN#{campaign['campaign_id']}", "CAMPAIGN")
    assert stored is not None and stored["committed"] == 0
