"""Approval rules without AWS: registering requests and reminders, deciding once, the workflow's output."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from approvals import domain
from approvals.models import ApprovalRequestMessage

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def message(
    kind: str = "request", token: str = "token-1", approvers: tuple[str, ...] = ("a@example.com",)
) -> ApprovalRequestMessage:
    return ApprovalRequestMessage.model_validate(
        {
            "approval_id": "onboarding-app_1",
            "kind": kind,
            "task_token": token,
            "subject": "Partner application",
            "summary": [{"label": "Company", "value": "Acme"}],
            "approvers": list(approvers),
        }
    )


def test_register_new_duplicate_and_reminder() -> None:
    first = domain.register(None, message(), NOW)
    assert first is not None and first.status == "pending" and first.token_version == 1
    assert domain.register(first, message(), NOW) is None  # the same delivery again: nothing to do, no mail
    escalated = domain.register(first, message("escalation", "token-2", ("a@example.com", "b@example.com")), NOW)
    assert escalated is not None
    assert escalated.task_token == "token-2" and escalated.token_version == 2 and escalated.kind == "escalation"
    assert escalated.approvers == ["a@example.com", "b@example.com"]


def test_decide_once_by_an_approver() -> None:
    approval = domain.register(None, message(), NOW)
    assert approval is not None
    with pytest.raises(domain.DecisionRefused) as refused:
        domain.decide(approval, decision="approve", approver="mallory@example.com", reason=None, now=NOW)
    assert refused.value.code == "not_an_approver"
    with pytest.raises(domain.DecisionRefused) as no_reason:
        domain.decide(approval, decision="reject", approver="a@example.com", reason="   ", now=NOW)
    assert no_reason.value.code == "reason_required"
    decided = domain.decide(approval, decision="approve", approver="A@Example.com", reason=None, now=NOW)
    assert decided.status == "decided" and decided.decided_by == "a@example.com"
    with pytest.raises(domain.DecisionRefused) as again:
        domain.decide(decided, decision="reject", approver="a@example.com", reason="changed my mind", now=NOW)
    assert again.value.code == "already_decided"
    closed = approval.model_copy(update={"status": "closed"})
    with pytest.raises(domain.DecisionRefused) as late:
        domain.decide(closed, decision="approve", approver="a@example.com", reason=None, now=NOW)
    assert late.value.code == "closed"
    assert domain.workflow_output(decided) == {
        "decision": "approved",
        "decided_by": "a@example.com",
        "reason": None,
        "decided_at": "2026-11-26T12:00:00.000Z",
        "amount_minor": None,
    }


def test_a_decided_approval_takes_a_new_token_without_new_mail() -> None:
    approval = domain.register(None, message(), NOW)
    assert approval is not None
    decided = domain.decide(approval, decision="reject", approver="a@example.com", reason="Not a fit", now=NOW)
    refreshed = domain.register(decided, message("reminder", "token-2"), NOW)
    assert refreshed is not None and refreshed.status == "decided" and refreshed.notified
    assert refreshed.task_token == "token-2"


def test_only_a_decision_or_a_decided_approvals_new_token_resumes_the_workflow() -> None:
    approval = domain.register(None, message(), NOW)
    assert approval is not None
    assert not domain.awaits_resuming(approval, None)  # pending: nothing to tell the workflow yet
    decided = domain.decide(approval, decision="approve", approver="a@example.com", reason=None, now=NOW)
    assert domain.awaits_resuming(decided, approval)  # just decided
    assert domain.awaits_resuming(decided, None)  # a stream record without its old image
    assert not domain.awaits_resuming(decided, decided)  # decided before, same token: already relayed
    refreshed = domain.register(decided, message("reminder", "token-2"), NOW)
    assert refreshed is not None and domain.awaits_resuming(refreshed, decided)  # the token the workflow waits on now
    closed = approval.model_copy(update={"status": "closed"})
    assert not domain.awaits_resuming(closed, approval)
