"""Adapter of MDF's workflow port (`mdf.ports.MdfWorkflows`): the request approval chain and the claim review
(Step Functions executions, their input built here from the settings), and the fund and claim timers (EventBridge
Scheduler), through the shared WorkflowStarter and TimerScheduler ports."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mdf.domain.timers import Timer, claim_schedule, fund_schedule
from mdf.models import Fund, FundRequest, PartnerProjection
from mdf.settings import ConsumerSettings
from shared.adapters import SchedulerTimers, StepFunctionsStarter
from shared.links import LinkClaim, Purpose, link_query, signing_key
from shared.money import Money, format_money
from shared.ports import TimerScheduler, WorkflowStarter
from shared.workflows import approval_route, approval_timeouts, escalation_of

ACTIVITY = {
    "event": "Event",
    "digital_campaign": "Digital campaign",
    "webinar": "Webinar",
    "print": "Print",
    "other": "Other",
}


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _partner_line(request: FundRequest, partner: PartnerProjection | None) -> dict[str, str]:
    name = f"{partner.company_name} ({partner.country})" if partner else request.partner_id
    return {"label": "Partner", "value": f"{name}, {request.partner_id}"}


def request_summary(request: FundRequest, fund: Fund | None, partner: PartnerProjection | None) -> list[dict[str, str]]:
    outcome = request.expected_outcome
    available = Money(amount_minor=fund.available if fund else 0, currency=request.requested.currency)
    return [
        _partner_line(request, partner),
        {"label": "Requested by", "value": request.submitted_by},
        {"label": "Activity", "value": f"{ACTIVITY[request.activity_type]}: {request.title}"},
        {"label": "Dates", "value": f"{request.starts_on} to {request.ends_on}"},
        {"label": "Description", "value": request.description},
        {"label": "Requested", "value": format_money(request.requested)},
        {"label": "Fund available when requested", "value": f"{format_money(available)} ({request.fund_id})"},
        {
            "label": "Expected outcome",
            "value": f"{_count(outcome.leads, 'lead')}, {format_money(outcome.pipeline_value)} pipeline",
        },
        {"label": "Round", "value": str(request.round)},
    ]


def proof_link(
    settings: ConsumerSettings, key: bytes, request_id: str, file_id: str, reviewer: str, expires: int
) -> str:
    """A reviewer's signed link to one proof file; the API answers it with a 5-minute download."""
    claim = LinkClaim(f"{request_id}:{file_id}", "download", reviewer, expires, purpose=Purpose.PROOF_DOWNLOAD)
    query = link_query(key, claim)
    return f"{str(settings.link_base_url).rstrip('/')}/mdf/proofs/{request_id}/{file_id}?{query}"


def claim_summary(
    request: FundRequest,
    partner: PartnerProjection | None,
    settings: ConsumerSettings,
    reviewers: list[str],
    key: bytes,
) -> list[dict[str, Any]]:
    claim = request.claim
    assert claim is not None and request.granted is not None
    results = claim.results
    lines: list[dict[str, Any]] = [
        _partner_line(request, partner),
        {"label": "Activity", "value": f"{ACTIVITY[request.activity_type]}: {request.title}"},
        {"label": "Dates", "value": f"{request.starts_on} to {request.ends_on}"},
        {"label": "Granted", "value": format_money(request.granted)},
        {"label": "Spent (claimed)", "value": format_money(claim.amount_spent)},
        {
            "label": "Results",
            "value": (
                f"{_count(results.leads, 'lead')}, {_count(results.attendees, 'attendee')}, "
                f"invoice {results.invoice_number}"
            ),
        },
        {"label": "Claimed by", "value": f"{claim.submitted_by} (claim round {claim.round})"},
    ]
    if claim.notes:
        lines.append({"label": "Notes", "value": claim.notes})
    expires = int(time.time()) + settings.link_ttl_seconds
    for number, proof in enumerate(claim.proof_files, start=1):
        lines.append(
            {
                "label": f"Proof {number}",
                "value": f"{proof.file_name} ({proof.content_type}, {proof.size_bytes:,} bytes)",
                # The link is signed for the first reviewer; it only mints a 5-minute download for this file.
                "href": proof_link(settings, key, request.request_id, proof.file_id, reviewers[0], expires),
            }
        )
    return lines


