"""Bases and value types every content model uses (no contracts imported: the processing function loads this)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.text import Line, Paragraphs

Region = Literal["AMER", "EMEA", "APAC"]  # shared.countries.region_of
PartnerType = Literal["reseller", "distributor", "isv", "referral"]  # as onboarding's
TierId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AssetId = Annotated[str, StringConstraints(pattern=r"^ast_[a-f0-9]{24}$")]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")]  # deals' SKU
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=30)]
Language = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2}$")]  # ISO 639-1
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), Line]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), Paragraphs]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), Paragraphs]


class Strict(BaseModel):
    """Request bodies and workflow messages: unknown fields refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    """Stored records: extra attributes (keys, index keys) ignored when read back."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class Audience(Strict):
    """Who may see an asset or a kit: partners at or above `min_tier_id` (None: any tier), in one of `regions`, of
    one of `partner_types` (an empty list: everyone on that axis). B's domain/access.py applies it."""

    min_tier_id: TierId | None = None
    regions: list[Region] = Field(default_factory=list, max_length=3)
    partner_types: list[PartnerType] = Field(default_factory=list, max_length=4)
