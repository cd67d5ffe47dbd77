"""A reward's lifecycle and what each step books: `pending -> approved -> available`, `pending -> on_hold(reason) ->
approved | declined`, `pending -> declined(reason)`, any status but declined -> `reversed(reason)`.

Each step returns a `Transition` (the reward and account after it, the ledger entries, the events, and how much goes
back to the campaign's budget); the repository writes it in one conditional transaction. A new reward is an
`Earning` (the same, plus what it commits of the budget)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.rewards import (
    RewardAmount,
    RewardApproved,
    RewardAvailable,
    RewardDeclined,
    RewardEarned,
    RewardHeld,
    RewardHoldReleased,
    RewardReversed,
    RewardSource,
)
from rewards.domain.ledger import book
from rewards.models.earning import Account, Bucket, EntryKind, EntryReference, LedgerEntry, Reward, StatusChange
from shared.errors import Conflict
from shared.events import EventDetail

LEDGER_ACTOR = "Rewards ledger"
# The bucket of the account that holds a reward's amount in each status (None: it holds nothing any more).
BUCKET_OF: dict[str, Bucket | None] = {
    "pending": "pending",
    "on_hold": "on_hold",
    "approved": "approved",
    "available": "available",
    "paid": "available",  # spent already: a reversal claws it back from the available balance (may go below zero)
    "declined": None,
    "reversed": None,
}
LIVE = frozenset({"pending", "on_hold", "approved", "available", "paid"})  # what still counts against the budget


class InvalidRewardState(Conflict):
    def __init__(self, message: str, code: str = "invalid_state") -> None:
        super().__init__(message, code=code)


@dataclass
class Transition:
    """One step of one reward: write the reward (on `expected_revision`), the account (on `expected_seq`; None for a
    new account), the entries, the events, and give `released` back to the campaign's (and partner's) commitment."""

    reward: Reward
    account: Account
    expected_revision: int | None  # None: the reward is new
    expected_seq: int | None
    entries: list[LedgerEntry] = field(default_factory=list)
    events: list[EventDetail] = field(default_factory=list)
    released: int = 0
    schedule_available_at: datetime | None = None  # approved with waiting days: the timer to set
    outcome: str = ""
    was_available: bool = False  # it leaves `available` (its unspent marker goes with it)


@dataclass
class Earning(Transition):
    """A new reward: `committed` is added to the campaign's and the partner's commitments under their conditions;
    `reversed_at_once` when the source's tombstone was already there (the reward is earned and reversed in one go)."""

    committed: int = 0
    budget: int = 0
    per_partner_cap: int | None = None
    reversed_at_once: bool = False
    needs_approval: bool = False


def _event_fields(reward: Reward) -> dict[str, Any]:
    return {
        "reward_id": reward.reward_id,
        "campaign_id": reward.campaign_id,
        "person_email": reward.person_email,
        "amount": RewardAmount(amount=reward.amount, unit=reward.unit),
        "source": RewardSource(kind=reward.source.kind, id=reward.source.id, revision=reward.source.revision),
    }


def event(kind: type[EventDetail], reward: Reward, *, now: datetime, event_id: str, **fields: Any) -> EventDetail:
    return kind.occurred(at=now, event_id=event_id, partner_id=reward.partner_id, **_event_fields(reward), **fields)


def _status(reward: Reward, status: str, reason: str | None, by: str, now: datetime) -> Reward:
    change = StatusChange(status=status, reason=reason, at=now, by=by)
    return reward.model_copy(
        update={
            "status": status,
            "status_reason": reason,
            "status_at": now,
            "history": [*reward.history, change],
            "revision": reward.revision + 1,
        }
    )


