"""Criteria versions and their evaluation: which tier a partner's running totals qualify for under a version, and,
criterion by criterion, its value, threshold and what is missing (pure: records in, values out)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from fractions import Fraction
from typing import Literal

from contracts.tiers import ALL_PARTNERS, TierProgrammeVersionAdded, TierProgrammeVersionWithdrawn, TierRef
from shared.errors import Conflict, FieldError, ValidationFailed
from shared.money import Money, format_amount
from tiers.models import (
    CertificationCriterion,
    Criteria,
    CriteriaInput,
    CriteriaVersion,
    ManualCriterion,
    Tier,
    Totals,
    VersionRequest,
)

CriterionKind = Literal["won_revenue", "approved_deals", "certifications", "manual"]


@dataclass(frozen=True)
class CriterionStatus:
    """One criterion of one tier against the partner's totals; `missing` says what is short, in words."""

    kind: CriterionKind
    key: str  # the currency, "approved_deals", the certification id or the manual criterion id
    label: str
    value: int | bool
    threshold: int | bool
    met: bool
    missing: str | None
    currency: str | None = None


# ------------------------------------------------------------------ versions
def effective_at(version: CriteriaVersion) -> datetime:
    """A version applies from 00:00 UTC of its date."""
    return start_of(version.effective_from)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def in_force(versions: list[CriteriaVersion], at: datetime) -> CriteriaVersion | None:
    """The version in force at `at`: the latest whose date has come (versions never overlap, never change)."""
    due = [v for v in versions if effective_at(v) <= at]
    return max(due, key=lambda v: v.effective_from) if due else None


def version_added(version: CriteriaVersion, *, now: datetime, event_id: str) -> TierProgrammeVersionAdded:
    """What other contexts learn the version's ladder from: its tiers in rank order and the date it applies from."""
    return TierProgrammeVersionAdded.occurred(
        at=now,
        event_id=event_id,
        partner_id=ALL_PARTNERS,
        version_id=version.version_id,
        effective_from=version.effective_from,
        tiers=[version.ref(index) for index in range(len(version.tiers))],
    )


def version_withdrawn(version: CriteriaVersion, *, now: datetime, event_id: str) -> TierProgrammeVersionWithdrawn:
    return TierProgrammeVersionWithdrawn.occurred(
        at=now,
        event_id=event_id,
        partner_id=ALL_PARTNERS,
        version_id=version.version_id,
        effective_from=version.effective_from,
    )


def check_new_version(request: VersionRequest, *, today: date, taken: CriteriaVersion | None) -> None:
    """A new version starts today or later (what applied in the past is never rewritten) on a date no version has
    (`taken`: the version already dated that day; a version not yet in force is withdrawn first), and its first tier,
    the entry tier every partner holds, has no criteria."""
    if request.effective_from < today:
        raise ValidationFailed(
            "A criteria version applies from today or a later date.",
            [FieldError("effective_from", "must be today or later")],
        )
    if taken is not None:
        day = taken.effective_from.isoformat()
        raise Conflict(
            f"Version {taken.version_id} already applies from {day}; choose another date, or withdraw it first if it "
            "is not in force yet.",
            code="version_date_taken",
            errors=[FieldError("effective_from", f"{day} is taken by {taken.version_id}")],
        )
    entry = request.tiers[0].criteria
    if entry.won_revenue or entry.approved_deals or entry.certifications or entry.manual:
        raise ValidationFailed(
            "The first tier is the entry tier: it has no criteria.",
            [FieldError("tiers.0.criteria", "the entry tier has no criteria")],
        )
    for index, tier in enumerate(request.tiers[1:], start=1):
        c = tier.criteria
        if not (c.won_revenue or c.approved_deals or c.certifications or c.manual):
            raise ValidationFailed(
                "Every tier above the entry tier needs at least one criterion.",
                [FieldError(f"tiers.{index}.criteria", "at least one criterion")],
            )
    backwards = ladder_errors(request)
    if backwards:
        raise ValidationFailed("Each tier must demand at least what the tier below it demands.", backwards)


def named_certifications(request: VersionRequest) -> list[str]:
    """Every certification id the version's criteria name (each once)."""
    return list(dict.fromkeys(c.certification_id for t in request.tiers for c in t.criteria.certifications))


