"""Onboarding use cases over the ports (onboarding.ports): load, apply a domain rule, save conditionally; mail, invite
and start workflows through ports, each side effect once (shared.ports.SideEffectLedger).

- OnboardingService (the HTTP API, and the workflow's decisions): applications, partners, users, agreements.
- OnboardingReactions (the events consumer): the same, plus what follows onboarding's events and timers: the
  confirmation request, the approval workflow, the applicant's emails, the partner users' invitations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from contracts.onboarding import PartnerUserInvited, PartnerUserRemoved
from onboarding import domain, notifications
from onboarding.models import (
    Acceptance,
    Agreement,
    AgreementRequest,
    Application,
    ApplicationConfirmationDue,
    ApplicationDecision,
    ApplicationRequest,
    InviteUserRequest,
    Partner,
    PartnerUpdateRequest,
    PartnerUser,
    RemoveUserRequest,
    TierChange,
)
from onboarding.ports import (
    AgreementChanged,
    AgreementVersionExists,
    AlreadyAccepted,
    ApplicationWorkflows,
    ConfirmationLinks,
    ConfirmationPending,
    DirectoryUnavailable,
    DomainTaken,
    EmailTaken,
    NewerAgreementCurrent,
    OnboardingRepository,
    StaleRecord,
    UserDirectory,
)
from shared.clock import Clock, utc_now
from shared.errors import Conflict, Forbidden, NotFound, Unavailable
from shared.ids import new_id
from shared.mail import Email
from shared.ports import Mailer, SideEffectLedger
from shared.principal import Principal
from shared.retry import attempts

ROLES = frozenset({"partner-admin", "partner-user", "vendor-admin"})
RACE_ATTEMPTS = 4  # reads and decides again after a lost conditional write (another admin changed the users)


@dataclass
class OnboardingService:
    repository: OnboardingRepository
    clock: Clock = utc_now
    confirm_within: timedelta = timedelta(days=2)
    identity: UserDirectory = field(kw_only=True)  # the user pool: invitations, and revoking a removed user's access

    # ------------------------------------------------------------- applications
    def submit_application(self, request: ApplicationRequest) -> Application:
        application, event = domain.new_application(
            request.applicant(), now=self.clock(), new_id=new_id, confirm_within=self.confirm_within
        )
        try:
            self.repository.create_application(application, event)
        except DomainTaken as taken:
            raise domain.duplicate_application(application.domain) from taken
        except EmailTaken as taken:
            raise domain.user_exists(application.contact.email, field="contact_email") from taken
        except ConfirmationPending as pending:
            raise domain.confirmation_pending(application.contact.email) from pending
        return application

    def get_application(self, application_id: str) -> Application:
        application = self.repository.get_application(application_id)
        if application is None:
            raise NotFound("No such application.")
        return application

    def resubmission(self, application_id: str, *, keyed: bool) -> tuple[Application | None, bool]:
        """A replayed submission's application as it is now (None if gone), and whether the same form is a new
        application this time (domain.submitted_anew)."""
        application = self.repository.get_application(application_id)
        return application, application is not None and domain.submitted_anew(application, keyed=keyed)

    def confirm_application(self, application_id: str) -> Application:
        """The applicant confirmed their email address (a verified link): the approver is asked next. Repeats are
        harmless: an application already confirmed is returned as it is."""
        application = self.get_application(application_id)
        if application.status != "unconfirmed":
            return application
        now = self.clock()
        try:
            confirmed, event = domain.confirm(application, now=now, new_id=new_id)
            self.repository.record_confirmation(confirmed, event)
        except (StaleRecord, domain.InvalidTransition):
            return self.get_application(application_id)
        except DomainTaken:
            return self._close_as_duplicate(application, now)
        return confirmed

    def _close_as_duplicate(self, application: Application, now: datetime) -> Application:
        """Another application for the domain was confirmed first: close this one, saying why."""
        closed, event = domain.close_as_duplicate(application, now=now, new_id=new_id)
        try:
            self.repository.record_closure(closed, event, expected="unconfirmed")
        except StaleRecord:
            return self.get_application(application.application_id)
        return closed

    def apply_decision(self, decision: ApplicationDecision) -> str:
        """Apply the approver's decision once; a repeat or a late duplicate is a no-op. Returns what happened."""
        application = self.get_application(decision.application_id)
        if application.status != "pending":
            return f"already {application.status}"
        now = self.clock()
        try:
            if decision.decision == "approved":
                decided, partner, user, events = domain.approve(
                    application, decided_by=decision.decided_by, now=now, new_id=new_id
                )
                invited = self.repository.record_approval(decided, partner, user, events)
                return "approved" if invited else "approved without invitation (contact email already in use)"
            rejected, event = domain.reject(
                application,
                reason=decision.reason or "No reason given.",
                decided_by=decision.decided_by,
                now=now,
                new_id=new_id,
            )
            self.repository.record_closure(rejected, event, expected="pending")
            return "rejected"
        except (StaleRecord, domain.InvalidTransition):
            return "already decided"

    def expire_application(self, application_id: str, *, expected: Literal["pending", "unconfirmed"]) -> str:
        """Expire the application only if it is still `expected` (the state the firing timer was set for)."""
        return self._expire(self.get_application(application_id), expected=expected)

    def confirmation_due(self, message: ApplicationConfirmationDue) -> str:
        """The confirmation deadline's timer: an application still unconfirmed lapses (as read now: a confirmation
        that commits meanwhile makes the conditional write lose, and the application stays confirmed)."""
        application = self.get_application(message.application_id)
        passed = domain.confirmation_deadline_passed(application, message.due_at, self.clock())
        return passed or self._expire(application, expected="unconfirmed")

    def _expire(self, application: Application, *, expected: Literal["pending", "unconfirmed"]) -> str:
        try:
            expired, event = domain.expire(application, expected=expected, now=self.clock(), new_id=new_id)
            self.repository.record_closure(expired, event, expected=expected)
        except (StaleRecord, domain.InvalidTransition):
            return "already decided"
        return "expired"

    # ------------------------------------------------------------- the signed-in user
    def me(self, principal: Principal) -> dict[str, Any]:
        current = self.repository.current_agreement()
        acceptance = self._acceptance(principal, current)
        if principal.partner_id:
            self.repository.activate_user(principal.partner_id, principal.email, self.clock())
        return {
            "email": principal.email,
            "name": principal.name,
            "partner_id": principal.partner_id,
            "roles": sorted(g for g in principal.groups if g in ROLES),
            "agreement": {
                "required": domain.agreement_required(principal, current, acceptance),
                "current_version": current.version if current else None,
                "accepted_version": acceptance.version if acceptance else None,
            },
        }

    def _acceptance(self, principal: Principal, current: Agreement | None) -> Acceptance | None:
        if current is None or principal.partner_id is None:
            return None
        return self.repository.get_acceptance(principal.partner_id, current.version, principal.sub)

    def require_agreement(self, principal: Principal) -> None:
        """Partner users act only after accepting the current programme agreement (403 agreement_required)."""
        current = self.repository.current_agreement()
        if domain.agreement_required(principal, current, self._acceptance(principal, current)):
            raise Forbidden("Accept the current programme agreement first.", code="agreement_required")

    # ------------------------------------------------------------- agreements
    def current_agreement(self) -> Agreement:
        current = self.repository.current_agreement()
        if current is None:
            raise NotFound("No programme agreement has been published.")
        return current

    def publish_agreement(self, principal: Principal, request: AgreementRequest) -> Agreement:
        agreement, event = domain.publish(
            principal, version=request.version, title=request.title, body=request.body, now=self.clock(), new_id=new_id
        )
        try:
            self.repository.publish_agreement(agreement, event)
        except NewerAgreementCurrent as newer:
            raise Conflict(
                f"A newer agreement was published while version {request.version} was being published; "
                "reload the current agreement.",
                code="conflict",
            ) from newer
        except AgreementVersionExists as exists:
            raise Conflict(f"Version {request.version} was already published.", code="conflict") from exists
        return agreement

    def accept_agreement(self, principal: Principal, version: str) -> Acceptance:
        agreement = self.current_agreement()
        acceptance, event = domain.accept(principal, agreement, version, now=self.clock(), new_id=new_id)
        try:
            self.repository.record_acceptance(acceptance, event)
        except AlreadyAccepted:
            existing = self.repository.get_acceptance(acceptance.partner_id, version, principal.sub)
            if existing is None:
                raise
            return existing
        except AgreementChanged as changed:
            raise Conflict(
                "A newer agreement was just published; reload it.", code="agreement_version_mismatch"
            ) from changed
        self.repository.activate_user(acceptance.partner_id, principal.email, acceptance.accepted_at)
        return acceptance

    # ------------------------------------------------------------- organisation and users
    def get_partner(self, principal: Principal, partner_id: str) -> Partner:
        domain.ensure_can_read_partner(principal, partner_id)
        self.require_agreement(principal)
        partner = self.repository.get_partner(partner_id)
        if partner is None:
            raise NotFound("No such partner.")
        return partner

    def update_partner(self, principal: Principal, partner_id: str, request: PartnerUpdateRequest) -> Partner:
        domain.ensure_partner_admin(principal, partner_id)
        partner = self.get_partner(principal, partner_id)
        updated = domain.update_profile(partner, request.model_dump(exclude_unset=True), now=self.clock())
        try:
            self.repository.save_partner(updated)
        except StaleRecord as failure:
            raise Conflict("The profile changed meanwhile; reload and try again.") from failure
        return updated

    def list_users(self, principal: Principal, partner_id: str) -> list[PartnerUser]:
        self.get_partner(principal, partner_id)
        return self.repository.list_users(partner_id)

    def invite_user(self, principal: Principal, partner_id: str, request: InviteUserRequest) -> PartnerUser:
        domain.ensure_partner_admin(principal, partner_id)
        partner = self.get_partner(principal, partner_id)
        user, event = domain.invite(
            partner,
            email=request.email,
            name=request.name,
            role=request.role,
            invited_by=principal.email,
            now=self.clock(),
            new_id=new_id,
        )
        try:
            self.repository.create_user(user, event)
        except EmailTaken as taken:
            existing = self.repository.get_user(partner_id, request.email)
            if existing and domain.same_invitation(existing, name=request.name, role=request.role):
                return existing  # the same invitation again: idempotent
            if existing and existing.status == "removed":
                raise domain.user_was_removed(existing) from taken
            raise domain.user_exists(request.email) from taken
        return user

    def replayed_invitation(self, partner_id: str, request: InviteUserRequest) -> None:
        """A retried invitation replays its first answer, unless the user was removed since: never answer a removed
        user as invited."""
        existing = self.repository.get_user(partner_id, str(request.email))
        if existing is not None and existing.status == "removed":
            raise domain.user_was_removed(existing)

    def remove_user(self, principal: Principal, partner_id: str, request: RemoveUserRequest) -> PartnerUser:
        """The user loses access: the table first (conditional, with PartnerUserRemoved), then the user pool (sign-out
        and disable). A crash or a pool failure in between leaves the user removed and the account live until the
        request is sent again (a repeat finishes the revocation and answers the removal as recorded) or onboarding's
        consumer of PartnerUserRemoved revokes it; a removal that lost a race is decided again on fresh reads."""
        domain.ensure_partner_admin(principal, partner_id)
        self.get_partner(principal, partner_id)
        email = str(request.email)
        for _ in attempts(RACE_ATTEMPTS):
            user = self.repository.get_user(partner_id, email)
            if user is None:
                raise domain.user_not_found()
            if user.status == "removed":
                self._revoke(user)
                return user
            others = domain.other_admins(self.repository.list_users(partner_id), email)
            removed, event = domain.remove_user(
                principal, user, other_admins=others, reason=request.reason, now=self.clock(), new_id=new_id
            )
            keeper = others[0] if user.role == domain.PARTNER_ADMIN else None
            try:
                self.repository.record_removal(removed, event, expected=user.status, keeper=keeper)
            except StaleRecord:
                continue
            self._revoke(removed)
            return removed
        raise Conflict("The organisation's users changed meanwhile; reload them and try again.")

    def _revoke(self, user: PartnerUser) -> bool:
        try:
            return self.identity.revoke(str(user.email))
        except DirectoryUnavailable as failure:
            raise Unavailable(
                f"{user.email} is removed, but signing them out did not finish; send the same request again.",
                code="revocation_pending",
            ) from failure


