"""Events published by deal registration (source `prm.deals`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.events import EventDetail
from shared.money import Money

SOURCE = "prm.deals"


class Prospect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    company_name: str
    domain: str
    company_key: str
    country: str


class DealRegistered(EventDetail):
    """A partner registered a deal; `conflicts` lists other partners' open registrations for the same prospect."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealRegistered"

    deal_id: str
    prospect: Prospect
    products: list[str]
    estimated_value: Money
    expected_close_date: date
    registered_by: str
    conflicts: list[str]


class DealApproved(EventDetail):
    """The registration is approved and the prospect is protected for this partner until `protection_ends_at`."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealApproved"

    deal_id: str
    prospect: Prospect
    estimated_value: Money
    approved_by: str
    automatic: bool
    protection_ends_at: UtcDateTime


class DealRejected(EventDetail):
    """The registration was rejected (by a channel manager, or because another registration was approved first)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealRejected"

    deal_id: str
    reason: str
    decided_by: str


class DealExtensionRequested(EventDetail):
    """The partner asked for more protection time (internal to deals: it starts the extension approval)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealExtensionRequested"

    deal_id: str
    justification: str
    extension_number: int


class DealExtended(EventDetail):
    """An extension was granted: protection now ends at `protection_ends_at`."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealExtended"

    deal_id: str
    protection_ends_at: UtcDateTime
    extensions_used: int
    approved_by: str


class DealExtensionRefused(EventDetail):
    """An extension was refused (by a channel manager, or nobody decided in time): protection ends as before."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealExtensionRefused"

    deal_id: str
    extension_number: int
    reason: str
    decided_by: str
    protection_ends_at: UtcDateTime


class DealExpired(EventDetail):
    """Protection ended without the deal being won, lost or extended; the prospect is open again."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealExpired"

    deal_id: str
    protection_ended_at: UtcDateTime


class DealWon(EventDetail):
    """The partner closed the deal (actual amount and close date); MDF accrual, tiers and rewards listen to this.

    `win_revision` is 1 for the deal's first win and one more for each win after a reversal (DealWinReversed): a
    consumer keys what it derives from a win by (deal_id, win_revision). `registered_by` (the partner user who
    registered the deal) and `products` (its SKUs) were added later; events published before carry neither.
    `prospect_name` (the prospect's company name, for people reading what a win was) came later still."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealWon"

    deal_id: str
    amount: Money
    close_date: date
    registered_by: str | None = None
    products: list[str] = []
    win_revision: int = Field(default=1, ge=1)
    prospect_name: str | None = None


class DealWinReversed(EventDetail):
    """A vendor withdrew the deal's win `win_revision`: whatever was derived from that win no longer counts.

    The deal waits for a corrected win (e.g. the amount was wrong), published as DealWon with the next
    `win_revision`; `previous_amount` is the withdrawn win's amount."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealWinReversed"

    deal_id: str
    win_revision: int = Field(ge=1)
    reason: str
    reversed_by: str
    previous_amount: Money


class DealLost(EventDetail):
    """The partner lost the deal."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "DealLost"

    deal_id: str
    reason: str


DEAL_EVENTS: tuple[type[EventDetail], ...] = (
    DealRegistered,
    DealApproved,
    DealRejected,
    DealExtensionRequested,
    DealExtended,
    DealExtensionRefused,
    DealExpired,
    DealWon,
    DealWinReversed,
    DealLost,
)
