"""The partner programme's handlers against moto, provisioned from template.yaml: the API (versions, manual criteria,
explained status, tenancy), the consumer fed by the bus (deals', training's and onboarding's events), the outbox onto
the bus, the upgrade approval state machine, and the real timers (EventBridge Scheduler one-time schedules) with short
parameters: a fact leaves the trailing window, a grace period starts, warns twice and ends in a downgrade."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Stack
from tests.support.events import validate
from tests.support.factories import bus_envelope, partner_onboarded
from tests.support.lambda_events import claims_for

VENDOR = claims_for(sub="vendor-tiers", email="programme-admin@example.com", partner_id=None, groups=["vendor-admin"])
CERT = "cert-net-eng"


def programme_body(effective_from: date) -> dict[str, Any]:
    return {
        "effective_from": effective_from.isoformat(),
        "upgrade_approval": "channel_team",
        "tiers": [
            {"tier_id": "registered", "name": "Registered", "benefits": ["Deal registration"]},
            {"tier_id": "silver", "name": "Silver", "benefits": ["MDF"], "criteria": {"approved_deals": 1}},
            {
                "tier_id": "gold",
                "name": "Gold",
                "benefits": ["Named channel manager"],
                "criteria": {
                    "won_revenue": [{"currency": "USD", "amount_minor": 4_000_000}],
                    "certifications": [{"certification_id": CERT, "label": "certified engineer", "people": 2}],
                    "manual": [{"criterion_id": "business_plan", "label": "Signed business plan"}],
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def tiers(stack: Stack) -> Any:
    api, consumers, outbox = stack.load_context(
        "Tiers",
        "tiers",
        # the channel team has a minute per step here: a loaded run must not lapse a request before its link is used
        # (the lapse itself runs through the state machine with seconds, below)
        REMINDER_SECONDS="60",
        ESCALATION_SECONDS="60",
        EXPIRY_SECONDS="60",
    )
    define_certification(stack, (api, consumers, outbox, None), CERT)
    today = datetime.now(UTC).date()
    status, answer, _ = stack.call(api.app, "POST", "/programme/versions", body=programme_body(today), claims=VENDOR)
    assert status == 201, answer
    return api, consumers, outbox, answer


def define_certification(stack: Stack, tiers: Any, certification_id: str) -> None:
    """Training's `CertificationDefined` through tiers' queue: a criterion may name the certification from then on."""
    send(
        stack,
        "prm.training",
        "CertificationDefined",
        "*",
        certification_id=certification_id,
        certification_name=f"Certification {certification_id}",
        required_course_ids=["crs_" + "0" * 26],
        validity_months=24,
        defined_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    flush(stack, tiers)


class Capture:
    """A queue subscribed to every `prm.tiers` event on the bus, as another context's rule would be."""

    def __init__(self, stack: Stack) -> None:
        events, sqs = boto3.client("events"), boto3.client("sqs")
        name = f"test-tiers-capture-{uuid.uuid4().hex[:8]}"
        self.queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = stack.ref("PrmEventBus")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["prm.tiers"]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return self.seen

    def all(self, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.poll()
            if e["detail-type"] == detail_type and all(e["detail"].get(k) == v for k, v in detail.items())
        ]

    def one(self, detail_type: str, **detail: Any) -> dict[str, Any]:
        found = self.all(detail_type, **detail)
        assert len(found) == 1, (detail_type, detail, found)
        validate(found[0])  # as delivered, against the versioned schema in events/schemas
        return found[0]


@pytest.fixture(scope="module")
def capture(stack: Stack) -> Capture:
    return Capture(stack)


def flush(stack: Stack, tiers: Any, *, until: Any = None, timeout: float = 30) -> None:
    """Publish the outbox, fire due timers and deliver both queues to the consumer until `until()` holds."""
    _, consumers, outbox, _ = tiers
    queues = {"TiersEventsQueue": consumers.handler, "TiersWorkflowQueue": consumers.handler}
    stack.flush("TiersTable", outbox, queues, until=until, timeout=timeout)


