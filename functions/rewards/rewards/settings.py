"""Rewards' settings per function, validated from environment variables at cold start. B adds its fields (payout
minimums, tax threshold, bucket, payout/claim state machines) to the classes below, under the shared lock."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.money import CurrencyCode
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import (
    ApprovalTimings,
    FromJson,
    PartnerMail,
    QueueArn,
    SecretArn,
    Settings,
    StateMachineArn,
    TableName,
    Timers,
)

# {"USD": 5000}: an amount in minor units per currency (JSON in the variable)
PerCurrency = Annotated[dict[CurrencyCode, Annotated[int, Field(ge=0, le=10**15)]], FromJson]


class ApiSettings(EdgeSettings):
    """RewardsApiFunction: campaigns, a person's and an organisation's rewards, holds (and B's routes: catalogue,
    redemptions, tax forms, payout batches, claims; a filed claim's review starts on the queue, from its event)."""

    rewards_bucket: str = Field(min_length=3)  # claim proofs and payout batch files
    payout_minimums: PerCurrency  # the smallest payout per currency; a currency not listed is not paid out
    max_proof_bytes: int = Field(ge=1024, le=50 * 1024 * 1024)
    link_secret_arn: SecretArn  # verifies the claim reviewer's signed proof links


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    """RewardsEventsFunction: earning from deals and certifications, the approval workflow's decisions, timers."""

    table_name: TableName
    reward_approval_state_machine_arn: StateMachineArn  # Standard: an approver decides by email link
    workflow_queue_arn: QueueArn  # where the available-after timers' messages go
    approver_email: Email
    escalation_email: Email
    # B: finance approves payouts; the tax form rule; the claim review (started from RewardClaimSubmitted, again
    # when it lapsed)
    payout_approval_state_machine_arn: StateMachineArn
    finance_approver_email: Email
    tax_form_thresholds: PerCurrency  # per payee and calendar year; a currency not listed always needs the form
    claim_review_state_machine_arn: StateMachineArn
    link_secret_arn: SecretArn
    link_ttl_seconds: int = Field(ge=60, le=30 * 86400)
    link_base_url: HttpUrl


class PartnersSettings(Settings):
    """RewardsPartnersFunction: the partner projection (region, type, tier history) only."""

    table_name: TableName
