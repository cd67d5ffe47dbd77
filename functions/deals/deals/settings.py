"""Deal registration settings per function, validated from environment variables at cold start."""

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


class ApiSettings(EdgeSettings):
    max_extensions: int = Field(ge=0, le=10)


class ConsumerSettings(Settings):
    table_name: str = Field(min_length=3)
    approval_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    schedule_group: str = Field(min_length=1)  # EventBridge Scheduler group of the protection timers
    scheduler_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam:")  # the role Scheduler sends to the queue as
    workflow_queue_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sqs:")  # where the timers' messages go
    mail_from: Email
    portal_url: HttpUrl
    approvers_by_region: Annotated[dict[str, Email], BeforeValidator(_json)]
    escalation_email: Email
    auto_approve_limits: Annotated[dict[str, Annotated[int, Field(ge=0)]], BeforeValidator(_json)]
    reminder_seconds: int = Field(ge=1)
    escalation_seconds: int = Field(ge=1)
    expiry_seconds: int = Field(ge=1)
    protection_seconds: int = Field(ge=1)
    protection_reminder_offsets: Annotated[list[Annotated[int, Field(ge=1)]], BeforeValidator(_csv_ints)]
    extension_seconds: int = Field(ge=1)
    max_extensions: int = Field(ge=0, le=10)
