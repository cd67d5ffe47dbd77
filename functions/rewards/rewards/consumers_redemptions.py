"""The redemption half of the rewards consumer (RewardsEventsFunction; `rewards.consumers` merges these tables): the
payout approval started on RedemptionRequested, a claim's review started on RewardClaimSubmitted, payees mailed on PayoutHeld and PayoutPaid, and the payout approval's
and claim review's workflow messages. Each handler parses and calls one service method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from contracts.rewards import PayoutHeld, PayoutPaid, RedemptionRequested, RewardClaimSubmitted
from rewards.domain.earning import ClaimFact
from rewards.models.redemptions import Claim, ClaimDecision, ClaimReviewExpired, PayoutApprovalExpired, PayoutDecision
from rewards.repository.store import RewardsRepository
from rewards.service.claim_lifecycle import ClaimLifecycle
from rewards.service.earning import EarningService
from rewards.service.payout_lifecycle import PayoutLifecycle
from rewards.settings import ConsumerSettings
from rewards.workflow_redemptions import ClaimReviewsAdapter, PayoutApprovalsAdapter
from shared.adapters import SesMailer, StepFunctionsStarter
from shared.effects import SideEffects
from shared.links import signing_key

EventHandlers = dict[str, tuple[type[Any], Callable[[Any], str]]]
MessageHandlers = dict[type[Any], Callable[[Any], str]]


@dataclass(frozen=True)
class EarningClaims:
    """Adapter of the ClaimEarner port: an approved claim is a ClaimFact for the earning service."""

    earning: Callable[[], EarningService]

    def earn_claim(self, claim: Claim, approved_by: str, at: datetime) -> str:
        fact = ClaimFact(
            partner_id=claim.partner_id,
            claim_id=claim.claim_id,
            campaign_id=claim.campaign_id,
            rule_id=claim.rule_id,
            at=claim.submitted_at,  # the claim's time: inside the campaign's window, whenever it was reviewed
            earner=claim.person,
            approved_by=approved_by,
        )
        return self.earning().earn_claim(fact)


def handlers(
    settings: ConsumerSettings, earning: Callable[[], EarningService]
) -> tuple[EventHandlers, MessageHandlers]:
    """The event and message handlers of the redemption use cases, wired to AWS once per container."""

    @cache
    def payouts() -> PayoutLifecycle:
        return PayoutLifecycle(
            repository=RewardsRepository(settings.table_name),
            tax_thresholds=dict(settings.tax_form_thresholds),
            approvals=PayoutApprovalsAdapter(
                starter=StepFunctionsStarter(),
                machine=settings.payout_approval_state_machine_arn,
                approver=str(settings.finance_approver_email),
                escalation=str(settings.escalation_email),
                timings=settings,
                thresholds=dict(settings.tax_form_thresholds),
            ),
            mailer=SesMailer(str(settings.mail_from)),
            effects=SideEffects(settings.table_name),
            portal_url=str(settings.portal_url),
        )

    @cache
    def claims() -> ClaimLifecycle:
        return ClaimLifecycle(
            repository=RewardsRepository(settings.table_name),
            reviews=ClaimReviewsAdapter(
                starter=StepFunctionsStarter(),
                machine=settings.claim_review_state_machine_arn,
                reviewer=str(settings.approver_email),
                escalation=str(settings.escalation_email),
                timings=settings,
                link_base_url=str(settings.link_base_url),
                link_ttl_seconds=settings.link_ttl_seconds,
                link_key=lambda: signing_key(settings.link_secret_arn),
            ),
            earner=EarningClaims(earning),
            mailer=SesMailer(str(settings.mail_from)),
            effects=SideEffects(settings.table_name),
            portal_url=str(settings.portal_url),
        )

    events: EventHandlers = {
        RedemptionRequested.DETAIL_TYPE: (RedemptionRequested, lambda e: payouts().start_approval(e)),
        PayoutHeld.DETAIL_TYPE: (PayoutHeld, lambda e: payouts().announce_held(e)),
        PayoutPaid.DETAIL_TYPE: (PayoutPaid, lambda e: payouts().announce_paid(e)),
        RewardClaimSubmitted.DETAIL_TYPE: (RewardClaimSubmitted, lambda e: claims().start_review(e)),
    }
    messages: MessageHandlers = {
        PayoutDecision: lambda m: payouts().decide(m),
        PayoutApprovalExpired: lambda m: payouts().lapsed(m),
        ClaimDecision: lambda m: claims().decide(m),
        ClaimReviewExpired: lambda m: claims().lapsed(m),
    }
    return events, messages
