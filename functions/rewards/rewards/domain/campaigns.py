"""Campaigns: created and changed by vendor admins, closed for good; each rule said in plain words for partners."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from rewards.models.common import POINTS
from rewards.models.earning import (
    AnyRule,
    Campaign,
    CampaignBody,
    CampaignPatch,
    CertificationEarnedRule,
    DealWonFixed,
    DealWonPerSku,
    DealWonPerThousand,
)
from shared.errors import Conflict, FieldError, ValidationFailed
from shared.money import format_amount


def amount_words(amount: int, unit: str) -> str:
    return f"{amount:,} points" if unit == POINTS else format_amount(amount, unit)


def certification_ids(rules: list[AnyRule]) -> list[str]:
    """The certifications the rules name (to look their names up)."""
    return sorted({rule.certification_id for rule in rules if isinstance(rule, CertificationEarnedRule)})


def rule_words(rule: AnyRule, unit: str, certification_names: Mapping[str, str] | None = None) -> str:
    """A rule as partners read it (rounding stated where there is any); a certification by its name when
    `certification_names` knows it (training's CertificationDefined may not have arrived yet), by its id otherwise."""
    if isinstance(rule, DealWonFixed):
        return f"{amount_words(rule.amount, unit)} for each won deal"
    if isinstance(rule, DealWonPerSku):
        return f"{amount_words(rule.amount, unit)} for each won deal that includes {rule.sku}"
    if isinstance(rule, DealWonPerThousand):
        return (
            f"{amount_words(rule.amount_per_thousand, unit)} per 1,000 {rule.currency} of won deal value "
            f"(deals won in {rule.currency} only; rounded down)"
        )
    if isinstance(rule, CertificationEarnedRule):
        name = (certification_names or {}).get(rule.certification_id)
        named = f"the {name} certification" if name else f"certification {rule.certification_id}"
        return f"{amount_words(rule.amount, unit)} the first time a person earns {named}"
    return f"{amount_words(rule.amount, unit)} for an approved claim: {rule.description}"


def _with_ids(rules: list[AnyRule], taken: set[str]) -> list[AnyRule]:
    """Rules keep the ids they were given; the others get the next free `r<n>`."""
    used = set(taken) | {r.rule_id for r in rules if r.rule_id}
    numbered: list[AnyRule] = []
    counter = 1
    for rule in rules:
        if rule.rule_id is not None:
            numbered.append(rule)
            continue
        while f"r{counter}" in used:
            counter += 1
        used.add(f"r{counter}")
        numbered.append(rule.model_copy(update={"rule_id": f"r{counter}"}))
    return numbered


def new_campaign(body: CampaignBody, *, campaign_id: str, created_by: str, now: datetime) -> Campaign:
    if body.ends_on < now.date():
        raise ValidationFailed(
            "The campaign would end in the past.", [FieldError("ends_on", "must not be in the past")]
        )
    return Campaign(
        campaign_id=campaign_id,
        **body.model_dump(exclude={"rules"}),
        rules=_with_ids(list(body.rules), set()),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )


def patch_campaign(campaign: Campaign, patch: CampaignPatch, *, now: datetime) -> Campaign:
    if campaign.status != "open":
        raise Conflict(f"The campaign {campaign.campaign_id} is closed.", code="campaign_closed")
    changes = patch.model_dump(exclude_unset=True, exclude={"rules"})
    errors: list[FieldError] = []
    if patch.rules is not None:
        if now.date() >= campaign.starts_on:
            errors.append(FieldError("rules", "rules can change only before the campaign starts"))
        else:
            changes["rules"] = _with_ids(list(patch.rules), set())
    ends_on: date = changes.get("ends_on", campaign.ends_on)
    if ends_on < campaign.starts_on:
        errors.append(FieldError("ends_on", "must not be before starts_on"))
    budget = changes.get("budget", campaign.budget)
    if budget < campaign.committed:
        errors.append(FieldError("budget", f"{campaign.committed} is already committed; the budget cannot be lower"))
    if errors:
        raise ValidationFailed("The campaign cannot change that way.", errors)
    return Campaign.model_validate(
        campaign.model_dump() | changes | {"updated_at": now, "revision": campaign.revision + 1}
    )


def close_campaign(campaign: Campaign, *, now: datetime) -> Campaign:
    """Closed campaigns earn nothing more; rewards already earned keep their course."""
    if campaign.status == "closed":
        return campaign
    return campaign.model_copy(
        update={"status": "closed", "closed_at": now, "updated_at": now, "revision": campaign.revision + 1}
    )
