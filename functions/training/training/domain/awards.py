"""Certification awards: earned when every required course has a pass within the completion window before the latest
of them, renewed by a later qualification or a pass of the renewal course, expired at the end of validity, withdrawn
when the holder leaves; reminders before expiry.

- earned_at is the latest pass of the qualifying set; expires_at = earned_at + validity (calendar months, to the
  second: the timer's precision). An award that would already have expired is not made (a late import of old passes).
- While the award is held (active), a renewal-course pass or a newer qualifying set after earned_at renews it: same
  award id, new expiry, `CertificationEarned` with renewal=true (the number of holders did not change).
- After expiry, a renewal-course pass within the completion window after the expiry, or a newer qualifying set,
  earns a new award (new id, renewal=false: the person is a holder again, which changes the number of holders).
- After a withdrawal (the holder was removed), only a qualifying set entirely newer than the withdrawal earns again.

A completion evaluates from the learner's latest pass of each course (`CoursePass`, kept with every completion) and,
for a pass, the other required courses' logged passes nearest it (a time-sorted log per person and course, read by two
Limit-1 key-range queries per course), not their whole history: a set that does not include the new pass was evaluated
when its last pass was recorded, whatever order the passes arrived in (a CSV backfill of old passes). Of several
qualifying sets holding the new pass, the latest one found among those nearest passes sets earned_at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from contracts.training import CertificationEarned, CertificationExpired
from shared.clock import iso
from shared.errors import NotYetDue
from training.domain.common import InvalidState, NewId, add_months
from training.models import (
    Award,
    Certification,
    CertificationExpiryDue,
    CertificationReminder,
    Completion,
    CoursePass,
)

Passes = Mapping[str, list[datetime]]  # course id -> moments of its passes


def newer_pass(kept: CoursePass | None, completion: Completion) -> CoursePass | None:
    """The completion as its course's latest pass when it is a pass newer than the one kept; None otherwise."""
    if not completion.passed or (kept is not None and completion.completed_at <= kept.completed_at):
        return None
    return CoursePass(
        partner_id=completion.partner_id,
        learner_email=completion.learner_email,
        course_id=completion.course_id,
        completion_id=completion.completion_id,
        completed_at=completion.completed_at,
    )


def passes_read(
    latest: Iterable[CoursePass], nearby: Mapping[str, Iterable[datetime]], new: Completion
) -> dict[str, list[datetime]]:
    """The passes the rules read on a new pass: the latest of each course, the logged passes of the other required
    courses nearest the new one (the last at or before it, the first after it), and the new pass itself.

    Enough whatever the order passes arrive in: a qualifying set that does not hold the new pass was evaluated when
    its own last pass arrived, and one that holds it, [L - window, L] around it, stays a qualifying set when each
    other course's pass in it is replaced by that course's nearest logged pass on the same side of the new one (which
    lies between the two)."""
    moments: dict[str, set[datetime]] = {}
    for kept in latest:
        moments.setdefault(kept.course_id, set()).add(kept.completed_at)
    for course_id, near in nearby.items():
        moments.setdefault(course_id, set()).update(near)
    if new.passed:
        moments.setdefault(new.course_id, set()).add(new.completed_at)
    return {course_id: sorted(found) for course_id, found in moments.items()}


def logged(completion: Completion) -> CoursePass | None:
    """The completion's entry in the learner's time-sorted pass log (passes only)."""
    if not completion.passed:
        return None
    return CoursePass(
        partner_id=completion.partner_id,
        learner_email=completion.learner_email,
        course_id=completion.course_id,
        completion_id=completion.completion_id,
        completed_at=completion.completed_at,
    )


def qualifying_moment(
    certification: Certification, passes: Passes, *, after: datetime | None = None
) -> datetime | None:
    """The latest moment L such that every required course has a pass in [L - window, L] (and, with `after`, the
    whole set lies after it); None when no such set exists."""
    required = certification.required_course_ids
    usable = {c: [t for t in passes.get(c, []) if after is None or t > after] for c in required}
    if any(not moments for moments in usable.values()):
        return None
    for latest in sorted({t for moments in usable.values() for t in moments}, reverse=True):
        start = add_months(latest, -certification.completion_window_months)
        if all(any(start <= t <= latest for t in usable[c]) for c in required):
            return latest
    return None


def _expiry(certification: Certification, earned_at: datetime) -> datetime:
    return add_months(earned_at, certification.validity_months).replace(microsecond=0)


def _renewal_pass(certification: Certification, passes: Passes, after: datetime, until: datetime) -> datetime | None:
    if certification.renewal_course_id is None:
        return None
    moments = [t for t in passes.get(certification.renewal_course_id, []) if after < t <= until]
    return max(moments) if moments else None


def _earned(
    award: Award, certification: Certification, *, renewal: bool, now: datetime, new_id: NewId
) -> CertificationEarned:
    return CertificationEarned.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=award.partner_id,
        award_id=award.award_id,
        certification_id=certification.certification_id,
        certification_name=certification.name,
        holder_email=award.holder_email,
        earned_at=award.earned_at,
        expires_at=award.expires_at,
        renewal=renewal,
    )


