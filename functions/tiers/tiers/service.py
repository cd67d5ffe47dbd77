"""The partner programme's use cases on ports: load, apply a domain rule, save conditionally; mail and start workflows.

`TiersService` is what the API calls (a partner's explained status, the tiers in force, criteria versions, manual
criteria); `TierWorkflowService` what tiers' queue runs (the projection of deals', training's and onboarding's
events into running totals, evaluation, upgrade approvals, grace periods, timers and emails). Both depend on the
Protocols of `tiers.ports` only; the adapters are wired in the `service()` factories of `tiers.api` and
`tiers.consumers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from contracts.tiers import PartnerTierChanged, PartnerTierGracePeriodStarted, TierUpgradeRequested
from shared.clock import Clock, iso, utc_now
from shared.errors import Conflict, Forbidden, NotFound, NotYetDue
from shared.ids import new_id
from shared.money import Money
from shared.retry import attempts
from tiers.domain import standing as rules
from tiers.domain import totals as counting
from tiers.domain.criteria import (
    CriterionStatus,
    check_new_version,
    effective_at,
    ensure_known_certifications,
    index_of,
    missing,
    money_words,
    named_certifications,
    new_version,
    repeats,
    statuses,
    version_added,
    version_withdrawn,
)
from tiers.models import (
    CriteriaVersion,
    GraceEnds,
    GraceWarning,
    HistoryEntry,
    ManualMark,
    PartnerUser,
    Reevaluation,
    Standing,
    StandingChange,
    TierUpgradeDecision,
    TierUpgradeExpired,
    VersionRequest,
    VersionTakesEffect,
    WindowFact,
    WinReversal,
    Withdrawal,
)
from tiers.ports import DuplicateFact, StaleProgramme, StaleStanding

if TYPE_CHECKING:
    from shared.principal import Principal
    from tiers.ports import Mailer, SideEffectLedger, TierNotices, TiersRepository, TierWorkflows, VersionTimers

ATTEMPTS = 4  # optimistic-locking attempts when two changes race on one partner
WINDOW_BATCH = 50  # window exits removed per write (a transaction holds at most 100 items)
VERSION_PAGE = 25  # partners evaluated per delivery when a version takes effect
VENDOR_ADMIN = "vendor-admin"

# A change computed from the standing read and the version in force (None: nothing changes).
Change = Callable[[Standing, "CriteriaVersion | None"], "StandingChange | None"]


def _evidence(status: CriterionStatus) -> str:
    """One criterion for the channel team: value against threshold, met or what is missing."""
    if status.kind == "won_revenue" and status.currency:
        shown = f"{money_words(int(status.value), status.currency)} of {money_words(int(status.threshold), status.currency)}"
    elif status.kind == "manual":
        shown = "confirmed" if status.met else "not confirmed"
    else:
        shown = f"{status.value} of {status.threshold}"
    return f"{shown}: {'met' if status.met else status.missing}"


def _vendor_admin(principal: Principal, what: str) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden(f"Only vendor administrators {what}.")


@dataclass(frozen=True)
class TierView:
    """One tier of the version in force, with each criterion against the partner's totals."""

    index: int
    tier_id: str
    name: str
    benefits: list[str]
    criteria: list[CriterionStatus]

    @property
    def met(self) -> bool:
        return all(c.met for c in self.criteria)


@dataclass(frozen=True)
class ProgrammeStatus:
    """A partner's explained status: what the API shows (`GET /programme`)."""

    standing: Standing
    version: CriteriaVersion | None
    current: TierView | None
    next: TierView | None
    history: list[HistoryEntry]
    window_days: int


def _evaluated(standing: Standing, version: CriteriaVersion | None, terms: rules.Terms, now: datetime) -> rules.Outcome:
    if version is None:
        return rules.Outcome(standing)
    return rules.evaluate(standing, version, terms, now, new_id)


