"""Demo data for a fresh local stack, made through the PRM's real paths (API, approval emails, invitations)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infrastructure.local.people import People

logger = logging.getLogger(__name__)

VENDOR_ADMIN = ("channel.admin@example.com", "VendorAdmin-2026")
DEMO_PASSWORD = "PartnerDemo-2026"  # noqa: S105 - local demo only, printed by `make dev`
APPROVER = "partner-approver@example.com"
AGREEMENT = {
    "version": "2026-01",
    "title": "Example Vendor Partner Programme Agreement",
    "body": (
        "1. Scope. This agreement governs your participation in the Example Vendor Partner Network.\n\n"
        "2. Conduct. You will represent the vendor's products accurately and comply with applicable law, "
        "including anti-bribery and export control rules.\n\n"
        "3. Deal registration. Registered deals are protected for the period stated in the programme guide.\n\n"
        "4. Market development funds. Funds are granted per activity and paid against proof of performance.\n\n"
        "5. Data. Each party protects the other's confidential information and personal data.\n\n"
        "6. Term. This agreement continues until either party ends it with 30 days' written notice."
    ),
}


def _application(company: str, domain: str, country: str, kind: str, contact: str, revenue: int) -> dict[str, Any]:
    first = contact.split(maxsplit=1)[0].lower()
    return {
        "company_name": company,
        "website": f"https://www.{domain}",
        "country": country,
        "partner_type": kind,
        "contact_name": contact,
        "contact_email": f"{first}@{domain}",
        "expected_annual_revenue": {"amount_minor": revenue, "currency": "USD"},
    }


# (application, outcome, accepts the agreement)
PARTNERS = [
    (
        _application("Northwind Traders", "northwind-traders.example", "GB", "reseller", "Nancy Davolio", 120_000_000),
        "approve",
        True,
    ),
    (
        _application("Contoso Distribution", "contoso.example", "DE", "distributor", "Hans Becker", 900_000_000),
        "approve",
        True,
    ),
    (_application("Fabrikam Software", "fabrikam.example", "US", "isv", "Priya Raman", 45_000_000), "approve", False),
    (
        _application("Wide World Importers", "wideworldimporters.example", "FR", "referral", "Luc Martin", 2_000_000),
        "reject",
        False,
    ),
    (_application("Tailspin Toys", "tailspin-toys.example", "CA", "reseller", "Maya Chen", 30_000_000), None, False),
]


def _onboard(people: People, application: dict[str, Any], outcome: str | None, accepts: bool) -> str | None:
    receipt = people.api("POST", "/applications", json=application)
    receipt.raise_for_status()
    if outcome is None:
        return None
    [request] = people.wait_for_mail(people.to(APPROVER, containing=receipt.json()["application_id"]), timeout=60)
    links = people.links(request)
    reason = "" if outcome == "approve" else "We already have enough referral partners in France."
    people.decide(links[outcome], reason=reason).raise_for_status()
    if outcome != "approve":
        return None
    email = application["contact_email"]
    [invitation] = people.wait_for_mail(people.to(email, containing="data-temporary-password"), timeout=60)
    session = people.sign_in(email, people.temporary_password(invitation), new_password=DEMO_PASSWORD)
    if accepts:
        people.api(
            "POST", "/agreements/current/acceptance", session=session, json={"version": AGREEMENT["version"]}
        ).raise_for_status()
    if application["company_name"] == "Northwind Traders":
        me = people.api("GET", "/me", session=session).json()
        colleague = {"email": "andrew@northwind-traders.example", "name": "Andrew Fuller", "role": "partner-user"}
        people.api("POST", f"/partners/{me['partner_id']}/users", session=session, json=colleague).raise_for_status()
    return email


def seed(stack: Any) -> list[str]:
    """Create the demo world and return the lines the CLI prints (who can sign in, with what)."""
    people = People(stack)
    email, password = VENDOR_ADMIN
    people.create_user(email, password, groups=["vendor-admin"], name="Channel Admin")
    admin = people.sign_in(email, password)
    people.api("POST", "/agreements", session=admin, json=AGREEMENT).raise_for_status()
    with ThreadPoolExecutor(max_workers=len(PARTNERS)) as pool:
        users = [u for u in pool.map(lambda p: _onboard(people, *p), PARTNERS) if u]
    stack.wait_idle(timeout=30)
    lines = [f"Vendor admin:    {email} / {password}"]
    lines += [f"Partner admin:   {user} / {DEMO_PASSWORD}" for user in users]
    lines += [
        "Pending:         Tailspin Toys' application awaits a decision: open the mail viewer as the approver.",
        "Invited:         andrew@northwind-traders.example (temporary password in the mail viewer).",
    ]
    return lines
