"""In-memory fakes of onboarding's own ports (onboarding.ports), for service tests at unit speed (no moto, no boto3).

The repository honours the DynamoDB adapter's conditions: a domain is claimed by the first confirmed application (or
its partner), an address by its PRM user, and by one open unconfirmed application until its deadline; every state
change is conditional on the state it was read in, and carries its events (kept in `outbox`). The user directory
behaves as Cognito does for invitations (an account in use or disabled is never reset) and revocations (sign-out and
disable, repeatable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from contracts.onboarding import PartnerOnboarded, PartnerUserInvited
from onboarding.models import Acceptance, Agreement, Application, Partner, PartnerUser
from onboarding.ports import (
    AgreementChanged,
    AgreementVersionExists,
    AlreadyAccepted,
    ConfirmationPending,
    DirectoryUnavailable,
    DomainTaken,
    EmailTaken,
    NewerAgreementCurrent,
    StaleRecord,
)
from shared.events import EventDetail


@dataclass
class DomainClaim:
    application_id: str
    status: Literal["pending", "approved"]
    partner_id: str | None = None


@dataclass
class OpenApplication:
    application_id: str
    confirm_by: datetime | None


@dataclass
class FakeOnboardingRepository:
    applications: dict[str, Application] = field(default_factory=dict)
    domains: dict[str, DomainClaim] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)  # address -> partner id of its PRM user
    open_applications: dict[str, OpenApplication] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)
    users: dict[tuple[str, str], PartnerUser] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    current: Agreement | None = None
    acceptances: dict[tuple[str, str, str], Acceptance] = field(default_factory=dict)
    outbox: list[EventDetail] = field(default_factory=list)

    def snapshot(self) -> Any:
        """Everything stored, to compare before and after (a replay must change nothing)."""

        def dump(value: Any) -> Any:
            if hasattr(value, "model_dump"):
                return value.model_dump(mode="json")
            if isinstance(value, dict):
                return {str(k): dump(v) for k, v in value.items()}
            if isinstance(value, list):
                return [dump(v) for v in value]
            return repr(value)

        return dump({name: getattr(self, name) for name in self.__dataclass_fields__})

    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if detail_type == e.DETAIL_TYPE]

    # ------------------------------------------------------------- applications
    def create_application(self, application: Application, event: EventDetail) -> None:
        email = str(application.contact.email)
        if application.domain in self.domains:
            raise DomainTaken(application.domain)
        if email in self.emails:
            raise EmailTaken(email)
        held = self.open_applications.get(email)
        # A claim whose deadline passed is free even if its lapse has not been processed yet.
        if held is not None and (held.confirm_by is None or held.confirm_by >= application.submitted_at):
            raise ConfirmationPending(email)
        self.applications[application.application_id] = application.model_copy(deep=True)
        self.open_applications[email] = OpenApplication(application.application_id, application.confirm_by)
        self.outbox.append(event)

    def get_application(self, application_id: str) -> Application | None:
        stored = self.applications.get(application_id)
        return stored.model_copy(deep=True) if stored else None

    def _release_open_application(self, application: Application) -> None:
        email = str(application.contact.email)
        held = self.open_applications.get(email)
        if held is not None and held.application_id == application.application_id:
            del self.open_applications[email]  # another application's claim is left alone

    def _expect(self, application_id: str, status: str) -> Application:
        stored = self.applications.get(application_id)
        if stored is None or stored.status != status:
            raise StaleRecord(application_id)
        return stored

    def record_confirmation(self, confirmed: Application, event: EventDetail) -> None:
        stored = self._expect(confirmed.application_id, "unconfirmed")
        claim = self.domains.get(confirmed.domain)
        if claim is not None and claim.application_id != confirmed.application_id:
            raise DomainTaken(confirmed.domain)
        self.domains[confirmed.domain] = DomainClaim(confirmed.application_id, "pending")
        self._release_open_application(confirmed)
        update = {"status": confirmed.status, "confirmed_at": confirmed.confirmed_at}
        self.applications[confirmed.application_id] = stored.model_copy(update=update)
        self.outbox.append(event)

    def _decide(self, stored: Application, decided: Application) -> None:
        fields = ("status", "decided_at", "decided_by", "decision_reason")
        update = {name: getattr(decided, name) for name in fields}
        if decided.closed_because:
            update["closed_because"] = decided.closed_because
        self.applications[decided.application_id] = stored.model_copy(update=update)

    def record_approval(
        self,
        decided: Application,
        partner: Partner,
        user: PartnerUser,
        events: list[PartnerOnboarded | PartnerUserInvited],
    ) -> bool:
        stored = self._expect(decided.application_id, "pending")
        claim = self.domains[decided.domain]
        if claim.application_id != decided.application_id or partner.partner_id in self.partners:
            raise RuntimeError("transaction cancelled: the domain claim or the partner is not this application's")
        self._decide(stored, decided)
        self.partners[partner.partner_id] = partner.model_copy(deep=True)
        self.domains[decided.domain] = DomainClaim(decided.application_id, "approved", partner.partner_id)
        if str(user.email) in self.emails:  # the contact became another partner's user meanwhile: no invitation
            self.outbox += [e for e in events if e.DETAIL_TYPE == "PartnerOnboarded"]
            return False
        self.users[user.partner_id, str(user.email)] = user.model_copy(deep=True)
        self.emails[str(user.email)] = user.partner_id
        self.outbox += events
        return True

    def record_closure(
        self, decided: Application, event: EventDetail, *, expected: Literal["pending", "unconfirmed"]
    ) -> None:
        stored = self._expect(decided.application_id, expected)
        if expected == "unconfirmed":
            self._release_open_application(decided)
        else:
            claim = self.domains.get(decided.domain)
            if claim is None or claim.application_id != decided.application_id:
                raise RuntimeError("transaction cancelled: the domain claim is not this application's")
            del self.domains[decided.domain]
        self._decide(stored, decided)
        self.outbox.append(event)

    # ------------------------------------------------------------- partners and users
    def get_partner(self, partner_id: str) -> Partner | None:
        stored = self.partners.get(partner_id)
        return stored.model_copy(deep=True) if stored else None

    def save_partner(self, partner: Partner) -> None:
        stored = self.partners.get(partner.partner_id)
        if stored is None or stored.revision != partner.revision - 1:
            raise StaleRecord(partner.partner_id)
        update = partner.model_dump(include={"phone", "description", "revision", "updated_at"})
        self.partners[partner.partner_id] = stored.model_copy(update=update)

    def list_users(self, partner_id: str) -> list[PartnerUser]:
        return [u.model_copy(deep=True) for (p, _), u in sorted(self.users.items()) if p == partner_id]

    def get_user(self, partner_id: str, email: str) -> PartnerUser | None:
        stored = self.users.get((partner_id, email))
        return stored.model_copy(deep=True) if stored else None

    def create_user(self, user: PartnerUser, event: EventDetail) -> None:
        if str(user.email) in self.emails or (user.partner_id, str(user.email)) in self.users:
            raise EmailTaken(str(user.email))
        self.emails[str(user.email)] = user.partner_id
        self.users[user.partner_id, str(user.email)] = user.model_copy(deep=True)
        self.outbox.append(event)

    def record_invitation_sent(self, partner_id: str, email: str, at: datetime) -> None:
        stored = self.users.get((partner_id, email))
        if stored is not None:
            self.users[partner_id, email] = stored.model_copy(update={"invitation_sent_at": at})

    def activate_user(self, partner_id: str, email: str, at: datetime) -> None:
        stored = self.users.get((partner_id, email))
        if stored is not None and stored.status == "invited":
            self.users[partner_id, email] = stored.model_copy(update={"status": "active", "activated_at": at})

    def record_removal(
        self, removed: PartnerUser, event: EventDetail, *, expected: str, keeper: PartnerUser | None
    ) -> None:
        stored = self.users.get((removed.partner_id, str(removed.email)))
        if stored is None or stored.status != expected:
            raise StaleRecord(str(removed.email))
        if keeper is not None:
            kept = self.users.get((keeper.partner_id, str(keeper.email)))
            if kept is None or kept.role != "partner-admin" or kept.status == "removed":
                raise StaleRecord(str(keeper.email))
        fields = ("status", "removed_at", "removed_by", "removal_reason")
        self.users[removed.partner_id, str(removed.email)] = stored.model_copy(
            update={name: getattr(removed, name) for name in fields}
        )
        self.outbox.append(event)

    def record_tier(self, partner: Partner) -> bool:
        stored = self.partners.get(partner.partner_id)
        if stored is None or partner.tier_order is None:
            return False
        if stored.tier_order is not None and stored.tier_order >= partner.tier_order:
            return False
        update = partner.model_dump(include={"tier", "tier_id", "tier_since", "tier_order"})
        self.partners[partner.partner_id] = stored.model_copy(update=update)
        return True

    # ------------------------------------------------------------- agreements
    def current_agreement(self) -> Agreement | None:
        return self.current.model_copy(deep=True) if self.current else None

    def publish_agreement(self, agreement: Agreement, event: EventDetail) -> None:
        if self.current is not None and self.current.published_at >= agreement.published_at:
            raise NewerAgreementCurrent(agreement.version)
        if agreement.version in self.agreements:
            raise AgreementVersionExists(agreement.version)
        self.agreements[agreement.version] = agreement.model_copy(deep=True)
        self.current = agreement.model_copy(deep=True)
        self.outbox.append(event)

    def get_acceptance(self, partner_id: str, version: str, user_id: str) -> Acceptance | None:
        stored = self.acceptances.get((partner_id, version, user_id))
        return stored.model_copy(deep=True) if stored else None

    def record_acceptance(self, acceptance: Acceptance, event: EventDetail) -> None:
        key = (acceptance.partner_id, acceptance.version, acceptance.user_id)
        if key in self.acceptances:
            raise AlreadyAccepted(acceptance.version)
        if self.current is None or self.current.version != acceptance.version:
            raise AgreementChanged(acceptance.version)
        self.acceptances[key] = acceptance.model_copy(deep=True)
        self.outbox.append(event)


@dataclass
class Account:
    partner_id: str
    role: str
    password: str
    status: Literal["FORCE_CHANGE_PASSWORD", "CONFIRMED"] = "FORCE_CHANGE_PASSWORD"
    enabled: bool = True
    sign_outs: int = 0


@dataclass
class FakeUserDirectory:
    """Accounts by email. An invitation creates the account, or refreshes the temporary password of an unused one of
    the same partner; an account in use (signed in), disabled, or another partner's is never touched. `failing`:
    the pool does not answer revocations (DirectoryUnavailable) until it is set back to False."""

    accounts: dict[str, Account] = field(default_factory=dict)
    passwords_issued: int = 0
    failing: bool = False

    def invite(self, *, email: str, name: str, partner_id: str, role: str) -> str | None:
        account = self.accounts.get(email)
        in_use = account is not None and (account.status != "FORCE_CHANGE_PASSWORD" or not account.enabled)
        if account is not None and (in_use or account.partner_id != partner_id):
            return None
        self.passwords_issued += 1
        password = f"Temporary{self.passwords_issued:04d}"
        self.accounts[email] = Account(partner_id=partner_id, role=role, password=password)
        return password

    def sign_in(self, email: str) -> None:
        """The person signed in and chose their own password: the account is in use."""
        self.accounts[email].status = "CONFIRMED"

    def revoke(self, email: str) -> bool:
        if self.failing:
            raise DirectoryUnavailable("the pool did not answer")
        account = self.accounts.get(email)
        if account is None:
            return False
        account.sign_outs += 1
        account.enabled = False
        return True
