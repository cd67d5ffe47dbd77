"""Training and programme tiers end to end over HTTP against the local stack: a vendor admin defines the courses, the
certification, an LMS connection and the programme's tiers; an LMS's signed webhook completes the last required
course of a partner's second engineer, the certification is earned, the tier is re-evaluated, the channel team
approves the upgrade by email link and `GET /programme` shows Gold. Also the webhook's abuse cases over HTTP: a bad
signature, a stale timestamp, an unknown connection, an oversize body, and a replayed delivery that changes nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infrastructure.local.people import People, Session
from infrastructure.local.seed_programme import (
    TIER_APPROVER,
    Catalogue,
    approve_upgrade,
    completion_body,
    define_training,
    deliver,
    next_missing,
    publish_programme,
    signed_headers,
    standing,
    wait_for_tier,
)
from tests.e2e.test_deals_story import approved_deal, ensure_products
from tests.e2e.test_deals_story import onboard as onboard_for_deals
from tests.support.events import EventCapture, validate
from tests.support.partners import PASSWORD, Partner, accept_agreement, vendor_admin

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

WON = 2_000_000  # 20,000.00 USD won revenue: above Gold's 15,000.00


# ------------------------------------------------------------------ the story's partner
@dataclass(frozen=True)
class Engineers:
    """A partner that is Silver and exactly one certified engineer short of Gold: its admin holds the certification,
    its colleague has passed NET-101 only."""

    partner: Partner
    company: str
    colleague: Session


def programme(people: People, *, name: str = "Story LMS") -> Catalogue:
    """The demo's catalogue and programme (shared by every test of the stack) and a connection of this test's own."""
    admin = vendor_admin(people)
    catalogue = define_training(people, admin, connection_name=name)
    publish_programme(people, admin, catalogue.certification_id)
    return catalogue


def invite_and_sign_in(people: People, partner: Partner, email: str, name: str) -> Session:
    body = {"email": email, "name": name, "role": "partner-user"}
    answer = people.api("POST", f"/partners/{partner.partner_id}/users", session=partner.session, json=body)
    assert answer.status_code == 201, answer.text
    [invitation] = people.wait_for_mail(people.to(email, containing="data-temporary-password"), timeout=30)
    session = people.sign_in(email, people.temporary_password(invitation), new_password=PASSWORD)
    accept_agreement(people, session)  # every partner route, training's and tiers' too, needs the accepted agreement
    return session


def one_engineer_short_of_gold(people: People, catalogue: Catalogue, *, company: str) -> Engineers:
    """Through the real paths: onboarding, a won deal, the admin's two passes from the LMS, the Silver upgrade approved
    by the channel team's link, the colleague's first pass."""
    ensure_products(people)
    partner = onboard_for_deals(people, company=company)
    wait_for_tier(people, partner.session, "registered")
    colleague_email = f"bob@{partner.domain}"
    colleague = invite_and_sign_in(people, partner, colleague_email, "Bob Engineer")
    deal = approved_deal(people, partner)
    won = {"amount": {"amount_minor": WON, "currency": "USD"}, "close_date": datetime.now(UTC).date().isoformat()}
    answer = people.api("POST", f"/deals/{deal['deal_id']}/won", session=partner.session, json=won)
    assert answer.status_code == 200, answer.text
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for course in ("NET-101", "NET-201"):
        assert deliver(people, catalogue, partner.email, course, yesterday).status_code == 200
    assert approve_upgrade(people, company, "Silver").status_code == 200
    wait_for_tier(people, partner.session, "silver")
    assert deliver(people, catalogue, colleague_email, "NET-101", yesterday).status_code == 200
    wait_for_completion(people, colleague, catalogue.course_ids["NET-101"])
    return Engineers(partner, company, colleague)


def wait_for_completion(people: People, session: Session, course_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        mine = my_training(people, session)
        if any(c["course_id"] == course_id for c in mine["completions"]):
            return mine
        if time.monotonic() > deadline:
            raise TimeoutError(f"{session.email} has no completion of {course_id}: {mine}")
        time.sleep(0.2)


def my_training(people: People, session: Session) -> dict[str, Any]:
    answer = people.api("GET", "/training/me", session=session)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def criterion(state: dict[str, Any], which: str, key: str) -> dict[str, Any]:
    """A criterion of the current or next tier by its key: the currency, `approved_deals`, a certification id."""
    found = [c for c in state[which]["criteria"] if c["key"] == key]
    assert len(found) == 1, (key, state[which])
    return found[0]


def wait_for_event(
    events: EventCapture, detail_type: str, matches: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> dict[str, Any]:
    """The first captured event of that type whose detail matches (nested fields too)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in events.poll() if e["detail-type"] == detail_type and matches(e["detail"])]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching {detail_type} event")
        time.sleep(0.2)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def catalogue(people: People) -> Catalogue:
    return programme(people)


