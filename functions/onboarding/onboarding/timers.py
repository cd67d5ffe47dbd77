"""The confirmation deadline: a one-time EventBridge Scheduler schedule that puts a message on onboarding's decisions
queue (DESIGN.md section 4: a timer that only waits is a schedule, not a waiting workflow)."""

from __future__ import annotations

from onboarding.models import Application
from onboarding.settings import ConsumerSettings
from shared.clock import iso, utc_now
from shared.workflows import schedule_messages


def schedule_confirmation_deadline(application: Application, settings: ConsumerSettings) -> str:
    """Schedule the application's deadline once (the schedule's name derives from the application id)."""
    if application.confirm_by is None:
        return "no deadline"
    due = iso(application.confirm_by)
    message = {
        "message_type": "ApplicationConfirmationDue",
        "application_id": application.application_id,
        "due_at": due,
    }
    return schedule_messages(
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.timer_queue_arn,
        name=f"confirm-{application.application_id}",
        timers=[(due, message)],
        now=utc_now(),
    )
