"""A partner's tier and how it moves (pure): the entry tier at onboarding, upgrades (automatic, or requested from the
channel team and decided by them), grace periods before any downgrade, and the history with reasons. Each rule takes
the standing and the version in force and returns the new standing, the events it publishes and its history entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from contracts.tiers import (
    PartnerTierChanged,
    PartnerTierGracePeriodEnded,
    PartnerTierGracePeriodStarted,
    TierRef,
    TierUpgradeRequested,
)
from shared.clock import iso
from shared.errors import Conflict, NotYetDue
from shared.events import EventDetail
from tiers.domain.criteria import (
    day_words,
    index_of,
    missing,
    money_words,
    plural,
    qualified_index,
    statuses,
    window_words,
)
from tiers.models import (
    CriteriaVersion,
    Declined,
    Grace,
    GraceEnds,
    GraceWarning,
    HistoryEntry,
    HistoryKind,
    PendingUpgrade,
    Standing,
)

NewId = Callable[[str], str]
REASON_MAX = 500


class InvalidState(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_state")


@dataclass(frozen=True)
class Terms:
    """The programme's timing (template parameters, through the consumer's settings)."""

    grace: timedelta  # how long a partner keeps a tier it no longer meets
    warning_offsets: tuple[int, ...]  # seconds before a grace period ends when the partner's admins are warned
    window_days: int  # the trailing window of won revenue and approved registrations


@dataclass
class Outcome:
    """What a rule did: the new standing, the events to publish with it, and its history entries."""

    standing: Standing
    events: list[EventDetail] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)

    def changed_from(self, before: Standing) -> bool:
        return self.standing != before or bool(self.events) or bool(self.history)


def _clip(text: str) -> str:
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "\u2026"


def _note(
    outcome: Outcome, at: datetime, kind: HistoryKind, tier: TierRef, reason: str, version: str, **extra: Any
) -> None:
    seq = outcome.standing.history_seq + 1
    outcome.standing = outcome.standing.model_copy(update={"history_seq": seq})
    outcome.history.append(
        HistoryEntry(seq=seq, at=at, kind=kind, tier=tier, reason=_clip(reason), criteria_version=version, **extra)
    )


def _update(outcome: Outcome, **changes: Any) -> None:
    outcome.standing = outcome.standing.model_copy(update=changes)


def _summary(version: CriteriaVersion, index: int, standing: Standing, window_days: int) -> str:
    """Why a tier is met: each criterion's value against its threshold, in words."""
    tier = version.tiers[index]
    parts = []
    for s in statuses(tier, standing.totals, window_days):
        if s.kind == "won_revenue":
            parts.append(f"{money_words(int(s.value), s.key)} won revenue {window_words(window_days)}")
        elif s.kind == "approved_deals":
            parts.append(f"{s.value} approved deal {plural(int(s.value), 'registration')}")
        elif s.kind == "certifications":
            parts.append(f"{s.value} {plural(int(s.value), s.label)}")
        else:
            parts.append(f"{s.label} confirmed")
    listed = "; ".join(parts) if parts else "entry tier"
    return f"Meets every criterion of {tier.name} under criteria {version.version_id} ({listed})."


# ------------------------------------------------------------------ onboarding
def onboard(
    standing: Standing, company_name: str, version: CriteriaVersion | None, terms: Terms, now: datetime, new_id: NewId
) -> Outcome:
    """The entry tier, once (a repeated or reordered PartnerOnboarded changes nothing), then an ordinary evaluation:
    one initial event, and at most one upgrade, whatever the facts that arrived first."""
    outcome = Outcome(standing)
    if standing.onboarded_at is not None:
        return outcome
    _update(outcome, onboarded_at=now, company_name=company_name)
    if version is None:
        return outcome  # no programme yet: the first evaluation under a version gives the entry tier
    return _then(outcome, lambda s: evaluate(s, version, terms, now, new_id))


def _then(outcome: Outcome, rule: Callable[[Standing], Outcome]) -> Outcome:
    more = rule(outcome.standing)
    return Outcome(more.standing, [*outcome.events, *more.events], [*outcome.history, *more.history])


