"""The onboarding story end to end over HTTP against the local stack: apply, approve by email, sign in, agree, invite."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest

from infrastructure.local.people import People
from tests.support.events import EventCapture, validate
from tests.support.factories import application_body, unique_domain

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

NEW_PASSWORD = "Chosen-Password-42"
APPROVER, DIRECTOR = "partner-approver@example.com", "channel-director@example.com"


@pytest.fixture(scope="module")
def agreement(people: People) -> str:
    admin = f"vendor-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(admin, "VendorAdmin-2026", groups=["vendor-admin"], name="Vendor Admin")
    session = people.sign_in(admin, "VendorAdmin-2026")
    version = f"2026-{uuid.uuid4().hex[:4]}"
    answer = people.api(
        "POST", "/agreements", session=session, json={"version": version, "title": "Terms", "body": "Play fair."}
    )
    assert answer.status_code == 201, answer.text
    return version


def application(domain: str | None = None) -> dict[str, Any]:
    domain = domain or unique_domain(suffix="co.uk")
    return application_body(domain, website=f"https://WWW.Sales.{domain}/contact", partner_type="distributor")


def apply(people: People, body: dict[str, Any], *, confirm: bool = True) -> dict[str, Any]:
    """Apply, and (unless told otherwise) confirm the email address from the emailed link, as the applicant would."""
    answer = people.api("POST", "/applications", json=body)
    assert answer.status_code == 201, answer.text
    if confirm:
        confirmed = people.confirm_application(body["contact_email"], answer.json()["application_id"])
        assert confirmed.status_code == 200 and "confirmed" in confirmed.text, confirmed.text
    return dict(answer.json())


def test_apply_approve_sign_in_agree_and_invite(people: People, events: EventCapture, agreement: str) -> None:
    body = application()
    receipt = apply(people, body, confirm=False)
    assert receipt["status"] == "unconfirmed"
    domain = receipt["domain"]
    assert domain == body["contact_email"].split("@")[1]

    # nobody reviews it until the applicant confirms the address; opening the link (a GET) confirms nothing
    [ask] = people.wait_for_mail(people.to(body["contact_email"], subject="Confirm your partner application"))
    link = people.http.get(
        html.unescape(re.search(r'href="([^"]+)" data-confirmation-link', ask["body"])[1]),  # type: ignore[index]
        timeout=10,
    )
    assert link.status_code == 200 and "Confirm my application" in link.text
    assert not [
        m for m in people.stack.mail() if receipt["application_id"] in m["body"] and APPROVER in m["destinations"]
    ]
    confirmed = people.confirm_application(body["contact_email"], receipt["application_id"])
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    validate(events.wait_for("PartnerApplicationConfirmed", application_id=receipt["application_id"]))

    # a second application from the same registrable domain is refused while this one is pending
    duplicate = people.api("POST", "/applications", json=application(domain) | {"contact_email": f"bob@{domain}"})
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "website"

    [request] = people.wait_for_mail(people.to(APPROVER, containing=receipt["application_id"]))
    links = people.links(request)
    # the confirmation page shows the application; a GET (as a mail scanner would do) decides nothing
    page = people.http.get(links["approve"], timeout=10)
    assert page.status_code == 200 and "Acme Networks" in page.text and domain in page.text
    assert people.http.get(links["reject"], timeout=10).status_code == 200
    tampered = links["approve"].replace("decision=approve", "decision=reject")
    assert people.decide(tampered, reason="x").status_code == 403
    assert people.http.post(links["approve"].split("?")[0], data={"decision": "approve"}, timeout=10).status_code == 400

    decided = people.decide(links["approve"])
    assert decided.status_code == 200 and "approved" in decided.text
    second = people.http.post(
        links["reject"].split("?")[0],
        data=dict(parse_qsl(urlparse(links["reject"]).query)) | {"reason": "changed my mind"},
        timeout=10,
    )
    assert second.status_code == 409

    onboarded = events.wait_for("PartnerOnboarded", application_id=receipt["application_id"])
    validate(onboarded)
    assert onboarded["detail"]["tier"] == "Registered" and onboarded["source"] == "prm.onboarding"
    partner_id = onboarded["detail"]["partner_id"]
    validate(events.wait_for("PartnerApplicationSubmitted", application_id=receipt["application_id"]))
    validate(events.wait_for("PartnerUserInvited", partner_id=partner_id))

    [invitation] = people.wait_for_mail(people.to(body["contact_email"], containing="data-temporary-password"))
    temporary = people.temporary_password(invitation)
    with pytest.raises(RuntimeError, match="new password"):
        people.sign_in(body["contact_email"], temporary)
    admin = people.sign_in(body["contact_email"], temporary, new_password=NEW_PASSWORD)

    me = people.api("GET", "/me", session=admin).json()
    assert me["partner_id"] == partner_id and me["roles"] == ["partner-admin"]
    assert me["agreement"] == {"required": True, "current_version": agreement, "accepted_version": None}
    gated = people.api("GET", f"/partners/{partner_id}", session=admin)
    assert gated.status_code == 403 and gated.json()["code"] == "agreement_required"
    terms = people.api("GET", "/agreements/current", session=admin).json()
    accepted = people.api("POST", "/agreements/current/acceptance", session=admin, json={"version": terms["version"]})
    assert accepted.status_code == 201
    validate(events.wait_for("PartnerAgreementAccepted", partner_id=partner_id))

    profile = people.api("GET", f"/partners/{partner_id}", session=admin).json()
    assert (
        profile["company_name"] == "Acme Networks" and profile["tier"] == "Registered" and profile["domain"] == domain
    )

    colleague = f"grace@{domain}"
    invited = people.api(
        "POST",
        f"/partners/{partner_id}/users",
        session=admin,
        json={"email": colleague, "name": "Grace Hopper", "role": "partner-user"},
    )
    assert invited.status_code == 201, invited.text
    [mail] = people.wait_for_mail(people.to(colleague, containing="data-temporary-password"))
    grace = people.sign_in(colleague, people.temporary_password(mail), new_password=NEW_PASSWORD)
    people.api("POST", "/agreements/current/acceptance", session=grace, json={"version": agreement}).raise_for_status()
    assert people.api("GET", f"/partners/{partner_id}", session=grace).json()["partner_id"] == partner_id
    # a partner user may not invite
    refused = people.api(
        "POST",
        f"/partners/{partner_id}/users",
        session=grace,
        json={"email": f"eve@{domain}", "name": "Eve", "role": "partner-admin"},
    )
    assert refused.status_code == 403
    users = people.api("GET", f"/partners/{partner_id}/users", session=admin).json()["items"]
    assert {(u["email"], u["status"]) for u in users} == {(body["contact_email"], "active"), (colleague, "active")}


def test_rejection_needs_a_reason_and_tells_the_applicant(people: People, events: EventCapture) -> None:
    body = application()
    receipt = apply(people, body)
    [request] = people.wait_for_mail(people.to(APPROVER, containing=receipt["application_id"]))
    links = people.links(request)
    assert people.decide(links["reject"], reason="").status_code == 400
    decided = people.decide(links["reject"], reason="We do not serve that region yet.")
    assert decided.status_code == 200
    [told] = people.wait_for_mail(people.to(body["contact_email"], containing="We do not serve that region yet."))
    assert "application" in told["subject"]
    validate(events.wait_for("PartnerApplicationRejected", application_id=receipt["application_id"]))
    assert people.decide(links["approve"]).status_code == 409
    apply(people, application(receipt["domain"]))  # the domain may apply again


def test_no_decision_reminds_escalates_and_the_second_approver_decides(people: People, events: EventCapture) -> None:
    receipt = apply(people, application())
    application_id = receipt["application_id"]
    people.wait_for_mail(people.to(APPROVER, subject="Reminder", containing=application_id), timeout=30)
    [escalated] = people.wait_for_mail(people.to(DIRECTOR, subject="Escalated", containing=application_id), timeout=30)
    assert people.decide(people.links(escalated)["approve"]).status_code == 200
    validate(events.wait_for("PartnerOnboarded", application_id=application_id, approved_by=DIRECTOR, timeout=30))


def test_an_unconfirmed_application_reaches_no_approver(people: People, events: EventCapture) -> None:
    body = application()
    receipt = apply(people, body, confirm=False)
    people.wait_for_mail(people.to(body["contact_email"], subject="Confirm your partner application"))
    replay = people.api("POST", "/applications", json=body)
    assert replay.status_code == 201 and replay.json()["status"] == "unconfirmed"
    with pytest.raises(TimeoutError):
        people.wait_for_mail(people.to(APPROVER, containing=receipt["application_id"]), timeout=2)


def test_an_application_nobody_decides_expires(people: People, events: EventCapture) -> None:
    body = application()
    receipt = apply(people, body)
    expired = events.wait_for("PartnerApplicationExpired", application_id=receipt["application_id"], timeout=40)
    validate(expired)
    people.wait_for_mail(people.to(body["contact_email"], subject="lapsed"))
    [escalated] = people.wait_for_mail(people.to(DIRECTOR, subject="Escalated", containing=receipt["application_id"]))
    assert people.decide(people.links(escalated)["approve"]).status_code == 410
