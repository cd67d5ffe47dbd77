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


ALL_PARTNERS = "*"  # the `partner_id` of a catalogue event: it concerns no one partner (as onboarding's ALL_PARTNERS)


class CertificationDefined(EventDetail):
    """A vendor admin defined a certification (or changed its definition): what other contexts may name it by.

    Catalogue-wide, it concerns no one partner: `partner_id` is `*`. Tiers keeps the certification ids it may name in
    criteria from it."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "CertificationDefined"

    certification_id: str = Field(min_length=1, max_length=64)
    certification_name: str = Field(min_length=1, max_length=200)
    required_course_ids: list[str] = Field(min_length=1, max_length=20)
    validity_months: int = Field(ge=1, le=120)
    defined_at: UtcDateTime


TRAINING_EVENTS: tuple[type[EventDetail], ...] = (
    CertificationDefined,
    TrainingCompleted,
    CertificationEarned,
    CertificationExpired,
    CertificationWithdrawn,
)
