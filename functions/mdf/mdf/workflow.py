"""Workflow adapter: the request approval chain and the claim review (Step Functions), and the fund and claim
timers (EventBridge Scheduler)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from mdf import domain
from mdf.models import Fund, FundRequest, PartnerProjection
from mdf.settings import ConsumerSettings
from shared.links import LinkClaim, Purpose, link_query, signing_key
from shared.money import Money, format_money
from shared.workflows import schedule_messages, start_execution

ACTIVITY = {
    "event": "Event",
    "digital_campaign": "Digital campaign",
    "webinar": "Webinar",
    "print": "Print",
    "other": "Other",
}


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _timeouts(settings: ConsumerSettings) -> dict[str, int]:
    return {
        "reminder_seconds": settings.reminder_seconds,
        "escalation_seconds": settings.escalation_seconds,
        "expiry_seconds": settings.expiry_seconds,
    }


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


def start_request_approval(
    request: FundRequest, fund: Fund | None, partner: PartnerProjection | None, settings: ConsumerSettings
) -> str:
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
            "marketing_escalation": list(dict.fromkeys([marketing, director])),
            "finance": [finance],
            "finance_escalation": list(dict.fromkeys([finance, director])),
        },
        "timeouts": _timeouts(settings),
    }
    return start_execution(settings.request_state_machine_arn, f"mdf-{request.request_id}-{request.round}", payload)


def proof_link(settings: ConsumerSettings, request_id: str, file_id: str, reviewer: str, expires: int) -> str:
    """A reviewer's signed link to one proof file; the API answers it with a 5-minute download."""
    claim = LinkClaim(f"{request_id}:{file_id}", "download", reviewer, expires, purpose=Purpose.PROOF_DOWNLOAD)
    query = link_query(signing_key(settings.link_secret_arn), claim)
    return f"{str(settings.link_base_url).rstrip('/')}/mdf/proofs/{request_id}/{file_id}?{query}"


def claim_summary(
    request: FundRequest, partner: PartnerProjection | None, settings: ConsumerSettings, reviewers: list[str]
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
                "href": proof_link(settings, request.request_id, proof.file_id, reviewers[0], expires),
            }
        )
    return lines


def start_claim_review(
    request: FundRequest, partner: PartnerProjection | None, settings: ConsumerSettings, *, attempt: int = 0
) -> str:
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
        "summary": claim_summary(request, partner, settings, [marketing]),
        "amount": {
            "currency": claim.amount_spent.currency,
            "max_minor": claim.amount_spent.amount_minor,
            "label": "Amount to pay",
        },
        "approvers": {"initial": [marketing], "escalation": list(dict.fromkeys([marketing, director]))},
        "timeouts": _timeouts(settings),
    }
    return start_execution(settings.claim_state_machine_arn, name, payload)


def _schedule(settings: ConsumerSettings, name: str, schedule: list[dict[str, Any]], now: datetime) -> str:
    """Each scheduled message as a one-time EventBridge Scheduler schedule to MDF's workflow queue (no workflow waits
    for it); MDF ignores a message that no longer applies (the date it carries moved, the fund closed...)."""
    return schedule_messages(
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.workflow_queue_arn,
        name=name,
        timers=[(item["at"], item["message"]) for item in schedule],
        now=now,
    )


def start_fund_timer(fund: Fund, settings: ConsumerSettings, now: datetime, *, renewal: str = "") -> str:
    """One timer per fund (a renewal, for a window more than a year away, is named after its date)."""
    schedule = domain.fund_schedule(fund, settings.expiry_warning_offsets, now)
    return _schedule(settings, f"mdf-fund-{fund.partner_id}-{fund.period_id}-{fund.currency}{renewal}", schedule, now)


def start_claim_timer(request: FundRequest, settings: ConsumerSettings, now: datetime, *, suffix: str = "") -> str:
    """The claim due timer of an approved request; a returned claim's new due date gets its own (`suffix`)."""
    schedule = domain.claim_schedule(request, settings.claim_reminder_offsets, now)
    return _schedule(settings, f"mdf-claimdue-{request.request_id}-{request.round}{suffix}", schedule, now)


def decision_due(settings: ConsumerSettings, now: datetime) -> datetime:
    """When the first approver's decision is due (the reminder goes out then)."""
    return now + timedelta(seconds=settings.reminder_seconds)
