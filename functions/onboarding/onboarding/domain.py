"""Onboarding rules as pure functions: domain values, records and events in, records and events out (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from contracts.onboarding import (
    ALL_PARTNERS,
    PartnerAgreementAccepted,
    PartnerApplicationConfirmed,
    PartnerApplicationExpired,
    PartnerApplicationRejected,
    PartnerApplicationSubmitted,
    PartnerOnboarded,
    PartnerRole,
    PartnerUserInvited,
    PartnerUserRemoved,
    ProgrammeAgreementPublished,
)
from onboarding.models import (
    Acceptance,
    Agreement,
    Applicant,
    Application,
    Partner,
    PartnerUser,
    RemovalReason,
    TierChange,
)
from shared.domains import registrable_domain
from shared.errors import Conflict, FieldError, Forbidden, NotFound, NotYetDue
from shared.principal import Principal

INITIAL_TIER = "Registered"
VENDOR_ADMIN = "vendor-admin"
PARTNER_ADMIN = "partner-admin"

NewId = Callable[[str], str]


class InvalidTransition(Exception):
    """The record is no longer in a state that allows this step (someone else got there first)."""


def new_application(
    applicant: Applicant, *, now: datetime, new_id: NewId, confirm_within: timedelta
) -> tuple[Application, PartnerApplicationSubmitted]:
    """A new application waits for its applicant to confirm their email address before anyone reviews it."""
    application = Application(
        application_id=new_id("app"),
        partner_id=new_id("prt"),
        status="unconfirmed",
        confirm_by=now + confirm_within,
        company_name=applicant.company_name,
        website=applicant.website,
        domain=registrable_domain(applicant.website),
        country=applicant.country,
        partner_type=applicant.partner_type,
        contact=applicant.contact,
        expected_annual_revenue=applicant.expected_annual_revenue,
        submitted_at=now,
    )
    event = PartnerApplicationSubmitted.occurred(
        **_application_fields(application, now, new_id),
        company_name=application.company_name,
        country=application.country,
        partner_type=application.partner_type,
        contact=application.contact,
        expected_annual_revenue=application.expected_annual_revenue,
        submitted_at=now,
    )
    return application, event


def duplicate_application(domain: str) -> Conflict:
    return Conflict(
        f"An application for {domain} is already pending or approved.",
        code="duplicate_application",
        errors=[FieldError("website", f"{domain} has already applied")],
    )


def confirmation_pending(email: str) -> Conflict:
    """One open unconfirmed application per contact address: a second one would send a second confirmation email."""
    return Conflict(
        f"A confirmation email was already sent to {email} for another application. Confirm that application, "
        "or wait until it lapses, before applying again with this address.",
        code="confirmation_pending",
        errors=[FieldError("contact_email", "a confirmation email was already sent to this address")],
    )


def submitted_anew(application: Application, *, keyed: bool) -> bool:
    """The same form sent again (no Idempotency-Key) after its application was rejected or lapsed is a new
    application; otherwise it is a retry, answered with the application as it is now."""
    return not keyed and application.status in ("rejected", "expired")


def confirm(
    application: Application, *, now: datetime, new_id: NewId
) -> tuple[Application, PartnerApplicationConfirmed]:
    """The applicant confirmed their address in time: the application now waits for the approver."""
    if application.status != "unconfirmed":
        raise InvalidTransition(f"application {application.application_id} is {application.status}")
    if application.confirm_by is not None and now >= application.confirm_by:
        raise InvalidTransition(f"application {application.application_id} was not confirmed in time")
    confirmed = application.model_copy(update={"status": "pending", "confirmed_at": now})
    event = PartnerApplicationConfirmed.occurred(
        **_application_fields(application, now, new_id),
        confirmed_at=now,
    )
    return confirmed, event


def _require_pending(application: Application) -> None:
    if application.status != "pending":
        raise InvalidTransition(f"application {application.application_id} is {application.status}")


def approve(
    application: Application, *, decided_by: str, now: datetime, new_id: NewId
) -> tuple[Application, Partner, PartnerUser, list[PartnerOnboarded | PartnerUserInvited]]:
    """The application becomes a partner (tier Registered) whose applicant is invited as its first admin."""
    _require_pending(application)
    decided = application.model_copy(update={"status": "approved", "decided_at": now, "decided_by": decided_by})
    partner = Partner(
        partner_id=application.partner_id,
        application_id=application.application_id,
        company_name=application.company_name,
        domain=application.domain,
        website=application.website,
        country=application.country,
        partner_type=application.partner_type,
        tier=INITIAL_TIER,
        status="active",
        onboarded_at=now,
        primary_contact=application.contact,
        updated_at=now,
    )
    user = PartnerUser(
        partner_id=partner.partner_id,
        email=application.contact.email,
        name=application.contact.name,
        role="partner-admin",
        status="invited",
        invited_at=now,
        invited_by="system",
        invitation_id=new_id("inv"),
    )
    onboarded = PartnerOnboarded.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner.partner_id,
        application_id=application.application_id,
        company_name=partner.company_name,
        domain=partner.domain,
        country=partner.country,
        partner_type=partner.partner_type,
        tier=partner.tier,
        status="active",
        primary_contact=partner.primary_contact,
        approved_by=decided_by,
        onboarded_at=now,
    )
    return decided, partner, user, [onboarded, invitation_event(user, now=now, new_id=new_id)]


def reject(
    application: Application, *, reason: str, decided_by: str, now: datetime, new_id: NewId
) -> tuple[Application, PartnerApplicationRejected]:
    _require_pending(application)
    decided = application.model_copy(
        update={"status": "rejected", "decided_at": now, "decided_by": decided_by, "decision_reason": reason}
    )
    return decided, _rejected(application, reason=reason, decided_by=decided_by, now=now, new_id=new_id)


def close_as_duplicate(
    application: Application, *, now: datetime, new_id: NewId
) -> tuple[Application, PartnerApplicationRejected]:
    """The applicant confirmed, but another application for the domain was confirmed first (or the company is a
    partner already): the first confirmed application wins, this one is closed with the reason."""
    if application.status != "unconfirmed":
        raise InvalidTransition(f"application {application.application_id} is {application.status}")
    reason = (
        f"{application.domain} already has a partner application in progress, or is already a partner; "
        "this application was closed."
    )
    closed = application.model_copy(
        update={
            "status": "rejected",
            "decided_at": now,
            "decided_by": "system",
            "decision_reason": reason,
            "closed_because": "domain_taken",
        }
    )
    return closed, _rejected(application, reason=reason, decided_by="system", now=now, new_id=new_id)


def expire(
    application: Application, *, expected: Literal["pending", "unconfirmed"], now: datetime, new_id: NewId
) -> tuple[Application, PartnerApplicationExpired]:
    """Nobody decided in time (`expected` pending: the workflow's expiry), or the applicant never confirmed their
    address (`expected` unconfirmed: the confirmation deadline). Each timer expires only the state it was set for: a
    confirmation that lands just before the deadline fires must not be expired as undecided."""
    if application.status != expected:
        raise InvalidTransition(f"application {application.application_id} is {application.status}, not {expected}")
    cause: Literal["not_decided", "not_confirmed"] = "not_decided" if expected == "pending" else "not_confirmed"
    expired = application.model_copy(update={"status": "expired", "decided_at": now, "decided_by": "workflow"})
    event = PartnerApplicationExpired.occurred(
        **_application_fields(application, now, new_id),
        cause=cause,
    )
    return expired, event


def confirmation_deadline_passed(application: Application, due_at: datetime, now: datetime) -> str | None:
    """Why the confirmation timer expires nothing (the application moved on), or None: expire it now. A timer that
    arrives before its time (clock skew) raises NotYetDue, so that it comes again; it is never dropped."""
    if application.status != "unconfirmed":
        return f"confirmation deadline passed: application is {application.status}"
    if now < due_at:
        raise NotYetDue(f"confirmation of {application.application_id} is due at {due_at}")
    return None


def invitation_event(user: PartnerUser, *, now: datetime, new_id: NewId) -> PartnerUserInvited:
    return PartnerUserInvited.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=user.partner_id,
        invitation_id=user.invitation_id,
        email=user.email,
        name=user.name,
        role=user.role,
        invited_by=user.invited_by,
    )


# ------------------------------------------------------------------ access rules
def ensure_can_read_partner(principal: Principal, partner_id: str) -> None:
    """Partner users see only their own organisation (404 hides whether another exists); vendor admins see all."""
    if principal.in_group(VENDOR_ADMIN):
        return
    if principal.partner_id != partner_id:
        raise NotFound("No such partner.")


def ensure_partner_admin(principal: Principal, partner_id: str) -> None:
    ensure_can_read_partner(principal, partner_id)
    if principal.in_group(VENDOR_ADMIN):
        return
    if not principal.in_group(PARTNER_ADMIN):
        raise Forbidden("Only a partner admin can do this.")


def ensure_vendor_admin(principal: Principal) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden("Only vendor administrators can do this.")


def publish(
    principal: Principal, *, version: str, title: str, body: str, now: datetime, new_id: NewId
) -> tuple[Agreement, ProgrammeAgreementPublished]:
    """Vendor administrators publish agreement versions; other contexts gate partner routes on the current version
    too, and learn it from the event."""
    ensure_vendor_admin(principal)
    agreement = Agreement(version=version, title=title, body=body, published_at=now, published_by=principal.email)
    event = ProgrammeAgreementPublished.occurred(
        at=agreement.published_at,
        event_id=new_id("evt"),
        partner_id=ALL_PARTNERS,
        agreement_version=agreement.version,
        published_at=agreement.published_at,
    )
    return agreement, event


def agreement_required(principal: Principal, current: Agreement | None, acceptance: Acceptance | None) -> bool:
    """Partner users must accept the current agreement version before anything else; vendor staff never."""
    if principal.partner_id is None or current is None:
        return False
    return acceptance is None or acceptance.version != current.version


# ------------------------------------------------------------------ partner users and profile
def invite(
    partner: Partner, *, email: str, name: str, role: PartnerRole, invited_by: str, now: datetime, new_id: NewId
) -> tuple[PartnerUser, PartnerUserInvited]:
    if partner.status != "active":
        raise Forbidden("This partner is not active.", code="partner_inactive")
    user = PartnerUser(
        partner_id=partner.partner_id,
        email=email,
        name=name,
        role=role,
        status="invited",
        invited_at=now,
        invited_by=invited_by,
        invitation_id=new_id("inv"),
    )
    return user, invitation_event(user, now=now, new_id=new_id)


def user_exists(email: str, field: str = "email") -> Conflict:
    return Conflict(
        f"{email} already has a PRM account.", code="user_exists", errors=[FieldError(field, "already has an account")]
    )


def same_invitation(existing: PartnerUser, *, name: str, role: PartnerRole) -> bool:
    """Inviting the same person again with the same name and role is a retry, not a conflict (unless they were
    removed since: that is refused by `user_was_removed`, never answered as a success)."""
    return existing.status != "removed" and existing.role == role and existing.name == name


def user_was_removed(existing: PartnerUser) -> Conflict:
    """A removed user is not invited back silently: their account stays disabled, and the admin is told why."""
    when = existing.removed_at.date().isoformat() if existing.removed_at else "earlier"
    return Conflict(
        f"{existing.email} was removed from this organisation ({existing.removal_reason or 'removed'}, {when}); "
        "a removed user cannot be invited again.",
        code="user_removed",
        errors=[FieldError("email", "was removed from this organisation")],
    )


# ------------------------------------------------------------------ removing a partner user
def other_admins(users: list[PartnerUser], email: str) -> list[PartnerUser]:
    """The organisation's partner admins, other than `email`, who are not removed (invited ones count: they hold
    the role and can sign in with their invitation)."""
    return [u for u in users if u.role == PARTNER_ADMIN and u.status != "removed" and u.email != email.lower()]


def user_not_found() -> NotFound:
    return NotFound("This organisation has no such user.", code="user_not_found")


def remove_user(
    principal: Principal,
    user: PartnerUser,
    *,
    other_admins: list[PartnerUser],
    reason: RemovalReason,
    now: datetime,
    new_id: NewId,
) -> tuple[PartnerUser, PartnerUserRemoved]:
    """The user loses access to the organisation: not oneself, and never its last partner admin (who else would
    manage its users?). `principal` is the partner's admin or a vendor admin (ensure_partner_admin)."""
    if user.status == "removed":
        raise InvalidTransition(f"{user.email} is already removed")
    if principal.email.lower() == user.email.lower():
        raise Conflict(
            "You cannot remove yourself; ask another partner admin of your organisation.",
            code="cannot_remove_self",
            errors=[FieldError("email", "is your own account")],
        )
    if user.role == PARTNER_ADMIN and not other_admins:
        raise Conflict(
            f"{user.email} is the organisation's last partner admin; make another user a partner admin first.",
            code="last_partner_admin",
            errors=[FieldError("email", "is the last partner admin")],
        )
    removed = user.model_copy(
        update={"status": "removed", "removed_at": now, "removed_by": principal.email, "removal_reason": reason}
    )
    event = PartnerUserRemoved.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=user.partner_id,
        user_email=user.email,
        removed_by=principal.email,
        reason=reason,
        removed_at=now,
    )
    return removed, event