def _change(
    repository: TiersRepository,
    clock: Clock,
    partner_id: str,
    change: Change,
    *,
    create: bool = True,
) -> tuple[Standing, StandingChange | None]:
    """Apply `change(standing, version) -> StandingChange` with optimistic locking, retrying (jittered) when another
    change of the same partner won the race. Returns the standing as written (or as read, when nothing changed)."""
    for _ in attempts(ATTEMPTS):
        stored = repository.standing(partner_id)
        if stored is None and not create:
            raise NotFound("No such partner in the programme.")
        standing = stored or Standing(partner_id=partner_id)
        version = repository.version_in_force(clock())
        result = change(standing, version)
        if result is None:
            return standing, None
        result.standing = result.standing.model_copy(update={"revision": standing.revision + 1})
        try:
            repository.save(result)
        except StaleStanding:
            continue
        return result.standing, result
    raise Conflict("The partner's standing is changing right now; try again.")


def _announce(repository: TiersRepository, timers: VersionTimers, version: CriteriaVersion, now: datetime) -> None:
    """Once per version, the timer that evaluates every partner when it takes effect: at its date, or at once for a
    version already in force. Scheduled before it is recorded (the timer's name is the version's: a repeat is
    harmless), so a failure in between leaves it to be scheduled again, never recorded and missing."""
    if repository.version_announced(version.version_id):
        return
    timers.schedule_version(version.version_id, max(effective_at(version), now), None, now)
    repository.record_announced(version.version_id)


