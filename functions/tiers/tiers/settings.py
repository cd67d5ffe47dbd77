"""The partner programme's settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import (
    ApprovalTimings,
    PartnerMail,
    QueueArn,
    Seconds,
    SecondsList,
    StateMachineArn,
    TableName,
    Timers,
)


class ApiSettings(EdgeSettings, Timers):
    grace_seconds: Seconds
    window_days: int = Field(ge=1, le=3660)
    workflow_queue_arn: QueueArn  # a new version's fan-out timer goes there, scheduled when the version is published


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    table_name: TableName
    upgrade_state_machine_arn: StateMachineArn  # Standard: the channel team approves an upgrade (callback pattern)
    workflow_queue_arn: QueueArn  # where the timers' messages go
    approver_email: Email
    escalation_email: Email
    grace_seconds: Seconds
    grace_warning_offsets: SecondsList
    window_days: int = Field(ge=1, le=3660)
