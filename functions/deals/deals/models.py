"""Deal registration's request bodies, records, domain values and workflow messages (pydantic), bounded and strict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator, model_validator

from deals.prospects import company_key, domain_key
from shared.clock import TimerTime, UtcDateTime
from shared.countries import CountryCode
from shared.email import Email
from shared.money import Money
from shared.text import Line, Paragraphs

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")]
DealStatus = Literal["submitted", "under_review", "approved", "rejected", "won", "win_reversed", "lost", "expired"]
DEAL_STATUSES: tuple[str, ...] = get_args(DealStatus)  # the list filter's values
Stage = Literal["qualification", "proposal", "negotiation", "commit"]
Purpose = Literal["registration", "extension"]
ReviewMode = Literal["auto", "manual"]  # automatic approval, or a channel manager decides
OPEN_STATUSES = frozenset({"submitted", "under_review", "approved"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


# ------------------------------------------------------------------ request bodies
class ContactInput(Strict):
    name: Annotated[Text, StringConstraints(max_length=120), Line]
    email: Email
    title: Annotated[str, StringConstraints(max_length=120), Line] = ""


class ProspectInput(Strict):
    company_name: Annotated[Text, StringConstraints(max_length=200), Line]
    website: Annotated[Text, StringConstraints(max_length=253), Line]
    country: CountryCode
    contact: ContactInput

    @field_validator("website")
    @classmethod
    def _website_is_a_domain(cls, value: str) -> str:
        domain_key(value)
        return value

    @field_validator("company_name")
    @classmethod
    def _distinctive_name(cls, value: str) -> str:
        company_key(value)
        return value


class RegisterDealRequest(Strict):
    prospect: ProspectInput
    products: list[Sku] = Field(min_length=1, max_length=20)
    estimated_value: Money
    expected_close_date: date
    description: Annotated[str, StringConstraints(max_length=2000), Paragraphs] = ""

    @field_validator("products")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a product is listed twice")
        return value

    def new_deal(self) -> NewDeal:
        """The registration as the domain takes it (the body's shape stays at the edge)."""
        p = self.prospect
        return NewDeal(
            company_name=p.company_name,
            website=p.website,
            country=p.country,
            contact=Contact(name=p.contact.name, email=p.contact.email, title=p.contact.title),
            products=tuple(self.products),
            estimated_value=self.estimated_value,
            expected_close_date=self.expected_close_date,
            description=self.description,
        )


class StageRequest(Strict):
    stage: Stage


class WonRequest(Strict):
    amount: Money
    close_date: date


class LostRequest(Strict):
    reason: Annotated[Text, StringConstraints(max_length=500), Paragraphs]


class WinReversalRequest(Strict):
    """A vendor withdraws a deal's won status: why (the partner reads it)."""

    reason: Annotated[Text, StringConstraints(max_length=500), Paragraphs]


class ExtensionRequest(Strict):
    justification: Annotated[Text, StringConstraints(min_length=10, max_length=1000), Paragraphs]


class ProductRequest(Strict):
    sku: Sku
    name: Annotated[Text, StringConstraints(max_length=120), Line]
    family: Annotated[Text, StringConstraints(max_length=80), Line]


# ------------------------------------------------------------------ records
class Product(Record):
    sku: str
    name: str
    family: str


class PartnerProjection(Record):
    """What deals knows about a partner, from onboarding's events (never from onboarding's table)."""

    partner_id: str
    company_name: str
    country: str
    status: Literal["active", "suspended"]
    as_of: UtcDateTime


class PartnerTier(Record):
    """The partner's tier as deals last learnt it from the tiers context (PartnerTierChanged), kept beside its
    PartnerProjection (its own item: a tier change may arrive before the partner's PartnerOnboarded)."""

    partner_id: str
    tier_id: str
    name: str
    rank: int
    since: UtcDateTime  # the change's effective_at
    event_id: str
    tier_order: str  # domain.tier_order: where this change stands in the partner's tier history


@dataclass(frozen=True)
class TierChange:
    """A PartnerTierChanged as deals' rules see it."""

    partner_id: str
    tier_id: str
    name: str
    rank: int
    effective_at: datetime
    event_id: str


class Contact(Record):
    name: str
    email: str
    title: str = ""


class ProspectRecord(Record):
    company_name: str
    website: str
    domain: str
    company_key: str
    country: str
    contact: Contact


class Conflict(Record):
    deal_id: str
    matched_on: list[Literal["domain", "company"]]
    status: DealStatus
    protection_ends_at: UtcDateTime | None = None


class TimelineEntry(Record):
    at: UtcDateTime
    status: str
    note: str = ""


class Won(Record):
    amount: Money
    close_date: date


class WinReversal(Record):
    """The last withdrawal of a win: which win, why, by whom, when, and what it had recorded."""

    win_revision: int
    reason: str
    reversed_by: str
    reversed_at: UtcDateTime
    previous_amount: Money
    previous_close_date: date


class Deal(Record):
    deal_id: str
    partner_id: str
    status: DealStatus
    prospect: ProspectRecord
    products: list[str]
    estimated_value: Money
    expected_close_date: date
    description: str = ""
    registered_by: str
    submitted_at: UtcDateTime
    conflicts: list[Conflict] = []
    stage: Stage | None = None
    decided_at: UtcDateTime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    protection_ends_at: UtcDateTime | None = None
    extensions_used: int = 0
    extension_pending: bool = False
    won: Won | None = None
    win_revision: int = 0  # the number of wins so far: DealWon's `win_revision` of the current (or last) win
    win_reversal: WinReversal | None = None
    lost_reason: str | None = None
    timeline: list[TimelineEntry] = []
    revision: int = 1

    @model_validator(mode="before")
    @classmethod
    def _first_win_of_older_records(cls, data: Any) -> Any:
        """A deal won before wins were numbered is at its first win."""
        if isinstance(data, dict) and "win_revision" not in data and data.get("won"):
            return data | {"win_revision": 1}
        return data


class Registration(Record):
    """Index entry under a prospect key: who registered it, and whether it is still open."""

    deal_id: str
    partner_id: str
    status: DealStatus
    protection_ends_at: UtcDateTime | None = None


class Protection(Record):
    """The prospect's current holder: at most one approved, unexpired registration per key."""

    deal_id: str
    partner_id: str
    protection_ends_at: UtcDateTime


# ------------------------------------------------------------------ domain values
@dataclass(frozen=True)
class NewDeal:
    """What a registration needs, whatever the edge it came through."""

    company_name: str
    website: str
    country: str
    contact: Contact
    products: tuple[str, ...]
    estimated_value: Money
    expected_close_date: date
    description: str = ""


@dataclass(frozen=True)
class Review:
    """A deal sent for review (registration or extension), with what the reviewer weighs: the conflicting deals and
    the partners' company names (deals' own projection; approvers know partners by name, not by id)."""

    deal: Deal
    purpose: Purpose
    mode: ReviewMode
    partner_country: str
    now: datetime
    conflicting: dict[str, Deal] = field(default_factory=dict)
    partner_names: dict[str, str] = field(default_factory=dict)
    note: str = ""
    request_id: str = "0"


# ------------------------------------------------------------------ workflow messages (deals' workflow queue)
class DealDecision(Strict):
    """From the approval state machine: `automatic` is set by its automatic-approval path; `decided_by` is for people."""

    message_type: Literal["DealDecision"]
    deal_id: str
    purpose: Purpose
    decision: Literal["approved", "rejected"]
    decided_by: str
    automatic: bool = False
    reason: str | None = None
    decided_at: UtcDateTime


class DealApprovalExpired(Strict):
    message_type: Literal["DealApprovalExpired"]
    deal_id: str
    purpose: Purpose


class ProtectionReminder(Strict):
    message_type: Literal["ProtectionReminder"]
    deal_id: str
    protection_ends_at: TimerTime  # the end this timer was set for: an extended deal's old timer is stale
    days_left: int
    # which configured reminder this is (seconds before the end): two offsets that round to the same day are two
    # reminders; None for timers set before the field existed (keyed by days_left, as then)
    offset_seconds: int | None = None


class ProtectionEnded(Strict):
    message_type: Literal["ProtectionEnded"]
    deal_id: str
    protection_ends_at: TimerTime


WorkflowMessage = Annotated[
    DealDecision | DealApprovalExpired | ProtectionReminder | ProtectionEnded, Field(discriminator="message_type")
]
_WORKFLOW_MESSAGES: TypeAdapter[WorkflowMessage] = TypeAdapter(WorkflowMessage, config=ConfigDict(defer_build=True))


def workflow_message(body: dict[str, Any]) -> WorkflowMessage:
    """The message a workflow or timer put on deals' queue, by its `message_type`."""
    return _WORKFLOW_MESSAGES.validate_python(body)