def revocation_skipped(user: PartnerUser | None) -> str | None:
    """Why a PartnerUserRemoved revokes nothing now, or None: revoke the account (its user is removed)."""
    if user is None or user.status != "removed":
        return "no revocation: the user is not removed"
    return None


# ------------------------------------------------------------------ the partner's tier (projected from tiers)
def tier_order(change: TierChange) -> str:
    """The change's place in the partner's tier history: effective time (microseconds, fixed width, so text order is
    time order), then event id to break ties. A change applies only after the one applied."""
    return f"{change.effective_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{change.event_id}"


def apply_tier(partner: Partner, change: TierChange) -> Partner | None:
    """The profile with the announced tier, or None when the change is not newer than the one shown (a redelivered or
    late event changes nothing)."""
    order = tier_order(change)
    if partner.tier_order is not None and order <= partner.tier_order:
        return None
    return partner.model_copy(
        update={"tier": change.name, "tier_id": change.tier_id, "tier_since": change.effective_at, "tier_order": order}
    )


def update_profile(partner: Partner, changes: Mapping[str, str | None], *, now: datetime) -> Partner:
    """`changes`: the profile fields a partner admin set (phone, description), as given."""
    return partner.model_copy(update=dict(changes) | {"revision": partner.revision + 1, "updated_at": now})


