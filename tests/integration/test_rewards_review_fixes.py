"""Rewards against moto, the points a review found: every line of a person's history has its date (`at`) and status
date; a person's redemptions are one bounded Query however long their rewards history; claim upload records expire
(the table's TTL attribute) and a retry with the same Idempotency-Key answers the same upload; both route files
answer a malformed id and a bad `limit` by one rule; and a clawback after the payout was paid leaves a negative
balance that blocks redeeming (409 naming `amount`) until it is earned back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from rewards.models.earning import Reward, Source
from rewards.repository.earning import reward_item
from rewards.repository.redemptions import UPLOAD_TTL_ATTRIBUTE, UPLOAD_TTL_SECONDS
from shared.aws import client
from tests.integration.conftest import Stack
from tests.integration.test_rewards_earning import VENDOR
from tests.integration.test_rewards_redemptions import Spending
from tests.support.rewards_shapes import HISTORY_REDEMPTION_KEYS, HISTORY_REWARD_KEYS


@pytest.fixture(scope="module")
def spending(stack: Stack) -> Spending:
    return Spending(stack)


@pytest.fixture(autouse=True)
def closed_after(spending: Spending) -> Iterator[None]:
    yield
    spending.rewards.close_all()


class ItemsRead:
    """Items the code's DynamoDB client reads per operation (Query's ScannedCount), as benchmarks/rewards_ledger.py
    counts them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._names: list[str] = []

    def _start(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._names.append(model.name + (f"@{params['IndexName']}" if params.get("IndexName") else ""))

    def _finish(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = self._names.pop() if self._names else model.name
        read = int(parsed.get("ScannedCount", len(parsed.get("Items") or []))) if model.name == "Query" else 0
        self.calls.append((name, read))

    def __enter__(self) -> ItemsRead:
        events = client("dynamodb").meta.events
        events.register("provide-client-params.dynamodb", self._start)
        events.register("after-call.dynamodb", self._finish)
        return self

    def __exit__(self, *_: object) -> None:
        events = client("dynamodb").meta.events
        events.unregister("provide-client-params.dynamodb", self._start)
        events.unregister("after-call.dynamodb", self._finish)

    def of(self, name: str) -> int:
        return sum(read for called, read in self.calls if called == name)


def seed_rewards(spending: Spending, partner_id: str, email: str, count: int) -> None:
    """`count` (reversed) rewards of one person, stored as the earning repository stores them, all older than now."""
    now = datetime.now(UTC)
    table = boto3.resource("dynamodb").Table(spending.stack.ref("RewardsTable"))
    with table.batch_writer() as writer:
        for n in range(count):
            at = now - timedelta(days=2, seconds=n)
            reward = Reward(
                reward_id=f"rwd_{uuid.uuid4().hex}",
                campaign_id="cmp_seeded0001",
                campaign_name="Seeded",
                rule_id="r1",
                rule_words="1 point for each won deal",
                partner_id=partner_id,
                person_email=email,
                unit="points",
                amount=1,
                source=Source(kind="deal", id=f"deal_seed_{n}", revision=1),
                fact_at=at,
                status="reversed",
                status_reason="seeded history",
                status_at=at,
                earned_at=at,
            )
            item = reward_item(reward)
            item.pop("gsi2pk", None)  # history only: on no vendor list (other tests list rewards by status)
            item.pop("gsi2sk", None)
            writer.put_item(Item=item)


def earn_certified(spending: Spending, partner_id: str, who: dict[str, str], amount: int) -> None:
    """An available balance for `who` from a certification of its own (no other campaign's rule names it)."""
    rewards = spending.rewards
    certification = f"cert-{uuid.uuid4().hex[:8]}"
    campaign = rewards.campaign(
        auto_approve_below=amount + 1,
        rules=[{"kind": "certification_earned", "certification_id": certification, "amount": amount}],
    )
    now = datetime.now(UTC)
    rewards.send(
        "RewardsEventsQueue",
        "prm.training",
        "CertificationEarned",
        partner_id,
        award_id=f"awd_{uuid.uuid4().hex[:8]}",
        certification_id=certification,
        certification_name="Security",
        holder_email=who["email"],
        earned_at=now.isoformat().replace("+00:00", "Z"),
        expires_at=(now + timedelta(days=700)).isoformat().replace("+00:00", "Z"),
        renewal=False,
    )
    # available, or at once paid: a reward earned while spending waits to be covered (a clawback) is what pays it back
    rewards.flush(
        until=lambda: any(r["status"] in {"available", "paid"} for r in rewards.rewards_of(campaign["campaign_id"]))
    )
    rewards.close_all()


def redeem(spending: Spending, who: dict[str, str], amount: int) -> tuple[int, Any]:
    body = {"kind": "payout", "amount": {"amount_minor": amount, "currency": "USD"}}
    return spending.call("POST", "/rewards/redemptions", body=body, claims=who)


# ------------------------------------------------------------------ 1 + 2: history lines, bounded redemption list
def test_a_redemption_among_two_hundred_rewards_is_one_bounded_query_and_every_history_line_has_its_date(
    spending: Spending,
) -> None:
    partner_id = spending.rewards.onboard("US")
    ann = spending.person(partner_id)
    earn_certified(spending, partner_id, ann, 10_000)
    seed_rewards(spending, partner_id, ann["email"], 200)
    status, mine = redeem(spending, ann, 6_000)
    assert status == 201, mine

    with ItemsRead() as meter:
        status, listed = spending.call("GET", "/rewards/redemptions", query={"limit": "20"}, claims=ann)
    assert status == 200 and [r["redemption_id"] for r in listed["items"]] == [mine["redemption_id"]], listed
    assert listed["next_cursor"] is None
    assert meter.of("Query@gsi1") <= 20, meter.calls  # O(page), not the 201 items of the person's history

    # GET /rewards/me still lists both, newest first, each line with its date; each page reads at most 2 x limit
    lines: list[dict[str, Any]] = []
    query = {"limit": "50"}
    while True:
        with ItemsRead() as meter:
            status, page = spending.call("GET", "/rewards/me", query=query, claims=ann)
        assert status == 200, page
        assert meter.of("Query@gsi1") <= 2 * 50, meter.calls
        lines += page["items"]
        if not page["next_cursor"]:
            break
        query["cursor"] = page["next_cursor"]
    assert len(lines) == 202 and len({line.get("id") or line.get("redemption_id") for line in lines}) == 202
    assert [line["at"] for line in lines] == sorted((line["at"] for line in lines), reverse=True)
    [line] = [line for line in lines if line["type"] == "redemption"]
    assert set(line) == HISTORY_REDEMPTION_KEYS, line
    assert (line["at"], line["status_at"]) == (mine["requested_at"], mine["status_at"])
    assert all(set(line) == HISTORY_REWARD_KEYS and line["at"] for line in lines if line["type"] == "reward")
    assert lines[0]["redemption_id"] == mine["redemption_id"]  # the newest

    for bad in ("bm9wZQ", "eyJSRVdBUkQiOiJkb25lIn0"):  # not JSON; JSON without the redemption range
        status, refused = spending.call("GET", "/rewards/me", query={"cursor": bad}, claims=ann)
        assert status == 400 and refused["errors"][0]["field"] == "cursor", refused


# ------------------------------------------------------------------ 3: claim uploads
def test_a_claim_upload_expires_and_a_retry_with_the_same_key_answers_the_same_upload(spending: Spending) -> None:
    partner_id = spending.rewards.onboard("US")
    ann = spending.person(partner_id)
    body = {"file_name": "proof.pdf", "content_type": "application/pdf", "size_bytes": 1200}
    key = {"Idempotency-Key": f"upload-{uuid.uuid4().hex}"}
    status, first = spending.call("POST", "/rewards/claims/uploads", body=body, claims=ann, headers=key)
    assert status == 201, first
    status, again = spending.call("POST", "/rewards/claims/uploads", body=body, claims=ann, headers=key)
    assert status == 201 and again["file_id"] == first["file_id"], again
    status, other = spending.call(
        "POST", "/rewards/claims/uploads", body=body, claims=ann, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert status == 201 and other["file_id"] != first["file_id"]

    uploads = [i for i in spending.stack.items("RewardsTable") if i.get("entity") == "claim_upload"]
    mine = [i for i in uploads if i["partner_id"] == partner_id]
    assert sorted(i["file_id"] for i in mine) == sorted([first["file_id"], other["file_id"]])
    for item in mine:
        created = datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))
        assert int(item[UPLOAD_TTL_ATTRIBUTE]) == int(created.timestamp()) + UPLOAD_TTL_SECONDS
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=spending.stack.ref("RewardsTable"))
    assert ttl["TimeToLiveDescription"]["AttributeName"] == UPLOAD_TTL_ATTRIBUTE


