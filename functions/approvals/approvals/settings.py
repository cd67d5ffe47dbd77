"""Approvals settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import Settings


class PagesSettings(Settings):
    table_name: str = Field(min_length=3)
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")


class RequestsSettings(Settings):
    table_name: str = Field(min_length=3)
    link_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")
    link_base_url: HttpUrl
    link_ttl_seconds: int = Field(ge=60)
    mail_from: Email
