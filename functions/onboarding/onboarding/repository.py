"""Onboarding's DynamoDB adapter of the repository port (onboarding.ports): one table, key-addressed items, every
state change a conditional transaction that carries its outbox events."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from contracts.onboarding import PartnerOnboarded, PartnerUserInvited
from onboarding.models import Acceptance, Agreement, Application, Partner, PartnerUser
from onboarding.ports import (
    AgreementChanged,
    AgreementVersionExists,
    AlreadyAccepted,
    ConfirmationPending,
    DomainTaken,
    EmailTaken,
    NewerAgreementCurrent,
    StaleRecord,
)
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item


def _app_key(application_id: str) -> tuple[str, str]:
    return f"APPLICATION#{application_id}", "APPLICATION"


def _partner_key(partner_id: str) -> tuple[str, str]:
    return f"PARTNER#{partner_id}", "PROFILE"


def _user_key(partner_id: str, email: str) -> tuple[str, str]:
    return f"PARTNER#{partner_id}", f"USER#{email}"


def _domain_key(domain: str) -> tuple[str, str]:
    return f"DOMAIN#{domain}", "CLAIM"


def _email_key(email: str) -> tuple[str, str]:
    return f"EMAIL#{email}", "CLAIM"


def _open_application_key(email: str) -> tuple[str, str]:
    """At most one unconfirmed application per contact address: one confirmation email, not one per website."""
    return f"EMAIL#{email}", "APPLICATION"


def _item(key: tuple[str, str], entity: str, record: Any) -> dict[str, Any]:
    return {"pk": key[0], "sk": key[1], "entity": entity} | record.model_dump(mode="json")


@contextmanager
def _refused_as(reasons: Mapping[int, type[Exception]], otherwise: type[Exception] | None = None) -> Iterator[None]:
    """A lost transaction as the port's failure: the first of `reasons` (transact item index -> failure) whose
    condition failed, else `otherwise` (or the ConditionFailed itself)."""
    try:
        yield
    except ConditionFailed as failure:
        for index, refusal in reasons.items():
            if failure.failed_at(index):
                raise refusal(str(failure.reasons)) from failure
        if otherwise is not None:
            raise otherwise(str(failure.reasons)) from failure
        raise


class DynamoOnboardingRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- applications
    def create_application(self, application: Application, event: EventDetail) -> None:
        """Save a new unconfirmed application, hold its contact address, and queue its event — or nothing.

        The domain is claimed only when the applicant confirms (`record_confirmation`): an unconfirmed application
        blocks nobody else's. DomainTaken: the domain belongs to a confirmed application or a partner; EmailTaken:
        the email is a user's; ConfirmationPending: the email has an open unconfirmed application (its confirmation
        email went out already).
        """
        t = self.table
        email = str(application.contact.email)
        confirm_by = iso(application.confirm_by) if application.confirm_by else None
        refusals = {1: DomainTaken, 2: EmailTaken, 3: ConfirmationPending}
        with _refused_as(refusals):
            t.transact(
                [
                    t.op_put(_item(_app_key(application.application_id), "application", application)),
                    t.op_check(*_domain_key(application.domain), condition="attribute_not_exists(pk)"),
                    t.op_check(*_email_key(email), condition="attribute_not_exists(pk)"),
                    t.op_put(
                        {
                            "pk": _open_application_key(email)[0],
                            "sk": _open_application_key(email)[1],
                            "entity": "open_application_claim",
                            "application_id": application.application_id,
                            "confirm_by": confirm_by,
                        },
                        # A claim whose deadline passed is free even if its lapse has not been processed yet.
                        condition="attribute_not_exists(pk) OR confirm_by < :now",
                        condition_values={":now": iso(application.submitted_at)},
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )

    def get_application(self, application_id: str) -> Application | None:
        item = self.table.get(*_app_key(application_id))
        return Application.model_validate(item) if item else None

    def _release_open_application(self, application: Application) -> dict[str, Any]:
        # Absent (never held, or already released) is fine; another application's claim is left alone (below).
        return self.table.op_delete(
            *_open_application_key(str(application.contact.email)),
            condition="attribute_not_exists(pk) OR application_id = :a",
            condition_values={":a": application.application_id},
        )

    def _transact_releasing(self, operations: list[dict[str, Any]], release_at: int) -> None:
        """Run `operations`; if only the address release at `release_at` failed (a newer application took the
        lapsed claim over), run them again without it."""
        t = self.table
        try:
            t.transact(operations)
        except ConditionFailed as failure:
            if not failure.failed_at(release_at) or any(
                failure.failed_at(i) for i in range(len(operations)) if i != release_at
            ):
                raise
            t.transact(operations[:release_at] + operations[release_at + 1 :])

    def record_confirmation(self, confirmed: Application, event: EventDetail) -> None:
        """unconfirmed -> pending: claim the domain (the first confirmed application wins), free the contact address,
        queue the event. StaleRecord if the application was no longer unconfirmed; DomainTaken if another application
        for the domain was confirmed first or the company is a partner."""
        t = self.table
        operations = [
            t.op_update(
                *_app_key(confirmed.application_id),
                set_fields={
                    "status": confirmed.status,
                    "confirmed_at": iso(confirmed.confirmed_at) if confirmed.confirmed_at else None,
                },
                condition="#s = :unconfirmed",
                condition_values={":unconfirmed": "unconfirmed"},
                names={"#s": "status"},
            ),
            t.op_put(
                {
                    "pk": _domain_key(confirmed.domain)[0],
                    "sk": _domain_key(confirmed.domain)[1],
                    "entity": "domain_claim",
                    "application_id": confirmed.application_id,
                    "status": "pending",
                },
                condition="attribute_not_exists(pk) OR application_id = :a",
                condition_values={":a": confirmed.application_id},
            ),
            self._release_open_application(confirmed),
            t.op_put(outbox_item(event)),
        ]
        with _refused_as({0: StaleRecord, 1: DomainTaken}):
            self._transact_releasing(operations, release_at=2)

    def _decide_ops(self, decided: Application, expected: str = "pending") -> list[dict[str, Any]]:
        t = self.table
        return [
            t.op_update(
                *_app_key(decided.application_id),
                set_fields={
                    "status": decided.status,
                    "decided_at": iso(decided.decided_at) if decided.decided_at else None,
                    "decided_by": decided.decided_by,
                    "decision_reason": decided.decision_reason,
                }
                | ({"closed_because": decided.closed_because} if decided.closed_because else {}),
                condition="#s = :expected",
                condition_values={":expected": expected},
                names={"#s": "status"},
            )
        ]

    def record_approval(
        self,
        decided: Application,
        partner: Partner,
        user: PartnerUser,
        events: list[PartnerOnboarded | PartnerUserInvited],
    ) -> bool:
        """Approve, create the organisation and its first admin, queue the events. False if the email is taken."""
        t = self.table
        operations = [
            *self._decide_ops(decided),
            t.op_put(_item(_partner_key(partner.partner_id), "partner", partner)),
            t.op_update(
                *_domain_key(decided.domain),
                set_fields={"status": "approved", "partner_id": partner.partner_id},
                condition="application_id = :a",
                condition_values={":a": decided.application_id},
            ),
        ]
        with_user = [
            t.op_put(_item(_user_key(user.partner_id, user.email), "partner_user", user)),
            t.op_put(
                {"pk": _email_key(user.email)[0], "sk": "CLAIM", "entity": "email_claim", "partner_id": user.partner_id}
            ),
        ]
        outbox = [t.op_put(outbox_item(e)) for e in events]
        try:
            t.transact(operations + with_user + outbox)
            return True
        except ConditionFailed as failure:
            if failure.failed_at(0):
                raise StaleRecord(decided.application_id) from failure
            if not failure.failed_at(len(operations) + 1):
                raise
        # The contact became another partner's user meanwhile: onboard the organisation without inviting it.
        t.transact(operations + [t.op_put(outbox_item(e)) for e in events if e.DETAIL_TYPE == "PartnerOnboarded"])
        return False

    def record_closure(
        self, decided: Application, event: EventDetail, *, expected: Literal["pending", "unconfirmed"]
    ) -> None:
        """Reject or expire an application that is still `expected`, releasing what it holds: a pending application
        its domain (the company may apply again), an unconfirmed one its contact address."""
        t = self.table
        if expected == "unconfirmed":
            release = self._release_open_application(decided)
        else:
            release = t.op_delete(
                *_domain_key(decided.domain),
                condition="application_id = :a",
                condition_values={":a": decided.application_id},
            )
        operations = [*self._decide_ops(decided, expected), release, t.op_put(outbox_item(event))]
        with _refused_as({0: StaleRecord}):
            if expected == "unconfirmed":
                self._transact_releasing(operations, release_at=1)
            else:
                t.transact(operations)

    # ------------------------------------------------------------- partners and users
    def get_partner(self, partner_id: str) -> Partner | None:
        item = self.table.get(*_partner_key(partner_id))
        return Partner.model_validate(item) if item else None

    def save_partner(self, partner: Partner) -> None:
        """Optimistic locking: the stored revision must be the one this change was based on."""
        changes = partner.model_dump(mode="json", include={"phone", "description", "revision", "updated_at"})
        try:
            self.table.update(
                *_partner_key(partner.partner_id),
                set_fields=changes,
                condition="revision = :expected",
                condition_values={":expected": partner.revision - 1},
            )
        except ConditionFailed as failure:
            raise StaleRecord(partner.partner_id) from failure

    def record_tier(self, partner: Partner) -> bool:
        """Show the tier only if this change's order is after the one applied (and the partner exists); the profile's
        revision is left alone: a tier change races no profile edit (save_partner sets other fields)."""
        changes = partner.model_dump(mode="json", include={"tier", "tier_id", "tier_since", "tier_order"})
        try:
            self.table.update(
                *_partner_key(partner.partner_id),
                set_fields=changes,
                condition="attribute_exists(pk) AND (attribute_not_exists(tier_order) OR tier_order < :order)",
                condition_values={":order": partner.tier_order},
            )
        except ConditionFailed:
            return False
        return True

    def list_users(self, partner_id: str) -> list[PartnerUser]:
        items, _ = self.table.query(f"PARTNER#{partner_id}", sk_prefix="USER#")
        return [PartnerUser.model_validate(i) for i in items]

    def get_user(self, partner_id: str, email: str) -> PartnerUser | None:
        item = self.table.get(*_user_key(partner_id, email))
        return PartnerUser.model_validate(item) if item else None

    def create_user(self, user: PartnerUser, event: EventDetail) -> None:
        """EmailTaken if the email already belongs to a PRM user."""
        t = self.table
        with _refused_as({}, otherwise=EmailTaken):
            t.transact(
                [
                    t.op_put(
                        {
                            "pk": _email_key(user.email)[0],
                            "sk": "CLAIM",
                            "entity": "email_claim",
                            "partner_id": user.partner_id,
                        }
                    ),
                    t.op_put(_item(_user_key(user.partner_id, user.email), "partner_user", user)),
                    t.op_put(outbox_item(event)),
                ]
            )

    def record_invitation_sent(self, partner_id: str, email: str, at: datetime) -> None:
        try:
            self.table.update(
                *_user_key(partner_id, email),
                set_fields={"invitation_sent_at": iso(at)},
                condition="attribute_exists(pk)",
            )
        except ConditionFailed:
            pass  # the user was removed meanwhile: nothing to show the time on

    def activate_user(self, partner_id: str, email: str, at: datetime) -> None:
        try:
            self.table.update(
                *_user_key(partner_id, email),
                set_fields={"status": "active", "activated_at": iso(at)},
                condition="#s = :invited",
                condition_values={":invited": "invited"},
                names={"#s": "status"},
            )
        except ConditionFailed:
            pass  # already active, or not a partner user record: nothing to change

    def record_removal(
        self, removed: PartnerUser, event: EventDetail, *, expected: str, keeper: PartnerUser | None
    ) -> None:
        """expected -> removed with who, when and why, and PartnerUserRemoved, all or nothing. The address stays
        claimed (`EMAIL#`): the account is disabled, not deleted, so nobody can invite it into another partner."""
        t = self.table
        operations = [
            t.op_update(
                *_user_key(removed.partner_id, removed.email),
                set_fields=removed.model_dump(
                    mode="json", include={"status", "removed_at", "removed_by", "removal_reason"}
                ),
                condition="#s = :expected",
                condition_values={":expected": expected},
                names={"#s": "status"},
            )
        ]
        if keeper is not None:
            operations.append(
                t.op_check(
                    *_user_key(keeper.partner_id, keeper.email),
                    condition="#r = :admin AND #s <> :removed",
                    condition_values={":admin": "partner-admin", ":removed": "removed"},
                    names={"#r": "role", "#s": "status"},
                )
            )
        operations.append(t.op_put(outbox_item(event)))
        # The user or the keeper changed, or a concurrent transaction won: the service reads and decides again.
        with _refused_as({}, otherwise=StaleRecord):
            t.transact(operations)

    # ------------------------------------------------------------- agreements
    def current_agreement(self) -> Agreement | None:
        item = self.table.get("AGREEMENT", "CURRENT")
        return Agreement.model_validate(item) if item else None

    def publish_agreement(self, agreement: Agreement, event: EventDetail) -> None:
        """NewerAgreementCurrent: a newer one (later `published_at`) is current; AgreementVersionExists: that version
        was already published. Newer wins, as in the deals and MDF projections (contracts.onboarding_agreements)."""
        t = self.table
        with _refused_as({1: NewerAgreementCurrent}, otherwise=AgreementVersionExists):
            t.transact(
                [
                    t.op_put(_item(("AGREEMENT", f"VERSION#{agreement.version}"), "agreement", agreement)),
                    t.op_put(
                        _item(("AGREEMENT", "CURRENT"), "agreement_current", agreement),
                        condition="attribute_not_exists(pk) OR published_at < :at",
                        condition_values={":at": iso(agreement.published_at)},
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )

    def get_acceptance(self, partner_id: str, version: str, user_id: str) -> Acceptance | None:
        item = self.table.get(f"PARTNER#{partner_id}", f"ACCEPTANCE#{version}#{user_id}")
        return Acceptance.model_validate(item) if item else None

    def record_acceptance(self, acceptance: Acceptance, event: EventDetail) -> None:
        """AlreadyAccepted: the user accepted this version before; AgreementChanged: the current version changed."""
        t = self.table
        key = (f"PARTNER#{acceptance.partner_id}", f"ACCEPTANCE#{acceptance.version}#{acceptance.user_id}")
        with _refused_as({0: AlreadyAccepted, 1: AgreementChanged}):
            t.transact(
                [
                    t.op_put(_item(key, "acceptance", acceptance)),
                    t.op_check(
                        "AGREEMENT",
                        "CURRENT",
                        condition="#v = :v",
                        condition_values={":v": acceptance.version},
                        names={"#v": "version"},
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )
