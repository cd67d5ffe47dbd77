"""Step Functions adapter: starts the application's approval workflow exactly once (execution name = application id)."""

from __future__ import annotations

from typing import Any

from onboarding.models import Application
from onboarding.settings import ConsumerSettings
from shared.money import format_money
from shared.workflows import start_execution


def approval_input(event: Application, settings: ConsumerSettings) -> dict[str, Any]:
    """What the approver sees and who approves when; durations come from configuration, not the state machine."""
    return {
        "approval_id": f"onboarding-{event.application_id}",
        "application_id": event.application_id,
        "subject": f"Partner application: {event.company_name} ({event.domain})",
        "summary": [
            {"label": "Company", "value": event.company_name},
            {"label": "Domain", "value": event.domain},
            {"label": "Country", "value": event.country},
            {"label": "Partner type", "value": event.partner_type},
            {"label": "Contact", "value": f"{event.contact.name} <{event.contact.email}>"},
            {"label": "Expected annual revenue", "value": format_money(event.expected_annual_revenue)},
            {"label": "Application id", "value": event.application_id},
        ],
        "approvers": {
            "initial": [str(settings.approver_email)],
            "escalation": [str(settings.approver_email), str(settings.escalation_email)],
        },
        "timeouts": {
            "reminder_seconds": settings.reminder_seconds,
            "escalation_seconds": settings.escalation_seconds,
            "expiry_seconds": settings.expiry_seconds,
        },
    }


def start_approval(event: Application, settings: ConsumerSettings) -> str:
    return start_execution(settings.state_machine_arn, event.application_id, approval_input(event, settings))
