"""Event envelope: the base of every published event detail, and parsing of EventBridge events from SQS."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime


class EventDetail(BaseModel):
    """Every published detail carries `event_id`, `occurred_at` (UTC), `version` and the partner id."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    SOURCE: ClassVar[str]
    DETAIL_TYPE: ClassVar[str]
    VERSION: ClassVar[str] = "1"

    event_id: str = Field(min_length=1, max_length=64)
    occurred_at: UtcDateTime
    version: str
    partner_id: str = Field(min_length=1, max_length=64)

    @classmethod
    def occurred(cls, *, at: datetime, event_id: str, partner_id: str, **fields: Any) -> Self:
        """A new event of this type: the envelope fields filled in one place (version from the class)."""
        return cls(event_id=event_id, occurred_at=at, version=cls.VERSION, partner_id=partner_id, **fields)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class EventBridgeEvent(BaseModel):
    """The EventBridge envelope as an SQS target receives it (built on a consumer's first message, not at import:
    APIs and publishers import this module only for EventDetail)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    id: str
    source: str
    detail_type: str = Field(alias="detail-type")
    time: datetime
    detail: dict[str, Any]


def detail_types(*models: type[EventDetail]) -> dict[str, type[EventDetail]]:
    return {model.DETAIL_TYPE: model for model in models}
