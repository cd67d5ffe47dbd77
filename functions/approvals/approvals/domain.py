"""Approval rules as pure functions: who may decide, when, and what the waiting workflow is told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from approvals.models import Approval, ApprovalRequestMessage, Decision
from shared.clock import iso

MAX_REASON = 2000


class DecisionRefused(Exception):
    """The decision cannot be taken; `code` says why (`already_decided`, `closed`, `not_an_approver`, `reason_required`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def register(existing: Approval | None, message: ApprovalRequestMessage, now: datetime) -> Approval | None:
    """The record after a workflow's request; None when the message repeats one already stored (no new email)."""
    if existing is None:
        return Approval(
            approval_id=message.approval_id,
            status="pending",
            subject=message.subject,
            summary=message.summary,
            approvers=[str(a).lower() for a in message.approvers],
            kind=message.kind,
            task_token=message.task_token,
            requested_at=now,
            updated_at=now,
        )
    if existing.task_token == message.task_token:
        return None
    # A reminder or an escalation: the workflow waits on a new token; keep earlier approvers' links valid.
    approvers = list(dict.fromkeys([*existing.approvers, *(str(a).lower() for a in message.approvers)]))
    return existing.model_copy(
        update={
            "task_token": message.task_token,
            "token_version": existing.token_version + 1,
            "kind": message.kind,
            "approvers": approvers,
            "notified": existing.status != "pending",  # a decided approval needs no more mail, just the new token
            "updated_at": now,
        }
    )


def decide(approval: Approval, *, decision: Decision, approver: str, reason: str | None, now: datetime) -> Approval:
    if approval.status == "decided":
        raise DecisionRefused("already_decided", f"This was already {approval.decision}d by {approval.decided_by}.")
    if approval.status == "closed":
        raise DecisionRefused("closed", "This approval has closed; nobody decided in time.")
    if approver.lower() not in approval.approvers:
        raise DecisionRefused("not_an_approver", "This link's approver is not an approver of this request.")
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise DecisionRefused("reason_required", "Please give a reason for the rejection; the applicant will see it.")
    if len(reason) > MAX_REASON:
        raise DecisionRefused("reason_too_long", f"The reason must be at most {MAX_REASON} characters.")
    return approval.model_copy(
        update={
            "status": "decided",
            "decision": decision,
            "decided_by": approver.lower(),
            "reason": reason or None,
            "decided_at": now,
            "updated_at": now,
        }
    )


def workflow_output(approval: Approval) -> dict[str, Any]:
    """What SendTaskSuccess hands the waiting state machine."""
    return {
        "decision": "approved" if approval.decision == "approve" else "rejected",
        "decided_by": approval.decided_by,
        "reason": approval.reason,
        "decided_at": iso(approval.decided_at) if approval.decided_at else None,
    }
