"""Who may see an asset (B): one rule for every route that touches an asset, a kit or their bytes (pure).

`may_see(asset, partner, ladder, now)` answers None when the partner may see the asset, else the reason (for the
logs; the API answers 404 either way, never revealing that the asset exists). It holds when the asset is `ready` and
published, `publish_at <= now < expires_at`, the partner is active, its region and type are in the audience (an empty
list: everyone), and its current tier ranks at or above the audience's minimum tier in the ladder in force now (ranks
from that one ladder for both sides; an unknown tier, or no ladder at all, is refused when a minimum tier is set).
Vendor admins see everything: callers check the role before asking."""

from __future__ import annotations

from datetime import datetime

from content.models.assets import Asset
from content.models.common import Audience
from content.models.partners import LadderVersion, PartnerView

ALL_BAND = "ALL"  # the search band of assets with no minimum tier


def rank_of(ladder: LadderVersion | None, tier_id: str | None) -> int | None:
    """The tier's rank in the ladder (None: no ladder, no tier, or a tier the ladder does not name)."""
    if ladder is None or tier_id is None:
        return None
    return next((t.rank for t in ladder.tiers if t.tier_id == tier_id), None)


def tier_name(ladder: LadderVersion | None, tier_id: str | None) -> str | None:
    if ladder is None or tier_id is None:
        return None
    return next((t.name for t in ladder.tiers if t.tier_id == tier_id), None)


def audience_refusal(audience: Audience, partner: PartnerView | None, ladder: LadderVersion | None) -> str | None:
    """The audience half of the rule (kits use it too): None when the partner is in the audience."""
    if partner is None or partner.status is None:
        return "partner unknown to the content projection"
    if partner.status != "active":
        return f"partner status {partner.status}"
    if audience.regions and partner.region not in audience.regions:
        return f"region {partner.region} not in {','.join(audience.regions)}"
    if audience.partner_types and partner.partner_type not in audience.partner_types:
        return f"partner type {partner.partner_type} not in {','.join(audience.partner_types)}"
    return tier_refusal(audience.min_tier_id, partner.tier_id, ladder)


def tier_refusal(min_tier_id: str | None, tier_id: str | None, ladder: LadderVersion | None) -> str | None:
    """Ranks from the ladder in force for both sides; unknown on either side refuses when a minimum is set."""
    if min_tier_id is None:
        return None
    needed = rank_of(ladder, min_tier_id)
    if needed is None:
        return f"minimum tier {min_tier_id} not in the ladder in force"
    held = rank_of(ladder, tier_id)
    if held is None:
        return f"partner tier {tier_id or 'none'} not in the ladder in force"
    if held < needed:
        return f"tier {tier_id} below {min_tier_id}"
    return None


def live_refusal(asset: Asset, now: datetime) -> str | None:
    """The asset's own half: ready, published, within its dates (never waiting for a timer)."""
    if asset.status != "ready" or asset.current is None or asset.current_version < 1:
        return f"asset status {asset.status}"
    if not asset.published:
        return "asset not published yet"
    if now < asset.publish_at:
        return "before publish_at"
    if asset.expires_at is not None and now >= asset.expires_at:
        return "expired"
    return None


def may_see(asset: Asset, partner: PartnerView | None, ladder: LadderVersion | None, now: datetime) -> str | None:
    return live_refusal(asset, now) or audience_refusal(asset.audience, partner, ladder)


def visible_bands(partner: PartnerView | None, ladder: LadderVersion | None) -> list[str]:
    """The search bands (posting partitions) a partner may read: every asset with no minimum tier, and those whose
    minimum tier ranks at or below the partner's in the ladder in force. A Silver partner never reads Gold postings."""
    if partner is None or partner.status != "active":
        return []
    held = rank_of(ladder, partner.tier_id)
    if ladder is None or held is None:
        return [ALL_BAND]
    return [ALL_BAND, *(t.tier_id for t in sorted(ladder.tiers, key=lambda t: t.rank) if t.rank <= held)]


def band_of(audience: Audience) -> str:
    return audience.min_tier_id or ALL_BAND
