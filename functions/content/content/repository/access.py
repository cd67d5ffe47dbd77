"""The partner projection's DynamoDB adapter (B, `content.ports.PartnerDirectory`): `PARTNER#<pid>` / `PROFILE` and
`TIER` (newest wins, by `onboarded_at` and `effective_at`), and the tier ladders (`LADDER` / `<date>#<version>`).
Access reads them live at every request: one BatchGet for the partner, one Query of at most a few items for the
ladder in force. No Scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from content.models.partners import LadderVersion, PartnerProfile, PartnerTier, PartnerView
from content.repository import keys
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table, from_item, values

LADDER_PAGE = 5  # withdrawn versions are skipped: a few per Query, more Queries only behind several withdrawals


class PartnersRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- writes (the consumer)
    def save_profile(self, profile: PartnerProfile) -> bool:
        pk, sk = keys.partner_profile(profile.partner_id)
        item = {"pk": pk, "sk": sk, "entity": "partner_profile"} | profile.model_dump(mode="json")
        return self.table.put_newer(item, order="onboarded_at", value=iso(profile.onboarded_at))

    def save_tier(self, tier: PartnerTier) -> bool:
        pk, sk = keys.partner_tier(tier.partner_id)
        item = {"pk": pk, "sk": sk, "entity": "partner_tier"} | tier.model_dump(mode="json")
        return self.table.put_newer(item, order="effective_at", value=iso(tier.effective_at))

    def add_ladder(self, version: LadderVersion) -> bool:
        """False when the version is known already, or was withdrawn first (its tombstone stays)."""
        pk, sk = keys.ladder(version.effective_from.isoformat(), version.version_id)
        try:
            self.table.put_new({"pk": pk, "sk": sk, "entity": "ladder"} | version.model_dump(mode="json"))
        except ConditionFailed:
            return False
        return True

    def withdraw_ladder(self, version_id: str, effective_from: str) -> None:
        """Mark the version withdrawn, whether its addition arrived or not (an upsert of one flag)."""
        pk, sk = keys.ladder(effective_from, version_id)
        self.table._client.update_item(
            TableName=self.table.name,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="SET withdrawn = :yes, version_id = :id, effective_from = :day, entity = :entity",
            ExpressionAttributeValues=values(
                {":yes": True, ":id": version_id, ":day": effective_from, ":entity": "ladder"}
            ),
        )

    # ------------------------------------------------------------- reads (access, every request)
    def partner(self, partner_id: str) -> PartnerView:
        found = {
            i["sk"]: i for i in self.table.get_many([keys.partner_profile(partner_id), keys.partner_tier(partner_id)])
        }
        view: dict[str, Any] = {"partner_id": partner_id}
        if profile := found.get(keys.PROFILE_SK):
            view |= {
                "status": profile.get("status", "active"),
                "region": profile.get("region"),
                "partner_type": profile.get("partner_type"),
                "company_name": profile.get("company_name"),
            }
        if tier := found.get(keys.TIER_SK):
            view["tier_id"] = tier.get("tier_id")
        return PartnerView.model_validate(view)

    def profile(self, partner_id: str) -> PartnerProfile | None:
        item = self.table.get(*keys.partner_profile(partner_id))
        return PartnerProfile.model_validate(item) if item else None

    def ladder_in_force(self, now: datetime) -> LadderVersion | None:
        """The latest version dated on or before `now`'s day that is not withdrawn (Query backwards from today)."""
        high = f"{now.date().isoformat()}#~"
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table.name,
                "KeyConditionExpression": "pk = :pk AND sk <= :high",
                "ExpressionAttributeValues": values({":pk": keys.LADDER, ":high": high}),
                "ScanIndexForward": False,
                "Limit": LADDER_PAGE,
                "ConsistentRead": True,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self.table._client.query(**kwargs)
            for item in answer.get("Items", []):
                version = from_item(item)
                if not version.get("withdrawn") and version.get("tiers"):
                    return LadderVersion.model_validate(version)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return None
