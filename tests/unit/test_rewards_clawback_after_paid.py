"""A clawback after the payout was PAID (not only after a redemption was requested): the reversal of the reward the
money came from takes `available` below zero, and a new redemption is refused (409 naming `amount`) until the person
has earned it back. On the redemption service's fakes, with the earning domain's own reversal step."""

from __future__ import annotations

from datetime import date

import pytest

from rewards.domain import lifecycle
from rewards.domain.ledger import InsufficientBalance
from rewards.models.earning import Reward, Source
from rewards.models.redemptions import PayoutDecision, PayoutRequest, TaxFormBody
from shared.http import status_of
from shared.money import Money
from tests.unit.test_rewards_redemptions_service import ADMIN, ANN, FINANCE, NOW, World


def available_reward(amount: int) -> Reward:
    return Reward(
        reward_id="rwd_" + "a" * 32,
        campaign_id="cmp_0000000001",
        campaign_name="Spring SPIFF",
        rule_id="r1",
        rule_words="200.00 USD for each won deal",
        partner_id="p1",
        person_email="ann@example.com",
        unit="USD",
        amount=amount,
        source=Source(kind="deal", id="deal_1", revision=1),
        fact_at=NOW,
        status="available",
        status_at=NOW,
        earned_at=NOW,
    )


def test_a_reward_reversed_after_its_payout_was_paid_blocks_redeeming_until_earned_back() -> None:
    world = World()
    world.store.fund("p1", "ann@example.com", "USD", 20_000)
    world.store.forms["p1"] = world.payouts.record_tax_form(
        ADMIN, "p1", TaxFormBody(reference="W-9 2026", received_on=date(2026, 1, 5))
    )[0]
    redemption_id = world.payout(ANN, 20_000)
    assert world.lifecycle.decide(PayoutDecision(redemption_id=redemption_id, review=FINANCE)) == "approved"
    batch = world.payouts.create_batch(ADMIN)
    assert world.payouts.mark_paid(ADMIN, batch.batch_id).status == "paid"
    key = ("p1", "ann@example.com", "USD")
    paid = world.store.accounts[key]
    assert (paid.available, paid.reserved, paid.paid) == (0, 0, 20_000)

    # the won deal is reversed after the money went out: the earning domain's reversal, from `available`
    clawback = lifecycle.reverse(
        available_reward(20_000), paid, reason="deal booked twice", by="ops@vendor.example", now=NOW, event_ids=["e1"]
    )
    assert clawback.reward.status == "reversed"
    assert (clawback.account.available, clawback.account.paid, clawback.account.reversed) == (-20_000, 20_000, 20_000)
    assert clawback.entries[-1].kind == "reversed"
    world.store.accounts[key] = clawback.account

    request = PayoutRequest(kind="payout", amount=Money(amount_minor=1_000, currency="USD"))
    with pytest.raises(InsufficientBalance) as refused:
        world.redemptions.redeem(ANN, request)
    assert status_of(refused.value) == 409 and [e.field for e in refused.value.errors] == ["amount"]

    # earning 20,000 back brings the balance to zero: still nothing to redeem; 1,000 more and 1,000 may be redeemed
    world.store.accounts[key] = clawback.account.model_copy(update={"available": 0})
    with pytest.raises(InsufficientBalance):
        world.redemptions.redeem(ANN, request)
    world.store.accounts[key] = clawback.account.model_copy(update={"available": 1_000})
    assert world.redemptions.redeem(ANN, request).status == "requested"
