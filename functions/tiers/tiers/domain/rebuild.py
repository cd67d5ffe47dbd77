"""A partner's standing rebuilt from its facts alone, with the same rules the service applies one event at a time:
the proof that the same facts always give the same tier. The timers the service relies on (a fact leaving the window,
a grace period ending, a new criteria version taking effect) fire here at their instants, in time order, between the
facts. A replay for tests, audits and repairs; evaluation itself never replays (it reads running totals). A fact
is a fact once: a win repeated, or one whose reversal came first, counts nothing, as in the service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shared.money import Money
from tiers.domain import standing as rules
from tiers.domain import totals as counting
from tiers.domain.criteria import effective_at, in_force
from tiers.models import (
    Award,
    CriteriaVersion,
    HistoryEntry,
    Holding,
    ManualMark,
    Standing,
    WindowFact,
    WinRecord,
    WinReversal,
    win_fact_id,
)


@dataclass(frozen=True)
class Onboarded:
    company_name: str


@dataclass(frozen=True)
class Won:
    deal_id: str
    amount: Money
    close_date: date
    win_revision: int = 1


@dataclass(frozen=True)
class WinReversed:
    """A vendor withdrew win `win_revision` of the deal."""

    deal_id: str
    win_revision: int
    previous_amount: Money
    reason: str = ""
    by: str = ""


@dataclass(frozen=True)
class Approved:
    deal_id: str


@dataclass(frozen=True)
class Lost:
    deal_id: str


@dataclass(frozen=True)
class _AwardFact:
    award_id: str
    certification_id: str
    holder: str


class Earned(_AwardFact):
    pass


class Ended(_AwardFact):
    """An award expired or was withdrawn."""


@dataclass(frozen=True)
class Removed:
    email: str


@dataclass(frozen=True)
class ManualSet:
    criterion_id: str
    met: bool
    note: str
    by: str


@dataclass(frozen=True)
class Decided:
    """The channel team's decision on the upgrade request pending at that moment."""

    approved: bool
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class Lapsed:
    """Nobody decided the pending upgrade request in time."""


Fact = Onboarded | Won | WinReversed | Approved | Lost | Earned | Ended | Removed | ManualSet | Decided | Lapsed


@dataclass
class Rebuild:
    standing: Standing
    history: list[HistoryEntry]


