"""What every MDF use case shares: the repository and the clock, who is asking, and the read-decide-write loop that
retries a lost race (jittered backoff) and books a guarded reference once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mdf.domain.access import require_partner_user
from mdf.domain.common import Change
from mdf.models import Fund, FundRequest
from mdf.ports import AlreadyBooked, MdfStore, MdfWorkflows, StaleWrite
from shared.clock import Clock, utc_now
from shared.errors import Conflict, Forbidden
from shared.mail import Email
from shared.ports import Mailer, SideEffectLedger
from shared.principal import Principal
from shared.retry import attempts

ATTEMPTS = 8  # optimistic retries when concurrent changes race on one fund or request


class Busy(Conflict):
    def __init__(self) -> None:
        super().__init__("The fund is changing right now; try again.", code="conflict")


@dataclass(kw_only=True)
class UseCases:
    repository: MdfStore
    clock: Clock = utc_now

    def require_agreement(self, principal: Principal) -> None:
        """Partner users act only once they accepted the current programme agreement (vendor staff always may)."""
        self.repository.require_agreement(principal)

    def _partner_of(self, principal: Principal) -> str:
        """A partner user of an active partner; the partner id is the token's, never the body's."""
        partner_id = require_partner_user(principal)
        partner = self.repository.partner(partner_id)
        if partner is None or partner.status != "active":
            raise Forbidden("Your organisation is not an active partner.", code="partner_inactive")
        return partner_id

    def _request(self, request_id: str) -> FundRequest:
        """A request an event or a workflow message names (it exists: the queue retries until it can be read)."""
        request = self.repository.request(request_id)
        if request is None:
            raise LookupError(f"request {request_id} not found")
        return request

    def _save_partner_change(self, change: Change) -> FundRequest:
        """Save a partner's change of their request as read; if it changed meanwhile, they reload it (409)."""
        assert change.request is not None
        try:
            self.repository.write(request=change.request, events=change.events)
        except StaleWrite as stale:
            raise Conflict("The request changed meanwhile; reload it.") from stale
        return change.request

    def _retrying(self, once: Callable[[], Change]) -> Change:
        """Run a read-decide-write step; a lost race reads again, a reference booked before is a duplicate."""
        for _ in attempts(ATTEMPTS):
            try:
                return once()
            except StaleWrite:
                continue
            except AlreadyBooked:
                return Change(outcome="duplicate")
        raise Busy()

    def _commit(self, change: Change, fund_read: Fund | None) -> Change:
        """Write what a rule decided, on condition that the fund is still as it was read."""
        if change.request is not None or change.fund is not None or change.win is not None:
            self.repository.write(
                fund=change.fund,
                fund_seq=fund_read.seq if fund_read is not None else None,
                fund_status=fund_read.status if fund_read is not None else "open",
                entries=change.entries,
                guards=change.guards,
                request=change.request,
                win=change.win,
                win_status_read=change.win_status_read,
                events=change.events,
            )
        return change

    def _on_fund(self, partner_id: str, fund_id: str, rule: Callable[[Fund | None], Change]) -> Change:
        """Apply a ledger rule to the fund as read now."""

        def once() -> Change:
            fund = self.repository.fund(partner_id, fund_id)
            return self._commit(rule(fund), fund)

        return self._retrying(once)

    def _on_request(self, request_id: str, rule: Callable[[FundRequest, Fund | None], Change]) -> Change:
        """Apply a rule to a request and its fund together (reservation, payment, release)."""

        def once() -> Change:
            request = self._request(request_id)
            fund = self.repository.fund(request.partner_id, request.fund_id)
            return self._commit(rule(request, fund), fund)

        return self._retrying(once)


@dataclass(kw_only=True)
class FollowUps(UseCases):
    """Use cases run on MDF's events, workflow messages and timers: besides the records, they start workflows,
    schedule timers and mail partners. Each side effect checks the request's current state and records itself beside
    it: the bus archive can replay an event after the de-duplication records expired, and nothing may be mailed or
    started twice."""

    workflows: MdfWorkflows
    mailer: Mailer
    effects: SideEffectLedger
    portal_url: str

    def _once(self, request: FundRequest, key: str, effect: Callable[[], str]) -> str:
        return self.effects.once(f"REQUEST#{request.request_id}", key, effect)

    def _mail(self, email: Email) -> str:
        return self.mailer.send(email)
