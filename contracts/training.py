"""Events published by training and certification (source `prm.training`).

People are named by email (lower case), as partner users are (`partner_id` + email); a certification held by a person
for a partner is an award (`award_id`), earned, renewed, expired or withdrawn as a whole."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.clock import UtcDateTime
from shared.email import Email
from shared.events import EventDetail

SOURCE = "prm.training"
CompletionSource = Literal["webhook", "xapi", "csv", "review"]


class TrainingCompleted(EventDetail):
    """A partner user finished a course (passed or not); the same LMS statement or delivery is one completion."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "TrainingCompleted"

    completion_id: str
    course_id: str
    learner_email: Email
    passed: bool
    score_scaled: float | None = Field(default=None, ge=-1, le=1)
    completed_at: UtcDateTime
    source: CompletionSource


class CertificationEarned(EventDetail):
    """A person holds a certification for the partner until `expires_at` (`renewal`: an award held before was renewed,
    so the number of holders did not change)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "CertificationEarned"

    award_id: str
    certification_id: str
    certification_name: str
    holder_email: Email
    earned_at: UtcDateTime
    expires_at: UtcDateTime
    renewal: bool


class CertificationExpired(EventDetail):
    """An award reached its expiry without renewal: the person no longer holds the certification."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "CertificationExpired"

    award_id: str
    certification_id: str
    holder_email: Email
    expired_at: UtcDateTime


class CertificationWithdrawn(EventDetail):
    """An unexpired award stopped counting for the partner: its holder was removed or disabled."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "CertificationWithdrawn"

    award_id: str
    certification_id: str
    holder_email: Email
    reason: Literal["holder_removed", "holder_disabled"]
    withdrawn_at: UtcDateTime


TRAINING_EVENTS: tuple[type[EventDetail], ...] = (
    TrainingCompleted,
    CertificationEarned,
    CertificationExpired,
    CertificationWithdrawn,
)
