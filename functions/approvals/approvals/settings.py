"""Approvals settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import SecretArn, Settings, TableName


class PagesSettings(Settings):
    table_name: TableName
    link_secret_arn: SecretArn


class RequestsSettings(PagesSettings):
    link_base_url: HttpUrl
    link_ttl_seconds: int = Field(ge=60)
    mail_from: Email
