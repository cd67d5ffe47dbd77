"""Rewards' spending half against moto, provisioned from template.yaml: a payout from request to paid (finance decides
by the approvals service's link, the tax-form hold and its release, a batch CSV in the rewards bucket, mark paid and
the payee's email), catalogue items (the last one goes to one person), and a SPIFF claim with proof files (magic bytes
checked, the reviewer's signed proof link, returned for more proof, approved: a reward earned with source "claim")."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest

from tests.integration.conftest import Stack
from tests.integration.test_rewards_earning import VENDOR, Rewards, person
from tests.support.factories import bus_envelope

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# The stack's approvals remind, escalate and lapse every 2 seconds; a loaded test machine can take longer than that
# between a request and the decision, so the rewards functions here start their workflows with a minute each.
UNHURRIED = {"REMINDER_SECONDS": "60", "ESCALATION_SECONDS": "60", "EXPIRY_SECONDS": "60"}


class Spending:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rewards = Rewards(stack)
        self.rewards.api = stack.load("RewardsApiFunction", "rewards.api", **UNHURRIED)
        self.rewards.consumers = stack.load("RewardsEventsFunction", "rewards.consumers", **UNHURRIED)
        self.approvals_api = stack.load("ApprovalsApiFunction", "approvals.api")
        self.requests = stack.load("ApprovalRequestsFunction", "approvals.requests")
        self.decisions = stack.load("ApprovalDecisionsFunction", "approvals.decisions")

    def call(self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
        return self.rewards.call(method, path, params, **kwargs)

    def person(self, partner_id: str, name: str = "ann") -> dict[str, str]:
        """A partner user who accepted the programme agreement, if an earlier test published one (the gate)."""
        from contracts.onboarding_agreement_gate import PK

        who = person(partner_id, name)
        if self.stack.accept_projected_agreement("RewardsTable", "RewardsPartnersQueue", who):
            current = self.rewards.item(PK, "CURRENT")
            assert current is not None
            accepted = f"ACCEPTED#{current['version']}#{who['sub']}"
            self.rewards.flush(until=lambda: self.rewards.item(PK, accepted) is not None)
        return who

    def earn(self, partner_id: str, who: dict[str, str], amount: int, unit: str = "USD") -> None:
        """An available balance for `who`: a won deal under a campaign that approves it at once."""
        campaign = self.rewards.campaign(
            unit=unit, auto_approve_below=amount + 1, rules=[{"kind": "deal_won_fixed", "amount": amount}]
        )
        self.rewards.won(partner_id, f"deal_{uuid.uuid4().hex[:8]}", who["email"])
        self.rewards.flush(
            until=lambda: any(r["status"] == "available" for r in self.rewards.rewards_of(campaign["campaign_id"]))
        )
        self.rewards.close_all()

    def redemption(self, redemption_id: str) -> dict[str, Any]:
        item = self.rewards.item(f"REDEMPTION#{redemption_id}", "REDEMPTION")
        assert item is not None
        return item

    def decide(self, approval_id: str, approver: str, decision: str, until: Any, reason: str = "") -> dict[str, str]:
        """Deliver the workflow's approval request, take `decision` by the approver's link, and run everything until
        `until()` holds; returns the links of the approval email."""
        from tests.integration.test_approvals_workflow import deliver_requests, links_for, page

        # generous: the approvals queue also carries every earlier test's workflows (reminding every 2 seconds)
        deadline = time.monotonic() + 90
        delivered: list[dict[str, Any]] = []
        while not delivered:
            assert time.monotonic() < deadline, f"no approval request {approval_id}"
            self.rewards.flush()
            delivered = deliver_requests(self.stack, self.requests, {"approval_id": approval_id}, timeout=1)
        links = links_for(self.stack, approval_id, approver)
        status, html = page(
            self.stack, self.approvals_api, "POST", links[decision], {"reason": reason} if reason else {}
        )
        assert status == 200, html
        deadline = time.monotonic() + 90
        while not until():
            assert time.monotonic() < deadline, f"the decision on {approval_id} did not reach rewards"
            self.stack.deliver("ApprovalRequestsQueue", self.requests.handler)
            self.stack.pump_stream("ApprovalsTable", self.decisions.handler)
            self.rewards.flush()
            time.sleep(0.1)
        return links


@pytest.fixture(scope="module")
def spending(stack: Stack) -> Spending:
    return Spending(stack)


@pytest.fixture(autouse=True)
def closed_after(spending: Spending) -> Iterator[None]:
    yield
    spending.rewards.close_all()


def listed_payouts(spending: Spending, status: str) -> list[dict[str, Any]]:
    """Every payout on a vendor list, page by page (two a page, so the cursor is used)."""
    found: list[dict[str, Any]] = []
    query = {"status": status, "limit": "2"}
    while True:
        code, page = spending.call("GET", "/rewards/payouts", query=query, claims=VENDOR)
        assert code == 200, page
        found += page["items"]
        if not page["next_cursor"]:
            return found
        query["cursor"] = page["next_cursor"]


def test_a_payout_is_approved_held_for_a_tax_form_batched_and_paid(spending: Spending, stack: Stack) -> None:
    partner_id = spending.rewards.onboard("US")
    ann = spending.person(partner_id)
    spending.earn(partner_id, ann, 100_000)
    finance = stack.env("RewardsEventsFunction")["FINANCE_APPROVER_EMAIL"]

    status, refused = spending.call(
        "POST",
        "/rewards/redemptions",
        body={"kind": "payout", "amount": {"amount_minor": 100, "currency": "USD"}},
        claims=ann,
    )
    assert status == 400 and refused["errors"][0]["field"] == "amount.amount_minor", refused
    status, refused = spending.call(
        "POST",
        "/rewards/redemptions",
        body={"kind": "payout", "amount": {"amount_minor": 500_000, "currency": "USD"}},
        claims=ann,
    )
    assert status == 409 and refused["code"] == "insufficient_balance", refused

    status, first = spending.call(
        "POST",
        "/rewards/redemptions",
        body={"kind": "payout", "amount": {"amount_minor": 20_000, "currency": "USD"}},
        claims=ann,
    )
    assert status == 201 and first["status"] == "requested", first
    spending.decide(
        f"payout-{first['redemption_id']}",
        finance,
        "approve",
        until=lambda: spending.redemption(first["redemption_id"])["status"] == "approved",
    )

    # 20,000 approved this year + 45,000 is over the 60,000 threshold, and the partner has no tax form on file
    status, second = spending.call(
        "POST",
        "/rewards/redemptions",
        body={"kind": "payout", "amount": {"amount_minor": 45_000, "currency": "USD"}},
        claims=ann,
    )
    assert status == 201, second
    spending.decide(
        f"payout-{second['redemption_id']}",
        finance,
        "approve",
        until=lambda: spending.redemption(second["redemption_id"])["status"] == "on_hold",
    )
    assert spending.redemption(second["redemption_id"])["status_reason"] == "tax form required"

    # the vendor's list of held payouts: whose tax form to record (every partner's, Queried from one gsi2 partition)
    held = listed_payouts(spending, "on_hold")
    assert [p["redemption_id"] for p in held if p["partner_id"] == partner_id] == [second["redemption_id"]]
    [line] = [p for p in held if p["partner_id"] == partner_id]
    assert (line["payee"], line["partner_name"], line["amount"]) == (
        ann["email"],
        f"Reseller {partner_id}",
        {"amount": 45_000, "unit": "USD"},
    )
    assert (line["status"], line["status_reason"]) == ("on_hold", "tax form required") and line["requested_at"]
    assert line["status_at"]
    assert first["redemption_id"] in [p["redemption_id"] for p in listed_payouts(spending, "approved")]
    for query, field in (({"status": "paid"}, "status"), ({"status": "on_hold", "cursor": "bm9wZQ"}, "cursor")):
        status, refused = spending.call("GET", "/rewards/payouts", query=query, claims=VENDOR)
        assert status == 400 and refused["errors"][0]["field"] == field, refused
    assert spending.call("GET", "/rewards/payouts", query={"status": "on_hold"}, claims=ann)[0] == 403

    status, recorded = spending.call(
        "POST",
        "/rewards/partners/{partner_id}/tax-form",
        {"partner_id": partner_id},
        body={"reference": "W-9 2026", "received_on": "2026-01-15"},
        claims=VENDOR,
    )
    assert status == 200 and [r["redemption_id"] for r in recorded["released"]] == [second["redemption_id"]], recorded
    status, _ = spending.call(
        "POST",
        "/rewards/partners/{partner_id}/tax-form",
        {"partner_id": partner_id},
        body={"reference": "W-9", "received_on": "2026-01-15"},
        claims=ann,
    )
    assert status == 403
    assert second["redemption_id"] not in [p["redemption_id"] for p in listed_payouts(spending, "on_hold")]
    assert second["redemption_id"] in [p["redemption_id"] for p in listed_payouts(spending, "approved")]

    status, batch = spending.call("POST", "/rewards/payout-batches", body={}, claims=VENDOR)
    assert status == 201, batch
    assert set(batch["payout_ids"]) >= {first["redemption_id"], second["redemption_id"]}
    status, shown = spending.call(
        "GET", "/rewards/payout-batches/{batch_id}", {"batch_id": batch["batch_id"]}, claims=VENDOR
    )
    assert status == 200 and "X-Amz-Signature" in shown["download"]["url"], shown
    bucket = stack.ref("RewardsBucket")
    key = unquote(urlparse(shown["download"]["url"]).path).lstrip("/").removeprefix(f"{bucket}/")
    text = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["payee_email"] == ann["email"]]
    assert [(r["currency"], r["total"], r["count"]) for r in rows] == [("USD", "650.00", "2")]

    status, paid = spending.call(
        "POST", "/rewards/payout-batches/{batch_id}/paid", {"batch_id": batch["batch_id"]}, body={}, claims=VENDOR
    )
    assert status == 200 and paid["status"] == "paid", paid
    status, again = spending.call(
        "POST", "/rewards/payout-batches/{batch_id}/paid", {"batch_id": batch["batch_id"]}, body={}, claims=VENDOR
    )
    assert status == 200 and again["paid_at"] == paid["paid_at"]
    account = spending.rewards.item(f"PARTNER#{partner_id}", f"ACCOUNT#{ann['email']}#USD")
    assert account is not None and (account["available"], account["reserved"], account["paid"]) == (35_000, 0, 65_000)
    assert len(stack.outbox_events("RewardsTable", "PayoutPaid", partner_id=partner_id)) == 2

    def mailed() -> list[Any]:
        return [
            m for m in stack.sent_mail() if ann["email"] in m.destinations["ToAddresses"] and "Payout paid" in m.subject
        ]

    spending.rewards.flush(until=lambda: len(mailed()) == 2)
    status, mine = spending.call("GET", "/rewards/redemptions", claims=ann)
    assert status == 200 and {r["status"] for r in mine["items"]} == {"paid"}

    # the 650.00 paid is spread over ann's one reward of 1,000.00: partly paid, the rest still available
    def reward_line() -> dict[str, Any]:
        status, me = spending.call("GET", "/rewards/me", claims=ann)
        assert status == 200, me
        [line] = [h for h in me["items"] if h["type"] == "reward"]
        return line

    spending.rewards.flush(until=lambda: reward_line()["paid_amount"] == 65_000)
    assert (reward_line()["status"], reward_line()["paid_at"]) == ("available", None)


def test_the_last_item_goes_to_one_person(spending: Spending) -> None:
    partner_id = spending.rewards.onboard()
    ann, bob = spending.person(partner_id), spending.person(partner_id, "bob")
    spending.earn(partner_id, ann, 1_000, "points")
    spending.earn(partner_id, bob, 1_000, "points")
    status, item = spending.call(
        "POST",
        "/rewards/catalogue",
        body={"name": "Headphones", "description": "Noise cancelling", "cost_points": 600, "stock": 1},
        claims=VENDOR,
    )
    assert status == 201, item
    status, refused = spending.call(
        "POST",
        "/rewards/catalogue",
        body={"name": "Mug", "description": "x", "cost_points": 0, "stock": 1},
        claims=VENDOR,
    )
    assert status == 400 and refused["errors"][0]["field"] == "cost_points"
    status, mine = spending.call(
        "POST", "/rewards/redemptions", body={"kind": "item", "item_id": item["item_id"]}, claims=ann
    )
    assert status == 201 and mine["amount"] == {"amount": 600, "unit": "points"}, mine
    status, gone = spending.call(
        "POST", "/rewards/redemptions", body={"kind": "item", "item_id": item["item_id"]}, claims=bob
    )
    assert status == 409 and gone["code"] == "out_of_stock" and gone["errors"][0]["field"] == "item_id", gone
    status, listed = spending.call(
        "GET", "/rewards/redemptions", query={"kind": "item", "status": "requested"}, claims=VENDOR
    )
    assert status == 200 and mine["redemption_id"] in [r["redemption_id"] for r in listed["items"]]
    status, done = spending.call(
        "POST",
        "/rewards/redemptions/{redemption_id}/fulfil",
        {"redemption_id": mine["redemption_id"]},
        body={},
        claims=VENDOR,
    )
    assert status == 200 and done["status"] == "fulfilled", done
    account = spending.rewards.item(f"PARTNER#{partner_id}", f"ACCOUNT#{ann['email']}#points")
    assert account is not None and (account["available"], account["reserved"], account["paid"]) == (400, 0, 600)

    # the item's name as it was when redeemed, stored on the redemption: a later rename does not change the line
    status, renamed = spending.call(
        "PATCH", "/rewards/catalogue/{item_id}", {"item_id": item["item_id"]}, body={"name": "Earbuds"}, claims=VENDOR
    )
    assert status == 200 and renamed["name"] == "Earbuds", renamed
    status, listed = spending.call("GET", "/rewards/redemptions", claims=ann)
    assert status == 200 and [r["item_name"] for r in listed["items"]] == ["Headphones"], listed
    status, me = spending.call("GET", "/rewards/me", claims=ann)
    [line] = [h for h in me["items"] if h.get("redemption_id") == mine["redemption_id"]]
    assert status == 200 and (line["item_name"], line["item_id"]) == ("Headphones", item["item_id"]), line
    status, _ = spending.call(
        "GET",
        "/rewards/redemptions/{redemption_id}",
        {"redemption_id": mine["redemption_id"]},
        claims=spending.person("p_other", "eve"),
    )
    assert status == 404


def test_a_fulfilled_item_pays_the_rewards_its_points_came_from(spending: Spending, stack: Stack) -> None:
    partner_id = spending.rewards.onboard()
    cara = spending.person(partner_id, "cara")
    campaign = spending.rewards.campaign(
        unit="points", auto_approve_below=1_000, rules=[{"kind": "deal_won_fixed", "amount": 300}]
    )
    for _ in range(2):
        spending.rewards.won(partner_id, f"deal_{uuid.uuid4().hex[:8]}", cara["email"])
    spending.rewards.flush(
        until=lambda: [r["status"] for r in spending.rewards.rewards_of(campaign["campaign_id"])] == ["available"] * 2
    )
    status, item = spending.call(
        "POST",
        "/rewards/catalogue",
        body={"name": "Water bottle", "description": "Steel", "cost_points": 400, "stock": 5},
        claims=VENDOR,
    )
    assert status == 201, item
    status, mine = spending.call(
        "POST", "/rewards/redemptions", body={"kind": "item", "item_id": item["item_id"]}, claims=cara
    )
    assert status == 201, mine

    def rewards() -> list[dict[str, Any]]:
        status, me = spending.call("GET", "/rewards/me", claims=cara)
        assert status == 200, me
        return sorted((h for h in me["items"] if h["type"] == "reward"), key=lambda h: (h["at"], h["id"]))

    assert [r["status"] for r in rewards()] == ["available", "available"]  # redeemed, not yet spent
    status, done = spending.call(
        "POST",
        "/rewards/redemptions/{redemption_id}/fulfil",
        {"redemption_id": mine["redemption_id"]},
        body={},
        claims=VENDOR,
    )
    assert status == 200, done
    spending.rewards.flush(until=lambda: rewards()[0]["status"] == "paid")
    older, newer = rewards()
    assert (older["paid_amount"], newer["status"], newer["paid_amount"]) == (300, "available", 100)  # oldest first
    assert older["paid_at"] and older["status_at"] == older["paid_at"]
    [announced] = stack.outbox_events("RewardsTable", "RewardPaid", partner_id=partner_id)
    assert announced["reward_id"] == older["id"]

    # the older, paid reward's deal is reversed: the 300 spread over it goes to the newer one, now paid in full
    deal_of_older = older["source"]["id"]
    spending.rewards.reversed(partner_id, deal_of_older)
    spending.rewards.flush(until=lambda: [r["status"] for r in rewards()] == ["reversed", "paid"])
    account = spending.rewards.item(f"PARTNER#{partner_id}", f"ACCOUNT#{cara['email']}#points")
    assert account is not None and account["available"] == 600 - 400 - 300  # the clawback: below zero
    settled = spending.rewards.item(f"PARTNER#{partner_id}", f"SETTLED#{cara['email']}#points")
    assert settled is not None and settled["settled"] == 300  # the newer reward's 300; 100 waits for the next one

    # settling again changes nothing (the settlement's total is the condition of every write)
    again = spending.rewards.consumers.earning().settle(partner_id, cara["email"], "points")
    assert "no available reward left to cover" in again  # the 100 still owed waits for the next reward
    assert len(stack.outbox_events("RewardsTable", "RewardPaid", partner_id=partner_id)) == 2  # each reward once


def upload(
    spending: Spending, who: dict[str, str], body: bytes, name: str = "proof.pdf", content_type: str = "application/pdf"
) -> str:
    status, answer = spending.call(
        "POST",
        "/rewards/claims/uploads",
        body={"file_name": name, "content_type": content_type, "size_bytes": len(body)},
        claims=who,
    )
    assert status == 201, answer
    fields = answer["upload"]["fields"]
    # what the browser's POST to the presigned form does (in-process moto: boto3 puts the same object)
    boto3.client("s3").put_object(
        Bucket=spending.stack.ref("RewardsBucket"), Key=fields["key"], Body=body, ContentType=fields["Content-Type"]
    )
    return str(answer["file_id"])


def review_executions(stack: Stack, claim_id: str) -> list[str]:
    """The claim review executions started for a claim (Step Functions, by their deterministic names)."""
    pages = boto3.client("stepfunctions").get_paginator("list_executions")
    machine = stack.ref("RewardClaimReviewStateMachine")
    names = [e["name"] for page in pages.paginate(stateMachineArn=machine) for e in page["executions"]]
    return sorted(n for n in names if n.startswith(f"claim-{claim_id}-"))


def test_a_claim_with_proof_is_returned_for_more_and_then_approved_earning_its_reward(
    spending: Spending, stack: Stack
) -> None:
    partner_id = spending.rewards.onboard()
    ann = spending.person(partner_id)
    campaign = spending.rewards.campaign(
        unit="points",
        auto_approve_below=10_000,
        rules=[{"kind": "spiff_claim", "amount": 300, "description": "Host a demo day"}],
    )
    rule_id = campaign["rules"][0]["rule_id"]
    reviewer = stack.env("RewardsEventsFunction")["APPROVER_EMAIL"]

    fake = upload(spending, ann, b"MZ\x90\x00 this is an executable")
    status, refused = spending.call(
        "POST",
        "/rewards/claims",
        body={
            "campaign_id": campaign["campaign_id"],
            "rule_id": rule_id,
            "description": "Demo day",
            "proof_files": [fake],
        },
        claims=ann,
    )
    assert status == 400 and refused["errors"][0]["field"] == "proof_files.0", refused
    assert "not a valid PDF" in refused["errors"][0]["message"]

    first = upload(spending, ann, PDF)
    status, claim = spending.call(
        "POST",
        "/rewards/claims",
        body={
            "campaign_id": campaign["campaign_id"],
            "rule_id": rule_id,
            "description": "Demo day, 40 guests",
            "proof_files": [first],
        },
        claims=ann,
    )
    assert status == 201 and claim["status"] == "submitted", claim
    claim_id = claim["claim_id"]
    assert review_executions(stack, claim_id) == []  # the POST started nothing: the review starts from the event
    (event,) = stack.outbox_events("RewardsTable", "RewardClaimSubmitted", claim_id=claim_id)
    assert (event["round"], event["person_email"], event["amount"]) == (
        1,
        ann["email"],
        {"amount": 300, "unit": "points"},
    )
    spending.rewards.flush(until=lambda: review_executions(stack, claim_id) == [f"claim-{claim_id}-1-0"])
    redelivered = bus_envelope("prm.rewards", "RewardClaimSubmitted", event)
    republished = bus_envelope("prm.rewards", "RewardClaimSubmitted", event | {"event_id": "evt_" + "9" * 26})
    for envelope in (redelivered, redelivered, republished):
        boto3.client("sqs").send_message(QueueUrl=stack.ref("RewardsEventsQueue"), MessageBody=json.dumps(envelope))
    spending.rewards.flush()
    assert review_executions(stack, claim_id) == [f"claim-{claim_id}-1-0"]  # one execution however often delivered

    def claim_status() -> str:
        item = spending.rewards.item(f"CLAIM#{claim_id}", "CLAIM")
        assert item is not None
        return str(item["status"])

    links = spending.decide(
        f"claim-{claim_id}-1-0",
        reviewer,
        "return",
        until=lambda: claim_status() == "returned",
        reason="Add the guest list",
    )
    proof = urlparse(links["download"])  # the reviewer's signed proof link in the review email
    query = {k: v[0] for k, v in parse_qs(proof.query).items()}
    params = {"claim_id": claim_id, "file_id": first}
    status, _, headers = stack.call(
        spending.rewards.api.app, "GET", "/rewards/claims/{claim_id}/proofs/{file_id}/review", params, query=query
    )
    assert status == 302 and "X-Amz-Signature" in headers["Location"]
    status, _, _ = stack.call(
        spending.rewards.api.app,
        "GET",
        "/rewards/claims/{claim_id}/proofs/{file_id}/review",
        params,
        query=query | {"approver": "someone@else.example"},
    )
    assert status == 403

    more = upload(spending, ann, b"name,email\nAda,ada@guest.example\n", "guests.csv", "text/csv")  # a list, as CSV
    status, again = spending.call(
        "POST",
        "/rewards/claims/{claim_id}/resubmit",
        {"claim_id": claim_id},
        body={"proof_files": [first, more]},
        claims=ann,
    )
    assert status == 200 and again["round"] == 2, again
    spending.decide(f"claim-{claim_id}-2-0", reviewer, "approve", until=lambda: claim_status() == "approved")
    spending.rewards.flush(until=lambda: bool(spending.rewards.rewards_of(campaign["campaign_id"])))
    [reward] = spending.rewards.rewards_of(campaign["campaign_id"])
    assert (reward["source"]["kind"], reward["source"]["id"], reward["amount"]) == ("claim", claim_id, 300)
    subjects = [m.subject for m in stack.sent_mail() if ann["email"] in m.destinations["ToAddresses"]]
    assert any("More proof needed" in s for s in subjects) and any("Claim approved" in s for s in subjects)
