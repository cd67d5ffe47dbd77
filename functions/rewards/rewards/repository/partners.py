"""The partner projection's DynamoDB adapter (`rewards.ports.PartnersRepository`): `PARTNER#<pid> / PROFILE` and
`PARTNER#<pid> / TIER#<effective_at>`. RewardsPartnersFunction imports this module alone (no rewards contracts)."""

from __future__ import annotations

from rewards.models.earning import PartnerProfile, TierPeriod
from rewards.repository import keys
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table


class PartnersRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def save_profile(self, profile: PartnerProfile) -> bool:
        pk, sk = keys.profile(profile.partner_id)
        item = {"pk": pk, "sk": sk, "entity": "partner"} | profile.model_dump(mode="json")
        return self.table.put_newer(item, order="onboarded_at", value=iso(profile.onboarded_at))

    def save_tier_period(self, period: TierPeriod) -> bool:
        pk, sk = keys.tier_period(period.partner_id, period.effective_at)
        try:
            self.table.put_new({"pk": pk, "sk": sk, "entity": "tier_period"} | period.model_dump(mode="json"))
        except ConditionFailed:
            return False
        return True