class Step:
    """Books the steps of one reward on its account, collecting entries and events (event ids from `event_id`)."""

    def __init__(self, reward: Reward, account: Account, *, now: datetime, event_ids: list[str]) -> None:
        self.reward, self.account, self.now = reward, account, now
        self.entries: list[LedgerEntry] = []
        self.events: list[EventDetail] = []
        self._ids = iter(event_ids)

    def _book(self, kind: EntryKind, bucket: Bucket | None, actor: str, note: str) -> None:
        self.account, entry = book(
            self.account,
            kind,
            self.reward.amount,
            bucket=bucket,
            reference=EntryReference(type="reward", id=self.reward.reward_id),
            actor=actor,
            note=note,
            now=self.now,
        )
        self.entries.append(entry)

    def _event(self, kind: type[EventDetail], **fields: Any) -> None:
        self.events.append(event(kind, self.reward, now=self.now, event_id=next(self._ids), **fields))

    def earn(self, *, status: str) -> None:
        """The first entry of a new reward; `status` is what the RewardEarned event announces (approved when it is
        approved at once)."""
        self._book("earned", None, LEDGER_ACTOR, f"{self.reward.campaign_name}: {self.reward.rule_words}")
        self._event(RewardEarned, rule_id=self.reward.rule_id, status=status, fact_on=self.reward.fact_at.date())

    def refuse(self, *, reason: str) -> None:
        """A new reward that can never be paid (alone larger than the campaign's budget or the per-partner cap): it
        is declined as it is earned; nothing was ever pending, so nothing is booked."""
        change = StatusChange(status="declined", reason=reason, at=self.now, by=LEDGER_ACTOR)
        self.reward = self.reward.model_copy(
            update={"status": "declined", "status_reason": reason, "status_at": self.now, "history": [change]}
        )
        self._event(RewardDeclined, reason=reason, declined_by=LEDGER_ACTOR)

    def approve(self, *, by: str, automatic: bool, available_after_days: int) -> None:
        source = BUCKET_OF[self.reward.status]
        if self.reward.status not in {"pending", "on_hold"}:
            raise InvalidRewardState(
                f"The reward {self.reward.reward_id} is {self.reward.status}; it cannot be approved."
            )
        available_at = self.now + timedelta(days=available_after_days)
        self.reward = _status(self.reward, "approved", None, by, self.now).model_copy(
            update={"available_at": available_at}
        )
        self._book("approved", source, by, "Approved automatically" if automatic else f"Approved by {by}")
        self._event(RewardApproved, approved_by=by, automatic=automatic, available_at=available_at)
        if available_after_days == 0:
            self.make_available()

    def make_available(self) -> None:
        if self.reward.status != "approved":
            raise InvalidRewardState(f"The reward {self.reward.reward_id} is {self.reward.status}, not approved.")
        self.reward = _status(self.reward, "available", None, LEDGER_ACTOR, self.now)
        self._book("made_available", None, LEDGER_ACTOR, "Available to redeem")
        self._event(RewardAvailable, available_at=self.now)

    def hold(self, *, reason: str, by: str) -> None:
        if self.reward.status != "pending":
            raise InvalidRewardState(
                f"The reward {self.reward.reward_id} is {self.reward.status}; only a pending reward can be held."
            )
        self.reward = _status(self.reward, "on_hold", reason, by, self.now)
        self._book("held", None, by, reason)
        self._event(RewardHeld, reason=reason, held_by=by)

    def release(self, *, by: str) -> None:
        """A held reward goes back to pending; when its approval lapsed while it was held, a new approval round
        (the events consumer starts it on RewardHoldReleased)."""
        if self.reward.status != "on_hold":
            raise InvalidRewardState(
                f"The reward {self.reward.reward_id} is {self.reward.status}; only a reward on hold can be released."
            )
        restart = self.reward.approval_lapsed
        self.reward = _status(self.reward, "pending", None, by, self.now)
        if restart:
            self.reward = self.reward.model_copy(
                update={"approval_round": self.reward.approval_round + 1, "approval_lapsed": False}
            )
        self._book("unheld", None, by, "Hold released: back to the approver")
        self._event(RewardHoldReleased, released_by=by, approval_restarted=restart)

    def decline(self, *, reason: str, by: str) -> None:
        source = BUCKET_OF[self.reward.status]
        if self.reward.status not in {"pending", "on_hold"}:
            raise InvalidRewardState(
                f"The reward {self.reward.reward_id} is {self.reward.status}; it cannot be declined."
            )
        self.reward = _status(self.reward, "declined", reason, by, self.now)
        self._book("declined", source, by, reason)
        self._event(RewardDeclined, reason=reason, declined_by=by)

    def reverse(self, *, reason: str, by: str) -> None:
        status = self.reward.status
        source = BUCKET_OF[status]
        if source is None:
            raise InvalidRewardState(f"The reward {self.reward.reward_id} is {status}; there is nothing to reverse.")
        self.reward = _status(self.reward, "reversed", reason, by, self.now)
        self._book("reversed", source, by, reason)
        self._event(RewardReversed, reason=reason, reversed_by=by, from_status=status)


