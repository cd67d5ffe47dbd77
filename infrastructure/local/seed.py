"""Demo data for a fresh local stack, made through the PRM's real paths (API, approval emails, invitations)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from infrastructure.local import seed_content, seed_programme, seed_rewards
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


PRODUCTS = [
    {"sku": "NET-FW-100", "name": "Firewall 100", "family": "Security"},
    {"sku": "NET-FW-900", "name": "Firewall 900 (data centre)", "family": "Security"},
    {"sku": "NET-SW-48", "name": "Switch 48-port", "family": "Networking"},
    {"sku": "CLD-SASE", "name": "Cloud SASE subscription", "family": "Cloud"},
]


def _deal(company: str, domain: str, amount: int, products: list[str], days: int, description: str) -> dict[str, Any]:
    return {
        "prospect": {
            "company_name": company,
            "website": f"https://www.{domain}",
            "country": "GB",
            "contact": {"name": "Jordan Lee", "email": f"jordan.lee@{domain}", "title": "Head of IT"},
        },
        "products": products,
        "estimated_value": {"amount_minor": amount, "currency": "USD"},
        "expected_close_date": (date.today() + timedelta(days=days)).isoformat(),
        "description": description,
    }


def _seed_deals(people: People, stack: Any) -> None:
    """Deal history: one deal approved automatically, one under review, one conflicting with another partner's."""
    northwind = people.sign_in("nancy@northwind-traders.example", DEMO_PASSWORD)
    contoso = people.sign_in("hans@contoso.example", DEMO_PASSWORD)
    deadline = time.monotonic() + 30
    while people.api("GET", "/deals/prospect-check?domain=example.org", session=northwind).status_code == 403:
        if time.monotonic() > deadline:  # deals learns about partners from PartnerOnboarded, asynchronously
            raise TimeoutError("the deals context never learned about the demo partners")
        time.sleep(0.2)
    small = _deal("Globex Ltd", "globex.example", 1_800_000, ["NET-FW-100"], 45, "Branch firewalls for 12 offices.")
    people.api("POST", "/deals", session=northwind, json=small).raise_for_status()
    large = _deal(
        "Initech plc",
        "initech.example",
        42_000_000,
        ["NET-FW-900", "CLD-SASE"],
        90,
        "Data-centre firewall pair and SASE for 3,000 users; competitive against a direct bid.",
    )
    people.api("POST", "/deals", session=northwind, json=large).raise_for_status()
    stack.wait_idle(timeout=30)
    rival = _deal(
        "Globex Limited", "globex-holdings.example", 2_500_000, ["NET-SW-48"], 60, "Campus switching refresh."
    )
    people.api("POST", "/deals", session=contoso, json=rival).raise_for_status()


def _quarter(day: date, offset: int = 0) -> tuple[str, date, date]:
    """The calendar quarter `offset` quarters from the one containing `day`: (id, first day, last day)."""
    index = day.year * 4 + (day.month - 1) // 3 + offset
    year, quarter = divmod(index, 4)
    first = date(year, quarter * 3 + 1, 1)
    following = date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
    return f"FY{year % 100:02d}-Q{quarter + 1}", first, following - timedelta(days=1)


