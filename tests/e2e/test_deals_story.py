"""Deal registration end to end over HTTP against the local stack: register, automatic and channel-manager
approval by email link, first approved wins, tenant isolation, idempotency, extension, won, and bad input."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from infrastructure.local.people import Mail, People, Session
from tests.support import factories
from tests.support.events import EventCapture, validate
from tests.support.factories import unique_domain
from tests.support.partners import Partner, vendor_admin
from tests.support.partners import onboard as onboard_partner

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

CHANNEL_MANAGER = "emea-channel@example.com"  # DealApproversByRegion's default for EMEA (GB)
PRODUCTS = [("NET-FW-100", "Firewall 100", "Security"), ("NET-SW-48", "Switch 48-port", "Networking")]
SMALL = 1_200_000  # 12,000.00 USD: below DealAutoApproveLimits' USD limit (50,000.00)
LARGE = 10_000_000  # 100,000.00 USD: above it, so a channel manager decides
PROTECTION = timedelta(days=90)  # DealProtectionSeconds' default (tests/conftest.py leaves it)
EXTENSION = timedelta(days=30)  # DealExtensionSeconds' default


# ------------------------------------------------------------------ helpers
def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), f"{value} is not UTC"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def onboard(people: People, *, company: str = "Acme Networks") -> Partner:
    """A partner through the real flow; returns once deals has projected PartnerOnboarded (deals learns of partners
    asynchronously)."""
    partner = onboard_partner(people, company=company)
    wait_until_active(people, partner.session)
    return partner


def ensure_products(people: People) -> list[str]:
    """The products deals are registered for, added by a vendor administrator (they may exist already)."""
    session = vendor_admin(people)
    for sku, name, family in PRODUCTS:
        answer = people.api("POST", "/products", session=session, json={"sku": sku, "name": name, "family": family})
        assert answer.status_code in (201, 409), answer.text
    return [sku for sku, _, _ in PRODUCTS]


def executions(people: People, machine: str, deal_id: str) -> list[tuple[str, str]]:
    """(name, status) of the executions of one of the template's state machines (by logical id) for a deal."""
    pages = people.stack.client("stepfunctions").get_paginator("list_executions")
    found = pages.paginate(stateMachineArn=people.stack.resource(machine))
    return [(e["name"], e["status"]) for page in found for e in page["executions"] if deal_id in e["name"]]


