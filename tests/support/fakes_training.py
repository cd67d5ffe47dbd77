"""In-memory fakes of training's ports (`training.ports`), for service tests without AWS or moto.

The repository keeps the conditions the DynamoDB adapter writes with, so the service meets the same refusals:
- a learner's change is written only at the person's next revision (`StaleRecord`), all or nothing, with its events
  in `outbox`;
- a delivery counts once: its source guard (and its completion id) must not exist (`DuplicateSource`);
- a course's latest pass never moves back in time (`StaleRecord`), and a completion reads only the passes and awards
  it names (`learner_for`, as the adapter's BatchGetItem), and of the pass log only the entry nearest it on either
  side per course it names (as the adapter's Limit-1 queries);
- a review item is closed only while open (`StaleRecord`); one course per LMS id (`DuplicateLmsCourse`);
- connections and import jobs are saved only at the revision after the stored one (`StaleRecord`), an import's chunk
  with its job, all or nothing, and never twice.
The agreement gate is the kernel's own rule (`contracts.onboarding_agreement_gate.require_accepted`) over the same two
items the adapter's table holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from shared.errors import FieldError, ValidationFailed
from shared.events import EventDetail
from shared.principal import Principal
from training.domain import catalogue
from training.models import (
    Award,
    Certification,
    Completion,
    Connection,
    Course,
    CoursePass,
    ImportChunk,
    ImportJob,
    Learner,
    LearnerChange,
    PartnerProfile,
    Person,
    ReviewItem,
    SourceGuard,
)
from training.ports import DuplicateCertificationName, DuplicateLmsCourse, DuplicateSource, StaleRecord, StoredFile


def _page(ordered: list[Any], name: str, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of an ordered list; the cursor (`<name>|<offset>`) is bound to the list, a foreign one is a 400."""
    if cursor is not None and not re.fullmatch(rf"{name}\|\d{{1,6}}", cursor):
        raise ValidationFailed("The cursor is not valid for this list.", [FieldError("cursor", "invalid")])
    start = int(cursor.removeprefix(f"{name}|")) if cursor else 0
    return ordered[start : start + limit], (f"{name}|{start + limit}" if start + limit < len(ordered) else None)