def ensure_known_certifications(request: VersionRequest, known: Collection[str]) -> None:
    """A criterion names a certification training defined (`CertificationDefined`, projected here): a typo would
    otherwise count nobody, for ever."""
    errors = [
        FieldError(f"tiers.{i}.criteria.certifications.{n}.certification_id", "no such certification")
        for i, tier in enumerate(request.tiers)
        for n, cert in enumerate(tier.criteria.certifications)
        if cert.certification_id not in known
    ]
    if errors:
        raise ValidationFailed("Some criteria name certifications that training has not defined.", errors)


def _demands(criteria: CriteriaInput) -> dict[tuple[str, str], tuple[int, str]]:
    """Each countable criterion, keyed (kind, what), with its threshold and the field path under `criteria`."""
    found = {("approved_deals", ""): (criteria.approved_deals, "approved_deals")} if criteria.approved_deals else {}
    for n, cert in enumerate(criteria.certifications):
        found[("certifications", cert.certification_id)] = (cert.people, f"certifications.{n}.people")
    for n, revenue in enumerate(criteria.won_revenue):
        found[("won_revenue", revenue.currency)] = (revenue.amount_minor, f"won_revenue.{n}.amount_minor")
    return found


def ladder_errors(request: VersionRequest) -> list[FieldError]:
    """What two tiers both demand never goes backwards up the ladder: a higher tier needs at least as many approved
    deals, people of a certification and won revenue in a currency as any lower tier that names the same criterion.
    A higher tier may demand other things instead (Platinum: revenue and deals, no certification): a partner holds
    the highest tier whose every criterion is met, so the tiers need not nest."""
    errors: list[FieldError] = []
    most: dict[tuple[str, str], tuple[int, str]] = {}  # the highest threshold so far, and the tier that demands it
    for index, tier in enumerate(request.tiers):
        demands = _demands(tier.criteria)
        for key, (threshold, path) in demands.items():
            need = most.get(key)
            if need is not None and threshold < need[0]:
                errors.append(FieldError(f"tiers.{index}.criteria.{path}", f"at least {need[0]}, as {need[1]} needs"))
        for key, (threshold, _) in demands.items():
            if key not in most or threshold > most[key][0]:
                most[key] = (threshold, tier.name)
    return errors


def repeats(request: VersionRequest, latest: CriteriaVersion | None, *, created_by: str) -> bool:
    """Whether `request` is the version of its date (`latest`) asked for again by its author (a retried POST whose first attempt wrote
    the version and failed before its timer was set): the same date, approval and tiers, word for word."""
    if latest is None or latest.created_by != created_by:
        return False
    asked = new_version(request, version_id=latest.version_id, created_by=created_by, now=latest.created_at)
    return asked.model_dump(mode="json") == latest.model_dump(mode="json")


def new_version(request: VersionRequest, *, version_id: str, created_by: str, now: datetime) -> CriteriaVersion:
    tiers = [
        Tier(
            tier_id=t.tier_id,
            name=t.name,
            benefits=list(t.benefits),
            criteria=Criteria(
                won_revenue=[Money(currency=r.currency, amount_minor=r.amount_minor) for r in t.criteria.won_revenue],
                approved_deals=t.criteria.approved_deals,
                certifications=[
                    CertificationCriterion(certification_id=c.certification_id, label=c.label, people=c.people)
                    for c in t.criteria.certifications
                ],
                manual=[ManualCriterion(criterion_id=m.criterion_id, label=m.label) for m in t.criteria.manual],
            ),
        )
        for t in request.tiers
    ]
    return CriteriaVersion(
        version_id=version_id,
        effective_from=request.effective_from,
        upgrade_approval=request.upgrade_approval,
        tiers=tiers,
        created_at=now,
        created_by=created_by,
    )


def index_of(version: CriteriaVersion, tier: TierRef) -> int:
    """Where a held tier stands in a version: by its id, or (a tier the version dropped) by its rank, capped."""
    for index, candidate in enumerate(version.tiers):
        if candidate.tier_id == tier.tier_id:
            return index
    return min(tier.rank, len(version.tiers) - 1)


