"""Approvals' ports: what its services need from outside (typing.Protocols). Adapters: `repository` (DynamoDB),
`emails.SignedDecisionLinks` (signed links), `workflow` (Step Functions callbacks); mail is shared.ports.Mailer.
In-memory fakes for service tests: tests/support/fakes_approvals.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from approvals.models import Approval


class StaleApproval(Exception):
    """Someone else changed the approval first (a conditional write lost)."""


class ApprovalRepository(Protocol):
    """One record per approval; every change is conditional on the state it was read in."""

    def get(self, approval_id: str) -> Approval | None: ...

    def create(self, approval: Approval) -> None:
        """StaleApproval if an approval with this id exists already."""

    def replace_token(self, approval: Approval, previous_token: str, previous_status: str) -> None:
        """Store the workflow's new task token, kind, approvers, notified flag and approvers mailed; StaleApproval unless
        `previous_token` and `previous_status` are still stored."""

    def mark_notified(self, approval_id: str, token_version: int, mailed: list[str]) -> None:
        """The approvers were mailed for `token_version`, `mailed` by now (nothing if a newer request superseded it)."""

    def record_decision(self, approval: Approval) -> None:
        """pending -> decided, once; StaleApproval if it was no longer pending."""

    def close(self, approval_id: str, at: datetime) -> bool:
        """pending -> closed; False if it was no longer pending."""


class DecisionLinks(Protocol):
    """One signed link per decision the approval offers, for one approver, valid for a while from `now`."""

    def for_approver(self, approval: Approval, approver: str, *, now: datetime) -> dict[str, str]: ...


class TaskCallbacks(Protocol):
    """The waiting workflow's side of a decision."""

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        """Hand `output` to the task waiting on `task_token`; False if that token no longer waits (superseded)."""

    def waits(self, task_token: str) -> bool:
        """Whether a task still waits on `task_token` (False once its execution stopped, or its Task ended or timed
        out); asking has no other effect on the workflow."""