def _seed_mdf(people: People, stack: Any, admin: Any) -> None:
    """MDF: last, this and next quarter's periods, allocations, accrual from a won deal, one request approved in part
    by link and one waiting for channel marketing. With `MdfRequestLeadDays=0` the approved one ran today: claimable."""
    today = date.today()
    periods: dict[int, tuple[str, date, date]] = {}
    for offset, rate in ((-1, 0), (0, 200), (1, 200)):
        period_id, first, last = _quarter(today, offset)
        window = last + timedelta(days=60)
        if window <= today:
            continue  # that quarter's claim window is over: nothing to show
        body = {
            "period_id": period_id,
            "name": f"{period_id} ({first:%b} to {last:%b %Y})",
            "starts_on": first.isoformat(),
            "ends_on": last.isoformat(),
            "claim_window_ends_at": f"{window.isoformat()}T23:59:59Z",
            "accrual_rate_bp": rate,
        }
        people.api("POST", "/mdf/periods", session=admin, json=body).raise_for_status()
        periods[offset] = (period_id, first, last)
    deadline = time.monotonic() + 30
    while True:  # MDF learns about partners from PartnerOnboarded, asynchronously
        partners = {
            p["company_name"]: p["partner_id"]
            for p in people.api("GET", "/mdf/partners", session=admin).json()["items"]
        }
        if {"Northwind Traders", "Contoso Distribution"} <= set(partners) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    allocations = [
        ("Northwind Traders", 0, 2_500_000, "Quarterly MDF allocation"),
        ("Contoso Distribution", 0, 1_500_000, "Quarterly MDF allocation"),
        ("Northwind Traders", 1, 1_000_000, "Next quarter's MDF allocation"),
        ("Northwind Traders", -1, 500_000, "Last quarter's allocation, still unused"),
    ]
    for company, offset, amount, note in allocations:
        if offset in periods:
            allocation = {
                "partner_id": partners[company],
                "period_id": periods[offset][0],
                "note": note,
                "amount": {"amount_minor": amount, "currency": "USD"},
            }
            people.api("POST", "/mdf/allocations", session=admin, json=allocation).raise_for_status()
    northwind = people.sign_in("nancy@northwind-traders.example", DEMO_PASSWORD)
    # The automatically approved Globex deal is won: 2% of it accrues to Northwind's fund.
    [won] = [
        d
        for d in people.api("GET", "/deals?status=approved", session=northwind).json()["items"]
        if d["prospect"]["company_name"] == "Globex Ltd"
    ] or [None]
    if won:
        people.api(
            "POST",
            f"/deals/{won['deal_id']}/won",
            session=northwind,
            json={"amount": {"amount_minor": 1_800_000, "currency": "USD"}, "close_date": today.isoformat()},
        )
    lead = int(stack.parameters.get("MdfRequestLeadDays", "10"))
    for title, amount, start_in, days in (
        ("Partner summit booth", 600_000, lead + 2, 1),
        ("Zero-trust webinar series", 500_000, lead, 0),
    ):
        starts, ends = today + timedelta(days=start_in), today + timedelta(days=start_in + days)
        # in whichever quarter holds the activity (late in a quarter, that is the next one)
        holder = next((p for p, first, last in periods.values() if first <= starts and ends <= last), None)
        if holder is None:
            continue
        request = {
            "period_id": holder,
            "activity_type": "event" if days else "webinar",
            "title": title,
            "description": f"{title}: co-branded with the vendor, leads shared in the portal.",
            "starts_on": starts.isoformat(),
            "ends_on": ends.isoformat(),
            "requested": {"amount_minor": amount, "currency": "USD"},
            "expected_outcome": {"leads": 60, "pipeline_value": {"amount_minor": 30_000_000, "currency": "USD"}},
        }
        people.api("POST", "/mdf/requests", session=northwind, json=request).raise_for_status()
        if title.startswith("Zero-trust"):
            marketing = "channel-marketing@example.com"
            [mail] = people.wait_for_mail(people.to(marketing, containing=title), timeout=60)
            people.decide(people.links(mail)["approve"], amount="4000.00").raise_for_status()


def _onboard(people: People, application: dict[str, Any], outcome: str | None, accepts: bool) -> str | None:
    receipt = people.api("POST", "/applications", json=application)
    receipt.raise_for_status()
    # Only an application whose applicant confirmed their email address reaches the approver.
    people.confirm_application(application["contact_email"], receipt.json()["application_id"]).raise_for_status()
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
    for product in PRODUCTS:
        people.api("POST", "/products", session=admin, json=product).raise_for_status()
    catalogue = seed_programme.seed(people, stack, admin)  # the tiers first: partners join the entry tier
    campaigns = seed_rewards.define(people, admin, catalogue.certification_id)  # before any deal is won
    with ThreadPoolExecutor(max_workers=len(PARTNERS)) as pool:
        list(pool.map(lambda p: _onboard(people, *p), PARTNERS))
    stack.wait_idle(timeout=30)
    _seed_deals(people, stack)
    stack.wait_idle(timeout=30)
    _seed_mdf(people, stack, admin)
    stack.wait_idle(timeout=30)
    seed_programme.seed_completions(people, stack, catalogue)
    seed_content.seed(people, stack, admin)  # after the tiers and partners: Northwind is Silver by now
    nancy = people.sign_in("nancy@northwind-traders.example", DEMO_PASSWORD)
    seed_rewards.seed_history(people, stack, admin, nancy, campaigns)
    return describe(stack)  # what the data holds now, not what seeding meant to do


