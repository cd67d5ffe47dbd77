"""The earning half of rewards: campaigns and their rules, rewards, people's accounts and their ledger entries, the
partner projection (region, type, tier history) and the earning workflow messages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from rewards.models.common import (
    Amount,
    Description,
    Name,
    PositiveAmount,
    Reason,
    Record,
    Strict,
    Unit,
)
from shared.clock import TimerTime, UtcDateTime
from shared.email import Email
from shared.money import CurrencyCode

Region = Literal["AMER", "EMEA", "APAC"]
PartnerType = Literal["reseller", "distributor", "isv", "referral"]
TierId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
CertificationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
CampaignStatus = Literal["open", "closed"]
RewardStatus = Literal["pending", "on_hold", "approved", "available", "paid", "declined", "reversed"]
SourceKind = Literal["deal", "certification", "claim"]
# Ledger entry kinds (domain/ledger.py moves the buckets for each)
EntryKind = Literal[
    "earned",
    "held",
    "unheld",
    "approved",
    "made_available",
    "declined",
    "reversed",
    "redeemed",
    "redemption_released",
    "paid",
]
Bucket = Literal["pending", "on_hold", "approved", "available", "reserved", "paid", "declined", "reversed", "earned"]


# ------------------------------------------------------------------ campaigns and rules
class Eligibility(Strict):
    """Who a campaign is open to; an empty list means everyone on that axis."""

    tiers: list[TierId] = Field(default_factory=list, max_length=20)
    regions: list[Region] = Field(default_factory=list, max_length=3)
    partner_types: list[PartnerType] = Field(default_factory=list, max_length=4)


class _Rule(Strict):
    rule_id: RuleId | None = None  # assigned at creation (r1, r2, ...) when not given; stable afterwards


class DealWonFixed(_Rule):
    kind: Literal["deal_won_fixed"]
    amount: PositiveAmount


class DealWonPerSku(_Rule):
    kind: Literal["deal_won_per_sku"]
    sku: Sku
    amount: PositiveAmount


class DealWonPerThousand(_Rule):
    kind: Literal["deal_won_per_thousand"]
    currency: CurrencyCode
    amount_per_thousand: PositiveAmount


class CertificationEarnedRule(_Rule):
    kind: Literal["certification_earned"]
    certification_id: CertificationId
    amount: PositiveAmount


class SpiffClaim(_Rule):
    kind: Literal["spiff_claim"]
    amount: PositiveAmount
    description: Annotated[Description, StringConstraints(min_length=1)]


AnyRule = DealWonFixed | DealWonPerSku | DealWonPerThousand | CertificationEarnedRule | SpiffClaim
Rule = Annotated[AnyRule, Field(discriminator="kind")]
DEAL_RULES = frozenset({"deal_won_fixed", "deal_won_per_sku", "deal_won_per_thousand"})


class CampaignBody(Strict):
    """POST /rewards/campaigns (vendor admin)."""

    name: Name
    description: Description = ""
    starts_on: date
    ends_on: date
    unit: Unit
    eligibility: Eligibility = Field(default_factory=Eligibility)
    budget: PositiveAmount
    per_partner_cap: PositiveAmount | None = None
    auto_approve_below: Amount = 0
    available_after_days: int = Field(default=0, ge=0, le=365, strict=True)
    rules: list[Rule] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> CampaignBody:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        ids = [rule.rule_id for rule in self.rules if rule.rule_id]
        if len(ids) != len(set(ids)):
            raise ValueError("rules: each rule_id may appear once")
        return self


class CampaignPatch(Strict):
    """PATCH /rewards/campaigns/{id}: the fields given change; rules only before the campaign starts."""

    name: Name | None = None
    description: Description | None = None
    ends_on: date | None = None
    eligibility: Eligibility | None = None
    budget: PositiveAmount | None = None
    per_partner_cap: PositiveAmount | None = None
    auto_approve_below: Amount | None = None
    available_after_days: int | None = Field(default=None, ge=0, le=365, strict=True)
    rules: list[Rule] | None = Field(default=None, min_length=1, max_length=20)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value


class CampaignClose(Strict):
    """POST /rewards/campaigns/{id}/close: an empty JSON object (every POST carries one; nothing to choose)."""


class Campaign(Record):
    campaign_id: str
    name: str
    description: str = ""
    starts_on: date
    ends_on: date
    unit: str
    eligibility: Eligibility
    budget: int
    per_partner_cap: int | None = None
    auto_approve_below: int = 0
    available_after_days: int = 0
    rules: list[Rule]
    status: CampaignStatus = "open"
    committed: int = 0  # sum of the campaign's rewards that are neither declined nor reversed
    revision: int = 1
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    closed_at: UtcDateTime | None = None

    def rule(self, rule_id: str) -> AnyRule | None:
        return next((rule for rule in self.rules if rule.rule_id == rule_id), None)


class PartnerCommitment(Record):
    """`CAMPAIGN#id / PARTNER#pid`: what one partner's people committed of a campaign (the per-partner cap)."""

    campaign_id: str
    partner_id: str
    committed: int = 0


# ------------------------------------------------------------------ the partner projection
class PartnerProfile(Record):
    """From PartnerOnboarded: where the partner is (region from country) and what kind of partner it is."""

    partner_id: str
    company_name: str | None = None  # for people (the payout file's rows); profiles saved before it have none
    country: str
    region: Region
    partner_type: PartnerType
    onboarded_at: UtcDateTime


