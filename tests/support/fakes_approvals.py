"""In-memory fakes of approvals' own ports (approvals.ports), honouring the DynamoDB adapter's conditions: a record is
created once, a token is replaced only if it is still the one read, a decision lands only on a pending approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from approvals.models import Approval
from approvals.ports import StaleApproval


@dataclass
class FakeApprovalRepository:
    items: dict[str, Approval] = field(default_factory=dict)
    writes: int = 0

    def get(self, approval_id: str) -> Approval | None:
        stored = self.items.get(approval_id)
        return stored.model_copy(deep=True) if stored else None

    def _put(self, approval: Approval) -> None:
        self.items[approval.approval_id] = approval.model_copy(deep=True)
        self.writes += 1

    def create(self, approval: Approval) -> None:
        if approval.approval_id in self.items:
            raise StaleApproval(approval.approval_id)
        self._put(approval)

    def replace_token(self, approval: Approval, previous_token: str, previous_status: str) -> None:
        stored = self.items.get(approval.approval_id)
        if stored is None or stored.task_token != previous_token or stored.status != previous_status:
            raise StaleApproval(approval.approval_id)
        fields = ("task_token", "token_version", "kind", "approvers", "notified", "mailed", "updated_at")
        self._put(stored.model_copy(update={name: getattr(approval, name) for name in fields}))

    def mark_notified(self, approval_id: str, token_version: int, mailed: list[str]) -> None:
        stored = self.items.get(approval_id)
        if stored is not None and stored.token_version == token_version:
            self._put(stored.model_copy(update={"notified": True, "mailed": list(mailed)}))

    def record_decision(self, approval: Approval) -> None:
        stored = self.items.get(approval.approval_id)
        if stored is None or stored.status != "pending":
            raise StaleApproval(approval.approval_id)
        fields = ("decision", "decided_by", "reason", "amount_minor", "decided_at", "updated_at")
        self._put(stored.model_copy(update={"status": "decided"} | {name: getattr(approval, name) for name in fields}))

    def close(self, approval_id: str, at: datetime) -> bool:
        stored = self.items.get(approval_id)
        if stored is None or stored.status != "pending":
            return False
        self._put(stored.model_copy(update={"status": "closed", "updated_at": at}))
        return True


@dataclass
class FakeTaskCallbacks:
    """Tokens the workflow is waiting on; a resumed or superseded token waits no more (as in Step Functions), nor does
    one whose execution was stopped. `asked` lists the tokens whose task was asked whether it still waits."""

    waiting: set[str] = field(default_factory=set)
    resumed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def wait(self, token: str) -> None:
        self.waiting = {token}  # a Task waits on one token at a time: a reminder's token replaces the request's

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        if task_token not in self.waiting:
            return False
        self.waiting.discard(task_token)
        self.resumed.append((task_token, output))
        return True

    def stop(self) -> None:
        """The execution was stopped: no token waits."""
        self.waiting = set()

    def waits(self, task_token: str) -> bool:
        self.asked.append(task_token)
        return task_token in self.waiting
