"""Adapter of the deal workflows port (`deals.ports.DealWorkflows`): the approval workflow (Step Functions,
registration or extension) and the protection timer (EventBridge Scheduler), through the shared ports' adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deals import domain
from deals.models import Deal, Review
from deals.settings import ConsumerSettings
from shared.clock import iso, timer_time
from shared.countries import region_of
from shared.money import format_money
from shared.ports import TimerScheduler, WorkflowStarter
from shared.workflows import approval_route

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


def reviewer(settings: ConsumerSettings, partner_country: str) -> str:
    """The channel manager of the partner's region, or the escalation address where the region has none."""
    return str(settings.approvers_by_region.get(region_of(partner_country)) or settings.escalation_email)


def execution_name(review: Review) -> str:
    """One approval (and execution) per request: a refused extension must not block the next one."""
    return f"deal-{review.deal.deal_id}-{review.purpose}-{review.request_id}"


def auto_approval_input(review: Review) -> dict[str, Any]:
    """The automatic approval workflow's input: all it needs to hand deals its decision."""
    return {"deal_id": review.deal.deal_id, "purpose": review.purpose}


def approval_input(review: Review, settings: ConsumerSettings) -> dict[str, Any]:
    """The human approval workflow's input; the channel manager is the one for the partner's region."""
    deal, purpose = review.deal, review.purpose
    approver = reviewer(settings, review.partner_country)
    names = review.partner_names
    notice = before_you_decide(deal, review.conflicting, names, review.now) if purpose == "registration" else None
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
        *conflict_lines(deal, review.conflicting, names),
    ]
    if review.note:
        summary.append({"label": "Justification", "value": review.note})
    return {
        "approval_id": execution_name(review),
        "deal_id": deal.deal_id,
        "purpose": purpose,
        "subject": f"{'Extension' if purpose == 'extension' else 'Deal registration'}: {deal.prospect.company_name} ({deal.prospect.domain})",
        "summary": summary,
        **approval_route(approver, str(settings.escalation_email), settings),
    }


@dataclass(frozen=True)
class DealWorkflowsAdapter:
    """The deal workflows on the shared ports: executions of the approval state machines, one-time timers."""

    settings: ConsumerSettings
    starter: WorkflowStarter
    timers: TimerScheduler

    def reviewer(self, partner_country: str) -> str:
        return reviewer(self.settings, partner_country)

    def start_review(self, review: Review) -> str:
        """`auto` (`domain.review_mode`): the Express machine hands deals an automatic approval; otherwise the
        Standard machine asks a channel manager and waits for the decision (callback pattern).

        Express starts are not de-duplicated by name (a Standard start is, per execution name), so a redelivered
        review could approve twice. That is safe here: the consumer de-duplicates the event that asks for the
        review, and applying a decision is idempotent (a repeated approval changes nothing: "already decided";
        tests/unit/test_deals_service.py and tests/integration/test_deals.py show it)."""
        if review.mode == "auto":
            machine, payload = self.settings.auto_approval_state_machine_arn, auto_approval_input(review)
        else:
            machine, payload = self.settings.approval_state_machine_arn, approval_input(review, self.settings)
        return self.starter.start(machine, execution_name(review), payload)

    def start_protection_timer(self, deal: Deal, now: datetime) -> str:
        """One-time schedules that message deals' workflow queue (a timer holds no workflow while it waits), named
        after the extension count: after an extension a new timer runs and the old one's messages are stale."""
        assert deal.protection_ends_at is not None
        timer = domain.protection_timer(
            deal.deal_id, deal.protection_ends_at, self.settings.protection_reminder_offsets, now
        )
        return self.timers.schedule(
            f"{deal.deal_id}-protection-{deal.extensions_used}",
            [(timer_time(at), message.model_dump(mode="json")) for at, message in timer],
            now,
        )