@dataclass(frozen=True)
class MdfWorkflowAdapter:
    """MDF's workflows as the settings configure them (approvers, durations, state machines, timer offsets)."""

    settings: ConsumerSettings
    starter: WorkflowStarter
    timers: TimerScheduler
    link_key: Callable[[], bytes]  # signs the reviewers' proof links (read when the first claim review starts)

    @classmethod
    def on_aws(cls, settings: ConsumerSettings) -> MdfWorkflowAdapter:
        """Step Functions executions, timers in the settings' Scheduler group sent to MDF's workflow queue, and the
        link-signing key from Secrets Manager."""
        timers = SchedulerTimers(settings.schedule_group, settings.scheduler_role_arn, settings.workflow_queue_arn)
        return cls(settings, StepFunctionsStarter(), timers, lambda: signing_key(settings.link_secret_arn))

    def decision_due(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.reminder_seconds)

    def start_request_approval(self, request: FundRequest, fund: Fund | None, partner: PartnerProjection | None) -> str:
        settings = self.settings
        currency = request.requested.currency
        marketing, finance, director = (
            str(settings.marketing_approver),
            str(settings.finance_approver),
            str(settings.escalation_email),
        )
        payload = {
            "request_id": request.request_id,
            "round": request.round,
            "approval_id": f"mdf-{request.request_id}-{request.round}",
            "subject": f"MDF request: {request.title} ({format_money(request.requested)})",
            "summary": request_summary(request, fund, partner),
            "amount": {"currency": currency, "max_minor": request.requested.amount_minor, "label": "Amount to grant"},
            # No threshold for a currency means finance always signs off.
            "finance_threshold_minor": settings.finance_thresholds.get(currency, 0),
            "approvers": {
                "marketing": [marketing],
                "marketing_escalation": escalation_of(marketing, director),
                "finance": [finance],
                "finance_escalation": escalation_of(finance, director),
            },
            "timeouts": approval_timeouts(settings),
        }
        name = f"mdf-{request.request_id}-{request.round}"
        return self.starter.start(settings.request_state_machine_arn, name, payload)

    def start_claim_review(self, request: FundRequest, partner: PartnerProjection | None, *, attempt: int) -> str:
        settings = self.settings
        claim = request.claim
        assert claim is not None
        marketing, director = str(settings.marketing_approver), str(settings.escalation_email)
        name = f"mdf-claim-{request.request_id}-{claim.round}-{attempt}"
        payload = {
            "request_id": request.request_id,
            "round": claim.round,
            "attempt": attempt,
            "approval_id": name,
            "subject": f"MDF claim: {request.title} ({format_money(claim.amount_spent)})",
            "summary": claim_summary(request, partner, settings, [marketing], self.link_key()),
            "amount": {
                "currency": claim.amount_spent.currency,
                "max_minor": claim.amount_spent.amount_minor,
                "label": "Amount to pay",
            },
            **approval_route(marketing, director, settings),
        }
        return self.starter.start(settings.claim_state_machine_arn, name, payload)

    def _schedule(self, name: str, timers: Sequence[Timer], now: datetime) -> str:
        """Each timer as a one-time EventBridge Scheduler schedule to MDF's workflow queue (no workflow waits for
        it); MDF ignores a message that no longer applies (the date it carries moved, the fund closed...)."""
        return self.timers.schedule(name, [timer.wire() for timer in timers], now)

    def start_fund_timer(self, fund: Fund, now: datetime, *, suffix: str = "") -> str:
        """One timer per fund (a renewal, for a window more than a year away, is named after its date)."""
        schedule = fund_schedule(fund, self.settings.expiry_warning_offsets, now)
        return self._schedule(f"mdf-fund-{fund.partner_id}-{fund.period_id}-{fund.currency}{suffix}", schedule, now)

    def start_claim_timer(self, request: FundRequest, now: datetime, *, suffix: str = "") -> str:
        """The claim due timer of an approved request; a returned claim's new due date gets its own (`suffix`)."""
        schedule = claim_schedule(request, self.settings.claim_reminder_offsets, now)
        return self._schedule(f"mdf-claimdue-{request.request_id}-{request.round}{suffix}", schedule, now)
