"""The partner projection (RewardsPartnersFunction): where a partner is and what it is, and its tier history, so
eligibility is judged on the partner as it was when a fact happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewards.models.earning import PartnerProfile, TierPeriod
from rewards.ports import PartnersRepository
from shared.countries import region_of


@dataclass(frozen=True)
class PartnerProjectionService:
    repository: PartnersRepository

    def onboarded(
        self,
        *,
        partner_id: str,
        country: str,
        partner_type: str,
        onboarded_at: datetime,
        company_name: str | None = None,
    ) -> str:
        profile = PartnerProfile(
            partner_id=partner_id,
            company_name=company_name,
            country=country,
            region=region_of(country),
            partner_type=partner_type,
            onboarded_at=onboarded_at,
        )
        saved = self.repository.save_profile(profile)
        return (
            f"partner {partner_id} in {profile.region}" if saved else f"partner {partner_id}: a newer profile is kept"
        )

    def tier_changed(self, *, partner_id: str, tier_id: str, effective_at: datetime, event_id: str) -> str:
        period = TierPeriod(partner_id=partner_id, tier_id=tier_id, effective_at=effective_at, event_id=event_id)
        saved = self.repository.save_tier_period(period)
        return f"partner {partner_id} {tier_id} from {effective_at.isoformat()}" + ("" if saved else " (already known)")
