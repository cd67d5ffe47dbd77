"""Onboarding's ports: what its services need from outside (typing.Protocols), and the failures the repository
reports. Adapters: `repository` (DynamoDB), `identity` (Cognito), `workflow` (Step Functions and Scheduler),
`confirmation` (signed links); mail and the side-effect ledger are shared.ports'. In-memory fakes for service tests:
tests/support/fakes_onboarding.py."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from contracts.onboarding import PartnerOnboarded, PartnerUserInvited
from onboarding.models import Acceptance, Agreement, Application, Partner, PartnerUser
from shared.events import EventDetail


class StaleRecord(Exception):
    """A conditional write found the record changed since it was read."""


class DomainTaken(Exception):
    """The domain belongs to a confirmed application or a partner (the first confirmed application wins)."""


class EmailTaken(Exception):
    """The address already belongs to a PRM user."""


class ConfirmationPending(Exception):
    """The address has an open unconfirmed application: its confirmation email went out already."""


class AgreementVersionExists(Exception):
    """That agreement version was published before."""


class NewerAgreementCurrent(Exception):
    """A newer agreement (later `published_at`) is current."""


class AlreadyAccepted(Exception):
    """The user accepted that agreement version before."""


class AgreementChanged(Exception):
    """The current agreement is no longer the version being accepted."""


class DirectoryUnavailable(Exception):
    """The user pool did not answer (throttled, unreachable): nothing is known to have changed there; try again."""


class OnboardingRepository(Protocol):
    """Applications, claims, partners, users, agreements; every state change is written with its events or not at
    all, on condition of the state it was read in."""

    def create_application(self, application: Application, event: EventDetail) -> None:
        """Save a new unconfirmed application and hold its contact address. DomainTaken, EmailTaken or
        ConfirmationPending (in that order) if it may not be saved."""

    def get_application(self, application_id: str) -> Application | None: ...

    def record_confirmation(self, confirmed: Application, event: EventDetail) -> None:
        """unconfirmed -> pending, claiming the domain and freeing the address. StaleRecord if it was no longer
        unconfirmed; DomainTaken if another application's confirmation claimed the domain first."""

    def record_approval(
        self,
        decided: Application,
        partner: Partner,
        user: PartnerUser,
        events: list[PartnerOnboarded | PartnerUserInvited],
    ) -> bool:
        """pending -> approved, with the partner and its first admin. False: the admin's address was another
        partner's user meanwhile, so the organisation was onboarded without inviting it. StaleRecord if not pending."""

    def record_closure(
        self, decided: Application, event: EventDetail, *, expected: Literal["pending", "unconfirmed"]
    ) -> None:
        """Reject or expire an application still `expected`, releasing what it holds; StaleRecord otherwise."""

    def get_partner(self, partner_id: str) -> Partner | None: ...

    def save_partner(self, partner: Partner) -> None:
        """StaleRecord unless the stored revision is the one this change was based on."""

    def list_users(self, partner_id: str) -> list[PartnerUser]: ...

    def get_user(self, partner_id: str, email: str) -> PartnerUser | None: ...

    def create_user(self, user: PartnerUser, event: EventDetail) -> None:
        """EmailTaken if the address already belongs to a PRM user."""

    def record_invitation_sent(self, partner_id: str, email: str, at: datetime) -> None:
        """When the user's invitation email went out (shown with the user)."""

    def activate_user(self, partner_id: str, email: str, at: datetime) -> None:
        """invited -> active; nothing if already active, removed (or not a partner user)."""

    def record_removal(
        self, removed: PartnerUser, event: EventDetail, *, expected: str, keeper: PartnerUser | None
    ) -> None:
        """The user's status `expected` -> removed, with its event; `keeper` (another partner admin, when the user is
        one) must still be an admin and not removed in the same transaction, so two admins removing each other
        concurrently cannot leave the organisation without one. StaleRecord if either changed since read."""

    def record_tier(self, partner: Partner) -> bool:
        """Show the partner's tier (tier, tier_id, tier_since) if its `tier_order` is after the one applied; False when
        the change is older or repeated (nothing changes) or the partner is unknown."""

    def current_agreement(self) -> Agreement | None: ...

    def publish_agreement(self, agreement: Agreement, event: EventDetail) -> None:
        """NewerAgreementCurrent or AgreementVersionExists (in that order) if it may not be published."""

    def get_acceptance(self, partner_id: str, version: str, user_id: str) -> Acceptance | None: ...

    def record_acceptance(self, acceptance: Acceptance, event: EventDetail) -> None:
        """AlreadyAccepted or AgreementChanged (in that order) if it may not be recorded."""


class UserDirectory(Protocol):
    """The user pool's administration of partner users."""

    def invite(self, *, email: str, name: str, partner_id: str, role: str) -> str | None:
        """Create the account (or refresh an unused invitation of the same partner) in the role's group, and return
        its temporary password; None when the account is in use or disabled (nothing is reset)."""

    def revoke(self, email: str) -> bool:
        """Sign the account out everywhere and disable it (repeatable: an account already disabled stays so); False
        when there is no account (its invitation never went out). DirectoryUnavailable if the pool did not answer."""


class ApplicationWorkflows(Protocol):
    """The approval workflow and the confirmation deadline of an application."""

    def start_approval(self, application: Application) -> str:
        """Start the application's approval once (a repeated start changes nothing)."""

    def schedule_confirmation_deadline(self, application: Application, *, now: datetime) -> str:
        """Schedule once the timer that expires the application if it is still unconfirmed at its deadline."""


class ConfirmationLinks(Protocol):
    def link(self, application: Application) -> str:
        """The signed link that confirms the application's contact address, valid until its deadline."""
