"""Approval rules as pure functions: who may decide, when, and what the waiting workflow is told."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from approvals.models import OUTCOMES, Approval, ApprovalRequestMessage, Decision, Outcome
from shared.clock import iso
from shared.money import AmountRefused, format_amount, parse_amount
from shared.text import clean_paragraphs

MAX_REASON = 2000
REASON_PROMPT = {
    "reject": "Please give a reason for the rejection; the applicant will see it.",
    "return": "Please say what more information is needed; the applicant will see it.",
}
# Refusals of what the approver typed: the page is shown again with the message.
INPUT_REFUSALS = frozenset({"reason_required", "reason_too_long", "reason_invalid", "amount_invalid"})


class DecisionRefused(Exception):
    """The decision cannot be taken; `code` says why (`already_decided`, `closed`, `not_an_approver`,
    `decision_not_allowed`, `reason_required`, `reason_too_long`, `reason_invalid`, `amount_invalid`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NoLongerPending(DecisionRefused):
    """Decided or closed already (perhaps a moment ago, by another approver); `approval` is how it stands now."""

    def __init__(self, approval: Approval) -> None:
        if approval.status == "closed":
            super().__init__("closed", "This approval has closed; nobody decided in time.")
        else:
            super().__init__("already_decided", f"This was already {outcome(approval)} by {approval.decided_by}.")
        self.approval = approval


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
            decisions=message.decisions,
            amount=message.amount,
            earlier=message.earlier,
            mailed=[],
            requested_at=now,
            updated_at=now,
        )
    if existing.task_token == message.task_token:
        return None
    # A reminder or an escalation: the workflow waits on a new token; keep earlier approvers' links valid, mail all.
    # A request again (a workflow run again from its start) adopts the new token: only approvers not mailed yet are.
    approvers = list(dict.fromkeys([*existing.approvers, *(str(a).lower() for a in message.approvers)]))
    mailed = mailed_already(existing)
    if existing.status != "pending":
        notified = True  # a decided or closed approval needs no more mail, just the new token
    elif message.kind == "request":
        notified = not unmailed(existing, message.approvers)  # stays unnotified until the newcomers are mailed
    else:
        notified, mailed = False, []  # everyone is mailed the reminder or escalation
    return existing.model_copy(
        update={
            "task_token": message.task_token,
            "token_version": existing.token_version + 1,
            "kind": message.kind,
            "approvers": approvers,
            "notified": notified,
            "mailed": mailed,
            "updated_at": now,
        }
    )


def repeats_request(existing: Approval | None, message: ApprovalRequestMessage) -> bool:
    """The workflow asks again for a pending approval it already requested, on a new task token (its execution was
    run again from the start, or a request was redelivered to a new run): adopt the token, do not mail again."""
    return (
        existing is not None
        and existing.status == "pending"
        and message.kind == "request"
        and existing.task_token != message.task_token
    )


def swaps_pending_token(existing: Approval | None, message: ApprovalRequestMessage) -> bool:
    """The message would replace the token a pending approval waits on: it must come from a run that still waits (a
    late redelivery of a stopped or re-run execution's message must not take the token back from the live run)."""
    return existing is not None and existing.status == "pending" and existing.task_token != message.task_token


def mailed_already(approval: Approval) -> list[str]:
    """The approvers mailed about the approval's current request (a record from before the list was kept: all its
    approvers once it was notified)."""
    if approval.mailed is not None:
        return list(approval.mailed)
    return list(approval.approvers) if approval.notified else []


def unmailed(approval: Approval, recipients: Iterable[str]) -> list[str]:
    """The recipients who have had no mail about the approval's current request yet."""
    mailed = set(mailed_already(approval))
    return [a for a in dict.fromkeys(str(r).lower() for r in recipients) if a not in mailed]


def mail_missed(existing: Approval) -> bool:
    """The same request came again and an earlier delivery stored it but failed to mail (some of) its approvers."""
    return not existing.notified and existing.status == "pending"


def ensure_offered(approval: Approval, decision: str) -> None:
    """A link may only take a decision its request offers."""
    if decision not in approval.decisions:
        raise DecisionRefused("decision_not_allowed", "This request does not offer that decision.")


def decide(
    approval: Approval,
    *,
    decision: Decision,
    approver: str,
    reason: str | None,
    now: datetime,
    amount: str | None = None,
) -> Approval:
    """The decided record. `amount` is the approver's text in major units, required when approving an amount."""
    if approval.status != "pending":
        raise NoLongerPending(approval)
    if approver.lower() not in approval.approvers:
        raise DecisionRefused("not_an_approver", "This link's approver is not an approver of this request.")
    ensure_offered(approval, decision)
    return approval.model_copy(
        update={
            "status": "decided",
            "decision": decision,
            "decided_by": approver.lower(),
            "reason": _reason(decision, reason) or None,
            "amount_minor": _granted(approval, decision, amount),
            "decided_at": now,
            "updated_at": now,
        }
    )


def _reason(decision: Decision, reason: str | None) -> str:
    try:  # the reason reaches the applicant's email and the partner's portal: human text, no controls
        cleaned = clean_paragraphs(reason or "")
    except ValueError as invalid:
        raise DecisionRefused("reason_invalid", f"The reason {invalid}.") from invalid
    if decision in REASON_PROMPT and not cleaned:
        raise DecisionRefused("reason_required", REASON_PROMPT[decision])
    if len(cleaned) > MAX_REASON:
        raise DecisionRefused("reason_too_long", f"The reason must be at most {MAX_REASON} characters.")
    return cleaned


def _granted(approval: Approval, decision: Decision, amount: str | None) -> int | None:
    """The amount granted, exactly as typed; only an approval of a request with an amount grants one."""
    spec = approval.amount
    if decision != "approve" or spec is None:
        return None
    if amount is None:  # money is granted only as typed: a client that drops the field grants nothing
        raise DecisionRefused("amount_invalid", f"Enter the {spec.label.lower()}.")
    try:
        return parse_amount(amount, spec.currency, at_most=spec.max_minor)
    except AmountRefused as refused:
        raise DecisionRefused("amount_invalid", str(refused)) from refused


def outcome(approval: Approval) -> Outcome | None:
    return OUTCOMES[approval.decision] if approval.decision else None


def earlier_text(approval: Approval) -> str | None:
    """The previous step's decision as one line: `Channel marketing: approved 5,000.00 USD by a@x.com (note)`."""
    earlier = approval.earlier
    if earlier is None:
        return None
    words = [f"{earlier.label or 'Earlier step'}: {earlier.decision}"]
    if earlier.amount_minor is not None and approval.amount is not None:
        words.append(format_amount(earlier.amount_minor, approval.amount.currency))
    words.append(f"by {earlier.decided_by}")
    line = " ".join(words)
    return f"{line} ({earlier.reason})" if earlier.reason else line


def awaits_resuming(new: Approval, old: Approval | None) -> bool:
    """A change of the record that the waiting workflow must hear of: it was just decided, or it is decided and a
    reminder replaced the token (the decision is relayed on the token the workflow now waits on)."""
    if new.status != "decided":
        return False
    return old is None or old.status != "decided" or old.task_token != new.task_token


def workflow_output(approval: Approval) -> dict[str, Any]:
    """What SendTaskSuccess hands the waiting state machine."""
    return {
        "decision": outcome(approval),
        "decided_by": approval.decided_by,
        "reason": approval.reason,
        "decided_at": iso(approval.decided_at) if approval.decided_at else None,
        "amount_minor": approval.amount_minor,
    }
