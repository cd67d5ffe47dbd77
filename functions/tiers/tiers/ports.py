"""What the programme's services need from outside (typing.Protocols) and the failures those ports report.

The DynamoDB adapter of `TiersRepository` is `tiers.repository`, the AWS adapters of `TierWorkflows` and
`VersionTimers` are in `tiers.workflow`; both are wired in the `service()` factories of `tiers.api` and `tiers.consumers`. In-memory fakes
for service tests are in `tests/support/fakes_tiers.py` (and the shared ports' in `tests/support/fakes.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from shared.ports import Mailer, SideEffectLedger

if TYPE_CHECKING:
    from contracts.tiers import TierUpgradeRequested
    from shared.events import EventDetail
    from shared.mail import Email
    from shared.principal import Principal
    from tiers.models import (
        Award,
        CriteriaVersion,
        Grace,
        HistoryEntry,
        Holding,
        PartnerUser,
        Standing,
        StandingChange,
        WindowFact,
        WinRecord,
        Withdrawal,
    )

__all__ = [
    "DuplicateFact",
    "Mailer",
    "SideEffectLedger",
    "StaleProgramme",
    "StaleStanding",
    "TierNotices",
    "TierWorkflows",
    "TiersRepository",
    "VersionTimers",
]


class StaleStanding(Exception):
    """The partner's standing changed since it was read (optimistic locking): read it again and retry."""


class DuplicateFact(Exception):
    """This fact (a won deal, an approved registration) is already on record: nothing changes."""


class StaleProgramme(Exception):
    """Another criteria version was added since the programme was read: read it again and retry."""


class TiersRepository(Protocol):
    """Criteria versions, each partner's standing (running totals, tier, pending upgrade, grace period), the facts
    behind the totals, the history, and the partner users the emails go to. Every
    write of a partner's state is conditional on its revision and carries its events (outbox), all or nothing."""

    # ------------------------------------------------------------- the programme
    def version_in_force(self, at: datetime) -> CriteriaVersion | None: ...

    def next_version(self, at: datetime) -> CriteriaVersion | None:
        """The first version that takes effect after `at`, if any."""
        ...

    def latest_version(self) -> tuple[int, CriteriaVersion | None]:
        """How many versions exist, and the one with the latest date."""
        ...

    def versions(self) -> list[CriteriaVersion]: ...

    def version_on(self, day: date) -> CriteriaVersion | None:
        """The version dated `day`, if any (a withdrawn one is not: its date is free again)."""
        ...

    def withdrawals(self) -> list[Withdrawal]:
        """The versions withdrawn before they took effect, kept for the record."""
        ...

    def withdrawn(self, version_id: str) -> bool: ...

    def withdraw_version(self, withdrawal: Withdrawal, *, events: Sequence[EventDetail] = ()) -> None:
        """Move the version from its date to the record of withdrawals (StaleProgramme when it is gone meanwhile), with
        `events` in the outbox in the same transaction."""
        ...

    def require_accepted(self, principal: Principal) -> None:
        """Forbidden (agreement_required) for a partner user who has not accepted the current programme agreement
        (the gate's projection, contracts.onboarding_agreement_gate); vendor staff pass."""
        ...

    def add_version(self, version: CriteriaVersion, *, expected_count: int, events: Sequence[EventDetail] = ()) -> None:
        """StaleProgramme when another version was added meanwhile (version ids are sequential); `events` (the
        ladder's TierProgrammeVersionAdded) go to the outbox in the same transaction."""
        ...

    # ------------------------------------------------------------- a partner
    def define_certification(self, certification_id: str, name: str, at: datetime) -> bool:
        """Keep training's certification (`CertificationDefined`; the newest event wins): False when older or
        repeated."""
        ...

    def known_certifications(self, certification_ids: Sequence[str]) -> set[str]:
        """Which of these certification ids training defined (by key: one BatchGetItem)."""
        ...

    def standing(self, partner_id: str) -> Standing | None: ...

    def partners(self, after: str | None, limit: int) -> tuple[list[str], str | None]:
        """One page of the programme's partner ids (in id order, after `after`), and where the next page starts."""
        ...

    def partner_standings(self, *, limit: int, cursor: str | None) -> tuple[list[Standing], str | None]:
        """One page of the programme's partners' standings (in partner id order) and the opaque cursor of the next
        (ValidationFailed naming `cursor` for one that is not this list's)."""
        ...

    def version_announced(self, version_id: str) -> bool:
        """Whether the fan-out timer of this version was scheduled (recorded by `record_announced`)."""
        ...

    def record_announced(self, version_id: str) -> None: ...

    def save(self, change: StandingChange) -> None:
        """Write the change if the standing is still at the revision read (StaleStanding otherwise); DuplicateFact if
        its new fact (or its reversal's tombstone) is on record already."""
        ...

    def history(self, partner_id: str, limit: int) -> list[HistoryEntry]:
        """The newest `limit` history entries, newest first."""
        ...

    def window(self, partner_id: str, now: datetime, limit: int) -> tuple[list[WindowFact], datetime | None]:
        """At most `limit` facts that left the window by `now` (earliest first), and the next exit still ahead."""
        ...

    def win(self, partner_id: str, deal_id: str, win_revision: int) -> WinRecord | None:
        """What is on record of one win of a deal (its fact, its reversal or the reversal's tombstone); one GetItem."""
        ...

    def is_in_window(self, partner_id: str, fact: WindowFact) -> bool:
        """Whether the fact is still counted in the window (it has not left it yet); one GetItem."""
        ...

    def next_exit_besides(self, partner_id: str, fact: WindowFact) -> datetime | None:
        """The earliest exit of the facts in the window other than `fact` (reads at most two items)."""
        ...

    def award(self, partner_id: str, award_id: str) -> Award | None: ...

    def holding(self, partner_id: str, holder: str, certification_id: str) -> Holding | None: ...

    def holdings_of(self, partner_id: str, holder: str) -> list[Holding]: ...

    def user(self, partner_id: str, email: str) -> PartnerUser | None: ...

    def save_user(self, partner_id: str, user: PartnerUser) -> bool:
        """Keep the newest view of a partner user; False when the event is older or repeated (nothing changes)."""
        ...

    def partner_admins(self, partner_id: str) -> list[str]:
        """The emails of the partner's active partner admins (invited as partner-admin, not removed)."""
        ...


