"""Approval rules as pure functions: who may decide, when, and what the waiting workflow is told."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from approvals.models import OUTCOMES, AmountSpec, Approval, ApprovalRequestMessage, Decision, Outcome
from shared.clock import iso
from shared.money import ZERO_DECIMAL, Money, format_money
from shared.text import clean_paragraphs

MAX_REASON = 2000
MAX_AMOUNT_TEXT = 32
# ASCII digits only ([0-9], not \d), optional comma thousands groups, optional decimals: "1250", "1,250.50".
AMOUNT_TEXT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
REASON_PROMPT = {
    "reject": "Please give a reason for the rejection; the applicant will see it.",
    "return": "Please say what more information is needed; the applicant will see it.",
}


class DecisionRefused(Exception):
    """The decision cannot be taken; `code` says why (`already_decided`, `closed`, `not_an_approver`,
    `decision_not_allowed`, `reason_required`, `reason_too_long`, `reason_invalid`, `amount_invalid`)."""

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
            decisions=message.decisions,
            amount=message.amount,
            earlier=message.earlier,
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
    if approval.status == "decided":
        raise DecisionRefused("already_decided", f"This was already {outcome(approval)} by {approval.decided_by}.")
    if approval.status == "closed":
        raise DecisionRefused("closed", "This approval has closed; nobody decided in time.")
    if approver.lower() not in approval.approvers:
        raise DecisionRefused("not_an_approver", "This link's approver is not an approver of this request.")
    if decision not in approval.decisions:
        raise DecisionRefused("decision_not_allowed", "This request does not offer that decision.")
    try:  # the reason reaches the applicant's email and the partner's portal: human text, no controls
        reason = clean_paragraphs(reason or "")
    except ValueError as invalid:
        raise DecisionRefused("reason_invalid", f"The reason {invalid}.") from invalid
    if decision in REASON_PROMPT and not reason:
        raise DecisionRefused("reason_required", REASON_PROMPT[decision])
    if len(reason) > MAX_REASON:
        raise DecisionRefused("reason_too_long", f"The reason must be at most {MAX_REASON} characters.")
    amount_minor = None
    if decision == "approve" and approval.amount is not None:
        if amount is None:  # money is granted only as typed: a client that drops the field grants nothing
            raise DecisionRefused("amount_invalid", f"Enter the {approval.amount.label.lower()}.")
        amount_minor = parse_amount(amount, approval.amount)
    return approval.model_copy(
        update={
            "status": "decided",
            "decision": decision,
            "decided_by": approver.lower(),
            "reason": reason or None,
            "amount_minor": amount_minor,
            "decided_at": now,
            "updated_at": now,
        }
    )


def minor_digits(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def major_units(amount_minor: int, currency: str) -> str:
    """`500000 USD` -> `5000.00`: what an amount field is prefilled with (no thousands separators)."""
    digits = minor_digits(currency)
    if digits == 0:
        return str(amount_minor)
    whole, minor = divmod(amount_minor, 10**digits)
    return f"{whole}.{minor:0{digits}d}"


def money_text(amount_minor: int, currency: str) -> str:
    return format_money(Money(amount_minor=amount_minor, currency=currency))


def parse_amount(text: str, spec: AmountSpec) -> int:
    """A person's amount in major units ("1,250.50") as exact minor units within `spec`; never through float."""
    typed = text.strip()
    digits = minor_digits(spec.currency)
    if len(typed) > MAX_AMOUNT_TEXT or not AMOUNT_TEXT.fullmatch(typed):
        example = major_units(spec.max_minor, spec.currency)
        raise DecisionRefused("amount_invalid", f"Enter the amount as a plain number, for example {example}.")
    whole, _, fraction = typed.replace(",", "").partition(".")
    if len(fraction) > digits:
        places = "no decimal places" if digits == 0 else f"at most {digits} decimal places"
        raise DecisionRefused("amount_invalid", f"{spec.currency} amounts have {places}.")
    amount_minor = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if amount_minor <= 0:
        raise DecisionRefused("amount_invalid", "The amount must be more than zero.")
    if amount_minor > spec.max_minor:
        limit = money_text(spec.max_minor, spec.currency)
        raise DecisionRefused("amount_invalid", f"The amount must be at most {limit}.")
    return amount_minor


def outcome(approval: Approval) -> Outcome | None:
    return OUTCOMES[approval.decision] if approval.decision else None


def earlier_text(approval: Approval) -> str | None:
    """The previous step's decision as one line: `Channel marketing: approved 5,000.00 USD by a@x.com (note)`."""
    earlier = approval.earlier
    if earlier is None:
        return None
    words = [f"{earlier.label or 'Earlier step'}: {earlier.decision}"]
    if earlier.amount_minor is not None and approval.amount is not None:
        words.append(money_text(earlier.amount_minor, approval.amount.currency))
    words.append(f"by {earlier.decided_by}")
    line = " ".join(words)
    return f"{line} ({earlier.reason})" if earlier.reason else line


def workflow_output(approval: Approval) -> dict[str, Any]:
    """What SendTaskSuccess hands the waiting state machine."""
    return {
        "decision": outcome(approval),
        "decided_by": approval.decided_by,
        "reason": approval.reason,
        "decided_at": iso(approval.decided_at) if approval.decided_at else None,
        "amount_minor": approval.amount_minor,
    }
