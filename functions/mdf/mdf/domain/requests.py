"""Fund requests: submission and revision, the approval chain's decision (which reserves what was granted), lapses,
and what the partner is to do next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.mdf import MdfRequestApproved, MdfRequestRejected, MdfRequestSubmitted
from mdf.domain.claims import claim_returned
from mdf.domain.common import Change, InvalidState, NewId, end_of, money, timeline
from mdf.domain.ledger import LEDGER_ACTOR, book, fund_event
from mdf.domain.periods import period_open
from mdf.models import (
    REVISABLE,
    ApprovalStep,
    Fund,
    FundRequest,
    FundRequestBody,
    Outcome,
    Period,
    Reference,
    RequestApprovalExpired,
    RequestDecision,
    TimelineEntry,
)
from shared.errors import FieldError, ValidationFailed
from shared.money import format_money

UNDECIDED = ("submitted", "under_review")


def _check_request(
    body: FundRequestBody,
    period: Period | None,
    fund: Fund | None,
    *,
    lead_days: int,
    now: datetime,
    open_currencies: tuple[str, ...] = (),
) -> None:
    errors: list[FieldError] = []
    if period is None:
        raise ValidationFailed("Unknown programme period.", [FieldError("period_id", "no such period")])
    if not period_open(period, now):
        errors.append(FieldError("period_id", "this period has closed"))
    earliest = now.astimezone(UTC).date() + timedelta(days=lead_days)
    if body.starts_on < earliest:
        errors.append(FieldError("starts_on", f"must be on or after {earliest} ({lead_days} days ahead)"))
    if body.ends_on < body.starts_on:
        errors.append(FieldError("ends_on", "must be on or after starts_on"))
    if body.starts_on < period.starts_on or body.starts_on > period.ends_on:
        errors.append(FieldError("starts_on", f"must be within the period ({period.starts_on} to {period.ends_on})"))
    if body.ends_on > period.ends_on:
        errors.append(FieldError("ends_on", f"must be within the period (by {period.ends_on})"))
    errors += _balance_errors(body, period, fund, open_currencies)
    if errors:
        raise ValidationFailed("The fund request cannot be accepted.", errors)


def _balance_errors(
    body: FundRequestBody, period: Period, fund: Fund | None, open_currencies: tuple[str, ...]
) -> list[FieldError]:
    currency = body.requested.currency
    if fund is None or fund.status != "open":
        # no balance to compare with: say so, and which currencies this partner can ask in for the period
        others = sorted(set(open_currencies) - {currency})
        if fund is None:
            what = f"you have no fund in {currency} for {period.period_id}"
        else:
            what = f"your {currency} fund for {period.period_id} is closed"
        hint = f"your open funds for this period are in {', '.join(others)}" if others else "you have none open"
        return [FieldError("requested.currency", f"{what}; {hint}")]
    if body.requested.amount_minor > fund.available:
        available = format_money(money(fund.available, currency))
        return [FieldError("requested.amount_minor", f"exceeds the available balance ({available})")]
    return []


def needs_open_currencies(fund: Fund | None) -> bool:
    """Only when the asked currency has no open fund are the partner's other funds read (to name their currencies)."""
    return fund is None or fund.status != "open"


def submit(
    body: FundRequestBody,
    *,
    partner_id: str,
    user: str,
    period: Period | None,
    fund: Fund | None,
    lead_days: int,
    now: datetime,
    new_id: NewId,
    previous: FundRequest | None = None,
    open_currencies: tuple[str, ...] = (),
) -> Change:
    """A new request, or (with `previous`) a revision of a rejected or expired one: the next round.

    `open_currencies`: the currencies of the partner's open funds in the period (named when the one asked in has none).
    """
    _check_request(body, period, fund, lead_days=lead_days, now=now, open_currencies=open_currencies)
    if previous is not None and previous.status not in REVISABLE:
        raise InvalidState(f"Only a rejected or expired request can be revised; this one is {previous.status}.")
    fields = body.model_dump(exclude={"requested", "expected_outcome"})
    common: dict[str, Any] = fields | {
        "requested": body.requested,
        "expected_outcome": body.expected_outcome,
        "status": "submitted",
        "submitted_by": user,
        "submitted_at": now,
        "decision_due_at": None,
        "decided_at": None,
        "decision_reason": None,
        "granted": None,
    }
    if previous is None:
        request = FundRequest(
            request_id=new_id("mdfreq"),
            partner_id=partner_id,
            timeline=[TimelineEntry(at=now, status="submitted")],
            **common,
        )
    else:
        request = previous.model_copy(
            update=common
            | {
                "round": previous.round + 1,
                "approvals": [],
                "revision": previous.revision + 1,
                "timeline": timeline(previous, now, "submitted", f"Revised (round {previous.round + 1})"),
            }
        )
    event = MdfRequestSubmitted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        request_id=request.request_id,
        round=request.round,
        fund_id=request.fund_id,
        period_id=request.period_id,
        activity_type=request.activity_type,
        title=request.title,
        starts_on=request.starts_on,
        ends_on=request.ends_on,
        requested=request.requested,
        submitted_by=user,
    )
    return Change(request=request, events=[event])


def why_no_review(request: FundRequest, round_: int) -> str | None:
    """Why a submitted round needs no review (a replayed or stale event), or None when it does."""
    if request.round != round_:
        return "stale: the request was revised since"
    if request.status not in UNDECIDED:
        return f"no review: the request is {request.status}"  # a replayed event of a request decided since
    return None


def under_review(request: FundRequest, *, decision_due_at: datetime, now: datetime) -> FundRequest | None:
    if request.status != "submitted":
        return None
    return request.model_copy(
        update={
            "status": "under_review",
            "decision_due_at": decision_due_at,
            "revision": request.revision + 1,
            "timeline": timeline(request, now, "under_review", "Channel marketing is reviewing"),
        }
    )


