"""Onboarding's DynamoDB adapter: one table, key-addressed items, every state change a conditional transaction."""

from __future__ import annotations

from typing import Any

from onboarding.models import Acceptance, Agreement, Application, Partner, PartnerUser
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item


class StaleRecord(Exception):
    """A conditional write found the record changed since it was read."""


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


def _item(key: tuple[str, str], entity: str, record: Any) -> dict[str, Any]:
    return {"pk": key[0], "sk": key[1], "entity": entity} | record.model_dump(mode="json")


class OnboardingRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- applications
    def create_application(self, application: Application, event: EventDetail) -> None:
        """Save a new application, claim its domain and its contact email, and queue its event — or nothing.

        Raises ConditionFailed; `failed_at(1)` means the domain is taken, `failed_at(2)` the email is a user.
        """
        t = self.table
        t.transact(
            [
                t.op_put(_item(_app_key(application.application_id), "application", application)),
                t.op_put(
                    {
                        "pk": _domain_key(application.domain)[0],
                        "sk": "CLAIM",
                        "entity": "domain_claim",
                        "application_id": application.application_id,
                        "status": "pending",
                    }
                ),
                t.op_check(*_email_key(application.contact.email), condition="attribute_not_exists(pk)"),
                t.op_put(outbox_item(event)),
            ]
        )

    def get_application(self, application_id: str) -> Application | None:
        item = self.table.get(*_app_key(application_id))
        return Application.model_validate(item) if item else None

    def _decide_ops(self, decided: Application) -> list[dict[str, Any]]:
        t = self.table
        return [
            t.op_update(
                *_app_key(decided.application_id),
                set_fields={
                    "status": decided.status,
                    "decided_at": iso(decided.decided_at) if decided.decided_at else None,
                    "decided_by": decided.decided_by,
                    "decision_reason": decided.decision_reason,
                },
                condition="#s = :pending",
                condition_values={":pending": "pending"},
                names={"#s": "status"},
            )
        ]

    def record_approval(self, decided: Application, partner: Partner, user: PartnerUser, events: list[Any]) -> bool:
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

    def record_closure(self, decided: Application, event: EventDetail) -> None:
        """Reject or expire: release the domain claim so the company may apply again."""
        t = self.table
        try:
            t.transact(
                [
                    *self._decide_ops(decided),
                    t.op_delete(
                        *_domain_key(decided.domain),
                        condition="application_id = :a",
                        condition_values={":a": decided.application_id},
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )
        except ConditionFailed as failure:
            if failure.failed_at(0):
                raise StaleRecord(decided.application_id) from failure
            raise

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

    def list_users(self, partner_id: str) -> list[PartnerUser]:
        items, _ = self.table.query(f"PARTNER#{partner_id}", sk_prefix="USER#")
        return [PartnerUser.model_validate(i) for i in items]

    def get_user(self, partner_id: str, email: str) -> PartnerUser | None:
        item = self.table.get(*_user_key(partner_id, email))
        return PartnerUser.model_validate(item) if item else None

    def create_user(self, user: PartnerUser, event: EventDetail) -> None:
        """Raises ConditionFailed if the email already belongs to a PRM user."""
        t = self.table
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

    def mark_invitation_sent(self, partner_id: str, email: str, sent_at: str) -> None:
        self.table.update(
            *_user_key(partner_id, email),
            set_fields={"invitation_sent_at": sent_at},
            condition="attribute_exists(pk)",
        )

    def activate_user(self, partner_id: str, email: str, at: str) -> None:
        try:
            self.table.update(
                *_user_key(partner_id, email),
                set_fields={"status": "active", "activated_at": at},
                condition="#s = :invited",
                condition_values={":invited": "invited"},
                names={"#s": "status"},
            )
        except ConditionFailed:
            pass  # already active, or not a partner user record: nothing to change

    # ------------------------------------------------------------- agreements
    def current_agreement(self) -> Agreement | None:
        item = self.table.get("AGREEMENT", "CURRENT")
        return Agreement.model_validate(item) if item else None

    def publish_agreement(self, agreement: Agreement) -> None:
        """Raises ConditionFailed if that version was already published."""
        t = self.table
        t.transact(
            [
                t.op_put(_item(("AGREEMENT", f"VERSION#{agreement.version}"), "agreement", agreement)),
                t.op_put(_item(("AGREEMENT", "CURRENT"), "agreement_current", agreement), condition=None),
            ]
        )

    def get_acceptance(self, partner_id: str, version: str, user_id: str) -> Acceptance | None:
        item = self.table.get(f"PARTNER#{partner_id}", f"ACCEPTANCE#{version}#{user_id}")
        return Acceptance.model_validate(item) if item else None

    def record_acceptance(self, acceptance: Acceptance, event: EventDetail) -> None:
        """Raises ConditionFailed: `failed_at(0)` already accepted, `failed_at(1)` the current version changed."""
        t = self.table
        key = (f"PARTNER#{acceptance.partner_id}", f"ACCEPTANCE#{acceptance.version}#{acceptance.user_id}")
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
