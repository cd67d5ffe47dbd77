"""Approvals' DynamoDB adapter of the repository port (approvals.ports): one item per approval; every change is
conditional on the state it was read in."""

from __future__ import annotations

from datetime import datetime

from approvals.models import Approval
from approvals.ports import StaleApproval
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table


def _key(approval_id: str) -> tuple[str, str]:
    return f"APPROVAL#{approval_id}", "APPROVAL"


class DynamoApprovalRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def get(self, approval_id: str) -> Approval | None:
        item = self.table.get(*_key(approval_id))
        return Approval.model_validate(item) if item else None

    def create(self, approval: Approval) -> None:
        pk, sk = _key(approval.approval_id)
        try:
            self.table.put_new({"pk": pk, "sk": sk, "entity": "approval"} | approval.model_dump(mode="json"))
        except ConditionFailed as failure:
            raise StaleApproval(approval.approval_id) from failure

    def replace_token(self, approval: Approval, previous_token: str, previous_status: str) -> None:
        """Store the workflow's new task token (reminder, escalation, a re-run's request), if nobody replaced it or
        decided or closed the approval first."""
        try:
            self.table.update(
                *_key(approval.approval_id),
                set_fields={
                    "task_token": approval.task_token,
                    "token_version": approval.token_version,
                    "kind": approval.kind,
                    "approvers": approval.approvers,
                    "notified": approval.notified,
                    "mailed": approval.mailed,
                    "updated_at": iso(approval.updated_at),
                },
                condition="task_token = :previous AND #s = :status",
                condition_values={":previous": previous_token, ":status": previous_status},
                names={"#s": "status"},
            )
        except ConditionFailed as failure:
            raise StaleApproval(approval.approval_id) from failure

    def mark_notified(self, approval_id: str, token_version: int, mailed: list[str]) -> None:
        try:
            self.table.update(
                *_key(approval_id),
                set_fields={"notified": True, "mailed": mailed},
                condition="token_version = :v",
                condition_values={":v": token_version},
            )
        except ConditionFailed:
            pass  # a newer request superseded this one; it sends its own mail

    def record_decision(self, approval: Approval) -> None:
        """Pending -> decided, once: a second decision (or a race with another approver) raises StaleApproval."""
        try:
            self.table.update(
                *_key(approval.approval_id),
                set_fields={
                    "status": "decided",
                    "decision": approval.decision,
                    "decided_by": approval.decided_by,
                    "reason": approval.reason,
                    "amount_minor": approval.amount_minor,
                    "decided_at": iso(approval.decided_at) if approval.decided_at else None,
                    "updated_at": iso(approval.updated_at),
                },
                condition="#s = :pending",
                condition_values={":pending": "pending"},
                names={"#s": "status"},
            )
        except ConditionFailed as failure:
            raise StaleApproval(approval.approval_id) from failure

    def close(self, approval_id: str, at: datetime) -> bool:
        try:
            self.table.update(
                *_key(approval_id),
                set_fields={"status": "closed", "updated_at": iso(at)},
                condition="#s = :pending",
                condition_values={":pending": "pending"},
                names={"#s": "status"},
            )
        except ConditionFailed:
            return False
        return True
