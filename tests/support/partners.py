"""People the end-to-end tests act as: partners onboarded through the real flow, and vendor administrators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
    """A partner through the real flow: apply, approve by link, invitation, new password, agreement if current.

    Other contexts learn of the partner asynchronously (PartnerOnboarded): wait for the one a test uses.
    """
    domain = unique_domain("reseller", "co.uk")
    body = application_body(domain, company_name=company, contact_email=f"ada@{domain}")
    answer = people.api("POST", "/applications", json=body)
    assert answer.status_code == 201, answer.text
    application_id = answer.json()["application_id"]
    [request] = people.wait_for_mail(people.to(APPROVER, containing=application_id))
    assert people.decide(people.links(request)["approve"]).status_code == 200
    [invitation] = people.wait_for_mail(people.to(body["contact_email"], containing="data-temporary-password"))
    session = people.sign_in(body["contact_email"], people.temporary_password(invitation), new_password=PASSWORD)
    me = people.api("GET", "/me", session=session).json()
    if me["agreement"]["required"]:
        people.api(
            "POST",
            "/agreements/current/acceptance",
            session=session,
            json={"version": me["agreement"]["current_version"]},
        ).raise_for_status()
    return Partner(partner_id=me["partner_id"], session=session, domain=domain, email=body["contact_email"])


def vendor_admin(people: People, *, name: str = "Vendor Admin") -> Session:
    """A new vendor administrator (group `vendor-admin`), signed in."""
    email = f"vendor-{uuid.uuid4().hex[:6]}@example.com"
    people.create_user(email, VENDOR_PASSWORD, groups=["vendor-admin"], name=name)
    return people.sign_in(email, VENDOR_PASSWORD)