def ensure_partner_user(principal: Principal) -> str:
    """The caller's partner id (the token's): vendor staff accept no programme agreement."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users accept the programme agreement.")
    return principal.partner_id


def accept(
    principal: Principal, agreement: Agreement, version: str, *, now: datetime, new_id: NewId
) -> tuple[Acceptance, PartnerAgreementAccepted]:
    partner_id = ensure_partner_user(principal)
    if version != agreement.version:
        raise Conflict(
            f"The current agreement is version {agreement.version}; reload it before accepting.",
            code="agreement_version_mismatch",
            errors=[FieldError("version", f"current version is {agreement.version}")],
        )
    acceptance = Acceptance(
        partner_id=partner_id,
        version=agreement.version,
        user_id=principal.sub,
        user_email=principal.email,
        accepted_at=now,
    )
    event = PartnerAgreementAccepted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        agreement_version=agreement.version,
        user_email=principal.email,
        user_id=principal.sub,
        accepted_at=now,
    )
    return acceptance, event


def _application_fields(application: Application, now: datetime, new_id: NewId) -> dict[str, Any]:
    """What every application event carries: when, its id, and the application it is about."""
    return {
        "at": now,
        "event_id": new_id("evt"),
        "partner_id": application.partner_id,
        "application_id": application.application_id,
        "domain": application.domain,
    }


def _rejected(
    application: Application, *, reason: str, decided_by: str, now: datetime, new_id: NewId
) -> PartnerApplicationRejected:
    return PartnerApplicationRejected.occurred(
        **_application_fields(application, now, new_id), reason=reason, decided_by=decided_by, decided_at=now
    )


# ------------------------------------------------------------------ what is still to be told
ApplicationEmail = Literal["confirmation", "receipt", "outcome"]
# Before the side-effect ledger, each email's going out was marked on the application itself.
_MARKERS: dict[ApplicationEmail, str] = {
    "confirmation": "confirmation_sent_at",
    "receipt": "receipt_sent_at",
    "outcome": "outcome_sent_at",
}


def marked_sent(application: Application, email: ApplicationEmail) -> bool:
    """The email went out before the ledger existed (a replay of an archived event must not send it again)."""
    return getattr(application, _MARKERS[email]) is not None


def needs_confirmation(application: Application) -> bool:
    """Applications submitted before email confirmation existed have no deadline: they go straight to the approver."""
    return application.confirm_by is not None


def confirmation_request_skipped(application: Application) -> str | None:
    """Why no confirmation email goes out (the application moved on), or None: ask the applicant to confirm."""
    if application.status != "unconfirmed" or marked_sent(application, "confirmation"):
        return f"no confirmation email: application is {application.status}"
    return None


def approval_skipped(application: Application) -> str | None:
    """Only a confirmed (pending) application reaches the approver."""
    if application.status != "pending":
        return f"no approval started: application is {application.status}"
    return None


def outcome_skipped(application: Application, outcome: Literal["rejected", "expired"]) -> str | None:
    """Why the applicant is not told of the outcome: the application is not (or no longer) in it, or lapsed
    unconfirmed (nobody confirmed the address: nobody is emailed)."""
    if application.status != outcome:
        return f"no {'rejection' if outcome == 'rejected' else 'expiry'} email: application is {application.status}"
    if outcome == "expired" and application.confirm_by is not None and application.confirmed_at is None:
        return "lapsed unconfirmed: nobody to tell (the address was never confirmed)"
    return None


def invitation_key(invitation: PartnerUserInvited) -> str:
    """What an invitation is sent once for (events from before invitation ids are keyed by their event)."""
    return invitation.invitation_id or f"legacy:{invitation.event_id}"


def invitation_skipped(user: PartnerUser | None, invitation: PartnerUserInvited) -> str | None:
    """Why the invitation (an account with a temporary password, and its email) is not sent, or None: send it. A
    replayed invitation must never reset the temporary password of one that went out."""
    if user is None or user.status != "invited":
        return "no invitation: the user is not (or no longer) waiting for one"
    if user.invitation_id not in (None, invitation.invitation_id):
        return "a newer invitation replaced this one"
    legacy_event = invitation.invitation_id is None
    if user.invitation_sent_for == invitation_key(invitation) or (legacy_event and user.invitation_sent_at):
        return "invitation already sent"
    return None
