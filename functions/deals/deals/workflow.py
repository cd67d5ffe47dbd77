"""Workflow adapter: the approval workflow (Step Functions, registration or extension) and the protection timer
(EventBridge Scheduler)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from deals import domain
from deals.models import Deal
from deals.settings import ConsumerSettings
from shared.clock import iso
from shared.money import format_money
from shared.workflows import schedule_messages, start_execution

MAX_CONFLICT_LINES = 10


def conflict_lines(
    deal: Deal, conflicting: dict[str, Deal], partner_names: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """One line per conflicting registration, with the evidence the channel manager weighs (side by side)."""
    names = partner_names or {}
    lines = []
    for number, conflict in enumerate(deal.conflicts, start=1):
        other = conflicting.get(conflict.deal_id)
        matched = " and ".join(conflict.matched_on)
        if other is None:
            value = f"{conflict.deal_id}, {conflict.status}, matched on {matched}"
        else:
            protected = f" until {iso(other.protection_ends_at)}" if other.protection_ends_at else ""
            value = (
                f"{other.prospect.company_name} ({other.prospect.domain}), partner "
                f"{names.get(other.partner_id, 'unknown to deals')}, registered "
                f"{iso(other.submitted_at)} by {other.registered_by}, {format_money(other.estimated_value)}, "
                f"{other.status}{protected}; matched on {matched} ({conflict.deal_id})"
            )
        lines.append({"label": f"Conflict {number}", "value": value})
    if len(lines) > MAX_CONFLICT_LINES:
        hidden = len(lines) - MAX_CONFLICT_LINES
        lines = [*lines[:MAX_CONFLICT_LINES], {"label": "More conflicts", "value": f"{hidden} more registrations"}]
    return lines or [{"label": "Conflicts", "value": "none"}]


def before_you_decide(
    deal: Deal, conflicting: dict[str, Deal], partner_names: dict[str, str], now: datetime
) -> dict[str, str] | None:
    """What approving will do when other registrations compete: first approved wins (docs/architecture.md)."""
    others = [d for d in conflicting.values() if d.partner_id != deal.partner_id]
    holders = [
        d for d in others if d.status == "approved" and d.protection_ends_at is not None and d.protection_ends_at > now
    ]
    if holders:
        holder = min(holders, key=lambda d: d.submitted_at)
        assert holder.protection_ends_at is not None
        who = partner_names.get(holder.partner_id, "Another partner")
        value = (
            f"{who} already holds approved protection for this prospect until {iso(holder.protection_ends_at)}. "
            "First approved wins: if you approve, this registration will be rejected automatically while that "
            "protection lasts (the partner is told another partner was first). Reject it with your reason instead, "
            "unless you expect that protection to end before you decide."
        )
        return {"label": "Before you decide", "value": value}
    pending = [d for d in others if d.status in ("submitted", "under_review")]
    if pending:
        who = ", ".join(sorted({partner_names.get(d.partner_id, "another partner") for d in pending}))
        value = (
            f"Another registration of this prospect is pending ({who}). First approved wins: if that one is "
            "approved before you decide, approving this one turns into an automatic rejection."
        )
        return {"label": "Before you decide", "value": value}
    return None


def approval_input(
    deal: Deal,
    settings: ConsumerSettings,
    *,
    purpose: str,
    mode: str,
    note: str = "",
    conflicting: dict[str, Deal] | None = None,
    partner_country: str,
    request_id: str = "0",
    partner_names: dict[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The approval workflow's input; the channel manager is the one for the partner's region."""
    approver = settings.approvers_by_region.get(domain.region_of(partner_country)) or settings.escalation_email
    names = partner_names or {}
    notice = (
        before_you_decide(deal, conflicting or {}, names, now or deal.submitted_at)
        if purpose == "registration"
        else None
    )
    summary = [
        {"label": "Request", "value": "Protection extension" if purpose == "extension" else "Deal registration"},
        *([notice] if notice else []),
        {"label": "Prospect", "value": f"{deal.prospect.company_name} ({deal.prospect.domain})"},
        {"label": "Judged on", "value": f"domain {deal.prospect.domain}, company {deal.prospect.company_key}"},
        {"label": "Country", "value": deal.prospect.country},
        {"label": "Partner", "value": names.get(deal.partner_id, deal.partner_id)},
        {"label": "Registered by", "value": deal.registered_by},
        {"label": "Estimated value", "value": format_money(deal.estimated_value)},
        {"label": "Expected close", "value": deal.expected_close_date.isoformat()},
        {"label": "Products", "value": ", ".join(deal.products)},
        {"label": "Description", "value": deal.description or "-"},
        *conflict_lines(deal, conflicting or {}, names),
    ]
    if note:
        summary.append({"label": "Justification", "value": note})
    return {
        # One approval (and execution) per request: a refused extension must not block the next one.
        "approval_id": f"deal-{deal.deal_id}-{purpose}-{request_id}",
        "deal_id": deal.deal_id,
        "purpose": purpose,
        "mode": mode,
        "subject": f"{'Extension' if purpose == 'extension' else 'Deal registration'}: {deal.prospect.company_name} ({deal.prospect.domain})",
        "summary": summary,
        "approvers": {
            "initial": [approver],
            "escalation": list(dict.fromkeys([approver, str(settings.escalation_email)])),
        },
        "timeouts": {
            "reminder_seconds": settings.reminder_seconds,
            "escalation_seconds": settings.escalation_seconds,
            "expiry_seconds": settings.expiry_seconds,
        },
    }


def start_review(
    deal: Deal,
    settings: ConsumerSettings,
    *,
    purpose: str,
    mode: str,
    note: str = "",
    conflicting: dict[str, Deal] | None = None,
    partner_country: str,
    request_id: str = "0",
    partner_names: dict[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    payload = approval_input(
        deal,
        settings,
        purpose=purpose,
        mode=mode,
        note=note,
        conflicting=conflicting,
        partner_country=partner_country,
        request_id=request_id,
        partner_names=partner_names,
        now=now,
    )
    return start_execution(settings.approval_state_machine_arn, payload["approval_id"], payload)


def start_protection_timer(deal: Deal, settings: ConsumerSettings, now: datetime) -> str:
    """The reminders before protection ends and the end itself, as one-time schedules that message deals' workflow
    queue (a timer holds no workflow while it waits). Each message carries the end date it was set for, so after an
    extension the old timer's messages are ignored and a new timer (named after the extension count) runs."""
    assert deal.protection_ends_at is not None
    ends = domain.timer_time(deal.protection_ends_at)
    reminders = domain.protection_reminders(
        deal.deal_id, deal.protection_ends_at, settings.protection_reminder_offsets, now
    )
    timers = [
        (
            reminder["at"],
            {
                "message_type": "ProtectionReminder",
                "deal_id": deal.deal_id,
                "protection_ends_at": ends,
                "days_left": reminder["days_left"],
            },
        )
        for reminder in reminders
    ]
    timers.append((ends, {"message_type": "ProtectionEnded", "deal_id": deal.deal_id, "protection_ends_at": ends}))
    return schedule_messages(
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.workflow_queue_arn,
        name=f"{deal.deal_id}-protection-{deal.extensions_used}",
        timers=timers,
        now=now,
    )


def protection(settings: ConsumerSettings) -> tuple[timedelta, timedelta]:
    return timedelta(seconds=settings.protection_seconds), timedelta(seconds=settings.extension_seconds)
