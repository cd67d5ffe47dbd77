"""Claims on the queue: the review (started, decided, restarted after a lapse), the partner's notices, the due-date
reminders and the deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mdf.domain import claims, timers
from mdf.domain.common import Change
from mdf.models import (
    ClaimDecision,
    ClaimReviewExpired,
    ClaimStatus,
    Fund,
    FundRequest,
)
from mdf.notifications import claim_decided, claim_due_soon
from mdf.service.base import FollowUps
from shared.errors import NotYetDue
from shared.ids import new_id
from shared.observability import logger, metrics

STALE_TIMER = "stale timer (the due date moved)"


@dataclass(kw_only=True)
class ClaimLifecycle(FollowUps):
    def start_review(self, request_id: str, round_: int) -> str:
        """A filed claim goes to review (once per round and attempt: a deterministic name)."""
        request = self._request(request_id)
        if (why_not := claims.why_no_review(request, round_)) is not None:
            return why_not
        return self.workflows.start_claim_review(request, self.repository.partner(request.partner_id), attempt=0)

    def decide(self, decision: ClaimDecision) -> str:
        """Pay (and release the unspent rest), reject (release all) or return the claim for more proof."""

        def rule(request: FundRequest, fund: Fund | None) -> Change:
            if fund is None:
                raise LookupError(f"fund {request.fund_id} of {request.request_id} not found")
            return claims.decide_claim(request, decision, fund, now=self.clock(), new_id=new_id)

        return self._on_request(decision.request_id, rule).outcome

    def restart_review(self, lapse: ClaimReviewExpired) -> str:
        """Nobody reviewed the claim in time: the review starts again (escalated), a few times; then operations must
        act (the metric has an alarm). Redelivery starts the same attempt: one review."""
        request = self._request(lapse.request_id)
        if not claims.awaiting_review(request, lapse.round):
            return "claim no longer waiting"
        attempt = claims.next_review_attempt(lapse)
        if attempt is None:
            logger.error("claim review abandoned after repeated lapses", extra={"request_id": request.request_id})
            metrics.add_metric(name="MdfClaimReviewsAbandoned", unit="Count", value=1)
            return "review abandoned: needs operations"
        logger.warning(
            "claim review lapsed; starting again", extra={"request_id": request.request_id, "attempt": attempt}
        )
        partner = self.repository.partner(request.partner_id)
        return self.workflows.start_claim_review(request, partner, attempt=attempt)

    def announce_decision(self, request_id: str, status: ClaimStatus) -> str:
        """Tell the partner how the claim was decided; a returned claim gets a timer for its new due date."""
        request = self._request(request_id)
        claim = request.claim
        if claim is None or not claims.decision_still_current(request, status):
            return "stale: the claim moved on (resubmitted) before this event was handled"

        def effect() -> str:
            if claim.status == "returned":
                # The partner has until the new due date to add proof; past it, the reservation is released.
                suffix = timers.returned_claim_suffix(claim.round)
                self.workflows.start_claim_timer(request, self.clock(), suffix=suffix)
            return self._mail(claim_decided(request, self.portal_url))

        return self._once(request, f"claim-{claim.status}:{claim.round}", effect)

    def _current(self, request_id: str, claim_due_at: datetime) -> FundRequest | None:
        """The request, if the timer is still for its due date (a returned claim moves the date)."""
        request = self._request(request_id)
        return request if timers.claim_timer_current(request, claim_due_at) else None

    def remind(self, request_id: str, claim_due_at: datetime, days_left: int) -> str:
        request = self._current(request_id, claim_due_at)
        if request is None:
            return STALE_TIMER
        if not timers.claim_reminder_needed(request):
            return "claim already filed"
        key = f"claim-reminder:{claim_due_at.isoformat()}:{days_left}"  # timers deliver at least once
        return self._once(request, key, lambda: self._mail(claim_due_soon(request, days_left, self.portal_url)))

    def renew_timer(self, request_id: str, claim_due_at: datetime) -> str:
        request = self._current(request_id, claim_due_at)
        if request is None:
            return STALE_TIMER
        now = self.clock()
        return self.workflows.start_claim_timer(request, now, suffix=timers.claim_renewal_suffix(now))

    def deadline(self, request_id: str, claim_due_at: datetime) -> str:
        """No claim by the due date: the request lapses and its reservation is released. Early: NotYetDue (retried)."""

        def rule(request: FundRequest, fund: Fund | None) -> Change:
            if fund is None:
                return Change(outcome="nothing due")
            if not timers.claim_timer_current(request, claim_due_at):
                return Change(outcome=STALE_TIMER)
            return claims.claim_deadline(request, fund, now=self.clock(), new_id=new_id)

        change = self._on_request(request_id, rule)
        if change.too_early:
            raise NotYetDue()
        return change.outcome
