"""Demo rewards, made through the PRM's real paths: a vendor admin defines two campaigns and a catalogue item; Nancy's
won deals earn rewards from the bus (one approved automatically, one waiting for the incentives approver's email link,
one the approver declines with a reason); she redeems a payout that finance approves by link, and the vendor admin
batches it into a payout file and marks it paid.

The end-to-end tests use the same helpers, so the demo and the tests tell one story."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from infrastructure.local.people import Mail, People, Session

REWARDS_APPROVER = "channel-programme@example.com"  # RewardApproverEmail's default: rewards and SPIFF claims
FINANCE = "finance@example.com"  # RewardFinanceApproverEmail's default: payouts
NANCY = "nancy@northwind-traders.example"

FAST_START = "Firewall Fast Start"
SASE_POINTS = "Cloud SASE Champions"
GLOBEX_WON = 1_800_000  # seed.py's Globex deal, won by the MDF seed: 180.00 USD under Fast Start, approved at once
PAYOUT = 18_000  # what Nancy is paid of it (all of it, 180.00 USD): that reward shows paid
# (company, website domain, won amount in minor units, products): Hooli earns cash and SASE points at once, Umbrella's
# reward waits for the approver, Soylent's is declined
HOOLI = ("Hooli Europe", "hooli-europe.example", 1_500_000, ["NET-FW-100", "CLD-SASE"])
UMBRELLA = ("Umbrella Health", "umbrella-health.example", 2_400_000, ["NET-FW-900"])
SOYLENT = ("Soylent Foods", "soylent-foods.example", 2_100_000, ["NET-FW-100"])
DECLINED_REASON = (
    "Soylent Foods ordered through the vendor's direct web shop: Fast Start pays on partner-sourced orders only."
)


# ------------------------------------------------------------------ the vendor admin's definitions
def fast_start(today: date) -> dict[str, Any]:
    """USD per 1,000 USD won, this quarter, for resellers and distributors: under 200.00 USD approved automatically."""
    return {
        "name": FAST_START,
        "description": "Cash for every firewall deal resellers and distributors win this quarter.",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=60)).isoformat(),
        "unit": "USD",
        "eligibility": {"tiers": [], "regions": [], "partner_types": ["reseller", "distributor"]},
        "budget": 2_500_000,  # 25,000.00 USD
        "per_partner_cap": 500_000,
        "auto_approve_below": 20_000,  # 200.00 USD: larger rewards go to the incentives approver
        "available_after_days": 0,
        "rules": [{"kind": "deal_won_per_thousand", "currency": "USD", "amount_per_thousand": 1_000}],
    }


def sase_points(today: date, certification_id: str) -> dict[str, Any]:
    """Points for SASE deals, for the certification and for a joint webinar claimed with proof."""
    return {
        "name": SASE_POINTS,
        "description": "Points for selling Cloud SASE, getting certified and running joint customer webinars.",
        "starts_on": (today - timedelta(days=7)).isoformat(),
        "ends_on": (today + timedelta(days=180)).isoformat(),
        "unit": "points",
        "budget": 1_000_000,
        "auto_approve_below": 5_000,
        "rules": [
            {"kind": "deal_won_per_sku", "sku": "CLD-SASE", "amount": 2_500},
            {"kind": "certification_earned", "certification_id": certification_id, "amount": 1_000},
            {
                "kind": "spiff_claim",
                "amount": 1_500,
                "description": "Run a joint customer webinar on Cloud SASE and upload the attendee list",
            },
        ],
    }


CATALOGUE = [
    {
        "name": "Noise-cancelling headphones",
        "description": "Over-ear, 30 hours of battery; shipped to your office.",
        "cost_points": 4_000,
        "stock": 20,
    },
    {
        "name": "Partner summit pass",
        "description": "One pass to the annual partner summit.",
        "cost_points": 2_000,
        "stock": 5,
    },
]


def _items(answer: requests.Response) -> list[dict[str, Any]]:
    answer.raise_for_status()
    return list(answer.json()["items"])


def ensure_campaign(people: People, admin: Session, body: dict[str, Any]) -> dict[str, Any]:
    """The open campaign of this name, created if there is none (one per stack)."""
    for campaign in _items(people.api("GET", "/rewards/campaigns", session=admin)):
        if campaign["name"] == body["name"] and campaign["status"] == "open":
            return campaign
    answer = people.api("POST", "/rewards/campaigns", session=admin, json=body)
    answer.raise_for_status()
    return dict(answer.json())


def ensure_item(people: People, admin: Session, body: dict[str, Any]) -> dict[str, Any]:
    for item in _items(people.api("GET", "/rewards/catalogue", session=admin)):
        if item["name"] == body["name"]:
            return item
    answer = people.api("POST", "/rewards/catalogue", session=admin, json=body)
    answer.raise_for_status()
    return dict(answer.json())


def define(people: People, admin: Session, certification_id: str) -> list[dict[str, Any]]:
    """Before any deal is won: the campaigns (so the demo's wins earn) and the catalogue."""
    today = datetime.now(UTC).date()
    campaigns = [ensure_campaign(people, admin, fast_start(today))]
    campaigns.append(ensure_campaign(people, admin, sase_points(today, certification_id)))
    for item in CATALOGUE:
        ensure_item(people, admin, item)
    return campaigns


# ------------------------------------------------------------------ a person's rewards
def mine(people: People, session: Session, *, limit: int = 50) -> dict[str, Any]:
    answer = people.api("GET", f"/rewards/me?limit={limit}", session=session)
    answer.raise_for_status()
    return dict(answer.json())


def balance(rewards: dict[str, Any], unit: str) -> dict[str, Any]:
    """One unit's balance from `GET /rewards/me` (zeros when the person has none in it)."""
    found = [b for b in rewards["balances"] if b["unit"] == unit]
    return found[0] if found else {"unit": unit, "available": 0, "pending": 0, "on_hold": 0, "paid": 0}


def rewards_of(rewards: dict[str, Any], *, source_id: str | None = None, campaign_id: str | None = None) -> list[Any]:
    """The reward lines of a person's history, for one source (a deal, a claim) and/or one campaign."""
    return [
        r
        for r in rewards["items"]
        if r["type"] == "reward"
        and (source_id is None or r["source"]["id"] == source_id)
        and (campaign_id is None or r["campaign_id"] == campaign_id)
    ]


def wait_for(
    people: People,
    session: Session,
    until: Callable[[dict[str, Any]], Any],
    *,
    what: str,
    timeout: float = 60,
) -> dict[str, Any]:
    """`GET /rewards/me` once `until` holds of it (rewards learn of deals and decisions from the bus)."""
    deadline = time.monotonic() + timeout
    while True:
        rewards = mine(people, session)
        if until(rewards):
            return rewards
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {rewards}")
        time.sleep(0.2)


def reward_of(
    people: People, session: Session, deal_id: str, campaign_id: str, status: str, *, timeout: float = 60
) -> dict[str, Any]:
    """The person's reward for a deal under a campaign once it has `status`."""

    def found(rewards: dict[str, Any]) -> bool:
        return any(r["status"] == status for r in rewards_of(rewards, source_id=deal_id, campaign_id=campaign_id))

    rewards = wait_for(people, session, found, what=f"no {status} reward for {deal_id}", timeout=timeout)
    [reward] = [r for r in rewards_of(rewards, source_id=deal_id, campaign_id=campaign_id)]
    return dict(reward)


# ------------------------------------------------------------------ approvers' emails
def approval_mail(people: People, approver: str, approval_id: str, *, timeout: float = 60) -> Mail:
    """The approver's first email for this approval (a reminder may follow; its links decide the same approval)."""
    [mail] = people.wait_for_mail(people.to(approver, containing=f"/approvals/{approval_id}?"), timeout=timeout)
    return mail


def decide_reward(people: People, reward_id: str, decision: str = "approve", *, reason: str = "") -> requests.Response:
    """The incentives approver opens the reward's approval email and decides on the confirmation page."""
    mail = approval_mail(people, REWARDS_APPROVER, f"reward-{reward_id}")
    return people.decide(people.links(mail)[decision], reason=reason)


def decide_payout(
    people: People, redemption_id: str, decision: str = "approve", *, reason: str = ""
) -> requests.Response:
    """Finance opens the payout's approval email and decides on the confirmation page."""
    mail = approval_mail(people, FINANCE, f"payout-{redemption_id}")
    return people.decide(people.links(mail)[decision], reason=reason)


def redeem_payout(people: People, session: Session, amount_minor: int, currency: str = "USD") -> requests.Response:
    body = {"kind": "payout", "amount": {"amount_minor": amount_minor, "currency": currency}}
    return people.api("POST", "/rewards/redemptions", session=session, json=body)


def redemption(people: People, session: Session, redemption_id: str) -> dict[str, Any]:
    answer = people.api("GET", f"/rewards/redemptions/{redemption_id}", session=session)
    answer.raise_for_status()
    return dict(answer.json())


def wait_for_redemption(
    people: People, session: Session, redemption_id: str, status: str, *, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = redemption(people, session, redemption_id)
        if found["status"] == status:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{redemption_id} is {found['status']}, not {status}: {found}")
        time.sleep(0.2)


def pay_out(people: People, admin: Session) -> dict[str, Any]:
    """Finance's run: a payout batch of every approved payout (its CSV in S3), then marked paid."""
    answer = people.api("POST", "/rewards/payout-batches", session=admin, json={})
    answer.raise_for_status()
    batch = answer.json()
    paid = people.api("POST", f"/rewards/payout-batches/{batch['batch_id']}/paid", session=admin, json={})
    paid.raise_for_status()
    return dict(paid.json())


# ------------------------------------------------------------------ deals a person wins
def deal_body(company: str, domain: str, amount_minor: int, products: list[str]) -> dict[str, Any]:
    return {
        "prospect": {
            "company_name": company,
            "website": f"https://www.{domain}",
            "country": "GB",
            "contact": {"name": "Sam Taylor", "email": f"sam.taylor@{domain}", "title": "IT Director"},
        },
        "products": products,
        "estimated_value": {"amount_minor": amount_minor, "currency": "USD"},
        "expected_close_date": (date.today() + timedelta(days=30)).isoformat(),
        "description": "Firewall refresh for the head office and branches.",
    }


def wait_for_deal(
    people: People, session: Session, deal_id: str, status: str, *, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = people.api("GET", f"/deals/{deal_id}", session=session)
        answer.raise_for_status()
        if answer.json()["status"] == status:
            return dict(answer.json())
        if time.monotonic() > deadline:
            raise TimeoutError(f"deal {deal_id} is {answer.json()['status']}, not {status}")
        time.sleep(0.2)


def win(people: People, session: Session, deal_id: str, amount_minor: int) -> requests.Response:
    """The partner marks the deal won today at this amount (deals publishes DealWon with who registered it)."""
    body = {"amount": {"amount_minor": amount_minor, "currency": "USD"}, "close_date": date.today().isoformat()}
    return people.api("POST", f"/deals/{deal_id}/won", session=session, json=body)


def won_deal(
    people: People, session: Session, company: str, domain: str, amount_minor: int, products: list[str]
) -> str:
    """A deal registered (approved automatically: it is under the partner's limit) and won at its estimate."""
    answer = people.api("POST", "/deals", session=session, json=deal_body(company, domain, amount_minor, products))
    answer.raise_for_status()
    deal_id = str(answer.json()["deal_id"])
    wait_for_deal(people, session, deal_id, "approved")
    win(people, session, deal_id, amount_minor).raise_for_status()
    return deal_id


# ------------------------------------------------------------------ the demo
@dataclass(frozen=True)
class NancysRewards:
    paid_payout: str
    pending_reward: str
    declined_reward: str


def _deal_named(people: People, session: Session, company: str) -> dict[str, Any] | None:
    answer = people.api("GET", "/deals?limit=50", session=session)
    answer.raise_for_status()
    found = [d for d in answer.json()["items"] if d["prospect"]["company_name"] == company]
    return found[0] if found else None


def seed_history(
    people: People, stack: Any, admin: Session, nancy: Session, campaigns: list[dict[str, Any]]
) -> NancysRewards:
    """Nancy's rewards: the Globex win (won by the MDF seed) earned 180.00 USD at once, and she is paid all of it, so the
    reward shows paid (finance's link, the payout file, marked paid); Hooli's SASE deal earns 150.00 USD and 2,500 points at once;
    Umbrella's 240.00 USD waits for the incentives approver (email in the mail viewer); Soylent's 210.00 USD is
    declined by the approver with the reason."""
    fast = next(c["campaign_id"] for c in campaigns if c["name"] == FAST_START)
    globex = _deal_named(people, nancy, "Globex Ltd")
    if globex is None or globex["status"] != "won":
        raise RuntimeError("the demo's Globex deal is not won: seed the deals and MDF first")
    reward_of(people, nancy, globex["deal_id"], fast, "available")
    payout = redeem_payout(people, nancy, PAYOUT)
    payout.raise_for_status()
    payout_id = str(payout.json()["redemption_id"])
    decide_payout(people, payout_id).raise_for_status()
    wait_for_redemption(people, nancy, payout_id, "approved")
    pay_out(people, admin)
    wait_for_redemption(people, nancy, payout_id, "paid")

    won_deal(people, nancy, *HOOLI)
    umbrella = won_deal(people, nancy, *UMBRELLA)
    soylent = won_deal(people, nancy, *SOYLENT)
    pending = reward_of(people, nancy, umbrella, fast, "pending")
    to_decline = reward_of(people, nancy, soylent, fast, "pending")
    decide_reward(people, to_decline["id"], "reject", reason=DECLINED_REASON).raise_for_status()
    reward_of(people, nancy, soylent, fast, "declined")
    stack.wait_idle(timeout=30)
    return NancysRewards(paid_payout=payout_id, pending_reward=pending["id"], declined_reward=to_decline["id"])


def _units(amount: int, unit: str) -> str:
    return f"{amount:,} points" if unit == "points" else f"{amount / 100:,.2f} {unit}"


def describe(people: People, nancy: Session) -> list[str]:
    """The banner's line about Nancy's rewards, read from the Rewards page's data."""
    answer = people.api("GET", "/rewards/me?limit=50", session=nancy)
    if answer.status_code != 200:
        return []
    rewards = answer.json()
    if not rewards["items"]:
        return []
    parts = [
        f"{_units(b['available'], b['unit'])} available"
        + (f", {_units(b['pending'], b['unit'])} pending" if b["pending"] else "")
        for b in rewards["balances"]
    ]
    paid = [b for b in rewards["balances"] if b.get("paid")]
    parts += [f"{_units(b['paid'], b['unit'])} paid" for b in paid]
    declined = [r for r in rewards["items"] if r["type"] == "reward" and r["status"] == "declined"]
    if declined:
        parts.append(f"{len(declined)} declined (reason on the page)")
    waiting = [r for r in rewards["items"] if r["type"] == "reward" and r["status"] == "pending"]
    tail = f"; {REWARDS_APPROVER} approves the pending one in the mail viewer" if waiting else ""
    return [f"Nancy's rewards: {'; '.join(parts)}{tail} (Rewards page)."]
