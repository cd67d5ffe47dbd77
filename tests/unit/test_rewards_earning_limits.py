"""Rewards earning at its limits, on in-memory fakes: a reward larger than the per-partner cap or the whole budget,
a per-1,000 rule on a huge deal, a budget change racing an earning, and eligibility judged at the fact's time (a
campaign closed after the fact still rewards it; a claim filed in the window earns when approved after the close)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewards.domain.earning import ClaimFact, ClaimNotEarned
from rewards.models.earning import CampaignPatch
from rewards.models.redemptions import Claim, ClaimDecision, Review
from rewards.service.claim_lifecycle import ClaimLifecycle
from shared.errors import ValidationFailed
from tests.support.fakes import FakeMailer, FakeSideEffects
from tests.support.fakes_rewards import FakeEarningRepository
from tests.support.fakes_rewards_redemptions import FakeApprovals, FakeRedemptionStore
from tests.unit.test_rewards_service import ADMIN, START, World, won


@pytest.fixture
def world() -> World:
    return World()


# ------------------------------------------------------------------ 1. a reward larger than the per-partner cap
def test_a_first_reward_larger_than_the_per_partner_cap_is_declined_naming_the_cap(world: World) -> None:
    cid = world.campaign(per_partner_cap=100, rules=[{"kind": "deal_won_fixed", "amount": 150}])
    outcome = world.earning.earn(won())
    [reward] = world.repo.rewards.values()
    assert reward.status == "declined", outcome
    assert reward.status_reason is not None and "per-partner cap" in reward.status_reason
    assert "1.00 USD" in reward.status_reason and "1.50 USD" in reward.status_reason
    assert world.repo.campaign(cid).committed == 0  # type: ignore[union-attr]
    assert world.repo.partner_commitments.get((cid, "p1"), 0) == 0
    assert world.repo.entries == []  # never pending: nothing booked
    assert [e.reason for e in world.repo.events("RewardDeclined")] == [reward.status_reason]
    assert world.repo.events("RewardEarned") == []
    world.earning.earn(won())  # redelivered: the same declined reward, told once
    assert len(world.repo.rewards) == 1 and len(world.mailer.to("ann@p1.com")) == 1


def test_a_reward_that_fits_the_cap_still_earns_after_an_oversized_one(world: World) -> None:
    world.campaign(per_partner_cap=100, rules=[{"kind": "deal_won_per_sku", "sku": "big", "amount": 150}])
    world.campaign(per_partner_cap=100, rules=[{"kind": "deal_won_fixed", "amount": 100}])
    world.earning.earn(won(products=("big",)))
    assert sorted(r.status for r in world.repo.rewards.values()) == ["available", "declined"]
    assert world.account().available == 100 and world.account().declined == 0


# ------------------------------------------------------------------ 4. a per-1,000 rule on a huge deal
def test_a_per_thousand_reward_beyond_any_balance_is_declined_not_an_exception(world: World) -> None:
    rule = {"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 10**15}
    cid = world.campaign(unit="points", budget=10**15, rules=[rule])
    outcome = world.earning.earn(won(amount_minor=10**14))  # 10**12 USD: 10**24 points before the cap
    [reward] = world.repo.rewards.values()
    assert reward.status == "declined", outcome
    assert reward.amount == 10**15  # recorded at the largest amount a reward holds
    assert reward.status_reason == (
        "the reward of more than 1,000,000,000,000,000 points is larger than the campaign's budget of "
        "1,000,000,000,000,000 points"
    )
    assert world.repo.campaign(cid).committed == 0  # type: ignore[union-attr]
    assert world.repo.entries == []


def test_rewards_that_would_overflow_a_balance_are_declined_not_an_exception(world: World) -> None:
    rule = {"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 10**15}
    world.campaign(unit="points", budget=10**15, auto_approve_below=0, rules=[rule])
    world.earning.earn(won("deal_1", amount_minor=10**5))  # 10**15 points: exactly the budget, pending
    outcome = world.earning.earn(won("deal_2", amount_minor=10**5))  # declined for the budget would overflow
    statuses = sorted((r.status, r.status_reason or "") for r in world.repo.rewards.values())
    assert statuses[0][0] == "declined" and "past the largest amount supported" in statuses[0][1], outcome
    assert statuses[1] == ("pending", "")
    assert world.account(unit="points").pending == 10**15 and world.account(unit="points").declined == 0


def test_a_reward_larger_than_the_whole_budget_is_declined_at_once(world: World) -> None:
    world.campaign(budget=2_000)
    world.earning.earn(won())
    [reward] = world.repo.rewards.values()
    assert reward.status == "declined" and "budget of 20.00 USD" in (reward.status_reason or "")


# ------------------------------------------------------------------ 3. a budget cut racing an earning
class RacingRepository(FakeEarningRepository):
    """An earning lands between the budget change's read and its write (once)."""

    race: World | None = None

    def save_campaign(self, campaign, *, expected_revision):  # type: ignore[no-untyped-def]
        if self.race is not None:
            world, self.race = self.race, None
            world.earning.earn(won("deal_racing"))
        super().save_campaign(campaign, expected_revision=expected_revision)