def _initial(outcome: Outcome, version: CriteriaVersion, now: datetime, new_id: NewId) -> None:
    entry = version.ref(0)
    _update(outcome, tier=entry, tier_since=now, criteria_version=version.version_id)
    reason = f"Joined the programme at its entry tier, {entry.name}."
    _note(outcome, now, "initial", entry, reason, version.version_id)
    outcome.events.append(
        PartnerTierChanged.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=outcome.standing.partner_id,
            previous=None,
            tier=entry,
            direction="initial",
            reason=reason,
            criteria_version=version.version_id,
            effective_at=now,
        )
    )


# ------------------------------------------------------------------ evaluation
def evaluate(standing: Standing, version: CriteriaVersion, terms: Terms, now: datetime, new_id: NewId) -> Outcome:
    """Apply the version in force to the running totals: the highest tier whose every criterion is met.

    Higher: upgrade (automatic, or one pending request to the channel team). Equal or higher during a grace period: it
    ends (met again). Lower: a grace period starts (never a silent downgrade); during one, nothing more happens."""
    outcome = Outcome(standing)
    if standing.onboarded_at is None:
        return outcome  # facts of a partner not onboarded yet are counted; its tier starts at onboarding
    if standing.tier is None:
        _initial(outcome, version, now, new_id)
    assert outcome.standing.tier is not None
    current = index_of(version, outcome.standing.tier)
    qualified = qualified_index(version, outcome.standing.totals, terms.window_days)
    if outcome.standing.grace is not None and qualified >= current:
        _end_grace_met_again(outcome, version, now, new_id)
    if qualified > current:
        _upgrade_or_request(outcome, version, current, qualified, terms, now, new_id)
    elif qualified < current and outcome.standing.grace is None:
        _start_grace(outcome, version, current, qualified, terms, now, new_id)
    if outcome.standing.criteria_version != version.version_id:
        _update(outcome, criteria_version=version.version_id)
    return outcome


def _change_tier(
    outcome: Outcome,
    version: CriteriaVersion,
    index: int,
    direction: Literal["upgrade", "downgrade"],
    reason: str,
    now: datetime,
    new_id: NewId,
    approved_by: str | None = None,
) -> None:
    previous = outcome.standing.tier
    tier = version.ref(index)
    _update(outcome, tier=tier, tier_since=now, criteria_version=version.version_id)
    _note(outcome, now, direction, tier, reason, version.version_id, previous=previous, by=approved_by)
    outcome.events.append(
        PartnerTierChanged.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=outcome.standing.partner_id,
            previous=previous,
            tier=tier,
            direction=direction,
            reason=_clip(reason),
            criteria_version=version.version_id,
            approved_by=approved_by,
            effective_at=now,
        )
    )


def _upgrade_or_request(
    outcome: Outcome,
    version: CriteriaVersion,
    current: int,
    qualified: int,
    terms: Terms,
    now: datetime,
    new_id: NewId,
) -> None:
    standing = outcome.standing
    reason = _summary(version, qualified, standing, terms.window_days)
    if version.upgrade_approval == "automatic":
        if standing.pending is not None:
            _note(
                outcome,
                now,
                "upgrade_withdrawn",
                standing.pending.proposed,
                "Upgrades are automatic under this criteria version: the pending request is closed.",
                version.version_id,
            )
            _update(outcome, pending=None)
        _change_tier(outcome, version, qualified, "upgrade", reason, now, new_id)
        return
    if standing.pending is not None:
        return  # one pending upgrade at a time; its decision re-evaluates
    proposed = version.ref(qualified)
    declined = standing.declined
    if declined and declined.criteria_version == version.version_id and declined.tier_id == proposed.tier_id:
        return  # the channel team said no to this tier under this version: not asked again until something changes
    assert standing.tier is not None
    upgrade_id = new_id("upg")
    _update(
        outcome,
        pending=PendingUpgrade(
            upgrade_id=upgrade_id, proposed=proposed, criteria_version=version.version_id, requested_at=now
        ),
    )
    # no history entry yet: the pending upgrade shows the request; its decision is what the history keeps
    outcome.events.append(
        TierUpgradeRequested.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=standing.partner_id,
            upgrade_id=upgrade_id,
            current=standing.tier,
            proposed=proposed,
            criteria_version=version.version_id,
        )
    )