def wait_until_active(people: People, session: Session, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        answer = people.api("GET", "/deals/prospect-check?domain=example.org", session=session)
        if answer.status_code == 200:
            return
        assert answer.status_code == 403 and answer.json()["code"] == "partner_inactive", answer.text
        if time.monotonic() > deadline:
            raise TimeoutError("deals never learned about the partner (PartnerOnboarded not projected)")
        time.sleep(0.2)


def deal_body(domain: str | None = None, *, amount: int = SMALL, **changes: Any) -> dict[str, Any]:
    return factories.deal_body(domain, amount=amount, **changes)


def register(people: People, partner: Partner, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = people.api("POST", "/deals", session=partner.session, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def get_deal(people: People, partner: Partner, deal_id: str) -> dict[str, Any]:
    answer = people.api("GET", f"/deals/{deal_id}", session=partner.session)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def wait_for_status(
    people: People, partner: Partner, deal_id: str, status: str, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        deal = get_deal(people, partner, deal_id)
        if deal["status"] == status:
            return deal
        if time.monotonic() > deadline:
            raise AssertionError(f"{deal_id} is {deal['status']}, expected {status}: {deal['timeline']}")
        time.sleep(0.2)


def approved_deal(people: People, partner: Partner, **changes: Any) -> dict[str, Any]:
    receipt = register(people, partner, deal_body(**changes))
    return wait_for_status(people, partner, receipt["deal_id"], "approved")


def prospect_check(people: People, partner: Partner, **params: str) -> Any:
    return people.api("GET", f"/deals/prospect-check?{urlencode(params)}", session=partner.session)


def all_deals(people: People, partner: Partner, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query = {"limit": "50"} | params
    while True:
        answer = people.api("GET", f"/deals?{urlencode(query)}", session=partner.session)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += page["items"]
        if not page["next_cursor"]:
            return found
        query["cursor"] = page["next_cursor"]


def channel_manager_mail(people: People, subject: str, *, containing: str = "") -> Mail:
    [mail] = people.wait_for_mail(people.to(CHANNEL_MANAGER, subject=subject, containing=containing))
    return mail


def field_errors(answer: Any) -> list[str]:
    return [e["field"] for e in answer.json()["errors"]]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def products(people: People) -> list[str]:
    return ensure_products(people)


@pytest.fixture(scope="module")
def alpha(people: People, events: EventCapture, products: list[str]) -> Partner:
    return onboard(people, company="Alpha Networks")


@pytest.fixture(scope="module")
def beta(people: People, events: EventCapture, products: list[str]) -> Partner:
    return onboard(people, company="Beta Systems")


@pytest.fixture(scope="module")
def acme(people: People, events: EventCapture, alpha: Partner) -> dict[str, Any]:
    """Alpha's small registration for Acme Widgets GmbH, as submitted (the holder of the prospect once approved)."""
    name = f"acme-{uuid.uuid4().hex[:8]}"
    body = deal_body(company="Acme Widgets GmbH", website=f"https://WWW.Sales.{name}.co.uk/x")
    before = datetime.now(UTC)
    receipt = register(people, alpha, body)
    after = datetime.now(UTC)
    return {"name": name, "body": body, "receipt": receipt, "before": before, "after": after}


# ------------------------------------------------------------------ (a)
def test_small_deal_is_approved_automatically_and_the_precheck_hides_the_holder(
    people: People, events: EventCapture, alpha: Partner, beta: Partner, acme: dict[str, Any]
) -> None:
    receipt, name = acme["receipt"], acme["name"]
    assert set(receipt) == {"deal_id", "status", "submitted_at", "prospect_key"}
    assert receipt["deal_id"].startswith("deal_") and receipt["status"] == "submitted"
    submitted = parse_time(receipt["submitted_at"])
    assert acme["before"] - timedelta(seconds=2) <= submitted <= acme["after"] + timedelta(seconds=2)
    assert receipt["prospect_key"] == {"domain": f"{name}.co.uk", "company": "acmewidgets"}
    deal_id = receipt["deal_id"]

    deal = wait_for_status(people, alpha, deal_id, "approved")
    assert [t["status"] for t in deal["timeline"]] == ["submitted", "approved"]
    assert "automatically" in deal["timeline"][1]["note"]
    approved_at = parse_time(deal["timeline"][1]["at"])
    ends = parse_time(deal["protection_ends_at"])
    assert timedelta(0) <= approved_at + PROTECTION - ends < timedelta(seconds=1)  # whole seconds, 90 days out
    assert abs(ends - (datetime.now(UTC) + PROTECTION)) < timedelta(minutes=2)
    assert deal["prospect"]["domain"] == f"{name}.co.uk" and deal["prospect"]["company_key"] == "acmewidgets"
    assert deal["submitted_at"] == receipt["submitted_at"] and deal["decided_by"] == "automatic approval"
    assert (
        deal["extensions_used"] == 0
        and deal["max_extensions"] == 2
        and deal["next_step_due"] == deal["protection_ends_at"]
    )
    assert "partner_id" not in deal
    # Step Functions decided it: an Express execution of the automatic approval, no Standard (human) one
    assert executions(people, "DealAutoApprovalStateMachine", deal_id) == [
        (f"deal-{deal_id}-registration-0", "SUCCEEDED")
    ]
    assert executions(people, "DealApprovalStateMachine", deal_id) == []

    registered = events.wait_for("DealRegistered", deal_id=deal_id)
    validate(registered)
    assert registered["source"] == "prm.deals" and registered["detail"]["partner_id"] == alpha.partner_id
    assert registered["detail"]["prospect"]["company_key"] == "acmewidgets" and registered["detail"]["conflicts"] == []
    approved = events.wait_for("DealApproved", deal_id=deal_id)
    validate(approved)
    assert approved["detail"]["automatic"] is True
    assert approved["detail"]["protection_ends_at"] == deal["protection_ends_at"]
    people.wait_for_mail(people.to(deal["registered_by"], subject="Deal registration approved: Acme Widgets GmbH"))

    # another partner's pre-check: protected until the end date, and nothing about who holds it
    secrets = [alpha.partner_id, deal_id, "Alpha Networks", alpha.domain, deal["registered_by"]]
    for params in (
        {"domain": f"https://WWW.Sales.{name}.co.uk/x"},
        {"domain": f"{name}.co.uk"},
        {"company_name": "ACME WIDGETS Ltd."},
        {"domain": unique_domain(), "company_name": "Acme Widgets"},
    ):
        check = prospect_check(people, beta, **params)
        assert check.status_code == 200, check.text
        assert check.json() == {"status": "protected", "protected_until": deal["protection_ends_at"]}, params
        assert not [s for s in secrets if s.lower() in check.text.lower()]
    assert prospect_check(people, beta, domain=unique_domain()).json() == {"status": "available"}
    assert prospect_check(people, beta).status_code == 400

    # the holder cannot register the same prospect again
    again = people.api("POST", "/deals", session=alpha.session, json=deal_body(f"{name}.co.uk", company="Other Co"))
    assert again.status_code == 409 and again.json()["code"] == "duplicate_registration"
    assert field_errors(again) == ["prospect.website"]


# ------------------------------------------------------------------ (b)
def test_conflicting_large_deal_goes_to_the_channel_manager_and_first_approved_wins(
    people: People, events: EventCapture, alpha: Partner, beta: Partner, acme: dict[str, Any]
) -> None:
    holder = wait_for_status(people, alpha, acme["receipt"]["deal_id"], "approved")
    rival_domain = unique_domain("acme-widgets", "de")
    body = deal_body(rival_domain, company="Acme Widgets Ltd", amount=LARGE)
    receipt = register(people, beta, body)
    assert receipt["prospect_key"] == {"domain": rival_domain, "company": "acmewidgets"}
    deal_id = receipt["deal_id"]
    registered = events.wait_for("DealRegistered", deal_id=deal_id)
    validate(registered)
    assert registered["detail"]["conflicts"] == [holder["deal_id"]]

    review = wait_for_status(people, beta, deal_id, "under_review")
    assert [t["status"] for t in review["timeline"]] == ["submitted", "under_review"]
    assert CHANNEL_MANAGER in review["timeline"][1]["note"]
    assert review["next_step"] == "Channel manager is reviewing"

    request = channel_manager_mail(people, f"Deal registration: Acme Widgets Ltd ({rival_domain})")
    assert request["subject"].startswith("Approval needed: ")
    # the conflicting registration, side by side with this one
    conflict = (
        f"Conflict 1</th><td>Acme Widgets GmbH ({acme['name']}.co.uk),"
        f" partner Alpha Networks, registered {holder['submitted_at']} by {holder['registered_by']}, 12,000.00 USD,"
        f" approved until {holder['protection_ends_at']}; matched on company ({holder['deal_id']})</td>"
    )
    assert conflict in request["body"]
    assert "100,000.00 USD" in request["body"] and "<td>Beta Systems</td>" in request["body"]
    assert "prt_" not in request["body"]  # partners by company name (issue 8.5b)
    # before deciding, the page says what approving will do: the approved holder wins
    notice = f"Alpha Networks already holds approved protection for this prospect until {holder['protection_ends_at']}"
    assert notice in request["body"]
    confirm = people.http.get(people.links(request)["approve"], timeout=30)
    assert notice in confirm.text and "rejected automatically" in confirm.text
    page = people.decide(people.links(request)["approve"])
    assert page.status_code == 200 and "data-outcome='approved'" in page.text

    rejected = events.wait_for("DealRejected", deal_id=deal_id)
    validate(rejected)
    assert rejected["detail"]["partner_id"] == beta.partner_id
    assert rejected["detail"]["decided_by"] == "first approved wins"
    assert "approved first" in rejected["detail"]["reason"]
    deal = wait_for_status(people, beta, deal_id, "rejected")
    assert deal["decision_reason"] == rejected["detail"]["reason"]
    assert f"protected until {holder['protection_ends_at']}" in deal["decision_reason"]
    assert [t["status"] for t in deal["timeline"]] == ["submitted", "under_review", "rejected"]
    assert deal["protection_ends_at"] is None and deal["next_step"] == "No further action"
    for secret in (alpha.partner_id, holder["deal_id"], "Alpha Networks", holder["registered_by"]):
        assert secret not in str(deal)
    told = people.wait_for_mail(people.to(deal["registered_by"], subject="Deal registration not approved"))
    assert "approved first" in told[0]["body"]

    # the holder keeps the prospect, unchanged
    assert get_deal(people, alpha, holder["deal_id"]) == holder
    check = prospect_check(people, beta, domain=rival_domain, company_name="Acme Widgets Ltd")
    assert check.json() == {"status": "protected", "protected_until": holder["protection_ends_at"]}


def test_a_registration_that_loses_the_race_publishes_no_approval(
    people: People, events: EventCapture, alpha: Partner, beta: Partner
) -> None:
    """The cancelled approval (its transaction carried a DealApproved for the outbox) leaves nothing on the bus."""
    company = f"Umbrella {uuid.uuid4().hex[:6]} Corp"
    approved_deal(people, alpha, company=company)
    rival_domain = unique_domain("umbrella", "co.uk")
    deal_id = register(people, beta, deal_body(rival_domain, company=company, amount=LARGE))["deal_id"]
    request = channel_manager_mail(people, f"Deal registration: {company} ({rival_domain})")
    assert people.decide(people.links(request)["approve"]).status_code == 200
    rejected = events.wait_for("DealRejected", deal_id=deal_id)
    time.sleep(1)  # anything published with (or before) the rejection has reached the capture queue by now
    published = [e["detail-type"] for e in events.poll() if e["detail"].get("deal_id") == deal_id]
    assert published == ["DealRegistered", "DealRejected"], f"{published}: the cancelled approval was published"
    assert rejected["detail"]["decided_by"] == "first approved wins"


# ------------------------------------------------------------------ (c)
def test_another_partners_deal_does_not_exist_and_lists_are_per_partner(
    people: People, alpha: Partner, beta: Partner, acme: dict[str, Any]
) -> None:
    deal_id = acme["receipt"]["deal_id"]
    before = wait_for_status(people, alpha, deal_id, "approved")
    today = datetime.now(UTC).date().isoformat()
    assert people.api("GET", f"/deals/{deal_id}", session=beta.session).status_code == 404
    for action, body in (
        ("stage", {"stage": "proposal"}),
        ("won", {"amount": {"amount_minor": 100, "currency": "USD"}, "close_date": today}),
        ("lost", {"reason": "Customer chose a competitor."}),
        ("extension", {"justification": "The customer needs more time to decide."}),
    ):
        answer = people.api("POST", f"/deals/{deal_id}/{action}", session=beta.session, json=body)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", (action, answer.text)
    assert get_deal(people, alpha, deal_id) == before

    # a partner of its own, to know exactly what its list holds
    gamma = onboard(people, company="Gamma Solutions")
    ids = [register(people, gamma, deal_body())["deal_id"] for _ in range(3)]
    for deal in ids:
        wait_for_status(people, gamma, deal, "approved")
    lost = people.api("POST", f"/deals/{ids[1]}/lost", session=gamma.session, json={"reason": "No budget this year."})
    assert lost.status_code == 200 and lost.json()["status"] == "lost"

    first = people.api("GET", "/deals?limit=2", session=gamma.session).json()
    assert [d["deal_id"] for d in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    assert set(first["items"][0]) == {
        "deal_id",
        "status",
        "prospect",
        "estimated_value",
        "expected_close_date",
        "submitted_at",
        "protection_ends_at",
        "next_step",
        "next_step_due",
    }
    rest = people.api("GET", f"/deals?limit=2&cursor={first['next_cursor']}", session=gamma.session).json()
    assert [d["deal_id"] for d in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    approved = people.api("GET", "/deals?status=approved&limit=1", session=gamma.session).json()
    assert [d["deal_id"] for d in approved["items"]] == [ids[2]] and approved["next_cursor"]
    more = people.api(
        "GET", f"/deals?status=approved&limit=1&cursor={approved['next_cursor']}", session=gamma.session
    ).json()
    assert [d["deal_id"] for d in more["items"]] == [ids[0]]
    assert [d["deal_id"] for d in all_deals(people, gamma, status="lost")] == [ids[1]]
    assert all_deals(people, gamma, status="rejected") == []

    # only one's own deals, and a cursor only for the list it came from
    assert deal_id not in {d["deal_id"] for d in all_deals(people, gamma)}
    assert not set(ids) & {d["deal_id"] for d in all_deals(people, alpha)}
    assert not set(ids) & {d["deal_id"] for d in all_deals(people, beta)}
    for who, query in (
        (alpha, f"cursor={first['next_cursor']}"),
        (beta, f"limit=2&cursor={first['next_cursor']}"),
        (gamma, f"cursor={approved['next_cursor']}"),  # a filtered list's cursor on the whole list
        (gamma, "cursor=not-a-cursor"),
    ):
        answer = people.api("GET", f"/deals?{query}", session=who.session)
        assert answer.status_code == 400 and field_errors(answer) == ["cursor"], (query, answer.text)
    assert people.api("GET", "/deals?status=nonsense", session=gamma.session).status_code == 400
    assert people.api("GET", "/deals?limit=51", session=gamma.session).status_code == 400


# ------------------------------------------------------------------ (d)
def test_idempotency_key_replays_the_receipt_and_creates_nothing_new(
    people: People, events: EventCapture, alpha: Partner
) -> None:
    body, key = deal_body(), str(uuid.uuid4())
    before = {d["deal_id"] for d in all_deals(people, alpha)}
    first = people.api("POST", "/deals", session=alpha.session, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    replay = people.api("POST", "/deals", session=alpha.session, json=body, headers={"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.json() == first.json()

    other_domain = unique_domain("prospect", "co.uk")
    other_body = deal_body(other_domain)
    reused = people.api("POST", "/deals", session=alpha.session, json=other_body, headers={"Idempotency-Key": key})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # a new key for the same prospect is a second registration, which the partner already has
    duplicate = people.api(
        "POST", "/deals", session=alpha.session, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_registration"

    deal_id = first.json()["deal_id"]
    wait_for_status(people, alpha, deal_id, "approved")
    assert {d["deal_id"] for d in all_deals(people, alpha)} == before | {deal_id}
    registered = [e for e in events.poll() if e["detail-type"] == "DealRegistered"]
    assert [e["detail"]["deal_id"] for e in registered if e["detail"]["deal_id"] == deal_id] == [deal_id]
    assert other_domain not in {e["detail"]["prospect"]["domain"] for e in registered}


# ------------------------------------------------------------------ (e)
def test_extension_approved_by_the_channel_manager_moves_protection_by_30_days(
    people: People, events: EventCapture, alpha: Partner
) -> None:
    company = f"Initech {uuid.uuid4().hex[:6]} plc"
    deal = approved_deal(people, alpha, company=company)
    deal_id, ends = deal["deal_id"], parse_time(deal["protection_ends_at"])

    justification = "The board of the customer moved its decision to next quarter."
    answer = people.api(
        "POST", f"/deals/{deal_id}/extension", session=alpha.session, json={"justification": justification}
    )
    assert answer.status_code == 202, answer.text
    pending = answer.json()
    assert pending["extension_pending"] is True and pending["status"] == "approved"
    assert pending["next_step"] == "Extension request under review"
    assert pending["protection_ends_at"] == deal["protection_ends_at"]
    requested = pending["timeline"][-1]
    assert requested["status"] == "extension_requested" and requested["note"] == justification
    again = people.api(
        "POST", f"/deals/{deal_id}/extension", session=alpha.session, json={"justification": justification + " Again."}
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    validate(events.wait_for("DealExtensionRequested", deal_id=deal_id, extension_number=1))

    request = channel_manager_mail(people, f"Extension: {company}", containing=justification)
    assert people.decide(people.links(request)["approve"]).status_code == 200

    extended = events.wait_for("DealExtended", deal_id=deal_id)
    validate(extended)
    assert extended["detail"]["extensions_used"] == 1 and extended["detail"]["approved_by"] == CHANNEL_MANAGER
    assert parse_time(extended["detail"]["protection_ends_at"]) - ends == EXTENSION
    deadline = time.monotonic() + 10
    while (now := get_deal(people, alpha, deal_id))["extension_pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert now["status"] == "approved" and now["extension_pending"] is False and now["extensions_used"] == 1
    assert parse_time(now["protection_ends_at"]) - ends == EXTENSION
    steps = [t["status"] for t in now["timeline"]]
    assert steps == ["submitted", "approved", "extension_requested", "extension_granted"]
    check = prospect_check(people, alpha, company_name=company)
    assert check.json() == {"status": "protected", "protected_until": now["protection_ends_at"]}
    people.wait_for_mail(people.to(deal["registered_by"], subject=f"Protection extended: {company}"))

    # a second request, refused by the channel manager: the partner user is told why, and protection is unchanged
    second = "The customer asked for one more review cycle."
    answer = people.api("POST", f"/deals/{deal_id}/extension", session=alpha.session, json={"justification": second})
    assert answer.status_code == 202, answer.text
    request = channel_manager_mail(people, f"Extension: {company}", containing=second)
    assert people.decide(people.links(request)["reject"], reason="Two extensions are enough.").status_code == 200
    refused = events.wait_for("DealExtensionRefused", deal_id=deal_id, extension_number=2)
    validate(refused)
    assert refused["detail"]["protection_ends_at"] == now["protection_ends_at"]
    assert refused["detail"]["reason"] == "Two extensions are enough."
    people.wait_for_mail(
        people.to(
            deal["registered_by"],
            subject=f"Protection extension not granted: {company}",
            containing="Two extensions are enough.",
        )
    )


# ------------------------------------------------------------------ (f)
def test_mark_won_and_bad_input_names_the_field(people: People, events: EventCapture, alpha: Partner) -> None:
    before = {d["deal_id"] for d in all_deals(people, alpha)}
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    valid = deal_body()
    for body, field in [
        (valid | {"partner_id": "prt_other"}, "partner_id"),
        (valid | {"prospect": valid["prospect"] | {"fax": "+44 20 7946 0000"}}, "prospect.fax"),
        (valid | {"estimated_value": {"amount_minor": 1_200_000.5, "currency": "USD"}}, "estimated_value.amount_minor"),
        (valid | {"estimated_value": {"amount_minor": 1_200_000.0, "currency": "USD"}}, "estimated_value.amount_minor"),
        (valid | {"estimated_value": {"amount_minor": "1200000", "currency": "USD"}}, "estimated_value.amount_minor"),
        (valid | {"expected_close_date": yesterday}, "expected_close_date"),
        (valid | {"expected_close_date": datetime.now(UTC).date().isoformat()}, "expected_close_date"),
        (valid | {"products": ["NET-FW-100", "NOPE-404"]}, "products.1"),
    ]:
        answer = people.api("POST", "/deals", session=alpha.session, json=body)
        assert answer.status_code == 400, (field, answer.text)
        assert field in field_errors(answer), (field, answer.json())
    assert {d["deal_id"] for d in all_deals(people, alpha)} == before

    deal = approved_deal(people, alpha)
    deal_id = deal["deal_id"]
    today = datetime.now(UTC).date()
    won = {"amount": {"amount_minor": 1_150_000, "currency": "USD"}, "close_date": today.isoformat()}
    for body, field in [
        (won | {"discount": 5}, "discount"),
        (won | {"amount": {"amount_minor": 11500.25, "currency": "USD"}}, "amount.amount_minor"),
        (won | {"close_date": (today + timedelta(days=1)).isoformat()}, "close_date"),
        (won | {"close_date": "31/12/2026"}, "close_date"),
    ]:
        answer = people.api("POST", f"/deals/{deal_id}/won", session=alpha.session, json=body)
        assert answer.status_code == 400 and field in field_errors(answer), (field, answer.text)
    assert get_deal(people, alpha, deal_id) == deal

    answer = people.api("POST", f"/deals/{deal_id}/won", session=alpha.session, json=won)
    assert answer.status_code == 200, answer.text
    closed = answer.json()
    assert closed["status"] == "won" and closed["won"] == won and closed["next_step"] == "No further action"
    assert closed["timeline"][-1]["status"] == "won" and "11,500.00 USD" in closed["timeline"][-1]["note"]
    event = events.wait_for("DealWon", deal_id=deal_id)
    validate(event)
    assert event["detail"]["amount"] == won["amount"] and event["detail"]["close_date"] == won["close_date"]
    assert event["detail"]["partner_id"] == alpha.partner_id

    again = people.api("POST", f"/deals/{deal_id}/won", session=alpha.session, json=won)
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    stage = people.api("POST", f"/deals/{deal_id}/stage", session=alpha.session, json={"stage": "commit"})
    assert stage.status_code == 409 and stage.json()["code"] == "invalid_state"
    # a won deal no longer holds the prospect
    check = prospect_check(people, alpha, domain=deal["prospect"]["domain"])
    assert check.json() == {"status": "available"}
