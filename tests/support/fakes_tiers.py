"""In-memory fake of the programme's repository port (`tiers.ports.TiersRepository`), for service tests without AWS.

It keeps the conditions the DynamoDB adapter writes with, so the service meets the same refusals:
- optimistic locking: a standing is saved only at the revision after the one stored (`StaleStanding`);
- a fact (a win of a deal, an approved registration) is recorded once (`DuplicateFact`), and so is a win's reversal
  (a reversal before its win leaves a tombstone: the late win is a `DuplicateFact`);
- criteria version ids are sequential (`StaleProgramme` when another version was added meanwhile);
- a partner user's newest event wins;
- a partner user is refused (agreement_required) until they accepted the current agreement, vendor staff never;
and every write is all or nothing, with its events in `outbox`. `reads` counts the items read, as DynamoDB would
count them (a GetItem's item, a Query's items), so a test can check that evaluation does not read history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.errors import FieldError, Forbidden, ValidationFailed
from shared.events import EventDetail
from shared.principal import Principal
from tests.support.fakes import FakeTimers, keep_newer
from tiers.domain.criteria import effective_at
from tiers.models import (
    Award,
    CriteriaVersion,
    HistoryEntry,
    Holding,
    PartnerUser,
    Standing,
    StandingChange,
    WindowFact,
    WinRecord,
    Withdrawal,
    win_fact_id,
)
from tiers.ports import DuplicateFact, StaleProgramme, StaleStanding
from tiers.workflow import schedule_version, version_timer_name


@dataclass
class FakeTiersRepository:
    standings: dict[str, Standing] = field(default_factory=dict)
    programme: dict[str, CriteriaVersion] = field(default_factory=dict)  # version id -> version
    facts: set[tuple[str, str, str]] = field(default_factory=set)  # (partner, kind, fact id: the deal[#win revision])
    in_window: dict[tuple[str, str, str], WindowFact] = field(default_factory=dict)
    wins: dict[tuple[str, str], WinRecord] = field(default_factory=dict)  # (partner, fact id): a win and its reversal
    awards: dict[tuple[str, str], Award] = field(default_factory=dict)
    holdings: dict[tuple[str, str, str], Holding] = field(default_factory=dict)  # (partner, holder, cert)
    users: dict[tuple[str, str], PartnerUser] = field(default_factory=dict)
    entries: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    enrolled: set[str] = field(default_factory=set)
    announced: set[str] = field(default_factory=set)
    withdrawn_versions: dict[str, Withdrawal] = field(default_factory=dict)  # version id -> its withdrawal
    agreement: str | None = None  # the current programme agreement's version, as projected from onboarding's events
    acceptances: set[tuple[str, str]] = field(default_factory=set)  # (version, user sub)
    outbox: list[EventDetail] = field(default_factory=list)
    certifications: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> (name, defined at)
    reads: int = 0
    fail_next_save: int = 0  # simulate a concurrent writer winning this many times

    # ------------------------------------------------------------- test helpers
    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if type(e).__name__ == detail_type]

    # ------------------------------------------------------------- the port
    def _dated(self) -> list[CriteriaVersion]:
        return sorted(self.programme.values(), key=lambda v: v.effective_from)

    def version_in_force(self, at: datetime) -> CriteriaVersion | None:
        due = [v for v in self._dated() if effective_at(v) <= at]
        self.reads += 1 if due else 0
        return due[-1] if due else None

    def next_version(self, at: datetime) -> CriteriaVersion | None:
        later = [v for v in self._dated() if effective_at(v) > at]
        self.reads += 1 if later else 0
        return later[0] if later else None

    def latest_version(self) -> tuple[int, CriteriaVersion | None]:
        dated = self._dated()
        return len(dated) + len(self.withdrawn_versions), (dated[-1] if dated else None)

    def versions(self) -> list[CriteriaVersion]:
        return self._dated()

    def define_certification(self, certification_id: str, name: str, at: datetime) -> bool:
        known = self.certifications.get(certification_id)
        if known is not None and known[1] >= at:
            return False
        self.certifications[certification_id] = (name, at)
        return True

    def known_certifications(self, certification_ids: Sequence[str]) -> set[str]:
        return {c for c in certification_ids if c in self.certifications}

    def version_on(self, day: date) -> CriteriaVersion | None:
        return next((v for v in self.programme.values() if v.effective_from == day), None)

    def withdrawals(self) -> list[Withdrawal]:
        return list(self.withdrawn_versions.values())

    def withdrawn(self, version_id: str) -> bool:
        return version_id in self.withdrawn_versions

    def withdraw_version(self, withdrawal: Withdrawal, *, events: Sequence[EventDetail] = ()) -> None:
        version_id = withdrawal.version.version_id
        if version_id not in self.programme or version_id in self.withdrawn_versions:
            raise StaleProgramme(version_id)
        del self.programme[version_id]
        self.withdrawn_versions[version_id] = withdrawal
        self.outbox.extend(events)

    def require_accepted(self, principal: Principal) -> None:
        if principal.partner_id is None or self.agreement is None:
            return
        if (self.agreement, principal.sub) not in self.acceptances:
            raise Forbidden("Accept the current programme agreement first.", code="agreement_required")

    def add_version(self, version: CriteriaVersion, *, expected_count: int, events: Sequence[EventDetail] = ()) -> None:
        count = len(self.programme) + len(self.withdrawn_versions)
        if count != expected_count or version.version_id in self.programme or self.version_on(version.effective_from):
            raise StaleProgramme(version.version_id)  # sequential ids; one version per date
        self.programme[version.version_id] = version
        self.outbox.extend(events)

    def partners(self, after: str | None, limit: int) -> tuple[list[str], str | None]:
        ahead = sorted(p for p in self.enrolled if after is None or p > after)
        page = ahead[:limit]
        return page, (page[-1] if len(ahead) > limit else None)

    def partner_standings(self, *, limit: int, cursor: str | None) -> tuple[list[Standing], str | None]:
        """Partner id order; the cursor (`partners|<offset>`) is bound to this list, as the adapter's is."""
        if cursor is not None and not re.fullmatch(r"partners\|\d{1,6}", cursor):
            raise ValidationFailed("The cursor is not valid for this list.", [FieldError("cursor", "invalid")])
        start = int(cursor.removeprefix("partners|")) if cursor else 0
        ordered = [self.standings[p] for p in sorted(self.enrolled) if p in self.standings]
        more = start + limit < len(ordered)
        return ordered[start : start + limit], (f"partners|{start + limit}" if more else None)

    def version_announced(self, version_id: str) -> bool:
        self.reads += 1 if version_id in self.announced else 0
        return version_id in self.announced

    def record_announced(self, version_id: str) -> None:
        self.announced.add(version_id)

    def standing(self, partner_id: str) -> Standing | None:
        found = self.standings.get(partner_id)
        self.reads += 1 if found else 0
        return found

    def save(self, change: StandingChange) -> None:
        new = change.standing
        stored = self.standings.get(new.partner_id)
        if self.fail_next_save:
            self.fail_next_save -= 1
            raise StaleStanding(new.partner_id)
        if (stored.revision if stored else 0) != new.revision - 1:
            raise StaleStanding(new.partner_id)
        fact = change.fact
        if fact is not None and (new.partner_id, fact.kind, fact.fact_id) in self.facts:
            raise DuplicateFact(fact.deal_id)
        reversal = change.reversal
        if reversal is not None:
            known = self.wins.get((new.partner_id, win_fact_id(reversal.deal_id, reversal.win_revision)))
            if (known is None) != (reversal.fact is None) or (known is not None and known.reversal is not None):
                raise StaleStanding(new.partner_id)  # the adapter's condition on the fact item
        # every condition held: write all of it
        pid = new.partner_id
        self.standings[pid] = new
        if fact is not None:
            self.facts.add((pid, fact.kind, fact.fact_id))
            if fact.kind == "revenue":
                self.wins[pid, fact.fact_id] = WinRecord(
                    deal_id=fact.deal_id, win_revision=fact.win_revision, fact=fact, counted=change.counted
                )
            if change.counted:
                self.in_window[pid, fact.kind, fact.fact_id] = fact
        if reversal is not None:
            self.facts.add((pid, "revenue", win_fact_id(reversal.deal_id, reversal.win_revision)))
            self.wins[pid, win_fact_id(reversal.deal_id, reversal.win_revision)] = reversal
        if change.enrol:
            self.enrolled.add(pid)
        for gone in change.exited:
            self.in_window.pop((pid, gone.kind, gone.fact_id), None)
        for holding in change.holdings:
            self.holdings[pid, holding.holder, holding.certification_id] = holding
        for award in change.awards:
            self.awards[pid, award.award_id] = award
        self.entries.setdefault(pid, []).extend(change.history)
        self.outbox.extend(change.events)

    def history(self, partner_id: str, limit: int) -> list[HistoryEntry]:
        newest = sorted(self.entries.get(partner_id, []), key=lambda e: e.seq, reverse=True)[:limit]
        self.reads += len(newest)
        return newest

    def window(self, partner_id: str, now: datetime, limit: int) -> tuple[list[WindowFact], datetime | None]:
        mine = sorted(
            (f for (p, _, _), f in self.in_window.items() if p == partner_id), key=lambda f: (f.exits_at, f.deal_id)
        )
        exited = [f for f in mine if f.exits_at <= now][:limit]
        ahead = [f.exits_at for f in mine if f.exits_at > now][:1]
        self.reads += len(exited) + len(ahead)
        return exited, (ahead[0] if ahead else None)

    def _mine(self, partner_id: str) -> list[WindowFact]:
        return sorted(
            (f for (p, _, _), f in self.in_window.items() if p == partner_id),
            key=lambda f: (f.exits_at, f.kind, f.fact_id),
        )

    def win(self, partner_id: str, deal_id: str, win_revision: int) -> WinRecord | None:
        found = self.wins.get((partner_id, win_fact_id(deal_id, win_revision)))
        self.reads += 1 if found else 0
        return found

    def is_in_window(self, partner_id: str, fact: WindowFact) -> bool:
        found = (partner_id, fact.kind, fact.fact_id) in self.in_window
        self.reads += 1 if found else 0
        return found

    def next_exit_besides(self, partner_id: str, fact: WindowFact) -> datetime | None:
        first = self._mine(partner_id)[:2]  # the adapter reads the first two entries, in exit order
        self.reads += len(first)
        others = [f for f in first if (f.kind, f.fact_id) != (fact.kind, fact.fact_id)]
        return others[0].exits_at if others else None

    def award(self, partner_id: str, award_id: str) -> Award | None:
        found = self.awards.get((partner_id, award_id))
        self.reads += 1 if found else 0
        return found

    def holding(self, partner_id: str, holder: str, certification_id: str) -> Holding | None:
        found = self.holdings.get((partner_id, holder, certification_id))
        self.reads += 1 if found else 0
        return found

    def holdings_of(self, partner_id: str, holder: str) -> list[Holding]:
        return [h for (p, who, _), h in self.holdings.items() if p == partner_id and who == holder]

    def user(self, partner_id: str, email: str) -> PartnerUser | None:
        return self.users.get((partner_id, email))

    def save_user(self, partner_id: str, user: PartnerUser) -> bool:
        return keep_newer(self.users, (partner_id, user.email), user, lambda u: u.as_of)

    def partner_admins(self, partner_id: str) -> list[str]:
        return sorted(
            u.email for (p, _), u in self.users.items() if p == partner_id and u.active and u.role == "partner-admin"
        )


