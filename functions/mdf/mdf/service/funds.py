"""Funds at the HTTP edge: programme periods, the partners MDF knows, vendor allocations and adjustments, balances
and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mdf.domain import ledger, periods
from mdf.domain.access import owner_read, require_vendor
from mdf.domain.common import Change
from mdf.models import AdjustmentBody, AllocationBody, Fund, LedgerEntry, PartnerProjection, Period, PeriodBody
from mdf.ports import StaleWrite
from mdf.service.base import ATTEMPTS, Busy, UseCases
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.ids import new_id
from shared.principal import Principal
from shared.retry import attempts

# A rule booking on a fund of a period, as read now (None: the fund does not exist yet).
FundRule = Callable[[Fund | None, Period], Change]


@dataclass(kw_only=True)
class FundsService(UseCases):
    # ------------------------------------------------------------- periods and partners
    def periods(self) -> list[Period]:
        return periods.newest_first(self.repository.periods())

    def add_period(self, principal: Principal, body: PeriodBody) -> Period:
        require_vendor(principal)
        now = self.clock()
        period = periods.ensure_consistent(
            Period(**body.model_dump(), created_by=principal.email, created_at=now), now=now
        )
        for _ in attempts(ATTEMPTS):  # periods never overlap, even when two are added at once
            version = self.repository.periods_version()
            periods.ensure_new(period, self.repository.periods())
            try:
                self.repository.add_period(period, version=version)
            except StaleWrite:
                continue
            return period
        raise Busy()

    def set_accrual_rate(self, principal: Principal, period_id: str, rate_bp: int) -> Period:
        require_vendor(principal)
        period = self.repository.set_accrual_rate(period_id, rate_bp)
        if period is None:
            raise NotFound("No such period.")
        return period

    def partners(
        self, principal: Principal, limit: int, cursor: str | None
    ) -> tuple[list[PartnerProjection], str | None]:
        require_vendor(principal)
        return self.repository.partners(limit=limit, cursor=cursor)

    # ------------------------------------------------------------- allocations and adjustments
    def _vendor_booking(
        self, principal: Principal, partner_id: str, period_id: str, currency: str, rule: FundRule
    ) -> tuple[Fund, LedgerEntry]:
        """An allocation or adjustment by vendor staff: `rule(fund, period)` books it on the fund as read now."""
        require_vendor(principal)
        if self.repository.partner(partner_id) is None:
            raise ValidationFailed("Unknown partner.", [FieldError("partner_id", "no such partner")])
        period = self.repository.period(period_id)
        if period is None:
            raise ValidationFailed("Unknown programme period.", [FieldError("period_id", "no such period")])
        change = self._on_fund(partner_id, periods.fund_id(period_id, currency), lambda fund: rule(fund, period))
        if change.fund is None or not change.entries:  # its reference was booked already: nothing was booked twice
            raise Conflict("This booking was already recorded; reload the balance.", code="already_booked")
        return change.fund, change.entries[0]

    def allocate(self, principal: Principal, body: AllocationBody) -> tuple[Fund, LedgerEntry]:
        return self._vendor_booking(
            principal,
            body.partner_id,
            body.period_id,
            body.amount.currency,
            lambda fund, period: ledger.allocate(
                fund,
                period,
                partner_id=body.partner_id,
                amount=body.amount,
                note=body.note,
                actor=principal.email,
                now=self.clock(),
                new_id=new_id,
            ),
        )

    def adjust(self, principal: Principal, body: AdjustmentBody) -> tuple[Fund, LedgerEntry]:
        return self._vendor_booking(
            principal,
            body.partner_id,
            body.period_id,
            body.amount.currency,
            lambda fund, period: ledger.adjust(
                fund,
                period,
                partner_id=body.partner_id,
                amount_minor=body.amount.amount_minor,
                currency=body.amount.currency,
                note=body.note,
                actor=principal.email,
                now=self.clock(),
                new_id=new_id,
            ),
        )

    # ------------------------------------------------------------- balances
    def funds(self, principal: Principal, partner_id: str | None) -> list[Fund]:
        owner = owner_read(principal, partner_id)
        return sorted(self.repository.funds(owner), key=lambda f: (f.claim_window_ends_at, f.fund_id), reverse=True)

    def fund(self, principal: Principal, partner_id: str | None, fund_id: str) -> Fund:
        owner = owner_read(principal, partner_id)
        periods.parse_fund_id(fund_id)
        fund = self.repository.fund(owner, fund_id)
        if fund is None:
            raise NotFound("No such fund.")
        return fund

    def ledger(
        self, principal: Principal, partner_id: str | None, fund_id: str, limit: int, cursor: str | None
    ) -> tuple[Fund, list[LedgerEntry], str | None]:
        fund = self.fund(principal, partner_id, fund_id)
        entries, next_cursor = self.repository.ledger(fund.partner_id, fund_id, limit=limit, cursor=cursor)
        return fund, entries, next_cursor

    def is_open(self, period: Period) -> bool:
        return periods.period_open(period, self.clock())