@dataclass(kw_only=True)
class OnboardingReactions(OnboardingService):
    """Each reaction checks the entity's current state first (domain rules), then does its side effect once per
    entity through the ledger: an archived event replayed after the de-duplication records expired repeats nothing."""

    mailer: Mailer
    effects: SideEffectLedger
    workflows: ApplicationWorkflows
    links: ConfirmationLinks
    portal_url: str

    def request_confirmation(self, application_id: str) -> str:
        """Ask the applicant to confirm their address (once per application, only while it is unconfirmed)."""
        application = self.get_application(application_id)
        if not domain.needs_confirmation(application):
            return self.put_before_approver(application_id)
        skipped = domain.confirmation_request_skipped(application)
        if skipped:
            return skipped

        def ask() -> str:
            # The deadline first: a repeated timer changes nothing (it checks the status), a missing one would leave
            # the application (and its contact address) unconfirmed for ever.
            self.workflows.schedule_confirmation_deadline(application, now=self.clock())
            self.mailer.send(notifications.confirm_address(application, self.links.link(application)))
            return "confirmation requested"

        return self._once(application, "confirmation", ask)

    def put_before_approver(self, application_id: str) -> str:
        """Only a confirmed application reaches the approver (one execution per application); the applicant's receipt
        goes out once."""
        application = self.get_application(application_id)
        skipped = domain.approval_skipped(application)
        if skipped:
            return skipped
        execution = self.workflows.start_approval(application)
        self._mail_once(application, "receipt", lambda: notifications.application_received(application))
        return execution

    def tell_rejection(self, application_id: str, reason: str) -> str:
        application = self.get_application(application_id)
        skipped = domain.outcome_skipped(application, "rejected")
        if skipped:
            return skipped
        closed = application.closed_because == "domain_taken"
        email = notifications.application_closed if closed else notifications.application_rejected
        return self._mail_once(application, "outcome", lambda: email(application, reason))

    def tell_expiry(self, application_id: str) -> str:
        application = self.get_application(application_id)
        skipped = domain.outcome_skipped(application, "expired")
        if skipped:
            return skipped
        return self._mail_once(application, "outcome", lambda: notifications.application_expired(application))

    def send_invitation(self, invitation: PartnerUserInvited) -> str:
        """Create the account and email its temporary password once per invitation: a replayed event must not reset
        the password of an invitation that already went out."""
        email = str(invitation.email)
        skipped = domain.invitation_skipped(self.repository.get_user(invitation.partner_id, email), invitation)
        if skipped:
            return skipped

        def invite() -> str:
            password = self.identity.invite(
                email=email, name=invitation.name, partner_id=invitation.partner_id, role=invitation.role
            )
            if password is None:
                return "account already in use; no invitation sent"
            if domain.revocation_skipped(self.repository.get_user(invitation.partner_id, email)) is None:
                # removed while the account was being made (its removal may have found no account to revoke)
                self.identity.revoke(email)
                return "removed meanwhile: account disabled, no invitation sent"
            partner = self.repository.get_partner(invitation.partner_id)
            company = partner.company_name if partner else "your organisation"
            self.mailer.send(
                notifications.invitation(
                    email=email, name=invitation.name, company=company, password=password, portal_url=self.portal_url
                )
            )
            self.repository.record_invitation_sent(invitation.partner_id, email, self.clock())
            return "invited"

        key = f"invitation:{domain.invitation_key(invitation)}"
        return self.effects.once(f"PARTNER#{invitation.partner_id}", key, invite)

    def revoke_access(self, removal: PartnerUserRemoved) -> str:
        """Finish a removal's revocation whatever happened to the request that removed the user (the outbox delivers
        the event at least once). Repeating it is harmless, so it needs no ledger; only a user still removed is
        revoked."""
        user = self.repository.get_user(removal.partner_id, str(removal.user_email))
        skipped = domain.revocation_skipped(user)
        if skipped or user is None:
            return skipped or "no revocation"
        return "access revoked" if self.identity.revoke(str(user.email)) else "no account to revoke (never invited)"

    def show_tier(self, change: TierChange) -> str:
        """Project the partner's tier onto its profile; a change not newer than the one shown changes nothing."""
        partner = self.repository.get_partner(change.partner_id)
        if partner is None:
            return "no such partner: no profile to show the tier on"
        updated = domain.apply_tier(partner, change)
        if updated is None or not self.repository.record_tier(updated):
            return "older or repeated tier change"
        return f"tier {change.tier_id} shown"

    def _mail_once(self, application: Application, kind: domain.ApplicationEmail, email: Callable[[], Email]) -> str:
        return self._once(application, kind, lambda: self.mailer.send(email()))

    def _once(self, application: Application, kind: domain.ApplicationEmail, effect: Callable[[], str]) -> str:
        if domain.marked_sent(application, kind):
            return f"{kind} email already sent"
        return self.effects.once(f"APPLICATION#{application.application_id}", f"{kind}-email", effect)