# ------------------------------------------------------------------ a programme to test with
def version_request(effective_from: str = "2026-01-01", *, approval: str = "automatic", **gold: Any) -> dict[str, Any]:
    """Registered (entry), Silver (2 approved deals), Gold (USD 100,000.00 or EUR 90,000.00 won, 2 certified engineers,
    signed business plan), Platinum (USD 1,000,000.00 won, 5 approved deals); `gold` overrides Gold's criteria."""
    gold_criteria = {
        "won_revenue": [
            {"currency": "USD", "amount_minor": 10_000_000},
            {"currency": "EUR", "amount_minor": 9_000_000},
        ],
        "certifications": [{"certification_id": "cert-eng", "label": "certified engineer", "people": 2}],
        "manual": [{"criterion_id": "business-plan", "label": "Signed business plan"}],
    } | gold
    return {
        "effective_from": effective_from,
        "upgrade_approval": approval,
        "tiers": [
            {"tier_id": "registered", "name": "Registered", "benefits": ["Portal access"]},
            {"tier_id": "silver", "name": "Silver", "benefits": ["5% discount"], "criteria": {"approved_deals": 2}},
            {"tier_id": "gold", "name": "Gold", "benefits": ["10% discount", "MDF"], "criteria": gold_criteria},
            {
                "tier_id": "platinum",
                "name": "Platinum",
                "benefits": ["15% discount"],
                "criteria": {"won_revenue": [{"currency": "USD", "amount_minor": 100_000_000}], "approved_deals": 5},
            },
        ],
    }


@dataclass
class FakeVersionTimers:
    """The API's version timers over FakeTimers (the schedules by name), as `tiers.workflow.VersionTimersAdapter`:
    scheduled by the same names, a withdrawn version's first timer deleted as EventBridge Scheduler's
    delete_schedule does."""

    timers: FakeTimers

    def schedule_version(self, version_id: str, at: datetime, after: str | None, now: datetime) -> str:
        return schedule_version(self.timers, version_id, at, after, now)

    def cancel_version(self, version_id: str) -> str:
        removed = self.timers.scheduled.pop(f"{version_timer_name(version_id)}-0", None)
        return f"timer of version {version_id} deleted" if removed else f"no timer left for version {version_id}"