class VersionTimers(Protocol):
    """The fan-out timer of a criteria version: what the API sets when a version is published."""

    def schedule_version(self, version_id: str, at: datetime, after: str | None, now: datetime) -> str:
        """The evaluation of every partner when a version takes effect (`after`: the next page of partners); named
        after the version and the page, so a repeated call schedules nothing new."""
        ...

    def cancel_version(self, version_id: str) -> str:
        """Delete the fan-out timer of a version withdrawn before it took effect (its first page: later pages are
        scheduled only once it fired); none left is nothing to do."""
        ...


class TierWorkflows(VersionTimers, Protocol):
    """The upgrade approval workflow and the programme's timers (grace periods, window slides, new versions)."""

    def start_upgrade_review(
        self, standing: Standing, request: TierUpgradeRequested, evidence: list[tuple[str, str]]
    ) -> str:
        """Start the approval workflow once per upgrade request (a repeated start changes nothing); `evidence` is
        each criterion of the proposed tier, as (label, value against threshold) lines for the channel team."""
        ...

    def schedule_grace(self, standing: Standing, grace: Grace, now: datetime) -> str:
        """The warnings before the grace period ends, then its end, as messages on tiers' workflow queue."""
        ...

    def schedule_reevaluation(self, partner_id: str, at: datetime, now: datetime) -> str:
        """A re-evaluation of the partner at `at`, when a fact leaves its trailing window."""
        ...


class TierNotices(Protocol):
    """The emails to a partner's admins, as values (the Mailer sends them)."""

    def upgraded(self, to: list[str], standing: Standing, reason: str) -> Email: ...

    def downgraded(self, to: list[str], standing: Standing, reason: str) -> Email: ...

    def grace_started(self, to: list[str], standing: Standing, grace: Grace) -> Email: ...

    def grace_warning(
        self, to: list[str], standing: Standing, grace: Grace, days_left: int, missing: list[str]
    ) -> Email: ...
