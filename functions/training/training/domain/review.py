"""The review list: completions nobody could be matched to, assigned to a known partner user or discarded with a
reason by a vendor admin (once: an item decided stays decided)."""

from __future__ import annotations

from datetime import datetime

from training.domain.common import InvalidState
from training.incoming import IncomingCompletion
from training.models import ReviewItem


def _ensure_open(item: ReviewItem) -> None:
    if item.status != "open":
        raise InvalidState(f"This item was already {item.status}.")


def assigned(item: ReviewItem, learner_email: str, *, by: str, now: datetime, completion_id: str) -> ReviewItem:
    _ensure_open(item)
    return item.model_copy(
        update={
            "status": "assigned",
            "assigned_to": learner_email,
            "decided_by": by,
            "decided_at": now,
            "completion_id": completion_id,
        }
    )


def discarded(item: ReviewItem, reason: str, *, by: str, now: datetime) -> ReviewItem:
    _ensure_open(item)
    return item.model_copy(
        update={"status": "discarded", "discard_reason": reason, "decided_by": by, "decided_at": now}
    )


def as_completion(item: ReviewItem, learner_email: str) -> IncomingCompletion:
    """The item as a completion of the assigned learner (source `review`, one per item)."""
    _ensure_open(item)
    return IncomingCompletion(
        source="review",
        dedup_key=f"review:{item.item_id}",
        learner_email=learner_email,
        learner_ref=None,
        lms_course_id=item.lms_course_id,
        passed=item.passed,
        score_scaled=item.score_scaled,
        completed_at=item.completed_at,
    )
