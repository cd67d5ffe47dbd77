"""Content's projection of the partners (B): who a partner is (region, type, status, the brand profile's defaults),
its current tier, and the programme's tier ladder, kept from onboarding's and tiers' events. Access reads these live
at every request, so a demotion or a new ladder applies at once."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from content.models.common import PartnerType, Record, Region
from shared.clock import UtcDateTime


class PartnerProfile(Record):
    """`PARTNER#<pid>` / `PROFILE` (PartnerOnboarded; the newest `onboarded_at` wins)."""

    partner_id: str
    company_name: str
    domain: str = ""
    country: str
    region: Region
    partner_type: PartnerType
    status: str = "active"
    contact_name: str = ""
    contact_email: str = ""
    onboarded_at: UtcDateTime


class PartnerTier(Record):
    """`PARTNER#<pid>` / `TIER` (PartnerTierChanged; the newest `effective_at` wins). The rank is NOT kept: ranks come
    from the ladder in force when access is judged, for the partner and the asset alike."""

    partner_id: str
    tier_id: str
    tier_name: str
    effective_at: UtcDateTime
    event_id: str


class LadderTier(Record):
    tier_id: str
    name: str
    rank: int


class LadderVersion(Record):
    """`LADDER` / `<effective_from>#<version_id>` (TierProgrammeVersionAdded; a withdrawal marks it `withdrawn`, even
    when it arrives first). The version in force is the latest whose date has come and that is not withdrawn."""

    version_id: str
    effective_from: date
    tiers: list[LadderTier] = Field(default_factory=list)
    withdrawn: bool = False


class PartnerView(Record):
    """What access is judged on: the partner's profile and current tier together (either may be missing)."""

    partner_id: str
    status: str | None = None  # None: never onboarded in this projection (refused)
    region: Region | None = None
    partner_type: PartnerType | None = None
    tier_id: str | None = None
    company_name: str | None = None
