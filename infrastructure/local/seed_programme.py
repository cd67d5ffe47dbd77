"""Demo training and programme tiers, made through the PRM's real paths: a vendor admin defines courses, a
certification, an LMS connection and the programme's tiers; completions arrive as an LMS sends them (signed Standard
Webhooks requests); tier upgrades are approved by the channel team's email link.

The end-to-end tests use the same definitions and helpers, so the demo and the tests tell one story."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from standardwebhooks import Webhook

from infrastructure.local.people import People, Session

TIER_APPROVER = "channel-programme@example.com"  # TierApproverEmail's default
CERTIFICATION_NAME = "Certified Network Engineer"
VALIDITY_MONTHS = 24
COURSES = [
    {"title": "Network Security Fundamentals", "lms_course_id": "NET-101", "credit_hours": 8, "language": "en"},
    {"title": "Firewall Deployment", "lms_course_id": "NET-201", "credit_hours": 12, "language": "en"},
    {"title": "Network Engineer Recertification", "lms_course_id": "NET-301", "credit_hours": 4, "language": "en"},
]
REQUIRED = ("NET-101", "NET-201")
RENEWAL = "NET-301"
ENGINEER = "certified engineer"  # the criterion's label: "1 more certified engineer for Gold"
CERTIFICATION_WAIT_SECONDS = 60  # training's CertificationDefined reaches tiers through the outbox, the bus and a queue


@dataclass(frozen=True)
class Catalogue:
    """What the vendor admin defined: course ids by LMS course id, the certification, and one LMS connection."""

    course_ids: dict[str, str]
    certification_id: str
    connection_id: str
    secret: str


def usd(amount_minor: int) -> dict[str, Any]:
    return {"currency": "USD", "amount_minor": amount_minor}


def programme_version(certification_id: str, effective_from: date, *, approval: str = "channel_team") -> dict[str, Any]:
    """The demo programme: Registered; Silver; Gold; Platinum (won revenue, approved deals, certified engineers, and a
    signed business plan that the channel team confirms by hand)."""

    def engineers(people: int) -> list[dict[str, Any]]:
        return [{"certification_id": certification_id, "label": ENGINEER, "people": people}]

    return {
        "effective_from": effective_from.isoformat(),
        "upgrade_approval": approval,
        "tiers": [
            {
                "tier_id": "registered",
                "name": "Registered",
                "benefits": ["Deal registration", "Partner portal and training catalogue"],
                "criteria": {},
            },
            {
                "tier_id": "silver",
                "name": "Silver",
                "benefits": ["Market development funds", "10% product discount", "Partner locator listing"],
                "criteria": {"won_revenue": [usd(500_000)], "certifications": engineers(1)},
            },
            {
                "tier_id": "gold",
                "name": "Gold",
                "benefits": ["Higher deal auto-approval limit", "20% product discount", "Named channel manager"],
                "criteria": {"won_revenue": [usd(1_500_000)], "approved_deals": 1, "certifications": engineers(2)},
            },
            {
                "tier_id": "platinum",
                "name": "Platinum",
                "benefits": ["30% product discount", "Joint business planning", "Early access to the roadmap"],
                "criteria": {
                    "won_revenue": [usd(25_000_000)],
                    "approved_deals": 5,
                    "certifications": engineers(4),
                    "manual": [{"criterion_id": "business_plan", "label": "Signed business plan"}],
                },
            },
        ],
    }


# ------------------------------------------------------------------ the vendor admin's definitions
def _items(people: People, admin: Session, path: str) -> list[dict[str, Any]]:
    answer = people.api("GET", path, session=admin)
    answer.raise_for_status()
    body = answer.json()
    return list(body["items"] if isinstance(body, dict) else body)


def define_training(people: People, admin: Session, *, connection_name: str = "Demo LMS") -> Catalogue:
    """The courses and the certification (reused when they exist: one catalogue per stack) and a new LMS connection."""
    known = {c["lms_course_id"]: c["course_id"] for c in _items(people, admin, "/training/courses")}
    for course in COURSES:
        if course["lms_course_id"] not in known:
            answer = people.api("POST", "/training/courses", session=admin, json=course)
            answer.raise_for_status()
            known[course["lms_course_id"]] = answer.json()["course_id"]
    found = [c for c in _items(people, admin, "/training/certifications") if c["name"] == CERTIFICATION_NAME]
    if found:
        certification_id = found[0]["certification_id"]
    else:
        body = {
            "name": CERTIFICATION_NAME,
            "required_course_ids": [known[c] for c in REQUIRED],
            "validity_months": VALIDITY_MONTHS,
            "renewal_course_id": known[RENEWAL],
        }
        answer = people.api("POST", "/training/certifications", session=admin, json=body)
        answer.raise_for_status()
        certification_id = answer.json()["certification_id"]
    answer = people.api("POST", "/training/connections", session=admin, json={"name": connection_name})
    answer.raise_for_status()
    connection = answer.json()
    return Catalogue(known, certification_id, connection["connection_id"], connection["secret"])


def publish_programme(people: People, admin: Session, certification_id: str) -> dict[str, Any]:
    """The demo programme in force from today, unless a version with the same tiers already is (one per stack)."""
    wanted = programme_version(certification_id, datetime.now(UTC).date())
    for version in _items(people, admin, "/programme/versions"):
        if _same_tiers(version.get("tiers", []), wanted["tiers"]):
            return version
    deadline = time.monotonic() + CERTIFICATION_WAIT_SECONDS
    while True:
        answer = people.api("POST", "/programme/versions", session=admin, json=wanted)
        if answer.status_code != 400 or not _unknown_certification(answer.json()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # training's CertificationDefined is still on its way to tiers (outbox, bus, queue)
    answer.raise_for_status()
    return dict(answer.json())


def _unknown_certification(error: dict[str, Any]) -> bool:
    """A 400 that names only criteria's certification ids (tiers has not projected the certification yet)."""
    fields = [e.get("field", "") for e in error.get("errors", [])]
    return bool(fields) and all(f.endswith(".certification_id") for f in fields)


