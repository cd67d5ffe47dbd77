"""The partner projection (B) and the access rule as other parts of content call it.

`PartnerProjectionService` keeps, from the consumer's events, where a partner is and what it is (PartnerOnboarded:
region from the country, partner type, company name and contact for the brand profile's defaults), its current tier
(PartnerTierChanged, the newest `effective_at` wins) and the programme's ladders (TierProgrammeVersionAdded /
Withdrawn). `PartnerAccess` is the adapter of `content.ports.AssetAccess` A's GET /content/assets/{id} uses, and
`Gatekeeper` what B's own routes use: both read the projection live at each call, so a demotion revokes at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from content.domain.access import may_see, visible_bands
from content.models.assets import Asset
from content.models.partners import LadderTier, LadderVersion, PartnerProfile, PartnerTier, PartnerView
from content.ports import PartnerDirectory
from content.repository.access import PartnersRepository
from shared.clock import utc_now
from shared.countries import region_of


@dataclass(frozen=True)
class PartnerProjectionService:
    directory: PartnerDirectory

    def onboarded(
        self,
        *,
        partner_id: str,
        company_name: str,
        domain: str,
        country: str,
        partner_type: str,
        contact_name: str,
        contact_email: str,
        onboarded_at: datetime,
    ) -> str:
        profile = PartnerProfile(
            partner_id=partner_id,
            company_name=company_name,
            domain=domain,
            country=country.upper(),
            region=region_of(country),
            partner_type=partner_type,
            contact_name=contact_name,
            contact_email=contact_email,
            onboarded_at=onboarded_at,
        )
        saved = self.directory.save_profile(profile)
        return f"partner {partner_id} in {profile.region}" + ("" if saved else ": a newer profile is kept")

    def tier_changed(
        self, *, partner_id: str, tier_id: str, tier_name: str, effective_at: datetime, event_id: str
    ) -> str:
        tier = PartnerTier(
            partner_id=partner_id, tier_id=tier_id, tier_name=tier_name, effective_at=effective_at, event_id=event_id
        )
        saved = self.directory.save_tier(tier)
        return f"partner {partner_id} {tier_id} from {effective_at.isoformat()}" + ("" if saved else " (older: kept)")

    def ladder_added(self, *, version_id: str, effective_from: date, tiers: list[tuple[str, str, int]]) -> str:
        version = LadderVersion(
            version_id=version_id,
            effective_from=effective_from,
            tiers=[LadderTier(tier_id=t, name=n, rank=r) for t, n, r in tiers],
        )
        added = self.directory.add_ladder(version)
        return f"ladder {version_id} from {effective_from.isoformat()}" + ("" if added else " already known")

    def ladder_withdrawn(self, *, version_id: str, effective_from: date) -> str:
        self.directory.withdraw_ladder(version_id, effective_from.isoformat())
        return f"ladder {version_id} withdrawn"


@dataclass
class Gatekeeper:
    """The live access rule on the projection: the partner's view and the ladder in force, read at each call."""

    directory: PartnerDirectory
    clock: Callable[[], datetime] = field(default=utc_now)

    def standing(self, partner_id: str, now: datetime | None = None) -> tuple[PartnerView, LadderVersion | None]:
        now = now or self.clock()
        return self.directory.partner(partner_id), self.directory.ladder_in_force(now)

    def refusal(self, asset: Asset, partner_id: str, now: datetime) -> str | None:
        partner, ladder = self.standing(partner_id, now)
        return may_see(asset, partner, ladder, now)

    def bands(self, partner_id: str, now: datetime) -> list[str]:
        partner, ladder = self.standing(partner_id, now)
        return visible_bands(partner, ladder)


class PartnerAccess:
    """`content.ports.AssetAccess` for A's routes: None when the partner may see the asset, else the reason."""

    def __init__(self, table_name: str) -> None:
        self.gate = Gatekeeper(PartnersRepository(table_name))

    def may_see(self, asset: Asset, partner_id: str, now: datetime) -> str | None:
        return self.gate.refusal(asset, partner_id, now)

    def tier_problem(self, tier_id: str, now: datetime) -> str | None:
        ladder = self.gate.directory.ladder_in_force(now)
        if ladder is None:
            return "no tier programme is in force yet, so no partner could reach a minimum tier"
        known = [t.tier_id for t in ladder.tiers]
        return None if tier_id in known else f"not a tier of the programme in force ({', '.join(known)})"
