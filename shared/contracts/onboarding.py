"""Events published by partner onboarding (source `prm.onboarding`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.email import Email
from shared.events import EventDetail
from shared.money import Money

SOURCE = "prm.onboarding"
PartnerType = Literal["reseller", "distributor", "isv", "referral"]
PartnerRole = Literal["partner-admin", "partner-user"]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    email: Email


class PartnerApplicationSubmitted(EventDetail):
    """A prospective partner applied; the partner id is reserved now and used if the application is approved."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationSubmitted"

    application_id: str
    company_name: str
    domain: str
    country: str
    partner_type: PartnerType
    contact: Contact
    expected_annual_revenue: Money
    submitted_at: UtcDateTime


class PartnerApplicationRejected(EventDetail):
    """An approver rejected the application; the reason was sent to the applicant, who may apply again."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationRejected"

    application_id: str
    domain: str
    reason: str
    decided_by: str
    decided_at: UtcDateTime


class PartnerApplicationExpired(EventDetail):
    """Nobody decided within the approval, reminder and escalation periods."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationExpired"

    application_id: str
    domain: str


class PartnerOnboarded(EventDetail):
    """A partner organisation exists and is active; other contexts project it to know who may transact."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerOnboarded"

    application_id: str
    company_name: str
    domain: str
    country: str
    partner_type: PartnerType
    tier: str
    status: Literal["active"]
    primary_contact: Contact
    approved_by: str
    onboarded_at: UtcDateTime


class PartnerUserInvited(EventDetail):
    """A person was invited to a partner's portal account (the applicant on approval, or a colleague)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerUserInvited"

    email: Email
    name: str
    role: PartnerRole
    invited_by: str


class PartnerAgreementAccepted(EventDetail):
    """A partner user accepted a version of the programme agreement (who, when, which version: the audit record)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerAgreementAccepted"

    agreement_version: str
    user_email: Email
    user_id: str
    accepted_at: UtcDateTime


ONBOARDING_EVENTS: tuple[type[EventDetail], ...] = (
    PartnerApplicationSubmitted,
    PartnerApplicationRejected,
    PartnerApplicationExpired,
    PartnerOnboarded,
    PartnerUserInvited,
    PartnerAgreementAccepted,
)
