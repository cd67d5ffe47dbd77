"""Training's DynamoDB adapter of the repository port (`training.ports.TrainingRepository`).

Keys: `CATALOGUE` with `COURSE#<id>`, `LMS#<lms course id>` (one course per LMS id), `ACTIVITY#<iri without a
trailing slash>` (one course per xAPI activity id: its LMS course id when an IRI and its `activity_ids`), `CERT#<id>` and
`CERTNAME#<sha256 of the case-folded name>` (one certification per name);
`CONNECTION#<id>`; `PARTNER#<id>`/`PROFILE` (projection); a person's record under their email: `EMAIL#<email>` with
`PERSON#<partner>` (index `by-partner`: `USER#<email>`), `COMPLETION#<partner>#<id>`, `PASS#<partner>#<course>` (the
latest pass of a course, written with the completion when newer), `PASSLOG#<partner>#<course>#<completed_at>#<id>`
(every pass, time-sorted: a completion reads the pass nearest it of each other required course, Limit-1 key ranges)
and `AWARD#<partner>#<certification>` (index
`by-partner`: `AWARD#<certification>#<email>`), so a completion reads the person, its certifications' awards and their
courses' passes in one BatchGetItem whatever the learner's history (only the learner's own view lists completions); `SOURCE#<sha256 of the delivery key>` (a delivery counts once); `REVIEW#<id>` (index
`by-status`: `REVIEW#open`, oldest first, only while open); `CONNECTION#<id>` is also on index `by-status` under
`CONNECTIONS` (`<created_at>#<id>`: the vendor admin's list); `IMPORT#<id>` with `IMPORT` (the job; index
`by-status`: `IMPORTS`, `<created_at>#<id>`, listed newest first) and `ROWS#<start>`
(one chunk's row outcomes, written with the job's cursor); `OUTBOX#<event id>`; and the agreement gate's projection
(`AGREEMENT`, contracts.onboarding_agreement_gate).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from shared.aws import client
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table, from_item, values
from shared.events import EventDetail
from shared.outbox import outbox_item
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
    ImportRow,
    Learner,
    LearnerChange,
    PartnerProfile,
    Person,
    ReviewItem,
    SourceGuard,
)
from training.ports import DuplicateCertificationName, DuplicateLmsCourse, DuplicateSource, StaleRecord

CATALOGUE = "CATALOGUE"
BY_PARTNER = ("by-partner", ("gsi1pk", "gsi1sk"))
BY_STATUS = ("by-status", ("gsi2pk", "gsi2sk"))
OPEN_REVIEW = "REVIEW#open"
CONNECTIONS = "CONNECTIONS"  # index `by-status`: every LMS connection, by creation time
IMPORTS = "IMPORTS"  # index `by-status`: every CSV import job, by creation time


def _numbers(value: Any) -> Any:
    """Floats (credit hours, scores) as DynamoDB numbers: boto3 takes them only as Decimal (read back as text, which
    the records' float fields parse)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _source_pk(dedup_key: str) -> str:
    return "SOURCE#" + hashlib.sha256(dedup_key.encode()).hexdigest()


def _revision_condition(revision: int) -> dict[str, Any]:
    """Created (revision 1) or exactly one revision after what was read."""
    if revision == 1:
        return {"condition": "attribute_not_exists(pk)"}
    return {"condition": "revision = :expected", "condition_values": {":expected": revision - 1}}


class TrainingRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.table, principal)

    def _index_all(self, index: tuple[str, tuple[str, str]], pk: str, prefix: str) -> list[dict[str, Any]]:
        name, keys = index
        items, start = self.table.query(pk, sk_prefix=prefix, index=name, key_names=keys)
        while start:
            page, start = self.table.query(pk, sk_prefix=prefix, index=name, key_names=keys, start_key=start)
            items += page
        return items

    # ------------------------------------------------------------- catalogue
    def courses(self) -> list[Course]:
        return [Course.model_validate(i) for i in self.table.query_all(CATALOGUE, sk_prefix="COURSE#")]

    def courses_named(self, course_ids: Sequence[str]) -> list[Course]:
        items = self.table.get_many([(CATALOGUE, f"COURSE#{c}") for c in dict.fromkeys(course_ids)])
        return [Course.model_validate(i) for i in items]

    def course_by_lms(self, lms_course_id: str) -> Course | None:
        item = self.table.get(CATALOGUE, f"LMS#{lms_course_id}")
        return Course.model_validate(item) if item else None

    def course_by_activity(self, iri: str) -> Course | None:
        item = self.table.get(CATALOGUE, f"ACTIVITY#{catalogue.activity_key(iri)}")
        if item is None:  # a course created before activity items were written: its LMS course id, exactly
            item = self.table.get(CATALOGUE, f"LMS#{iri}")
        return Course.model_validate(item) if item else None

    def add_course(self, course: Course) -> None:
        data = _numbers(course.model_dump(mode="json"))
        t = self.table
        activities = catalogue.activity_keys(course)
        try:
            t.transact(
                [
                    t.op_put({"pk": CATALOGUE, "sk": f"COURSE#{course.course_id}", "entity": "course"} | data),
                    t.op_put(
                        {"pk": CATALOGUE, "sk": f"LMS#{course.lms_course_id}", "entity": "course-lms-id"} | data,
                        condition="attribute_not_exists(sk)",
                    ),
                    *(
                        t.op_put(
                            {"pk": CATALOGUE, "sk": f"ACTIVITY#{key}", "entity": "course-activity-id"} | data,
                            condition="attribute_not_exists(sk)",
                        )
                        for key, _ in activities
                    ),
                ]
            )
        except ConditionFailed as failure:
            if failure.failed_at(1):
                raise DuplicateLmsCourse(course.lms_course_id) from failure
            for n, (_, field) in enumerate(activities):
                if failure.failed_at(2 + n):
                    raise DuplicateLmsCourse(course.lms_course_id, field) from failure
            raise

    def certifications(self) -> list[Certification]:
        return [Certification.model_validate(i) for i in self.table.query_all(CATALOGUE, sk_prefix="CERT#")]

    def add_certification(self, certification: Certification, event: EventDetail) -> None:
        t = self.table
        name = hashlib.sha256(catalogue.name_key(certification.name).encode()).hexdigest()
        try:
            t.transact(
                [
                    t.op_put(
                        {"pk": CATALOGUE, "sk": f"CERT#{certification.certification_id}", "entity": "certification"}
                        | _numbers(certification.model_dump(mode="json")),
                        condition="attribute_not_exists(sk)",
                    ),
                    t.op_put(
                        {
                            "pk": CATALOGUE,
                            "sk": f"CERTNAME#{name}",
                            "entity": "certification-name",
                            "certification_id": certification.certification_id,
                            "name": certification.name,
                        },
                        condition="attribute_not_exists(sk)",
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )
        except ConditionFailed as failure:
            if failure.failed_at(1):
                raise DuplicateCertificationName(certification.name) from failure
            raise

    # ------------------------------------------------------------- connections
    def connection(self, connection_id: str) -> Connection | None:
        item = self.table.get(f"CONNECTION#{connection_id}", "CONNECTION")
        return Connection.model_validate(item) if item else None

    def _connection_item(self, connection: Connection) -> dict[str, Any]:
        return {
            "pk": f"CONNECTION#{connection.connection_id}",
            "sk": "CONNECTION",
            "entity": "connection",
            "gsi2pk": CONNECTIONS,
            "gsi2sk": f"{iso(connection.created_at)}#{connection.connection_id}",
        } | _numbers(connection.model_dump(mode="json"))

    def connections_page(self, *, limit: int, cursor: str | None) -> tuple[list[Connection], str | None]:
        """One page of the connections, newest first (a Query of the `by-status` index's `CONNECTIONS` key)."""
        name, keys = BY_STATUS
        items, next_cursor = self.table.page(CONNECTIONS, index=name, key_names=keys, limit=limit, cursor=cursor)
        return [Connection.model_validate(i) for i in items], next_cursor

    def add_connection(self, connection: Connection) -> None:
        self.table.put_new(self._connection_item(connection))

    def save_connection(self, connection: Connection) -> None:
        t = self.table
        try:
            t.transact([t.op_put(self._connection_item(connection), **_revision_condition(connection.revision))])
        except ConditionFailed as failure:
            raise StaleRecord(connection.connection_id) from failure

    # ------------------------------------------------------------- partners and people
    def project_partner(self, partner: PartnerProfile) -> bool:
        item = {"pk": f"PARTNER#{partner.partner_id}", "sk": "PROFILE", "entity": "partner"}
        return self.table.put_newer(
            item | _numbers(partner.model_dump(mode="json")), order="as_of", value=iso(partner.as_of)
        )

    def partner(self, partner_id: str) -> PartnerProfile | None:
        item = self.table.get(f"PARTNER#{partner_id}", "PROFILE")
        return PartnerProfile.model_validate(item) if item else None

    def memberships(self, email: str) -> list[Person]:
        return [Person.model_validate(i) for i in self.table.query_all(f"EMAIL#{email}", sk_prefix="PERSON#")]

    def learner(self, partner_id: str, email: str) -> Learner:
        """The person and every award they hold or held (one per certification): no completions."""
        pk = f"EMAIL#{email}"
        person = self.table.get(pk, f"PERSON#{partner_id}")
        awards = [Award.model_validate(i) for i in self.table.query_all(pk, sk_prefix=f"AWARD#{partner_id}#")]
        return Learner(
            partner_id=partner_id,
            email=email,
            person=Person.model_validate(person) if person else None,
            awards={a.certification_id: a for a in awards},
        )

    def _nearest_pass(self, pk: str, prefix: str, at: datetime, *, before: bool) -> datetime | None:
        """The logged pass (`PASSLOG#...#<completed_at>#<completion id>`) last at or before `at`, or first after it:
        one Limit-1 key-range Query, one item at most whatever the log's length."""
        moment = iso(at)
        low, high = (prefix, f"{prefix}{moment}#~") if before else (f"{prefix}{moment}#~", f"{prefix}~")
        answer = client("dynamodb").query(
            TableName=self.table.name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=values({":pk": pk, ":low": low, ":high": high}),
            ScanIndexForward=not before,
            Limit=1,
            ConsistentRead=True,
        )
        found = [from_item(i) for i in answer.get("Items", [])]
        return CoursePass.model_validate(found[0]).completed_at if found else None

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
        pk = f"EMAIL#{email}"
        near: dict[str, tuple[datetime, ...]] = {}
        if around is not None:
            for course_id in dict.fromkeys(nearby):
                prefix = f"PASSLOG#{partner_id}#{course_id}#"
                nearest = (self._nearest_pass(pk, prefix, around, before=b) for b in (True, False))
                near[course_id] = tuple(t for t in nearest if t is not None)
        keys = [
            (pk, f"PERSON#{partner_id}"),
            *((pk, f"AWARD#{partner_id}#{c}") for c in dict.fromkeys(certifications)),
            *((pk, f"PASS#{partner_id}#{c}") for c in dict.fromkeys(courses)),
        ]
        found = {item["sk"]: item for item in self.table.get_many(keys)}
        person = found.get(f"PERSON#{partner_id}")
        awards = [Award.model_validate(i) for sk, i in found.items() if sk.startswith("AWARD#")]
        passes = [CoursePass.model_validate(i) for sk, i in found.items() if sk.startswith("PASS#")]
        return Learner(
            partner_id=partner_id,
            email=email,
            person=Person.model_validate(person) if person else None,
            awards={a.certification_id: a for a in awards},
            passes={p.course_id: p for p in passes},
            nearby=near,
        )

    def learner_completions(self, partner_id: str, email: str) -> list[Completion]:
        items = self.table.query_all(f"EMAIL#{email}", sk_prefix=f"COMPLETION#{partner_id}#")
        return [Completion.model_validate(i) for i in items]

    def _person_item(self, person: Person) -> dict[str, Any]:
        return {
            "pk": f"EMAIL#{person.email}",
            "sk": f"PERSON#{person.partner_id}",
            "entity": "person",
            "gsi1pk": f"PARTNER#{person.partner_id}",
            "gsi1sk": f"USER#{person.email}",
        } | _numbers(person.model_dump(mode="json"))

    def _award_item(self, award: Award) -> dict[str, Any]:
        return {
            "pk": f"EMAIL#{award.holder_email}",
            "sk": f"AWARD#{award.partner_id}#{award.certification_id}",
            "entity": "award",
            "gsi1pk": f"PARTNER#{award.partner_id}",
            "gsi1sk": f"AWARD#{award.certification_id}#{award.holder_email}",
        } | _numbers(award.model_dump(mode="json"))

    def _guard_item(self, guard: SourceGuard) -> dict[str, Any]:
        return {"pk": _source_pk(guard.dedup_key), "sk": "SOURCE", "entity": "source"} | _numbers(
            guard.model_dump(mode="json")
        )

    def _review_item(self, item: ReviewItem) -> dict[str, Any]:
        index = (
            {"gsi2pk": OPEN_REVIEW, "gsi2sk": f"{iso(item.received_at)}#{item.item_id}"}
            if item.status == "open"
            else {}
        )
        return (
            {"pk": f"REVIEW#{item.item_id}", "sk": "REVIEW", "entity": "review"}
            | index
            | _numbers(item.model_dump(mode="json"))
        )

    def save_learner(self, change: LearnerChange) -> None:
        """The person at its next revision with everything the change carries, all or nothing."""
        t = self.table
        ops = [t.op_put(self._person_item(change.person), **_revision_condition(change.person.revision))]
        completion_at = guard_at = closes_at = -1
        if change.completion is not None:
            c = change.completion
            completion_at = len(ops)
            ops.append(
                t.op_put(
                    {
                        "pk": f"EMAIL#{c.learner_email}",
                        "sk": f"COMPLETION#{c.partner_id}#{c.completion_id}",
                        "entity": "completion",
                    }
                    | _numbers(c.model_dump(mode="json"))
                )
            )
        pass_at = -1
        if change.latest_pass is not None:
            p = change.latest_pass
            pass_at = len(ops)
            ops.append(
                t.op_put(
                    {"pk": f"EMAIL#{p.learner_email}", "sk": f"PASS#{p.partner_id}#{p.course_id}", "entity": "pass"}
                    | _numbers(p.model_dump(mode="json")),
                    # the person's revision serialises this already; the pass item never moves back in time
                    condition="attribute_not_exists(pk) OR completed_at <= :at",
                    condition_values={":at": iso(p.completed_at)},
                )
            )
        if change.logged_pass is not None:
            p = change.logged_pass
            ops.append(
                t.op_put(
                    {
                        "pk": f"EMAIL#{p.learner_email}",
                        "sk": f"PASSLOG#{p.partner_id}#{p.course_id}#{iso(p.completed_at)}#{p.completion_id}",
                        "entity": "pass-log",
                    }
                    | _numbers(p.model_dump(mode="json"))
                )
            )
        first_award = len(ops)
        ops += [
            t.op_put(
                self._award_item(award),
                condition="attribute_not_exists(pk) OR award_id = :award OR #status <> :active",
                condition_values={":award": award.award_id, ":active": "active"},
                names={"#status": "status"},
            )
            for award in change.awards
        ]
        awards_end = len(ops)
        if change.guard is not None:
            guard_at = len(ops)
            ops.append(t.op_put(self._guard_item(change.guard)))
        if change.closes is not None:
            closes_at = len(ops)
            ops.append(
                t.op_put(
                    self._review_item(change.closes),
                    condition="#status = :open",
                    condition_values={":open": "open"},
                    names={"#status": "status"},
                )
            )
        ops += [t.op_put(outbox_item(e)) for e in change.events]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if failure.failed_at(guard_at) or failure.failed_at(completion_at):
                raise DuplicateSource(change.guard.dedup_key if change.guard else "") from failure
            if failure.failed_at(0) or failure.failed_at(closes_at) or (pass_at > 0 and failure.failed_at(pass_at)):
                raise StaleRecord(change.person.email) from failure
            if any(failure.failed_at(i) for i in range(first_award, awards_end)):
                raise StaleRecord(change.person.email) from failure
            raise

    def partner_people(self, partner_id: str) -> list[Person]:
        return [Person.model_validate(i) for i in self._index_all(BY_PARTNER, f"PARTNER#{partner_id}", "USER#")]

    def partner_awards(self, partner_id: str) -> list[Award]:
        return [Award.model_validate(i) for i in self._index_all(BY_PARTNER, f"PARTNER#{partner_id}", "AWARD#")]

    # ------------------------------------------------------------- sources and the review list
    def source(self, dedup_key: str) -> SourceGuard | None:
        item = self.table.get(_source_pk(dedup_key), "SOURCE")
        return SourceGuard.model_validate(item) if item else None

    def add_review(self, item: ReviewItem, guard: SourceGuard) -> None:
        t = self.table
        try:
            t.transact([t.op_put(self._review_item(item)), t.op_put(self._guard_item(guard))])
        except ConditionFailed as failure:
            raise DuplicateSource(guard.dedup_key) from failure

    def review_item(self, item_id: str) -> ReviewItem | None:
        item = self.table.get(f"REVIEW#{item_id}", "REVIEW")
        return ReviewItem.model_validate(item) if item else None

    def save_review(self, item: ReviewItem) -> None:
        t = self.table
        try:
            t.transact(
                [
                    t.op_put(
                        self._review_item(item),
                        condition="#status = :open",
                        condition_values={":open": "open"},
                        names={"#status": "status"},
                    )
                ]
            )
        except ConditionFailed as failure:
            raise StaleRecord(item.item_id) from failure

    def open_review(self, *, limit: int, cursor: str | None) -> tuple[list[ReviewItem], str | None]:
        """One page of open items, oldest first; the cursor is opaque and bound to this list."""
        name, keys = BY_STATUS
        items, next_cursor = self.table.page(
            OPEN_REVIEW, index=name, key_names=keys, limit=limit, cursor=cursor, forward=True
        )
        return [ReviewItem.model_validate(i) for i in items], next_cursor

    # ------------------------------------------------------------- imports
    def import_job(self, import_id: str) -> ImportJob | None:
        item = self.table.get(f"IMPORT#{import_id}", "IMPORT")
        return ImportJob.model_validate(item) if item else None

    def _import_item(self, job: ImportJob) -> dict[str, Any]:
        return {
            "pk": f"IMPORT#{job.import_id}",
            "sk": "IMPORT",
            "entity": "import",
            "gsi2pk": IMPORTS,
            "gsi2sk": f"{iso(job.created_at)}#{job.import_id}",
        } | _numbers(job.model_dump(mode="json"))

    def imports_page(self, *, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        """One page of the import jobs, newest first (a Query of the `by-status` index's `IMPORTS` key)."""
        name, keys = BY_STATUS
        items, next_cursor = self.table.page(IMPORTS, index=name, key_names=keys, limit=limit, cursor=cursor)
        return [ImportJob.model_validate(i) for i in items], next_cursor

    def add_import(self, job: ImportJob) -> None:
        self.table.put_new(self._import_item(job))

    def save_import(self, job: ImportJob) -> None:
        t = self.table
        try:
            t.transact([t.op_put(self._import_item(job), **_revision_condition(job.revision))])
        except ConditionFailed as failure:
            raise StaleRecord(job.import_id) from failure

    def _chunk_item(self, chunk: ImportChunk) -> dict[str, Any]:
        """The rows as one compact JSON text: a chunk of 500 is then a few tens of KB (maps would repeat every
        attribute name per row)."""
        rows = [r.model_dump(mode="json", exclude_none=True) for r in chunk.rows]
        return {
            "pk": f"IMPORT#{chunk.import_id}",
            "sk": f"ROWS#{chunk.start:05d}",
            "entity": "import-rows",
            "import_id": chunk.import_id,
            "start": chunk.start,
            "rows": json.dumps(rows, separators=(",", ":")),
        }

    def record_import_chunk(self, job: ImportJob, chunk: ImportChunk) -> None:
        t = self.table
        try:
            t.transact(
                [
                    t.op_put(self._import_item(job), **_revision_condition(job.revision)),
                    t.op_put(self._chunk_item(chunk), condition="attribute_not_exists(sk)"),
                ]
            )
        except ConditionFailed as failure:
            raise StaleRecord(job.import_id) from failure

    def mark_next_sent(self, job: ImportJob) -> None:
        try:
            self.table.update(
                f"IMPORT#{job.import_id}",
                "IMPORT",
                set_fields={"next_sent_from": job.rows_processed},
                condition="rows_processed = :cursor",
                condition_values={":cursor": job.rows_processed},
            )
        except ConditionFailed:
            pass  # the next chunk is recorded already

    def import_chunks(self, import_id: str) -> list[ImportChunk]:
        items = self.table.query_all(f"IMPORT#{import_id}", sk_prefix="ROWS#")
        return [
            ImportChunk(
                import_id=import_id,
                start=int(i["start"]),
                rows=[ImportRow.model_validate(r) for r in json.loads(i["rows"])],
            )
            for i in items
        ]
