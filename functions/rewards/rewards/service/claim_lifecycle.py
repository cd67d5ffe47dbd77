"""Claims on the queue (`ClaimLifecycle`): the review started from RewardClaimSubmitted (once per claim and round),
the reviewer's decision (approve earns the rule's reward through the
earning service, source kind "claim"; decline; return for more proof), a review that lapsed, the claimant's email."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.rewards import RewardClaimSubmitted
from rewards.domain import claims
from rewards.domain.earning import ClaimNotEarned
from rewards.models.redemptions import Claim, ClaimDecision, ClaimReviewExpired
from rewards.notifications_redemptions import claim_decided
from rewards.ports import ClaimEarner, ClaimReviews, Mailer, SideEffectLedger, StaleRedemption
from rewards.service.claims import ClaimUseCases
from shared.errors import Conflict
from shared.observability import logger, metrics
from shared.retry import attempts

ATTEMPTS = 8
MAX_REVIEW_ATTEMPTS = 3  # a review that keeps lapsing starts again this often, then operations must act


@dataclass(kw_only=True)
class ClaimLifecycle(ClaimUseCases):
    reviews: ClaimReviews
    earner: ClaimEarner
    mailer: Mailer
    effects: SideEffectLedger
    portal_url: str

    def _apply(self, claim_id: str, rule: Callable[[Claim], claims.ClaimChange]) -> tuple[Claim, claims.ClaimChange]:
        for _ in attempts(ATTEMPTS):
            claim = self._claim(claim_id)
            change = rule(claim)
            if change.claim is None:
                return claim, change
            try:
                self.repository.save_claim(change.claim)
            except StaleRedemption:
                continue
            return change.claim, change
        raise Conflict("The claim is changing right now.")

    def start_review(self, event: RewardClaimSubmitted) -> str:
        """A claim (re)submitted: its review round starts, once (the execution is named by the claim, round and
        attempt 0, so a redelivered event starts nothing more); an event of an earlier round, or of a claim decided
        meanwhile, starts nothing."""
        claim = self._claim(event.claim_id)
        if claim.round != event.round:
            return f"no review: the claim is in round {claim.round}, the event is of round {event.round}"
        if claim.status != "submitted":
            return f"no review: the claim is {claim.status}"
        return self.reviews.start_claim_review(claim, attempt=0)

    def decide(self, message: ClaimDecision) -> str:
        """Apply the reviewer's decision once; an approval earns the rule's reward (once: the earning is keyed by
        the claim), and the claimant is told (once per round and outcome)."""
        now = self.clock()
        claim, change = self._apply(message.claim_id, lambda c: claims.decide(c, message, now=now))
        outcome = change.outcome
        if change.earn:
            try:
                earned = self.earner.earn_claim(claim, message.review.decided_by, now)
            except ClaimNotEarned as refused:  # never "approved" without a reward: the claim says why
                reason = refused.reason
                claim, change = self._apply(claim.claim_id, lambda c: claims.not_earned(c, reason, now=now))
                earned = f"no reward: {reason}"
            outcome = f"{outcome}; {earned}"
        if claim.round == message.round and claim.status in ("approved", "declined", "returned"):
            outcome = f"{outcome}; {self._announce(claim)}"
        return outcome

    def _announce(self, claim: Claim) -> str:
        mail = claim_decided(claim, self.portal_url)
        key = f"claim-{claim.status}:{claim.round}"
        return self.effects.once(f"CLAIM#{claim.claim_id}", key, lambda: self.mailer.send(mail))

    def lapsed(self, message: ClaimReviewExpired) -> str:
        """Nobody reviewed in time: the person did their part, so the review starts again (escalated), a few times;
        then operations must act (the metric has an alarm)."""
        claim = self._claim(message.claim_id)
        if claim.status != "submitted" or claim.round != message.round:
            return "claim no longer waiting"
        attempt = message.attempt + 1
        if attempt >= MAX_REVIEW_ATTEMPTS:
            logger.error("claim review abandoned after repeated lapses", extra={"claim_id": claim.claim_id})
            metrics.add_metric(name="RewardClaimReviewsAbandoned", unit="Count", value=1)
            return "review abandoned: needs operations"
        return self.reviews.start_claim_review(claim, attempt=attempt)