# ------------------------------------------------------------------ evaluation
def window_words(window_days: int) -> str:
    return "in the last 12 months" if window_days == 365 else f"in the last {window_days} days"


def money_words(amount_minor: int, currency: str) -> str:
    """`USD 40,000.00` (exact integer arithmetic)."""
    return f"{currency} {format_amount(amount_minor, currency).rsplit(' ', 1)[0]}"


def plural(count: int, label: str) -> str:
    """`label` for one, else its plural (a label already ending in s is kept: "Sales accreditations")."""
    return label if count == 1 or label.endswith("s") else f"{label}s"


def day_words(moment: datetime) -> str:
    """The UTC day of `moment` for people: `6 March 2027`."""
    day = moment.astimezone(UTC).date()
    return f"{day.day} {day:%B %Y}"


def _revenue(criteria: Criteria, totals: Totals, tier_name: str, window_days: int) -> CriterionStatus | None:
    """Met in any one listed currency (no conversion: revenue in a currency without a threshold does not count);
    shown in the currency where the partner is closest."""
    if not criteria.won_revenue:
        return None

    def progress(threshold: Money) -> tuple[Fraction, int]:
        value = totals.revenue.get(threshold.currency, 0)
        return min(Fraction(1), Fraction(value, threshold.amount_minor)), -criteria.won_revenue.index(threshold)

    best = max(criteria.won_revenue, key=progress)
    value = totals.revenue.get(best.currency, 0)
    met = any(totals.revenue.get(t.currency, 0) >= t.amount_minor for t in criteria.won_revenue)
    short = best.amount_minor - value
    missing = (
        None
        if met
        else f"{money_words(short, best.currency)} more won revenue {window_words(window_days)} for {tier_name}"
    )
    return CriterionStatus(
        kind="won_revenue",
        key=best.currency,
        label="Won revenue",
        value=value,
        threshold=best.amount_minor,
        met=met,
        missing=missing,
        currency=best.currency,
    )


def statuses(tier: Tier, totals: Totals, window_days: int) -> list[CriterionStatus]:
    """Every criterion of `tier` against the totals, in a fixed order (revenue, deals, certifications, manual)."""
    criteria, found = tier.criteria, []
    revenue = _revenue(criteria, totals, tier.name, window_days)
    if revenue:
        found.append(revenue)
    if criteria.approved_deals:
        value, needed = totals.approved_deals, criteria.approved_deals
        short = needed - value
        found.append(
            CriterionStatus(
                kind="approved_deals",
                key="approved_deals",
                label="Approved deal registrations",
                value=value,
                threshold=needed,
                met=value >= needed,
                missing=None
                if value >= needed
                else f"{short} more approved deal {plural(short, 'registration')} {window_words(window_days)} "
                f"for {tier.name}",
            )
        )
    for cert in criteria.certifications:
        value = totals.certified.get(cert.certification_id, 0)
        short = cert.people - value
        found.append(
            CriterionStatus(
                kind="certifications",
                key=cert.certification_id,
                label=cert.label,
                value=value,
                threshold=cert.people,
                met=value >= cert.people,
                missing=None if short <= 0 else f"{short} more {plural(short, cert.label)} for {tier.name}",
            )
        )
    for manual in criteria.manual:
        mark = totals.manual.get(manual.criterion_id)
        met = bool(mark and mark.met)
        found.append(
            CriterionStatus(
                kind="manual",
                key=manual.criterion_id,
                label=manual.label,
                value=met,
                threshold=True,
                met=met,
                missing=None if met else f"{manual.label} (confirmed by the channel team) for {tier.name}",
            )
        )
    return found


def meets(tier: Tier, totals: Totals, window_days: int) -> bool:
    return all(s.met for s in statuses(tier, totals, window_days))


def qualified_index(version: CriteriaVersion, totals: Totals, window_days: int) -> int:
    """The highest tier whose every criterion is met (the entry tier, 0, always is)."""
    for index in range(len(version.tiers) - 1, 0, -1):
        if meets(version.tiers[index], totals, window_days):
            return index
    return 0


def missing(tier: Tier, totals: Totals, window_days: int) -> list[str]:
    return [s.missing for s in statuses(tier, totals, window_days) if s.missing][:20]
