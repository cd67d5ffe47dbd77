"""What needs vendor staff's attention, against moto through the rewards handler: `GET /rewards/rewards` (rewards by
status from gsi2, newest first, by campaign, paged), and the actions on its rows: hold, release a hold
(`POST /rewards/{reward_id}/release`, back to the approver; a new approval round when the first lapsed during the
hold, started by the events function on RewardHoldReleased), decline a held reward with a reason
(`POST /rewards/{reward_id}/decline`). Partner users get 403, bad input 400 naming the field."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from tests.integration.conftest import Stack
from tests.integration.test_rewards_earning import VENDOR, Rewards, closed_after, person, rewards

__all__ = ["closed_after", "rewards"]  # the fixtures, shared with the earning tests

BIG = 50_000  # above the campaign's auto-approval amount: the reward waits for its approver


def _pending(rewards: Rewards, count: int) -> tuple[str, dict[str, Any], dict[str, str], list[str]]:
    partner_id = rewards.onboard()
    ann = person(partner_id)
    campaign = rewards.campaign(rules=[{"kind": "deal_won_fixed", "amount": BIG}])
    for _ in range(count):
        rewards.won(partner_id, f"deal_{uuid.uuid4().hex[:8]}", ann["email"])
    rewards.flush(until=lambda: len(rewards.rewards_of(campaign["campaign_id"])) == count)
    found = sorted(rewards.rewards_of(campaign["campaign_id"]), key=lambda r: (r["earned_at"], r["reward_id"]))
    assert all(r["status"] == "pending" for r in found)
    return partner_id, campaign, ann, [r["reward_id"] for r in found]


def _listed(rewards: Rewards, status: str, campaign_id: str, **params: str) -> tuple[int, Any]:
    return rewards.call(
        "GET", "/rewards/rewards", claims=VENDOR, query={"status": status, "campaign_id": campaign_id} | params
    )


def _act(rewards: Rewards, action: str, reward_id: str, **kwargs: Any) -> tuple[int, Any]:
    return rewards.call("POST", f"/rewards/{{reward_id}}/{action}", {"reward_id": reward_id}, **kwargs)


def test_vendor_staff_list_rewards_by_status_and_act_on_the_rows(rewards: Rewards) -> None:
    partner_id, campaign, ann, rids = _pending(rewards, 3)
    cid = campaign["campaign_id"]
    status, first = _listed(rewards, "pending", cid, limit="2")
    assert status == 200, first
    assert [i["reward_id"] for i in first["items"]] == [rids[2], rids[1]] and first["next_cursor"]
    row = first["items"][0]
    assert row["partner"] == {"partner_id": partner_id, "name": f"Reseller {partner_id}"}
    assert (row["person_email"], row["campaign_name"], row["rule"]) == (
        ann["email"],
        campaign["name"],
        "500.00 USD for each won deal",
    )
    assert row["source"]["kind"] == "deal" and (row["amount"], row["unit"], row["status"]) == (BIG, "USD", "pending")
    assert row["earned_at"] and row["status_at"] and "approver" in row["next_step"]
    status, rest = _listed(rewards, "pending", cid, limit="2", cursor=first["next_cursor"])
    assert status == 200 and [i["reward_id"] for i in rest["items"]] == [rids[0]] and rest["next_cursor"] is None

    # hold one, then release it (no body): pending again, one `unheld` entry, RewardHoldReleased published
    status, held = _act(rewards, "hold", rids[0], body={"reason": "Waiting for the purchase order"}, claims=VENDOR)
    assert status == 200 and held["status"] == "on_hold", held
    status, on_hold = _listed(rewards, "on_hold", cid)
    assert [i["reward_id"] for i in on_hold["items"]] == [rids[0]]
    assert on_hold["items"][0]["status_reason"] == "Waiting for the purchase order"
    assert "release" in on_hold["items"][0]["next_step"]
    status, released = _act(rewards, "release", rids[0], claims=VENDOR)
    assert status == 200 and (released["status"], released["approval_round"]) == ("pending", 1), released
    status, again = _act(rewards, "release", rids[0], body={}, claims=VENDOR)
    assert status == 200 and again["history"] == released["history"]  # a repeat changes nothing
    ledger = rewards.stack.items("RewardsTable")
    kinds = sorted(
        (i["seq"], i["kind"])
        for i in ledger
        if i.get("entity") == "ledger_entry" and i["person_email"] == ann["email"] and i["partner_id"] == partner_id
    )
    assert [k for _, k in kinds] == ["earned", "earned", "earned", "held", "unheld"]
    events = rewards.stack.outbox_events("RewardsTable", "RewardHoldReleased", reward_id=rids[0])
    assert len(events) == 1 and events[0]["approval_restarted"] is False

    # hold another and decline it with a reason: the budget comes back, the row moves to `declined`
    _act(rewards, "hold", rids[1], body={"reason": "Duplicate registration?"}, claims=VENDOR)
    status, declined = _act(rewards, "decline", rids[1], body={"reason": "Duplicate of an earlier deal"}, claims=VENDOR)
    assert status == 200 and (declined["status"], declined["status_reason"]) == (
        "declined",
        "Duplicate of an earlier deal",
    )
    status, listed = _listed(rewards, "declined", cid)
    assert [i["reward_id"] for i in listed["items"]] == [rids[1]]
    assert listed["items"][0]["status_reason"] == "Duplicate of an earlier deal"
    status, after = rewards.call("GET", "/rewards/campaigns/{campaign_id}", {"campaign_id": cid}, claims=VENDOR)
    assert after["committed"] == 2 * BIG
    assert rewards.stack.outbox_events("RewardsTable", "RewardDeclined", reward_id=rids[1])
    status, pending = _listed(rewards, "pending", cid)
    assert sorted(i["reward_id"] for i in pending["items"]) == sorted([rids[0], rids[2]])
    # the approver's link decides pending ones: vendor staff decline only held ones
    status, refused = _act(rewards, "decline", rids[2], body={"reason": "no"}, claims=VENDOR)
    assert status == 409, refused
    # the unfiltered list has them too, newest first
    status, everyone = rewards.call(
        "GET", "/rewards/rewards", claims=VENDOR, query={"status": "pending", "limit": "50"}
    )
    assert status == 200 and {i["status"] for i in everyone["items"]} == {"pending"}
    earned = [i["earned_at"] for i in everyone["items"]]
    assert earned == sorted(earned, reverse=True)


def test_a_hold_that_outlasts_its_approval_asks_the_approver_again_on_release(rewards: Rewards, stack: Stack) -> None:
    _, campaign, _, (rid,) = _pending(rewards, 1)
    _act(rewards, "hold", rid, body={"reason": "Customer PO pending"}, claims=VENDOR)
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("RewardsWorkflowQueue"),
        MessageBody=json.dumps({"message_type": "RewardApprovalExpired", "reward_id": rid}),
    )
    rewards.flush(until=lambda: (rewards.item(f"REWARD#{rid}", "REWARD") or {}).get("approval_lapsed"))
    reward = rewards.item(f"REWARD#{rid}", "REWARD")
    assert reward is not None and (reward["status"], reward["status_reason"]) == ("on_hold", "Customer PO pending")
    status, listed = _listed(rewards, "on_hold", campaign["campaign_id"])
    assert listed["items"][0]["approval_lapsed"] is True and "lapsed" in listed["items"][0]["next_step"]
    status, released = _act(rewards, "release", rid, body={}, claims=VENDOR)
    assert status == 200 and (released["status"], released["approval_round"]) == ("pending", 2), released
    sfn = boto3.client("stepfunctions")
    machine = stack.ref("RewardApprovalStateMachine")

    def asked_again() -> bool:
        names = {e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
        return f"reward-{rid}-r2" in names

    rewards.flush(until=asked_again)
    assert asked_again()
    events = stack.outbox_events("RewardsTable", "RewardHoldReleased", reward_id=rid)
    assert len(events) == 1 and events[0]["approval_restarted"] is True


def test_partners_get_403_and_bad_input_400_naming_the_field(rewards: Rewards) -> None:
    partner_id, _, ann, (rid,) = _pending(rewards, 1)
    for claims in (ann, person(partner_id, "boss", admin=True)):
        status, body = rewards.call("GET", "/rewards/rewards", claims=claims, query={"status": "pending"})
        assert status == 403 and body["code"] != "agreement_required", body  # refused for who they are
        for action, sent in (("release", {}), ("decline", {"reason": "x"}), ("decline", {"nonsense": 1})):
            status, body = _act(rewards, action, rid, body=sent, claims=claims)
            assert status == 403 and body["code"] != "agreement_required", body
        assert _act(rewards, "hold", rid, body={}, claims=claims)[0] == 403
    status, mine = rewards.call("GET", "/rewards/me", claims=ann)
    assert status == 200 and mine["items"][0]["status"] == "pending"  # untouched
    bad_queries = [
        ({}, "status"),
        ({"status": "available"}, "status"),
        ({"status": "pending", "cursor": "not-a-cursor"}, "cursor"),
        ({"status": "pending", "campaign_id": "nope"}, "campaign_id"),
        ({"status": "pending", "limit": "0"}, "limit"),
    ]
    for query, field in bad_queries:
        status, body = rewards.call("GET", "/rewards/rewards", claims=VENDOR, query=query)
        assert status == 400 and body["errors"][0]["field"] == field, (query, body)
    # a cursor of another status's list is refused too
    _, other = rewards.call("GET", "/rewards/rewards", claims=VENDOR, query={"status": "approved", "limit": "1"})
    if other["next_cursor"]:
        status, body = rewards.call(
            "GET", "/rewards/rewards", claims=VENDOR, query={"status": "pending", "cursor": other["next_cursor"]}
        )
        assert status == 400 and body["errors"][0]["field"] == "cursor"
    status, body = _act(rewards, "decline", rid, body={}, claims=VENDOR)
    assert status == 400 and body["errors"][0]["field"] == "reason"
    status, body = _act(rewards, "release", rid, body={"why": "x"}, claims=VENDOR)
    assert status == 400 and body["errors"][0]["field"] == "why"
    status, body = _act(rewards, "release", "nope", body={}, claims=VENDOR)
    assert status == 400 and body["errors"][0]["field"] == "reward_id"
    assert _act(rewards, "release", "rwd_" + "0" * 32, body={}, claims=VENDOR)[0] == 404
    assert _act(rewards, "decline", "rwd_" + "0" * 32, body={"reason": "x"}, claims=VENDOR)[0] == 404


def test_closing_a_campaign_accepts_no_body_or_an_empty_object(rewards: Rewards) -> None:
    first, second = rewards.campaign(), rewards.campaign()
    close = "/rewards/campaigns/{campaign_id}/close"
    status, closed = rewards.call("POST", close, {"campaign_id": first["campaign_id"]}, claims=VENDOR)
    assert status == 200 and closed["status"] == "closed", closed
    status, closed = rewards.call("POST", close, {"campaign_id": second["campaign_id"]}, body={}, claims=VENDOR)
    assert status == 200 and closed["status"] == "closed", closed
    status, again = rewards.call("POST", close, {"campaign_id": first["campaign_id"]}, claims=VENDOR)
    assert status == 200 and again["status"] == "closed"
    status, body = rewards.call("POST", close, {"campaign_id": first["campaign_id"]}, body={"x": 1}, claims=VENDOR)
    assert status == 400 and body["errors"][0]["field"] == "x"
    status, body = rewards.call("POST", close, {"campaign_id": first["campaign_id"]}, body=[], claims=VENDOR)
    assert status == 400 and body["errors"][0]["field"] == "body"
