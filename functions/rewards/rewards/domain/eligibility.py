"""Who a campaign is open to, judged on the partner as it was at the fact's time (tier, region, partner type)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from rewards.models.earning import Campaign, PartnerAt


def runs_on(campaign: Campaign, day: date) -> bool:
    """The campaign is open and its dates contain `day`."""
    return campaign.status == "open" and campaign.starts_on <= day <= campaign.ends_on


def ineligible(campaign: Campaign, partner: PartnerAt, at: datetime) -> str | None:
    """Why the partner cannot earn in this campaign for a fact at `at` (None when it can), judged at the fact's time,
    not at processing time: a closed campaign's effective end is its closing time, so a fact before it still earns
    (a late or replayed delivery) and a fact after it does not."""
    day = at.date()
    if campaign.status != "open" and (campaign.closed_at is None or at >= campaign.closed_at):
        closed = f" on {campaign.closed_at:%Y-%m-%d %H:%M} UTC" if campaign.closed_at else ""
        return f"the campaign was closed{closed}, before this fact ({day})"
    if not campaign.starts_on <= day <= campaign.ends_on:
        return f"{day} is outside the campaign ({campaign.starts_on} to {campaign.ends_on})"
    rules = campaign.eligibility
    if rules.tiers and partner.tier_id not in rules.tiers:
        held = partner.tier_id or "no tier"
        return f"the partner was {held} on {day}; the campaign is for {', '.join(rules.tiers)}"
    if rules.regions and partner.region not in rules.regions:
        return (
            f"the partner is in {partner.region or 'an unknown region'}; the campaign is for {', '.join(rules.regions)}"
        )
    if rules.partner_types and partner.partner_type not in rules.partner_types:
        kind = partner.partner_type or "an unknown type"
        return f"the partner is {kind}; the campaign is for {', '.join(rules.partner_types)}"
    return None


def open_to(campaign: Campaign, partner: PartnerAt, today: date) -> bool:
    """What a partner sees in GET /rewards/campaigns: open campaigns not yet ended whose eligibility it meets now."""
    if campaign.status != "open" or campaign.ends_on < today:
        return False
    return ineligible(campaign, partner, start_of(max(today, campaign.starts_on))) is None


def start_of(day: date) -> datetime:
    """A day's first instant in UTC (a won deal's fact time is its close date's)."""
    return datetime.combine(day, time(0), tzinfo=UTC)