def evaluate(
    certification: Certification,
    passes: Passes,
    award: Award | None,
    *,
    partner_id: str,
    email: str,
    now: datetime,
    new_id: NewId,
) -> tuple[Award, CertificationEarned] | None:
    """The award this learner's passes give them now (new, renewed), or None when nothing changes."""
    if award is not None and award.status == "active":
        latest = max(
            (
                t
                for t in (
                    qualifying_moment(certification, passes),
                    _renewal_pass(certification, passes, award.earned_at, now + timedelta(minutes=5)),
                )
                if t is not None and t > award.earned_at
            ),
            default=None,
        )
        if latest is None or _expiry(certification, latest) <= max(award.expires_at, now):
            return None
        renewed = award.model_copy(
            update={
                "earned_at": latest,
                "expires_at": _expiry(certification, latest),
                "renewals": award.renewals + 1,
                "certification_name": certification.name,
            }
        )
        return renewed, _earned(renewed, certification, renewal=True, now=now, new_id=new_id)
    if award is None:
        latest = qualifying_moment(certification, passes)
    elif award.status == "expired":
        window_end = add_months(award.expires_at, certification.completion_window_months)
        candidates = (
            qualifying_moment(certification, passes, after=award.earned_at),
            _renewal_pass(certification, passes, award.expires_at, window_end),
        )
        latest = max((t for t in candidates if t is not None), default=None)
    else:  # withdrawn: only a qualification entirely after the withdrawal
        latest = qualifying_moment(certification, passes, after=award.ended_at or award.expires_at)
    if latest is None or _expiry(certification, latest) <= now:
        return None
    earned = Award(
        award_id=new_id("awd"),
        certification_id=certification.certification_id,
        certification_name=certification.name,
        partner_id=partner_id,
        holder_email=email,
        status="active",
        earned_at=latest,
        first_earned_at=latest,
        expires_at=_expiry(certification, latest),
    )
    return earned, _earned(earned, certification, renewal=False, now=now, new_id=new_id)


def ensure_current(award: Award | None, award_id: str, expires_at: datetime) -> Award:
    """The award a timer was set for, still active at that expiry; a renewed, expired or withdrawn one is stale."""
    if award is None or award.award_id != award_id or award.status != "active" or award.expires_at != expires_at:
        raise InvalidState("This timer is stale: the award was renewed, expired or withdrawn since.")
    return award


def expire(
    award: Award | None, *, award_id: str, expires_at: datetime, now: datetime, new_id: NewId
) -> tuple[Award, CertificationExpired]:
    """Only the timer of the award's current expiry expires it; one that arrives early is retried (NotYetDue)."""
    current = ensure_current(award, award_id, expires_at)
    if expires_at > now:
        raise NotYetDue(f"award {award_id} expires at {iso(expires_at)}")
    expired = current.model_copy(update={"status": "expired", "ended_at": expires_at})
    event = CertificationExpired.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=current.partner_id,
        award_id=current.award_id,
        certification_id=current.certification_id,
        holder_email=current.holder_email,
        expired_at=expires_at,
    )
    return expired, event


Timer = list[tuple[datetime, CertificationReminder | CertificationExpiryDue]]


def certification_timer(award: Award, offsets: Iterable[int], now: datetime) -> Timer:
    """The reminders before expiry (largest offset first), then the expiry itself. An award earned (or imported) with
    less time left than some offsets gets one reminder at once, for the nearest offset already passed (so a holder
    with 42 days left hears of it now, not at 30 days), then the future ones as scheduled. Every message names the
    award, the expiry it was set for and its offset, so a renewed award's older timer changes nothing and each
    reminder is sent once per award, expiry and offset."""
    common = {
        "partner_id": award.partner_id,
        "holder_email": award.holder_email,
        "certification_id": award.certification_id,
        "award_id": award.award_id,
        "expires_at": award.expires_at,
    }
    timer: Timer = []
    ordered = sorted(set(offsets), reverse=True)
    passed = [offset for offset in ordered if award.expires_at - timedelta(seconds=offset) <= now]
    if passed and award.expires_at > now:
        timer.append(
            (now, CertificationReminder(message_type="CertificationReminder", offset_seconds=passed[-1], **common))
        )
    for offset in ordered:
        at = award.expires_at - timedelta(seconds=offset)
        if at > now:
            timer.append(
                (at, CertificationReminder(message_type="CertificationReminder", offset_seconds=offset, **common))
            )
    timer.append((award.expires_at, CertificationExpiryDue(message_type="CertificationExpiryDue", **common)))
    return timer


def days_left(offset_seconds: int, *, expires_at: datetime | None = None, now: datetime | None = None) -> int:
    """The days a reminder tells of: its offset, or fewer when it is sent later (a catch-up reminder sent at once)."""
    seconds = float(offset_seconds)
    if expires_at is not None and now is not None:
        seconds = min(seconds, (expires_at - now).total_seconds())
    return max(1, round(seconds / 86400))
