"""Deal registration settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from shared.email import Email
from shared.money import CurrencyCode
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import (
    ApprovalTimings,
    FromJson,
    PartnerMail,
    QueueArn,
    Seconds,
    SecondsList,
    StateMachineArn,
    TableName,
    Timers,
)

TierId = Annotated[str, StringConstraints(min_length=1, max_length=40)]  # as contracts.tiers.TierRef
TierLimits = dict[CurrencyCode, Annotated[int, Field(ge=0)]]  # currency -> largest value (minor units) auto-approved


class ApiSettings(EdgeSettings):
    max_extensions: int = Field(ge=0, le=10)


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    table_name: TableName
    approval_state_machine_arn: StateMachineArn  # Standard: a channel manager decides (callback pattern)
    auto_approval_state_machine_arn: StateMachineArn  # Express: an automatic approval, which waits for nobody
    workflow_queue_arn: QueueArn  # where the protection timers' messages go
    approvers_by_region: Annotated[dict[str, Email], FromJson]
    escalation_email: Email
    # currency -> limit for a partner whose tier is not in auto_approve_limits_by_tier (or not known yet)
    auto_approve_limits: Annotated[dict[str, Annotated[int, Field(ge=0)]], FromJson]
    auto_approve_limits_by_tier: Annotated[dict[TierId, TierLimits], FromJson]  # tier id -> its limits; may be {}
    protection_seconds: Seconds
    protection_reminder_offsets: SecondsList
    extension_seconds: Seconds
