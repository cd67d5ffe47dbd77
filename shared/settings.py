"""Function settings: environment variables validated once per container, at cold start."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

SettingsT = TypeVar("SettingsT", bound="Settings")


class Settings(BaseModel):
    """Base for a function's settings; each field is read from the upper-cased env var of the same name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def from_env(cls: type[SettingsT]) -> SettingsT:
        """Validate the environment now; a missing or malformed variable fails the cold start loudly."""
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)


class ApiSettings(Settings):
    """What every context's HTTP function needs at its edge: its table, the portal's origin, and the user pool that
    the live identity check asks (at most `identity_recheck_seconds` old)."""

    table_name: str = Field(min_length=3)
    allowed_origin: str = Field(min_length=1)
    user_pool_id: str = Field(min_length=1)
    identity_recheck_seconds: int = Field(ge=0, le=60)
