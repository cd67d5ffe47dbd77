"""Rewards' earning rules (pure domain): campaigns and their rules in words, eligibility at a fact's time, amounts,
deterministic reward ids, and the lifecycle's bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from rewards.domain import lifecycle
from rewards.domain.campaigns import certification_ids, close_campaign, new_campaign, patch_campaign, rule_words
from rewards.domain.earning import (
    BUDGET_EXHAUSTED,
    Applied,
    CertificationFact,
    DealFact,
    amount_for,
    judge,
    new_reward,
    plan_earning,
    reward_id,
    source_of,
)
from rewards.domain.eligibility import ineligible, open_to
from rewards.domain.ledger import new_account
from rewards.domain.lifecycle import InvalidRewardState
from rewards.models.earning import Campaign, CampaignBody, CampaignPatch, PartnerAt, Reward
from shared.errors import Conflict, ValidationFailed

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
IDS = [f"evt_{n}" for n in range(10)]


def body(**overrides: object) -> CampaignBody:
    data: dict[str, object] = {
        "name": "Spring SPIFF",
        "starts_on": "2026-03-01",
        "ends_on": "2026-05-31",
        "unit": "USD",
        "budget": 100_000,
        "auto_approve_below": 5_000,
        "rules": [
            {"kind": "deal_won_fixed", "amount": 2_500},
            {"kind": "deal_won_per_sku", "sku": "FW-100", "amount": 10_000},
            {"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 150},
            {"kind": "certification_earned", "certification_id": "cert-net", "amount": 1_000, "rule_id": "cert"},
        ],
    }
    return CampaignBody.model_validate(data | overrides)


def campaign(**overrides: object) -> Campaign:
    return new_campaign(body(**overrides), campaign_id="cmp_0000000001", created_by="admin@vendor.com", now=NOW)


def deal(**overrides: object) -> DealFact:
    data: dict[str, object] = {
        "partner_id": "p1",
        "deal_id": "deal_1",
        "revision": 1,
        "amount_minor": 1_234_567,
        "currency": "USD",
        "at": datetime(2026, 3, 9, tzinfo=UTC),
        "products": ("FW-100",),
        "earner": "ann@p1.com",
    }
    return DealFact(**(data | overrides))  # type: ignore[arg-type]


# ------------------------------------------------------------------ campaigns
def test_rules_get_stable_ids_and_plain_words() -> None:
    c = campaign()
    assert [r.rule_id for r in c.rules] == ["r1", "r2", "r3", "cert"]
    words = [rule_words(r, c.unit) for r in c.rules]
    assert words[0] == "25.00 USD for each won deal"
    assert "includes FW-100" in words[1]
    assert "per 1,000 USD of won deal value" in words[2] and "rounded down" in words[2]
    assert "certification cert-net" in words[3]
    assert rule_words(campaign(unit="points").rules[0], "points") == "2,500 points for each won deal"


def test_certification_rules_say_the_name_when_known_and_the_id_otherwise() -> None:
    rule = campaign().rules[3]
    assert rule_words(rule, "USD", {"cert-net": "Network Security Associate"}) == (
        "10.00 USD the first time a person earns the Network Security Associate certification"
    )
    assert (
        rule_words(rule, "USD", {"other": "Other"}) == "10.00 USD the first time a person earns certification cert-net"
    )
    assert certification_ids(list(campaign().rules)) == ["cert-net"]


def test_a_source_names_the_prospect_or_certification_when_the_fact_does() -> None:
    named = source_of(deal(prospect_name="Globex Ltd"))
    assert (named.label, named.description) == ("Globex Ltd", "Deal with Globex Ltd won")
    unnamed = source_of(deal())  # a DealWon published before prospect_name
    assert (unnamed.label, unnamed.description) == (None, "Deal deal_1 won")
    cert = CertificationFact("p1", "cert-net", "awd_1", NOW, "ann@p1.com", "Network Security Associate")
    assert source_of(cert).description == "Certification Network Security Associate"
    assert source_of(CertificationFact("p1", "cert-net", "awd_1", NOW, "ann@p1.com")).description == (
        "Certification cert-net"
    )
    applied = judge(cert, [(campaign(), None)]).applied
    assert [a.words for a in applied] == [
        "10.00 USD the first time a person earns the Network Security Associate certification"
    ]
    assert reward_id("c1", "cert", cert) == reward_id(
        "c1", "cert", CertificationFact("p1", "cert-net", "awd_1", NOW, "ann@p1.com")
    )  # the name is not part of the reward's identity
    old = new_reward(applied[0], cert, now=NOW).model_dump(mode="json")
    old["source"].pop("label")
    assert Reward.model_validate(old).source.label is None  # rewards stored before the label still read


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_on": "2026-02-01"}, "ends_on"),
        ({"unit": "XYZ"}, "unit"),
        ({"budget": 0}, "budget"),
        ({"rules": []}, "rules"),
        ({"rules": [{"kind": "deal_won_fixed", "amount": 1.5}]}, "rules"),
        ({"rules": [{"kind": "bonus", "amount": 1}]}, "rules"),
        ({"eligibility": {"regions": ["MARS"]}}, "eligibility"),
    ],
)
def test_bad_campaign_bodies_are_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        body(**overrides)
    assert field in str(refused.value)


def test_a_campaign_may_not_end_in_the_past() -> None:
    with pytest.raises(ValidationFailed) as refused:
        new_campaign(body(starts_on="2026-01-01", ends_on="2026-02-01"), campaign_id="c", created_by="a", now=NOW)
    assert refused.value.errors[0].field == "ends_on"


def test_patches_keep_committed_and_rules_only_change_before_the_start() -> None:
    c = campaign().model_copy(update={"committed": 40_000})
    patched = patch_campaign(c, CampaignPatch(budget=50_000, name="Renamed"), now=NOW)
    assert (patched.budget, patched.name, patched.revision, patched.committed) == (50_000, "Renamed", 2, 40_000)
    with pytest.raises(ValidationFailed) as low:
        patch_campaign(c, CampaignPatch(budget=30_000), now=NOW)
    assert low.value.errors[0].field == "budget"
    with pytest.raises(ValidationFailed) as started:
        patch_campaign(c, CampaignPatch.model_validate({"rules": [{"kind": "deal_won_fixed", "amount": 1}]}), now=NOW)
    assert started.value.errors[0].field == "rules"
    early = patch_campaign(
        c,
        CampaignPatch.model_validate({"rules": [{"kind": "deal_won_fixed", "amount": 1}]}),
        now=NOW - timedelta(days=30),
    )
    assert [r.rule_id for r in early.rules] == ["r1"]
    with pytest.raises(ValidationError):
        CampaignPatch.model_validate({"budget": None})


def test_a_closed_campaign_stays_closed_and_cannot_change() -> None:
    closed = close_campaign(campaign(), now=NOW)
    assert closed.status == "closed" and closed.revision == 2
    assert close_campaign(closed, now=NOW) is closed
    with pytest.raises(Conflict):
        patch_campaign(closed, CampaignPatch(name="x"), now=NOW)


# ------------------------------------------------------------------ eligibility
def test_eligibility_is_judged_on_the_partner_at_the_facts_time() -> None:
    c = campaign(eligibility={"tiers": ["gold"], "regions": ["EMEA"], "partner_types": ["reseller"]})
    at = datetime(2026, 3, 9, tzinfo=UTC)
    gold = PartnerAt(partner_id="p1", region="EMEA", partner_type="reseller", tier_id="gold")
    assert ineligible(c, gold, at) is None
    assert "silver" in (ineligible(c, gold.model_copy(update={"tier_id": "silver"}), at) or "")
    assert "AMER" in (ineligible(c, gold.model_copy(update={"region": "AMER"}), at) or "")
    assert "isv" in (ineligible(c, gold.model_copy(update={"partner_type": "isv"}), at) or "")
    assert "unknown" in (ineligible(c, PartnerAt(partner_id="p1", tier_id="gold"), at) or "")
    assert "outside" in (ineligible(c, gold, datetime(2026, 6, 1, tzinfo=UTC)) or "")
    closed = close_campaign(c, now=NOW)  # judged at the fact's time: the closing time is the effective end
    assert ineligible(closed, gold, at) is None
    assert "closed on" in (ineligible(closed, gold, NOW) or "")
    assert "closed on" in (ineligible(closed, gold, NOW + timedelta(days=1)) or "")
    assert ineligible(campaign(), PartnerAt(partner_id="p2"), at) is None  # empty lists: everyone
    assert open_to(c, gold, date(2026, 2, 1)) and not open_to(c, gold, date(2026, 6, 1))


# ------------------------------------------------------------------ amounts and ids
def test_amounts_per_rule() -> None:
    c = campaign()
    fixed, sku, per_thousand, cert = c.rules
    assert amount_for(fixed, deal()) == 2_500
    assert amount_for(sku, deal()) == 10_000
    assert "does not include" in str(amount_for(sku, deal(products=())))
    # 12,345.67 USD won at 1.50 USD per 1,000: 150 * 1234567 // 100000 = 1851 (18.51 USD, rounded down)
    assert amount_for(per_thousand, deal()) == 1_851
    assert "EUR" in str(amount_for(per_thousand, deal(currency="EUR")))
    assert "rounded down" in str(amount_for(per_thousand, deal(amount_minor=500)))
    assert amount_for(cert, deal()) is None
    certified = CertificationFact("p1", "cert-net", "awd_1", NOW, "ann@p1.com")
    assert amount_for(cert, certified) == 1_000
    assert amount_for(fixed, certified) is None
    assert amount_for(cert, CertificationFact("p1", "cert-other", "awd_2", NOW, "ann@p1.com")) is None


def test_per_thousand_uses_the_currencys_minor_digits() -> None:
    c = campaign(rules=[{"kind": "deal_won_per_thousand", "currency": "JPY", "amount_per_thousand": 7}])
    assert amount_for(c.rules[0], deal(currency="JPY", amount_minor=2_500_000)) == 17_500


def test_reward_ids_are_deterministic_per_campaign_rule_source_and_person() -> None:
    one = reward_id("c1", "r1", deal())
    assert one == reward_id("c1", "r1", deal(amount_minor=1)) and one.startswith("rwd_")
    assert one != reward_id("c1", "r1", deal(revision=2))
    assert one != reward_id("c1", "r2", deal())
    assert one != reward_id("c1", "r1", deal(earner="bob@p1.com"))
    renewal = CertificationFact("p1", "cert-net", "awd_2", NOW, "ann@p1.com")
    assert reward_id("c1", "cert", renewal) == reward_id(
        "c1", "cert", CertificationFact("p1", "cert-net", "awd_1", NOW, "ann@p1.com")
    )


def test_judge_records_why_rules_did_not_apply() -> None:
    c = campaign()
    judgement = judge(deal(products=(), currency="EUR"), [(c, None)])
    assert [a.rule.rule_id for a in judgement.applied] == ["r1"]
    assert len(judgement.skipped) == 2
    blocked = judge(deal(), [(c, "the partner was silver")])
    assert not blocked.applied and all("silver" in s for s in blocked.skipped)


# ------------------------------------------------------------------ planning and the lifecycle
def _plan(c: Campaign, amount: int, **kwargs: object) -> lifecycle.Earning:
    applied = Applied(c, c.rules[0], amount, "words")
    account = new_account("p1", "ann@p1.com", c.unit, NOW)
    options: dict[str, object] = {"new_account": True, "refused": None, "reversal": None, "now": NOW, "event_ids": IDS}
    return plan_earning(applied, deal(), account, **(options | kwargs))  # type: ignore[arg-type]


def test_below_the_threshold_a_reward_is_approved_and_available_at_once() -> None:
    e = _plan(campaign(), 2_500)
    assert e.reward.status == "available" and not e.needs_approval and e.committed == 2_500
    assert [x.kind for x in e.entries] == ["earned", "approved", "made_available"]
    assert [x.DETAIL_TYPE for x in e.events] == ["RewardEarned", "RewardApproved", "RewardAvailable"]
    assert e.events[0].status == "approved"  # type: ignore[attr-defined]
    assert e.account.available == 2_500 and e.account.earned == 2_500


def test_waiting_days_leave_an_approved_reward_with_its_timer() -> None:
    e = _plan(campaign(available_after_days=14), 2_500)
    assert e.reward.status == "approved" and e.schedule_available_at == NOW + timedelta(days=14)
    assert e.account.approved == 2_500


def test_at_or_above_the_threshold_a_reward_waits_for_an_approver() -> None:
    e = _plan(campaign(), 5_000)
    assert e.reward.status == "pending" and e.needs_approval and e.account.pending == 5_000
    assert e.events[0].status == "pending"  # type: ignore[attr-defined]


def test_no_budget_records_a_declined_reward_that_commits_nothing() -> None:
    e = _plan(campaign(), 2_500, refused=BUDGET_EXHAUSTED)
    assert e.reward.status == "declined" and e.reward.status_reason == BUDGET_EXHAUSTED and e.committed == 0
    assert [x.kind for x in e.entries] == ["earned", "declined"]
    assert e.account.declined == 2_500 and e.account.pending == 0


def test_a_win_reversed_before_it_arrived_earns_and_reverses_at_once() -> None:
    e = _plan(campaign(), 2_500, reversal={"reason": "wrong amount", "reversed_by": "ops@vendor.com"})
    assert e.reward.status == "reversed" and e.committed == 0 and e.reversed_at_once
    assert [x.kind for x in e.entries] == ["earned", "approved", "made_available", "reversed"]
    assert e.account.reversed == 2_500 and e.account.available == 0


def test_lifecycle_steps_and_refusals() -> None:
    pending = _plan(campaign(), 9_000)
    reward, account = pending.reward, pending.account
    held = lifecycle.hold(reward, account, reason="check the PO", by="a@v.com", now=NOW, event_ids=IDS)
    assert (
        held.reward.status == "on_hold"
        and held.account.on_hold == 9_000
        and held.reward.status_reason == "check the PO"
    )
    assert held.reward.history[-1].by == "a@v.com" and held.reward.revision == reward.revision + 1
    with pytest.raises(InvalidRewardState):
        lifecycle.hold(held.reward, held.account, reason="again", by="a", now=NOW, event_ids=IDS)
    approved = lifecycle.approve(
        held.reward, held.account, by="a@v.com", available_after_days=0, now=NOW, event_ids=IDS
    )
    assert approved.reward.status == "available" and approved.account.available == 9_000 and approved.released == 0
    declined = lifecycle.decline(reward, account, reason="duplicate", by="a", now=NOW, event_ids=IDS)
    assert declined.released == 9_000 and declined.account.declined == 9_000
    with pytest.raises(InvalidRewardState):
        lifecycle.reverse(declined.reward, declined.account, reason="x", by="y", now=NOW, event_ids=IDS)
    reversed_ = lifecycle.reverse(approved.reward, approved.account, reason="x", by="y", now=NOW, event_ids=IDS)
    assert reversed_.released == 9_000 and reversed_.account.available == 0 and reversed_.account.reversed == 9_000
    assert reversed_.events[0].from_status == "available"  # type: ignore[attr-defined]
    with pytest.raises(InvalidRewardState):
        lifecycle.make_available(reward, account, now=NOW, event_ids=IDS)