@pytest.fixture(scope="module")
def engineers(people: People, events: EventCapture, catalogue: Catalogue) -> Engineers:
    return one_engineer_short_of_gold(people, catalogue, company=f"Northwind Labs {uuid.uuid4().hex[:6]}")


# ------------------------------------------------------------------ the story
def test_the_lms_completes_the_second_engineer_and_the_partner_becomes_gold(
    people: People, events: EventCapture, catalogue: Catalogue, engineers: Engineers
) -> None:
    partner, colleague = engineers.partner, engineers.colleague
    before = standing(people, partner.session)
    assert before["tier"]["tier_id"] == "silver" and before["next"]["tier"]["tier_id"] == "gold"
    engineers_needed = criterion(before, "next", catalogue.certification_id)
    assert (engineers_needed["value"], engineers_needed["threshold"], engineers_needed["met"]) == (1, 2, False)
    assert next_missing(before) == ["1 more certified engineer for Gold"]
    assert criterion(before, "next", "USD")["met"] and criterion(before, "next", "approved_deals")["met"]
    assert before["pending_upgrade"] is None and before["grace_period"] is None

    # the LMS reports the colleague's pass of the last required course
    passed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    answer = deliver(people, catalogue, colleague.email, "NET-201", passed_at)
    assert answer.status_code == 200, answer.text

    completed = events.wait_for("TrainingCompleted", learner_email=colleague.email, passed=True, source="webhook")
    validate(completed)
    earned = events.wait_for("CertificationEarned", holder_email=colleague.email)
    validate(earned)
    assert earned["detail"]["partner_id"] == partner.partner_id
    assert earned["detail"]["certification_id"] == catalogue.certification_id and earned["detail"]["renewal"] is False
    assert parse_time(earned["detail"]["earned_at"]) == passed_at
    assert parse_time(earned["detail"]["expires_at"]) == add_months(passed_at, 24)

    # Gold asks for the channel team's approval (the demo programme's upgrade_approval): one pending upgrade
    requested = wait_for_event(
        events,
        "TierUpgradeRequested",
        lambda d: d["partner_id"] == partner.partner_id and d["proposed"]["tier_id"] == "gold",
    )
    validate(requested)
    assert requested["detail"]["current"]["tier_id"] == "silver"
    assert requested["detail"]["proposed"]["tier_id"] == "gold"
    pending = standing(people, partner.session)
    assert pending["tier"]["tier_id"] == "silver"
    assert pending["pending_upgrade"]["proposed"]["tier_id"] == "gold"

    assert approve_upgrade(people, engineers.company, "Gold").status_code == 200
    changed = wait_for_event(
        events, "PartnerTierChanged", lambda d: d["partner_id"] == partner.partner_id and d["tier"]["tier_id"] == "gold"
    )
    validate(changed)
    assert changed["detail"]["direction"] == "upgrade"
    assert changed["detail"]["previous"]["tier_id"] == "silver" and changed["detail"]["approved_by"] == TIER_APPROVER

    after = wait_for_tier(people, partner.session, "gold")
    assert after["tier"]["name"] == "Gold" and after["pending_upgrade"] is None
    assert after["next"]["tier"]["tier_id"] == "platinum" and after["current"]["met"] is True
    assert criterion(after, "current", catalogue.certification_id)["value"] == 2
    newest = after["history"][0]
    assert (newest["kind"], newest["previous"]["tier_id"], newest["tier"]["tier_id"]) == ("upgrade", "silver", "gold")
    assert (
        newest["by"] == TIER_APPROVER and newest["reason"] and newest["criteria_version"] == after["criteria_version"]
    )
    changes = [(h["direction"], h["tier"]["tier_id"]) for h in after["history"] if h["direction"]]
    assert changes == [("upgrade", "gold"), ("upgrade", "silver"), ("initial", "registered")], after["history"]
    assert after["tier"]["since"] == newest["at"] and newest["direction"] == "upgrade"

    # the colleague holds the certification, and the admin sees both holders
    mine = my_training(people, colleague)
    [award] = [a for a in mine["certifications"] if a["certification_id"] == catalogue.certification_id]
    assert award["status"] == "active" and award["expires_at"] == earned["detail"]["expires_at"]
    holders = people.api("GET", "/training/people", session=partner.session)
    assert holders.status_code == 200, holders.text
    [group] = [g for g in holders.json()["certifications"] if g["certification_id"] == catalogue.certification_id]
    assert [p["email"] for p in group["holders"]] == sorted([partner.email, colleague.email])
    assert {p["status"] for p in group["holders"]} == {"active"}
    # a partner user is not an admin: the organisation's list is not theirs
    assert people.api("GET", "/training/people", session=colleague).status_code == 403