def _same_tiers(have: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    """Whether a stored version has these tiers and criteria (the API spells out the criteria kinds left empty)."""
    blank = {"won_revenue": [], "approved_deals": 0, "certifications": [], "manual": []}

    def key(tiers: list[dict[str, Any]]) -> str:
        return json.dumps([[t["tier_id"], blank | (t.get("criteria") or {})] for t in tiers], sort_keys=True)

    return key(have) == key(want)


# ------------------------------------------------------------------ an LMS's deliveries
def completion_body(email: str, lms_course_id: str, completed_at: datetime, *, passed: bool = True) -> dict[str, Any]:
    return {
        "type": "course.completed",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "learner_email": email,
            "lms_course_id": lms_course_id,
            "passed": passed,
            "score_scaled": 0.86 if passed else 0.41,
            "completed_at": completed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        },
    }


def signed_headers(
    secret: str, payload: str, *, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for a payload, signed with the connection's `whsec_...` secret."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, payload),
    }


def deliver(
    people: People,
    catalogue: Catalogue,
    email: str,
    lms_course_id: str,
    completed_at: datetime,
    *,
    passed: bool = True,
    msg_id: str | None = None,
) -> requests.Response:
    """One `course.completed` webhook, as the LMS sends it: JSON body, signed headers, no bearer token."""
    payload = json.dumps(completion_body(email, lms_course_id, completed_at, passed=passed))
    headers = signed_headers(catalogue.secret, payload, msg_id=msg_id)
    return people.http.post(
        f"{people.stack.api_url}/training/webhooks/{catalogue.connection_id}", data=payload, headers=headers, timeout=30
    )


def approve_upgrade(people: People, company: str, tier: str, *, timeout: float = 60) -> requests.Response:
    """The channel team opens the upgrade request's email ("Approval needed: Tier upgrade: <company> to <tier>", not a
    reminder) and approves it on the confirmation page."""
    wanted = people.to(TIER_APPROVER, subject=f"Approval needed: Tier upgrade: {company} to {tier}")
    [mail] = people.wait_for_mail(wanted, timeout=timeout)
    return people.decide(people.links(mail)["approve"])


def standing(people: People, session: Session) -> dict[str, Any]:
    answer = people.api("GET", "/programme", session=session)
    answer.raise_for_status()
    return dict(answer.json())


def next_missing(standing: dict[str, Any]) -> list[str]:
    """What the next tier still needs, as the Programme page says it ("1 more certified engineer for Gold")."""
    return list((standing.get("next") or {}).get("missing") or [])


# What `GET /programme` answers while tiers has not yet heard of what onboarding did (it learns from the bus): the
# partner has no tier yet (404 no_tier), or the user's acceptance of the agreement has not reached its gate (403).
NOT_YET = {(404, "no_tier"), (403, "agreement_required")}


