"""The running totals evaluation reads, and how each fact changes them (pure): won revenue and approved registrations
in a trailing window (each fact counted until its exit instant; a reversed win's revenue leaves at once), distinct
certified people per certification (award ids make renewals and redeliveries no-ops), manual criteria. Nothing here
ever replays history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from shared.money import Money
from tiers.domain.criteria import start_of
from tiers.models import Award, Holding, ManualMark, Totals, WindowFact, WinRecord, WinReversal


def _whole_seconds(moment: datetime) -> datetime:
    """Timers carry whole seconds: a fact's exit is kept to the second so its timer names it exactly."""
    return moment.replace(microsecond=0)


def revenue_fact(deal_id: str, amount: Money, close_date: date, window_days: int, win_revision: int = 1) -> WindowFact:
    """Won revenue counts from its close date for `window_days` days (to 00:00 UTC of the day it leaves); each win of a
    deal (`win_revision`: a corrected win after a reversal is the next) is a fact of its own."""
    return WindowFact(
        kind="revenue",
        deal_id=deal_id,
        exits_at=start_of(close_date) + timedelta(days=window_days),
        amount=amount,
        win_revision=win_revision,
    )


def approval_fact(deal_id: str, approved_at: datetime, window_days: int) -> WindowFact:
    """An approved registration counts from its approval for `window_days` days."""
    return WindowFact(
        kind="approval", deal_id=deal_id, exits_at=_whole_seconds(approved_at + timedelta(days=window_days))
    )


def _apply(totals: Totals, fact: WindowFact, sign: int) -> Totals:
    if fact.kind == "approval":
        return totals.model_copy(update={"approved_deals": max(0, totals.approved_deals + sign)})
    assert fact.amount is not None
    revenue = dict(totals.revenue)
    revenue[fact.amount.currency] = max(0, revenue.get(fact.amount.currency, 0) + sign * fact.amount.amount_minor)
    return totals.model_copy(update={"revenue": revenue})


def count_in(totals: Totals, fact: WindowFact, now: datetime) -> Totals | None:
    """The totals with the fact counted, its exit now the next one if it comes first; None when the fact is already
    outside the window (an old close date: recorded, never counted)."""
    if fact.exits_at <= now:
        return None
    counted = _apply(totals, fact, +1)
    nearest = fact.exits_at if totals.next_exit is None else min(totals.next_exit, fact.exits_at)
    return counted.model_copy(update={"next_exit": nearest})


def count_out(totals: Totals, exited: Sequence[WindowFact], next_exit: datetime | None) -> Totals:
    """The totals without the facts that left the window; `next_exit` is the earliest exit still ahead."""
    for fact in exited:
        totals = _apply(totals, fact, -1)
    return totals.model_copy(update={"next_exit": next_exit})


def reverse_win(
    totals: Totals,
    recorded: WinRecord | None,
    reversal: WinReversal,
    *,
    in_window: bool,
    following: datetime | None,
) -> tuple[Totals, WinRecord, WindowFact | None] | None:
    """A win withdrawn: its revenue leaves the totals if it is still in the window (`in_window`), and the window with
    it (`following`: the earliest exit of the other facts in the window, so its exit timer then finds nothing);
    revenue that already left, or was never counted, changes nothing. Returns the totals, the record marked reversed
    (a tombstone when the win has not arrived: the late win then counts nothing) and the fact taken out of the window;
    None when this reversal is on record already (a redelivery)."""
    if recorded is not None and recorded.reversal is not None:
        return None
    record = (recorded or WinRecord(deal_id=reversal.deal_id, win_revision=reversal.win_revision)).model_copy(
        update={"reversal": reversal}
    )
    fact = recorded.fact if recorded is not None and recorded.counted else None
    if fact is None or not in_window:
        return totals, record, None
    return count_out(totals, [fact], following), record, fact


def set_manual(totals: Totals, criterion_id: str, mark: ManualMark) -> Totals | None:
    """None when the criterion is already so (a repeat changes nothing)."""
    known = totals.manual.get(criterion_id)
    if known is not None and known.met == mark.met and known.note == mark.note:
        return None
    return totals.model_copy(update={"manual": {**totals.manual, criterion_id: mark}})


def _certified(totals: Totals, certification_id: str, delta: int) -> Totals:
    if delta == 0:
        return totals
    certified = dict(totals.certified)
    certified[certification_id] = max(0, certified.get(certification_id, 0) + delta)
    return totals.model_copy(update={"certified": certified})


def earn(
    totals: Totals,
    holding: Holding | None,
    award: Award | None,
    *,
    award_id: str,
    certification_id: str,
    holder: str,
    at: datetime,
) -> tuple[Totals, Holding, Award] | None:
    """A person holds (or renews) an award: the person counts once per certification whatever the number of awards;
    None when nothing changes (a renewal, a redelivery, an event older than what is known, a removed person)."""
    if award is not None and (award.as_of >= at or award.active):
        return None
    if holding is not None and holding.removed_at is not None and at <= holding.removed_at:
        return None
    held = list(holding.awards) if holding else []
    first = not held
    updated_holding = Holding(certification_id=certification_id, holder=holder, awards=[*held, award_id], as_of=at)
    updated_award = Award(award_id=award_id, certification_id=certification_id, holder=holder, active=True, as_of=at)
    return _certified(totals, certification_id, 1 if first else 0), updated_holding, updated_award


def end(
    totals: Totals,
    holding: Holding | None,
    award: Award | None,
    *,
    award_id: str,
    certification_id: str,
    holder: str,
    at: datetime,
) -> tuple[Totals, Holding, Award] | None:
    """An award expired or was withdrawn: the person stops counting when it was their last active one; None when
    nothing changes (a redelivery, or an end already known)."""
    if award is not None and (award.as_of >= at or not award.active):
        return None
    held = list(holding.awards) if holding else []
    ended = Award(award_id=award_id, certification_id=certification_id, holder=holder, active=False, as_of=at)
    if award_id not in held:
        # the award's start was never seen (or the person was removed): remember its end so a late start is ignored
        kept = holding or Holding(certification_id=certification_id, holder=holder, awards=[], as_of=at)
        return totals, kept, ended
    remaining = [a for a in held if a != award_id]
    updated_holding = Holding(
        certification_id=certification_id,
        holder=holder,
        awards=remaining,
        as_of=at,
        removed_at=holding.removed_at if holding else None,
    )
    return _certified(totals, certification_id, -1 if not remaining else 0), updated_holding, ended


def remove_person(totals: Totals, holdings: Sequence[Holding], at: datetime) -> tuple[Totals, list[Holding]]:
    """A partner user removed: whatever they held stops counting at once (training withdraws the awards too; that
    later withdrawal then changes nothing)."""
    updated = []
    for holding in holdings:
        if holding.removed_at is not None and holding.removed_at >= at:
            continue
        if holding.awards:
            totals = _certified(totals, holding.certification_id, -1)
        updated.append(holding.model_copy(update={"awards": [], "as_of": at, "removed_at": at}))
    return totals, updated
