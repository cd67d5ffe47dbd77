"""Funds on the queue: partners projected from onboarding's events, won deals accrued (and reversed wins taken back),
the fund's expiry timer, its warnings and the expiry itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.deals import DealWinReversed, DealWon
from contracts.onboarding import PartnerOnboarded
from mdf.domain import ledger, periods, timers
from mdf.domain.common import Change
from mdf.models import Fund, PartnerProjection
from mdf.notifications import funds_expiring
from mdf.service.base import FollowUps
from shared.errors import NotYetDue
from shared.ids import new_id


@dataclass(kw_only=True)
class FundLifecycle(FollowUps):
    def project_partner(self, event: PartnerOnboarded) -> str:
        """MDF's own view of a partner, from onboarding's events (never from onboarding's table)."""
        partner = PartnerProjection(
            partner_id=event.partner_id,
            company_name=event.company_name,
            country=event.country,
            status=event.status,
            contact_name=event.primary_contact.name,
            contact_email=str(event.primary_contact.email),
            as_of=event.occurred_at,
        )
        return "projected" if self.repository.project_partner(partner) else "older or repeated"

    def accrue(self, won: DealWon) -> str:
        """Accrue one win (deal, win_revision) once; a win whose reversal arrived first accrues nothing."""
        period = periods.period_for(self.repository.periods(), won.close_date)

        def once() -> Change:
            recorded = self.repository.win_accrual(won.deal_id, won.win_revision)
            if recorded is not None:
                return Change(outcome=ledger.recorded_outcome(recorded))
            if period is None:
                return Change(outcome=f"not accrued: no period contains {won.close_date}")
            fund = self.repository.fund(won.partner_id, periods.fund_id(period.period_id, won.amount.currency))
            return self._commit(ledger.accrue(fund, period, won, now=self.clock(), new_id=new_id), fund)

        return self._retrying(once).outcome

    def reverse_accrual(self, reversal: DealWinReversed) -> str:
        """Take back what the reversed win accrued (once); before its win arrived, leave a tombstone for it."""

        def once() -> Change:
            recorded = self.repository.win_accrual(reversal.deal_id, reversal.win_revision)
            fund = None
            if recorded is not None and recorded.status == "accrued" and recorded.fund_id is not None:
                fund = self.repository.fund(recorded.partner_id, recorded.fund_id)
            rule = ledger.reverse_accrual(recorded, fund, reversal, now=self.clock(), new_id=new_id)
            return self._commit(rule, fund)

        return self._retrying(once).outcome

    def _fund(self, partner_id: str, fund_id: str) -> Fund:
        fund = self.repository.fund(partner_id, fund_id)
        if fund is None:
            raise LookupError(f"fund {fund_id} of {partner_id} not found")
        return fund

    def start_expiry_timer(self, partner_id: str, fund_id: str) -> str:
        """A fund that received money gets its expiry timer (started once per fund: a deterministic name)."""
        fund = self._fund(partner_id, fund_id)
        if fund.status != "open":
            return "no timer: the fund is closed"  # a replayed event of a fund that expired long ago
        return self.workflows.start_fund_timer(fund, self.clock())

    def renew_expiry_timer(self, partner_id: str, fund_id: str, claim_window_ends_at: datetime) -> str:
        fund = self.repository.fund(partner_id, fund_id)
        if fund is None:
            return "no such fund"
        return self.workflows.start_fund_timer(
            fund, self.clock(), suffix=timers.fund_renewal_suffix(claim_window_ends_at)
        )

    def warn_expiry(self, partner_id: str, fund_id: str, days_left: int) -> str:
        fund = self.repository.fund(partner_id, fund_id)
        partner = self.repository.partner(partner_id)
        if fund is None or partner is None or not timers.expiry_warning_needed(fund):
            return "no warning needed"
        key = f"expiry-warning:{days_left}"  # timers deliver at least once: one warning per fund and offset
        return self.effects.once(
            f"FUND#{partner_id}#{fund_id}",
            key,
            lambda: self._mail(funds_expiring(fund, partner, days_left, self.portal_url)),
        )

    def expire_fund(self, partner_id: str, fund_id: str) -> str:
        """The claim window ended: the fund closes and what is still available expires. Early: NotYetDue (retried)."""

        def rule(fund: Fund | None) -> Change:
            if fund is None:
                return Change(outcome="no such fund")
            return ledger.expire_fund(fund, now=self.clock(), new_id=new_id)

        change = self._on_fund(partner_id, fund_id, rule)
        if change.too_early:
            raise NotYetDue()
        return change.outcome
