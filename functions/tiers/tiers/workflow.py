"""Adapters of the tier workflows ports: `TierWorkflows`, the upgrade approval workflow (Step Functions, the channel
team decides by email link through the approvals service) and the programme's one-time timers (EventBridge Scheduler:
grace warnings and end, window slides, new criteria versions); and `VersionTimers`, a new version's fan-out timer alone,
which the API sets when a version is published and deletes when it is withdrawn before it fired (it has no workflow
settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts.tiers import TierUpgradeRequested
from shared.aws import client
from shared.clock import timer_time
from shared.ports import TimerScheduler, WorkflowStarter
from shared.workflows import approval_route, schedule_name
from tiers.domain.standing import grace_timer
from tiers.models import Grace, Reevaluation, Standing, VersionTakesEffect
from tiers.settings import ConsumerSettings

MAX_TIMER = timedelta(days=360)  # a later re-evaluation is renewed by the one that fires first (it reschedules)


def execution_name(upgrade_id: str) -> str:
    """One approval (and execution) per upgrade request."""
    return f"tier-{upgrade_id}"


def approval_input(
    settings: ConsumerSettings, standing: Standing, request: TierUpgradeRequested, evidence: list[tuple[str, str]]
) -> dict[str, Any]:
    """The upgrade approval workflow's input: what the channel team weighs, who decides, how long each step waits."""
    partner = standing.company_name or standing.partner_id
    summary = [
        {"label": "Request", "value": "Tier upgrade"},
        {"label": "Partner", "value": partner},
        {"label": "Current tier", "value": request.current.name},
        {"label": "Proposed tier", "value": request.proposed.name},
        {"label": "Criteria version", "value": request.criteria_version},
        *[{"label": label, "value": value} for label, value in evidence],
    ]
    return {
        "approval_id": execution_name(request.upgrade_id),
        "partner_id": request.partner_id,
        "upgrade_id": request.upgrade_id,
        "subject": f"Tier upgrade: {partner} to {request.proposed.name}",
        "summary": summary,
        **approval_route(str(settings.approver_email), str(settings.escalation_email), settings),
    }


def schedule_version(timers: TimerScheduler, version_id: str, at: datetime, after: str | None, now: datetime) -> str:
    """Named after the version and the page: a repeated call, from the API or the consumer, schedules nothing new."""
    due = at.replace(microsecond=0)
    message = VersionTakesEffect(message_type="VersionTakesEffect", version_id=version_id, due_at=due, after=after)
    return timers.schedule(
        version_timer_name(version_id, after), [(timer_time(due), message.model_dump(mode="json"))], now
    )


def version_timer_name(version_id: str, after: str | None = None) -> str:
    return f"tiers-version-{version_id}-{after or 'first'}"


def cancel_version(group: str, version_id: str) -> str:
    """Delete a withdrawn version's first fan-out timer (the one schedule_version made before it took effect)."""
    scheduler = client("scheduler")
    try:
        scheduler.delete_schedule(Name=schedule_name(f"{version_timer_name(version_id)}-0"), GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return f"no timer left for version {version_id}"
    return f"timer of version {version_id} deleted"


@dataclass(frozen=True)
class VersionTimersAdapter:
    timers: TimerScheduler
    group: str  # the schedule group the timers are in (a withdrawn version's timer is deleted from it)

    def schedule_version(self, version_id: str, at: datetime, after: str | None, now: datetime) -> str:
        return schedule_version(self.timers, version_id, at, after, now)

    def cancel_version(self, version_id: str) -> str:
        return cancel_version(self.group, version_id)


@dataclass(frozen=True)
class TierWorkflowsAdapter:
    settings: ConsumerSettings
    starter: WorkflowStarter
    timers: TimerScheduler

    def start_upgrade_review(
        self, standing: Standing, request: TierUpgradeRequested, evidence: list[tuple[str, str]]
    ) -> str:
        payload = approval_input(self.settings, standing, request, evidence)
        return self.starter.start(self.settings.upgrade_state_machine_arn, execution_name(request.upgrade_id), payload)

    def schedule_grace(self, standing: Standing, grace: Grace, now: datetime) -> str:
        """Named after the grace period: a repeated call schedules nothing new; a later period has its own."""
        timer = grace_timer(standing.partner_id, grace, tuple(self.settings.grace_warning_offsets), now)
        return self.timers.schedule(
            f"tiers-{standing.partner_id}-{grace.grace_id}",
            [(timer_time(at), message.model_dump(mode="json")) for at, message in timer],
            now,
        )

    def schedule_reevaluation(self, partner_id: str, at: datetime, now: datetime) -> str:
        due = min(at, now + MAX_TIMER).replace(microsecond=0)
        message = Reevaluation(message_type="Reevaluation", partner_id=partner_id, due_at=due, cause="window")
        return self.timers.schedule(
            f"tiers-{partner_id}-window-{timer_time(due)}", [(timer_time(due), message.model_dump(mode="json"))], now
        )

    def schedule_version(self, version_id: str, at: datetime, after: str | None, now: datetime) -> str:
        return schedule_version(self.timers, version_id, at, after, now)

    def cancel_version(self, version_id: str) -> str:
        return cancel_version(self.settings.schedule_group, version_id)