class _Replay:
    def __init__(self, partner_id: str, versions: Sequence[CriteriaVersion], terms: rules.Terms) -> None:
        self.state = Standing(partner_id=partner_id)
        self.versions = list(versions)
        self.terms = terms
        self.window: list[WindowFact] = []
        self.wins: dict[str, WinRecord] = {}  # by fact id: each win of a deal, with its reversal
        self.holdings: dict[tuple[str, str], Holding] = {}
        self.awards: dict[str, Award] = {}
        self.history: list[HistoryEntry] = []
        self.count = 0
        self.version_instants = sorted(effective_at(v) for v in versions)
        self.clock = datetime.min.replace(tzinfo=UTC)

    def new_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count:08d}"

    def _take(self, outcome: rules.Outcome) -> None:
        self.state = outcome.standing
        self.history += outcome.history

    def evaluate(self, at: datetime) -> None:
        version = in_force(self.versions, at)
        if version is not None:
            self._take(rules.evaluate(self.state, version, self.terms, at, self.new_id))

    # ------------------------------------------------------------- timers
    def _due(self, until: datetime) -> tuple[datetime, str] | None:
        candidates = []
        if self.state.totals.next_exit is not None and self.state.totals.next_exit <= until:
            candidates.append((self.state.totals.next_exit, "window"))
        if self.state.grace is not None and self.state.grace.ends_at <= until:
            candidates.append((self.state.grace.ends_at, "grace"))
        instants = [i for i in self.version_instants if self.clock < i <= until]
        if instants and self.state.onboarded_at is not None:
            candidates.append((instants[0], "version"))
        return min(candidates) if candidates else None

    def advance(self, until: datetime) -> None:
        while (due := self._due(until)) is not None:
            at, kind = due
            self.clock = max(self.clock, at)
            if kind == "window":
                exited = [f for f in self.window if f.exits_at <= at]
                self.window = [f for f in self.window if f.exits_at > at]
                following = min((f.exits_at for f in self.window), default=None)
                self.state = self.state.model_copy(
                    update={"totals": counting.count_out(self.state.totals, exited, following)}
                )
                self.evaluate(at)
            elif kind == "grace":
                assert self.state.grace is not None
                version = in_force(self.versions, at)
                assert version is not None
                grace_id = self.state.grace.grace_id
                self._take(
                    rules.end_grace(self.state, version, self.terms, grace_id=grace_id, now=at, new_id=self.new_id)
                )
            else:
                self.evaluate(at)
        self.clock = max(self.clock, until)

    # ------------------------------------------------------------- facts
    def _totals(self, totals: object) -> None:
        self.state = self.state.model_copy(update={"totals": totals})

    def _deal(self, at: datetime, fact: Won | Approved | WinReversed) -> bool:
        """A deal's fact into the totals; False when it changes nothing (on record already, outside the window)."""
        if isinstance(fact, WinReversed):
            return self._reverse(at, fact)
        window_fact = (
            counting.revenue_fact(fact.deal_id, fact.amount, fact.close_date, self.terms.window_days, fact.win_revision)
            if isinstance(fact, Won)
            else counting.approval_fact(fact.deal_id, at, self.terms.window_days)
        )
        if window_fact.kind == "revenue" and window_fact.fact_id in self.wins:
            return False  # on record already, or reversed before it arrived: counts nothing
        counted = counting.count_in(self.state.totals, window_fact, at)
        if window_fact.kind == "revenue":
            self.wins[window_fact.fact_id] = WinRecord(
                deal_id=window_fact.deal_id,
                win_revision=window_fact.win_revision,
                fact=window_fact,
                counted=counted is not None,
            )
        if counted is None:
            return False
        self.window.append(window_fact)
        self._totals(counted)
        return True

    def _reverse(self, at: datetime, fact: WinReversed) -> bool:
        """A win withdrawn: out of the totals and the window if still counted; a tombstone before its win."""
        key = win_fact_id(fact.deal_id, fact.win_revision)
        recorded = self.wins.get(key)
        mine = recorded.fact if recorded is not None else None
        others = [f for f in self.window if f is not mine]
        reversal = WinReversal(
            deal_id=fact.deal_id,
            win_revision=fact.win_revision,
            reason=fact.reason,
            reversed_by=fact.by,
            reversed_at=at,
            previous_amount=fact.previous_amount,
        )
        result = counting.reverse_win(
            self.state.totals,
            recorded,
            reversal,
            in_window=len(others) < len(self.window),
            following=min((f.exits_at for f in others), default=None),
        )
        if result is None:
            return False  # reversed already
        totals, self.wins[key], _ = result
        self.window = others
        self._totals(totals)
        return True

    def apply(self, at: datetime, fact: Fact) -> None:
        self.advance(at)
        version = in_force(self.versions, at)
        if isinstance(fact, Onboarded):
            self._take(rules.onboard(self.state, fact.company_name, version, self.terms, at, self.new_id))
            return
        if isinstance(fact, Won | Approved | WinReversed):
            if not self._deal(at, fact):
                return  # on record already (or never counted): the service evaluates nothing either
        elif isinstance(fact, Earned | Ended):
            change = counting.earn if isinstance(fact, Earned) else counting.end
            key = (fact.holder, fact.certification_id)
            result = change(
                self.state.totals,
                self.holdings.get(key),
                self.awards.get(fact.award_id),
                award_id=fact.award_id,
                certification_id=fact.certification_id,
                holder=fact.holder,
                at=at,
            )
            if result is not None:
                totals, self.holdings[key], self.awards[fact.award_id] = result
                self._totals(totals)
        elif isinstance(fact, Removed):
            mine = [h for (holder, _), h in self.holdings.items() if holder == fact.email]
            totals, updated = counting.remove_person(self.state.totals, mine, at)
            for holding in updated:
                self.holdings[holding.holder, holding.certification_id] = holding
            self._totals(totals)
        elif isinstance(fact, ManualSet):
            mark = ManualMark(met=fact.met, note=fact.note, set_by=fact.by, set_at=at)
            marked = counting.set_manual(self.state.totals, fact.criterion_id, mark)
            if marked is not None:
                self._totals(marked)
        elif isinstance(fact, Decided | Lapsed):
            assert version is not None and self.state.pending is not None
            upgrade_id = self.state.pending.upgrade_id
            if isinstance(fact, Lapsed):
                self._take(rules.lapse_upgrade(self.state, version, upgrade_id=upgrade_id, now=at))
            else:
                self._take(
                    rules.decide_upgrade(
                        self.state,
                        version,
                        self.terms,
                        upgrade_id=upgrade_id,
                        approved=fact.approved,
                        decided_by=fact.by,
                        reason=fact.reason,
                        now=at,
                        new_id=self.new_id,
                    )
                )
            return
        self.evaluate(at)


def rebuild(
    partner_id: str,
    facts: Sequence[tuple[datetime, Fact]],
    versions: Sequence[CriteriaVersion],
    terms: rules.Terms,
    *,
    until: datetime,
) -> Rebuild:
    """The standing and history that these facts (in time order) give under these versions, as of `until`."""
    replay = _Replay(partner_id, versions, terms)
    for at, fact in sorted(facts, key=lambda pair: pair[0]):
        replay.apply(at, fact)
    replay.advance(until)
    return Rebuild(replay.state, replay.history)