def send(
    stack: Stack, source: str, detail_type: str, partner_id: str, *, at: datetime | None = None, **detail: Any
) -> dict[str, Any]:
    """An event as the bus delivers it to tiers' queue (another context published it at `at`, by default now)."""
    occurred = (at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    envelope = bus_envelope(
        source,
        detail_type,
        {"event_id": f"evt_{uuid.uuid4().hex}", "occurred_at": occurred, "version": "1", "partner_id": partner_id}
        | detail,
    )
    resend(stack, envelope)
    return envelope


def resend(stack: Stack, envelope: dict[str, Any]) -> None:
    boto3.client("sqs").send_message(QueueUrl=stack.ref("TiersEventsQueue"), MessageBody=json.dumps(envelope))


def onboard(stack: Stack, tiers: Any) -> tuple[str, dict[str, str]]:
    """A partner tiers knows from PartnerOnboarded, with its admin (PartnerUserInvited) signed in."""
    envelope = partner_onboarded()
    partner_id = envelope["detail"]["partner_id"]
    admin = f"admin@{envelope['detail']['domain']}"
    send(
        stack,
        "prm.onboarding",
        "PartnerUserInvited",
        partner_id,
        invitation_id=f"inv_{uuid.uuid4().hex[:8]}",
        email=admin,
        name="Admin",
        role="partner-admin",
        invited_by="a@example.com",
    )
    resend(stack, envelope)
    claims = claims_for(sub=f"sub-{partner_id}", email=admin, partner_id=partner_id, groups=["partner-admin"])
    flush(stack, tiers, until=lambda: admitted(stack, tiers, claims) == 200)
    return partner_id, claims


def admitted(stack: Stack, tiers: Any, claims: dict[str, str]) -> int:
    """`GET /programme`'s status, once past the agreement gate: whichever test published an agreement (it may reach
    tiers' queue during this test), the user accepts what tiers has projected (as deals', MDF's and training's tests
    do)."""
    status, body = get(stack, tiers, claims)
    if status == 403 and body["code"] == "agreement_required":
        stack.accept_projected_agreement("TiersTable", "TiersEventsQueue", claims)
    return status


def get(stack: Stack, tiers: Any, claims: dict[str, str], partner_id: str | None = None) -> tuple[int, Any]:
    if partner_id is None:
        status, body, _ = stack.call(tiers[0].app, "GET", "/programme", claims=claims)
    else:
        status, body, _ = stack.call(
            tiers[0].app, "GET", "/programme/partners/{partner_id}", {"partner_id": partner_id}, claims=claims
        )
    return status, body


def tier_of(stack: Stack, tiers: Any, claims: dict[str, str]) -> str | None:
    status, body = get(stack, tiers, claims)
    return body["tier"]["tier_id"] if status == 200 else None


def approved(stack: Stack, partner_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    """Deals approved one of the partner's registrations (at `at`: the approval counts from then)."""
    return send(
        stack,
        "prm.deals",
        "DealApproved",
        partner_id,
        at=at,
        deal_id=f"deal_{uuid.uuid4().hex[:12]}",
        prospect={"company_name": "Globex", "domain": "globex.com", "company_key": "globex", "country": "GB"},
        estimated_value={"amount_minor": 100_000, "currency": "USD"},
        approved_by="cm@example.com",
        automatic=False,
        protection_ends_at="2027-06-01T00:00:00.000Z",
    )


def approval_request(stack: Stack, approval_id: str, timeout: float = 20) -> dict[str, Any]:
    """The approval request the state machine put on the approvals service's queue. The queue is shared with every
    earlier test's workflows: what is looked at stays hidden while searching, then everything is left visible again."""
    sqs, url = boto3.client("sqs"), stack.ref("ApprovalRequestsQueue")
    seen: list[str] = []
    found: dict[str, Any] | None = None
    deadline = time.monotonic() + timeout
    try:
        while found is None and time.monotonic() < deadline:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
            messages = answer.get("Messages", [])
            for message in messages:
                seen.append(message["ReceiptHandle"])
                body = json.loads(message["Body"])
                if body.get("approval_id") == approval_id and body.get("kind") == "request":
                    found = body
            if not messages:
                time.sleep(0.1)
    finally:
        for handle in seen:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    if found is None:
        raise AssertionError(f"no approval request {approval_id}")
    return found


def decide(
    stack: Stack, partner_id: str, upgrade_id: str, decision: str = "approved", reason: str | None = None
) -> None:
    """What the upgrade approval state machine sends once the channel team decided."""
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("TiersWorkflowQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "TierUpgradeDecision",
                "partner_id": partner_id,
                "upgrade_id": upgrade_id,
                "decision": decision,
                "decided_by": "channel-programme@example.com",
                "reason": reason,
                "decided_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        ),
    )


def to_silver(stack: Stack, tiers: Any, partner_id: str, admin: dict[str, str], **approval: Any) -> None:
    """An approved registration qualifies for Silver, which the channel team approves."""
    approved(stack, partner_id, **approval)
    flush(stack, tiers, until=lambda: (get(stack, tiers, admin)[1].get("pending_upgrade") or {}).get("upgrade_id"))
    decide(stack, partner_id, get(stack, tiers, admin)[1]["pending_upgrade"]["upgrade_id"])
    flush(stack, tiers, until=lambda: tier_of(stack, tiers, admin) == "silver")


def mail_to(stack: Stack, address: str) -> list[Any]:
    return [m for m in stack.sent_mail() if address in m.destinations["ToAddresses"]]


# ------------------------------------------------------------------ the API's refusals
def test_versions_and_manual_criteria_are_the_vendor_admins_and_bad_input_names_the_field(
    stack: Stack, tiers: Any
) -> None:
    api = tiers[0].app
    partner_id, partner = onboard(stack, tiers)
    before = len(stack.items("TiersTable"))
    today = datetime.now(UTC).date()
    status, error, _ = stack.call(api, "POST", "/programme/versions", body=programme_body(today), claims=partner)
    assert status == 403 and error["code"] == "forbidden"
    assert stack.call(api, "GET", "/programme/versions", claims=partner)[0] == 403
    path = "/programme/partners/{partner_id}/manual-criteria/{criterion_id}"
    ids = {"partner_id": partner_id, "criterion_id": "business_plan"}
    status, error, _ = stack.call(api, "POST", path, ids, body={"met": True}, claims=partner)
    assert status == 403
    tomorrow = today + timedelta(days=1)
    for body, field in [
        (programme_body(today - timedelta(days=1)), "effective_from"),
        (programme_body(tomorrow) | {"tiers": []}, "tiers"),
        (programme_body(tomorrow) | {"upgrade_approval": "maybe"}, "upgrade_approval"),
        (programme_body(tomorrow) | {"partner_id": partner_id}, "partner_id"),
        ({**programme_body(tomorrow), "effective_from": "yesterday"}, "effective_from"),
        ({**programme_body(tomorrow), "effective_from": f"{tomorrow.isoformat()}T00:00:00Z"}, "effective_from"),
    ]:
        status, error, _ = stack.call(api, "POST", "/programme/versions", body=body, claims=VENDOR)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (field, error)
    broken = programme_body(tomorrow)
    broken["tiers"][2]["criteria"]["won_revenue"][0]["amount_minor"] = "lots"
    status, error, _ = stack.call(api, "POST", "/programme/versions", body=broken, claims=VENDOR)
    assert status == 400 and error["errors"][0]["field"] == "tiers.2.criteria.won_revenue.0.amount_minor"
    backwards = programme_body(tomorrow)
    backwards["tiers"][1]["criteria"]["approved_deals"] = 5
    backwards["tiers"][2]["criteria"]["approved_deals"] = 2  # Gold easier than Silver on what both demand
    status, error, _ = stack.call(api, "POST", "/programme/versions", body=backwards, claims=VENDOR)
    assert status == 400 and [e["field"] for e in error["errors"]] == ["tiers.2.criteria.approved_deals"], error
    typo = programme_body(tomorrow)
    typo["tiers"][2]["criteria"]["certifications"][0]["certification_id"] = "cert-net-engg"  # training never defined it
    status, error, _ = stack.call(api, "POST", "/programme/versions", body=typo, claims=VENDOR)
    assert status == 400 and [e["field"] for e in error["errors"]] == [
        "tiers.2.criteria.certifications.0.certification_id"
    ], error
    entry = programme_body(tomorrow)
    entry["tiers"][0]["criteria"] = {"approved_deals": 1}
    status, error, _ = stack.call(api, "POST", "/programme/versions", body=entry, claims=VENDOR)
    assert status == 400 and error["errors"][0]["field"] == "tiers.0.criteria"
    # the same body again is a retry: the first answer, replayed (POST idempotency); a new request for that date is
    # refused (one version per date, never rewritten)
    status, replay, _ = stack.call(api, "POST", "/programme/versions", body=programme_body(today), claims=VENDOR)
    assert status == 201 and replay["version_id"] == tiers[3]["version_id"]
    fresh = {"Idempotency-Key": uuid.uuid4().hex}
    status, error, _ = stack.call(
        api, "POST", "/programme/versions", body=programme_body(today), claims=VENDOR, headers=fresh
    )
    assert status == 409 and error["errors"][0]["field"] == "effective_from"
    for ids, body, expected, field in [
        ({"partner_id": partner_id, "criterion_id": "business_plan"}, {"met": "yes"}, 400, "met"),
        ({"partner_id": partner_id, "criterion_id": "business_plan"}, {"met": True, "note": "x" * 501}, 400, "note"),
        ({"partner_id": partner_id, "criterion_id": "Bad Id"}, {"met": True}, 400, "criterion_id"),
        ({"partner_id": partner_id, "criterion_id": "no_such"}, {"met": True}, 404, None),
        ({"partner_id": "prt_nobody", "criterion_id": "business_plan"}, {"met": True}, 404, None),
    ]:
        status, error, _ = stack.call(api, "POST", path, ids, body=body, claims=VENDOR)
        assert status == expected, (ids, body, error)
        if field:
            assert field in [e["field"] for e in error["errors"]], error
    assert stack.call(api, "GET", "/programme/partners/{partner_id}", {"partner_id": "x" * 65}, claims=VENDOR)[0] == 400
    assert len(stack.items("TiersTable")) == before


def test_a_version_not_in_force_yet_is_withdrawn_for_the_record_and_frees_its_date(stack: Stack, tiers: Any) -> None:
    api = tiers[0].app
    day = datetime.now(UTC).date() + timedelta(days=700)  # far beyond any other test's version
    status, later, _ = stack.call(api, "POST", "/programme/versions", body=programme_body(day), claims=VENDOR)
    assert status == 201, later
    earlier = programme_body(day - timedelta(days=1))  # an announced version does not block an earlier date
    earlier["tiers"][1]["criteria"]["approved_deals"] = 2
    status, before, _ = stack.call(api, "POST", "/programme/versions", body=earlier, claims=VENDOR)
    assert status == 201, before
    path = "/programme/versions/{version_id}/withdrawal"
    _, partner = onboard(stack, tiers)
    refused = stack.call(api, "POST", path, {"version_id": later["version_id"]}, body={"reason": "x"}, claims=partner)
    assert refused[0] == 403
    in_force = stack.call(
        api, "POST", path, {"version_id": tiers[3]["version_id"]}, body={"reason": "x"}, claims=VENDOR
    )
    assert in_force[0] == 409 and in_force[1]["code"] == "version_in_force"
    for version in (later, before):
        ids = {"version_id": version["version_id"]}
        assert version_timers(stack, version["version_id"]) == [f"tiers-version-{version['version_id']}-first-0"]
        status, withdrawn, _ = stack.call(api, "POST", path, ids, body={"reason": "Typo in Silver"}, claims=VENDOR)
        assert status == 200 and withdrawn["version"]["version_id"] == version["version_id"], withdrawn
        assert version_timers(stack, version["version_id"]) == []  # its fan-out timer went with it
        again = stack.call(api, "POST", path, ids, body={"reason": "retry"}, claims=VENDOR)
        assert again[0] == 200 and again[1] == withdrawn  # a retry: the record, no timer to delete
    listed = stack.call(api, "GET", "/programme/versions", claims=VENDOR)[1]
    assert {later["version_id"], before["version_id"]} <= {w["version"]["version_id"] for w in listed["withdrawn"]}
    assert not {later["version_id"], before["version_id"]} & {v["version_id"] for v in listed["items"]}
    fresh = {"Idempotency-Key": uuid.uuid4().hex}  # the date is free again
    status, again, _ = stack.call(
        api, "POST", "/programme/versions", body=programme_body(day), claims=VENDOR, headers=fresh
    )
    assert status == 201 and again["version_id"] not in (later["version_id"], before["version_id"])
    ids = {"version_id": again["version_id"]}
    assert stack.call(api, "POST", path, ids, body={"reason": "clean up"}, claims=VENDOR)[0] == 200


def test_a_partner_reads_only_its_own_programme(stack: Stack, tiers: Any) -> None:
    first_id, first = onboard(stack, tiers)
    second_id, _second = onboard(stack, tiers)
    status, mine = get(stack, tiers, first)
    assert status == 200 and mine["partner_id"] == first_id and mine["tier"]["tier_id"] == "registered"
    assert mine["tier"]["benefits"] == ["Deal registration"] and mine["next"]["tier"]["tier_id"] == "silver"
    assert mine["next"]["missing"] == ["1 more approved deal registration in the last 12 months for Silver"]
    assert [(h["kind"], h["direction"]) for h in mine["history"]] == [("initial", "initial")]
    status, error = get(stack, tiers, first, second_id)
    assert status == 404 and set(error) == {"code", "message", "errors"}
    assert get(stack, tiers, first, first_id)[1] == mine
    assert get(stack, tiers, VENDOR, second_id)[1]["partner_id"] == second_id
    assert get(stack, tiers, VENDOR)[0] == 403  # vendor staff name the partner
    stranger = claims_for(sub="s-tiers", email="s@stranger.example", partner_id="prt_unseen", groups=["partner-admin"])
    flush(stack, tiers, until=lambda: admitted(stack, tiers, stranger) != 403)
    status, error = get(stack, tiers, stranger)
    assert status == 404 and error["code"] == "no_tier"
    status, in_force, _ = stack.call(tiers[0].app, "GET", "/programme/tiers", claims=first)
    assert status == 200 and [t["tier_id"] for t in in_force["tiers"]] == ["registered", "silver", "gold"]


# ------------------------------------------------------------------ evaluation, approval, events, mail
def test_an_upgrade_is_approved_by_the_channel_team_published_and_mailed_once(
    stack: Stack, tiers: Any, capture: Capture
) -> None:
    partner_id, admin = onboard(stack, tiers)
    deal = approved(stack, partner_id)
    flush(stack, tiers, until=lambda: (get(stack, tiers, admin)[1].get("pending_upgrade") or {}).get("upgrade_id"))
    resend(stack, deal)  # redelivered: the same event id
    replayed = json.loads(json.dumps(deal))
    replayed["detail"]["event_id"] = f"evt_{uuid.uuid4().hex}"  # replayed from the archive: a new delivery id
    resend(stack, replayed)
    flush(stack, tiers)
    _status, standing = get(stack, tiers, admin)
    pending = standing["pending_upgrade"]
    assert standing["tier"]["tier_id"] == "registered" and pending["proposed"]["tier_id"] == "silver"
    assert standing["current"]["tier"]["tier_id"] == "registered"
    assert [c["value"] for c in standing["next"]["criteria"]] == [1]  # the deal counted once
    capture.one("TierUpgradeRequested", partner_id=partner_id)  # once, whatever was redelivered
    # the approval state machine asks the channel team through the approvals service
    execution = f"tier-{pending['upgrade_id']}"
    arns = [
        e["executionArn"]
        for e in boto3.client("stepfunctions").list_executions(
            stateMachineArn=stack.ref("TierUpgradeApprovalStateMachine")
        )["executions"]
        if e["name"] == execution
    ]
    assert len(arns) == 1
    request = approval_request(stack, execution)
    lines = {line["label"]: line["value"] for line in request["summary"]}
    assert lines["Proposed tier"] == "Silver" and lines["Approved deal registrations"] == "1 of 1: met"
    assert request["approvers"] == ["channel-programme@example.com"]

    decide(stack, partner_id, pending["upgrade_id"])
    decide(stack, partner_id, pending["upgrade_id"])  # delivered twice
    flush(stack, tiers, until=lambda: tier_of(stack, tiers, admin) == "silver")
    flush(stack, tiers)  # the outbox onto the bus, the bus to the consumer (its mail)
    changed = capture.one("PartnerTierChanged", partner_id=partner_id, direction="upgrade")
    assert changed["detail"]["tier"]["tier_id"] == "silver"
    assert changed["detail"]["approved_by"] == "channel-programme@example.com"
    flush(stack, tiers)
    mails = [m for m in mail_to(stack, admin["email"]) if "now Silver" in m.subject]
    assert len(mails) == 1
    _, after = get(stack, tiers, admin)
    assert after["pending_upgrade"] is None
    assert [(h["tier"]["tier_id"], h["direction"]) for h in after["history"]] == [
        ("silver", "upgrade"),
        ("registered", "initial"),
    ]
    assert "Approved by channel-programme@example.com" in after["history"][0]["reason"]
    assert after["next"]["missing"] == [
        "USD 40,000.00 more won revenue in the last 12 months for Gold",
        "2 more certified engineers for Gold",
        "Signed business plan (confirmed by the channel team) for Gold",
    ]


def test_certified_people_count_once_and_manual_criteria_come_from_vendor_admins(stack: Stack, tiers: Any) -> None:
    partner_id, admin = onboard(stack, tiers)
    to_silver(stack, tiers, partner_id, admin)  # Gold, with its certification criterion, is next

    def award(detail_type: str, award_id: str, holder: str, **more: Any) -> dict[str, Any]:
        return send(
            stack,
            "prm.training",
            detail_type,
            partner_id,
            award_id=award_id,
            certification_id=CERT,
            holder_email=holder,
            **more,
        )

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    earned = {"certification_name": "Net Eng", "earned_at": now, "expires_at": "2028-12-01T00:00:00Z"}
    award("CertificationEarned", "aw_1", "ann@p.example", renewal=False, **earned)
    award("CertificationEarned", "aw_2", "bob@p.example", renewal=False, **earned)
    flush(stack, tiers)
    award("CertificationEarned", "aw_1", "ann@p.example", renewal=True, **earned)  # a renewal: still one person
    flush(stack, tiers)

    def totals() -> dict[str, Any]:
        [item] = [i for i in stack.items("TiersTable") if i["pk"] == f"PARTNER#{partner_id}" and i["sk"] == "STANDING"]
        return dict(item["totals"])

    assert totals()["certified"] == {CERT: 2}
    _, standing = get(stack, tiers, admin)
    engineers = [c for c in standing["next"]["criteria"] if c["kind"] == "certifications"]
    assert (engineers[0]["value"], engineers[0]["threshold"], engineers[0]["met"]) == (2, 2, True)
    award("CertificationExpired", "aw_2", "bob@p.example", expired_at=now)
    award("CertificationWithdrawn", "aw_2", "bob@p.example", reason="holder_removed", withdrawn_at=now)
    send(
        stack,
        "prm.onboarding",
        "PartnerUserRemoved",
        partner_id,
        user_email="ann@p.example",
        removed_by="a@example.com",
        reason="removed",
        removed_at=now,
    )
    flush(stack, tiers)
    assert totals()["certified"] == {CERT: 0}  # expired then withdrawn: once; the removed holder: at once

    path = "/programme/partners/{partner_id}/manual-criteria/{criterion_id}"
    ids = {"partner_id": partner_id, "criterion_id": "business_plan"}
    key = {"Idempotency-Key": f"plan-{uuid.uuid4().hex}"}
    body = {"met": True, "note": "Signed by the CFO"}
    first = stack.call(tiers[0].app, "POST", path, ids, body=body, claims=VENDOR, headers=key)
    again = stack.call(tiers[0].app, "POST", path, ids, body=body, claims=VENDOR, headers=key)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    plan = [c for c in first[1]["next"]["criteria"] if c["kind"] == "manual"]
    assert plan[0]["met"] is True and plan[0]["missing"] is None
    assert totals()["manual"]["business_plan"]["set_by"] == VENDOR["email"]


# ------------------------------------------------------------------ time, through the real timers
def test_a_fact_leaving_the_window_starts_a_grace_period_that_warns_and_ends_in_a_downgrade(
    stack: Stack, tiers: Any, capture: Capture
) -> None:
    partner_id, admin = onboard(stack, tiers)
    window = int(stack.env("TiersEventsFunction")["WINDOW_DAYS"])
    # approved a window ago, less 12 seconds: it counts now, and leaves the trailing window in 12 seconds
    leaves = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    to_silver(stack, tiers, partner_id, admin, at=leaves - timedelta(days=window))
    assert datetime.now(UTC) < leaves, "the set-up took longer than the fact's remaining time in the window"

    # the window slides (a Scheduler timer at the fact's exit): Silver is no longer met, a grace period starts
    def in_grace() -> bool:
        return get(stack, tiers, admin)[1]["grace_period"] is not None

    flush(stack, tiers, until=in_grace, timeout=40)
    flush(stack, tiers)
    assert datetime.now(UTC) >= leaves
    _, standing = get(stack, tiers, admin)
    grace = standing["grace_period"]
    assert standing["tier"]["tier_id"] == "silver" and grace["would_become"]["tier_id"] == "registered"
    assert grace["missing"] == ["1 more approved deal registration in the last 12 months for Silver"]
    capture.one("PartnerTierGracePeriodStarted", partner_id=partner_id)

    # warnings 5 and 3 seconds before its end, then the downgrade, through the timers
    flush(stack, tiers, until=lambda: tier_of(stack, tiers, admin) == "registered", timeout=40)
    flush(stack, tiers)
    capture.one("PartnerTierChanged", partner_id=partner_id, direction="downgrade")
    capture.one("PartnerTierGracePeriodEnded", partner_id=partner_id, outcome="downgraded")
    flush(stack, tiers)
    subjects = [m.subject for m in mail_to(stack, admin["email"])]
    assert subjects.count("Grace period for Silver: criteria no longer met") == 1
    assert [s for s in subjects if "grace period ends in" in s] == ["Silver grace period ends in 1 day"] * 2
    assert subjects.count("Your organisation's tier is now Registered") == 1
    _, after = get(stack, tiers, admin)
    assert [h["kind"] for h in after["history"]][:3] == ["downgrade", "grace_started", "upgrade"]
    assert after["grace_period"] is None and after["next"]["tier"]["tier_id"] == "silver"


def version_timers(stack: Stack, version_id: str) -> list[str]:
    scheduler = boto3.client("scheduler")
    group = stack.env("TiersApiFunction")["SCHEDULE_GROUP"]
    return [
        s["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group)
        for s in page["Schedules"]
        if s["Name"].startswith(f"tiers-version-{version_id}-")
    ]


def test_a_version_announced_for_a_later_date_sets_one_timer_for_every_partner(stack: Stack, tiers: Any) -> None:
    partner_id, admin = onboard(stack, tiers)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    status, version, _ = stack.call(
        tiers[0].app, "POST", "/programme/versions", body=programme_body(tomorrow), claims=VENDOR
    )
    assert status == 201, version
    # the POST itself set the fan-out timer: the version applies on its date with no partner activity at all
    names = version_timers(stack, version["version_id"])
    assert names == [f"tiers-version-{version['version_id']}-first-0"]
    assert stack.env("TiersApiFunction")["SCHEDULE_GROUP"] == stack.env("TiersEventsFunction")["SCHEDULE_GROUP"]
    status, in_force, _ = stack.call(tiers[0].app, "GET", "/programme/tiers", claims=admin)
    assert in_force["version_id"] == tiers[3]["version_id"]
    assert in_force["next_version"] == {"version_id": version["version_id"], "effective_from": tomorrow.isoformat()}
    for _ in range(2):  # evaluations after the announcement set nothing more
        send(stack, "prm.deals", "DealLost", partner_id, deal_id=f"deal_{uuid.uuid4().hex[:8]}", reason="Budget cut")
        flush(stack, tiers)
    assert version_timers(stack, version["version_id"]) == names
    scheduler = boto3.client("scheduler")
    group = stack.env("TiersApiFunction")["SCHEDULE_GROUP"]
    schedule = scheduler.get_schedule(Name=names[0], GroupName=group)
    assert schedule["ScheduleExpression"] == f"at({tomorrow.isoformat()}T00:00:00)"
    assert schedule["Target"]["Arn"] == stack.attr("TiersWorkflowQueue", "Arn")
    message = json.loads(schedule["Target"]["Input"])
    assert message["message_type"] == "VersionTakesEffect" and message["after"] is None
    # delivered early (clock skew): refused, so the queue delivers it again later; nothing changes
    before = get(stack, tiers, admin)[1]
    boto3.client("sqs").send_message(QueueUrl=stack.ref("TiersWorkflowQueue"), MessageBody=json.dumps(message))
    result = stack.deliver("TiersWorkflowQueue", tiers[1].handler)
    assert result["delivered"] == 1 and len(result["batchItemFailures"]) == 1
    assert get(stack, tiers, admin)[1] == before
    deadline = time.monotonic() + 10  # take it off the queue again, leaving the queue as we found it
    while time.monotonic() < deadline:
        found = [m for m in stack.receive("TiersWorkflowQueue", wait=1) if json.loads(m["Body"]) == message]
        for m in found:
            boto3.client("sqs").delete_message(
                QueueUrl=stack.ref("TiersWorkflowQueue"), ReceiptHandle=m["ReceiptHandle"]
            )
        if found:
            break


def test_a_post_retried_after_the_version_was_written_but_not_its_timer_completes_the_timer(
    stack: Stack, tiers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version write and its timer are two steps. The first attempt writes, then Scheduler fails: the answer is an
    error and the idempotency record is released; the retry (same Idempotency-Key) finds the author's version and sets
    its timer, and answers as the first attempt would have."""
    from botocore.exceptions import ClientError

    from shared import workflows

    versions = stack.call(tiers[0].app, "GET", "/programme/versions", claims=VENDOR)[1]["items"]
    later = max(date.fromisoformat(v["effective_from"]) for v in versions) + timedelta(days=1)
    body, key = programme_body(later), {"Idempotency-Key": f"version-{uuid.uuid4().hex}"}
    real = workflows.schedule_messages

    def unavailable(**_: Any) -> str:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateSchedule")

    monkeypatch.setattr(workflows, "schedule_messages", unavailable)
    status, failed, _ = stack.call(tiers[0].app, "POST", "/programme/versions", body=body, headers=key, claims=VENDOR)
    assert status >= 500, failed
    written = stack.call(tiers[0].app, "GET", "/programme/versions", claims=VENDOR)[1]["items"][-1]
    assert written["effective_from"] == later.isoformat()  # the first step happened
    assert version_timers(stack, written["version_id"]) == []  # the second did not

    monkeypatch.setattr(workflows, "schedule_messages", real)
    status, version, _ = stack.call(tiers[0].app, "POST", "/programme/versions", body=body, headers=key, claims=VENDOR)
    assert status == 201, version
    assert version == written
    assert version_timers(stack, version["version_id"]) == [f"tiers-version-{version['version_id']}-first-0"]
    replayed = stack.call(tiers[0].app, "POST", "/programme/versions", body=body, headers=key, claims=VENDOR)
    assert replayed[:2] == (201, version)
    items = stack.call(tiers[0].app, "GET", "/programme/versions", claims=VENDOR)[1]["items"]
    assert [v["version_id"] for v in items].count(version["version_id"]) == 1 and len(items) == len(versions) + 1


def test_the_channel_teams_email_link_decides_the_upgrade_through_the_approvals_service(
    stack: Stack, tiers: Any
) -> None:
    """The whole loop: the state machine asks the approvals service, the approver's signed link decides, the task
    token resumes the execution, whose SendDecision hands the decision to tiers' workflow queue."""
    from tests.integration.test_approvals_workflow import deliver_requests, links_for, page

    approvals_api = stack.load("ApprovalsApiFunction", "approvals.api")
    requests = stack.load("ApprovalRequestsFunction", "approvals.requests")
    decisions = stack.load("ApprovalDecisionsFunction", "approvals.decisions")
    partner_id, admin = onboard(stack, tiers)
    approved(stack, partner_id)
    flush(stack, tiers, until=lambda: (get(stack, tiers, admin)[1].get("pending_upgrade") or {}).get("upgrade_id"))
    approval_id = f"tier-{get(stack, tiers, admin)[1]['pending_upgrade']['upgrade_id']}"
    flush(stack, tiers)  # TierUpgradeRequested onto the bus and back: the consumer starts the execution
    # the request (and, on a slow run, its reminder: the approval parameters are seconds here)
    delivered = deliver_requests(stack, requests, {"approval_id": approval_id})
    [request] = [r for r in delivered if r["kind"] == "request"]
    assert request["subject"].endswith("to Silver")
    approver = stack.env("TiersEventsFunction")["APPROVER_EMAIL"]
    links = links_for(stack, approval_id, approver)
    status, html = page(stack, approvals_api, "POST", links["approve"], {"reason": "Welcome to Silver"})
    assert status == 200 and "data-outcome='approved'" in html
    # the decision resumes the execution (its task token; on a slow run a reminder's newer token, once stored)
    sfn = boto3.client("stepfunctions")

    def diagnosis() -> str:
        runs = sfn.list_executions(stateMachineArn=stack.ref("TierUpgradeApprovalStateMachine"))["executions"]
        [run] = [e for e in runs if e["name"] == approval_id]
        history = sfn.get_execution_history(executionArn=run["executionArn"])["events"]
        return f"{run['status']}: " + ", ".join(e["type"] for e in history)

    deadline = time.monotonic() + 30
    while tier_of(stack, tiers, admin) != "silver":
        assert time.monotonic() < deadline, f"the decision did not reach tiers: {diagnosis()}"
        stack.deliver("ApprovalRequestsQueue", requests.handler)
        stack.pump_stream("ApprovalsTable", decisions.handler)
        flush(stack, tiers)
        time.sleep(0.1)
    newest = get(stack, tiers, admin)[1]["history"][0]
    assert (newest["kind"], newest["by"]) == ("upgrade", approver)
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=stack.ref("TierUpgradeApprovalStateMachine")
    )["executions"]
    [execution] = [e for e in executions if e["name"] == approval_id]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        described = boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED"


def test_a_request_nobody_decides_lapses_through_the_state_machine(stack: Stack, tiers: Any) -> None:
    """Request, reminder, escalation, each timing out (seconds, from the execution input), then the close and the
    expiry message to tiers' workflow queue: the partner keeps its tier and the history says nobody decided."""
    partner_id, admin = onboard(stack, tiers)
    approved(stack, partner_id)
    flush(stack, tiers, until=lambda: (get(stack, tiers, admin)[1].get("pending_upgrade") or {}).get("upgrade_id"))
    upgrade_id = get(stack, tiers, admin)[1]["pending_upgrade"]["upgrade_id"]
    workflow_input = {
        "approval_id": f"tier-{upgrade_id}-lapse",
        "partner_id": partner_id,
        "upgrade_id": upgrade_id,
        "subject": "Tier upgrade: lapse test",
        "summary": [{"label": "Request", "value": "Tier upgrade"}],
        "approvers": {"initial": ["a@example.com"], "escalation": ["a@example.com", "b@example.com"]},
        "timeouts": {"reminder_seconds": 1, "escalation_seconds": 1, "expiry_seconds": 1},
    }
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("TierUpgradeApprovalStateMachine"),
        name=f"tier-{upgrade_id}-lapse",
        input=json.dumps(workflow_input),
    )
    flush(stack, tiers, until=lambda: get(stack, tiers, admin)[1]["pending_upgrade"] is None, timeout=40)
    _, standing = get(stack, tiers, admin)
    assert standing["tier"]["tier_id"] == "registered"
    assert standing["history"][0]["kind"] == "upgrade_lapsed" and "nobody" in standing["history"][0]["reason"]


def test_the_programme_partners_are_listed_from_the_partner_list_a_page_at_a_time(stack: Stack, tiers: Any) -> None:
    mine = dict(onboard(stack, tiers) for _ in range(3))
    api = tiers[0].app
    pages, cursor, names = [], None, {}
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page, _ = stack.call(api, "GET", "/programme/partners", claims=VENDOR, query=query)
        assert status == 200 and len(page["items"]) <= 2, page
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    listed = [p for page in pages for p in page]
    ids = [p["partner_id"] for p in listed]
    assert len(pages) >= 2 and ids == sorted(ids) and len(set(ids)) == len(ids)  # partner id order, each once
    for partner_id in mine:
        [entry] = [p for p in listed if p["partner_id"] == partner_id]
        assert set(entry) == {"partner_id", "company_name", "tier"}
        assert entry["company_name"] and entry["tier"]["tier_id"] == "registered"
        names[partner_id] = entry["company_name"]
        _, status_body = get(stack, tiers, VENDOR, partner_id)
        assert status_body["company_name"] == names[partner_id]
    partner_claims = next(iter(mine.values()))
    status, error, _ = stack.call(api, "GET", "/programme/partners", claims=partner_claims)
    assert status == 403 and error["code"] == "forbidden", error
    for query, field in [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "e30"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ]:
        status, error, _ = stack.call(api, "GET", "/programme/partners", claims=VENDOR, query=query)
        assert status == 400 and [e["field"] for e in error["errors"]] == [field], (query, error)


def test_a_reversed_win_leaves_the_totals_once_and_a_reversal_before_its_win_makes_the_win_count_nothing(
    stack: Stack, tiers: Any
) -> None:
    """Deals' DealWinReversed through tiers' queue: the win's revenue and window entry go (once, whatever the
    redeliveries), the corrected win (the next win_revision) counts, a reversal that arrives first leaves a tombstone,
    and a fact recorded before wins had revisions is read as the first win."""
    partner_id, _ = onboard(stack, tiers)
    repository = tiers[1].service().repository
    table = stack.ref("TiersTable")
    dynamodb = boto3.client("dynamodb")
    today = datetime.now(UTC).date().isoformat()

    def usd(amount: int) -> dict[str, Any]:
        return {"currency": "USD", "amount_minor": amount}

    def won(deal: str, amount: int, revision: int = 1) -> None:
        detail = {"deal_id": deal, "amount": usd(amount), "close_date": today, "win_revision": revision}
        send(stack, "prm.deals", "DealWon", partner_id, **detail)
        flush(stack, tiers)

    def reversed_(deal: str, amount: int, revision: int = 1) -> dict[str, Any]:
        detail = {"deal_id": deal, "win_revision": revision, "previous_amount": usd(amount)}
        detail |= {"reason": "The amount was wrong", "reversed_by": "ops@vendor.example"}
        envelope = send(stack, "prm.deals", "DealWinReversed", partner_id, **detail)
        flush(stack, tiers)
        return envelope

    def revenue() -> int:
        standing = repository.standing(partner_id)
        return int(standing.totals.revenue.get("USD", 0)) if standing else 0

    def window_keys() -> list[str]:
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues={":pk": {"S": f"PARTNER#{partner_id}"}, ":w": {"S": "WINDOW#"}},
        )["Items"]
        return [i["sk"]["S"] for i in items]

    deal_a, deal_b, legacy = (f"deal_{uuid.uuid4().hex[:8]}" for _ in range(3))
    won(deal_a, 5_000_000)
    assert revenue() == 5_000_000 and len(window_keys()) == 1
    first = reversed_(deal_a, 5_000_000)
    assert revenue() == 0 and window_keys() == []
    recorded = repository.win(partner_id, deal_a, 1)
    assert (
        recorded is not None and recorded.reversal is not None and recorded.reversal.reversed_by == "ops@vendor.example"
    )
    revision = repository.standing(partner_id).revision
    resend(stack, first)  # the same delivery again
    reversed_(deal_a, 5_000_000)  # and the reversal published again (a new event id)
    won(deal_a, 5_000_000)  # and the reversed win itself
    assert revenue() == 0 and repository.standing(partner_id).revision == revision

    won(deal_a, 4_500_000, 2)  # the corrected win
    assert revenue() == 4_500_000 and [k.endswith(f"#revenue#{deal_a}#2") for k in window_keys()] == [True]

    reversed_(deal_b, 9_000_000)  # before its win
    won(deal_b, 9_000_000)
    assert revenue() == 4_500_000
    tombstone = repository.win(partner_id, deal_b, 1)
    assert tombstone is not None and tombstone.fact is None and tombstone.reversal is not None

    # a fact written before wins had revisions (no win_revision on its items) is the deal's first win
    won(legacy, 1_000_000)
    assert revenue() == 5_500_000
    pk = {"S": f"PARTNER#{partner_id}"}
    for sk in [f"FACT#revenue#{legacy}", *(k for k in window_keys() if k.endswith(f"#revenue#{legacy}"))]:
        dynamodb.update_item(TableName=table, Key={"pk": pk, "sk": {"S": sk}}, UpdateExpression="REMOVE win_revision")
    assert (
        "win_revision"
        not in dynamodb.get_item(TableName=table, Key={"pk": pk, "sk": {"S": f"FACT#revenue#{legacy}"}})["Item"]
    )
    reversed_(legacy, 1_000_000)
    assert revenue() == 4_500_000
    assert [k for k in window_keys() if legacy in k] == []


def test_the_ladder_is_published_with_each_version_through_the_outbox(stack: Stack, tiers: Any) -> None:
    """`TierProgrammeVersionAdded` is written with its version (one transaction, the outbox item) and names the tiers in
    rank order; a withdrawal publishes `TierProgrammeVersionWithdrawn` the same way."""
    version = tiers[3]
    added = stack.outbox_events("TiersTable", "TierProgrammeVersionAdded", version_id=version["version_id"])
    assert len(added) == 1 and added[0]["partner_id"] == "*"
    assert added[0]["effective_from"] == version["effective_from"]
    assert [(t["tier_id"], t["rank"]) for t in added[0]["tiers"]] == [
        (t["tier_id"], rank) for rank, t in enumerate(version["tiers"])
    ]
    later = datetime.now(UTC).date() + timedelta(days=400)
    status, announced, _ = stack.call(
        tiers[0].app, "POST", "/programme/versions", body=programme_body(later), claims=VENDOR
    )
    assert status == 201, announced
    assert len(stack.outbox_events("TiersTable", "TierProgrammeVersionAdded", version_id=announced["version_id"])) == 1
    path = "/programme/versions/{version_id}/withdrawal"
    status, answer, _ = stack.call(
        tiers[0].app, "POST", path, {"version_id": announced["version_id"]}, body={"reason": "typo"}, claims=VENDOR
    )
    assert status in (200, 201), answer
    withdrawn = stack.outbox_events("TiersTable", "TierProgrammeVersionWithdrawn", version_id=announced["version_id"])
    assert [w["effective_from"] for w in withdrawn] == [later.isoformat()]