APPLICATION_STATES = {
    "unconfirmed": "awaits its applicant's email confirmation (link in the mail viewer)",
    "pending": "awaits a decision: open the mail viewer as the approver",
    "approved": "was approved",
    "rejected": "was rejected",
    "expired": "lapsed undecided",
}


def _applications(stack: Any) -> dict[str, dict[str, Any]]:
    """The demo companies' newest applications, by domain. A local-tool read: the demo table is tiny, so a Scan."""
    from shared.dynamo import from_item

    domains = {application["website"].removeprefix("https://www.") for application, _, _ in PARTNERS}
    found: dict[str, dict[str, Any]] = {}
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=stack.resource("OnboardingTable"),
            FilterExpression="entity = :e",
            ExpressionAttributeValues={":e": {"S": "application"}},
        )
    )
    for item in (from_item(i) for page in pages for i in page["Items"]):
        if item.get("domain") in domains and str(item.get("submitted_at")) > str(
            found.get(item["domain"], {}).get("submitted_at", "")
        ):
            found[item["domain"]] = item
    return found


def _sign_in(people: People, email: str, password: str) -> Any:
    try:
        return people.sign_in(email, password)
    except Exception:  # the person changed the demo password, or the account is gone
        return None


def _deal_line(deals: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d['prospect']['company_name']} {d['status'].replace('_', ' ')}" for d in deals) or "none"


def describe(stack: Any) -> list[str]:
    """The start banner: what is true of the data now (on a fresh start after seeding, and after a restart)."""
    people = People(stack)
    email, password = VENDOR_ADMIN
    lines = [f"Vendor admin:    {email} / {password}"]
    applications = _applications(stack)
    notes: list[str] = []
    for application, _, _ in PARTNERS:
        found = applications.get(application["website"].removeprefix("https://www."))
        if found is None:
            continue
        if found["status"] == "approved":
            lines.append(f"Partner admin:   {application['contact_email']} / {DEMO_PASSWORD}")
        else:
            notes.append(f"{application['company_name']}: the application {APPLICATION_STATES[found['status']]}.")
    lines += [f"Applications:    {note}" for note in notes]
    nancy = _sign_in(people, "nancy@northwind-traders.example", DEMO_PASSWORD)
    if nancy is not None:
        me = people.api("GET", "/me", session=nancy).json()
        users = people.api("GET", f"/partners/{me['partner_id']}/users", session=nancy)
        for user in users.json().get("items", []) if users.status_code == 200 else []:
            if user["email"] != nancy.email:
                state = "invited (temporary password in the mail viewer)" if user["status"] == "invited" else "active"
                lines.append(f"Colleague:       {user['email']} {state}.")
        deals = people.api("GET", "/deals?limit=50", session=nancy).json().get("items", [])
        lines.append(f"Northwind deals: {_deal_line(deals)} (channel managers' emails in the mail viewer).")
        requests = people.api("GET", "/mdf/requests?limit=50", session=nancy).json().get("items", [])
        if requests:
            listed = ", ".join(
                f"{r.get('title', r.get('request_id'))} {r['status'].replace('_', ' ')}" for r in requests
            )
            lines.append(f"Northwind MDF:   {listed}.")
        lines += seed_programme.describe(people, nancy)
        lines += seed_rewards.describe(people, nancy)
    hans = _sign_in(people, "hans@contoso.example", DEMO_PASSWORD)
    if hans is not None:
        deals = people.api("GET", "/deals?limit=50", session=hans).json().get("items", [])
        lines.append(f"Contoso deals:   {_deal_line(deals)}.")
    lines += seed_content.describe(people, {"Northwind": nancy, "Contoso": hans})
    if _parameter(stack, "MdfRequestLeadDays") != "0":  # with 0 the approved webinar already ran: claimable now
        lines.append(
            'To file an MDF claim in the demo, start with make fresh ARGS="--param MdfRequestLeadDays=0" '
            "(the approved webinar then ran today)."
        )
    return lines


def _parameter(stack: Any, name: str) -> str | None:
    """A template parameter's value in this stack (as given with --param, or the template's default)."""
    value = stack.template.parameters.get(name)
    return None if value is None else str(value)
