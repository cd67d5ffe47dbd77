"""Onboarding settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import ApprovalTimings, PartnerMail, QueueArn, SecretArn, StateMachineArn, TableName, Timers


class ApiSettings(EdgeSettings):
    link_secret_arn: SecretArn  # verifies email confirmation links
    confirmation_seconds: int = Field(ge=60)  # time an applicant has to confirm their email address


class ConsumerSettings(PartnerMail, ApprovalTimings, Timers):
    table_name: TableName
    state_machine_arn: StateMachineArn
    user_pool_id: str = Field(min_length=1)
    approver_email: Email
    escalation_email: Email
    link_secret_arn: SecretArn  # signs email confirmation links
    link_base_url: HttpUrl  # the API's public URL (confirmation pages)
    timer_queue_arn: QueueArn  # where the confirmation deadlines are delivered (own decisions queue)
