"""Step Functions adapter: the approval workflow (registration or extension) and the protection timer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from deals import domain
from deals.models import Deal
from deals.settings import ConsumerSettings
from shared.clock import iso
from shared.money import format_money
from shared.workflows import start_execution

MAX_CONFLICT_LINES = 10


def conflict_lines(deal: Deal, conflicting: dict[str, Deal]) -> list[dict[str, str]]:
    """One line per conflicting registration, with the evidence the channel manager weighs (side by side)."""
    lines = []
    for number, conflict in enumerate(deal.conflicts, start=1):
        other = conflicting.get(conflict.deal_id)
        matched = " and ".join(conflict.matched_on)
        if other is None:
            value = f"{conflict.deal_id}, {conflict.status}, matched on {matched}"
        else:
            protected = f" until {iso(other.protection_ends_at)}" if other.protection_ends_at else ""
            value = (
                f"{other.prospect.company_name} ({other.prospect.domain}), partner {other.partner_id}, registered "
                f"{iso(other.submitted_at)} by {other.registered_by}, {format_money(other.estimated_value)}, "
                f"{other.status}{protected}; matched on {matched} ({conflict.deal_id})"
            )
        lines.append({"label": f"Conflict {number}", "value": value})
    if len(lines) > MAX_CONFLICT_LINES:
        hidden = len(lines) - MAX_CONFLICT_LINES
        lines = [*lines[:MAX_CONFLICT_LINES], {"label": "More conflicts", "value": f"{hidden} more registrations"}]
    return lines or [{"label": "Conflicts", "value": "none"}]


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
) -> dict[str, Any]:
    """The approval workflow's input; the channel manager is the one for the partner's region."""
    approver = settings.approvers_by_region.get(domain.region_of(partner_country)) or settings.escalation_email
    summary = [
        {"label": "Request", "value": "Protection extension" if purpose == "extension" else "Deal registration"},
        {"label": "Prospect", "value": f"{deal.prospect.company_name} ({deal.prospect.domain})"},
        {"label": "Judged on", "value": f"domain {deal.prospect.domain}, company {deal.prospect.company_key}"},
        {"label": "Country", "value": deal.prospect.country},
        {"label": "Partner", "value": deal.partner_id},
        {"label": "Registered by", "value": deal.registered_by},
        {"label": "Estimated value", "value": format_money(deal.estimated_value)},
        {"label": "Expected close", "value": deal.expected_close_date.isoformat()},
        {"label": "Products", "value": ", ".join(deal.products)},
        {"label": "Description", "value": deal.description or "-"},
        *conflict_lines(deal, conflicting or {}),
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
    )
    return start_execution(settings.approval_state_machine_arn, payload["approval_id"], payload)


def start_protection_timer(deal: Deal, settings: ConsumerSettings, now: datetime) -> str:
    assert deal.protection_ends_at is not None
    payload = {
        "deal_id": deal.deal_id,
        "protection_ends_at": domain.timer_time(deal.protection_ends_at),
        "reminders": domain.protection_reminders(
            deal.deal_id, deal.protection_ends_at, settings.protection_reminder_offsets, now
        ),
    }
    return start_execution(
        settings.protection_state_machine_arn, f"{deal.deal_id}-protection-{deal.extensions_used}", payload
    )


def protection(settings: ConsumerSettings) -> tuple[timedelta, timedelta]:
    return timedelta(seconds=settings.protection_seconds), timedelta(seconds=settings.extension_seconds)