def _code(answer: requests.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return str(body.get("code")) if isinstance(body, dict) else None


def wait_for_tier(people: People, session: Session, tier_id: str, *, timeout: float = 60) -> dict[str, Any]:
    """The partner's standing once it holds `tier_id`. Briefly after onboarding, tiers may not know the partner yet
    (404 no_tier) or the user's acceptance yet (403 agreement_required): asked again until `timeout`; any other
    error fails at once."""
    deadline = time.monotonic() + timeout
    while True:
        answer = people.api("GET", "/programme", session=session)
        if (answer.status_code, _code(answer)) not in NOT_YET:
            answer.raise_for_status()
            now = answer.json()
            if (now["tier"] or {}).get("tier_id") == tier_id:
                return dict(now)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the partner's tier is not {tier_id}: {answer.status_code} {answer.text[:300]}")
        time.sleep(0.2)


def months_ago(months: int, *, days: int = 0) -> datetime:
    """Now, `months` calendar months (and `days` days) earlier, at 10:00 UTC."""
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    day = min(today.day, 28)
    return datetime(year, month + 1, day, 10, tzinfo=UTC) - timedelta(days=days)


# ------------------------------------------------------------------ the demo
NANCY = "nancy@northwind-traders.example"
ANDREW = "andrew@northwind-traders.example"
UNKNOWN_LEARNER = "jamie.doe@contoso.example"  # no such partner user: the completion waits in the review list


def seed_completions(people: People, stack: Any, catalogue: Catalogue) -> None:
    """Northwind's engineers: Nancy certified almost 23 months ago (her certification expires in about 40 days: it
    reads "expiring soon" and the renewal reminders are due), Andrew one course short; Northwind reaches Silver (approved by the channel team's link) and is exactly
    one certified engineer short of Gold. A completion for an unknown learner waits in the vendor's review list."""
    for email, course, when in (
        (NANCY, "NET-101", months_ago(22, days=45)),
        (NANCY, "NET-201", months_ago(22, days=20)),
        (ANDREW, "NET-101", datetime.now(UTC) - timedelta(days=3)),
        (UNKNOWN_LEARNER, "NET-101", datetime.now(UTC) - timedelta(days=1)),
    ):
        deliver(people, catalogue, email, course, when).raise_for_status()
        stack.wait_idle(timeout=30)
    approve_upgrade(people, "Northwind Traders", "Silver").raise_for_status()
    stack.wait_idle(timeout=30)


def seed(people: People, stack: Any, admin: Session) -> Catalogue:
    """Before the partners join: the training catalogue and the programme's tiers (so partners start Registered)."""
    catalogue = define_training(people, admin)
    publish_programme(people, admin, catalogue.certification_id)
    return catalogue


def describe(people: People, nancy: Session) -> list[str]:
    """The banner's line about Northwind's tier, read from the Programme page's data."""
    answer = people.api("GET", "/programme", session=nancy)
    if answer.status_code != 200:
        return []
    now = answer.json()
    if not (now.get("tier") or {}).get("tier_id"):
        return []
    missing = next_missing(now)
    following = now.get("next")
    rest = len(missing) - 2
    shown = ", ".join(missing[:2]) + (f" and {rest} more criteri{'on' if rest == 1 else 'a'}" if rest > 0 else "")
    tail = f"; {shown}" if missing else (f"; meets every {following['tier']['name']} criterion" if following else "")
    pending = now.get("pending_upgrade")
    if pending:
        tail += f"; the upgrade to {pending['proposed']['name']} awaits {TIER_APPROVER} in the mail viewer"
    return [f"Northwind tier:  {now['tier']['name']}{tail} (Programme page)."]


# ------------------------------------------------------------------ the LMS, by hand (`make dev` running)
def complete_by_hand(portal: str, email: str, lms_course_id: str, *, passed: bool = True) -> str:
    """Sign in as the demo's vendor admin (the portal's own Cognito settings), open an LMS connection and send one
    signed `course.completed` webhook, as the LMS would. Returns what the PRM answered."""
    from infrastructure.local.seed import VENDOR_ADMIN  # deferred: seed imports this module

    http = requests.Session()
    config = http.get(f"{portal.rstrip('/')}/config.json", timeout=10).json()
    user, password = VENDOR_ADMIN
    auth = http.post(
        config["cognito"]["endpoint"],
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": config["cognito"]["clientId"],
                "AuthParameters": {"USERNAME": user, "PASSWORD": password},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        timeout=10,
    )
    auth.raise_for_status()
    token = auth.json()["AuthenticationResult"]["IdToken"]
    api = config["apiBaseUrl"]
    opened = http.post(
        f"{api}/training/connections",
        json={"name": "Demo LMS (command line)"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    opened.raise_for_status()
    connection = opened.json()
    payload = json.dumps(completion_body(email, lms_course_id, datetime.now(UTC) - timedelta(minutes=5), passed=passed))
    answer = http.post(
        f"{api}/training/webhooks/{connection['connection_id']}",
        data=payload,
        headers=signed_headers(connection["secret"], payload),
        timeout=10,
    )
    return f"{answer.status_code} {answer.text}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infrastructure.local.seed_programme",
        description="Report a course completion to the running local PRM as an LMS does (a signed webhook).",
    )
    parser.add_argument("email", help="the learner, e.g. andrew@northwind-traders.example")
    parser.add_argument("lms_course_id", help="the LMS's course id, e.g. NET-201")
    parser.add_argument("--failed", action="store_true", help="report a failed attempt instead of a pass")
    parser.add_argument("--portal", default="http://127.0.0.1:8080/", help="the local portal's address")
    args = parser.parse_args(argv)
    try:
        print(complete_by_hand(args.portal, args.email, args.lms_course_id, passed=not args.failed))
    except requests.ConnectionError:
        print(
            f"No local PRM answers at {args.portal}: is `make dev` running? If it runs on another port, give its "
            "address: --portal http://127.0.0.1:<port>/",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
