"""The access rule (content.domain.access): every axis refuses on its own, and only everything together allows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from content.domain.access import (
    ALL_BAND,
    audience_refusal,
    band_of,
    may_see,
    rank_of,
    tier_name,
    visible_bands,
)
from content.models.assets import Asset, AssetVersion
from content.models.common import Audience
from content.models.partners import LadderTier, LadderVersion, PartnerView

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
LADDER = LadderVersion(
    version_id="v1",
    effective_from=date(2026, 1, 1),
    tiers=[
        LadderTier(tier_id="registered", name="Registered", rank=0),
        LadderTier(tier_id="silver", name="Silver", rank=1),
        LadderTier(tier_id="gold", name="Gold", rank=2),
    ],
)


def asset(**changes: Any) -> Asset:
    version = AssetVersion(
        asset_id="ast_" + "a" * 24,
        number=1,
        file_name="guide.pdf",
        content_type="application/pdf",
        size_bytes=10,
        status="ready",
        s3_key="assets/x/1/guide.pdf",
        s3_version_id="v",
        uploaded_by="vendor@example.com",
        created_at=NOW - timedelta(days=2),
    )
    base: dict[str, Any] = {
        "asset_id": "ast_" + "a" * 24,
        "title": "Guide",
        "type": "document",
        "language": "en",
        "audience": Audience(min_tier_id="silver", regions=["EMEA"], partner_types=["reseller"]),
        "publish_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=1),
        "status": "ready",
        "published": True,
        "current_version": 1,
        "current": version,
        "created_by": "vendor@example.com",
        "created_at": NOW - timedelta(days=2),
        "updated_at": NOW - timedelta(days=2),
    }
    return Asset.model_validate(base | changes)


def partner(**changes: Any) -> PartnerView:
    base: dict[str, Any] = {
        "partner_id": "prt_1",
        "status": "active",
        "region": "EMEA",
        "partner_type": "reseller",
        "tier_id": "silver",
    }
    return PartnerView.model_validate(base | changes)


def test_everything_in_place_allows() -> None:
    assert may_see(asset(), partner(), LADDER, NOW) is None
    assert may_see(asset(), partner(tier_id="gold"), LADDER, NOW) is None  # above the minimum


@pytest.mark.parametrize(
    ("asset_changes", "partner_changes", "ladder", "reason"),
    [
        ({"status": "expired"}, {}, LADDER, "asset status expired"),
        ({"status": "processing"}, {}, LADDER, "asset status processing"),
        ({"current": None, "current_version": 0}, {}, LADDER, "asset status ready"),
        ({"published": False}, {}, LADDER, "asset not published yet"),
        ({"publish_at": NOW + timedelta(seconds=1)}, {}, LADDER, "before publish_at"),
        ({"expires_at": NOW}, {}, LADDER, "expired"),  # the expiry instant itself is out
        ({}, {"status": None}, LADDER, "partner unknown to the content projection"),
        ({}, {"status": "suspended"}, LADDER, "partner status suspended"),
        ({}, {"region": "AMER"}, LADDER, "region AMER not in EMEA"),
        ({}, {"region": None}, LADDER, "region None not in EMEA"),
        ({}, {"partner_type": "isv"}, LADDER, "partner type isv not in reseller"),
        ({}, {"tier_id": "registered"}, LADDER, "tier registered below silver"),
        ({}, {"tier_id": None}, LADDER, "partner tier none not in the ladder in force"),
        ({}, {"tier_id": "platinum"}, LADDER, "partner tier platinum not in the ladder in force"),
        ({}, {}, None, "minimum tier silver not in the ladder in force"),
        (
            {"audience": Audience(min_tier_id="diamond")},
            {},
            LADDER,
            "minimum tier diamond not in the ladder in force",
        ),
    ],
)
def test_each_axis_refuses_on_its_own(
    asset_changes: dict[str, Any], partner_changes: dict[str, Any], ladder: LadderVersion | None, reason: str
) -> None:
    assert may_see(asset(**asset_changes), partner(**partner_changes), ladder, NOW) == reason


def test_no_partner_at_all_is_refused() -> None:
    assert may_see(asset(), None, LADDER, NOW) == "partner unknown to the content projection"


def test_empty_audience_lists_mean_everyone_and_no_minimum_needs_no_ladder() -> None:
    open_asset = asset(audience=Audience())
    for region, kind, tier in [
        ("AMER", "isv", None),
        ("APAC", "distributor", "platinum"),
        ("EMEA", "referral", "gold"),
    ]:
        assert may_see(open_asset, partner(region=region, partner_type=kind, tier_id=tier), None, NOW) is None
    assert audience_refusal(Audience(regions=["APAC", "AMER"]), partner(region="AMER"), None) is None


def test_ranks_come_from_the_ladder_in_force_for_both_sides() -> None:
    """A new ladder that puts silver above gold changes who sees what at once (ranks are never the event's)."""
    flipped = LadderVersion(
        version_id="v2",
        effective_from=date(2026, 6, 1),
        tiers=[
            LadderTier(tier_id="registered", name="Registered", rank=0),
            LadderTier(tier_id="gold", name="Gold", rank=1),
            LadderTier(tier_id="silver", name="Silver", rank=2),
        ],
    )
    gold_asset = asset(audience=Audience(min_tier_id="gold"))
    assert may_see(gold_asset, partner(tier_id="silver"), LADDER, NOW) == "tier silver below gold"
    assert may_see(gold_asset, partner(tier_id="silver"), flipped, NOW) is None
    assert rank_of(flipped, "silver") == 2 and rank_of(None, "silver") is None and rank_of(flipped, None) is None
    assert tier_name(LADDER, "gold") == "Gold" and tier_name(LADDER, "nope") is None and tier_name(None, "gold") is None


def test_visible_bands_never_include_a_higher_tier() -> None:
    assert visible_bands(partner(tier_id="silver"), LADDER) == [ALL_BAND, "registered", "silver"]
    assert visible_bands(partner(tier_id="gold"), LADDER) == [ALL_BAND, "registered", "silver", "gold"]
    assert visible_bands(partner(tier_id="registered"), LADDER) == [ALL_BAND, "registered"]
    assert visible_bands(partner(tier_id="unknown"), LADDER) == [ALL_BAND]
    assert visible_bands(partner(), None) == [ALL_BAND]
    assert visible_bands(partner(status="suspended"), LADDER) == []
    assert visible_bands(None, LADDER) == []
    assert band_of(Audience()) == ALL_BAND and band_of(Audience(min_tier_id="gold")) == "gold"