def _step(name: str, outcome: Outcome, now: datetime) -> ApprovalStep:
    return ApprovalStep(
        step=name,
        decision=outcome.decision,
        by=outcome.decided_by,
        amount_minor=outcome.amount_minor,
        reason=outcome.reason,
        at=outcome.decided_at or now,
    )


def claim_due(request: FundRequest, *, claim_due_days: int, window_ends_at: datetime) -> datetime:
    return min(end_of(request.ends_on + timedelta(days=claim_due_days)), window_ends_at)


def decide_request(
    request: FundRequest,
    decision: RequestDecision,
    fund: Fund | None,
    *,
    claim_due_days: int,
    now: datetime,
    new_id: NewId,
) -> Change:
    """Apply the approval chain's outcome once: reserve what was granted, or reject (nothing is reserved)."""
    if decision.round != request.round or request.status not in UNDECIDED:
        return Change(outcome="stale decision")
    steps = [_step("Channel marketing", decision.marketing, now)]
    if decision.finance is not None:
        steps.append(_step("Finance", decision.finance, now))
    refusal = next((s for s in steps if s.decision != "approved"), None)
    base = {"approvals": steps, "decided_at": now, "decision_due_at": None, "revision": request.revision + 1}
    if refusal is not None:
        return _reject(request, base, refusal.reason or "Rejected.", "rejected", refusal.by, now, new_id)
    # No step grants more than was asked or than the step before it (finance at most marketing's amount).
    granted = min([request.requested.amount_minor, *(s.amount_minor for s in steps if s.amount_minor is not None)])
    if fund is None or fund.status != "open" or fund.available < granted:
        currency = request.requested.currency
        available = fund.available if fund is not None and fund.status == "open" else 0
        reason = (
            f"Approved for {format_money(money(granted, currency))}, but the fund has only "
            f"{format_money(money(available, currency))} available now; revise the request."
        )
        return _reject(request, base, reason, "insufficient_funds", LEDGER_ACTOR, now, new_id)
    return _reserve(request, base, steps, granted, fund, claim_due_days=claim_due_days, now=now, new_id=new_id)


def _reserve(
    request: FundRequest,
    base: dict[str, Any],
    steps: list[ApprovalStep],
    granted: int,
    fund: Fund,
    *,
    claim_due_days: int,
    now: datetime,
    new_id: NewId,
) -> Change:
    fund, entry = book(
        fund,
        "reserved",
        granted,
        reference=Reference(type="request", id=request.request_id),
        actor=steps[-1].by,
        note=request.title,
        now=now,
    )
    due = claim_due(request, claim_due_days=claim_due_days, window_ends_at=fund.claim_window_ends_at)
    granted_money = money(granted, request.requested.currency)
    note = f"Granted {format_money(granted_money)}" + (
        f" of {format_money(request.requested)} asked" if granted < request.requested.amount_minor else ""
    )
    approved = request.model_copy(
        update=base
        | {
            "status": "approved",
            "granted": granted_money,
            "decision_reason": steps[-1].reason,
            "claim_due_at": due,
            "timeline": timeline(request, now, "approved", note),
        }
    )
    event = fund_event(
        MdfRequestApproved,
        fund,
        now=now,
        new_id=new_id,
        request_id=request.request_id,
        round=request.round,
        requested=request.requested,
        granted=granted_money,
        approved_by=[s.by for s in steps],
        claim_due_at=due,
    )
    return Change(
        request=approved,
        fund=fund,
        entries=[entry],
        events=[event],
        guards=[f"reserve:{request.request_id}"],
        outcome="approved",
    )


def _reject(
    request: FundRequest, base: dict[str, Any], reason: str, outcome: str, by: str, now: datetime, new_id: NewId
) -> Change:
    rejected = request.model_copy(
        update=base
        | {"status": "rejected", "decision_reason": reason, "timeline": timeline(request, now, "rejected", reason)}
    )
    event = MdfRequestRejected.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=request.partner_id,
        request_id=request.request_id,
        round=request.round,
        reason=reason,
        decided_by=by,
    )
    return Change(request=rejected, events=[event], outcome=outcome)


def decision_still_current(request: FundRequest, round_: int, status: str) -> bool:
    """A decision's event still describes the request (not revised or decided again since it was published)."""
    return request.round == round_ and request.status == status


def approval_lapsed(request: FundRequest, message: RequestApprovalExpired, *, now: datetime) -> Change:
    if message.round != request.round or request.status not in UNDECIDED:
        return Change(outcome="stale")
    reason = "Nobody decided in time; revise and resubmit the request."
    expired = request.model_copy(
        update={
            "status": "expired",
            "decision_reason": reason,
            "decision_due_at": None,
            "revision": request.revision + 1,
            "timeline": timeline(request, now, "expired", reason),
        }
    )
    return Change(request=expired, outcome="expired")


# What the partner sees next, by status: the step and the request's field that holds when it is due.
_NEXT_STEPS: dict[str, tuple[str, str | None]] = {
    "submitted": ("Awaiting review", None),
    "under_review": ("Decision due", "decision_due_at"),
    "approved": ("Run the activity, then file a claim with proof", "claim_due_at"),
    **dict.fromkeys(REVISABLE, ("Revise and resubmit if you wish", None)),
    "claim_returned": ("Add the requested proof and resubmit the claim", "claim_due_at"),
    "claimed": ("Claim under review", None),
}


def next_step(request: FundRequest) -> tuple[str, datetime | None]:
    stage = "claim_returned" if claim_returned(request) else request.status
    step, due = _NEXT_STEPS.get(stage, ("No further action", None))
    return step, getattr(request, due) if due else None
