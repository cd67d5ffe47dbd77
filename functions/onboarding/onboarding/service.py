"""Onboarding use cases: load, apply a domain rule, save conditionally. Adapters are injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from onboarding import domain
from onboarding.models import (
    Acceptance,
    Agreement,
    AgreementRequest,
    Application,
    ApplicationDecision,
    ApplicationRequest,
    InviteUserRequest,
    Partner,
    PartnerUpdateRequest,
    PartnerUser,
)
from onboarding.repository import DomainTaken, OnboardingRepository, StaleRecord
from shared.clock import Clock, iso, utc_now
from shared.dynamo import ConditionFailed
from shared.errors import Conflict, NotFound
from shared.http import Principal
from shared.ids import new_id


@dataclass
class OnboardingService:
    repository: OnboardingRepository
    clock: Clock = utc_now
    confirm_within: timedelta = timedelta(days=2)

    # ------------------------------------------------------------- applications
    def submit_application(self, request: ApplicationRequest) -> Application:
        application, event = domain.new_application(
            request, now=self.clock(), new_id=new_id, confirm_within=self.confirm_within
        )
        try:
            self.repository.create_application(application, event)
        except ConditionFailed as failure:
            if failure.failed_at(1):
                raise domain.duplicate_application(application.domain) from failure
            if failure.failed_at(2):
                raise domain.user_exists(application.contact.email, field="contact_email") from failure
            if failure.failed_at(3):
                raise domain.confirmation_pending(application.contact.email) from failure
            raise
        return application

    def get_application(self, application_id: str) -> Application:
        application = self.repository.get_application(application_id)
        if application is None:
            raise NotFound("No such application.")
        return application

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
        application = self.repository.get_application(decision.application_id)
        if application is None:
            raise NotFound(f"application {decision.application_id} does not exist")
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
        application = self.repository.get_application(application_id)
        if application is None:
            raise NotFound(f"application {application_id} does not exist")
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
            self.repository.activate_user(principal.partner_id, principal.email, iso(self.clock()))
        roles = sorted(g for g in principal.groups if g in {"partner-admin", "partner-user", "vendor-admin"})
        return {
            "email": principal.email,
            "name": principal.name,
            "partner_id": principal.partner_id,
            "roles": roles,
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
            from shared.errors import Forbidden

            raise Forbidden("Accept the current programme agreement first.", code="agreement_required")

    # ------------------------------------------------------------- agreements
    def current_agreement(self) -> Agreement:
        current = self.repository.current_agreement()
        if current is None:
            raise NotFound("No programme agreement has been published.")
        return current

    def publish_agreement(self, principal: Principal, request: AgreementRequest) -> Agreement:
        domain.ensure_vendor_admin(principal)
        agreement = Agreement(
            version=request.version,
            title=request.title,
            body=request.body,
            published_at=self.clock(),
            published_by=principal.email,
        )
        try:
            self.repository.publish_agreement(agreement, domain.publication_event(agreement, new_id=new_id))
        except ConditionFailed as failure:
            if failure.failed_at(1):
                raise Conflict(
                    f"A newer agreement was published while version {request.version} was being published; "
                    "reload the current agreement.",
                    code="conflict",
                ) from failure
            raise Conflict(f"Version {request.version} was already published.", code="conflict") from failure
        return agreement

    def accept_agreement(self, principal: Principal, version: str) -> Acceptance:
        agreement = self.current_agreement()
        acceptance, event = domain.accept(principal, agreement, version, now=self.clock(), new_id=new_id)
        try:
            self.repository.record_acceptance(acceptance, event)
        except ConditionFailed as failure:
            if failure.failed_at(0):
                existing = self.repository.get_acceptance(acceptance.partner_id, version, principal.sub)
                if existing:
                    return existing
            if failure.failed_at(1):
                raise Conflict(
                    "A newer agreement was just published; reload it.", code="agreement_version_mismatch"
                ) from failure
            raise
        self.repository.activate_user(acceptance.partner_id, principal.email, iso(acceptance.accepted_at))
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
        updated = domain.update_profile(partner, request, now=self.clock())
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
        user, event = domain.invite(partner, request, invited_by=principal.email, now=self.clock(), new_id=new_id)
        try:
            self.repository.create_user(user, event)
        except ConditionFailed as failure:
            existing = self.repository.get_user(partner_id, request.email)
            if existing and existing.role == request.role and existing.name == request.name:
                return existing  # the same invitation again: idempotent
            raise domain.user_exists(request.email) from failure
        return user
