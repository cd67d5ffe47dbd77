"""Fund requests on the queue: the review that starts on submission, the approval chain's decision, a lapse, and
the partner's notices."""

from __future__ import annotations

from dataclasses import dataclass

from mdf.domain import requests
from mdf.domain.common import Change
from mdf.models import Fund, FundRequest, RequestApprovalExpired, RequestDecision
from mdf.notifications import request_decided
from mdf.service.base import FollowUps
from shared.ids import new_id


@dataclass(kw_only=True)
class RequestLifecycle(FollowUps):
    claim_due_days: int  # days after the activity ends to file the claim (within the claim window)

    def start_review(self, request_id: str, round_: int) -> str:
        """A submitted round goes under review: the approval chain starts (once per round: a deterministic name)."""
        request = self._request(request_id)
        if (why_not := requests.why_no_review(request, round_)) is not None:
            return why_not
        decision_due_at = self.workflows.decision_due(self.clock())

        def rule(current: FundRequest, fund: Fund | None) -> Change:
            return Change(request=requests.under_review(current, decision_due_at=decision_due_at, now=self.clock()))

        self._on_request(request_id, rule)
        fund = self.repository.fund(request.partner_id, request.fund_id)
        partner = self.repository.partner(request.partner_id)
        return self.workflows.start_request_approval(request, fund, partner)

    def decide(self, decision: RequestDecision) -> str:
        """The approval chain decided: reserve what was granted (if the fund still has it), or reject."""
        change = self._on_request(
            decision.request_id,
            lambda request, fund: requests.decide_request(
                request, decision, fund, claim_due_days=self.claim_due_days, now=self.clock(), new_id=new_id
            ),
        )
        return change.outcome

    def lapse(self, message: RequestApprovalExpired) -> str:
        """Nobody decided in time: the request expires (it may be revised), and the partner is told."""
        change = self._on_request(
            message.request_id, lambda request, fund: requests.approval_lapsed(request, message, now=self.clock())
        )
        # The notice follows the stored state, not this run's change: if mailing failed after the save, the
        # redelivered message finds the request expired and mails then (once per round).
        request = self._request(message.request_id)
        if request.status == "expired":
            notice = request_decided(request, self.portal_url)
            self._once(request, f"expired:{request.round}", lambda: self._mail(notice))
        return change.outcome

    def announce_approval(self, request_id: str, round_: int) -> str:
        """Tell the partner, and start the claim's due timer."""
        request = self._request(request_id)
        if not requests.decision_still_current(request, round_, "approved"):
            return f"no approval notice: the request is {request.status} (round {request.round})"

        def effect() -> str:
            timer = self.workflows.start_claim_timer(request, self.clock())
            self._mail(request_decided(request, self.portal_url))
            return timer

        return self._once(request, f"approved:{round_}", effect)

    def announce_rejection(self, request_id: str, round_: int) -> str:
        request = self._request(request_id)
        if not requests.decision_still_current(request, round_, "rejected"):
            return "stale: the request was revised before this event was handled"
        return self._once(request, f"rejected:{round_}", lambda: self._mail(request_decided(request, self.portal_url)))