# ------------------------------------------------------------------ 5: one rule for ids and limits
@pytest.mark.parametrize(
    ("method", "path", "params", "field"),
    [
        ("GET", "/rewards/campaigns/{campaign_id}", {"campaign_id": "nope"}, "campaign_id"),  # rewards.api
        ("POST", "/rewards/{reward_id}/release", {"reward_id": "nope"}, "reward_id"),
        ("GET", "/rewards/redemptions/{redemption_id}", {"redemption_id": "nope"}, "redemption_id"),  # the blueprint
        ("POST", "/rewards/redemptions/{redemption_id}/cancel", {"redemption_id": "x" * 300}, "redemption_id"),
        ("PATCH", "/rewards/catalogue/{item_id}", {"item_id": "nope"}, "item_id"),
        ("GET", "/rewards/payout-batches/{batch_id}", {"batch_id": "nope"}, "batch_id"),
        ("GET", "/rewards/claims/{claim_id}", {"claim_id": "nope"}, "claim_id"),
        (
            "GET",
            "/rewards/claims/{claim_id}/proofs/{file_id}",
            {"claim_id": "clm_" + "0" * 26, "file_id": "x"},
            "file_id",
        ),
    ],
)
def test_a_malformed_id_is_400_naming_it_on_both_route_files(
    spending: Spending, method: str, path: str, params: dict[str, str], field: str
) -> None:
    status, refused = spending.call(method, path, params, body={"reason": "x"}, claims=VENDOR)
    assert status == 400 and [e["field"] for e in refused["errors"]] == [field], refused


