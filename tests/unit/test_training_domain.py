"""Training rules without AWS: calendar months, the award rules (earn, window, renew, expire, withdraw), reminders,
people from onboarding's events, connections and their secrets, the review list, import jobs, access."""

from __future__ import annotations

import base64
import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Conflict, Forbidden, NotYetDue, ValidationFailed
from shared.principal import Principal
from training.domain import access, awards, catalogue, completions, connections, imports, people, review
from training.domain.common import InvalidState, add_months, stable_id
from training.incoming import IncomingCompletion
from training.models import (
    Award,
    Certification,
    CertificationBody,
    CertificationExpiryDue,
    CertificationReminder,
    Completion,
    Course,
    CourseBody,
    CoursePass,
    ImportChunk,
    ImportJob,
    ImportRequested,
    ImportRow,
    Learner,
    Person,
    Recorded,
    ReviewItem,
    SourceGuard,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def ids(prefix: str) -> str:
    return f"{prefix}_{next(_ids)}"


def cert(**changes: object) -> Certification:
    base = {
        "certification_id": "cert_net",
        "name": "Network Associate",
        "required_course_ids": ["crs_a", "crs_b"],
        "validity_months": 24,
        "completion_window_months": 6,
        "renewal_course_id": "crs_r",
        "created_by": "v@example.com",
        "created_at": NOW,
    }
    return Certification.model_validate(base | changes)


def award(**changes: object) -> Award:
    base = {
        "award_id": "awd_1",
        "certification_id": "cert_net",
        "certification_name": "Network Associate",
        "partner_id": "prt_1",
        "holder_email": "ada@northwind.com",
        "status": "active",
        "earned_at": NOW - timedelta(days=30),
        "first_earned_at": NOW - timedelta(days=30),
        "expires_at": add_months(NOW - timedelta(days=30), 24).replace(microsecond=0),
    }
    return Award.model_validate(base | changes)


def person(**changes: object) -> Person:
    base = {"partner_id": "prt_1", "email": "ada@northwind.com", "as_of": NOW - timedelta(days=60)}
    return Person.model_validate(base | changes)


def evaluate(passes: dict[str, list[datetime]], held: Award | None = None, certification: Certification | None = None):  # type: ignore[no-untyped-def]
    return awards.evaluate(
        certification or cert(), passes, held, partner_id="prt_1", email="ada@northwind.com", now=NOW, new_id=ids
    )


def days(n: float) -> datetime:
    return NOW - timedelta(days=n)


# ------------------------------------------------------------------ calendar months
@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 26, 12, tzinfo=UTC), 24, datetime(2028, 11, 26, 12, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), -1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), -6, datetime(2025, 7, 15, tzinfo=UTC)),
        (datetime(2026, 12, 1, tzinfo=UTC), 1, datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_validity_and_windows_are_calendar_months(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_stable_ids_are_deterministic_and_shaped_like_new_ids() -> None:
    assert stable_id("cmp", "wh:lms_1:abc") == stable_id("cmp", "wh:lms_1:abc")
    assert stable_id("cmp", "wh:lms_1:abc") != stable_id("cmp", "wh:lms_1:abd")
    assert len(stable_id("rev", "x").removeprefix("rev_")) == 26


# ------------------------------------------------------------------ earning
def test_earned_when_every_required_course_is_passed_within_the_window_before_the_latest() -> None:
    result = evaluate({"crs_a": [days(100)], "crs_b": [days(10)]})
    assert result is not None
    earned, event = result
    assert earned.status == "active" and earned.earned_at == days(10)  # the latest pass of the qualifying set
    assert earned.expires_at == add_months(days(10), 24).replace(microsecond=0)
    assert event.renewal is False and event.award_id == earned.award_id and event.holder_email == "ada@northwind.com"


def test_not_earned_when_a_pass_lies_outside_the_window() -> None:
    window_start = add_months(days(10), -6)
    assert evaluate({"crs_a": [window_start - timedelta(seconds=1)], "crs_b": [days(10)]}) is None
    assert evaluate({"crs_a": [window_start], "crs_b": [days(10)]}) is not None  # the edge counts


def test_not_earned_without_every_required_course() -> None:
    assert evaluate({"crs_a": [days(10)]}) is None
    assert evaluate({"crs_a": [days(10)], "crs_r": [days(5)]}) is None  # the renewal course earns nothing alone


def test_the_latest_qualifying_set_is_chosen() -> None:
    """An old set and a newer one: the award runs from the newer (the longest validity)."""
    result = evaluate({"crs_a": [days(700), days(20)], "crs_b": [days(690), days(5)]})
    assert result is not None and result[0].earned_at == days(5)


def test_a_qualifying_set_whose_validity_already_ended_earns_nothing() -> None:
    assert evaluate({"crs_a": [days(800)], "crs_b": [days(790)]}) is None  # 24 months are over


def test_the_completion_window_defaults_to_the_validity() -> None:
    body = CertificationBody(name="Security", required_course_ids=["crs_" + "a" * 26], validity_months=12)
    made = catalogue.new_certification(body, known_courses={"crs_" + "a" * 26}, by="v@x.com", now=NOW, new_id=ids)
    assert made.completion_window_months == 12


def test_a_certification_over_unknown_courses_names_each() -> None:
    known = "crs_" + "a" * 26
    body = CertificationBody(
        name="Security",
        required_course_ids=[known, "crs_" + "b" * 26],
        validity_months=12,
        renewal_course_id="crs_" + "c" * 26,
    )
    with pytest.raises(ValidationFailed) as refused:
        catalogue.new_certification(body, known_courses={known}, by="v@x.com", now=NOW, new_id=ids)
    assert [e.field for e in refused.value.errors] == ["required_course_ids.1", "renewal_course_id"]


def test_certification_body_bounds() -> None:
    for bad in ({"validity_months": 0}, {"validity_months": 121}, {"required_course_ids": []}):
        with pytest.raises(ValueError):
            CertificationBody.model_validate(
                {"name": "S", "required_course_ids": ["crs_" + "a" * 26], "validity_months": 12} | bad
            )
    with pytest.raises(ValueError):
        CertificationBody(name="S", required_course_ids=["crs_" + "a" * 26] * 2, validity_months=12)


# ------------------------------------------------------------------ renewal
def test_a_renewal_pass_while_held_renews_the_same_award() -> None:
    held = award()
    result = evaluate({"crs_a": [days(40)], "crs_b": [days(30)], "crs_r": [days(1)]}, held)
    assert result is not None
    renewed, event = result
    assert renewed.award_id == held.award_id and renewed.renewals == 1 and event.renewal is True
    assert renewed.earned_at == days(1) and renewed.expires_at == add_months(days(1), 24).replace(microsecond=0)
    assert renewed.first_earned_at == held.first_earned_at


def test_a_renewal_pass_before_the_award_renews_nothing() -> None:
    held = award()
    assert evaluate({"crs_a": [days(40)], "crs_b": [days(30)], "crs_r": [days(35)]}, held) is None


def test_a_repeated_evaluation_of_the_same_passes_changes_nothing() -> None:
    earned, _ = evaluate({"crs_a": [days(40)], "crs_b": [days(30)]}) or (None, None)
    assert earned is not None
    assert evaluate({"crs_a": [days(40)], "crs_b": [days(30)]}, earned) is None


def test_after_expiry_a_renewal_pass_within_the_window_earns_a_new_award() -> None:
    expired = award(
        status="expired",
        earned_at=days(800),
        first_earned_at=days(800),
        expires_at=days(70).replace(microsecond=0),
        ended_at=days(70),
    )
    result = evaluate({"crs_a": [days(810)], "crs_b": [days(800)], "crs_r": [days(2)]}, expired)
    assert result is not None
    earned, event = result
    assert earned.award_id != expired.award_id and earned.status == "active" and event.renewal is False
    assert earned.earned_at == days(2)


def test_after_expiry_a_renewal_pass_beyond_the_window_earns_nothing() -> None:
    expired = award(
        status="expired",
        earned_at=days(1000),
        first_earned_at=days(1000),
        expires_at=days(270).replace(microsecond=0),
        ended_at=days(270),
    )
    assert evaluate({"crs_a": [days(1010)], "crs_b": [days(1000)], "crs_r": [days(2)]}, expired) is None  # 6 months


def test_after_withdrawal_only_passes_after_it_earn_again() -> None:
    withdrawn = award(status="withdrawn", ended_at=days(20))
    assert evaluate({"crs_a": [days(40)], "crs_b": [days(30)]}, withdrawn) is None
    assert evaluate({"crs_a": [days(40), days(5)], "crs_b": [days(3)]}, withdrawn) is not None


# ------------------------------------------------------------------ expiry and its timer
def test_the_current_timer_expires_the_award() -> None:
    held = award(expires_at=days(1).replace(microsecond=0))
    expired, event = awards.expire(held, award_id="awd_1", expires_at=held.expires_at, now=NOW, new_id=ids)
    assert expired.status == "expired" and event.expired_at == held.expires_at and event.award_id == "awd_1"


def test_a_stale_timer_of_a_renewed_award_expires_nothing() -> None:
    renewed = award(expires_at=(NOW + timedelta(days=700)).replace(microsecond=0))
    with pytest.raises(InvalidState):
        awards.expire(renewed, award_id="awd_1", expires_at=days(1), now=NOW, new_id=ids)
    with pytest.raises(InvalidState):  # another award (re-earned after expiry)
        awards.expire(award(award_id="awd_2"), award_id="awd_1", expires_at=award().expires_at, now=NOW, new_id=ids)
    with pytest.raises(InvalidState):  # withdrawn meanwhile
        awards.expire(award(status="withdrawn"), award_id="awd_1", expires_at=award().expires_at, now=NOW, new_id=ids)


def test_a_timer_that_arrives_early_is_retried() -> None:
    held = award()
    with pytest.raises(NotYetDue):
        awards.expire(held, award_id="awd_1", expires_at=held.expires_at, now=NOW, new_id=ids)


def test_an_award_with_less_time_left_than_an_offset_is_reminded_at_once_then_as_scheduled() -> None:
    held = award(expires_at=(NOW + timedelta(days=42)).replace(microsecond=0))
    timer = awards.certification_timer(held, [604800, 5184000, 2592000], NOW)
    kinds = [(type(m).__name__, getattr(m, "offset_seconds", None)) for _, m in timer]
    assert kinds == [
        ("CertificationReminder", 5184000),  # 60 days before is past: sent at once, not skipped
        ("CertificationReminder", 2592000),
        ("CertificationReminder", 604800),
        ("CertificationExpiryDue", None),
    ]
    assert [at for at, _ in timer] == [
        NOW,
        held.expires_at - timedelta(days=30),
        held.expires_at - timedelta(days=7),
        held.expires_at,
    ]
    assert all(m.award_id == "awd_1" and m.expires_at == held.expires_at for _, m in timer)
    assert isinstance(timer[-1][1], CertificationExpiryDue) and isinstance(timer[0][1], CertificationReminder)
    assert awards.days_left(2592000) == 30 and awards.days_left(4) == 1
    assert awards.days_left(5184000, expires_at=held.expires_at, now=NOW) == 42  # the catch-up tells the days left


def test_only_the_nearest_passed_offset_is_sent_at_once() -> None:
    held = award(expires_at=(NOW + timedelta(days=3)).replace(microsecond=0))
    timer = awards.certification_timer(held, [604800, 5184000, 2592000], NOW)
    assert [(at, getattr(m, "offset_seconds", None)) for at, m in timer] == [(NOW, 604800), (held.expires_at, None)]


def test_no_catch_up_reminder_for_an_expired_award_or_one_with_every_offset_ahead() -> None:
    gone = award(expires_at=NOW - timedelta(seconds=1))
    assert [type(m).__name__ for _, m in awards.certification_timer(gone, [604800], NOW)] == ["CertificationExpiryDue"]
    fresh = award(expires_at=(NOW + timedelta(days=365)).replace(microsecond=0))
    timer = awards.certification_timer(fresh, [604800, 5184000], NOW)
    assert [at for at, _ in timer] == [
        fresh.expires_at - timedelta(days=60),
        fresh.expires_at - timedelta(days=7),
        fresh.expires_at,
    ]


# ------------------------------------------------------------------ people
def learner(held: dict[str, Award] | None = None, who: Person | None = None) -> Learner:
    return Learner(partner_id="prt_1", email="ada@northwind.com", person=who, awards=held or {})


def test_an_invitation_makes_a_partner_user_and_an_older_one_changes_nothing() -> None:
    change = people.invited(learner(), name="Ada", role="partner-admin", at=NOW)
    assert change is not None and change.person.status == "active" and change.person.revision == 1
    known = change.person
    assert people.invited(learner(who=known), name="Ada", role="partner-user", at=NOW) is None  # repeated
    assert people.invited(learner(who=known), name="Ada", role="partner-user", at=days(1)) is None  # older


def test_removal_withdraws_every_active_award_and_stops_matching() -> None:
    held = {"cert_net": award(), "cert_old": award(award_id="awd_9", certification_id="cert_old", status="expired")}
    change = people.removed(learner(held, person()), reason="disabled", at=NOW, now=NOW, new_id=ids)
    assert change is not None and change.person.status == "removed" and change.person.revision == 2
    assert [a.award_id for a in change.awards] == ["awd_1"] and change.awards[0].status == "withdrawn"
    [event] = change.events
    assert event.reason == "holder_disabled" and event.award_id == "awd_1" and event.withdrawn_at == NOW
    assert people.matched([change.person]) is None


def test_a_removal_older_than_a_new_invitation_changes_nothing_and_a_newer_invitation_reactivates() -> None:
    removed = people.removed(learner(who=person()), reason="removed", at=days(10), now=NOW, new_id=ids)
    assert removed is not None
    again = people.invited(learner(who=removed.person), name="Ada", role="partner-user", at=days(5))
    assert again is not None and again.person.status == "active"
    assert people.removed(learner(who=again.person), reason="removed", at=days(8), now=NOW, new_id=ids) is None


def test_matching_takes_active_memberships_only_and_admins_are_active_partner_admins() -> None:
    gone = person(partner_id="prt_0", status="removed", as_of=days(1))
    here = person(partner_id="prt_1", as_of=days(30))
    assert people.matched([gone, here]) == here and people.matched([gone]) is None
    everyone = [
        person(email="b@x.com", role="partner-admin"),
        person(email="a@x.com", role="partner-admin"),
        person(email="c@x.com", role="partner-admin", status="removed"),
        person(email="d@x.com"),
    ]
    assert people.admin_emails(everyone) == ["a@x.com", "b@x.com"]


# ------------------------------------------------------------------ completions
def incoming(**changes: object) -> IncomingCompletion:
    base = {
        "source": "webhook",
        "dedup_key": "wh:lms_1:msg_1",
        "learner_email": "ada@northwind.com",
        "lms_course_id": "LMS-A",
        "passed": True,
        "completed_at": days(1),
    }
    return IncomingCompletion.model_validate(base | changes)


COURSE = Course(
    course_id="crs_a",
    title="A",
    lms_course_id="LMS-A",
    credit_hours=2,
    language="en",
    created_by="v@x.com",
    created_at=NOW,
)


def test_a_completion_in_the_future_beyond_five_minutes_is_refused() -> None:
    completions.ensure_not_future(incoming(completed_at=NOW + timedelta(minutes=5)), NOW)
    with pytest.raises(ValidationFailed) as refused:
        completions.ensure_not_future(incoming(completed_at=NOW + timedelta(minutes=5, seconds=1)), NOW)
    assert refused.value.errors[0].field == "completed_at"


def kept(*passed: Completion) -> dict[str, CoursePass]:
    """The latest pass per course the repository keeps for these completions."""
    latest: dict[str, CoursePass] = {}
    for c in passed:
        newer = awards.newer_pass(latest.get(c.course_id), c)
        latest |= {c.course_id: newer} if newer else {}
    return latest


def test_a_completion_ids_itself_by_its_delivery_and_earns_in_the_same_change() -> None:
    earlier = Completion(
        completion_id="cmp_b",
        partner_id="prt_1",
        learner_email="ada@northwind.com",
        course_id="crs_b",
        lms_course_id="LMS-B",
        passed=True,
        completed_at=days(3),
        source="csv",
        dedup_key="csv:x",
        recorded_at=days(3),
    )
    who = Learner(partner_id="prt_1", email="ada@northwind.com", person=person(), passes=kept(earlier))
    change = completions.complete(
        who,
        incoming(),
        COURSE,
        [cert(), cert(certification_id="cert_other", required_course_ids=["crs_z"])],
        origin="webhook:lms_1",
        now=NOW,
        new_id=ids,
    )
    assert change.completion is not None and change.completion.completion_id == completions.completion_id(
        "wh:lms_1:msg_1"
    )
    assert [type(e).__name__ for e in change.events] == ["TrainingCompleted", "CertificationEarned"]
    assert change.person.revision == 2 and change.guard is not None and change.guard.outcome == "accepted"
    failed = completions.complete(who, incoming(passed=False), COURSE, [cert()], origin="o", now=NOW, new_id=ids)
    assert [type(e).__name__ for e in failed.events] == ["TrainingCompleted"]  # a fail earns nothing


def test_only_an_active_partner_user_is_credited() -> None:
    who = Learner(partner_id="prt_1", email="ada@northwind.com", person=person(status="removed"))
    with pytest.raises(InvalidState):
        completions.complete(who, incoming(), COURSE, [], origin="o", now=NOW, new_id=ids)


def test_unmatched_reasons_name_the_course_first() -> None:
    assert completions.unmatched_reason(None, False) == "unknown_course"
    assert completions.unmatched_reason(COURSE, False) == "unknown_learner"
    assert completions.unmatched_reason(COURSE, True) is None
    assert completions.unmatched_reason(COURSE, False, has_email=False) == "unknown_account"  # an xAPI account ref
    assert completions.unmatched_reason(None, False, has_email=False) == "unknown_course"


# ------------------------------------------------------------------ connections
def test_a_secret_is_24_random_bytes_shown_as_whsec_base64() -> None:
    connection, secret = connections.new_connection("Moodle", random_bytes=b"k" * 24, by="v@x.com", now=NOW, new_id=ids)
    assert secret == "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert [connections.display(s) for s in connections.active(connection, NOW)] == [secret]
    assert connections.password_matches(connection, secret, NOW)
    assert not connections.password_matches(connection, secret + "x", NOW)


def test_rotation_keeps_the_previous_secret_valid_for_24_hours() -> None:
    connection, first = connections.new_connection("Moodle", random_bytes=b"1" * 24, by="v", now=NOW, new_id=ids)
    rotated, second = connections.rotate(connection, random_bytes=b"2" * 24, now=NOW)
    assert rotated.revision == 2
    assert [connections.display(s) for s in connections.active(rotated, NOW + timedelta(hours=23))] == [second, first]
    assert [connections.display(s) for s in connections.active(rotated, NOW + timedelta(hours=24))] == [second]
    assert not connections.password_matches(rotated, first, NOW + timedelta(hours=25))
    again, third = connections.rotate(rotated, random_bytes=b"3" * 24, now=NOW + timedelta(hours=30))
    assert [connections.display(s) for s in again.secrets] == [third, second]  # the retired one is dropped


def test_a_rotation_beyond_max_secrets_is_refused_and_drops_nothing() -> None:
    connection, first = connections.new_connection("Moodle", random_bytes=b"1" * 24, by="v", now=NOW, new_id=ids)
    for n in range(connections.MAX_SECRETS - 1):
        connection, _ = connections.rotate(connection, random_bytes=bytes([50 + n]) * 24, now=NOW)
    with pytest.raises(Conflict) as refused:
        connections.rotate(connection, random_bytes=b"9" * 24, now=NOW + timedelta(hours=1))
    assert refused.value.code == "limit_reached" and [e.field for e in refused.value.errors] == ["secrets"]
    assert connections.password_matches(connection, first, NOW + timedelta(hours=23))


# ------------------------------------------------------------------ the review list
def item(**changes: object) -> ReviewItem:
    base = {
        "item_id": "rev_1",
        "reason": "unknown_learner",
        "source": "xapi",
        "dedup_key": "xapi:lms_1:abc",
        "learner_ref": "https://lms.example|u123",
        "lms_course_id": "LMS-A",
        "passed": True,
        "completed_at": days(2),
        "received_at": days(1),
    }
    return ReviewItem.model_validate(base | changes)


def test_an_item_is_assigned_or_discarded_once() -> None:
    assigned = review.assigned(item(), "ada@northwind.com", by="v@x.com", now=NOW, completion_id="cmp_1")
    assert assigned.status == "assigned" and assigned.assigned_to == "ada@northwind.com"
    with pytest.raises(InvalidState):
        review.discarded(assigned, "spam", by="v@x.com", now=NOW)
    discarded = review.discarded(item(), "test account", by="v@x.com", now=NOW)
    assert discarded.status == "discarded" and discarded.discard_reason == "test account"
    with pytest.raises(InvalidState):
        review.as_completion(discarded, "ada@northwind.com")
    completion = review.as_completion(item(), "ada@northwind.com")
    assert completion.source == "review" and completion.dedup_key == "review:rev_1" and completion.passed


# ------------------------------------------------------------------ imports
def job(**changes: object) -> ImportJob:
    base = {
        "import_id": "imp_1",
        "file_name": "q3.csv",
        "key": "imports/imp_1.csv",
        "status": "awaiting_upload",
        "created_by": "v@x.com",
        "created_at": NOW,
    }
    return ImportJob.model_validate(base | changes)


@pytest.mark.parametrize(
    ("size", "content_type", "problem"),
    [
        (None, "", "was not uploaded"),
        (0, "text/csv", "is empty"),
        (2049, "text/csv", "is larger than 2048 bytes"),
        (100, "text/html", "is not text/csv"),
        (100, "text/csv; charset=utf-8", None),
    ],
)
def test_an_upload_must_be_there_csv_and_within_the_limit(
    size: int | None, content_type: str, problem: str | None
) -> None:
    assert imports.upload_problem(size, content_type, 2048) == problem


def test_submission_queues_once_and_refuses_a_bad_file() -> None:
    with pytest.raises(ValidationFailed):
        imports.submitted(job(), problem="was not uploaded", now=NOW)
    queued = imports.submitted(job(), problem=None, now=NOW)
    assert queued is not None and queued.status == "queued" and queued.revision == 2
    assert imports.submitted(queued, problem=None, now=NOW) is None  # sends the work again, changes nothing
    with pytest.raises(InvalidState):
        imports.submitted(job(status="completed"), problem=None, now=NOW)


def test_a_redelivered_job_keeps_the_first_outcome_of_its_own_rows() -> None:
    own = SourceGuard(dedup_key="csv:1", outcome="accepted", origin="import:imp_1")
    other = SourceGuard(dedup_key="csv:1", outcome="accepted", origin="import:imp_0")
    assert imports.row_status(Recorded("duplicate", duplicate_of=own), "import:imp_1") == "accepted"
    assert imports.row_status(Recorded("duplicate", duplicate_of=other), "import:imp_1") == "duplicate"
    assert imports.row_status(Recorded("unknown_learner"), "import:imp_1") == "unknown_learner"


def test_a_job_is_started_once_from_queued_knowing_its_rows_and_file() -> None:
    started = imports.started(job(status="queued", revision=2), total_rows=1200, digest="d1")
    assert (started.status, started.total_rows, started.rows_processed, started.file_digest, started.revision) == (
        "processing",
        1200,
        0,
        "d1",
        3,
    )
    with pytest.raises(InvalidState):
        imports.started(started, total_rows=1200, digest="d1")  # a second start would reset the cursor
    with pytest.raises(InvalidState):
        imports.started(job(status="completed"), total_rows=1, digest="d1")


def request(start: int = 0, sent_id: str = "imq_1") -> ImportRequested:
    return ImportRequested(message_type="ImportRequested", import_id="imp_1", start_row=start, sent_id=sent_id)


def test_only_the_message_starting_at_the_cursor_processes_rows() -> None:
    running = job(status="processing", total_rows=1200, rows_processed=500, advanced_by="imq_1")
    assert imports.delivery(running, request(500, "imq_2")) == "process"
    assert imports.delivery(running, request(0, "imq_0")) == "stale"  # a duplicate of a recorded chunk
    assert imports.delivery(running, request(0, "imq_1")) == "resend"  # its redelivery: the next may be unsent
    assert imports.delivery(running, request(0, "")) == "stale"
    assert imports.delivery(running, request(1000, "imq_9")) == "stale"  # not the cursor (never sent so)
    assert imports.delivery(job(status="queued"), request(0)) == "process"
    assert imports.delivery(running.model_copy(update={"rows_processed": 1200}), request(500)) == "finish"
    for status in ("completed", "failed", "awaiting_upload"):
        assert imports.delivery(job(status=status), request(0)) == "done"


def rows(first: int, count: int, status: str = "accepted") -> list[ImportRow]:
    return [ImportRow(row=n + 2, status=status) for n in range(first, first + count)]  # type: ignore[arg-type]


def test_a_chunk_advances_the_cursor_by_its_rows_and_adds_their_counts() -> None:
    running = job(status="processing", total_rows=1200, rows_processed=500, counts={"accepted": 500}, revision=4)
    advanced, chunk = imports.chunk_recorded(running, 500, rows(500, 300, "invalid"), sent_id="imq_2")
    assert (advanced.rows_processed, advanced.advanced_by, advanced.revision) == (800, "imq_2", 5)
    assert advanced.counts == {"accepted": 500, "invalid": 300}
    assert (chunk.start, len(chunk.rows), chunk.rows[0].row) == (500, 300, 502)
    for start, count in ((0, 10), (500, 0), (500, 701)):
        with pytest.raises(InvalidState):
            imports.chunk_recorded(running, start, rows(start, count), sent_id="imq_3")
    assert imports.chunk_end(running, 500, 500) == 1000 and imports.chunk_end(running, 1000, 500) == 1200
    assert imports.next_request(advanced, new_id=ids).start_row == 800


def test_the_report_is_every_chunk_in_row_order_or_nothing() -> None:
    done = job(status="processing", total_rows=1200, rows_processed=1200)
    chunks = [ImportChunk(import_id="imp_1", start=s, rows=rows(s, n)) for s, n in ((1000, 200), (0, 500), (500, 500))]
    assert [r.row for r in imports.assembled(done, chunks)] == list(range(2, 1202))
    with pytest.raises(InvalidState):
        imports.assembled(done, chunks[:2])  # the chunk from 500 is missing
    finished = imports.finished(done, imports.assembled(done, chunks), now=NOW)
    assert (finished.status, finished.counts, finished.total_rows) == ("completed", {"accepted": 1200}, 1200)


def test_a_long_reason_is_cut_so_a_full_chunk_fits_one_item() -> None:
    from training.repository import TrainingRepository

    long = ImportRow(row=10_001, status="invalid", reason="x" * 5000, completion_id="cmp_" + "0" * 26)
    running = job(status="processing", total_rows=imports.MAX_ROWS, rows_processed=0)
    _, chunk = imports.chunk_recorded(running, 0, [long] * imports.CHUNK_ROWS, sent_id="imq_1")
    assert len(chunk.rows[0].reason or "") == imports.MAX_REASON
    item = TrainingRepository("t")._chunk_item(chunk)
    assert len(json.dumps(item).encode()) < 300 * 1024  # DynamoDB's item limit is 400 KB


def test_a_file_is_known_by_its_digest() -> None:
    assert imports.file_digest(b"a,b\n") == imports.file_digest(b"a,b\n") != imports.file_digest(b"a,c\n")


# ------------------------------------------------------------------ access
def principal(partner_id: str | None, *groups: str) -> Principal:
    return Principal(sub="s", email="x@example.com", name="X", partner_id=partner_id, groups=frozenset(groups))


def test_vendor_admin_partner_user_and_partner_admin() -> None:
    access.ensure_vendor_admin(principal(None, "vendor-admin"))
    with pytest.raises(Forbidden):
        access.ensure_vendor_admin(principal("prt_1", "partner-admin"))
    assert access.ensure_partner_user(principal("prt_1")) == "prt_1"
    with pytest.raises(Forbidden):
        access.ensure_partner_user(principal(None, "vendor-admin"))
    assert access.ensure_partner_admin(principal("prt_1", "partner-admin")) == "prt_1"
    with pytest.raises(Forbidden):
        access.ensure_partner_admin(principal("prt_1", "partner-user"))


def test_the_catalogue_is_bounded() -> None:
    catalogue.ensure_room(999, catalogue.MAX_COURSES, "courses")
    with pytest.raises(Conflict):
        catalogue.ensure_room(1000, catalogue.MAX_COURSES, "courses")


def test_a_completion_evaluates_only_the_certifications_its_course_belongs_to() -> None:
    """Another certification the learner happens to qualify for is not touched by an unrelated completion."""
    other = cert(certification_id="cert_other", required_course_ids=["crs_z"], renewal_course_id=None)
    passed_z = Completion(
        completion_id="cmp_z",
        partner_id="prt_1",
        learner_email="ada@northwind.com",
        course_id="crs_z",
        lms_course_id="LMS-Z",
        passed=True,
        completed_at=days(3),
        source="csv",
        dedup_key="csv:z",
        recorded_at=days(3),
    )
    who = Learner(partner_id="prt_1", email="ada@northwind.com", person=person(), passes=kept(passed_z))
    change = completions.complete(who, incoming(), COURSE, [other], origin="o", now=NOW, new_id=ids)
    assert change.awards == () and [type(e).__name__ for e in change.events] == ["TrainingCompleted"]


# ------------------------------------------------------------------ latest passes instead of the whole history
def _history(seed: int) -> tuple[Certification, list[tuple[datetime, str]], random.Random]:
    rnd = random.Random(seed)
    required = ["crs_a", "crs_b", "crs_c"][: rnd.choice([1, 2, 3])]
    certification = cert(
        required_course_ids=required,
        validity_months=rnd.choice([1, 3, 12, 120]),
        completion_window_months=rnd.choice([1, 2, 6, 12]),
        renewal_course_id=rnd.choice([None, "crs_r", required[0]]),
    )
    courses = [*required, *([certification.renewal_course_id] if certification.renewal_course_id else [])]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    moments = sorted(start + timedelta(days=rnd.randint(0, 2000)) for _ in range(rnd.randint(1, 25)))
    return certification, [(t, rnd.choice(courses)) for t in moments], rnd


def _replay(certification: Certification, arrivals: list[tuple[datetime, str]], rnd: random.Random) -> int | None:
    """Record passes in arrival order (expiring and now and then withdrawing the award in between); the index of the
    first arrival where the latest-pass evaluation differs from the whole-history one, None when never."""
    history: dict[str, list[datetime]] = {}
    latest: dict[str, datetime] = {}
    held: Award | None = None
    now = arrivals[0][0]
    for index, (moment, course) in enumerate(arrivals):
        now = max(now, moment)
        if held is not None and held.status == "active" and held.expires_at <= now:
            held = held.model_copy(update={"status": "expired", "ended_at": held.expires_at})
        if held is not None and held.status == "active" and rnd.random() < 0.05:
            held = held.model_copy(update={"status": "withdrawn", "ended_at": now})
        history.setdefault(course, []).append(moment)
        latest[course] = max(moment, latest.get(course, moment))
        common = {"partner_id": "prt_1", "email": "ada@northwind.com", "now": now, "new_id": ids}
        whole = awards.evaluate(certification, history, held, **common)  # type: ignore[arg-type]
        kept = awards.evaluate(certification, {c: [t] for c, t in latest.items()}, held, **common)  # type: ignore[arg-type]
        outcome = [None if r is None else (r[0].earned_at, r[0].expires_at, r[1].renewal) for r in (whole, kept)]
        if outcome[0] != outcome[1]:
            return index
        held = whole[0] if whole else held
    return None


def test_passes_recorded_in_time_order_earn_from_the_latest_passes_what_the_whole_history_earns() -> None:
    """Earning, renewal, re-earning after expiry or withdrawal: on 2,000 random histories recorded in time order, the
    latest pass of each course gives the same award, expiry and renewal flag at every step as every pass would."""
    for seed in range(2000):
        certification, passes, rnd = _history(seed)
        assert _replay(certification, passes, rnd) is None, seed


def _pass(course: str, at: datetime, n: int = 0) -> Completion:
    return Completion(
        completion_id=f"cmp_{course}_{n}",
        partner_id="prt_1",
        learner_email="ada@northwind.com",
        course_id=course,
        lms_course_id=course.upper(),
        passed=True,
        completed_at=at,
        source="csv",
        dedup_key=f"csv:{course}:{n}",
        recorded_at=NOW,
    )


def test_a_back_filled_old_pass_completes_a_set_with_an_older_not_latest_pass_of_another_course() -> None:
    """A late old pass of A whose only partner in the window is an older pass of B (B passed again since, outside the
    window): the pass log's entry of B nearest the new pass makes the set, the latest passes alone would not."""
    long_lived = cert(validity_months=120, completion_window_months=6)
    b_then, b_since, a_late = days(400), days(10), days(405)
    latest = kept(_pass("crs_b", b_then, 1), _pass("crs_b", b_since, 2))
    alone = awards.passes_read(latest.values(), {}, _pass("crs_a", a_late))
    assert evaluate(alone, certification=long_lived) is None
    read = awards.passes_read(latest.values(), {"crs_b": (b_then, b_since)}, _pass("crs_a", a_late))
    assert read == {"crs_a": [a_late], "crs_b": [b_then, b_since]}
    result = evaluate(read, certification=long_lived)
    assert result is not None and result[0].earned_at == b_then  # the later of the set: B 400 days ago
    assert result[0].expires_at == add_months(b_then, 120).replace(microsecond=0)


def test_a_failed_completion_is_neither_logged_nor_read_as_a_pass() -> None:
    failed = _pass("crs_a", days(3)).model_copy(update={"passed": False})
    assert awards.logged(failed) is None
    assert awards.passes_read([], {"crs_b": (days(4),)}, failed) == {"crs_b": [days(4)]}
    logged = awards.logged(_pass("crs_a", days(3)))
    assert logged is not None and (logged.course_id, logged.completed_at) == ("crs_a", days(3))


def _nearest(log: list[datetime], at: datetime) -> tuple[datetime, ...]:
    """What the repository's two Limit-1 queries answer: the last logged pass at or before `at`, the first after."""
    ordered = sorted(log)
    return tuple([t for t in ordered if t <= at][-1:] + [t for t in ordered if t > at][:1])


def test_a_certification_is_earned_whatever_order_its_passes_arrive_in() -> None:
    """On 2,000 random pass histories recorded in a random order (a backfill): after the last arrival the learner
    holds the certification exactly when the whole history has a qualifying set, each arrival reading only the latest
    pass per course and the logged passes nearest it (never the whole history), and never earns later than that set."""
    for seed in range(2000):
        rnd = random.Random(seed)
        required = ["crs_a", "crs_b", "crs_c"][: rnd.choice([1, 2, 3])]
        certification = cert(
            required_course_ids=required,
            validity_months=120,  # nothing expires by NOW: only whether and when it was earned is compared
            completion_window_months=rnd.choice([1, 2, 6, 12]),
            renewal_course_id=None,
        )
        start = NOW - timedelta(days=3000)
        arrivals = [
            (start + timedelta(days=rnd.randint(0, 2000)), rnd.choice(required)) for _ in range(rnd.randint(1, 20))
        ]
        rnd.shuffle(arrivals)
        log: dict[str, list[datetime]] = {}
        latest: dict[str, CoursePass] = {}
        held: Award | None = None
        for n, (moment, course) in enumerate(arrivals):
            new = _pass(course, moment, n)
            nearby = {c: _nearest(log.get(c, []), moment) for c in required if c != course}
            passes = awards.passes_read(latest.values(), nearby, new)
            result = evaluate(passes, held, certification=certification)
            held = result[0] if result else held
            log.setdefault(course, []).append(moment)
            newer = awards.newer_pass(latest.get(course), new)
            latest |= {course: newer} if newer else {}
        whole = awards.qualifying_moment(certification, log)
        assert (held is not None) == (whole is not None), seed
        assert held is None or whole is None or held.earned_at <= whole, seed


def test_a_completion_keeps_its_course_latest_pass_only_when_newer() -> None:
    kept_a = kept(
        Completion(
            completion_id="cmp_b",
            partner_id="prt_1",
            learner_email="ada@northwind.com",
            course_id="crs_a",
            lms_course_id="LMS-A",
            passed=True,
            completed_at=days(3),
            source="csv",
            dedup_key="csv:b",
            recorded_at=days(3),
        )
    )
    who = Learner(partner_id="prt_1", email="ada@northwind.com", person=person(), passes=kept_a)
    newer = completions.complete(who, incoming(), COURSE, [], origin="o", now=NOW, new_id=ids)
    assert newer.latest_pass is not None and newer.completion is not None
    assert (newer.latest_pass.course_id, newer.latest_pass.completion_id) == ("crs_a", newer.completion.completion_id)
    older = completions.complete(who, incoming(completed_at=days(30)), COURSE, [], origin="o", now=NOW, new_id=ids)
    failed = completions.complete(who, incoming(passed=False), COURSE, [], origin="o", now=NOW, new_id=ids)
    assert older.latest_pass is None and failed.latest_pass is None


# ------------------------------------------------------------------ xAPI activity ids of a course
def test_a_course_declares_activity_iris_matched_but_for_one_trailing_slash() -> None:
    body = CourseBody(
        title="Cloud",
        lms_course_id="https://lms.example.com/c/1",
        credit_hours=1,
        language="en",
        activity_ids=["https://lms.example.com/au/1/", "urn:cmi5:au:1"],
    )
    course = catalogue.new_course(body, by="v@example.com", now=NOW, new_id=ids)
    assert catalogue.activity_keys(course) == [
        ("https://lms.example.com/c/1", "lms_course_id"),
        ("https://lms.example.com/au/1", "activity_ids.0"),
        ("urn:cmi5:au:1", "activity_ids.1"),
    ]
    assert catalogue.activity_key("https://lms.example.com/au/1/") == catalogue.activity_key(
        "https://lms.example.com/au/1"
    )
    assert catalogue.activity_key("https://lms.example.com/au/1//") == "https://lms.example.com/au/1/"  # one slash only
    plain = catalogue.new_course(
        CourseBody(title="Net", lms_course_id="NET-101", credit_hours=1, language="en"), by="v", now=NOW, new_id=ids
    )
    assert catalogue.activity_keys(plain) == []  # not an IRI: xAPI statements cannot name it by a slash variant


@pytest.mark.parametrize(
    ("activity_ids", "field"),
    [
        (["not an iri"], "activity_ids.0"),
        (["https://ok.example/a", "relative/path"], "activity_ids.1"),
        (["https://ok.example/" + "a" * 200], "activity_ids.0"),
        (["https://ok.example/a", "https://ok.example/a/"], "activity_ids"),
        ([f"https://ok.example/{n}" for n in range(11)], "activity_ids"),
        ("https://ok.example/a", "activity_ids"),
    ],
)
def test_invalid_activity_ids_are_refused_naming_the_field(activity_ids: object, field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        CourseBody.model_validate(
            {"title": "X", "lms_course_id": "X-1", "credit_hours": 1, "language": "en", "activity_ids": activity_ids}
        )
    assert field in [".".join(str(p) for p in e["loc"]) for e in refused.value.errors()]
