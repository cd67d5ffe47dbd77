"""Function settings: environment variables validated once per container, at cold start."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

SettingsT = TypeVar("SettingsT", bound="Settings")


class Settings(BaseModel):
    """Base for a function's settings; each field is read from the upper-cased env var of the same name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def from_env(cls: type[SettingsT]) -> SettingsT:
        """Validate the environment now; a missing or malformed variable fails the cold start loudly."""
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)
