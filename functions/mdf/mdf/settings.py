"""MDF settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import (
    ApprovalTimings,
    FromJson,
    PartnerMail,
    QueueArn,
    SecondsList,
    SecretArn,
    StateMachineArn,
    TableName,
    Timers,
)


class ApiSettings(EdgeSettings):
    proof_bucket: str = Field(min_length=3)
    proof_max_bytes: int = Field(ge=1024, le=5 * 1024**3)
    request_lead_days: int = Field(ge=0, le=365)
    link_secret_arn: SecretArn


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    table_name: TableName
    request_state_machine_arn: StateMachineArn
    claim_state_machine_arn: StateMachineArn
    workflow_queue_arn: QueueArn  # where the fund and claim timers' messages go
    link_base_url: HttpUrl
    link_secret_arn: SecretArn
    link_ttl_seconds: int = Field(ge=60)
    marketing_approver: Email
    finance_approver: Email
    escalation_email: Email
    finance_thresholds: Annotated[dict[str, Annotated[int, Field(ge=0)]], FromJson]
    claim_due_days: int = Field(ge=1, le=365)
    expiry_warning_offsets: SecondsList
    claim_reminder_offsets: SecondsList
