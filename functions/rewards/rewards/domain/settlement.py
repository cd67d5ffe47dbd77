"""Which rewards a spent amount paid: payouts paid and catalogue items fulfilled spend a person's balance in one
unit, not particular rewards, so the spending is spread over the person's available rewards oldest first (first in,
first out). A reward whose whole amount is covered is `paid`; one partly covered stays `available` with its
`paid_amount`. What an account has spent (`account.paid`) but not yet spread (`Settlement.settled`) is the gap.

A reward reversed after it was spent keeps `paid_amount` as a record, but what was spread over it goes back into the
gap (the repository lowers `settled` in the reversal's transaction): the money went out, the reward it came from is
gone, so the next available rewards are what paid it (the clawback takes the available balance down by as much). So
the rewards still `available` always add up to the available balance, whatever order the payout and the reversal
come in; spending that finds no reward left to cover waits in the gap for the next rewards that become available."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.rewards import RewardPaid
from rewards.domain.lifecycle import LEDGER_ACTOR, event
from rewards.models.earning import Account, Reward, Settlement, StatusChange


@dataclass(frozen=True)
class Spread:
    """One reward covered by `amount` more of the spending: the reward after it (on `expected_revision`), the
    settlement after it (on `expected_settled`), and `RewardPaid` when it is now fully paid."""

    reward: Reward
    expected_revision: int
    amount: int
    settlement: Settlement
    expected_settled: int
    paid: RewardPaid | None

    @property
    def fully_paid(self) -> bool:
        return self.paid is not None


def gap(account: Account | None, settlement: Settlement) -> int:
    """Spending not yet spread over rewards (never negative)."""
    return max(0, (account.paid if account else 0) - settlement.settled)


def spread(reward: Reward, settlement: Settlement, gap_left: int, *, now: datetime, event_id: str) -> Spread | None:
    """Cover as much of `reward` as `gap_left` allows; None when there is nothing to spread or it is not available."""
    owed = reward.amount - reward.paid_amount
    if gap_left <= 0 or owed <= 0 or reward.status != "available":
        return None
    amount = min(owed, gap_left)
    update: dict[str, object] = {"paid_amount": reward.paid_amount + amount, "revision": reward.revision + 1}
    paid: RewardPaid | None = None
    if amount == owed:
        change = StatusChange(status="paid", reason=None, at=now, by=LEDGER_ACTOR)
        update |= {"status": "paid", "status_reason": None, "status_at": now, "paid_at": now}
        update["history"] = [*reward.history, change]
    after = reward.model_copy(update=update)
    if after.status == "paid":
        built = event(RewardPaid, after, now=now, event_id=event_id, paid_at=now)
        assert isinstance(built, RewardPaid)
        paid = built
    return Spread(
        reward=after,
        expected_revision=reward.revision,
        amount=amount,
        settlement=settlement.model_copy(update={"settled": settlement.settled + amount}),
        expected_settled=settlement.settled,
        paid=paid,
    )