def test_a_budget_cut_racing_an_earning_never_goes_below_what_is_committed(world: World) -> None:
    racing = RacingRepository(partners=world.repo.partners)
    world.repo = racing
    world.earning.repository = racing
    world.api.repository = racing
    cid = world.campaign(budget=10_000)
    world.earning.earn(won("deal_first"))  # 2,500 committed when the change is read
    racing.race = world  # another 2,500 committed before it is written
    with pytest.raises(ValidationFailed) as refused:
        world.api.patch_campaign(ADMIN, cid, CampaignPatch(budget=4_000))
    assert [e.field for e in refused.value.errors] == ["budget"]
    stored = racing.campaign(cid)
    assert stored is not None and stored.budget == 10_000 and stored.committed == 5_000
    assert world.api.patch_campaign(ADMIN, cid, CampaignPatch(budget=5_000)).campaign.budget == 5_000


# ------------------------------------------------------------------ 2. eligibility at the fact's time
def test_a_late_deal_won_inside_the_window_earns_after_the_campaign_closed(world: World) -> None:
    cid = world.campaign()
    world.clock.now = START + timedelta(days=1)
    world.api.close_campaign(ADMIN, cid)  # closed 2026-03-11 09:00
    world.earning.earn(won("deal_before", at=datetime(2026, 3, 11, tzinfo=UTC)))  # the deal closed before it
    outcome = world.earning.earn(won("deal_after", at=datetime(2026, 3, 12, tzinfo=UTC)))
    assert [r.source.id for r in world.repo.rewards.values()] == ["deal_before"]
    assert "closed on 2026-03-11 09:00 UTC" in outcome


def claim_fact(cid: str, at: datetime, claim_id: str = "clm_1") -> ClaimFact:
    return ClaimFact("p1", claim_id, cid, "r1", at, "ann@p1.com", "rev@vendor.com")


def test_a_claim_filed_in_the_window_earns_when_approved_after_the_close(world: World) -> None:
    cid = world.campaign(rules=[{"kind": "spiff_claim", "amount": 900, "description": "Booth"}])
    world.clock.now = START + timedelta(days=2)
    world.api.close_campaign(ADMIN, cid)
    world.clock.now = START + timedelta(days=5)
    assert "available" in world.earning.earn_claim(claim_fact(cid, START))
    assert world.account().available == 900
    with pytest.raises(ClaimNotEarned, match="closed"):  # filed after the close (cannot happen by the API)
        world.earning.earn_claim(claim_fact(cid, START + timedelta(days=3), "clm_late"))


def test_a_claim_whose_reward_is_declined_for_the_budget_says_so(world: World) -> None:
    cid = world.campaign(budget=1_000, rules=[{"kind": "spiff_claim", "amount": 900, "description": "Booth"}])
    world.earning.earn_claim(claim_fact(cid, START))
    with pytest.raises(ClaimNotEarned, match="budget exhausted"):
        world.earning.earn_claim(claim_fact(cid, START, "clm_2"))
    with pytest.raises(ClaimNotEarned, match="budget exhausted"):  # asked again: the same answer
        world.earning.earn_claim(claim_fact(cid, START, "clm_2"))


class RefusingEarner:
    def __init__(self, reason: str) -> None:
        self.reason, self.calls = reason, 0

    def earn_claim(self, claim: Claim, approved_by: str, at: datetime) -> str:
        self.calls += 1
        raise ClaimNotEarned(self.reason)


def test_an_approved_claim_that_cannot_earn_is_declined_with_the_reason_not_left_approved() -> None:
    store, mailer = FakeRedemptionStore(), FakeMailer()
    earner = RefusingEarner("campaign budget exhausted")
    lifecycle = ClaimLifecycle(
        repository=store,  # type: ignore[arg-type]
        clock=lambda: START,
        reviews=FakeApprovals(),
        earner=earner,
        mailer=mailer,
        effects=FakeSideEffects(),
        portal_url="http://portal.test",
    )
    claim = Claim(
        claim_id="clm_" + "0" * 26,
        partner_id="p1",
        person="ann@p1.com",
        campaign_id="cmp_1",
        campaign_name="Spring",
        rule_id="r1",
        unit="points",
        amount=900,
        description="Booth",
        proof_files=[],
        status="submitted",
        status_at=START,
        submitted_at=START,
    )
    store.save_claim(claim)
    approve = ClaimDecision(claim_id=claim.claim_id, round=1, review=Review(decision="approved", decided_by="r@v"))
    assert "no reward: campaign budget exhausted" in lifecycle.decide(approve)
    stored = store.stored_claims[claim.claim_id]
    assert stored.status == "declined"
    assert stored.status_reason == "Approved, but no reward can be paid: campaign budget exhausted"
    assert [h.status for h in stored.history] == ["approved", "declined"]
    lifecycle.decide(approve)  # redelivered: changes nothing, asks nothing, mails nothing new
    assert earner.calls == 1 and len(mailer.to("ann@p1.com")) == 1
    assert "campaign budget exhausted" in mailer.to("ann@p1.com")[0].text
