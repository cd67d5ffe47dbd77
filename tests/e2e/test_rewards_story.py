"""Rewards end to end over HTTP against the local stack, as people do it: a vendor admin defines campaigns and a
catalogue item; a partner user's won deal earns a reward above the auto-approval amount, the incentives approver
approves it by email link (confirmation page, decided once), the user redeems a payout, finance approves it by link,
a vendor admin batches it into a payout file (its CSV rows checked), marks it paid, and the payee is emailed and sees
it paid. Also: a vendor's reversal of a won deal claws its reward back with a negative ledger entry even after it
was spent, the negative balance refuses a redemption naming the field, and a SPIFF claim with a proof file, approved
by the reviewer's link, earns it back."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
import requests

from infrastructure.local.people import People, Session
from infrastructure.local.seed_rewards import (
    REWARDS_APPROVER,
    approval_mail,
    balance,
    decide_payout,
    ensure_item,
    mine,
    redeem_payout,
    reward_of,
    rewards_of,
    wait_for,
    wait_for_deal,
    wait_for_redemption,
    win,
)
from tests.e2e.test_deals_story import ensure_products, register
from tests.e2e.test_deals_story import onboard as onboard_for_deals
from tests.e2e.test_training_tiers_story import invite_and_sign_in
from tests.support import factories
from tests.support.events import EventCapture, validate
from tests.support.mdf import PDF, post_file
from tests.support.partners import Partner, vendor_admin

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

CASH_SKU, POINTS_SKU = "NET-FW-100", "NET-SW-48"  # ensure_products' SKUs: each campaign pays on one of them
CASH_REWARD = 20_000  # 200.00 USD per won deal with the cash SKU: at or above the auto-approval amount
AUTO_APPROVE_BELOW = 10_000
PAYOUT = 15_000  # 150.00 USD: above RewardPayoutMinimums' 50.00, below RewardTaxFormThresholds' 600.00 a year
POINTS_REWARD = 1_000  # points per won deal with the points SKU: approved automatically
ITEM_COST = 1_000
SPIFF = 2_000
TODAY = datetime.now(UTC).date()


# ------------------------------------------------------------------ helpers
def field_names(answer: requests.Response) -> list[str]:
    return [e["field"] for e in answer.json().get("errors", [])]


def decided(page: requests.Response, outcome: str) -> bool:
    return page.status_code == 200 and f"data-outcome='{outcome}'" in page.text


def campaign_body(name: str, unit: str, rules: list[dict[str, Any]], auto_approve_below: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name}: the rewards story's own campaign.",
        "starts_on": (TODAY - timedelta(days=1)).isoformat(),
        "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "unit": unit,
        "budget": 10_000_000,
        "auto_approve_below": auto_approve_below,
        "rules": rules,
    }


def won_deal(people: People, seller: Session, partner: Partner, product: str, amount: int) -> str:
    body = factories.deal_body(None, amount=amount) | {"products": [product]}
    receipt = register(people, Partner(partner.partner_id, seller, partner.domain, seller.email), body)
    deal_id = str(receipt["deal_id"])
    wait_for_deal(people, seller, deal_id, "approved")
    answer = win(people, seller, deal_id, amount)
    assert answer.status_code == 200, answer.text
    return deal_id


def ledger(people: People, partner_id: str, email: str, unit: str) -> list[dict[str, Any]]:
    """The person's account entries, oldest first, as the rewards table holds them (no route lists raw entries)."""
    from shared.dynamo import from_item

    answer = people.stack.client("dynamodb").query(
        TableName=people.stack.resource("RewardsTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"LEDGER#{partner_id}#{email.lower()}#{unit}"}},
        ConsistentRead=True,
    )
    return [from_item(item) for item in answer["Items"]]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def vendor(people: People) -> Session:
    return vendor_admin(people, name="Incentives Admin")


@pytest.fixture(scope="module")
def campaigns(people: People, vendor: Session) -> Iterator[dict[str, dict[str, Any]]]:
    """A cash campaign (USD per won deal with the cash SKU) and a points one (per won deal with the points SKU, and a
    SPIFF claimed with proof), closed again after the module so other stories' wins earn nothing under them."""
    ensure_products(people)
    tag = uuid.uuid4().hex[:6]
    made: dict[str, dict[str, Any]] = {}
    for key, body in (
        (
            "cash",
            campaign_body(
                f"Story cash {tag}",
                "USD",
                [{"kind": "deal_won_per_sku", "sku": CASH_SKU, "amount": CASH_REWARD}],
                AUTO_APPROVE_BELOW,
            ),
        ),
        (
            "points",
            campaign_body(
                f"Story points {tag}",
                "points",
                [
                    {"kind": "deal_won_per_sku", "sku": POINTS_SKU, "amount": POINTS_REWARD},
                    {"kind": "spiff_claim", "amount": SPIFF, "description": "Joint webinar with the attendee list"},
                ],
                100_000,
            ),
        ),
    ):
        answer = people.api("POST", "/rewards/campaigns", session=vendor, json=body)
        assert answer.status_code == 201, answer.text
        made[key] = answer.json()
    yield made
    for campaign in made.values():
        people.api("POST", f"/rewards/campaigns/{campaign['campaign_id']}/close", session=vendor, json={})


@pytest.fixture(scope="module")
def partner(people: People, campaigns: dict[str, Any]) -> Partner:
    return onboard_for_deals(people, company="Rewards Resellers Ltd")


@pytest.fixture(scope="module")
def seller(people: People, partner: Partner) -> Session:
    """A partner user (not an admin): the person who registers the deals and earns."""
    return invite_and_sign_in(people, partner, f"rita.rep@{partner.domain}", "Rita Rep")


# ------------------------------------------------------------------ the story
def test_a_won_deal_earns_is_approved_by_link_redeemed_batched_and_paid(
    people: People,
    events: EventCapture,
    vendor: Session,
    campaigns: dict[str, Any],
    partner: Partner,
    seller: Session,
) -> None:
    cash = campaigns["cash"]["campaign_id"]
    open_to_me = people.api("GET", "/rewards/campaigns", session=seller)
    assert open_to_me.status_code == 200, open_to_me.text
    [shown] = [c for c in open_to_me.json()["items"] if c["campaign_id"] == cash]
    assert shown["rules"][0]["in_words"] and "budget" not in shown  # rules in plain words; no vendor bookkeeping

    deal_id = won_deal(people, seller, partner, CASH_SKU, 1_500_000)
    pending = reward_of(people, seller, deal_id, cash, "pending")
    assert pending["amount"] == CASH_REWARD and pending["unit"] == "USD"
    earned = events.wait_for("RewardEarned", partner_id=partner.partner_id)
    validate(earned)
    assert balance(mine(people, seller), "USD")["pending"] == CASH_REWARD

    # the incentives approver's email: a GET is a confirmation page only, the POST decides, once
    mail = approval_mail(people, REWARDS_APPROVER, f"reward-{pending['id']}")
    assert seller.email in mail["body"]
    link = people.links(mail)["approve"]
    page = people.http.get(link, timeout=30)
    assert page.status_code == 200 and "<form" in page.text
    assert reward_of(people, seller, deal_id, cash, "pending")  # the page decided nothing
    assert decided(people.decide(link), "approved")
    again = people.decide(link)
    assert again.status_code == 409, again.text  # decided once
    reward_of(people, seller, deal_id, cash, "available")  # no waiting days: approved and available at once
    validate(events.wait_for("RewardApproved", partner_id=partner.partner_id))
    usd = balance(mine(people, seller), "USD")
    assert (usd["available"], usd["pending"]) == (CASH_REWARD, 0)

    # the user redeems a payout; finance approves it by link
    refused = redeem_payout(people, seller, CASH_REWARD + 1)
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_balance", refused.text
    assert field_names(refused) == ["amount"], refused.text
    answer = redeem_payout(people, seller, PAYOUT)
    assert answer.status_code == 201, answer.text
    payout = answer.json()
    assert payout["status"] == "requested" and payout["amount"] == {"amount": PAYOUT, "unit": "USD"}
    validate(events.wait_for("RedemptionRequested", redemption_id=payout["redemption_id"]))
    usd = balance(mine(people, seller), "USD")
    assert usd["available"] == CASH_REWARD - PAYOUT and usd["reserved"] == PAYOUT
    assert decided(decide_payout(people, payout["redemption_id"]), "approved")
    wait_for_redemption(people, seller, payout["redemption_id"], "approved")

    # a vendor admin batches approved payouts into a CSV, downloads it and marks the batch paid
    answer = people.api("POST", "/rewards/payout-batches", session=vendor, json={})
    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert payout["redemption_id"] in batch["payout_ids"]
    answer = people.api("GET", f"/rewards/payout-batches/{batch['batch_id']}", session=vendor)
    assert answer.status_code == 200, answer.text
    download = requests.get(answer.json()["download"]["url"], timeout=30)
    assert download.status_code == 200, download.text
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    [row] = [r for r in rows if r["payee_email"] == seller.email.lower()]  # one row per payee and currency
    assert row == {
        "partner_id": partner.partner_id,
        "company_name": "Rewards Resellers Ltd",
        "payee_email": seller.email.lower(),
        "currency": "USD",
        "total": "150.00",
        "total_minor": str(PAYOUT),
        "count": "1",
        "payout_ids": payout["redemption_id"],
    }, rows
    partner_only = people.api("GET", f"/rewards/payout-batches/{batch['batch_id']}", session=seller)
    assert partner_only.status_code == 403, partner_only.text

    answer = people.api("POST", f"/rewards/payout-batches/{batch['batch_id']}/paid", session=vendor, json={})
    assert answer.status_code == 200 and answer.json()["status"] == "paid", answer.text
    repeat = people.api("POST", f"/rewards/payout-batches/{batch['batch_id']}/paid", session=vendor, json={})
    assert repeat.status_code == 200 and repeat.json()["status"] == "paid", repeat.text  # a repeat changes nothing
    paid = wait_for_redemption(people, seller, payout["redemption_id"], "paid")
    assert paid["batch_id"] == batch["batch_id"]
    validate(events.wait_for("PayoutPaid", redemption_id=payout["redemption_id"]))
    [email] = people.wait_for_mail(people.to(seller.email, subject="Payout paid"), timeout=60)
    assert "150.00" in email["subject"]
    usd = balance(mine(people, seller), "USD")
    assert (usd["available"], usd["reserved"], usd["paid"]) == (CASH_REWARD - PAYOUT, 0, PAYOUT)
    lines = mine(people, seller)["items"]
    assert any(line.get("redemption_id") == payout["redemption_id"] and line["status"] == "paid" for line in lines)

    # the payout spent part of the reward (oldest rewards are paid first): this one partly, its rest still available
    def spread(rewards: dict[str, Any]) -> bool:
        return any(r["paid_amount"] == PAYOUT for r in rewards_of(rewards, source_id=deal_id, campaign_id=cash))

    [line] = rewards_of(wait_for(people, seller, spread, what="the payout spread"), source_id=deal_id, campaign_id=cash)
    assert (line["status"], line["paid_amount"], line["paid_at"]) == ("available", PAYOUT, None), line


def test_a_reversed_win_claws_back_and_a_negative_balance_blocks_redemption_until_a_claim_earns_it_back(
    people: People,
    events: EventCapture,
    vendor: Session,
    campaigns: dict[str, Any],
    partner: Partner,
    seller: Session,
) -> None:
    points = campaigns["points"]["campaign_id"]
    item = ensure_item(
        people,
        vendor,
        {
            "name": f"Story hoodie {uuid.uuid4().hex[:6]}",
            "description": "A hoodie.",
            "cost_points": ITEM_COST,
            "stock": 5,
        },
    )
    deal_id = won_deal(people, seller, partner, POINTS_SKU, 900_000)
    reward = reward_of(people, seller, deal_id, points, "available")  # below the auto-approval amount: at once
    assert reward["amount"] == POINTS_REWARD
    answer = people.api(
        "POST", "/rewards/redemptions", session=seller, json={"kind": "item", "item_id": item["item_id"]}
    )
    assert answer.status_code == 201, answer.text
    assert balance(mine(people, seller), "points")["available"] == POINTS_REWARD - ITEM_COST == 0

    # the vendor withdraws the win: the reward is reversed although it was spent
    refused = people.api("POST", f"/deals/{deal_id}/won/reversal", session=seller, json={"reason": "Booked twice."})
    assert refused.status_code == 403, refused.text
    reason = "The order was cancelled by the customer within 30 days."
    answer = people.api("POST", f"/deals/{deal_id}/won/reversal", session=vendor, json={"reason": reason})
    assert answer.status_code == 200, answer.text
    reversed_reward = reward_of(people, seller, deal_id, points, "reversed")
    assert reversed_reward["status_reason"] == reason
    validate(events.wait_for("RewardReversed", partner_id=partner.partner_id))
    entries = ledger(people, partner.partner_id, seller.email, "points")
    last = entries[-1]
    assert last["kind"] == "reversed" and last["amount"] == POINTS_REWARD, last
    assert balance(mine(people, seller), "points")["available"] == -POINTS_REWARD
    [mail] = people.wait_for_mail(people.to(seller.email, subject="was reversed"), timeout=60)
    assert reason in mail["body"]

    # a negative balance refuses a redemption, naming the field
    answer = people.api(
        "POST", "/rewards/redemptions", session=seller, json={"kind": "item", "item_id": item["item_id"]}
    )
    assert answer.status_code == 409 and answer.json()["code"] == "insufficient_balance", answer.text
    assert field_names(answer) == ["amount"], answer.text
    assert balance(mine(people, seller), "points")["reserved"] == ITEM_COST  # nothing more was reserved

    # a SPIFF claim with a proof file, approved by the reviewer's link, earns it back
    spiff_rule = next(r for r in campaigns["points"]["rules"] if r["kind"] == "spiff_claim")
    upload = people.api(
        "POST",
        "/rewards/claims/uploads",
        session=seller,
        json={"file_name": "attendees.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)},
    )
    assert upload.status_code == 201, upload.text
    stored = post_file(upload.json()["upload"], PDF, "attendees.pdf", "application/pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    body = {
        "campaign_id": points,
        "rule_id": spiff_rule["rule_id"],
        "description": "Joint webinar with Contoso's security team, 48 attendees.",
        "proof_files": [upload.json()["file_id"]],
    }
    answer = people.api("POST", "/rewards/claims", session=seller, json=body)
    assert answer.status_code == 201, answer.text
    claim = answer.json()
    mail = approval_mail(people, REWARDS_APPROVER, f"claim-{claim['claim_id']}-1-0")
    assert "attendees.pdf" in mail["body"]
    [proof] = [unescape(h) for h in re.findall(r"href='([^']*/rewards/claims/[^']*/review[^']*)'", mail["body"])]
    redirect = people.http.get(proof, allow_redirects=False, timeout=30)  # the reviewer opens the proof file
    assert redirect.status_code == 302, redirect.text
    assert requests.get(redirect.headers["Location"], timeout=30).content == PDF
    tampered = people.http.get(proof.replace("signature=", "signature=0"), allow_redirects=False, timeout=30)
    assert tampered.status_code == 403, tampered.text
    assert decided(people.decide(people.links(mail)["approve"]), "approved")

    def earned_back(rewards: dict[str, Any]) -> bool:
        return any(r["status"] == "available" for r in rewards_of(rewards, source_id=claim["claim_id"]))

    rewards = wait_for(people, seller, earned_back, what="the approved claim earned nothing")
    answer = people.api("GET", f"/rewards/claims/{claim['claim_id']}", session=seller)
    assert answer.status_code == 200 and answer.json()["status"] == "approved", answer.text
    people.wait_for_mail(people.to(seller.email, subject="Claim approved"), timeout=60)
    assert balance(rewards, "points")["available"] == SPIFF - POINTS_REWARD
    answer = people.api(
        "POST", "/rewards/redemptions", session=seller, json={"kind": "item", "item_id": item["item_id"]}
    )
    assert answer.status_code == 201, answer.text
    assert wait_for_deal(people, seller, deal_id, "win_reversed")
