"""Onboarding settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import Settings


class ApiSettings(EdgeSettings):
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")  # verifies email confirmation links
    confirmation_seconds: int = Field(ge=60)  # time an applicant has to confirm their email address


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
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")  # signs email confirmation links
    link_base_url: HttpUrl  # the API's public URL (confirmation pages)
    schedule_group: str = Field(min_length=1)  # EventBridge Scheduler group of the confirmation deadlines
    scheduler_role_arn: str = Field(min_length=1)  # the role Scheduler assumes to deliver them
    timer_queue_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sqs:")  # where they are delivered (own decisions queue)