def _transition(step: Step, reward: Reward, account: Account, released: int, outcome: str) -> Transition:
    return Transition(
        reward=step.reward,
        account=step.account,
        expected_revision=reward.revision,
        expected_seq=account.seq,
        entries=step.entries,
        events=step.events,
        released=released,
        outcome=outcome,
        was_available=reward.status == "available",
    )


def approve(
    reward: Reward, account: Account, *, by: str, available_after_days: int, now: datetime, event_ids: list[str]
) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.approve(by=by, automatic=False, available_after_days=available_after_days)
    change = _transition(step, reward, account, 0, "approved")
    if available_after_days:
        change.schedule_available_at = step.reward.available_at
    return change


def hold(reward: Reward, account: Account, *, reason: str, by: str, now: datetime, event_ids: list[str]) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.hold(reason=reason, by=by)
    return _transition(step, reward, account, 0, "held")


def release(reward: Reward, account: Account, *, by: str, now: datetime, event_ids: list[str]) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.release(by=by)
    return _transition(step, reward, account, 0, "released")


def approval_lapsed_on_hold(reward: Reward, account: Account, *, now: datetime) -> Transition:
    """The approval ended undecided while the reward was on hold: it stays on hold (the hold is a decision to wait),
    marked so that releasing it asks the approver again. No amount moves: no ledger entry, no event."""
    if reward.status != "on_hold":
        raise InvalidRewardState(f"The reward {reward.reward_id} is {reward.status}, not on hold.")
    changed = reward.model_copy(update={"approval_lapsed": True, "revision": reward.revision + 1})
    return Transition(
        reward=changed,
        account=account,
        expected_revision=reward.revision,
        expected_seq=account.seq,
        outcome="on hold; its approval lapsed (a release asks the approver again)",
    )


NEXT_STEPS = {
    "pending": "Waiting for the approver's decision (email link); hold it to pause with a reason",
    "available": "Available: the person can redeem it",
    "paid": "None: paid out (its amount was spent on payouts or catalogue items)",
    "declined": "None: declined (the reason is shown to the partner)",
    "reversed": "None: reversed",
}


def next_step(reward: Reward) -> str:
    """What happens next to a reward, in words for vendor staff."""
    if reward.status == "on_hold":
        if reward.approval_lapsed:
            return "On hold and its approval lapsed: release it to ask the approver again, or decline it"
        return "On hold: release it back to the approver (whose link still decides it), or decline it"
    if reward.status == "approved":
        when = reward.available_at.date().isoformat() if reward.available_at else "after its waiting days"
        return f"Approved: becomes available to redeem on {when}"
    return NEXT_STEPS[reward.status]


def decline(
    reward: Reward, account: Account, *, reason: str, by: str, now: datetime, event_ids: list[str]
) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.decline(reason=reason, by=by)
    return _transition(step, reward, account, reward.amount, "declined")


def make_available(reward: Reward, account: Account, *, now: datetime, event_ids: list[str]) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.make_available()
    return _transition(step, reward, account, 0, "available")


def reverse(
    reward: Reward, account: Account, *, reason: str, by: str, now: datetime, event_ids: list[str]
) -> Transition:
    step = Step(reward, account, now=now, event_ids=event_ids)
    step.reverse(reason=reason, by=by)
    return _transition(step, reward, account, reward.amount, "reversed")
