"""The course catalogue and certification definitions, kept by vendor admins."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime

from contracts.training import ALL_PARTNERS, CertificationDefined
from shared.errors import Conflict, FieldError, ValidationFailed
from training.domain.common import NewId
from training.models import Certification, CertificationBody, Course, CourseBody

IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")  # an absolute IRI, as an xAPI activity id is
MAX_COURSES = 1000  # the catalogue is read whole (one partition query): it stays small by rule
MAX_CERTIFICATIONS = 200


def ensure_room(existing: int, limit: int, what: str) -> None:
    if existing >= limit:
        raise Conflict(f"The catalogue already holds the maximum of {limit} {what}.", code="limit_reached")


def name_key(name: str) -> str:
    """What two certification names alike (case-insensitive, outer spaces ignored) share: the unique-name item's key."""
    return name.strip().casefold()


def duplicate_name() -> Conflict:
    return Conflict(
        "Another certification already has this name.",
        code="duplicate_certification",
        errors=[FieldError("name", "already used by another certification")],
    )


def ensure_new_name(name: str, certifications: Iterable[Certification]) -> None:
    """Two certifications are never named alike (case-insensitive): holders and admins tell them apart by name. This
    reads the catalogue (a clear answer for the usual case); the write's unique-name item settles a race."""
    wanted = name_key(name)
    if any(name_key(c.name) == wanted for c in certifications):
        raise duplicate_name()


def defined(certification: Certification, *, now: datetime, new_id: NewId) -> CertificationDefined:
    """The event other contexts learn the certification from (tiers: the ids its criteria may name)."""
    return CertificationDefined.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=ALL_PARTNERS,
        certification_id=certification.certification_id,
        certification_name=certification.name,
        required_course_ids=list(certification.required_course_ids),
        validity_months=certification.validity_months,
        defined_at=certification.created_at,
    )


def activity_key(iri: str) -> str:
    """What an xAPI activity id is looked up by: the IRI exactly, but for one trailing slash (`.../net-101/` and
    `.../net-101` are one activity)."""
    return iri[:-1] if iri.endswith("/") and len(iri) > 1 else iri


def activity_keys(course: Course) -> list[tuple[str, str]]:
    """The course's xAPI activity keys, each once, with the request field that declared it: its LMS course id when it
    is an IRI (so no other course can take it by a trailing slash), then its activity ids."""
    named = [("lms_course_id", course.lms_course_id)] if IRI.fullmatch(course.lms_course_id) else []
    named += [(f"activity_ids.{n}", iri) for n, iri in enumerate(course.activity_ids)]
    keys: dict[str, str] = {}
    for field, iri in named:
        keys.setdefault(activity_key(iri), field)
    return [(key, field) for key, field in keys.items()]


def new_course(body: CourseBody, *, by: str, now: datetime, new_id: NewId) -> Course:
    return Course(
        course_id=new_id("crs"),
        title=body.title,
        lms_course_id=body.lms_course_id,
        activity_ids=list(body.activity_ids),
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


def partners_of(certifications: Iterable[Certification], course_id: str) -> list[str]:
    """The other required courses of these certifications: those a new pass of `course_id` may form a qualifying set
    with (their logged passes nearest it are read)."""
    named = (c for cert in certifications for c in cert.required_course_ids if c != course_id)
    return list(dict.fromkeys(named))
