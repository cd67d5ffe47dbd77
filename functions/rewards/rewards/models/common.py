"""Bases and value types every rewards model uses (no contracts imported: the projection function loads this)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.money import CURRENCIES
from shared.text import Line, Paragraphs

POINTS = "points"


def _known_unit(value: str) -> str:
    if value != POINTS and value not in CURRENCIES:
        raise ValueError(f'must be "points" or a supported currency code, not {value}')
    return value


# What a campaign pays in: "points", or an ISO currency whose amounts are minor units.
Unit = Annotated[str, StringConstraints(pattern=r"^(points|[A-Z]{3})$"), AfterValidator(_known_unit)]
# An amount in a unit (points, or minor units): a non-negative integer, never float.
Amount = Annotated[int, Field(ge=0, le=10**15, strict=True)]
PositiveAmount = Annotated[int, Field(ge=1, le=10**15, strict=True)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Name = Annotated[Text, StringConstraints(max_length=120), Line]
Description = Annotated[str, StringConstraints(max_length=2000), Paragraphs]
Reason = Annotated[Text, StringConstraints(max_length=500), Paragraphs]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RecordId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,12}_[A-Za-z0-9]{6,40}$")]


class Strict(BaseModel):
    """Request bodies and workflow messages: unknown fields refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    """Stored records: extra attributes (keys, index keys) ignored when read back."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
