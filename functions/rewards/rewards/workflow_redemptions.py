"""Adapters of the payout approval and claim review ports (`rewards.ports.PayoutApprovals`, `ClaimReviews`): Step
Functions executions through the approvals service (finance, or the rewards approver, decides by email link), their
input built here from the settings, once per deterministic execution name."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rewards.models.redemptions import Claim, Redemption
from shared.links import LinkClaim, Purpose, link_query
from shared.money import format_amount
from shared.ports import WorkflowStarter
from shared.settings import ApprovalTimings
from shared.workflows import approval_route


def payout_execution(payout: Redemption) -> str:
    return f"payout-{payout.redemption_id}"


def claim_execution(claim: Claim, attempt: int) -> str:
    return f"claim-{claim.claim_id}-{claim.round}-{attempt}"


def _amount(amount: int, unit: str) -> str:
    return f"{amount:,} points" if unit == "points" else format_amount(amount, unit)


@dataclass(frozen=True)
class PayoutApprovalsAdapter:
    """Finance approves payouts; the tax-form rule is applied by rewards when the decision returns."""

    starter: WorkflowStarter
    machine: str
    approver: str
    escalation: str
    timings: ApprovalTimings
    thresholds: dict[str, int]

    def start_payout_approval(self, payout: Redemption, year_total: int, form_on_file: bool) -> str:
        threshold = self.thresholds.get(payout.unit)
        limit = "every payout" if threshold is None else f"above {_amount(threshold, payout.unit)} a year"
        tax = (
            "on file"
            if form_on_file
            else f"not on file (required {limit}: an approved payout over it waits for the form)"
        )
        summary = [
            {"label": "Request", "value": "Reward payout"},
            {"label": "Payee", "value": payout.person},
            {"label": "Partner", "value": payout.partner_id},
            {"label": "Amount", "value": _amount(payout.amount, payout.unit)},
            {"label": "Approved for this payee this year", "value": _amount(year_total, payout.unit)},
            {"label": "Tax form", "value": tax},
            {"label": "Requested", "value": payout.requested_at.strftime("%d %b %Y, %H:%M UTC")},
        ]
        name = payout_execution(payout)
        payload: dict[str, Any] = {
            "approval_id": name,
            "redemption_id": payout.redemption_id,
            "subject": f"Reward payout: {_amount(payout.amount, payout.unit)} to {payout.person}",
            "summary": summary,
            **approval_route(self.approver, self.escalation, self.timings),
        }
        return self.starter.start(self.machine, name, payload)


@dataclass(frozen=True)
class ClaimReviewsAdapter:
    """The rewards approver reviews SPIFF claims; each proof file is a signed link the API answers with a download."""

    starter: WorkflowStarter
    machine: str
    reviewer: str
    escalation: str
    timings: ApprovalTimings
    link_base_url: str
    link_ttl_seconds: int
    link_key: Callable[[], bytes]

    def proof_link(self, claim: Claim, file_id: str, expires: int) -> str:
        grant = LinkClaim(
            f"{claim.claim_id}:{file_id}", "download", self.reviewer, expires, purpose=Purpose.PROOF_DOWNLOAD
        )
        query = link_query(self.link_key(), grant)
        return f"{self.link_base_url.rstrip('/')}/rewards/claims/{claim.claim_id}/proofs/{file_id}/review?{query}"

    def start_claim_review(self, claim: Claim, *, attempt: int) -> str:
        expires = int(time.time()) + self.link_ttl_seconds
        summary: list[dict[str, str]] = [
            {"label": "Request", "value": "SPIFF claim"},
            {"label": "Campaign", "value": f"{claim.campaign_name} ({claim.campaign_id}, rule {claim.rule_id})"},
            {"label": "Claimed by", "value": f"{claim.person}, partner {claim.partner_id}"},
            {"label": "Pays", "value": _amount(claim.amount, claim.unit)},
            {"label": "Description", "value": claim.description},
            {"label": "Round", "value": str(claim.round)},
        ]
        for number, proof in enumerate(claim.proof_files, start=1):
            summary.append(
                {
                    "label": f"Proof {number}",
                    "value": f"{proof.file_name} ({proof.content_type}, {proof.size_bytes:,} bytes)",
                    "href": self.proof_link(claim, proof.file_id, expires),
                }
            )
        name = claim_execution(claim, attempt)
        payload: dict[str, Any] = {
            "approval_id": name,
            "claim_id": claim.claim_id,
            "round": claim.round,
            "attempt": attempt,
            "subject": f"SPIFF claim: {claim.campaign_name} ({_amount(claim.amount, claim.unit)})",
            "summary": summary,
            **approval_route(self.reviewer, self.escalation, self.timings),
        }
        return self.starter.start(self.machine, name, payload)
