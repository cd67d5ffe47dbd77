"""Deal registration settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.email import Email
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


class ApiSettings(EdgeSettings):
    max_extensions: int = Field(ge=0, le=10)


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    table_name: TableName
    approval_state_machine_arn: StateMachineArn  # Standard: a channel manager decides (callback pattern)
    auto_approval_state_machine_arn: StateMachineArn  # Express: an automatic approval, which waits for nobody
    workflow_queue_arn: QueueArn  # where the protection timers' messages go
    approvers_by_region: Annotated[dict[str, Email], FromJson]
    escalation_email: Email
    auto_approve_limits: Annotated[dict[str, Annotated[int, Field(ge=0)]], FromJson]
    protection_seconds: Seconds
    protection_reminder_offsets: SecondsList
    extension_seconds: Seconds
