"""Completions: one per source delivery (statement, webhook id, CSV row, review assignment), of a known course by a
known partner user; anything unmatched goes to the review list, never dropped. A completion can earn or renew the
certifications its course belongs to, in the same write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contracts.training import TrainingCompleted
from shared.errors import FieldError, ValidationFailed
from shared.events import EventDetail
from training.domain import awards
from training.domain.catalogue import concerns
from training.domain.common import InvalidState, NewId, stable_id
from training.incoming import FUTURE_SKEW, IncomingCompletion
from training.models import (
    Award,
    Certification,
    Completion,
    Course,
    Learner,
    LearnerChange,
    ReviewItem,
    ReviewReason,
    SourceGuard,
)


def ensure_not_future(incoming: IncomingCompletion, now: datetime) -> None:
    if incoming.completed_at > now + FUTURE_SKEW:
        raise ValidationFailed(
            "A completion cannot lie in the future.", [FieldError("completed_at", "is in the future")]
        )


def completion_id(dedup_key: str) -> str:
    return stable_id("cmp", dedup_key)


def review_item_id(dedup_key: str) -> str:
    return stable_id("rev", dedup_key)


def guard(
    incoming: IncomingCompletion, *, outcome: str, origin: str, completion: str | None = None, item: str | None = None
) -> SourceGuard:
    return SourceGuard.model_validate(
        {
            "dedup_key": incoming.dedup_key,
            "outcome": outcome,
            "origin": origin,
            "completion_id": completion,
            "item_id": item,
        }
    )


def for_review(
    incoming: IncomingCompletion, reason: ReviewReason, *, now: datetime, origin: str
) -> tuple[ReviewItem, SourceGuard]:
    """An unmatched completion, kept for a vendor admin to assign or discard."""
    item_id = review_item_id(incoming.dedup_key)
    item = ReviewItem(
        item_id=item_id,
        reason=reason,
        source=incoming.source,
        dedup_key=incoming.dedup_key,
        learner_email=incoming.learner_email,
        learner_ref=incoming.learner_ref,
        lms_course_id=incoming.lms_course_id,
        passed=incoming.passed,
        score_scaled=incoming.score_scaled,
        completed_at=incoming.completed_at,
        received_at=now,
    )
    return item, guard(incoming, outcome=reason, origin=origin, item=item_id)


def unmatched_reason(course: Course | None, learner_known: bool, *, has_email: bool = True) -> ReviewReason | None:
    """Why a completion cannot be recorded as it came (the course first: nobody can be credited an unknown course);
    a learner without an email (an xAPI account) is `unknown_account`, not an email nobody has."""
    if course is None:
        return "unknown_course"
    if not has_email:
        return "unknown_account"
    if not learner_known:
        return "unknown_learner"
    return None


def complete(
    learner: Learner,
    incoming: IncomingCompletion,
    course: Course,
    certifications: Iterable[Certification],
    *,
    origin: str,
    now: datetime,
    new_id: NewId,
    closes: ReviewItem | None = None,
) -> LearnerChange:
    """Record the completion for an active partner user and apply the award rules of every certification its course
    belongs to, from the learner's latest pass of each course (`learner.passes`: at least those certifications'
    courses), the logged passes nearest this one (`learner.nearby`: the other required courses) and this one: the
    completion, its course's new latest pass, its pass-log entry, the awards it changed and their events, in one change
    of the learner."""
    person = learner.person
    if person is None or person.status != "active":
        raise InvalidState("This person is not an active partner user.")
    ensure_not_future(incoming, now)
    completion_key = completion_id(incoming.dedup_key)
    completion = Completion(
        completion_id=completion_key,
        partner_id=learner.partner_id,
        learner_email=learner.email,
        course_id=course.course_id,
        lms_course_id=course.lms_course_id,
        passed=incoming.passed,
        score_scaled=incoming.score_scaled,
        completed_at=incoming.completed_at,
        source=incoming.source,
        dedup_key=incoming.dedup_key,
        recorded_at=now,
    )
    events: list[EventDetail] = [
        TrainingCompleted.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=learner.partner_id,
            completion_id=completion.completion_id,
            course_id=course.course_id,
            learner_email=learner.email,
            passed=completion.passed,
            score_scaled=completion.score_scaled,
            completed_at=completion.completed_at,
            source=completion.source,
        )
    ]
    changed: list[Award] = []
    latest_pass = awards.newer_pass(learner.passes.get(course.course_id), completion)
    if completion.passed:
        passes = awards.passes_read(learner.passes.values(), learner.nearby, completion)
        for certification in certifications:
            if not concerns(certification, course.course_id):
                continue
            result = awards.evaluate(
                certification,
                passes,
                learner.awards.get(certification.certification_id),
                partner_id=learner.partner_id,
                email=learner.email,
                now=now,
                new_id=new_id,
            )
            if result is not None:
                changed.append(result[0])
                events.append(result[1])
    return LearnerChange(
        person=person.model_copy(update={"revision": person.revision + 1}),
        completion=completion,
        latest_pass=latest_pass,
        logged_pass=awards.logged(completion),
        awards=tuple(changed),
        guard=guard(incoming, outcome="accepted", origin=origin, completion=completion.completion_id),
        closes=closes,
        events=tuple(events),
    )
