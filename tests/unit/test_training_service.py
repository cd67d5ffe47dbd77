"""Training's use cases on in-memory fakes of their ports (no AWS, no moto): the catalogue, connections, recording
completions (matching, review, duplicates, races), awards end to end (earn, timers, reminders, expiry, withdrawal),
the review list, CSV imports, and what partner users see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import iso
from shared.errors import Conflict, Forbidden, NotFound, NotYetDue, Unauthorized, ValidationFailed
from shared.principal import Principal
from tests.support.events import validate
from tests.support.factories import bus_envelope
from tests.support.fakes import FakeMailer, FakeSideEffects, FakeTimers
from tests.support.fakes_training import FakeImportFiles, FakeTrainingRepository, FakeWorkQueue
from training import csv_rows
from training.domain import imports
from training.incoming import IncomingCompletion
from training.models import (
    CertificationBody,
    CertificationExpiryDue,
    CertificationReminder,
    CourseBody,
    ImportRequested,
    work_message,
)
from training.service import CompletionRecorder, TrainingService, TrainingWorkflowService
from training.workflow import AwardTimers

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OFFSETS = [5184000, 2592000, 604800]
VENDOR = Principal(sub="v", email="vendor@example.com", name="V", partner_id=None, groups=frozenset({"vendor-admin"}))


def partner_user(email: str, partner_id: str = "prt_1", *groups: str) -> Principal:
    return Principal(
        sub=email, email=email, name="P", partner_id=partner_id, groups=frozenset(groups or {"partner-user"})
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    repository: FakeTrainingRepository
    files: FakeImportFiles
    work: FakeWorkQueue
    timers: FakeTimers
    mailer: FakeMailer
    clock: Clock
    api: TrainingService
    queue: TrainingWorkflowService
    courses: dict[str, str]
    certification_id: str

    def invite(
        self, email: str, partner_id: str = "prt_1", role: str = "partner-user", at: datetime | None = None
    ) -> str:
        return self.queue.user_invited(partner_id, email, name=email, role=role, at=at or NOW - timedelta(days=90))  # type: ignore[arg-type]

    def complete(self, email: str, course: str, *, key: str, passed: bool = True, at: datetime | None = None) -> Any:
        incoming = IncomingCompletion(
            source="webhook",
            dedup_key=f"wh:lms_1:{key}",
            learner_email=email,
            lms_course_id=course,
            passed=passed,
            completed_at=at or NOW - timedelta(days=1),
        )
        return self.api.receive("lms_1", incoming)

    def deliver_events(self) -> list[str]:
        """What the bus would hand the consumer from the outbox (training's own events)."""
        outcomes = []
        for event in list(self.repository.outbox):
            name = type(event).__name__
            if name == "CertificationEarned":
                outcomes.append(
                    self.queue.announce_earned(
                        event.partner_id,
                        event.holder_email,
                        event.certification_id,
                        award_id=event.award_id,
                        expires_at=event.expires_at,
                        renewal=event.renewal,
                    )
                )
            elif name == "CertificationExpired":
                outcomes.append(
                    self.queue.announce_expired(
                        event.partner_id, event.holder_email, event.certification_id, award_id=event.award_id
                    )
                )
        return outcomes


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("PROGRAMME_NAME", "Example Vendor Partner Network")
    from training.notifications import TrainingEmails

    repository, files, work, timers, mailer, clock = (
        FakeTrainingRepository(),
        FakeImportFiles(),
        FakeWorkQueue(),
        FakeTimers(),
        FakeMailer(),
        Clock(),
    )
    counter = iter(range(1, 1_000_000))
    api = TrainingService(
        repository=repository,
        files=files,
        work=work,
        max_import_bytes=1024 * 1024,
        clock=clock,
        random_bytes=lambda n: bytes([next(counter) % 256]) * n,
    )
    queue = TrainingWorkflowService(
        repository=repository,
        files=files,
        work=work,
        timers=AwardTimers(timers, OFFSETS),
        mailer=mailer,
        notices=TrainingEmails("https://portal.example.com"),
        effects=FakeSideEffects(),
        parse_csv=lambda data: csv_rows.read_csv(data, max_rows=imports.MAX_ROWS, now=clock()),
        max_import_bytes=1024 * 1024,
        clock=clock,
    )
    courses = {}
    for lms in ("LMS-A", "LMS-B", "LMS-R"):
        courses[lms] = api.add_course(
            VENDOR, CourseBody(title=f"Course {lms}", lms_course_id=lms, credit_hours=2, language="en")
        ).course_id
    certification = api.add_certification(
        VENDOR,
        CertificationBody(
            name="Network Associate",
            required_course_ids=[courses["LMS-A"], courses["LMS-B"]],
            validity_months=12,
            completion_window_months=6,
            renewal_course_id=courses["LMS-R"],
        ),
    )
    repository.outbox.clear()  # the catalogue's CertificationDefined: each test sees only the events it causes
    return World(repository, files, work, timers, mailer, clock, api, queue, courses, certification.certification_id)


def published(world: World, detail_type: str) -> list[Any]:
    events = world.repository.events(detail_type)
    for event in events:
        validate(bus_envelope("prm.training", detail_type, event.to_json_dict()))
    return events


# ------------------------------------------------------------------ catalogue and connections
def test_only_vendor_admins_keep_the_catalogue_and_lms_ids_are_unique(world: World) -> None:
    body = CourseBody(title="X", lms_course_id="LMS-X", credit_hours=1, language="de")
    with pytest.raises(Forbidden):
        world.api.add_course(partner_user("ada@northwind.com", "prt_1", "partner-admin"), body)
    with pytest.raises(Conflict) as duplicate:
        world.api.add_course(VENDOR, CourseBody(title="Y", lms_course_id="LMS-A", credit_hours=1, language="en"))
    assert duplicate.value.errors[0].field == "lms_course_id"
    with pytest.raises(ValidationFailed) as unknown:
        world.api.add_certification(
            VENDOR, CertificationBody(name="S", required_course_ids=["crs_" + "0" * 26], validity_months=12)
        )
    assert unknown.value.errors[0].field == "required_course_ids.0"
    assert [c.lms_course_id for c in world.api.courses()] == ["LMS-A", "LMS-B", "LMS-R"]


def test_a_connection_secret_is_shown_once_and_rotation_keeps_the_previous_for_a_day(world: World) -> None:
    with pytest.raises(Forbidden):
        world.api.add_connection(partner_user("ada@northwind.com"), "Moodle")
    connection, first = world.api.add_connection(VENDOR, "Moodle")
    assert first.startswith("whsec_") and world.api.webhook_secrets(connection.connection_id) == [first]
    _, second = world.api.rotate_secret(VENDOR, connection.connection_id)
    assert world.api.webhook_secrets(connection.connection_id) == [second, first]
    world.api.authenticate_lrs(connection.connection_id, first)
    world.clock.now = NOW + timedelta(hours=24, seconds=1)
    assert world.api.webhook_secrets(connection.connection_id) == [second]
    with pytest.raises(Unauthorized):
        world.api.authenticate_lrs(connection.connection_id, first)
    with pytest.raises(Unauthorized):
        world.api.webhook_secrets("lms_unknown")
    with pytest.raises(NotFound):
        world.api.rotate_secret(VENDOR, "lms_unknown")


# ------------------------------------------------------------------ recording completions
def test_a_completion_of_a_known_partner_user_is_matched_case_insensitively_and_published(world: World) -> None:
    world.invite("ada@northwind.com")
    recorded = world.complete("Ada@NorthWind.COM", "LMS-A", key="m1", passed=False)
    assert recorded.outcome == "accepted"
    [event] = published(world, "TrainingCompleted")
    assert event.learner_email == "ada@northwind.com" and event.course_id == world.courses["LMS-A"]
    assert event.source == "webhook" and event.passed is False and event.partner_id == "prt_1"


def test_the_same_delivery_twice_is_one_completion(world: World) -> None:
    world.invite("ada@northwind.com")
    first = world.complete("ada@northwind.com", "LMS-A", key="m1")
    again = world.complete("ada@northwind.com", "LMS-A", key="m1")
    assert again.outcome == "duplicate" and again.completion_id == first.completion_id
    assert len(world.repository.events("TrainingCompleted")) == 1
    assert len(world.repository.completions["ada@northwind.com", "prt_1"]) == 1


def test_unmatched_completions_go_to_review_never_dropped(world: World) -> None:
    world.invite("ada@northwind.com")
    assert world.complete("stranger@elsewhere.com", "LMS-A", key="m1").outcome == "unknown_learner"
    assert world.complete("ada@northwind.com", "LMS-UNKNOWN", key="m2").outcome == "unknown_course"
    world.queue.user_removed("prt_1", "ada@northwind.com", reason="removed", at=NOW - timedelta(days=1))
    assert world.complete("ada@northwind.com", "LMS-A", key="m3").outcome == "unknown_learner"  # removed: no match
    items, _ = world.api.review_list(VENDOR, limit=10, cursor=None)
    assert sorted(i.reason for i in items) == ["unknown_course", "unknown_learner", "unknown_learner"]
    assert world.complete("stranger@elsewhere.com", "LMS-A", key="m1").outcome == "duplicate"
    assert len(world.api.review_list(VENDOR, limit=10, cursor=None)[0]) == 3
    assert world.repository.events("TrainingCompleted") == []
    with pytest.raises(Forbidden):
        world.api.review_list(partner_user("ada@northwind.com", "prt_1", "partner-admin"), limit=10, cursor=None)


def test_a_completion_in_the_future_is_refused_and_nothing_is_written(world: World) -> None:
    world.invite("ada@northwind.com")
    with pytest.raises(ValidationFailed) as refused:
        world.complete("ada@northwind.com", "LMS-A", key="m1", at=NOW + timedelta(minutes=6))
    assert refused.value.errors[0].field == "completed_at"
    assert world.repository.guards == {} and world.repository.outbox == []


def test_a_lost_race_on_the_learner_is_retried(world: World) -> None:
    world.invite("ada@northwind.com")
    world.repository.fail_next_saves = 2
    assert world.complete("ada@northwind.com", "LMS-A", key="m1").outcome == "accepted"
    world.repository.fail_next_saves = 3
    with pytest.raises(Conflict):
        world.complete("ada@northwind.com", "LMS-A", key="m2")


# ------------------------------------------------------------------ awards end to end
def earn(world: World, email: str = "ada@northwind.com", partner_id: str = "prt_1") -> Any:
    world.invite(email, partner_id)
    world.complete(email, "LMS-A", key=f"{email}-a", at=NOW - timedelta(days=20))
    world.complete(email, "LMS-B", key=f"{email}-b", at=NOW - timedelta(days=10))
    return world.repository.awards[email, partner_id, world.certification_id]


def test_a_completion_reads_its_certifications_courses_latest_passes_by_key_never_the_history(world: World) -> None:
    """Whatever the learner completed before, a completion reads the person, the awards of the certifications its
    course concerns and their courses' latest passes (the fake answers nothing else), and keeps the newest pass."""
    world.invite("ada@northwind.com")
    for n in range(30):
        world.complete("ada@northwind.com", "LMS-A", key=f"old-{n}", at=NOW - timedelta(days=300 - n))
    world.repository.learner_reads.clear()
    world.complete("ada@northwind.com", "LMS-B", key="b", at=NOW - timedelta(days=10))
    a, b, r = (world.courses[c] for c in ("LMS-A", "LMS-B", "LMS-R"))
    assert world.repository.learner_reads == [("ada@northwind.com", "prt_1", (b, a, r), (world.certification_id,))]
    kept = world.repository.passes["ada@northwind.com", "prt_1", a]
    assert kept.completed_at == NOW - timedelta(days=271)
    world.complete("ada@northwind.com", "LMS-A", key="late", at=NOW - timedelta(days=400))  # a late old row
    assert world.repository.passes["ada@northwind.com", "prt_1", a] == kept
    # the last old pass of A (271 days ago) and B are 261 days apart: more than the 6-month window
    assert ("ada@northwind.com", "prt_1", world.certification_id) not in world.repository.awards


def test_passing_every_required_course_earns_then_timers_and_one_mail(world: World) -> None:
    held = earn(world)
    [event] = published(world, "CertificationEarned")
    assert event.award_id == held.award_id and event.renewal is False and event.earned_at == NOW - timedelta(days=10)
    assert held.expires_at == datetime(2027, 11, 16, 12, 0, tzinfo=UTC)
    world.deliver_events()
    world.deliver_events()  # a replay schedules and mails nothing more
    messages = world.timers.messages()
    assert [m["message_type"] for m in messages] == ["CertificationReminder"] * 3 + ["CertificationExpiryDue"]
    assert [m.get("offset_seconds") for m in messages] == [5184000, 2592000, 604800, None]
    assert [m.subject for m in world.mailer.sent] == ["Certified: Network Associate"]


def test_reminders_go_to_the_holder_and_the_partners_admins_once_per_offset(world: World) -> None:
    world.invite("boss@northwind.com", role="partner-admin")
    world.invite("other@contoso.com", "prt_2", role="partner-admin")
    held = earn(world)
    world.deliver_events()
    reminder = work_message(world.timers.messages()[1])
    assert isinstance(reminder, CertificationReminder)
    world.queue.remind(reminder)
    world.queue.remind(reminder)  # redelivered
    reminders = [m for m in world.mailer.sent if "expires in 30 days" in m.subject]
    assert [m.to for m in reminders] == [("ada@northwind.com",), ("boss@northwind.com",)]
    assert held.holder_email in reminders[1].text


def test_a_renewal_makes_the_old_timer_stale_and_the_new_expiry_counts(world: World) -> None:
    held = earn(world)
    world.deliver_events()
    old_expiry = work_message(world.timers.messages()[-1])
    old_reminder = work_message(world.timers.messages()[0])
    world.complete("ada@northwind.com", "LMS-R", key="renew", at=NOW)
    renewed = world.repository.awards["ada@northwind.com", "prt_1", world.certification_id]
    assert renewed.award_id == held.award_id and renewed.expires_at > held.expires_at
    assert published(world, "CertificationEarned")[-1].renewal is True
    world.clock.now = held.expires_at + timedelta(seconds=1)
    assert isinstance(old_expiry, CertificationExpiryDue) and isinstance(old_reminder, CertificationReminder)
    assert "stale" in world.queue.expire(old_expiry)
    assert "stale" in world.queue.remind(old_reminder)
    assert world.repository.events("CertificationExpired") == []
    assert world.repository.awards["ada@northwind.com", "prt_1", world.certification_id].status == "active"


def test_an_earned_event_overtaken_by_a_renewal_schedules_and_mails_nothing(world: World) -> None:
    held = earn(world)
    world.complete("ada@northwind.com", "LMS-R", key="renew", at=NOW)  # renewed before the first event arrived
    outcomes = world.deliver_events()
    assert "stale" in outcomes[0] and not outcomes[1].startswith("stale")
    expiries = {m["expires_at"] for m in world.timers.messages()}
    renewed = world.repository.awards["ada@northwind.com", "prt_1", world.certification_id]
    assert renewed.award_id == held.award_id and len(expiries) == 1 and renewed.expires_at > held.expires_at
    assert [m.subject for m in world.mailer.sent] == ["Certification renewed: Network Associate"]


def test_the_expiry_timer_expires_the_award_once_and_early_is_retried(world: World) -> None:
    held = earn(world)
    world.deliver_events()
    due = work_message(world.timers.messages()[-1])
    assert isinstance(due, CertificationExpiryDue)
    with pytest.raises(NotYetDue):
        world.queue.expire(due)
    world.clock.now = held.expires_at
    assert world.queue.expire(due) == "expired"
    assert "stale" in world.queue.expire(due)  # redelivered
    [event] = published(world, "CertificationExpired")
    assert event.award_id == held.award_id and event.expired_at == held.expires_at
    world.deliver_events()
    world.deliver_events()
    assert [m.subject for m in world.mailer.sent].count("Certification expired: Network Associate") == 1


def test_removal_withdraws_the_award_and_an_older_invitation_does_not_bring_it_back(world: World) -> None:
    held = earn(world)
    outcome = world.queue.user_removed("prt_1", "ada@northwind.com", reason="removed", at=NOW)
    assert outcome == "removed; 1 awards withdrawn"
    [event] = published(world, "CertificationWithdrawn")
    assert event.award_id == held.award_id and event.reason == "holder_removed"
    assert world.queue.user_removed("prt_1", "ada@northwind.com", reason="removed", at=NOW) == "older or repeated event"
    assert world.invite("ada@northwind.com", at=NOW - timedelta(minutes=1)) == "older or repeated event"
    assert world.repository.persons["ada@northwind.com", "prt_1"].status == "removed"
    assert len(world.repository.events("CertificationWithdrawn")) == 1


# ------------------------------------------------------------------ the review list
def test_assignment_credits_a_known_partner_user_once(world: World) -> None:
    world.invite("ada@northwind.com")
    world.complete("ada.personal@gmail.com", "LMS-A", key="m1")
    [item] = world.api.review_list(VENDOR, limit=10, cursor=None)[0]
    with pytest.raises(ValidationFailed) as unknown:
        world.api.assign(VENDOR, item.item_id, "nobody@northwind.com")
    assert unknown.value.errors[0].field == "learner_email"
    assigned = world.api.assign(VENDOR, item.item_id, "ada@northwind.com")
    assert assigned.status == "assigned" and assigned.decided_by == "vendor@example.com"
    [event] = published(world, "TrainingCompleted")
    assert event.source == "review" and event.learner_email == "ada@northwind.com"
    with pytest.raises(Conflict):
        world.api.assign(VENDOR, item.item_id, "ada@northwind.com")
    with pytest.raises(Conflict):
        world.api.discard(VENDOR, item.item_id, "spam")
    assert world.api.review_list(VENDOR, limit=10, cursor=None)[0] == []
    with pytest.raises(NotFound):
        world.api.assign(VENDOR, "rev_" + "0" * 26, "ada@northwind.com")


def test_an_item_of_an_unknown_course_is_assigned_once_the_course_exists(world: World) -> None:
    world.invite("ada@northwind.com")
    world.complete("ada@northwind.com", "LMS-NEW", key="m1")
    [item] = world.api.review_list(VENDOR, limit=10, cursor=None)[0]
    with pytest.raises(Conflict) as refused:
        world.api.assign(VENDOR, item.item_id, "ada@northwind.com")
    assert refused.value.code == "unknown_course"
    world.api.add_course(VENDOR, CourseBody(title="New", lms_course_id="LMS-NEW", credit_hours=1, language="en"))
    assert world.api.assign(VENDOR, item.item_id, "ada@northwind.com").status == "assigned"


def test_an_xapi_account_without_an_email_is_reviewed_as_unknown_account_not_an_unknown_email(world: World) -> None:
    incoming = IncomingCompletion(
        source="xapi",
        dedup_key="xapi:lms_1:6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        learner_ref="https://lms.example.com|user-4711",
        lms_course_id="LMS-A",
        passed=True,
        completed_at=NOW - timedelta(days=1),
    )
    assert world.api.receive("lms_1", incoming).outcome == "unknown_account"
    [item] = world.api.review_list(VENDOR, limit=10, cursor=None)[0]
    assert (item.reason, item.learner_email, item.learner_ref) == (
        "unknown_account",
        None,
        "https://lms.example.com|user-4711",
    )


def test_discarding_keeps_the_reason_and_closes_the_item(world: World) -> None:
    world.complete("bot@spam.example", "LMS-A", key="m1")
    [item] = world.api.review_list(VENDOR, limit=10, cursor=None)[0]
    discarded = world.api.discard(VENDOR, item.item_id, "A test account of the LMS.")
    assert discarded.status == "discarded" and discarded.discard_reason == "A test account of the LMS."
    assert world.repository.items[item.item_id].status == "discarded"
    assert world.complete("bot@spam.example", "LMS-A", key="m1").outcome == "duplicate"  # stays discarded


def test_the_review_list_pages(world: World) -> None:
    for n in range(5):
        world.clock.now = NOW + timedelta(seconds=n)
        world.complete(f"s{n}@x.com", "LMS-A", key=f"m{n}")
    first, cursor = world.api.review_list(VENDOR, limit=2, cursor=None)
    second, _ = world.api.review_list(VENDOR, limit=2, cursor=cursor)
    assert [i.learner_email for i in first + second] == ["s0@x.com", "s1@x.com", "s2@x.com", "s3@x.com"]


# ------------------------------------------------------------------ CSV imports
CSV = (
    b"learner_email,lms_course_id,result,completed_at,score\n"
    b"ada@northwind.com,LMS-A,passed,2026-11-20,88\n"
    b"ada@northwind.com,LMS-A,passed,2026-11-20,88\n"
    b"stranger@x.com,LMS-A,failed,2026-11-20T10:00:00Z,\n"
    b"not-an-email,LMS-A,passed,2026-11-20,\n"
    b"ada@northwind.com,LMS-B,passed,2099-01-01,\n"
)


def submitted_import(world: World, data: bytes = CSV, content_type: str = "text/csv") -> str:
    job, upload = world.api.create_import(VENDOR, "q3.csv")
    assert job.status == "awaiting_upload" and upload["fields"]["key"] == job.key
    with pytest.raises(ValidationFailed):
        world.api.submit_import(VENDOR, job.import_id)  # nothing uploaded yet
    world.files.objects[job.key] = (data, content_type)
    world.api.submit_import(VENDOR, job.import_id)
    return job.import_id


def test_an_import_runs_every_row_through_the_completion_use_case_and_reports_each(world: World) -> None:
    world.invite("ada@northwind.com")
    import_id = submitted_import(world)
    assert world.repository.jobs[import_id].status == "queued"
    [message] = world.work.sent
    request = work_message(message)
    assert isinstance(request, ImportRequested) and request.import_id == import_id
    world.repository.catalogue_reads = 0
    assert world.queue.run_import(request) == "imported 5 rows"
    assert world.repository.catalogue_reads == 2  # LMS-A and the certifications: once per run, not once per row
    job, rows, total = world.api.import_report(VENDOR, import_id, offset=0, limit=100)
    assert job.status == "completed" and total == 5
    assert [(r["row"], r["status"]) for r in rows] == [
        (2, "accepted"),
        (3, "duplicate"),
        (4, "unknown_learner"),
        (5, "invalid"),
        (6, "invalid"),
    ]
    assert "learner_email" in rows[3]["reason"] and "future" in rows[4]["reason"]
    assert job.counts == {"accepted": 1, "duplicate": 1, "unknown_learner": 1, "invalid": 2}
    [event] = published(world, "TrainingCompleted")
    assert event.source == "csv" and event.score_scaled == pytest.approx(0.88)
    assert world.queue.run_import(request) == "nothing to do: the import is completed"


def test_a_redelivered_job_mid_way_reports_its_own_rows_as_first_recorded(world: World) -> None:
    world.invite("ada@northwind.com")
    import_id = submitted_import(world)
    request = ImportRequested(message_type="ImportRequested", import_id=import_id)
    world.queue.run_import(request)
    job = world.repository.jobs[import_id]
    world.repository.jobs[import_id] = job.model_copy(update={"status": "processing", "revision": job.revision + 1})
    world.queue.run_import(request)  # as if the first run crashed before finishing
    rows = world.api.import_report(VENDOR, import_id, offset=0, limit=100)[1]
    assert [r["status"] for r in rows][:3] == ["accepted", "duplicate", "unknown_learner"]
    assert len(world.repository.events("TrainingCompleted")) == 1


def test_a_bad_file_fails_the_job_with_the_reason(world: World) -> None:
    import_id = submitted_import(world, b"email,course\nx,y\n")
    world.queue.run_import(ImportRequested(message_type="ImportRequested", import_id=import_id))
    job = world.repository.jobs[import_id]
    assert job.status == "failed" and job.failure


def test_a_row_whose_recording_raises_is_invalid_and_the_other_rows_go_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.invite("ada@northwind.com")
    world.invite("bob@northwind.com")
    record = CompletionRecorder.record

    def flaky(self: CompletionRecorder, incoming: IncomingCompletion, *, origin: str) -> Any:
        if incoming.learner_email == "bob@northwind.com":
            raise OverflowError("date value out of range")  # a row's data the rules cannot compute with
        return record(self, incoming, origin=origin)

    monkeypatch.setattr(CompletionRecorder, "record", flaky)
    import_id = submitted_import(
        world,
        b"learner_email,lms_course_id,result,completed_at\n"
        b"bob@northwind.com,LMS-A,passed,2026-11-20\n"
        b"ada@northwind.com,LMS-A,passed,2026-11-20\n",
    )
    assert run_work(world) == ["imported 2 rows"]
    rows = completed_report(world, import_id)
    assert [(r["row"], r["status"]) for r in rows] == [(2, "invalid"), (3, "accepted")]
    assert rows[0]["reason"] == "could not be recorded (OverflowError)"


def test_a_job_that_keeps_failing_ends_failed_with_its_reason_not_queued_for_ever(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = submitted_import(world)

    def broken(key: str, max_bytes: int) -> bytes:
        raise RuntimeError("the store is down")

    monkeypatch.setattr(world.files, "read", broken)
    request = ImportRequested(message_type="ImportRequested", import_id=import_id)
    for attempt in range(1, imports.MAX_FAILED_ATTEMPTS):
        with pytest.raises(RuntimeError):  # redelivered by the queue
            world.queue.run_import(request)
        assert world.repository.jobs[import_id].status == "queued"
        assert world.repository.jobs[import_id].failed_attempts == attempt
    assert world.queue.run_import(request) == "failed"
    job, rows, _ = world.api.import_report(VENDOR, import_id, offset=0, limit=10)
    assert (job.status, rows) == ("failed", [])
    assert job.failure == "Processing stopped after 3 failed attempts (last: RuntimeError)."
    assert world.queue.run_import(request) == "nothing to do: the import is failed"


class LambdaTimedOut(BaseException):
    """What a Lambda timeout is to the code: the invocation stops mid-chunk, no `except Exception` runs."""


def test_a_chunk_that_times_out_is_counted_before_it_starts_and_ends_the_job_failed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each delivery is counted before its first row, so a delivery killed by the Lambda timeout counts too: after
    MAX_FAILED_ATTEMPTS such deliveries the next one ends the job failed with the reason, never retrying for ever."""
    import_id = submitted_import(world)

    def times_out(key: str, max_bytes: int) -> bytes:
        raise LambdaTimedOut

    monkeypatch.setattr(world.files, "read", times_out)
    request = ImportRequested(message_type="ImportRequested", import_id=import_id)
    for attempt in range(1, imports.MAX_FAILED_ATTEMPTS + 1):
        with pytest.raises(LambdaTimedOut):  # the invocation ends; the queue redelivers the message
            world.queue.run_import(request)
        job = world.repository.jobs[import_id]
        assert (job.status, job.failed_attempts) == ("queued", attempt)
    assert world.queue.run_import(request) == "failed"
    job = world.repository.jobs[import_id]
    assert job.status == "failed" and job.failure is not None and "3 attempts at row 1" in job.failure
    assert "timeout" in job.failure and world.repository.chunks == {}
    assert world.queue.run_import(request) == "nothing to do: the import is failed"


def test_a_racing_second_delivery_of_a_chunk_loses_the_attempt_count_and_processes_nothing(world: World) -> None:
    import_id = submitted_import(world)
    request = ImportRequested(message_type="ImportRequested", import_id=import_id)
    world.repository.fail_next_import_saves = 1  # the other delivery counted its attempt first
    assert world.queue.run_import(request) == "nothing to do: another delivery is taking the chunk from row 0"
    assert world.repository.chunks == {} and world.repository.jobs[import_id].failed_attempts == 0


def test_progress_resets_the_failed_attempts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import_id, _ = big_import(world)
    request = work_message(world.work.sent.pop(0))
    assert isinstance(request, ImportRequested)
    original = world.files.read
    monkeypatch.setattr(world.files, "read", lambda key, max_bytes: (_ for _ in ()).throw(RuntimeError()))
    for _ in range(imports.MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(RuntimeError):
            world.queue.run_import(request)
    monkeypatch.setattr(world.files, "read", original)
    assert world.queue.run_import(request) == "imported rows 1 to 500 of 1200"
    assert world.repository.jobs[import_id].failed_attempts == 0


def test_columns_an_import_does_not_read_are_ignored_and_named_on_the_job(world: World) -> None:
    world.invite("ada@northwind.com")
    import_id = submitted_import(
        world,
        b"learner_name,learner_email,lms_course_id,result,completed_at\nAda,ada@northwind.com,LMS-A,passed,2026-11-20\n",
    )
    assert run_work(world) == ["imported 1 rows"]
    job, rows, _ = world.api.import_report(VENDOR, import_id, offset=0, limit=10)
    assert job.ignored_columns == ["learner_name"] and [r["status"] for r in rows] == ["accepted"]


# ------------------------------------------------------------------ CSV imports in chunks
LEARNERS = ("ada@northwind.com", "bob@northwind.com", "cyd@northwind.com")


def big_csv(count: int) -> tuple[bytes, list[str]]:
    """`count` data rows and the status each must be reported with: mostly accepted (distinct passes of three partner
    users), every tenth from row index 3 an unknown learner, from 7 an invalid email, from 9 a repeat of the row
    before, and the row at index 600 a repeat of the one at 100 (in another chunk)."""
    lines, expected = ["learner_email,lms_course_id,result,completed_at,score"], []

    def accepted(i: int) -> str:
        at = (NOW - timedelta(days=2, minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{LEARNERS[i % 3]},LMS-{'AB'[i % 2]},passed,{at},{50 + i % 50}"

    for i in range(count):
        if i == 600:
            lines.append(accepted(100))
            expected.append("duplicate")
        elif i % 10 == 3:
            lines.append(f"stranger{i}@elsewhere.example,LMS-A,passed,2026-11-20,")
            expected.append("unknown_learner")
        elif i % 10 == 7:
            lines.append(f"not-an-email-{i},LMS-A,passed,2026-11-20,")
            expected.append("invalid")
        elif i % 10 == 9:
            lines.append(accepted(i - 1))
            expected.append("duplicate")
        else:
            lines.append(accepted(i))
            expected.append("accepted")
    return "\n".join(lines).encode(), expected


def run_work(world: World, seconds_left: Any = None, *, limit: int = 100) -> list[str]:
    """Hand the work queue's messages to the consumer's use case, in order, until none is left."""
    outcomes: list[str] = []
    while world.work.sent and len(outcomes) < limit:
        request = work_message(world.work.sent.pop(0))
        assert isinstance(request, ImportRequested)
        outcomes.append(world.queue.run_import(request, seconds_left=seconds_left or (lambda: 50.0)))
    return outcomes


def big_import(world: World, count: int = 1200) -> tuple[str, list[str]]:
    for email in LEARNERS:
        world.invite(email)
    data, expected = big_csv(count)
    return submitted_import(world, data), expected


def completed_report(world: World, import_id: str) -> list[dict[str, Any]]:
    job, rows, total = world.api.import_report(VENDOR, import_id, offset=0, limit=1000)
    more = world.api.import_report(VENDOR, import_id, offset=1000, limit=1000)[1]
    assert job.status == "completed" and total == len(rows + more)
    return rows + more


def test_a_1200_row_import_runs_in_three_chunks_and_reports_every_row_in_order(world: World) -> None:
    import_id, expected = big_import(world)
    assert run_work(world) == [
        "imported rows 1 to 500 of 1200",
        "imported rows 501 to 1000 of 1200",
        "imported 1200 rows",
    ]
    report = completed_report(world, import_id)
    assert [r["row"] for r in report] == list(range(2, 1202))
    assert [r["status"] for r in report] == expected
    job = world.repository.jobs[import_id]
    assert job.counts == {s: expected.count(s) for s in set(expected)}
    assert (job.total_rows, job.rows_processed) == (1200, 1200)
    assert len(world.repository.events("TrainingCompleted")) == expected.count("accepted")
    assert sorted(s for (i, s) in world.repository.chunks if i == import_id) == [0, 500, 1000]
    assert report[600]["completion_id"] == report[100]["completion_id"]  # the repeat names the first completion


def test_progress_shows_rows_processed_of_total_while_running(world: World) -> None:
    import_id, expected = big_import(world)
    assert world.api.import_report(VENDOR, import_id, offset=0, limit=10)[2] is None  # not read yet
    run_work(world, limit=1)
    job, rows, total = world.api.import_report(VENDOR, import_id, offset=0, limit=10)
    assert (job.status, job.rows_processed, total, rows) == ("processing", 500, 1200, [])
    assert sum(job.counts.values()) == 500 and job.counts["accepted"] == expected[:500].count("accepted")
    run_work(world, limit=1)
    assert world.api.import_report(VENDOR, import_id, offset=0, limit=10)[0].rows_processed == 1000


def state(world: World) -> tuple[Any, ...]:
    repository = world.repository
    return (
        dict(repository.jobs),
        dict(repository.chunks),
        dict(repository.guards),
        len(repository.outbox),
        len(repository.items),
        sum(len(c) for c in repository.completions.values()),
        list(world.work.sent),
    )


def test_a_redelivered_chunk_message_changes_nothing(world: World) -> None:
    import_id, _ = big_import(world)
    first = world.work.sent[0]
    run_work(world, limit=1)
    second = world.work.sent[0]
    run_work(world, limit=1)  # the chunk from row 500: its message recorded the latest chunk
    before = state(world)
    duplicate = ImportRequested.model_validate(first | {"sent_id": "imq_sent_again"})
    assert world.queue.run_import(duplicate) == "nothing to do: rows from 0 were taken by another delivery"
    assert world.queue.run_import(ImportRequested.model_validate(first)) == (
        "nothing to do: rows from 0 were taken by another delivery"
    )
    assert world.queue.run_import(ImportRequested.model_validate(second)) == (
        "nothing to do: rows from 500 were taken by another delivery"
    )
    assert state(world) == before
    assert run_work(world) == ["imported 1200 rows"]
    assert world.queue.run_import(ImportRequested.model_validate(second)) == "nothing to do: the import is completed"
    assert len(completed_report(world, import_id)) == 1200


def test_a_chunk_stopped_before_it_sent_the_next_one_sends_it_on_its_redelivery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id, expected = big_import(world)
    message = world.work.sent.pop(0)

    def lost(message: dict[str, Any]) -> str:
        raise ConnectionError("the function timed out before the next chunk was sent")

    monkeypatch.setattr(world.work, "send", lost)
    with pytest.raises(ConnectionError):
        world.queue.run_import(ImportRequested.model_validate(message))
    assert world.repository.jobs[import_id].rows_processed == 500  # the chunk is recorded; its successor is not sent
    monkeypatch.undo()
    assert world.queue.run_import(ImportRequested.model_validate(message)) == "sent the chunk from row 500 again"
    assert world.queue.run_import(ImportRequested.model_validate(message)) == (  # once: it was sent now
        "nothing to do: rows from 0 were taken by another delivery"
    )
    assert [m["start_row"] for m in world.work.sent] == [500]
    run_work(world)
    assert [r["status"] for r in completed_report(world, import_id)] == expected


def test_a_chunk_that_fails_half_way_and_is_redelivered_records_each_row_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id, expected = big_import(world)
    run_work(world, limit=1)
    message = world.work.sent.pop(0)
    save, saved = world.repository.save_learner, list[Any]()

    def crash_after_250(change: Any) -> None:
        if len(saved) == 250:
            raise ConnectionError("the function timed out here")
        save(change)
        saved.append(change)

    monkeypatch.setattr(world.repository, "save_learner", crash_after_250)
    with pytest.raises(ConnectionError):
        world.queue.run_import(ImportRequested.model_validate(message))
    job = world.repository.jobs[import_id]
    assert job.rows_processed == 500 and not world.work.sent  # nothing of the half chunk is recorded as done
    monkeypatch.setattr(world.repository, "save_learner", save)
    assert world.queue.run_import(ImportRequested.model_validate(message)) == "imported rows 501 to 1000 of 1200"
    run_work(world)
    report = completed_report(world, import_id)
    assert [r["status"] for r in report] == expected  # the rows done before the crash keep their first outcome
    completions = [c for cs in world.repository.completions.values() for c in cs]
    assert len(completions) == len({c.dedup_key for c in completions}) == expected.count("accepted")
    assert len(world.repository.events("TrainingCompleted")) == expected.count("accepted")
    assert len(world.repository.items) == expected.count("unknown_learner")


def test_two_deliveries_of_one_chunk_cannot_both_advance_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import_id, expected = big_import(world)
    run_work(world, limit=1)
    message = world.work.sent.pop(0)
    twin = ImportRequested.model_validate(message | {"sent_id": "imq_twin"})
    record, outcomes, calls = world.repository.record_import_chunk, [], []

    def twin_first(job: Any, chunk: Any) -> None:
        calls.append(job.advanced_by)
        if len(calls) == 1:  # the twin processes the same rows meanwhile and records first
            outcomes.append(world.queue.run_import(twin))
        record(job, chunk)

    monkeypatch.setattr(world.repository, "record_import_chunk", twin_first)
    assert world.queue.run_import(ImportRequested.model_validate(message)) == (
        "nothing to do: rows from 500 were recorded by another delivery"
    )
    assert outcomes == ["imported rows 501 to 1000 of 1200"]
    assert [m["start_row"] for m in world.work.sent] == [1000]  # one next chunk, not two
    assert world.repository.jobs[import_id].advanced_by == "imq_twin"
    monkeypatch.setattr(world.repository, "record_import_chunk", record)
    run_work(world)
    assert [r["status"] for r in completed_report(world, import_id)] == expected


def test_a_chunk_stops_early_when_the_invocation_runs_low_on_time(world: World) -> None:
    import_id, expected = big_import(world, 300)
    asked = []

    def seconds_left() -> float:
        asked.append(1)
        return 40.0 if len(asked) <= 120 else 11.0  # below the reserve after 120 rows

    request = work_message(world.work.sent.pop(0))
    assert isinstance(request, ImportRequested)
    assert world.queue.run_import(request, seconds_left=seconds_left) == "imported rows 1 to 120 of 300"
    assert [m["start_row"] for m in world.work.sent] == [120]
    assert world.queue.run_import(work_message(world.work.sent[0]), seconds_left=lambda: 5.0) == (  # type: ignore[arg-type]
        "deferred the chunk from row 120: too little time left"
    )
    assert world.repository.jobs[import_id].rows_processed == 120 and len(world.work.sent) == 2
    assert run_work(world) == ["imported 300 rows", "nothing to do: the import is completed"]
    assert [r["status"] for r in completed_report(world, import_id)] == expected


def test_a_file_replaced_during_the_import_fails_it(world: World) -> None:
    import_id, _ = big_import(world)
    run_work(world, limit=1)
    job = world.repository.jobs[import_id]
    world.files.objects[job.key] = (big_csv(1200)[0].replace(b"LMS-A", b"LMS-R"), "text/csv")
    assert run_work(world) == ["failed"]
    failed = world.repository.jobs[import_id]
    assert failed.status == "failed" and "changed" in (failed.failure or "") and failed.rows_processed == 500


def test_a_file_of_only_a_header_completes_with_an_empty_report(world: World) -> None:
    import_id = submitted_import(world, b"learner_email,lms_course_id,result,completed_at\n")
    assert run_work(world) == ["imported 0 rows"]
    job = world.repository.jobs[import_id]
    assert (job.status, job.total_rows, job.counts) == ("completed", 0, {})


def test_the_consumer_sends_to_the_work_queue_it_is_told_by_arn() -> None:
    from training.workflow import SqsWorkQueue

    assert SqsWorkQueue.from_arn("arn:aws:sqs:eu-west-1:123456789012:prm-dev-training-work").queue_url == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/prm-dev-training-work"
    )
    assert SqsWorkQueue.from_arn("arn:aws-cn:sqs:cn-north-1:123456789012:work").queue_url == (
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/work"
    )


def test_a_wrong_type_is_refused_at_submission_and_a_repeat_sends_the_work_again(world: World) -> None:
    job, _ = world.api.create_import(VENDOR, "q3.csv")
    world.files.objects[job.key] = (CSV, "text/html")
    with pytest.raises(ValidationFailed):
        world.api.submit_import(VENDOR, job.import_id)
    world.files.objects[job.key] = (CSV, "text/csv")
    world.api.submit_import(VENDOR, job.import_id)
    world.api.submit_import(VENDOR, job.import_id)
    assert len(world.work.sent) == 2 and world.repository.jobs[job.import_id].revision == 2
    with pytest.raises(Forbidden):
        world.api.create_import(partner_user("ada@northwind.com", "prt_1", "partner-admin"), "x.csv")


# ------------------------------------------------------------------ what partner users see
def test_a_partner_user_sees_only_their_own_record(world: World) -> None:
    earn(world)
    world.invite("bob@northwind.com")
    learner, courses = world.api.my_training(partner_user("ada@northwind.com"))
    assert len(learner.completions) == 2 and set(courses) == {world.courses["LMS-A"], world.courses["LMS-B"]}
    assert [a.status for a in learner.awards.values()] == ["active"]
    other, _ = world.api.my_training(partner_user("ada@northwind.com", "prt_2"))  # another partner's view of her
    assert other.completions == () and other.awards == {}
    with pytest.raises(Forbidden):
        world.api.my_training(VENDOR)


def test_partner_admins_see_their_organisations_certified_people_only(world: World) -> None:
    earn(world)
    earn(world, "eve@contoso.com", "prt_2")
    certifications, held, names = world.api.people(partner_user("boss@northwind.com", "prt_1", "partner-admin"))
    assert [a.holder_email for a in held] == ["ada@northwind.com"] and names["ada@northwind.com"] == "ada@northwind.com"
    assert [c.certification_id for c in certifications] == [world.certification_id]
    with pytest.raises(Forbidden):
        world.api.people(partner_user("ada@northwind.com", "prt_1"))
    world.queue.user_removed("prt_1", "ada@northwind.com", reason="disabled", at=NOW)
    assert world.api.people(partner_user("boss@northwind.com", "prt_1", "partner-admin"))[1] == []


def test_the_people_list_knows_each_holders_name(world: World) -> None:
    world.queue.user_invited("prt_1", "ada@northwind.com", name="Ada Lovelace", role="partner-user", at=NOW)
    earn(world)
    _, held, names = world.api.people(partner_user("boss@northwind.com", "prt_1", "partner-admin"))
    assert [names.get(a.holder_email) for a in held] == ["Ada Lovelace"]


def test_a_second_certification_named_alike_is_a_conflict_naming_name(world: World) -> None:
    body = CertificationBody(
        name=" network ASSOCIATE ", required_course_ids=[world.courses["LMS-A"]], validity_months=6
    )
    with pytest.raises(Conflict) as duplicate:
        world.api.add_certification(VENDOR, body)
    assert duplicate.value.code == "duplicate_certification"
    assert [e.field for e in duplicate.value.errors] == ["name"]
    assert len(world.api.certifications()) == 1


def test_two_racing_creations_of_one_name_one_wins_by_the_unique_name_item(world: World) -> None:
    """Both read a catalogue without the name (the race): the unique-name write refuses the second with 409 `name`."""
    world.repository.certifications_by_id.clear()  # as each racer read it: no certification has the name yet
    body = CertificationBody(name="Cloud Architect", required_course_ids=[world.courses["LMS-A"]], validity_months=6)
    world.api.add_certification(VENDOR, body)
    world.repository.certifications_by_id.clear()
    with pytest.raises(Conflict) as duplicate:
        world.api.add_certification(VENDOR, body.model_copy(update={"name": "cloud architect "}))
    assert duplicate.value.code == "duplicate_certification" and [e.field for e in duplicate.value.errors] == ["name"]
    assert [e.certification_name for e in published(world, "CertificationDefined")] == ["Cloud Architect"]


def test_a_new_certification_is_announced_catalogue_wide_with_its_definition(world: World) -> None:
    body = CertificationBody(
        name="Wireless", required_course_ids=[world.courses["LMS-B"], world.courses["LMS-A"]], validity_months=18
    )
    created = world.api.add_certification(VENDOR, body)
    [event] = published(world, "CertificationDefined")
    assert (event.certification_id, event.partner_id, event.certification_name) == (
        created.certification_id,
        "*",
        "Wireless",
    )
    assert event.required_course_ids == [world.courses["LMS-B"], world.courses["LMS-A"]]
    assert (event.validity_months, event.defined_at) == (18, NOW)


def test_rotation_beyond_the_valid_secrets_allowed_is_refused_not_a_secret_dropped(world: World) -> None:
    connection, first = world.api.add_connection(VENDOR, "Moodle")
    for _ in range(4):
        world.api.rotate_secret(VENDOR, connection.connection_id)
    valid = world.api.webhook_secrets(connection.connection_id)
    assert len(valid) == 5 and first in valid
    with pytest.raises(Conflict) as refused:
        world.api.rotate_secret(VENDOR, connection.connection_id)
    assert refused.value.code == "limit_reached" and "5 valid secrets" in refused.value.message
    assert world.api.webhook_secrets(connection.connection_id) == valid  # the first is still valid, as promised
    world.clock.now = NOW + timedelta(hours=24, seconds=1)  # the older ones retired: room again
    world.api.rotate_secret(VENDOR, connection.connection_id)


def test_a_catch_up_reminder_goes_out_at_once_for_an_award_earned_late(world: World) -> None:
    """Validity 12 months, but the pass was 11 months and 18 days ago: ~42 days left, past the 60-day offset."""
    world.invite("ada@northwind.com")
    world.complete("ada@northwind.com", "LMS-A", key="a", at=NOW - timedelta(days=330))
    world.complete("ada@northwind.com", "LMS-B", key="b", at=NOW - timedelta(days=323))
    award = world.repository.awards["ada@northwind.com", "prt_1", world.certification_id]
    assert 40 < (award.expires_at - NOW).days < 45
    world.deliver_events()
    reminders = [m for m in world.timers.messages() if m["message_type"] == "CertificationReminder"]
    assert [m["offset_seconds"] for m in reminders] == OFFSETS
    first = work_message(reminders[0])
    assert isinstance(first, CertificationReminder)
    sent = len(world.mailer.sent)
    world.queue.remind(first)
    world.queue.remind(first)  # once per award, expiry and offset
    assert len(world.mailer.sent) == sent + 1
    days = (award.expires_at - NOW) / timedelta(days=1)
    assert world.mailer.sent[-1].subject.endswith(f"expires in {round(days)} days")  # the days left, not 60


def test_timer_messages_round_trip_through_the_work_queue(world: World) -> None:
    earn(world)
    world.deliver_events()
    for message in world.timers.messages():
        assert work_message(json.loads(json.dumps(message))).model_dump(mode="json") == message
    assert world.timers.messages()[-1]["expires_at"] == iso(
        world.repository.awards["ada@northwind.com", "prt_1", world.certification_id].expires_at
    ).replace(".000", "")


def test_partner_users_act_only_once_they_accepted_the_current_agreement(world: World) -> None:
    ada = partner_user("ada@northwind.com")
    assert world.api.admit(ada) == ada  # no agreement published yet
    world.repository.publish_agreement("2026-11")
    with pytest.raises(Forbidden) as refused:
        world.api.admit(ada)
    assert refused.value.code == "agreement_required"
    assert world.api.admit(VENDOR) == VENDOR  # vendor staff are never gated
    world.repository.accept_agreement("2026-11", ada.sub)
    assert world.api.admit(ada) == ada


# ------------------------------------------------------------------ settings
def test_settings_read_the_template_environment() -> None:
    from training.settings import IMPORT_CEILING_BYTES, ApiSettings, ConsumerSettings

    consumer = ConsumerSettings.model_validate(
        {
            "table_name": "training-table",
            "import_bucket": "imports-bucket",
            "schedule_group": "prm-test-timers",
            "scheduler_role_arn": "arn:aws:iam::123456789012:role/scheduler",
            "work_queue_arn": "arn:aws:sqs:eu-west-1:123456789012:training-work",
            "mail_from": "no-reply@example.com",
            "portal_url": "https://portal.example.com",
            "certification_reminder_offsets": "5184000, 2592000,604800",
        }
    )
    assert consumer.certification_reminder_offsets == [5184000, 2592000, 604800]
    api = {
        "table_name": "training-table",
        "allowed_origin": "https://portal.example.com",
        "user_pool_id": "pool",
        "identity_recheck_seconds": 60,
        "import_bucket": "imports-bucket",
        "import_max_bytes": 5242880,
        "work_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/training-work",
    }
    assert ApiSettings.model_validate(api).import_max_bytes == 5242880
    for bad in ({"import_max_bytes": IMPORT_CEILING_BYTES + 1}, {"import_max_bytes": 10}, {"work_queue_url": "queue"}):
        with pytest.raises(ValueError):
            ApiSettings.model_validate(api | bad)
    with pytest.raises(ValueError):
        ConsumerSettings.model_validate(consumer.model_dump() | {"certification_reminder_offsets": "60,-1"})


# ------------------------------------------------------------------ the vendor admin's lists (connections, imports)
def test_connections_are_listed_newest_first_a_page_at_a_time_for_vendor_admins_only(world: World) -> None:
    made = []
    for n, name in enumerate(("Moodle", "Docebo", "Cornerstone")):
        world.clock.now = NOW + timedelta(minutes=n)
        made.append(world.api.add_connection(VENDOR, name)[0].connection_id)
    world.api.rotate_secret(VENDOR, made[0])
    with pytest.raises(Forbidden):
        world.api.connections(partner_user("ada@northwind.com", "prt_1", "partner-admin"), limit=10, cursor=None)
    first, cursor = world.api.connections(VENDOR, limit=2, cursor=None)
    assert [c.name for c in first] == ["Cornerstone", "Docebo"] and cursor is not None
    rest, end = world.api.connections(VENDOR, limit=2, cursor=cursor)
    assert [(c.connection_id, len(c.secrets)) for c in rest] == [(made[0], 2)] and end is None
    with pytest.raises(ValidationFailed) as bad:
        world.api.connections(VENDOR, limit=2, cursor="imports|2")
    assert bad.value.errors[0].field == "cursor"


def test_imports_are_listed_newest_first_a_page_at_a_time_for_vendor_admins_only(world: World) -> None:
    made = []
    for n in range(3):
        world.clock.now = NOW + timedelta(minutes=n)
        made.append(world.api.create_import(VENDOR, f"week-{n}.csv")[0].import_id)
    with pytest.raises(Forbidden):
        world.api.imports(partner_user("ada@northwind.com"), limit=10, cursor=None)
    first, cursor = world.api.imports(VENDOR, limit=2, cursor=None)
    assert [j.import_id for j in first] == [made[2], made[1]] and cursor is not None
    rest, end = world.api.imports(VENDOR, limit=2, cursor=cursor)
    assert [(j.import_id, j.file_name, j.status) for j in rest] == [(made[0], "week-0.csv", "awaiting_upload")]
    assert end is None
    with pytest.raises(ValidationFailed) as bad:
        world.api.imports(VENDOR, limit=2, cursor="not-a-cursor")
    assert bad.value.errors[0].field == "cursor"
