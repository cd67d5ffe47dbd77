"""Events published by partner rewards (source `prm.rewards`): rewards earned from facts (won deals, certifications,
approved claims), their approval and availability, and what people redeem them for (catalogue items and payouts).

An amount is in its campaign's `unit`: `points`, or an ISO currency in minor units. A reward's `source` names the fact
it was earned for (`deal` with its win revision, `certification`, or `claim`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.email import Email
from shared.events import EventDetail
from shared.money import Money

SOURCE = "prm.rewards"

SourceKind = Literal["deal", "certification", "claim"]


class RewardAmount(BaseModel):
    """An amount in a campaign's unit: points, or minor units of the currency named by `unit`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    amount: int = Field(ge=0, le=10**15, strict=True)
    unit: str = Field(pattern=r"^(points|[A-Z]{3})$")


class RewardSource(BaseModel):
    """The fact a reward was earned for: a won deal (and its win revision), a certification, or an approved claim."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: SourceKind
    id: str = Field(min_length=1, max_length=128)
    revision: int | None = Field(default=None, ge=1)  # a deal's win revision; None for the other kinds


class _RewardEvent(EventDetail):
    """Every reward event names the reward, its campaign, the person who earned it and the amount."""

    reward_id: str
    campaign_id: str
    person_email: Email
    amount: RewardAmount
    source: RewardSource


class RewardEarned(_RewardEvent):
    """A person earned a reward (pending approval, or approved at once below the campaign's auto-approval amount)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardEarned"

    rule_id: str
    status: Literal["pending", "approved"]
    fact_on: date


class RewardApproved(_RewardEvent):
    """The reward was approved (automatically below the campaign's threshold, or by an approver)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardApproved"

    approved_by: str
    automatic: bool
    available_at: UtcDateTime  # when it becomes redeemable (now, or after the campaign's waiting days)


class RewardHeld(_RewardEvent):
    """An approver put the reward on hold, with a reason; it is approved or declined later."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardHeld"

    reason: str = Field(max_length=500)
    held_by: str


class RewardHoldReleased(_RewardEvent):
    """Vendor staff released a held reward: it is pending again and goes back to the approver (a new approval
    request when the one it was held under has lapsed, `approval_restarted`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardHoldReleased"

    released_by: str
    approval_restarted: bool


class RewardDeclined(_RewardEvent):
    """The reward was declined (by an approver, or because the campaign's budget or per-partner cap was spent)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardDeclined"

    reason: str = Field(max_length=500)
    declined_by: str


class RewardReversed(_RewardEvent):
    """The fact behind the reward was withdrawn (a deal's win reversed): the amount leaves the bucket it was in,
    which may take the available balance below zero when it was already spent."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardReversed"

    reason: str = Field(max_length=500)
    reversed_by: str
    from_status: Literal["pending", "on_hold", "approved", "available", "paid"]


class RewardAvailable(_RewardEvent):
    """The approved reward can now be redeemed."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardAvailable"

    available_at: UtcDateTime


class RewardPaid(_RewardEvent):
    """The reward's whole amount has gone out to its person: payouts paid and catalogue items fulfilled are spent
    from the person's balance oldest reward first, so a reward is paid once what was spent covers it (`paid_at`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardPaid"

    paid_at: UtcDateTime


class RedemptionRequested(EventDetail):
    """A person redeemed part of their available balance: a payout in a currency, or a catalogue item for points."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RedemptionRequested"

    redemption_id: str
    person_email: Email
    kind: Literal["payout", "item"]
    amount: RewardAmount
    item_id: str | None = None  # the catalogue item, for kind "item"


class RedemptionFulfilled(EventDetail):
    """A vendor admin delivered the catalogue item (the points are spent)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RedemptionFulfilled"

    redemption_id: str
    person_email: Email
    item_id: str
    amount: RewardAmount
    fulfilled_by: str


class RedemptionCancelled(EventDetail):
    """The redemption was cancelled or its payout rejected: the amount is available again."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RedemptionCancelled"

    redemption_id: str
    person_email: Email
    amount: RewardAmount
    reason: str = Field(max_length=500)
    cancelled_by: str


class PayoutApproved(EventDetail):
    """Finance approved a payout redemption; it joins the next payout batch."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PayoutApproved"

    redemption_id: str
    person_email: Email
    amount: Money
    approved_by: str


class PayoutHeld(EventDetail):
    """A payout waits (e.g. "tax form required") until the reason is resolved."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PayoutHeld"

    redemption_id: str
    person_email: Email
    amount: Money
    reason: str = Field(max_length=500)


class PayoutPaid(EventDetail):
    """The payout was paid in a payout batch."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PayoutPaid"

    redemption_id: str
    batch_id: str
    person_email: Email
    amount: Money
    paid_at: UtcDateTime


class RewardClaimSubmitted(EventDetail):
    """A person filed a SPIFF claim with its proof, or resubmitted a returned one with more (`round` counts the
    submissions, from 1): the claim is in review, and this starts its review (once per claim and round)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "RewardClaimSubmitted"

    claim_id: str
    person_email: Email
    campaign_id: str
    rule_id: str
    round: int = Field(ge=1)
    amount: RewardAmount  # what the rule pays once the claim is approved


REWARD_EVENTS: tuple[type[EventDetail], ...] = (
    RewardEarned,
    RewardApproved,
    RewardHeld,
    RewardHoldReleased,
    RewardDeclined,
    RewardReversed,
    RewardAvailable,
    RewardPaid,
    RedemptionRequested,
    RedemptionFulfilled,
    RedemptionCancelled,
    PayoutApproved,
    PayoutHeld,
    PayoutPaid,
    RewardClaimSubmitted,
)
