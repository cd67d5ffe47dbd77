"""Function settings: environment variables validated once per container, at cold start, with the value types and
field groups every context's settings share.

Hand-written on pydantic, not on a settings library (measured in CPU time, median of 9 to 15 fresh interpreters):
pydantic-settings adds 13.5 ms to a handler's import (deals' consumer; 33 ms to a bare `import shared.settings`, which
takes 97 ms; `import boto3` 130 ms) for the one feature used here, reading upper-cased variables; and
aws-lambda-env-modeler (+0.5 ms) is `model_validate(os.environ)` behind an lru_cache, raising a plain ValueError.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, ValidationError

from shared.email import Email

SettingsT = TypeVar("SettingsT", bound="Settings")


def _from_json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _from_csv(value: object) -> object:
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


# Value types of environment variables (a variable is a string; these say how it is read and what it must be).
FromJson = BeforeValidator(_from_json)  # a JSON object or array, e.g. {"EMEA": "approver@example.com"}
FromCsv = BeforeValidator(_from_csv)  # comma-separated items, e.g. 864000,259200
TableName = Annotated[str, Field(min_length=3)]
Seconds = Annotated[int, Field(ge=1)]
SecondsList = Annotated[list[Seconds], FromCsv]
SecretArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")]
StateMachineArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:states:")]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam:")]
QueueArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sqs:")]


def variable(field: str) -> str:
    """The environment variable a settings field is read from."""
    return field.upper()


class Settings(BaseModel):
    """Base for a function's settings; each field is read from the upper-cased env var of the same name."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def from_env(cls: type[SettingsT]) -> SettingsT:
        """Validate the environment now; a missing or malformed variable fails the cold start, naming the variable."""
        values = {name: os.environ[variable(name)] for name in cls.model_fields if variable(name) in os.environ}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise _naming_variables(cls.__name__, error) from None


def _naming_variables(model: str, error: ValidationError) -> ValidationError:
    """The same errors, titled with the environment variables they are about (what an operator has to fix)."""
    details: list[Any] = [
        {"type": e["type"], "loc": e["loc"], "input": e["input"], **({"ctx": e["ctx"]} if "ctx" in e else {})}
        for e in error.errors()
    ]
    names = dict.fromkeys(variable(str(e["loc"][0])) for e in details if e["loc"])
    return ValidationError.from_exception_data(f"{model} (environment variables {', '.join(names)})", details)


# Field groups that several functions' settings hold, each field read from its own variable.
class ApiSettings(Settings):
    """What every context's HTTP function needs at its edge: its table, the portal's origin, and the user pool that
    the live identity check asks (at most `identity_recheck_seconds` old)."""

    table_name: TableName
    allowed_origin: str = Field(min_length=1)
    user_pool_id: str = Field(min_length=1)
    identity_recheck_seconds: int = Field(ge=0, le=60)


class ApprovalTimings(Settings):
    """How long an approval waits before its reminder, its escalation and its expiry."""

    reminder_seconds: Seconds
    escalation_seconds: Seconds
    expiry_seconds: Seconds


class PartnerMail(Settings):
    """Mail to partner users: who it is from and the portal its links open."""

    mail_from: Email
    portal_url: HttpUrl


class Timers(Settings):
    """EventBridge Scheduler one-time timers: their schedule group and the role Scheduler sends to the queue as."""

    schedule_group: str = Field(min_length=1)
    scheduler_role_arn: RoleArn
