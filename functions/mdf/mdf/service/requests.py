"""Fund requests at the HTTP edge: submission, revision and reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mdf.domain import requests
from mdf.domain.access import ensure_own, owner_read
from mdf.domain.common import Change
from mdf.domain.periods import fund_id
from mdf.models import Fund, FundRequest, FundRequestBody
from mdf.service.base import UseCases
from shared.ids import new_id
from shared.principal import Principal


@dataclass(kw_only=True)
class RequestsService(UseCases):
    lead_days: int  # how far ahead an activity must start

    def _open_currencies(self, partner_id: str, period_id: str, fund: Fund | None) -> tuple[str, ...]:
        if not requests.needs_open_currencies(fund):
            return ()
        funds = self.repository.funds(partner_id)
        return tuple(f.currency for f in funds if f.period_id == period_id and f.status == "open")

    def _submitted(
        self, principal: Principal, partner_id: str, body: FundRequestBody, previous: FundRequest | None
    ) -> Change:
        period = self.repository.period(body.period_id)
        fund = self.repository.fund(partner_id, fund_id(body.period_id, body.requested.currency))
        return requests.submit(
            body,
            partner_id=partner_id,
            user=principal.email,
            period=period,
            fund=fund,
            lead_days=self.lead_days,
            now=self.clock(),
            new_id=new_id,
            open_currencies=self._open_currencies(partner_id, body.period_id, fund),
            previous=previous,
        )

    def submit(self, principal: Principal, body: FundRequestBody) -> FundRequest:
        change = self._submitted(principal, self._partner_of(principal), body, None)
        assert change.request is not None
        self.repository.write(request=change.request, request_is_new=True, events=change.events)
        return change.request

    def revise(self, principal: Principal, request_id: str, body: FundRequestBody) -> FundRequest:
        partner_id = self._partner_of(principal)
        previous = ensure_own(principal, self.repository.request(request_id))
        change = self._submitted(principal, partner_id, body, previous)
        return self._save_partner_change(change)

    def get(self, principal: Principal, request_id: str) -> FundRequest:
        return ensure_own(principal, self.repository.request(request_id))

    def list_requests(
        self, principal: Principal, partner_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[FundRequest], str | None]:
        """The caller's requests, or for a vendor admin those of the partner named."""
        owner = owner_read(principal, partner_id)
        return self.repository.requests(owner, status=status, limit=limit, cursor=cursor)

    @staticmethod
    def next_step(request: FundRequest) -> tuple[str, datetime | None]:
        """What the partner is to do next, and by when."""
        return requests.next_step(request)
