"""SPIFF claims: a person claims a campaign's `spiff_claim` rule with proof, inside the campaign's window; the review
approves it (a reward is earned through the earning rules, source kind "claim"), declines it with a reason, or returns
it for more proof (the person adds proof and resubmits: a new review round)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.rewards import RewardAmount, RewardClaimSubmitted
from rewards.domain.eligibility import ineligible, runs_on
from rewards.models.earning import Campaign, PartnerAt, SpiffClaim
from rewards.models.redemptions import Claim, ClaimBody, ClaimDecision, ProofFile, StatusChange
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed

MAX_ROUNDS = 5  # a claim returned this often is declined on the next return instead: the reviewer must decide


class ClaimClosed(Conflict):
    def __init__(self, message: str, code: str = "invalid_state") -> None:
        super().__init__(message, code=code)


@dataclass
class ClaimChange:
    claim: Claim | None = None
    outcome: str = ""
    earn: bool = False  # the claim is approved: its reward is (to be) earned
    mail: bool = False  # the claimant is told the decision


def claim_id(partner_id: str, person: str, file_ids: list[str]) -> str:
    """Deterministic from who claims with which files (a file proves one claim): a retried POST is the same claim."""
    digest = hashlib.sha256("|".join([partner_id, person, *sorted(file_ids)]).encode()).hexdigest()[:26]
    return f"clm_{digest}"


def spiff_rule(campaign: Campaign | None, rule_id: str, partner: PartnerAt, now: datetime) -> SpiffClaim:
    """The campaign's SPIFF rule a claim is for; the campaign must be running and open to the partner now."""
    if campaign is None:
        raise NotFound("No such campaign.", code="campaign_not_found")
    rule = campaign.rule(rule_id)
    if not isinstance(rule, SpiffClaim):
        raise ValidationFailed(
            "The rule cannot be claimed.", [FieldError("rule_id", "not a SPIFF claim rule of this campaign")]
        )
    if not runs_on(campaign, now.astimezone(UTC).date()):
        raise ClaimClosed(
            f"Claims for {campaign.name} are accepted from {campaign.starts_on} to {campaign.ends_on}.",
            code="campaign_not_running",
        )
    why_not = ineligible(campaign, partner, now.astimezone(UTC))
    if why_not is not None:
        raise ClaimClosed(f"Your organisation cannot claim in {campaign.name}: {why_not}.", code="not_eligible")
    return rule


def file_claim(
    campaign: Campaign,
    rule: SpiffClaim,
    body: ClaimBody,
    files: list[ProofFile],
    *,
    partner_id: str,
    person: str,
    now: datetime,
) -> Claim:
    return Claim(
        claim_id=claim_id(partner_id, person, body.proof_files),
        partner_id=partner_id,
        person=person,
        campaign_id=campaign.campaign_id,
        campaign_name=campaign.name,
        rule_id=body.rule_id,
        unit=campaign.unit,
        amount=rule.amount,
        description=body.description,
        proof_files=files,
        status="submitted",
        status_at=now,
        submitted_at=now,
        history=[StatusChange(status="submitted", at=now, by=person)],
    )


def submitted(claim: Claim, *, new_id: Callable[[str], str]) -> RewardClaimSubmitted:
    """The event of a claim (re)submitted for review: written with the claim, it starts the claim's review round."""
    return RewardClaimSubmitted.occurred(
        at=claim.status_at,
        event_id=new_id("evt"),
        partner_id=claim.partner_id,
        claim_id=claim.claim_id,
        person_email=claim.person,
        campaign_id=claim.campaign_id,
        rule_id=claim.rule_id,
        round=claim.round,
        amount=RewardAmount(amount=claim.amount, unit=claim.unit),
    )


def _moved(claim: Claim, status: str, *, reason: str | None, by: str, now: datetime, **changes: object) -> Claim:
    step = StatusChange(status=status, reason=reason, at=now, by=by)
    return claim.model_copy(
        update={
            "status": status,
            "status_reason": reason,
            "status_at": now,
            "history": [*claim.history, step],
            "revision": claim.revision + 1,
        }
        | changes
    )


def resubmit(
    claim: Claim,
    files: list[ProofFile],
    description: str | None,
    *,
    by: str,
    campaign: Campaign | None,
    partner: PartnerAt,
    now: datetime,
) -> Claim:
    """A returned claim with more proof goes to review again (a new round), while its campaign still runs."""
    if claim.status != "returned":
        raise ClaimClosed(f"The claim is {claim.status}; only a returned claim takes more proof.")
    spiff_rule(campaign, claim.rule_id, partner, now)
    return _moved(
        claim,
        "submitted",
        reason=None,
        by=by,
        now=now,
        proof_files=files,
        description=description or claim.description,
        round=claim.round + 1,
    )


NOT_EARNED_BY = "Rewards ledger"


def not_earned(claim: Claim, reason: str, *, now: datetime) -> ClaimChange:
    """The reviewer approved the claim but it earns no reward (the earning side says why): the claim is declined with
    that reason, so the partner never sees an approved claim without its reward. Applied once."""
    if claim.status != "approved":
        return ClaimChange(outcome=f"already {claim.status}")
    because = f"Approved, but no reward can be paid: {reason}"[:500]
    return ClaimChange(
        claim=_moved(claim, "declined", reason=because, by=NOT_EARNED_BY, now=now), mail=True, outcome="not earned"
    )


def decide(claim: Claim, decision: ClaimDecision, *, now: datetime) -> ClaimChange:
    """The reviewer's decision on this round, applied once. A repeat of an approval of this round earns again (the
    earning is idempotent: a crash between the two writes loses nothing); anything else stale changes nothing."""
    review = decision.review
    if claim.round != decision.round:
        return ClaimChange(outcome="stale round")
    if claim.status != "submitted":
        repeat = claim.status == "approved" and review.decision == "approved"
        return ClaimChange(claim=None, earn=repeat, outcome=f"already {claim.status}")
    by = review.decided_by
    if review.decision == "approved":
        return ClaimChange(
            claim=_moved(claim, "approved", reason=None, by=by, now=now, decided_by=by),
            earn=True,
            mail=True,
            outcome="approved",
        )
    if review.decision == "returned" and claim.round < MAX_ROUNDS:
        reason = review.reason or "More proof is needed."
        return ClaimChange(
            claim=_moved(claim, "returned", reason=reason, by=by, now=now, decided_by=by), mail=True, outcome="returned"
        )
    reason = review.reason or "The claim was declined."
    return ClaimChange(
        claim=_moved(claim, "declined", reason=reason, by=by, now=now, decided_by=by), mail=True, outcome="declined"
    )
