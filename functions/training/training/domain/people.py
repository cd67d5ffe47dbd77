"""Partner users as training knows them, from onboarding's events: who may be matched as a learner (invited, not
removed), who is a partner admin (reminders), and what a removal withdraws."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from contracts.training import CertificationWithdrawn
from shared.events import EventDetail
from training.domain.common import NewId
from training.models import Award, Learner, LearnerChange, Person

WITHDRAWAL_REASONS: dict[str, Literal["holder_removed", "holder_disabled"]] = {
    "removed": "holder_removed",
    "disabled": "holder_disabled",
}


def _next(person: Person | None, **fields: object) -> Person:
    """The person at its next revision (revision 1 for one training never saw)."""
    if person is None:
        return Person.model_validate(fields | {"revision": 1})
    return person.model_copy(update=fields | {"revision": person.revision + 1})


def invited(
    learner: Learner, *, name: str, role: Literal["partner-admin", "partner-user"], at: datetime
) -> LearnerChange | None:
    """The person is (again) an active partner user; None when this event is older than what training knows (a
    repeat, or an invitation that a later removal overtook)."""
    person = learner.person
    if person is not None and person.as_of >= at:
        return None
    updated = _next(
        person,
        partner_id=learner.partner_id,
        email=learner.email,
        name=name,
        role=role,
        status="active",
        removed_reason=None,
        as_of=at,
    )
    return LearnerChange(person=updated)


def removed(
    learner: Learner, *, reason: Literal["removed", "disabled"], at: datetime, now: datetime, new_id: NewId
) -> LearnerChange | None:
    """The person no longer matches, and every active award they hold for this partner is withdrawn (one event
    each); None when training already knows a later state of them."""
    person = learner.person
    if person is not None and person.as_of >= at:
        return None
    updated = _next(
        person,
        partner_id=learner.partner_id,
        email=learner.email,
        status="removed",
        removed_reason=reason,
        as_of=at,
    )
    withdrawn: list[Award] = []
    events: list[EventDetail] = []
    for award in learner.awards.values():
        if award.status != "active":
            continue
        withdrawn.append(award.model_copy(update={"status": "withdrawn", "ended_at": at}))
        events.append(
            CertificationWithdrawn.occurred(
                at=now,
                event_id=new_id("evt"),
                partner_id=learner.partner_id,
                award_id=award.award_id,
                certification_id=award.certification_id,
                holder_email=learner.email,
                reason=WITHDRAWAL_REASONS[reason],
                withdrawn_at=at,
            )
        )
    return LearnerChange(person=updated, awards=tuple(withdrawn), events=tuple(events))


def matched(memberships: Iterable[Person]) -> Person | None:
    """The partner user an email names: an active membership (the newest, should onboarding ever hold two)."""
    active = [p for p in memberships if p.status == "active"]
    return max(active, key=lambda p: p.as_of) if active else None


def admin_emails(people: Iterable[Person]) -> list[str]:
    """The partner's active administrators, sorted (reminders go to them too)."""
    return sorted({p.email for p in people if p.status == "active" and p.role == "partner-admin"})
