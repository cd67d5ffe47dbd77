"""Onboarding settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import Settings


class ApiSettings(Settings):
    table_name: str = Field(min_length=3)
    allowed_origin: str = Field(min_length=1)


class ConsumerSettings(Settings):
    table_name: str = Field(min_length=3)
    state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    user_pool_id: str = Field(min_length=1)
    mail_from: Email
    portal_url: HttpUrl
    approver_email: Email
    escalation_email: Email
    reminder_seconds: int = Field(ge=1)
    escalation_seconds: int = Field(ge=1)
    expiry_seconds: int = Field(ge=1)