# ====================================================================== the API's use cases
@dataclass
class TiersService:
    repository: TiersRepository
    terms: rules.Terms  # manual criteria are evaluated here: a grace period may start (the consumer times it)
    timers: VersionTimers  # a new version's fan-out timer is set as the version is published
    clock: Clock = utc_now

    def admit(self, principal: Principal) -> Principal:
        """A partner user acts only once they accepted the current programme agreement (agreement_required)."""
        self.repository.require_accepted(principal)
        return principal

    @staticmethod
    def ensure_manages_programme(principal: Principal) -> None:
        """Criteria versions and manual criteria are the vendor admins' (checked before a body is read)."""
        _vendor_admin(principal, "manage the programme's criteria")

    # ------------------------------------------------------------- reading
    def _view(self, version: CriteriaVersion, index: int, standing: Standing) -> TierView:
        tier = version.tiers[index]
        return TierView(
            index=index,
            tier_id=tier.tier_id,
            name=tier.name,
            benefits=list(tier.benefits),
            criteria=statuses(tier, standing.totals, self.terms.window_days),
        )

    def status(self, principal: Principal, partner_id: str | None = None, *, history: int = 20) -> ProgrammeStatus:
        """A partner user sees their own organisation (from the token); vendor admins any partner by id. Another
        partner's status does not exist as far as a partner user can tell (404)."""
        if partner_id is None:
            if principal.partner_id is None:
                raise Forbidden("Vendor staff read a partner's programme status by partner id.")
            partner_id = principal.partner_id
        elif not principal.in_group(VENDOR_ADMIN) and principal.partner_id != partner_id:
            raise NotFound("No such partner in the programme.")
        standing = self.repository.standing(partner_id)
        if standing is None or standing.tier is None:
            if principal.partner_id == partner_id:
                raise NotFound("Your organisation has no tier yet: it is being set up.", code="no_tier")
            raise NotFound("No such partner in the programme.")
        version = self.repository.version_in_force(self.clock())
        current = next_view = None
        if version is not None:
            index = index_of(version, standing.tier)
            current = self._view(version, index, standing)
            if index + 1 < len(version.tiers):
                next_view = self._view(version, index + 1, standing)
        entries = self.repository.history(partner_id, history)
        return ProgrammeStatus(standing, version, current, next_view, entries, self.terms.window_days)

    def partners(self, principal: Principal, *, limit: int, cursor: str | None) -> tuple[list[Standing], str | None]:
        """One page of the programme's partners with their current tier (vendor admins only), in partner id order."""
        _vendor_admin(principal, "list the programme's partners")
        return self.repository.partner_standings(limit=limit, cursor=cursor)

    def tiers_in_force(self) -> tuple[CriteriaVersion | None, CriteriaVersion | None]:
        """The version in force today and the next one, if a later one is announced."""
        now = self.clock()
        return self.repository.version_in_force(now), self.repository.next_version(now)

    def versions(self, principal: Principal) -> list[CriteriaVersion]:
        _vendor_admin(principal, "read criteria versions")
        return sorted(self.repository.versions(), key=lambda v: v.effective_from)

    # ------------------------------------------------------------- writing
    def add_version(self, principal: Principal, request: VersionRequest) -> CriteriaVersion:
        """A new, immutable criteria set that applies from its date (today or later, a date no version has: a
        version announced for later does not block an earlier one), with the timer that evaluates every partner on
        that date, partner activity or none. The write and the timer are two steps: the author's retry of the same
        criteria, while its version has no timer recorded, finds the version written and completes the timer (once it
        has one, the same criteria again are a new request: 409)."""
        _vendor_admin(principal, "define the programme's criteria")
        for _ in attempts(ATTEMPTS):
            count, _latest = self.repository.latest_version()
            taken = self.repository.version_on(request.effective_from)
            now = self.clock()
            if (
                taken is not None
                and repeats(request, taken, created_by=principal.email)
                and not self.repository.version_announced(taken.version_id)
            ):
                _announce(self.repository, self.timers, taken, now)
                return taken
            check_new_version(request, today=now.date(), taken=taken)
            ensure_known_certifications(request, self.repository.known_certifications(named_certifications(request)))
            version = new_version(request, version_id=f"v{count + 1}", created_by=principal.email, now=now)
            try:
                self.repository.add_version(
                    version, expected_count=count, events=[version_added(version, now=now, event_id=new_id("evt"))]
                )
            except StaleProgramme:
                continue
            _announce(self.repository, self.timers, version, now)
            return version
        raise Conflict("Another criteria version is being added right now; try again.")

    def withdraw_version(self, principal: Principal, version_id: str, reason: str) -> Withdrawal:
        """A version not in force yet is withdrawn (kept for the record; its timers do nothing), which frees its date
        for a corrected one. What is or was in force is never withdrawn: it decided tiers."""
        _vendor_admin(principal, "withdraw criteria versions")
        for _ in attempts(ATTEMPTS):
            version = next((v for v in self.repository.versions() if v.version_id == version_id), None)
            if version is None:
                done = next((w for w in self.repository.withdrawals() if w.version.version_id == version_id), None)
                if done is not None:
                    self.timers.cancel_version(version_id)  # a retry after the timer's deletion failed
                    return done  # withdrawn already (a retry): the record as it is
                raise NotFound("No such criteria version.", code="unknown_version")
            now = self.clock()
            if effective_at(version) <= now:
                raise Conflict(
                    f"Version {version_id} is in force since {version.effective_from.isoformat()}: what applied is "
                    "never withdrawn; add a new version instead.",
                    code="version_in_force",
                )
            withdrawal = Withdrawal(version=version, reason=reason, withdrawn_by=principal.email, withdrawn_at=now)
            try:
                self.repository.withdraw_version(
                    withdrawal, events=[version_withdrawn(version, now=now, event_id=new_id("evt"))]
                )
            except StaleProgramme:
                continue
            # its fan-out timer goes too; should this step fail, the timer fires and finds the version withdrawn
            # (version_takes_effect evaluates nobody), and a retry of the withdrawal deletes it
            self.timers.cancel_version(version_id)
            return withdrawal
        raise Conflict("The criteria versions are changing right now; try again.")

    def withdrawals(self, principal: Principal) -> list[Withdrawal]:
        _vendor_admin(principal, "read criteria versions")
        return sorted(self.repository.withdrawals(), key=lambda w: w.withdrawn_at)

    def set_manual(self, principal: Principal, partner_id: str, criterion_id: str, *, met: bool, note: str) -> Standing:
        """A vendor admin marks a manual criterion (e.g. a signed business plan) met or not; the partner is evaluated
        at once (the consumer mails and schedules from the events this publishes)."""
        _vendor_admin(principal, "set manual criteria")
        now = self.clock()
        known = {
            m.criterion_id
            for v in (self.repository.version_in_force(now), self.repository.next_version(now))
            if v is not None
            for t in v.tiers
            for m in t.criteria.manual
        }
        if criterion_id not in known:
            raise NotFound("No such manual criterion in the criteria in force or announced.", code="unknown_criterion")
        mark = ManualMark(met=met, note=note, set_by=principal.email, set_at=now)

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            totals = counting.set_manual(standing.totals, criterion_id, mark)
            if totals is None:
                return None
            outcome = _evaluated(standing.model_copy(update={"totals": totals}), version, self.terms, now)
            return StandingChange(outcome.standing, outcome.events, outcome.history)

        standing, _ = _change(self.repository, self.clock, partner_id, change, create=False)
        return standing