def _start_grace(
    outcome: Outcome,
    version: CriteriaVersion,
    current: int,
    qualified: int,
    terms: Terms,
    now: datetime,
    new_id: NewId,
) -> None:
    standing = outcome.standing
    assert standing.tier is not None
    tier, would_become = standing.tier, version.ref(qualified)
    short = missing(version.tiers[current], standing.totals, terms.window_days)
    ends = (now + terms.grace).replace(microsecond=0)  # whole seconds: the timer's precision
    grace = Grace(
        grace_id=new_id("grace"),
        tier=tier,
        would_become=would_become,
        missing=short,
        criteria_version=version.version_id,
        started_at=now,
        ends_at=ends,
    )
    _update(outcome, grace=grace)
    reason = (
        f"No longer meets {tier.name}: {'; '.join(short) or 'criteria changed'}. Keeps {tier.name} until "
        f"{day_words(ends)}, then becomes {would_become.name} unless the criteria are met again."
    )
    _note(outcome, now, "grace_started", tier, reason, version.version_id)
    outcome.events.append(
        PartnerTierGracePeriodStarted.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=standing.partner_id,
            tier=tier,
            would_become=would_become,
            missing=short,
            criteria_version=version.version_id,
            ends_on=ends.date(),
        )
    )


def _grace_ended(
    outcome: Outcome, tier: TierRef, how: Literal["met_again", "downgraded"], now: datetime, new_id: NewId
) -> None:
    outcome.events.append(
        PartnerTierGracePeriodEnded.occurred(
            at=now, event_id=new_id("evt"), partner_id=outcome.standing.partner_id, tier=tier, outcome=how, ended_at=now
        )
    )


def _end_grace_met_again(outcome: Outcome, version: CriteriaVersion, now: datetime, new_id: NewId) -> None:
    grace = outcome.standing.grace
    assert grace is not None and outcome.standing.tier is not None
    _update(outcome, grace=None)
    tier = outcome.standing.tier
    _note(
        outcome,
        now,
        "grace_ended",
        tier,
        f"Meets {tier.name}'s criteria again: the grace period ends.",
        version.version_id,
    )
    _grace_ended(outcome, tier, "met_again", now, new_id)


# ------------------------------------------------------------------ the channel team's decision
def _pending(standing: Standing, upgrade_id: str) -> PendingUpgrade:
    """The request a decision or a lapse is about; a repeated or stale one is InvalidState."""
    pending = standing.pending
    if pending is None or pending.upgrade_id != upgrade_id:
        raise InvalidState("This upgrade request was already decided.")
    return pending


def decide_upgrade(
    standing: Standing,
    version: CriteriaVersion,
    terms: Terms,
    *,
    upgrade_id: str,
    approved: bool,
    decided_by: str,
    reason: str | None,
    now: datetime,
    new_id: NewId,
) -> Outcome:
    """Approved: the proposed tier, if the partner still qualifies for it now (the history keeps the upgrade with the
    reason it was requested and who approved it); rejected: it stays, and the history says who and why. Either way the pending request closes; a repeated or stale decision is InvalidState."""
    pending = _pending(standing, upgrade_id)
    outcome = Outcome(standing)
    _update(outcome, pending=None)
    if not approved:
        _update(outcome, declined=Declined(tier_id=pending.proposed.tier_id, criteria_version=pending.criteria_version))
        why = f"Upgrade to {pending.proposed.name} not approved by {decided_by}: {reason or 'no reason given'}."
        _note(outcome, now, "upgrade_rejected", pending.proposed, why, version.version_id, by=decided_by)
        return outcome
    proposed = index_of(version, pending.proposed)
    qualified = qualified_index(version, standing.totals, terms.window_days)
    assert standing.tier is not None
    if version.tiers[proposed].tier_id != pending.proposed.tier_id or qualified < proposed:
        short = missing(version.tiers[proposed], standing.totals, terms.window_days)
        why = (
            f"Upgrade to {pending.proposed.name} approved by {decided_by}, but the partner no longer meets its "
            f"criteria: {'; '.join(short) or 'the tier is not in the criteria in force'}."
        )
        _note(outcome, now, "upgrade_withdrawn", pending.proposed, why, version.version_id, by=decided_by)
        return _then(outcome, lambda s: evaluate(s, version, terms, now, new_id))
    if outcome.standing.grace is not None:
        _end_grace_met_again(outcome, version, now, new_id)
    if proposed > index_of(version, standing.tier):
        why = f"{_summary(version, proposed, standing, terms.window_days)} Approved by {decided_by}."
        _change_tier(outcome, version, proposed, "upgrade", why, now, new_id, approved_by=decided_by)
    return _then(outcome, lambda s: evaluate(s, version, terms, now, new_id))


