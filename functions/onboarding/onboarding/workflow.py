"""Adapter of the ApplicationWorkflows port (onboarding.ports): the approval workflow, started exactly once (execution
name = application id), and the confirmation deadline, a one-time EventBridge Scheduler schedule that puts a message
on onboarding's decisions queue (DESIGN.md section 4: a timer that only waits is a schedule, not a waiting workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboarding.models import Application, ApplicationConfirmationDue
from shared.clock import iso
from shared.money import format_money
from shared.ports import TimerScheduler, WorkflowStarter
from shared.workflows import approval_timeouts


@dataclass(frozen=True)
class ApprovalRoute:
    """Who approves and when: configuration, handed to the state machine as execution input (tests use seconds)."""

    approver: str
    escalation: str
    reminder_seconds: int
    escalation_seconds: int
    expiry_seconds: int


def approval_input(application: Application, route: ApprovalRoute) -> dict[str, Any]:
    """What the approver sees and who approves when; durations come from configuration, not the state machine."""
    return {
        "approval_id": f"onboarding-{application.application_id}",
        "application_id": application.application_id,
        "subject": f"Partner application: {application.company_name} ({application.domain})",
        "summary": [
            {"label": "Company", "value": application.company_name},
            {"label": "Domain", "value": application.domain},
            {"label": "Country", "value": application.country},
            {"label": "Partner type", "value": application.partner_type},
            {"label": "Contact", "value": f"{application.contact.name} <{application.contact.email}>"},
            {"label": "Expected annual revenue", "value": format_money(application.expected_annual_revenue)},
            {"label": "Application id", "value": application.application_id},
        ],
        "approvers": {"initial": [route.approver], "escalation": [route.approver, route.escalation]},
        "timeouts": approval_timeouts(route),
    }


@dataclass(frozen=True)
class OnboardingWorkflows:
    starter: WorkflowStarter
    timers: TimerScheduler
    state_machine_arn: str
    route: ApprovalRoute

    def start_approval(self, application: Application) -> str:
        return self.starter.start(
            self.state_machine_arn, application.application_id, approval_input(application, self.route)
        )

    def schedule_confirmation_deadline(self, application: Application, *, now: datetime) -> str:
        """Once per application: the schedule's name derives from the application id."""
        if application.confirm_by is None:
            return "no deadline"
        message = ApplicationConfirmationDue(
            message_type="ApplicationConfirmationDue",
            application_id=application.application_id,
            due_at=application.confirm_by,
        )
        due = iso(application.confirm_by)
        return self.timers.schedule(
            f"confirm-{application.application_id}", [(due, message.model_dump(mode="json"))], now
        )
