"""People the end-to-end tests act as: partners onboarded through the real flow, and vendor administrators."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from infrastructure.local.people import People, Session
from tests.support.factories import application_body, unique_domain

APPROVER = "partner-approver@example.com"  # PartnerApproverEmail's default: decides applications
PASSWORD = "Chosen-Password-42"
VENDOR_PASSWORD = "VendorAdmin-2026"


@dataclass(frozen=True)
class Partner:
    partner_id: str
    session: Session
    domain: str
    email: str


def onboard(people: People, *, company: str = "Acme Networks") -> Partner:
    """A partner through the real flow: apply, confirm the email address, approve by link, invitation, new password, agreement if current.

    Other contexts learn of the partner asynchronously (PartnerOnboarded): wait for the one a test uses.
    """
    domain = unique_domain("reseller", "co.uk")
    body = application_body(domain, company_name=company, contact_email=f"ada@{domain}")
    answer = people.api("POST", "/applications", json=body)
    assert answer.status_code == 201, answer.text
    application_id = answer.json()["application_id"]
    confirmed = people.confirm_application(body["contact_email"], application_id)
    assert confirmed.status_code == 200, confirmed.text
    [request] = people.wait_for_mail(people.to(APPROVER, containing=application_id))
    assert people.decide(people.links(request)["approve"]).status_code == 200
    [invitation] = people.wait_for_mail(people.to(body["contact_email"], containing="data-temporary-password"))
    session = people.sign_in(body["contact_email"], people.temporary_password(invitation), new_password=PASSWORD)
    me = accept_agreement(people, session)
    return Partner(partner_id=me["partner_id"], session=session, domain=domain, email=body["contact_email"])


def accept_agreement(people: People, session: Session) -> dict[str, Any]:
    """The user accepts the current programme agreement if it is required, and waits until every gate knows it;
    answers `GET /me`."""
    me = dict(people.api("GET", "/me", session=session).json())
    if me["agreement"]["required"]:
        people.api(
            "POST",
            "/agreements/current/acceptance",
            session=session,
            json={"version": me["agreement"]["current_version"]},
        ).raise_for_status()
        wait_for_acceptance(people, session)
    return me


def wait_for_acceptance(people: People, session: Session, timeout: float = 30.0) -> None:
    """Deals, MDF, training, tiers and rewards learn of an acceptance from onboarding's event, asynchronously: wait until
    each has (a gate answers 403 agreement_required until then)."""
    deadline = time.monotonic() + timeout
    for probe in ("/deals?limit=1", "/mdf/funds", "/training/me", "/programme", "/rewards/me"):
        while True:
            answer = people.api("GET", probe, session=session)
            if not (answer.status_code == 403 and answer.json().get("code") == "agreement_required"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{probe} never learned of the agreement acceptance")
            time.sleep(0.2)


def vendor_admin(people: People, *, name: str = "Vendor Admin") -> Session:
    """A new vendor administrator (group `vendor-admin`), signed in."""
    email = f"vendor-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(email, VENDOR_PASSWORD, groups=["vendor-admin"], name=name)
    return people.sign_in(email, VENDOR_PASSWORD)