def _named(fact: WindowFact) -> str:
    """A fact in outcomes: a deal's first win keeps the words it had before wins had revisions."""
    return f"{fact.kind} of {fact.deal_id}" + (f" (win {fact.win_revision})" if fact.win_revision > 1 else "")


# ====================================================================== the queue's use cases
@dataclass
class TierWorkflowService:
    """What tiers' queue runs. Side effects check the standing's current state and record themselves beside it
    (`effects`): the bus archive can replay an event after the de-duplication records expired."""

    repository: TiersRepository
    workflows: TierWorkflows
    mailer: Mailer
    notices: TierNotices
    effects: SideEffectLedger
    terms: rules.Terms
    clock: Clock = utc_now

    # ------------------------------------------------------------- the change, with its timers
    def _timers(self, before: Standing, after: Standing, version: CriteriaVersion | None, now: datetime) -> None:
        """Schedule (before writing: deterministic names make a retry harmless) a re-evaluation when the earliest
        window exit moved, and, once per version, the evaluation of every partner when it takes effect. The API sets
        that one as it publishes the version; this is the net under an API call that wrote its version and failed
        before the timer, and was never retried (the same timer name: it is set once whoever comes first)."""
        exit_at = after.totals.next_exit
        if exit_at is not None and exit_at != before.totals.next_exit:
            self.workflows.schedule_reevaluation(after.partner_id, exit_at, now)
        for known in (version, self.repository.next_version(now)):
            if known is not None:
                _announce(self.repository, self.workflows, known, now)

    def _apply(self, partner_id: str, change: Change) -> tuple[Standing, StandingChange | None]:
        now = self.clock()

        def with_timers(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            result = change(standing, version)
            self._timers(standing, standing if result is None else result.standing, version, now)
            return result

        return _change(self.repository, self.clock, partner_id, with_timers)

    def _evaluate_with(self, standing: Standing, version: CriteriaVersion | None, **parts: object) -> StandingChange:
        outcome = _evaluated(standing, version, self.terms, self.clock())
        return StandingChange(outcome.standing, outcome.events, outcome.history, **parts)  # type: ignore[arg-type]

    def _apply_in_force(
        self,
        partner_id: str,
        rule: Callable[[Standing, CriteriaVersion], rules.Outcome],
        *,
        what: str,
        stale: str,
    ) -> str:
        """A rule of the criteria in force (none in force: nothing changes); `stale` answers a rule's InvalidState."""

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            if version is None:
                return None
            outcome = rule(standing, version)
            return StandingChange(outcome.standing, outcome.events, outcome.history)

        try:
            _, written = self._apply(partner_id, change)
        except rules.InvalidState:
            return stale
        return self._outcome(what, written)

    @staticmethod
    def _outcome(what: str, written: StandingChange | None) -> str:
        if written is None:
            return f"{what}: nothing changed"
        kinds = [type(e).__name__ for e in written.events]
        return f"{what}: tier {written.standing.tier.tier_id if written.standing.tier else '-'}" + (
            f" ({', '.join(kinds)})" if kinds else ""
        )

    # ------------------------------------------------------------- training's catalogue
    def certification_defined(self, certification_id: str, name: str, at: datetime) -> str:
        """A certification criteria may name from now on (the newest definition wins)."""
        known = self.repository.define_certification(certification_id, name, at)
        return f"certification {certification_id} known" if known else "older or repeated event"

    # ------------------------------------------------------------- onboarding's events
    def onboard(self, partner_id: str, company_name: str) -> str:
        """The entry tier (one PartnerTierChanged), then an ordinary evaluation of whatever arrived before."""
        now = self.clock()

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            if standing.onboarded_at is not None:
                return None
            outcome = rules.onboard(standing, company_name, version, self.terms, now, new_id)
            return StandingChange(outcome.standing, outcome.events, outcome.history, enrol=True)

        _, written = self._apply(partner_id, change)
        return self._outcome("onboarded", written)

    def user_invited(
        self, partner_id: str, email: str, role: Literal["partner-admin", "partner-user"], at: datetime
    ) -> str:
        user = PartnerUser(email=email, role=role, active=True, as_of=at)
        return "user projected" if self.repository.save_user(partner_id, user) else "older or repeated event"

    def user_removed(self, partner_id: str, email: str, at: datetime) -> str:
        """The person stops receiving the partner's emails, and what they held stops counting at once."""
        known = self.repository.user(partner_id, email)
        if known is not None and known.as_of > at:
            return "older event: the person was invited again since"
        role = known.role if known else "partner-user"
        # a repeat goes on: if an earlier delivery failed after this write, its holdings still need removing
        self.repository.save_user(partner_id, PartnerUser(email=email, role=role, active=False, as_of=at))

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            holdings = self.repository.holdings_of(partner_id, email)  # read again on a retry
            totals, updated = counting.remove_person(standing.totals, holdings, at)
            if not updated:
                return None
            return self._evaluate_with(standing.model_copy(update={"totals": totals}), version, holdings=updated)

        _, written = self._apply(partner_id, change)
        return self._outcome("user removed", written)

    # ------------------------------------------------------------- deals' events
    def _record(self, partner_id: str, fact: WindowFact) -> str:
        now = self.clock()

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange:
            counted = counting.count_in(standing.totals, fact, now)
            if counted is None:
                return StandingChange(standing, fact=fact)  # outside the window already: on record, never counted
            return self._evaluate_with(
                standing.model_copy(update={"totals": counted}), version, fact=fact, counted=True
            )

        try:
            _, written = self._apply(partner_id, change)
        except DuplicateFact:
            return self._on_record(partner_id, fact)
        return self._outcome(_named(fact), written)

    def _on_record(self, partner_id: str, fact: WindowFact) -> str:
        """Why a fact already on record changes nothing now (read only then: a first delivery reads no more)."""
        recorded = self.repository.win(partner_id, fact.deal_id, fact.win_revision) if fact.kind == "revenue" else None
        if recorded is not None and recorded.reversal is not None and recorded.fact is None:
            return f"{_named(fact)} counts nothing: win {fact.win_revision} was reversed before it arrived"
        return f"{_named(fact)} already on record" + (" (reversed since)" if recorded and recorded.reversal else "")

    def deal_won(self, partner_id: str, deal_id: str, amount: Money, close_date: date, win_revision: int = 1) -> str:
        """One fact per win (deal, win_revision): a redelivery, or a win whose reversal came first, counts nothing."""
        fact = counting.revenue_fact(deal_id, amount, close_date, self.terms.window_days, win_revision)
        return self._record(partner_id, fact)

    def deal_win_reversed(
        self,
        partner_id: str,
        deal_id: str,
        win_revision: int,
        *,
        reason: str,
        reversed_by: str,
        previous_amount: Money,
        at: datetime,
    ) -> str:
        """The win's revenue leaves the running totals (and the window: its exit timer then finds nothing) if it is
        still counted, and the partner is evaluated (a shortfall starts a grace period: never a silent downgrade).
        Once per (deal, win_revision); a reversal before its win leaves a tombstone, so the late win counts nothing.
        Reads a few items by key whatever the partner's history."""
        reversal = WinReversal(
            deal_id=deal_id,
            win_revision=win_revision,
            reason=reason,
            reversed_by=reversed_by,
            reversed_at=at,
            previous_amount=previous_amount,
        )
        repeated = False

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            nonlocal repeated
            recorded = self.repository.win(partner_id, deal_id, win_revision)  # read again on a retry
            counted = recorded.fact if recorded and recorded.counted and not recorded.reversal else None
            in_window = counted is not None and self.repository.is_in_window(partner_id, counted)
            following = self.repository.next_exit_besides(partner_id, counted) if counted and in_window else None
            result = counting.reverse_win(standing.totals, recorded, reversal, in_window=in_window, following=following)
            repeated = result is None
            if result is None:
                return None
            totals, record, taken_out = result
            return self._evaluate_with(
                standing.model_copy(update={"totals": totals}),
                version,
                reversal=record,
                exited=[taken_out] if taken_out else [],
            )

        _, written = self._apply(partner_id, change)
        what = f"revenue of {deal_id} (win {win_revision})"
        return f"reversal of {what} already on record" if repeated else self._outcome(f"{what} reversed", written)

    def deal_approved(self, partner_id: str, deal_id: str, approved_at: datetime) -> str:
        return self._record(partner_id, counting.approval_fact(deal_id, approved_at, self.terms.window_days))

    def deal_lost(self, partner_id: str, deal_id: str) -> str:
        """A lost deal counts for nothing; the partner is evaluated again (criteria or time may have moved)."""
        return self.reevaluate_now(partner_id, f"deal {deal_id} lost")

    def reevaluate_now(self, partner_id: str, what: str) -> str:
        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            result = self._evaluate_with(standing, version)
            return result if result.standing != standing or result.events or result.history else None

        _, written = self._apply(partner_id, change)
        return self._outcome(what, written)

    # ------------------------------------------------------------- training's events
    def award_changed(
        self, partner_id: str, *, earned: bool, award_id: str, certification_id: str, holder: str, at: datetime
    ) -> str:
        """Distinct holders per certification: a renewal or a redelivery changes nothing; an expiry or withdrawal
        decrements once, when it was the person's last active award of that certification."""
        rule = counting.earn if earned else counting.end

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            result = rule(
                standing.totals,
                self.repository.holding(partner_id, holder, certification_id),
                self.repository.award(partner_id, award_id),
                award_id=award_id,
                certification_id=certification_id,
                holder=holder,
                at=at,
            )
            if result is None:
                return None
            totals, holding, award = result
            return self._evaluate_with(
                standing.model_copy(update={"totals": totals}), version, holdings=[holding], awards=[award]
            )

        _, written = self._apply(partner_id, change)
        return self._outcome(f"award {award_id} {'earned' if earned else 'ended'}", written)

    # ------------------------------------------------------------- timers
    def reevaluate(self, message: Reevaluation) -> str:
        """Facts leave the window (exact to the fact), or a version takes effect: subtract what left, evaluate."""
        now = self.clock()
        if message.due_at > now:
            raise NotYetDue(f"re-evaluation of {message.partner_id} is due at {iso(message.due_at)}")
        removed, outcome = 0, ""
        while True:
            exited, following = self.repository.window(message.partner_id, now, WINDOW_BATCH)
            more = len(exited) == WINDOW_BATCH
            _, written = self._apply(message.partner_id, self._slide(exited, following, more=more))
            removed += len(exited)
            outcome = self._outcome(f"{removed} facts left the window", written)
            if not more:
                break
        standing = self.repository.standing(message.partner_id)
        if standing is not None and standing.totals.next_exit is not None:  # renews a timer capped below its exit
            self.workflows.schedule_reevaluation(message.partner_id, standing.totals.next_exit, now)
        return outcome

    def version_takes_effect(self, message: VersionTakesEffect) -> str:
        """Every partner is evaluated under the version that takes effect, a page at a time (the next page is a timer
        of its own, so one delivery stays short and a failure repeats one page, which changes nothing twice)."""
        now = self.clock()
        if self.repository.withdrawn(message.version_id):
            return f"version {message.version_id} was withdrawn: nothing to evaluate"
        if message.due_at > now:
            raise NotYetDue(f"version {message.version_id} takes effect at {iso(message.due_at)}")
        page, following = self.repository.partners(message.after, VERSION_PAGE)
        for partner_id in page:
            self.reevaluate_now(partner_id, f"version {message.version_id} takes effect")
        if following is not None:
            self.workflows.schedule_version(message.version_id, now, following, now)
        return f"version {message.version_id}: {len(page)} partners evaluated" + (" (more follow)" if following else "")

    def _slide(self, exited: list[WindowFact], following: datetime | None, *, more: bool) -> Change:
        """Subtract the facts that left the window (the next exit is known once no more batches remain), evaluate."""

        def change(standing: Standing, version: CriteriaVersion | None) -> StandingChange | None:
            next_exit = standing.totals.next_exit if more else following
            totals = counting.count_out(standing.totals, exited, next_exit)
            result = self._evaluate_with(standing.model_copy(update={"totals": totals}), version, exited=exited)
            if not exited and result.standing == standing and not result.events and not result.history:
                return None
            return result

        return change

    # ------------------------------------------------------------- the upgrade approval
    def start_upgrade_review(self, request: TierUpgradeRequested) -> str:
        standing = self.repository.standing(request.partner_id)
        if standing is None or standing.pending is None or standing.pending.upgrade_id != request.upgrade_id:
            return "no review: that upgrade request was decided"
        version = self.repository.version_in_force(self.clock())
        evidence = []
        if version is not None:
            tier = version.tiers[index_of(version, request.proposed)]
            for status in statuses(tier, standing.totals, self.terms.window_days):
                evidence.append((status.label[:80], _evidence(status)))
        return self.workflows.start_upgrade_review(standing, request, evidence)

    def apply_decision(self, decision: TierUpgradeDecision) -> str:
        now = self.clock()

        def rule(standing: Standing, version: CriteriaVersion) -> rules.Outcome:
            return rules.decide_upgrade(
                standing,
                version,
                self.terms,
                upgrade_id=decision.upgrade_id,
                approved=decision.decision == "approved",
                decided_by=decision.decided_by,
                reason=decision.reason,
                now=now,
                new_id=new_id,
            )

        return self._apply_in_force(
            decision.partner_id, rule, what=f"upgrade {decision.decision}", stale="already decided"
        )

    def upgrade_lapsed(self, lapsed: TierUpgradeExpired) -> str:
        now = self.clock()

        def rule(standing: Standing, version: CriteriaVersion) -> rules.Outcome:
            return rules.lapse_upgrade(standing, version, upgrade_id=lapsed.upgrade_id, now=now)

        return self._apply_in_force(lapsed.partner_id, rule, what="upgrade lapsed", stale="already decided")

    # ------------------------------------------------------------- grace periods
    def grace_started(self, event: PartnerTierGracePeriodStarted) -> str:
        """Schedule its warnings and its end, and tell the partner's admins, once, if that grace period still runs."""
        standing = self.repository.standing(event.partner_id)
        grace = standing.grace if standing else None
        if standing is None or grace is None or grace.ends_at.date() != event.ends_on or grace.tier != event.tier:
            return "no grace notice: that grace period is over"
        timers = self.workflows.schedule_grace(standing, grace, self.clock())
        admins = self.repository.partner_admins(event.partner_id)
        if not admins:
            return f"{timers}; no partner admin known to mail"
        email = self.notices.grace_started(admins, standing, grace)
        sent = self.effects.once(
            f"PARTNER#{event.partner_id}", f"grace:{grace.grace_id}:start", lambda: self.mailer.send(email)
        )
        return f"{timers}; {sent}"

    def warn_grace(self, warning: GraceWarning) -> str:
        standing = self.repository.standing(warning.partner_id)
        if standing is None or not rules.grace_is_current(standing, warning.grace_id) or standing.grace is None:
            return "stale warning: that grace period is over"
        admins = self.repository.partner_admins(warning.partner_id)
        if not admins:
            return "no partner admin known to mail"
        version = self.repository.version_in_force(self.clock())
        short = (
            missing(version.tiers[index_of(version, standing.grace.tier)], standing.totals, self.terms.window_days)
            if version
            else standing.grace.missing
        )
        email = self.notices.grace_warning(admins, standing, standing.grace, warning.days_left, short)
        key = f"grace:{warning.grace_id}:warning:{iso(warning.due_at)}"
        return self.effects.once(f"PARTNER#{warning.partner_id}", key, lambda: self.mailer.send(email))

    def end_grace(self, ended: GraceEnds) -> str:
        """Only the timer of the current grace period ends it; one that arrives early is retried (NotYetDue)."""
        now = self.clock()

        def rule(standing: Standing, version: CriteriaVersion) -> rules.Outcome:
            return rules.end_grace(standing, version, self.terms, grace_id=ended.grace_id, now=now, new_id=new_id)

        return self._apply_in_force(
            ended.partner_id, rule, what="grace period ended", stale="stale timer: that grace period is over"
        )

    # ------------------------------------------------------------- tier change notices
    def announce_change(self, event: PartnerTierChanged) -> str:
        """Tell the partner's admins of an upgrade or a downgrade, once, while the standing still shows it."""
        if event.direction == "initial":
            return "no notice for the entry tier"
        standing = self.repository.standing(event.partner_id)
        if standing is None or standing.tier != event.tier or standing.tier_since != event.effective_at:
            return "no notice: the tier has changed since"
        admins = self.repository.partner_admins(event.partner_id)
        if not admins:
            return "no partner admin known to mail"
        notice = self.notices.upgraded if event.direction == "upgrade" else self.notices.downgraded
        email = notice(admins, standing, event.reason)
        key = f"tier:{event.tier.tier_id}:{iso(event.effective_at)}"
        return self.effects.once(f"PARTNER#{event.partner_id}", key, lambda: self.mailer.send(email))