def test_webhook_abuse_is_refused_and_a_replayed_delivery_is_one_completion(
    people: People, events: EventCapture, catalogue: Catalogue, engineers: Engineers
) -> None:
    colleague = engineers.colleague
    url = f"{people.stack.api_url}/training/webhooks/{catalogue.connection_id}"
    attempted_at = datetime.now(UTC) - timedelta(hours=2)
    payload = json.dumps(completion_body(colleague.email, "NET-301", attempted_at, passed=False))
    before = my_training(people, colleague)

    def post(headers: dict[str, str], body: str = payload, target: str = url) -> Any:
        return people.http.post(target, data=body, headers=headers, timeout=30)

    refusals = {
        "bad signature": post(signed_headers("whsec_" + "A" * 32, payload)),
        "signature of another body": post(signed_headers(catalogue.secret, payload.replace("NET-301", "NET-201"))),
        "stale timestamp": post(signed_headers(catalogue.secret, payload, at=datetime.now(UTC) - timedelta(minutes=6))),
        "future timestamp": post(
            signed_headers(catalogue.secret, payload, at=datetime.now(UTC) + timedelta(minutes=6))
        ),
        "no signature": post({"Content-Type": "application/json", "webhook-id": "msg_1", "webhook-timestamp": "1"}),
        "unknown connection": post(
            signed_headers(catalogue.secret, payload), target=url.rsplit("/", 1)[0] + "/lms_" + "0" * 26
        ),
    }
    bodies = set()
    for case, answer in refusals.items():
        assert answer.status_code == 401, (case, answer.status_code, answer.text)
        body = answer.json()
        assert set(body) >= {"code", "message"}, (case, body)
        assert catalogue.secret not in answer.text and catalogue.connection_id not in answer.text, case
        bodies.add(json.dumps(body, sort_keys=True))
    assert len(bodies) == 1, f"the refusals tell the cases apart: {bodies}"

    oversize = json.dumps(completion_body(colleague.email, "NET-301", attempted_at) | {"padding": "x" * 70_000})
    assert post(signed_headers(catalogue.secret, oversize), body=oversize).status_code == 413

    # one signed delivery, then the same webhook-id again (an LMS retry): one completion
    msg_id = f"msg_{uuid.uuid4().hex}"
    first = post(signed_headers(catalogue.secret, payload, msg_id=msg_id))
    assert first.status_code == 200 and first.json() == {"status": "accepted"}, first.text
    completed = events.wait_for("TrainingCompleted", learner_email=colleague.email, passed=False)
    replay = post(signed_headers(catalogue.secret, payload, msg_id=msg_id))
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}, replay.text
    changed = payload.replace('"passed": false', '"passed": true')  # the same id re-signed with another body
    again = post(signed_headers(catalogue.secret, changed, msg_id=msg_id), body=changed)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}, again.text

    people.stack.wait_idle(timeout=30)
    after = my_training(people, colleague)
    added = [c for c in after["completions"] if c not in before["completions"]]
    assert [(c["course_id"], c["passed"], c["source"]) for c in added] == [
        (catalogue.course_ids["NET-301"], False, "webhook")
    ], added
    events.poll()
    failed = [
        e
        for e in events.seen
        if e["detail-type"] == "TrainingCompleted"
        and e["detail"]["learner_email"] == colleague.email
        and e["detail"]["passed"] is False
    ]
    assert [e["detail"]["completion_id"] for e in failed] == [completed["detail"]["completion_id"]]
    renewed = [
        e
        for e in events.seen
        if e["detail-type"] == "CertificationEarned"
        and e["detail"]["holder_email"] == colleague.email
        and e["detail"]["renewal"]
    ]
    assert renewed == []  # a failed renewal course renews nothing