def lapse_upgrade(standing: Standing, version: CriteriaVersion, *, upgrade_id: str, now: datetime) -> Outcome:
    """Nobody decided in time: the request closes and is not asked again for this tier under this version."""
    pending = _pending(standing, upgrade_id)
    outcome = Outcome(standing)
    _update(
        outcome,
        pending=None,
        declined=Declined(tier_id=pending.proposed.tier_id, criteria_version=pending.criteria_version),
    )
    why = f"Upgrade to {pending.proposed.name} lapsed: nobody on the channel team decided in time."
    _note(outcome, now, "upgrade_lapsed", pending.proposed, why, version.version_id)
    return outcome


# ------------------------------------------------------------------ the end of a grace period
def end_grace(
    standing: Standing, version: CriteriaVersion, terms: Terms, *, grace_id: str, now: datetime, new_id: NewId
) -> Outcome:
    """At the end of its grace period a partner that still falls short drops to the tier it meets now (one event,
    however many tiers down); a stale timer (the period ended, or another began) is InvalidState, an early one
    NotYetDue (retried, never dropped)."""
    grace = standing.grace
    if grace is None or grace.grace_id != grace_id:
        raise InvalidState("This grace period is over.")
    if grace.ends_at > now:
        raise NotYetDue(f"grace period {grace_id} ends at {iso(grace.ends_at)}")
    assert standing.tier is not None
    outcome = Outcome(standing)
    current = index_of(version, standing.tier)
    qualified = qualified_index(version, standing.totals, terms.window_days)
    if qualified >= current:
        _end_grace_met_again(outcome, version, now, new_id)
        return _then(outcome, lambda s: evaluate(s, version, terms, now, new_id))
    short = missing(version.tiers[current], standing.totals, terms.window_days)
    _update(outcome, grace=None)
    tier = standing.tier
    _grace_ended(outcome, tier, "downgraded", now, new_id)
    why = f"Grace period ended without meeting {tier.name}'s criteria: {'; '.join(short) or 'criteria changed'}."
    _change_tier(outcome, version, qualified, "downgrade", why, now, new_id)
    return outcome


def grace_is_current(standing: Standing, grace_id: str) -> bool:
    return standing.grace is not None and standing.grace.grace_id == grace_id


Timer = list[tuple[datetime, GraceWarning | GraceEnds]]


def grace_timer(partner_id: str, grace: Grace, offsets: tuple[int, ...], now: datetime) -> Timer:
    """The warnings before the end (those still ahead, earliest first), then the end itself; each message names its
    grace period, so a timer of a period that ended early changes nothing."""
    timer: Timer = []
    for offset in sorted(offsets, reverse=True):
        at = grace.ends_at - timedelta(seconds=offset)
        if at > now:
            timer.append(
                (
                    at,
                    GraceWarning(
                        message_type="GraceWarning",
                        partner_id=partner_id,
                        grace_id=grace.grace_id,
                        ends_at=grace.ends_at,
                        due_at=at,
                        days_left=max(1, round(offset / 86400)),
                    ),
                )
            )
    timer.append(
        (
            grace.ends_at,
            GraceEnds(message_type="GraceEnds", partner_id=partner_id, grace_id=grace.grace_id, ends_at=grace.ends_at),
        )
    )
    return timer