@pytest.mark.parametrize("path", ["/rewards/me", "/rewards/redemptions", "/rewards/claims"])
def test_limit_is_one_to_a_hundred_on_both_route_files(spending: Spending, path: str) -> None:
    ann = spending.person(spending.rewards.onboard("US"))
    for limit in ("0", "101", "ten"):
        status, refused = spending.call("GET", path, query={"limit": limit}, claims=ann)
        assert status == 400 and [e["field"] for e in refused["errors"]] == ["limit"], (limit, refused)
    for limit in ("1", "100"):
        status, answer = spending.call("GET", path, query={"limit": limit}, claims=ann)
        assert status == 200, (limit, answer)


# ------------------------------------------------------------------ 6: clawback after the payout was paid
def test_a_clawback_after_the_payout_was_paid_blocks_redeeming_until_earned_back(
    spending: Spending, stack: Stack
) -> None:
    rewards = spending.rewards
    partner_id = rewards.onboard("US")
    ann = spending.person(partner_id)
    finance = stack.env("RewardsEventsFunction")["FINANCE_APPROVER_EMAIL"]
    campaign = rewards.campaign(auto_approve_below=20_001, rules=[{"kind": "deal_won_fixed", "amount": 20_000}])
    deal_id = f"deal_{uuid.uuid4().hex[:8]}"
    rewards.won(partner_id, deal_id, ann["email"])
    rewards.flush(until=lambda: any(r["status"] == "available" for r in rewards.rewards_of(campaign["campaign_id"])))
    rewards.close_all()

    def account() -> dict[str, Any]:
        found = rewards.item(f"PARTNER#{partner_id}", f"ACCOUNT#{ann['email']}#USD")
        assert found is not None
        return found

    earned = account()["available"]  # 20,000 (and whatever else an open campaign paid for the deal)
    assert earned >= 20_000
    status, payout = redeem(spending, ann, earned)
    assert status == 201, payout
    spending.decide(
        f"payout-{payout['redemption_id']}",
        finance,
        "approve",
        until=lambda: spending.redemption(payout["redemption_id"])["status"] == "approved",
    )
    status, batch = spending.call("POST", "/rewards/payout-batches", body={}, claims=VENDOR)
    assert status == 201 and payout["redemption_id"] in batch["payout_ids"], batch
    status, paid = spending.call(
        "POST", "/rewards/payout-batches/{batch_id}/paid", {"batch_id": batch["batch_id"]}, body={}, claims=VENDOR
    )
    assert status == 200 and spending.redemption(payout["redemption_id"])["status"] == "paid", paid

    before = account()
    assert (before["available"], before["reserved"], before["paid"]) == (0, 0, earned)
    rewards.reversed(partner_id, deal_id)
    rewards.flush(until=lambda: rewards.rewards_of(campaign["campaign_id"])[0]["status"] == "reversed")
    [reward] = rewards.rewards_of(campaign["campaign_id"])
    assert reward["status_reason"] == "booked twice"
    after = account()  # every reward of the deal clawed back from `available`, though the money was paid
    assert (after["available"], after["paid"]) == (-earned, earned), after
    assert after["reversed"] - before["reversed"] == earned

    status, refused = redeem(spending, ann, 5_000)
    assert status == 409 and refused["code"] == "insufficient_balance", refused
    assert [e["field"] for e in refused["errors"]] == ["amount"]

    earn_certified(spending, partner_id, ann, earned - 5_000)  # not yet earned back: still nothing to redeem
    assert account()["available"] == -5_000
    assert redeem(spending, ann, 5_000)[0] == 409
    earn_certified(spending, partner_id, ann, 10_000)
    assert account()["available"] == 5_000

    def settled() -> int:
        item = spending.rewards.item(f"PARTNER#{partner_id}", f"SETTLED#{ann['email']}#USD")
        return int(item["settled"]) if item else 0

    rewards.flush(until=lambda: settled() == earned)  # the rewards earned back are what the payout paid
    status, again = redeem(spending, ann, 5_000)
    assert status == 201 and again["status"] == "requested", again
