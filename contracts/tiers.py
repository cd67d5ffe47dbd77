"""Events published by the partner programme's tiers (source `prm.tiers`).

Tiers are named by their id (a lower-case slug such as `registered`, `silver`, `gold`); `rank` orders them (0 is the
entry tier). Every event names the criteria version it was judged by, so history is never rewritten."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.events import EventDetail

SOURCE = "prm.tiers"
ALL_PARTNERS = (
    "*"  # the `partner_id` of a programme-wide event: it concerns no one partner (as onboarding's ALL_PARTNERS)
)


class TierRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    tier_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=80)
    rank: int = Field(ge=0, le=100)


class PartnerTierChanged(EventDetail):
    """The partner's tier changed (`direction`: its first tier, an upgrade, or a downgrade after its grace period)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerTierChanged"

    previous: TierRef | None
    tier: TierRef
    direction: Literal["initial", "upgrade", "downgrade"]
    reason: str = Field(max_length=500)
    criteria_version: str
    approved_by: str | None = None  # the channel team member who approved an upgrade, None when automatic
    effective_at: UtcDateTime


class PartnerTierGracePeriodStarted(EventDetail):
    """The partner no longer meets its tier's criteria: it keeps the tier until `ends_on`, then drops to `would_become`
    unless it meets them again."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerTierGracePeriodStarted"

    tier: TierRef
    would_become: TierRef
    missing: list[str] = Field(max_length=20)
    criteria_version: str
    ends_on: date


class PartnerTierGracePeriodEnded(EventDetail):
    """A grace period ended: the partner met the criteria again (`met_again`), or was downgraded (`downgraded`, with a
    `PartnerTierChanged`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerTierGracePeriodEnded"

    tier: TierRef
    outcome: Literal["met_again", "downgraded"]
    ended_at: UtcDateTime


class TierUpgradeRequested(EventDetail):
    """The partner qualifies for a higher tier that the channel team approves by email (approval by people)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "TierUpgradeRequested"

    upgrade_id: str
    current: TierRef
    proposed: TierRef
    criteria_version: str


class TierProgrammeVersionAdded(EventDetail):
    """A vendor admin added a criteria version: its tiers, in rank order (`rank` 0 is the entry tier), apply from 00:00
    UTC of `effective_from` until the next version's date. Programme-wide: `partner_id` is `*`. Other contexts keep the
    ladder from it (content ranks an asset's minimum tier against a partner's tier in the ladder in force)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "TierProgrammeVersionAdded"

    version_id: str = Field(min_length=1, max_length=40)
    effective_from: date
    tiers: list[TierRef] = Field(min_length=1, max_length=20)


class TierProgrammeVersionWithdrawn(EventDetail):
    """A criteria version announced for later was withdrawn before it applied: it never applies (its date is free for
    a corrected one). Programme-wide: `partner_id` is `*`."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "TierProgrammeVersionWithdrawn"

    version_id: str = Field(min_length=1, max_length=40)
    effective_from: date


TIER_EVENTS: tuple[type[EventDetail], ...] = (
    PartnerTierChanged,
    PartnerTierGracePeriodStarted,
    PartnerTierGracePeriodEnded,
    TierUpgradeRequested,
    TierProgrammeVersionAdded,
    TierProgrammeVersionWithdrawn,
)