class TierPeriod(Record):
    """From PartnerTierChanged: the partner's tier from `effective_at` (until the next one)."""

    partner_id: str
    tier_id: str
    effective_at: UtcDateTime
    event_id: str


class PartnerAt(Record):
    """What eligibility is judged on: the partner as it was at the fact's time (tier None before any tier)."""

    partner_id: str
    region: Region | None = None
    partner_type: PartnerType | None = None
    tier_id: str | None = None


# ------------------------------------------------------------------ rewards
class Source(Record):
    """The fact a reward is for; `revision` is a deal's win revision; `label` what people know it by (a deal's
    prospect company, a certification's name; None when the fact did not say, e.g. events published before)."""

    kind: SourceKind
    id: str
    revision: int | None = None
    label: str | None = None
    description: str = ""  # for people: "Deal with Acme won" ("Deal d_123 won" without a label), "Certification X"


class CertificationName(Record):
    """`CERTIFICATION#<id> / NAME`: from training's CertificationDefined, the name rules of that certification say."""

    certification_id: str
    certification_name: str
    defined_at: UtcDateTime


class StatusChange(Record):
    status: RewardStatus
    reason: str | None = None
    at: UtcDateTime
    by: str


class Reward(Record):
    reward_id: str
    campaign_id: str
    campaign_name: str
    rule_id: str
    rule_words: str  # the rule in plain words, as it was applied
    partner_id: str
    person_email: Email
    unit: str
    amount: int
    source: Source
    fact_at: UtcDateTime
    status: RewardStatus
    status_reason: str | None = None
    status_at: UtcDateTime
    history: list[StatusChange] = Field(default_factory=list)
    earned_at: UtcDateTime
    available_at: UtcDateTime | None = None  # when an approved reward becomes available (set on approval)
    paid_amount: int = 0  # how much of it payouts and fulfilled items have spent (oldest reward first)
    paid_at: UtcDateTime | None = None  # when all of it was spent (status paid)
    approval_requested: bool = False  # the approval workflow was started
    approval_round: int = 1  # which approval request decides it (a released hold whose approval lapsed asks again)
    approval_lapsed: bool = False  # the current round's approval ended undecided while the reward was on hold
    revision: int = 1


class RewardHold(Strict):
    """POST /rewards/{reward_id}/hold (vendor approver)."""

    reason: Reason


class RewardRelease(Strict):
    """POST /rewards/{reward_id}/release (vendor admin): an empty object (or no body); nothing to choose."""


class RewardDecline(Strict):
    """POST /rewards/{reward_id}/decline (vendor admin, a reward on hold): the reason is shown to the partner."""

    reason: Reason


ListableStatus = Literal["pending", "on_hold", "approved", "declined"]


# ------------------------------------------------------------------ accounts and the ledger
class EntryReference(Record):
    type: Literal["reward", "redemption", "payout"]
    id: str


class Account(Record):
    """One person's balance in one unit at one partner: the buckets, kept with the ledger's length (`seq`)."""

    partner_id: str
    person_email: Email
    unit: str
    pending: int = 0
    on_hold: int = 0
    approved: int = 0
    available: int = 0  # may be negative only after a reversal of something already spent
    reserved: int = 0
    paid: int = 0
    declined: int = 0
    reversed: int = 0
    earned: int = 0
    seq: int = 0
    updated_at: UtcDateTime | None = None

    @property
    def account_id(self) -> str:
        return f"{self.partner_id}#{self.person_email}#{self.unit}"


class Settlement(Record):
    """How much of an account's `paid` bucket has been spread over its rewards (oldest available first): what was
    spent but not yet spread is `account.paid - settled`."""

    partner_id: str
    person_email: Email
    unit: str
    settled: int = 0


class Balances(Record):
    """The buckets after one entry (every entry carries the running balance)."""

    pending: int
    on_hold: int
    approved: int
    available: int
    reserved: int
    paid: int
    declined: int
    reversed: int
    earned: int


class LedgerEntry(Record):
    partner_id: str
    person_email: Email
    unit: str
    seq: int
    kind: EntryKind
    amount: int
    bucket: Bucket | None = None  # the bucket an approval, decline or reversal took the amount from
    at: UtcDateTime
    reference: EntryReference
    actor: str
    note: str = ""
    balance: Balances


# ------------------------------------------------------------------ earning workflow messages
class RewardDecision(Strict):
    """From the reward approval state machine: the approver's decision by email link (or the expiry)."""

    message_type: Literal["RewardDecision"]
    reward_id: str
    decision: Literal["approved", "rejected"]
    decided_by: str
    reason: str | None = None
    decided_at: UtcDateTime


class RewardApprovalExpired(Strict):
    """From the reward approval state machine: nobody decided in time (the reward is declined, saying so)."""

    message_type: Literal["RewardApprovalExpired"]
    reward_id: str


class RewardAvailableDue(Strict):
    """A one-time timer: an approved reward's waiting days are over."""

    message_type: Literal["RewardAvailableDue"]
    reward_id: str
    due_at: TimerTime


# ------------------------------------------------------------------ answers
class AccountBalance(Record):
    unit: str
    available: int
    pending: int
    on_hold: int
    approved: int
    reserved: int
    paid: int


class PersonTotals(Record):
    person_email: str
    unit: str
    earned: int
    available: int
    pending: int
    on_hold: int
    approved: int
    reserved: int
    paid: int
    reversed: int
    declined: int
