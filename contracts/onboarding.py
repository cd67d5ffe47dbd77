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
    """A prospective partner applied; the partner id is reserved now and used if the application is approved.

    The applicant must confirm their email address (PartnerApplicationConfirmed) before anyone reviews it."""

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


class PartnerApplicationConfirmed(EventDetail):
    """The applicant confirmed their email address; only now is the application put before an approver."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationConfirmed"

    application_id: str
    domain: str
    confirmed_at: UtcDateTime


class PartnerApplicationRejected(EventDetail):
    """Rejected by an approver, or closed by `system` (another for the domain confirmed first); applicant told."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationRejected"

    application_id: str
    domain: str
    reason: str
    decided_by: str
    decided_at: UtcDateTime


class PartnerApplicationExpired(EventDetail):
    """Nobody decided within the approval, reminder and escalation periods, or the applicant never confirmed their
    email address (`cause`: `not_decided` | `not_confirmed`; absent in events published before it was added)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerApplicationExpired"

    application_id: str
    domain: str
    cause: Literal["not_decided", "not_confirmed"] | None = None


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
    """A person was invited to a partner's portal account (the applicant on approval, or a colleague).

    `invitation_id` names the invitation (the partner user is `partner_id` + `email`): act once per invitation id.
    Added within version 1, so it is optional: events published before it have none."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerUserInvited"

    invitation_id: str | None = None  # names the invitation (absent only in events published before it was added)
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


class ProgrammeAgreementPublished(EventDetail):
    """A vendor admin published a new current version of the programme agreement; partner users must accept it.

    Programme-wide, it concerns no one partner: `partner_id` is `*` (ALL_PARTNERS).
    """

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ProgrammeAgreementPublished"

    agreement_version: str
    published_at: UtcDateTime


class PartnerUserRemoved(EventDetail):
    """A partner user lost access: removed from the organisation by a partner or vendor admin, or disabled.

    Consumers stop counting what the person holds for this partner (certifications, rewards eligibility); the user is
    named by `user_email` (partner users are `partner_id` + email, as in `PartnerUserInvited`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "PartnerUserRemoved"

    user_email: Email
    removed_by: str
    reason: Literal["removed", "disabled"]
    removed_at: UtcDateTime


ALL_PARTNERS = "*"

ONBOARDING_EVENTS: tuple[type[EventDetail], ...] = (
    PartnerApplicationSubmitted,
    PartnerApplicationConfirmed,
    PartnerApplicationRejected,
    PartnerApplicationExpired,
    PartnerOnboarded,
    PartnerUserInvited,
    PartnerUserRemoved,
    PartnerAgreementAccepted,
    ProgrammeAgreementPublished,
)
