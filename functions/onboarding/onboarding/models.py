"""Onboarding's request bodies, domain values, records and workflow messages (pydantic), bounded and strict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from contracts.onboarding import Contact, PartnerRole, PartnerType
from shared.clock import UtcDateTime
from shared.countries import CountryCode
from shared.domains import registrable_domain
from shared.email import Email
from shared.money import Money
from shared.text import Line, Paragraphs

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# unconfirmed: waiting for the applicant to confirm their email address; pending: waiting for the approver.
ApplicationStatus = Literal["unconfirmed", "pending", "approved", "rejected", "expired"]
# removed: taken out of the organisation by an admin; disabled: access stopped (e.g. left the company, under review).
RemovalReason = Literal["removed", "disabled"]


class Strict(BaseModel):
    # defer_build: validators are built on first use, not at import (cold start pays only for what it uses)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


# ------------------------------------------------------------------ request bodies
class ApplicationRequest(Strict):
    company_name: Annotated[Text, StringConstraints(max_length=200), Line]
    website: Annotated[Text, StringConstraints(max_length=253), Line]
    country: CountryCode
    partner_type: PartnerType
    contact_name: Annotated[Text, StringConstraints(max_length=120), Line]
    contact_email: Email
    expected_annual_revenue: Money

    @field_validator("website")
    @classmethod
    def _website_is_a_domain(cls, value: str) -> str:
        registrable_domain(value)  # raises ValueError with the reason
        return value

    def applicant(self) -> Applicant:
        return Applicant(
            company_name=self.company_name,
            website=self.website,
            country=self.country,
            partner_type=self.partner_type,
            contact=Contact(name=self.contact_name, email=self.contact_email),
            expected_annual_revenue=self.expected_annual_revenue,
        )


class AgreementAcceptanceRequest(Strict):
    version: Annotated[Text, StringConstraints(max_length=40), Line]


class AgreementRequest(Strict):
    version: Annotated[Text, StringConstraints(max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]
    title: Annotated[Text, StringConstraints(max_length=200), Line]
    body: Annotated[Text, StringConstraints(max_length=50_000), Paragraphs]


class PartnerUpdateRequest(Strict):
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .-]*$")] | None = None
    description: Annotated[str, StringConstraints(max_length=2000), Paragraphs] | None = None


class InviteUserRequest(Strict):
    email: Email
    name: Annotated[Text, StringConstraints(max_length=120), Line]
    role: PartnerRole


class RemoveUserRequest(Strict):
    email: Email
    reason: RemovalReason


# ------------------------------------------------------------------ domain values
@dataclass(frozen=True)
class TierChange:
    """A partner's tier as the tiers context announced it (PartnerTierChanged), as onboarding's rules see it."""

    partner_id: str
    tier_id: str
    name: str
    effective_at: datetime
    event_id: str


@dataclass(frozen=True)
class Applicant:
    """Who applies to join the programme, as the rules see them (validated at the edge)."""

    company_name: str
    website: str
    country: str
    partner_type: PartnerType
    contact: Contact
    expected_annual_revenue: Money


# ------------------------------------------------------------------ records
class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Application(Record):
    application_id: str
    partner_id: str
    status: ApplicationStatus
    company_name: str
    website: str
    domain: str
    country: str
    partner_type: PartnerType
    contact: Contact
    expected_annual_revenue: Money
    submitted_at: UtcDateTime
    confirm_by: UtcDateTime | None = None  # None: submitted before email confirmation existed
    confirmed_at: UtcDateTime | None = None
    decided_at: UtcDateTime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    closed_because: Literal["domain_taken"] | None = None  # closed by the system, not by the approver
    # Records from before the side-effect ledger (shared.effects) carry these markers instead of EFFECT# items: read
    # so that a replay never repeats what they record; nothing writes them any more.
    confirmation_sent_at: UtcDateTime | None = None
    receipt_sent_at: UtcDateTime | None = None
    outcome_sent_at: UtcDateTime | None = None


class Partner(Record):
    partner_id: str
    application_id: str
    company_name: str
    domain: str
    website: str
    country: str
    partner_type: PartnerType
    tier: str  # the tier's name: the entry tier's until the tiers context announces one (PartnerTierChanged)
    status: Literal["active", "suspended"]
    onboarded_at: UtcDateTime
    primary_contact: Contact
    phone: str | None = None
    description: str | None = None
    revision: int = 1
    updated_at: UtcDateTime | None = None
    tier_id: str | None = None  # None until the first PartnerTierChanged
    tier_since: UtcDateTime | None = None
    tier_order: str | None = None  # the applied change's ordering key (domain.tier_order); not shown


# What the organisation profile never shows (bookkeeping of writes and projections).
PARTNER_INTERNAL_FIELDS = frozenset({"revision", "tier_order"})


class PartnerUser(Record):
    partner_id: str
    email: Email
    name: str
    role: PartnerRole
    status: Literal["invited", "active", "removed"]
    invited_at: UtcDateTime
    invited_by: str
    invitation_id: str | None = None
    invitation_sent_at: UtcDateTime | None = None  # when the latest invitation email went out
    invitation_sent_for: str | None = None  # before the side-effect ledger: the invitation id whose email went out
    activated_at: UtcDateTime | None = None
    removed_at: UtcDateTime | None = None
    removed_by: str | None = None
    removal_reason: RemovalReason | None = None


class Agreement(Record):
    version: str
    title: str
    body: str
    published_at: UtcDateTime
    published_by: str


class Acceptance(Record):
    partner_id: str
    version: str
    user_id: str
    user_email: str
    accepted_at: UtcDateTime


# ------------------------------------------------------------------ workflow messages
class ApplicationDecision(Strict):
    """Sent by the approval workflow once the approver decided (sqs:sendMessage from the state machine)."""

    message_type: Literal["ApplicationDecision"]
    application_id: str
    decision: Literal["approved", "rejected"]
    decided_by: str
    reason: str | None = None
    decided_at: UtcDateTime


class ApplicationConfirmationDue(Strict):
    """A timer message: the applicant's time to confirm their email address ends at `due_at`."""

    message_type: Literal["ApplicationConfirmationDue"]
    application_id: str
    due_at: UtcDateTime


class ApplicationExpiry(Strict):
    """Sent by the approval workflow when nobody decided in time."""

    message_type: Literal["ApplicationExpired"]
    application_id: str


# What arrives on onboarding's decisions queue from its workflow and timers, told apart by `message_type`.
WorkflowMessage = Annotated[
    ApplicationDecision | ApplicationConfirmationDue | ApplicationExpiry, Field(discriminator="message_type")
]
