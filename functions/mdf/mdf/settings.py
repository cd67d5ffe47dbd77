"""MDF settings per function, validated from environment variables at cold start."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BeforeValidator, Field, HttpUrl

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import Settings


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _csv_ints(value: object) -> object:
    return [int(v) for v in value.split(",") if v.strip()] if isinstance(value, str) else value


Offsets = Annotated[list[Annotated[int, Field(ge=1)]], BeforeValidator(_csv_ints)]


class ApiSettings(EdgeSettings):
    proof_bucket: str = Field(min_length=3)
    proof_max_bytes: int = Field(ge=1024, le=5 * 1024**3)
    request_lead_days: int = Field(ge=0, le=365)
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")


class ConsumerSettings(Settings):
    table_name: str = Field(min_length=3)
    request_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    claim_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    schedule_group: str = Field(min_length=1)  # EventBridge Scheduler group of the fund and claim timers
    scheduler_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam:")  # the role Scheduler sends to the queue as
    workflow_queue_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sqs:")  # where the timers' messages go
    mail_from: Email
    portal_url: HttpUrl
    link_base_url: HttpUrl
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")
    link_ttl_seconds: int = Field(ge=60)
    marketing_approver: Email
    finance_approver: Email
    escalation_email: Email
    finance_thresholds: Annotated[dict[str, Annotated[int, Field(ge=0)]], BeforeValidator(_json)]
    reminder_seconds: int = Field(ge=1)
    escalation_seconds: int = Field(ge=1)
    expiry_seconds: int = Field(ge=1)
    claim_due_days: int = Field(ge=1, le=365)
    expiry_warning_offsets: Offsets
    claim_reminder_offsets: Offsets
