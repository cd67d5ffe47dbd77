"""Earning: which rules of which campaigns a fact (a won deal, a certification, an approved claim) earns under, how
much, for whom, and the reward it makes (deterministic id: a redelivered or re-published fact is the same reward).

A reward is auto-approved when its amount is below the campaign's `auto_approve_below` (claims were approved by a
reviewer already); otherwise it waits for an approver. A reward whose budget or per-partner cap has no room is
recorded as declined, consuming nothing. A deal win reversed before its DealWon arrived earns and reverses at once,
so the ledger ends the same whatever the order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from rewards.domain.campaigns import amount_words, rule_words
from rewards.domain.lifecycle import LEDGER_ACTOR, Earning, Step
from rewards.models.earning import (
    Account,
    AnyRule,
    Campaign,
    CertificationEarnedRule,
    DealWonFixed,
    DealWonPerSku,
    DealWonPerThousand,
    Reward,
    Source,
    SpiffClaim,
    StatusChange,
)
from shared.money import minor_digits

BUDGET_EXHAUSTED = "campaign budget exhausted"
CAP_REACHED = "per-partner cap reached"
AUTOMATIC = "automatic approval"
MAX_AMOUNT = 10**15  # the largest amount a reward, a budget or a balance holds (rewards.models.common.Amount)


@dataclass(frozen=True)
class DealFact:
    partner_id: str
    deal_id: str
    revision: int
    amount_minor: int
    currency: str
    at: datetime  # the close date, start of day UTC
    products: tuple[str, ...]
    earner: str  # the partner user who registered the deal
    prospect_name: str | None = None  # the prospect's company (DealWon published before it was added has none)

    kind = "deal"


@dataclass(frozen=True)
class CertificationFact:
    partner_id: str
    certification_id: str
    award_id: str
    at: datetime
    earner: str
    certification_name: str | None = None

    kind = "certification"


@dataclass(frozen=True)
class ClaimFact:
    """A SPIFF claim approved by its reviewer (B's claims): earns under exactly one campaign rule."""

    partner_id: str
    claim_id: str
    campaign_id: str
    rule_id: str
    at: datetime
    earner: str
    approved_by: str

    kind = "claim"


Fact = DealFact | CertificationFact | ClaimFact


class ClaimNotEarned(Exception):
    """An approved claim earns no reward (its campaign or rule is gone, the partner was not eligible when it filed,
    or the reward was declined for the budget or the cap): `reason` is shown to the partner on the claim."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Applied:
    """A rule a fact earns under: how much, and the words that say why."""

    campaign: Campaign
    rule: AnyRule
    amount: int
    words: str
    beyond_max: bool = False  # the rule came to more than any amount holds (a huge deal): `amount` is MAX_AMOUNT


@dataclass
class Judgement:
    applied: list[Applied] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a rule of the fact's kind did not apply (logged)


def deal_words(deal_id: str, prospect_name: str | None) -> str:
    """A won deal as people read it: by its prospect company when known, by its id otherwise."""
    return f"Deal with {prospect_name} won" if prospect_name else f"Deal {deal_id} won"


def source_of(fact: Fact) -> Source:
    if isinstance(fact, DealFact):
        return Source(
            kind="deal",
            id=fact.deal_id,
            revision=fact.revision,
            label=fact.prospect_name or None,
            description=deal_words(fact.deal_id, fact.prospect_name),
        )
    if isinstance(fact, CertificationFact):
        name = fact.certification_name or None
        return Source(
            kind="certification",
            id=fact.certification_id,
            label=name,
            description=f"Certification {name or fact.certification_id}",
        )
    return Source(kind="claim", id=fact.claim_id, description=f"Claim {fact.claim_id}")


def reward_id(campaign_id: str, rule_id: str, fact: Fact) -> str:
    """Deterministic: one reward per (campaign, rule, source, person). A certification's source is the certification,
    not the award, so a renewal or a second award of it earns nothing new."""
    source = source_of(fact)
    parts = [campaign_id, rule_id, source.kind, source.id, str(source.revision or ""), fact.earner.lower()]
    return "rwd_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _deal_amount(rule: AnyRule, fact: DealFact) -> int | str | None:
    if isinstance(rule, DealWonFixed):
        return rule.amount
    if isinstance(rule, DealWonPerSku):
        return rule.amount if rule.sku in fact.products else f"the deal does not include {rule.sku}"
    if isinstance(rule, DealWonPerThousand):
        if fact.currency != rule.currency:
            return f"the deal was won in {fact.currency}, the rule pays on {rule.currency} only"
        amount = rule.amount_per_thousand * fact.amount_minor // (1000 * 10 ** minor_digits(fact.currency))
        return amount if amount > 0 else "the won value is below what earns one unit (rounded down)"
    return None


def amount_for(rule: AnyRule, fact: Fact) -> int | str | None:
    """The amount the rule pays for the fact; a reason (str) when a rule of the fact's kind does not apply; None when
    the rule is about another kind of fact (or another certification, another claim rule)."""
    if isinstance(fact, DealFact):
        return _deal_amount(rule, fact)
    if isinstance(fact, CertificationFact):
        matches = isinstance(rule, CertificationEarnedRule) and rule.certification_id == fact.certification_id
        return rule.amount if matches else None  # type: ignore[union-attr]
    return rule.amount if isinstance(rule, SpiffClaim) and rule.rule_id == fact.rule_id else None


def judge(fact: Fact, campaigns: list[tuple[Campaign, str | None]]) -> Judgement:
    """What the fact earns under each eligible campaign (`(campaign, why not eligible or None)`)."""
    judgement = Judgement()
    for campaign, why_not in campaigns:
        if isinstance(fact, ClaimFact) and campaign.campaign_id != fact.campaign_id:
            continue
        for rule in campaign.rules:
            amount = amount_for(rule, fact)
            if amount is None:
                continue
            if why_not is not None:
                judgement.skipped.append(f"{campaign.campaign_id}/{rule.rule_id}: {why_not}")
            elif isinstance(amount, str):
                judgement.skipped.append(f"{campaign.campaign_id}/{rule.rule_id}: {amount}")
            else:  # a huge won value can come to more than any budget holds: recorded at the most, declined
                names = {fact.certification_id: fact.certification_name} if isinstance(fact, CertificationFact) else {}
                words = rule_words(rule, campaign.unit, {k: v for k, v in names.items() if v})
                judgement.applied.append(Applied(campaign, rule, min(amount, MAX_AMOUNT), words, amount > MAX_AMOUNT))
    return judgement


def new_reward(applied: Applied, fact: Fact, *, now: datetime) -> Reward:
    campaign, rule = applied.campaign, applied.rule
    assert rule.rule_id is not None  # every stored rule has its id
    return Reward(
        reward_id=reward_id(campaign.campaign_id, rule.rule_id, fact),
        campaign_id=campaign.campaign_id,
        campaign_name=campaign.name,
        rule_id=rule.rule_id,
        rule_words=applied.words,
        partner_id=fact.partner_id,
        person_email=fact.earner,
        unit=campaign.unit,
        amount=applied.amount,
        source=source_of(fact),
        fact_at=fact.at,
        status="pending",
        status_at=now,
        history=[StatusChange(status="pending", reason=None, at=now, by=LEDGER_ACTOR)],
        earned_at=now,
    )


def oversized(applied: Applied) -> str | None:
    """Why a reward can never be paid, whatever else is committed: it alone is larger than the campaign's budget or
    the per-partner cap (None when it fits)."""
    campaign, amount = applied.campaign, applied.amount
    words = ("more than " if applied.beyond_max else "") + amount_words(amount, campaign.unit)
    if applied.beyond_max or amount > campaign.budget:
        return f"the reward of {words} is larger than the campaign's budget of {amount_words(campaign.budget, campaign.unit)}"
    cap = campaign.per_partner_cap
    if cap is not None and amount > cap:
        return f"the reward of {words} is larger than the per-partner cap of {amount_words(cap, campaign.unit)}"
    return None


def overflows(account: Account, applied: Applied) -> str | None:
    """Why booking the reward would take one of the person's buckets past the largest amount a balance holds (which
    `book()` refuses): declined as it is earned instead of an exception retried into the DLQ (None when it fits)."""
    receiving = ("earned", "pending", "on_hold", "approved", "available", "declined", "reversed")
    if all(abs(getattr(account, bucket)) + applied.amount <= MAX_AMOUNT for bucket in receiving):
        return None
    words = amount_words(applied.amount, applied.campaign.unit)
    return f"the reward of {words} would take the person's balance past the largest amount supported ({MAX_AMOUNT:,})"


def plan_earning(
    applied: Applied,
    fact: Fact,
    account: Account,
    *,
    new_account: bool,
    refused: str | None,
    reversal: dict[str, str] | None,
    now: datetime,
    event_ids: list[str],
) -> Earning:
    """The new reward and everything it books: earned; then declined (`refused`: no budget), or approved at once (and
    available, unless the campaign waits days), or left pending for an approver; then reversed when the source's
    win was already reversed (`reversal`). A reward larger than the whole budget or the per-partner cap is declined
    as it is earned and books nothing (it was never pending)."""
    campaign = applied.campaign
    reward = new_reward(applied, fact, now=now)
    automatic = isinstance(fact, ClaimFact) or applied.amount < campaign.auto_approve_below
    step = Step(reward, account, now=now, event_ids=event_ids)
    too_big = oversized(applied) or overflows(account, applied)
    committed = 0 if too_big else applied.amount
    if too_big:
        step.refuse(reason=too_big)
    else:
        step.earn(status="approved" if automatic and not refused else "pending")
    if refused and not too_big:
        step.decline(reason=refused, by=LEDGER_ACTOR)
        committed = 0
    elif automatic and not too_big:
        by = fact.approved_by if isinstance(fact, ClaimFact) else AUTOMATIC
        step.approve(
            by=by, automatic=not isinstance(fact, ClaimFact), available_after_days=campaign.available_after_days
        )
    if reversal is not None and step.reward.status != "declined":
        step.reverse(reason=reversal["reason"], by=reversal["reversed_by"])
        committed = 0
    status = step.reward.status
    return Earning(
        reward=step.reward,
        account=step.account,
        expected_revision=None,
        expected_seq=None if new_account else account.seq,
        entries=step.entries,
        events=step.events,
        schedule_available_at=step.reward.available_at if status == "approved" else None,
        outcome=f"{reward.reward_id}: {amount_words(applied.amount, campaign.unit)} {status}",
        committed=committed,
        budget=campaign.budget,
        per_partner_cap=campaign.per_partner_cap,
        reversed_at_once=reversal is not None,
        needs_approval=status == "pending",
    )


def refusal(per_partner: bool) -> str:
    return CAP_REACHED if per_partner else BUDGET_EXHAUSTED