@dataclass
class _AgreementItems:
    """The `AGREEMENT` items, read by the kernel's gate as the adapter's table would answer them."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.items.get((pk, sk))


@dataclass
class FakeTrainingRepository:
    courses_by_id: dict[str, Course] = field(default_factory=dict)
    certifications_by_id: dict[str, Certification] = field(default_factory=dict)
    certification_names: set[str] = field(default_factory=set)  # the unique-name items (`catalogue.name_key`)
    connections: dict[str, Connection] = field(default_factory=dict)
    partners: dict[str, PartnerProfile] = field(default_factory=dict)
    persons: dict[tuple[str, str], Person] = field(default_factory=dict)  # (email, partner) -> person
    completions: dict[tuple[str, str], list[Completion]] = field(default_factory=dict)  # (email, partner) -> ...
    awards: dict[tuple[str, str, str], Award] = field(default_factory=dict)  # (email, partner, certification)
    passes: dict[tuple[str, str, str], CoursePass] = field(default_factory=dict)  # (email, partner, course): latest
    learner_reads: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    pass_log: dict[tuple[str, str, str], list[datetime]] = field(default_factory=dict)  # (email, partner, course)
    nearby_reads: list[tuple[str, tuple[str, ...], datetime]] = field(default_factory=list)
    guards: dict[str, SourceGuard] = field(default_factory=dict)
    items: dict[str, ReviewItem] = field(default_factory=dict)
    jobs: dict[str, ImportJob] = field(default_factory=dict)
    chunks: dict[tuple[str, int], ImportChunk] = field(default_factory=dict)  # (import, start row) -> outcomes
    outbox: list[EventDetail] = field(default_factory=list)
    fail_next_saves: int = 0  # lose the race this many times (another writer changed the learner)
    fail_next_import_saves: int = 0  # lose the race on an import job this many times (another delivery saved it)
    agreement: _AgreementItems = field(default_factory=_AgreementItems)
    catalogue_reads: int = 0  # course look-ups by LMS id and certification listings

    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if type(e).__name__ == detail_type]

    def publish_agreement(self, version: str) -> None:
        self.agreement.items[agreements.PK, "CURRENT"] = {"version": version}

    def accept_agreement(self, version: str, sub: str) -> None:
        self.agreement.items[agreements.PK, f"ACCEPTED#{version}#{sub}"] = {"sub": sub}

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.agreement, principal)  # type: ignore[arg-type]

    # catalogue
    def courses(self) -> list[Course]:
        return list(self.courses_by_id.values())

    def courses_named(self, course_ids: Sequence[str]) -> list[Course]:
        return [self.courses_by_id[c] for c in dict.fromkeys(course_ids) if c in self.courses_by_id]

    def course_by_lms(self, lms_course_id: str) -> Course | None:
        self.catalogue_reads += 1
        return next((c for c in self.courses_by_id.values() if c.lms_course_id == lms_course_id), None)

    def course_by_activity(self, iri: str) -> Course | None:
        self.catalogue_reads += 1
        key = catalogue.activity_key(iri)
        return next(
            (c for c in self.courses_by_id.values() if key in {k for k, _ in catalogue.activity_keys(c)}), None
        ) or next((c for c in self.courses_by_id.values() if c.lms_course_id == iri), None)

    def add_course(self, course: Course) -> None:
        if self.course_by_lms(course.lms_course_id) is not None:
            raise DuplicateLmsCourse(course.lms_course_id)
        taken = {k for c in self.courses_by_id.values() for k, _ in catalogue.activity_keys(c)}
        for key, named in catalogue.activity_keys(course):
            if key in taken:
                raise DuplicateLmsCourse(course.lms_course_id, named)
        self.courses_by_id[course.course_id] = course

    def certifications(self) -> list[Certification]:
        self.catalogue_reads += 1
        return list(self.certifications_by_id.values())

    def add_certification(self, certification: Certification, event: EventDetail) -> None:
        assert certification.certification_id not in self.certifications_by_id
        if catalogue.name_key(certification.name) in self.certification_names:
            raise DuplicateCertificationName(certification.name)
        self.certification_names.add(catalogue.name_key(certification.name))
        self.certifications_by_id[certification.certification_id] = certification
        self.outbox.append(event)

    # connections
    def connection(self, connection_id: str) -> Connection | None:
        return self.connections.get(connection_id)

    def add_connection(self, connection: Connection) -> None:
        assert connection.connection_id not in self.connections
        self.connections[connection.connection_id] = connection

    def save_connection(self, connection: Connection) -> None:
        stored = self.connections.get(connection.connection_id)
        if stored is None or stored.revision != connection.revision - 1:
            raise StaleRecord(connection.connection_id)
        self.connections[connection.connection_id] = connection

    def connections_page(self, *, limit: int, cursor: str | None) -> tuple[list[Connection], str | None]:
        """Newest first; the cursor is bound to this list, as the adapter's is."""
        ordered = sorted(self.connections.values(), key=lambda c: (c.created_at, c.connection_id), reverse=True)
        return _page(ordered, "connections", limit, cursor)

    # partners and people
    def project_partner(self, partner: PartnerProfile) -> bool:
        known = self.partners.get(partner.partner_id)
        if known is not None and known.as_of >= partner.as_of:
            return False
        self.partners[partner.partner_id] = partner
        return True

    def partner(self, partner_id: str) -> PartnerProfile | None:
        return self.partners.get(partner_id)

    def memberships(self, email: str) -> list[Person]:
        return [p for (e, _), p in self.persons.items() if e == email]

    def learner(self, partner_id: str, email: str) -> Learner:
        return Learner(
            partner_id=partner_id,
            email=email,
            person=self.persons.get((email, partner_id)),
            awards={c: a for (e, p, c), a in self.awards.items() if (e, p) == (email, partner_id)},
        )

    def learner_for(
        self,
        partner_id: str,
        email: str,
        *,
        courses: Sequence[str],
        certifications: Sequence[str],
        around: datetime | None = None,
        nearby: Sequence[str] = (),
    ) -> Learner:
        """Only what was asked for, as the DynamoDB adapter's BatchGetItem and Limit-1 queries: a rule that needs more
        fails here too."""
        self.learner_reads.append((email, partner_id, tuple(courses), tuple(certifications)))
        near: dict[str, tuple[datetime, ...]] = {}
        if around is not None:
            self.nearby_reads.append((email, tuple(nearby), around))
            for course_id in dict.fromkeys(nearby):
                log = sorted(
                    t
                    for (e, p, c), ts in self.pass_log.items()
                    if (e, p, c) == (email, partner_id, course_id)
                    for t in ts
                )
                before = [t for t in log if t <= around][-1:]
                after = [t for t in log if t > around][:1]
                near[course_id] = tuple(before + after)
        return Learner(
            nearby=near,
            partner_id=partner_id,
            email=email,
            person=self.persons.get((email, partner_id)),
            awards={
                c: a for (e, p, c), a in self.awards.items() if (e, p) == (email, partner_id) and c in certifications
            },
            passes={
                c: kept for (e, p, c), kept in self.passes.items() if (e, p) == (email, partner_id) and c in courses
            },
        )

    def learner_completions(self, partner_id: str, email: str) -> list[Completion]:
        return list(self.completions.get((email, partner_id), []))

    def save_learner(self, change: LearnerChange) -> None:
        person = change.person
        key = (person.email, person.partner_id)
        stored = self.persons.get(key)
        if self.fail_next_saves:
            self.fail_next_saves -= 1
            raise StaleRecord(person.email)
        if (stored is None and person.revision != 1) or (stored is not None and stored.revision != person.revision - 1):
            raise StaleRecord(person.email)
        if change.guard is not None and change.guard.dedup_key in self.guards:
            raise DuplicateSource(change.guard.dedup_key)
        mine = self.completions.get(key, [])
        if change.completion is not None and any(c.completion_id == change.completion.completion_id for c in mine):
            raise DuplicateSource(change.completion.completion_id)
        if change.latest_pass is not None:
            p = change.latest_pass
            kept = self.passes.get((p.learner_email, p.partner_id, p.course_id))
            if kept is not None and kept.completed_at > p.completed_at:
                raise StaleRecord(person.email)
        for award in change.awards:
            held = self.awards.get((award.holder_email, award.partner_id, award.certification_id))
            if held is not None and held.award_id != award.award_id and held.status == "active":
                raise StaleRecord(person.email)
        if change.closes is not None:
            current = self.items.get(change.closes.item_id)
            if current is None or current.status != "open":
                raise StaleRecord(change.closes.item_id)
        # every condition held: write all of it
        self.persons[key] = person
        if change.completion is not None:
            self.completions[key] = [*mine, change.completion]
        if change.latest_pass is not None:
            p = change.latest_pass
            self.passes[p.learner_email, p.partner_id, p.course_id] = p
        if change.logged_pass is not None:
            p = change.logged_pass
            self.pass_log.setdefault((p.learner_email, p.partner_id, p.course_id), []).append(p.completed_at)
        for award in change.awards:
            self.awards[award.holder_email, award.partner_id, award.certification_id] = award
        if change.guard is not None:
            self.guards[change.guard.dedup_key] = change.guard
        if change.closes is not None:
            self.items[change.closes.item_id] = change.closes
        self.outbox.extend(change.events)

    def partner_people(self, partner_id: str) -> list[Person]:
        return [p for (_, pid), p in self.persons.items() if pid == partner_id]

    def partner_awards(self, partner_id: str) -> list[Award]:
        return [a for (_, pid, _), a in self.awards.items() if pid == partner_id]

    # sources and the review list
    def source(self, dedup_key: str) -> SourceGuard | None:
        return self.guards.get(dedup_key)

    def add_review(self, item: ReviewItem, guard: SourceGuard) -> None:
        if guard.dedup_key in self.guards or item.item_id in self.items:
            raise DuplicateSource(guard.dedup_key)
        self.items[item.item_id] = item
        self.guards[guard.dedup_key] = guard

    def review_item(self, item_id: str) -> ReviewItem | None:
        return self.items.get(item_id)

    def save_review(self, item: ReviewItem) -> None:
        current = self.items.get(item.item_id)
        if current is None or current.status != "open":
            raise StaleRecord(item.item_id)
        self.items[item.item_id] = item

    def open_review(self, *, limit: int, cursor: str | None) -> tuple[list[ReviewItem], str | None]:
        """Oldest first; the cursor is bound to this list, as the adapter's is."""
        if cursor is not None and not cursor.startswith("review|"):
            raise ValidationFailed("The cursor is not valid.", [FieldError("cursor", "not valid")])
        start = int(cursor.removeprefix("review|")) if cursor else 0
        open_items = sorted(
            (i for i in self.items.values() if i.status == "open"), key=lambda i: (i.received_at, i.item_id)
        )
        page = open_items[start : start + limit]
        return page, (f"review|{start + limit}" if start + limit < len(open_items) else None)

    # imports
    def import_job(self, import_id: str) -> ImportJob | None:
        return self.jobs.get(import_id)

    def imports_page(self, *, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        """Newest first; the cursor is bound to this list, as the adapter's is."""
        ordered = sorted(self.jobs.values(), key=lambda j: (j.created_at, j.import_id), reverse=True)
        return _page(ordered, "imports", limit, cursor)

    def add_import(self, job: ImportJob) -> None:
        assert job.import_id not in self.jobs
        self.jobs[job.import_id] = job

    def save_import(self, job: ImportJob) -> None:
        if self.fail_next_import_saves:
            self.fail_next_import_saves -= 1
            raise StaleRecord(job.import_id)
        stored = self.jobs.get(job.import_id)
        if stored is None or stored.revision != job.revision - 1:
            raise StaleRecord(job.import_id)
        self.jobs[job.import_id] = job

    def record_import_chunk(self, job: ImportJob, chunk: ImportChunk) -> None:
        stored = self.jobs.get(job.import_id)
        if stored is None or stored.revision != job.revision - 1 or (chunk.import_id, chunk.start) in self.chunks:
            raise StaleRecord(job.import_id)
        self.jobs[job.import_id] = job
        self.chunks[chunk.import_id, chunk.start] = chunk

    def mark_next_sent(self, job: ImportJob) -> None:
        stored = self.jobs.get(job.import_id)
        if stored is not None and stored.rows_processed == job.rows_processed:
            self.jobs[job.import_id] = stored.model_copy(update={"next_sent_from": job.rows_processed})

    def import_chunks(self, import_id: str) -> list[ImportChunk]:
        return [c for (i, _), c in sorted(self.chunks.items()) if i == import_id]


@dataclass
class FakeImportFiles:
    """Objects by key, as the bucket holds them (with the type the uploader sent)."""

    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    upload_expires_seconds: int = 600

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        return {"url": "https://bucket.example/", "fields": {"key": key, "Content-Type": content_type}}

    def stored(self, key: str) -> StoredFile | None:
        found = self.objects.get(key)
        return StoredFile(size=len(found[0]), content_type=found[1]) if found else None

    def read(self, key: str, max_bytes: int) -> bytes | None:
        found = self.objects.get(key)
        if found is None:
            return None
        if len(found[0]) > max_bytes:
            raise ValueError(f"The file is larger than {max_bytes} bytes.")
        return found[0]

    def write_report(self, key: str, rows: list[dict[str, Any]]) -> None:
        self.objects[key] = (json.dumps({"rows": rows}).encode(), "application/json")

    def read_report(self, key: str) -> list[dict[str, Any]] | None:
        found = self.objects.get(key)
        return list(json.loads(found[0])["rows"]) if found else None


@dataclass
class FakeWorkQueue:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, message: dict[str, Any]) -> str:
        self.sent.append(message)
        return f"msg-{len(self.sent)}"
