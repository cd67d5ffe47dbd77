"""Rewards' earning and API services on in-memory fakes: earning from facts (idempotent, order-independent, within
budget and cap), reversals, decisions, holds, availability timers, and what people and organisations see."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.domain.earning import (
    BUDGET_EXHAUSTED,
    CAP_REACHED,
    CertificationFact,
    ClaimFact,
    ClaimNotEarned,
    DealFact,
)
from rewards.domain.ledger import book
from rewards.models.earning import (
    CampaignBody,
    EntryReference,
    RewardApprovalExpired,
    RewardAvailableDue,
    RewardDecision,
)
from rewards.notifications import RewardEmails
from rewards.service.campaigns import RewardsService
from rewards.service.earning import NOT_DECIDED, EarningService
from shared.errors import Forbidden, NotFound, NotYetDue
from shared.principal import Principal
from tests.support.fakes import FakeMailer, FakeSideEffects
from tests.support.fakes_rewards import FakeAgreementGate, FakeEarningRepository, FakeRewardWorkflows

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ADMIN = Principal(sub="v1", email="admin@vendor.com", name="A", partner_id=None, groups=frozenset({"vendor-admin"}))
ANN = Principal(sub="u1", email="ann@p1.com", name="Ann", partner_id="p1", groups=frozenset({"partner-user"}))
BOSS = Principal(sub="u2", email="boss@p1.com", name="Boss", partner_id="p1", groups=frozenset({"partner-admin"}))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self) -> None:
        self.repo = FakeEarningRepository()
        self.workflows = FakeRewardWorkflows()
        self.mailer = FakeMailer()
        self.clock = Clock()
        counter = itertools.count()
        ids: Callable[[str], str] = lambda prefix: f"{prefix}_{next(counter):08d}"  # noqa: E731
        self.earning = EarningService(
            self.repo,
            self.workflows,
            self.mailer,
            RewardEmails("http://portal.test"),
            FakeSideEffects(),
            self.clock,
            ids,
        )
        self.gate = FakeAgreementGate()
        self.api = RewardsService(self.repo, self.gate, self.clock, ids)
        self.repo.set_partner("p1")
        self.cid = ""

    def campaign(self, **overrides: Any) -> str:
        data: dict[str, Any] = {
            "name": "Spring",
            "starts_on": "2026-03-01",
            "ends_on": "2026-05-31",
            "unit": "USD",
            "budget": 1_000_000,
            "auto_approve_below": 5_000,
            "rules": [{"kind": "deal_won_fixed", "amount": 2_500}],
        }
        return self.api.create_campaign(ADMIN, CampaignBody.model_validate(data | overrides)).campaign.campaign_id

    def account(self, email: str = "ann@p1.com", unit: str = "USD") -> Any:
        return self.repo.account("p1", email, unit)


CAMPAIGN: dict[str, Any] = {
    "name": "Spring",
    "starts_on": "2026-03-01",
    "ends_on": "2026-05-31",
    "unit": "USD",
    "budget": 1_000_000,
    "auto_approve_below": 5_000,
}


def won(deal_id: str = "deal_1", revision: int = 1, earner: str = "ann@p1.com", **overrides: Any) -> DealFact:
    data: dict[str, Any] = {
        "partner_id": "p1",
        "deal_id": deal_id,
        "revision": revision,
        "amount_minor": 1_000_000,
        "currency": "USD",
        "at": datetime(2026, 3, 9, tzinfo=UTC),
        "products": (),
        "earner": earner,
    }
    return DealFact(**(data | overrides))


@pytest.fixture
def world() -> World:
    return World()


# ------------------------------------------------------------------ earning
def test_a_won_deal_earns_once_however_often_it_is_delivered(world: World) -> None:
    world.campaign()
    first = world.earning.earn(won())
    again = world.earning.earn(won())
    assert "available" in first and "available" in again
    assert len(world.repo.rewards) == 1 and world.account().available == 2_500
    assert len(world.repo.events("RewardEarned")) == 1
    assert len(world.mailer.to("ann@p1.com")) == 1  # the earner hears once


def test_a_large_reward_waits_for_its_approval_which_starts_once(world: World) -> None:
    world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 7_500}])
    world.earning.earn(won())
    world.earning.earn(won())
    [reward] = world.repo.rewards.values()
    assert reward.status == "pending" and list(world.workflows.approvals) == [reward.reward_id]
    assert world.account().pending == 7_500


def test_only_campaigns_running_and_open_to_the_partner_then_earn(world: World) -> None:
    world.campaign(name="Gold only", eligibility={"tiers": ["gold"]})
    world.campaign(name="Later", starts_on="2026-04-01")
    world.campaign(name="APAC", eligibility={"regions": ["APAC"]})
    world.repo.set_tier("p1", "silver", START - timedelta(days=100))
    world.repo.set_tier("p1", "gold", START)  # gold only after the deal closed
    outcome = world.earning.earn(won())
    assert not world.repo.rewards
    assert "silver" in outcome and "outside" in outcome and "EMEA" in outcome
    world.earning.earn(won("deal_2", at=START + timedelta(hours=1)))
    assert [r.campaign_name for r in world.repo.rewards.values()] == ["Gold only"]


def test_the_budget_is_never_exceeded_and_refusals_are_recorded(world: World) -> None:
    cid = world.campaign(budget=6_000)
    for n in range(4):
        world.earning.earn(won(f"deal_{n}"))
    statuses = sorted((r.status, r.status_reason) for r in world.repo.rewards.values())
    assert statuses == [("available", None)] * 2 + [("declined", BUDGET_EXHAUSTED)] * 2
    assert world.repo.campaign(cid).committed == 5_000  # type: ignore[union-attr]
    assert world.account().declined == 5_000


def test_the_per_partner_cap_declines_what_is_over_it(world: World) -> None:
    world.campaign(per_partner_cap=5_000)
    for n in range(3):
        world.earning.earn(won(f"deal_{n}"))
    assert sorted(r.status_reason or "" for r in world.repo.rewards.values()) == ["", "", CAP_REACHED]


def test_a_lost_race_on_the_account_is_retried(world: World) -> None:
    world.campaign()
    world.repo.lose_next = 3
    world.earning.earn(won())
    assert world.account().available == 2_500


def test_a_certification_earns_once_per_person(world: World) -> None:
    world.campaign(rules=[{"kind": "certification_earned", "certification_id": "cert-net", "amount": 1_000}])
    world.earning.earn(CertificationFact("p1", "cert-net", "awd_1", START, "ann@p1.com"))
    world.earning.earn(CertificationFact("p1", "cert-net", "awd_2", START, "ann@p1.com"))
    world.earning.earn(CertificationFact("p1", "cert-net", "awd_3", START, "bob@p1.com"))
    world.earning.earn(CertificationFact("p1", "cert-other", "awd_4", START, "ann@p1.com"))
    assert sorted(r.person_email for r in world.repo.rewards.values()) == ["ann@p1.com", "bob@p1.com"]


def test_a_won_deal_is_said_by_its_prospect_and_an_older_event_by_its_id(world: World) -> None:
    world.campaign()
    world.earning.earn(won("deal_1", prospect_name="Globex Ltd"))
    world.earning.earn(won("deal_2"))  # a DealWon published before prospect_name
    said = {r.source.id: (r.source.label, r.source.description) for r in world.repo.rewards.values()}
    assert said == {"deal_1": ("Globex Ltd", "Deal with Globex Ltd won"), "deal_2": (None, "Deal deal_2 won")}
    history = world.api.mine(ANN, limit=5, cursor=None).history
    assert sorted(line["source"]["description"] for line in history) == ["Deal deal_2 won", "Deal with Globex Ltd won"]
    assert any("Deal with Globex Ltd won" in str(mail) for mail in world.mailer.to("ann@p1.com"))


def test_certification_rules_are_worded_by_the_defined_name_once_known(world: World) -> None:
    rules = [{"kind": "certification_earned", "certification_id": "cert-net", "amount": 1_000}]
    created = world.api.create_campaign(ADMIN, CampaignBody.model_validate(CAMPAIGN | {"rules": rules}))
    assert created.rules_in_words == ["10.00 USD the first time a person earns certification cert-net"]  # accepted
    later = START + timedelta(days=1)
    assert "named" in world.earning.certification_defined("cert-net", "Network Security Associate", START)
    assert "already" in world.earning.certification_defined("cert-net", "Network Security Associate", START)
    assert "already" in world.earning.certification_defined("cert-net", "Old Name", START - timedelta(days=1))
    view = world.api.campaign(ADMIN, created.campaign.campaign_id)
    assert view.rules_in_words == [
        "10.00 USD the first time a person earns the Network Security Associate certification"
    ]
    assert world.repo.name_reads[-1] == ["cert-net"]  # by key, only the ids the rules name
    world.earning.certification_defined("cert-net", "Network Security Professional", later)  # renamed
    assert "Network Security Professional" in world.api.campaign(ADMIN, created.campaign.campaign_id).rules_in_words[0]
    world.earning.earn(
        CertificationFact("p1", "cert-net", "awd_1", START, "ann@p1.com", "Network Security Professional")
    )
    (reward,) = world.repo.rewards.values()
    assert (reward.source.label, reward.source.description) == (
        "Network Security Professional",
        "Certification Network Security Professional",
    )
    assert "the Network Security Professional certification" in reward.rule_words
    world.api.campaigns(ADMIN)
    deal_only = world.campaign()
    reads = len(world.repo.name_reads)
    world.api.campaign(ADMIN, deal_only)
    assert len(world.repo.name_reads) == reads  # a campaign without certification rules reads no names


def test_an_approved_claim_earns_its_rule_approved(world: World) -> None:
    cid = world.campaign(rules=[{"kind": "spiff_claim", "amount": 20_000, "description": "Demo booth"}])
    outcome = world.earning.earn_claim(ClaimFact("p1", "clm_1", cid, "r1", START, "ann@p1.com", "rev@vendor.com"))
    assert "available" in outcome
    [reward] = world.repo.rewards.values()
    assert reward.history[-2].by == "rev@vendor.com" and reward.source.kind == "claim"
    with pytest.raises(ClaimNotEarned, match="no claim rule r9"):
        world.earning.earn_claim(ClaimFact("p1", "clm_2", cid, "r9", START, "a@p1.com", "r"))


# ------------------------------------------------------------------ decisions, holds, timers
def _pending(world: World, **campaign: Any) -> str:
    world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 8_000}], **campaign)
    world.earning.earn(won())
    return next(iter(world.repo.rewards))


def test_an_approval_makes_the_reward_available(world: World) -> None:
    rid = _pending(world)
    message = RewardDecision(
        message_type="RewardDecision",
        reward_id=rid,
        decision="approved",
        decided_by="boss@vendor.com",
        decided_at=START,
    )
    world.earning.apply_decision(message)
    assert world.repo.rewards[rid].status == "available" and world.account().available == 8_000
    assert "changes nothing" in world.earning.apply_decision(message)


def test_waiting_days_are_a_timer_that_refuses_to_fire_early(world: World) -> None:
    rid = _pending(world, available_after_days=3)
    world.earning.apply_decision(
        RewardDecision(
            message_type="RewardDecision", reward_id=rid, decision="approved", decided_by="b", decided_at=START
        )
    )
    due = world.workflows.timers[rid]
    assert due == START + timedelta(days=3) and world.repo.rewards[rid].status == "approved"
    timer = RewardAvailableDue(message_type="RewardAvailableDue", reward_id=rid, due_at=due)
    with pytest.raises(NotYetDue):
        world.earning.make_available(timer)
    world.clock.now = due
    world.earning.make_available(timer)
    assert world.repo.rewards[rid].status == "available" and world.account().available == 8_000


def test_a_hold_then_a_rejection_declines_and_gives_the_budget_back(world: World) -> None:
    rid = _pending(world)
    cid = world.repo.rewards[rid].campaign_id
    with pytest.raises(Forbidden):
        world.api.hold(ANN, rid, "no")
    held = world.api.hold(ADMIN, rid, "PO missing")
    assert held.status == "on_hold" and world.account().on_hold == 8_000
    assert world.api.hold(ADMIN, rid, "PO missing").status == "on_hold"  # a repeat changes nothing
    world.earning.apply_decision(
        RewardDecision(
            message_type="RewardDecision",
            reward_id=rid,
            decision="rejected",
            decided_by="b",
            reason="no PO",
            decided_at=START,
        )
    )
    reward = world.repo.rewards[rid]
    assert (reward.status, reward.status_reason) == ("declined", "no PO")
    assert world.repo.campaign(cid).committed == 0  # type: ignore[union-attr]
    assert [h.status for h in reward.history] == ["pending", "on_hold", "declined"]
    with pytest.raises(NotFound):
        world.api.hold(ADMIN, "rwd_" + "0" * 32, "x")


def test_an_approval_nobody_decided_declines_saying_so(world: World) -> None:
    rid = _pending(world)
    world.earning.approval_lapsed(RewardApprovalExpired(message_type="RewardApprovalExpired", reward_id=rid))
    assert world.repo.rewards[rid].status_reason == NOT_DECIDED


# ------------------------------------------------------------------ reversals
def test_a_reversal_claws_back_even_what_was_spent(world: World) -> None:
    cid = world.campaign()
    world.earning.earn(won())
    account = world.account()
    spent, _ = book(
        account, "redeemed", 2_500, reference=EntryReference(type="redemption", id="r"), actor="a", note="", now=START
    )
    world.repo.stored_accounts["p1", "ann@p1.com", "USD"] = spent
    outcome = world.earning.win_reversed(deal_id="deal_1", revision=1, reason="cancelled", reversed_by="ops@v.com")
    assert "reversed" in outcome
    after = world.account()
    assert (after.available, after.reserved, after.reversed) == (-2_500, 2_500, 2_500)
    assert world.repo.campaign(cid).committed == 0  # type: ignore[union-attr]
    assert "nothing to reverse" in world.earning.win_reversed(deal_id="deal_1", revision=1, reason="x", reversed_by="y")


def _final(world: World) -> tuple[Any, ...]:
    account = world.account()
    rewards = sorted((r.source.id, r.source.revision, r.status, r.amount) for r in world.repo.rewards.values())
    entries = sorted((e.reference.id, e.kind, e.amount, e.bucket) for e in world.repo.entries)
    return account.model_dump(exclude={"updated_at"}), rewards, entries, world.repo.campaign(world.cid).committed  # type: ignore[union-attr]


def test_deal_won_three_times_and_its_reversal_end_the_same_in_every_order() -> None:
    """DealWon (redelivered), its reversal, and the corrected DealWon (revision 2), in every order of delivery."""
    messages: list[Callable[[World], Any]] = [
        lambda w: w.earning.earn(won(revision=1)),
        lambda w: w.earning.earn(won(revision=1)),
        lambda w: w.earning.win_reversed(deal_id="deal_1", revision=1, reason="wrong amount", reversed_by="ops@v.com"),
        lambda w: w.earning.earn(won(revision=2, amount_minor=900_000)),
    ]
    finals = set()
    for order in itertools.permutations(range(len(messages))):
        world = World()
        world.cid = world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 2_500}])
        for index in order:
            messages[index](world)
        final = _final(world)
        finals.add(repr(final))
    assert len(finals) == 1
    account, rewards, _, committed = final
    assert rewards == [("deal_1", 1, "reversed", 2_500), ("deal_1", 2, "available", 2_500)]
    assert (account["available"], account["reversed"], account["earned"], committed) == (2_500, 2_500, 5_000, 2_500)


# ------------------------------------------------------------------ what people see
def test_partners_see_only_campaigns_open_to_them_and_vendors_see_all(world: World) -> None:
    world.campaign(name="Everyone")
    world.campaign(name="APAC", eligibility={"regions": ["APAC"]})
    assert {v.campaign.name for v in world.api.campaigns(ANN)} == {"Everyone"}
    assert {v.campaign.name for v in world.api.campaigns(ADMIN)} == {"Everyone", "APAC"}
    apac = next(v.campaign.campaign_id for v in world.api.campaigns(ADMIN) if v.campaign.name == "APAC")
    with pytest.raises(NotFound):
        world.api.campaign(ANN, apac)
    with pytest.raises(Forbidden):
        world.api.create_campaign(
            ANN,
            CampaignBody.model_validate(
                {
                    "name": "x",
                    "starts_on": "2026-03-01",
                    "ends_on": "2026-03-02",
                    "unit": "points",
                    "budget": 1,
                    "rules": [{"kind": "deal_won_fixed", "amount": 1}],
                }
            ),
        )


def test_a_person_sees_their_balances_and_history_and_an_admin_the_organisation(world: World) -> None:
    world.campaign()
    world.earning.earn(won("deal_1"))
    world.earning.earn(won("deal_2"))
    world.earning.earn(won("deal_3", earner="bob@p1.com"))
    mine = world.api.mine(ANN, limit=1, cursor=None)
    assert [a.available for a in mine.balances] == [5_000] and len(mine.history) == 1 and mine.cursor
    rest = world.api.mine(ANN, limit=5, cursor=mine.cursor)
    assert len(rest.history) == 1 and rest.cursor is None
    with pytest.raises(Forbidden):
        world.api.organisation(ANN)
    assert [(a.person_email, a.available) for a in world.api.organisation(BOSS)] == [
        ("ann@p1.com", 5_000),
        ("bob@p1.com", 2_500),
    ]
    with pytest.raises(Forbidden):
        world.api.mine(ADMIN, limit=5, cursor=None)


def test_partner_users_act_only_after_accepting_the_agreement(world: World) -> None:
    world.gate.not_accepted.add(ANN.sub)
    with pytest.raises(Forbidden) as refused:
        world.api.admit(ANN)
    assert refused.value.code == "agreement_required"
    assert world.api.admit(BOSS) is BOSS and world.api.admit(ADMIN) is ADMIN


def test_a_campaign_in_a_currency_never_paid_out_is_refused_naming_the_unit(world: World) -> None:
    from shared.errors import ValidationFailed

    world.api.payout_currencies = frozenset({"USD", "EUR"})
    with pytest.raises(ValidationFailed) as refused:
        world.campaign(unit="JPY")
    assert [e.field for e in refused.value.errors] == ["unit"]
    assert "EUR, USD" in str(refused.value)
    assert world.campaign(unit="points") and world.campaign(unit="EUR")  # points and payout currencies are fine


def test_not_enough_to_redeem_says_the_amount_as_people_read_it() -> None:
    from rewards.domain.ledger import InsufficientBalance, new_account

    account = new_account("p1", "ann@p1.com", "USD", START).model_copy(update={"available": 10_000})
    with pytest.raises(InsufficientBalance, match=r"Only 100\.00 USD is available"):
        book(
            account,
            "redeemed",
            10_001,
            reference=EntryReference(type="redemption", id="r1"),
            actor="a",
            note="n",
            now=START,
        )
    owing = account.model_copy(update={"available": -2_550})
    with pytest.raises(InsufficientBalance, match=r"Only -25\.50 USD is available"):
        book(
            owing, "redeemed", 100, reference=EntryReference(type="redemption", id="r1"), actor="a", note="n", now=START
        )
