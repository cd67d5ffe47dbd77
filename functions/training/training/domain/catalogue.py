"""The course catalogue and certification definitions, kept by vendor admins."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from shared.errors import Conflict, FieldError, ValidationFailed
from training.domain.common import NewId
from training.models import Certification, CertificationBody, Course, CourseBody

MAX_COURSES = 1000  # the catalogue is read whole (one partition query): it stays small by rule
MAX_CERTIFICATIONS = 200


def ensure_room(existing: int, limit: int, what: str) -> None:
    if existing >= limit:
        raise Conflict(f"The catalogue already holds the maximum of {limit} {what}.", code="limit_reached")


def ensure_new_name(name: str, certifications: Iterable[Certification]) -> None:
    """Two certifications are never named alike (case-insensitive): holders and admins tell them apart by name."""
    wanted = name.strip().casefold()
    if any(c.name.strip().casefold() == wanted for c in certifications):
        raise Conflict(
            "Another certification already has this name.",
            code="duplicate_certification",
            errors=[FieldError("name", "already used by another certification")],
        )


def new_course(body: CourseBody, *, by: str, now: datetime, new_id: NewId) -> Course:
    return Course(
        course_id=new_id("crs"),
        title=body.title,
        lms_course_id=body.lms_course_id,
        credit_hours=body.credit_hours,
        language=body.language,
        created_by=by,
        created_at=now,
    )


def new_certification(
    body: CertificationBody, *, known_courses: Collection[str], by: str, now: datetime, new_id: NewId
) -> Certification:
    """A certification over courses that exist; the completion window defaults to the validity."""
    errors = [
        FieldError(f"required_course_ids.{i}", "no such course")
        for i, course_id in enumerate(body.required_course_ids)
        if course_id not in known_courses
    ]
    if body.renewal_course_id is not None and body.renewal_course_id not in known_courses:
        errors.append(FieldError("renewal_course_id", "no such course"))
    if errors:
        raise ValidationFailed("Some courses do not exist.", errors)
    return Certification(
        certification_id=new_id("cert"),
        name=body.name,
        required_course_ids=list(body.required_course_ids),
        validity_months=body.validity_months,
        completion_window_months=body.completion_window_months or body.validity_months,
        renewal_course_id=body.renewal_course_id,
        created_by=by,
        created_at=now,
    )


def concerns(certification: Certification, course_id: str) -> bool:
    """A pass of this course can earn or renew the certification."""
    return course_id in certification.required_course_ids or course_id == certification.renewal_course_id


def courses_of(certifications: Iterable[Certification]) -> list[str]:
    """Every course whose pass the rules of these certifications read: the required ones and the renewal course."""
    named = (
        course
        for c in certifications
        for course in [*c.required_course_ids, *([c.renewal_course_id] if c.renewal_course_id else [])]
    )
    return list(dict.fromkeys(named))
