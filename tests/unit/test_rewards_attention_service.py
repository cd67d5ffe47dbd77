"""What needs vendor staff's attention, on in-memory fakes: rewards listed by status (newest first, by campaign, with
the partner's name and the next step), and what can be done to them: hold a pending reward, release a hold (back to
the approver; a new approval round when the first lapsed during the hold), decline a held reward with a reason.
Every change is one conditional write with its ledger entry and event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rewards.models.earning import RewardApprovalExpired, RewardDecision
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.unit.test_rewards_service import ADMIN, ANN, BOSS, START, World, won


@pytest.fixture
def world() -> World:
    return World()


def _pending(world: World, count: int = 1, **campaign: object) -> list[str]:
    """`count` rewards above the auto-approval amount (pending), earned a minute apart; newest last."""
    world.campaign(rules=[{"kind": "deal_won_fixed", "amount": 8_000}], **campaign)
    for n in range(count):
        world.clock.now = START + timedelta(minutes=n)
        world.earning.earn(won(deal_id=f"deal_{n}"))
    return [r.reward_id for r in sorted(world.repo.rewards.values(), key=lambda r: r.earned_at)]


def test_vendor_admins_list_rewards_by_status_newest_first_with_the_next_step(world: World) -> None:
    world.repo.names["p1"] = "Acme Ltd"
    rids = _pending(world, 3)
    other = world.campaign(name="Other", rules=[{"kind": "deal_won_fixed", "amount": 9_000}])
    world.clock.now = START + timedelta(minutes=10)
    world.earning.earn(won(deal_id="deal_9"))
    expected = [r.reward_id for r in sorted(world.repo.rewards.values(), key=lambda r: (r.earned_at, r.reward_id))]
    assert len(expected) == 5  # deal_9 earns under both campaigns
    seen, cursor, pages = [], None, 0
    while True:
        page = world.api.rewards_with_status(ADMIN, "pending", campaign_id=None, limit=2, cursor=cursor)
        seen += page.lines
        pages += 1
        if not (cursor := page.cursor):
            break
    assert [line.reward.reward_id for line in seen] == expected[::-1] and pages == 3
    line = next(line for line in seen if line.reward.reward_id == rids[0])
    assert line.partner_name == "Acme Ltd" and "approver" in line.next_step
    only = world.api.rewards_with_status(ADMIN, "pending", campaign_id=other, limit=50, cursor=None)
    assert [line.reward.campaign_id for line in only.lines] == [other]
    assert world.api.rewards_with_status(ADMIN, "on_hold", campaign_id=None, limit=50, cursor=None).lines == []
    with pytest.raises(ValidationFailed) as bad:
        world.api.rewards_with_status(ADMIN, "pending", campaign_id=None, limit=2, cursor="nonsense")
    assert bad.value.errors[0].field == "cursor"
    for partner_user in (ANN, BOSS):
        with pytest.raises(Forbidden):
            world.api.rewards_with_status(partner_user, "pending", campaign_id=None, limit=2, cursor=None)


def test_a_released_hold_goes_back_to_the_approver_whose_link_still_decides(world: World) -> None:
    (rid,) = _pending(world)
    world.api.hold(ADMIN, rid, "PO missing")
    held = world.api.rewards_with_status(ADMIN, "on_hold", campaign_id=None, limit=10, cursor=None).lines
    assert [line.reward.reward_id for line in held] == [rid] and "release" in held[0].next_step
    with pytest.raises(Forbidden):
        world.api.release(ANN, rid)
    released = world.api.release(ADMIN, rid)
    assert (released.status, released.status_reason, released.approval_round) == ("pending", None, 1)
    account = world.account()
    assert (account.pending, account.on_hold) == (8_000, 0)
    assert [e.kind for e in world.repo.ledger("p1", "ann@p1.com", "USD")] == ["earned", "held", "unheld"]
    (event,) = world.repo.events("RewardHoldReleased")
    assert event.released_by == ADMIN.email and event.approval_restarted is False
    assert world.api.release(ADMIN, rid).revision == released.revision  # a repeat changes nothing
    assert "already asked" not in world.earning.hold_released(rid)
    assert list(world.workflows.approvals) == [rid]  # the running approval: no second request
    world.earning.apply_decision(
        RewardDecision(
            message_type="RewardDecision", reward_id=rid, decision="approved", decided_by="b", decided_at=START
        )
    )
    assert world.repo.rewards[rid].status == "available"
    with pytest.raises(Conflict):
        world.api.release(ADMIN, rid)  # available: nothing to release
    with pytest.raises(NotFound):
        world.api.release(ADMIN, "rwd_" + "0" * 32)


def test_a_hold_outlasts_its_approval_and_its_release_asks_the_approver_again(world: World) -> None:
    (rid,) = _pending(world)
    world.api.hold(ADMIN, rid, "Waiting for the customer's PO")
    expired = RewardApprovalExpired(message_type="RewardApprovalExpired", reward_id=rid)
    world.earning.approval_lapsed(expired)
    reward = world.repo.rewards[rid]
    assert (reward.status, reward.status_reason, reward.approval_lapsed) == (
        "on_hold",
        "Waiting for the customer's PO",
        True,
    )
    assert "lapsed already" in world.earning.approval_lapsed(expired)  # redelivered: nothing more
    assert world.account().on_hold == 8_000
    line = world.api.rewards_with_status(ADMIN, "on_hold", campaign_id=None, limit=10, cursor=None).lines[0]
    assert "lapsed" in line.next_step
    released = world.api.release(ADMIN, rid)
    assert (released.status, released.approval_round, released.approval_lapsed) == ("pending", 2, False)
    (event,) = world.repo.events("RewardHoldReleased")
    assert event.approval_restarted is True
    world.earning.hold_released(rid)
    world.earning.hold_released(rid)  # the event redelivered: one request per round
    assert sorted(world.workflows.approvals) == [rid, f"{rid}-r2"]
    world.earning.approval_lapsed(expired)  # round 2 lapses while pending: declined, saying so
    assert world.repo.rewards[rid].status == "declined"


def test_vendor_staff_decline_a_held_reward_with_a_reason_and_the_budget_comes_back(world: World) -> None:
    rid, other = _pending(world, 2)
    cid = world.repo.rewards[rid].campaign_id
    committed = world.repo.campaign(cid).committed  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        world.api.decline_held(ADMIN, rid, "not held yet")  # pending ones are the approver's (email link)
    world.api.hold(ADMIN, rid, "Duplicate registration?")
    with pytest.raises(Forbidden):
        world.api.decline_held(ANN, rid, "no")
    declined = world.api.decline_held(ADMIN, rid, "Duplicate of deal_1")
    assert (declined.status, declined.status_reason) == ("declined", "Duplicate of deal_1")
    assert [h.status for h in declined.history] == ["pending", "on_hold", "declined"]
    assert world.repo.campaign(cid).committed == committed - 8_000  # type: ignore[union-attr]
    account = world.account()
    assert (account.on_hold, account.declined, account.pending) == (0, 8_000, 8_000)
    (event,) = world.repo.events("RewardDeclined")
    assert (event.reward_id, event.reason) == (rid, "Duplicate of deal_1")
    assert world.api.decline_held(ADMIN, rid, "Duplicate of deal_1").revision == declined.revision  # a repeat
    with pytest.raises(Conflict):
        world.api.decline_held(ADMIN, rid, "another reason")
    with pytest.raises(Conflict):
        world.api.release(ADMIN, rid)
    listed = world.api.rewards_with_status(ADMIN, "declined", campaign_id=None, limit=10, cursor=None).lines
    assert [line.reward.reward_id for line in listed] == [rid] and listed[0].next_step.startswith("None")
    assert world.repo.rewards[other].status == "pending"
