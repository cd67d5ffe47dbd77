"""Claims: filing proof of performance against an approved request, the review (pay, reject, return for more proof),
a review that lapsed and starts again, and the deadline that releases an unclaimed reservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.mdf import MdfClaimApproved, MdfClaimPaid, MdfClaimRejected, MdfClaimReturned, MdfClaimSubmitted
from mdf.domain.common import Change, InvalidState, NewId, money, not_yet_due, timeline
from mdf.domain.ledger import book, fund_event, release
from mdf.models import (
    Claim,
    ClaimBody,
    ClaimDecision,
    ClaimReviewExpired,
    ClaimStatus,
    Fund,
    FundRequest,
    Outcome,
    ProofFile,
    Reference,
)
from shared.clock import timer_time
from shared.errors import FieldError, ValidationFailed
from shared.events import EventDetail
from shared.money import format_money

RESUBMIT_GRACE = timedelta(days=14)  # time to add proof after a claim is returned, at least (within the window)
MAX_REVIEW_ATTEMPTS = 3  # a claim review that keeps lapsing starts again this often, then operations must act


def claim_returned(request: FundRequest) -> bool:
    return request.status == "claimed" and request.claim is not None and request.claim.status == "returned"


def awaiting_claim(request: FundRequest) -> bool:
    """Approved and not claimed yet, or claimed and returned for more proof: the partner is to file (again)."""
    return request.status == "approved" or claim_returned(request)


def ensure_can_claim(request: FundRequest, *, now: datetime) -> None:
    if not awaiting_claim(request):
        raise InvalidState(f"A claim can be filed only on an approved request; this one is {request.status}.")
    if now.astimezone(UTC).date() < request.ends_on:
        raise InvalidState(f"File the claim once the activity has ended ({request.ends_on}).", "activity_not_ended")
    if request.claim_due_at is not None and now > request.claim_due_at:
        raise InvalidState(f"The claim was due by {timer_time(request.claim_due_at)}.", "claim_overdue")


def file_claim(
    request: FundRequest, body: ClaimBody, files: list[ProofFile], *, user: str, now: datetime, new_id: NewId
) -> Change:
    ensure_can_claim(request, now=now)
    granted = request.granted
    assert granted is not None
    errors = []
    if body.amount_spent.currency != granted.currency:
        errors.append(FieldError("amount_spent.currency", f"must be {granted.currency}, the granted currency"))
    elif body.amount_spent.amount_minor > granted.amount_minor:
        errors.append(FieldError("amount_spent.amount_minor", f"exceeds the granted {format_money(granted)}"))
    if errors:
        raise ValidationFailed("The claim cannot be accepted.", errors)
    round_ = request.claim.round + 1 if request.claim is not None else 1
    claim = Claim(
        status="submitted",
        round=round_,
        amount_spent=body.amount_spent,
        proof_files=files,
        results=body.results,
        notes=body.notes,
        submitted_by=user,
        submitted_at=now,
    )
    note = f"Claimed {format_money(body.amount_spent)} with {len(files)} proof file{'s' if len(files) != 1 else ''}"
    claimed = request.model_copy(
        update={
            "status": "claimed",
            "claim": claim,
            "revision": request.revision + 1,
            "timeline": timeline(request, now, "claim_submitted", note),
        }
    )
    event = MdfClaimSubmitted.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=request.partner_id,
        request_id=request.request_id,
        round=round_,
        fund_id=request.fund_id,
        amount_spent=body.amount_spent,
        proof_files=len(files),
        submitted_by=user,
    )
    return Change(request=claimed, events=[event])


def awaiting_review(request: FundRequest, round_: int) -> bool:
    """The claim of this round is filed and nobody has decided on it yet."""
    claim = request.claim
    return request.status == "claimed" and claim is not None and claim.status == "submitted" and claim.round == round_


def why_no_review(request: FundRequest, round_: int) -> str | None:
    """Why a filed claim needs no review (a stale round or a replayed event), or None when it does."""
    if request.claim is None or request.claim.round != round_:
        return "stale claim round"
    if request.claim.status != "submitted":
        return f"no review: the claim is {request.claim.status}"
    return None


def next_review_attempt(lapse: ClaimReviewExpired) -> int | None:
    """Nobody reviewed the claim in time: the partner did their part, so the review starts again (escalated), a few
    times; None once the attempts are used up (operations must act)."""
    attempt = lapse.attempt + 1
    return attempt if attempt < MAX_REVIEW_ATTEMPTS else None


def decision_still_current(request: FundRequest, status: ClaimStatus) -> bool:
    """A claim decision's event still describes the claim (it was not resubmitted since)."""
    return request.claim is not None and request.claim.status == status


def decide_claim(request: FundRequest, decision: ClaimDecision, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """Approve (book `paid`, release the unspent rest), reject (release all) or return the claim, once."""
    claim = request.claim
    if request.status != "claimed" or claim is None or claim.status != "submitted" or claim.round != decision.round:
        return Change(outcome="stale decision")
    review = decision.review
    if review.decision == "returned":
        return _return(request, claim, review, fund, now=now, new_id=new_id)
    if review.decision == "rejected":
        return _reject(request, claim, review, fund, now=now, new_id=new_id)
    return _pay(request, claim, review, fund, now=now, new_id=new_id)


def _decided(claim: Claim, review: Outcome, now: datetime, **changes: object) -> Claim:
    return claim.model_copy(
        update={"decided_at": now, "decided_by": review.decided_by, "reason": review.reason} | changes
    )


def _return(request: FundRequest, claim: Claim, review: Outcome, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    reason = review.reason or "More proof is needed."
    # The partner gets time to add proof even when the review ran past the due date (never past the window).
    due = min(max(request.claim_due_at or now, now + RESUBMIT_GRACE), fund.claim_window_ends_at)
    returned = request.model_copy(
        update={
            "revision": request.revision + 1,
            "claim": _decided(claim, review, now, status="returned", reason=reason),
            "claim_due_at": due,
            "timeline": timeline(request, now, "claim_returned", f"{reason} (resubmit by {timer_time(due)})"),
        }
    )
    event = MdfClaimReturned.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=request.partner_id,
        request_id=request.request_id,
        round=claim.round,
        reason=reason,
        decided_by=review.decided_by,
    )
    return Change(request=returned, events=[event], outcome="returned")


def _reject(request: FundRequest, claim: Claim, review: Outcome, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    granted = request.granted
    assert granted is not None
    reason = review.reason or "Rejected."
    reference = Reference(type="claim", id=f"{request.request_id}#{claim.round}")
    change = release(fund, granted.amount_minor, reference, note="Claim rejected", now=now, new_id=new_id)
    change.request = request.model_copy(
        update={
            "revision": request.revision + 1,
            "status": "claim_rejected",
            "claim": _decided(claim, review, now, status="rejected", reason=reason),
            "timeline": timeline(request, now, "claim_rejected", reason),
        }
    )
    change.events.insert(
        0,
        MdfClaimRejected.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            request_id=request.request_id,
            round=claim.round,
            reason=reason,
            decided_by=review.decided_by,
        ),
    )
    change.guards, change.outcome = [f"settle:{request.request_id}"], "rejected"
    return change


def _pay(request: FundRequest, claim: Claim, review: Outcome, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    granted = request.granted
    assert granted is not None
    reference = Reference(type="claim", id=f"{request.request_id}#{claim.round}")
    asked = review.amount_minor if review.amount_minor is not None else claim.amount_spent.amount_minor
    pay = min(asked, claim.amount_spent.amount_minor, granted.amount_minor)
    paid_fund, paid_entry = book(
        fund, "paid", pay, reference=reference, actor=review.decided_by, note="Claim approved", now=now
    )
    rest = granted.amount_minor - pay
    released = release(paid_fund, rest, reference, note="Unspent reservation", now=now, new_id=new_id)
    final = released.fund or paid_fund
    paid_money, rest_money = money(pay, granted.currency), money(rest, granted.currency)
    note = f"Paid {format_money(paid_money)}" + (f"; released {format_money(rest_money)}" if rest else "")
    approved = request.model_copy(
        update={
            "revision": request.revision + 1,
            "status": "paid",
            "claim": _decided(claim, review, now, status="approved", approved_amount=paid_money),
            "timeline": timeline(request, now, "paid", note),
        }
    )
    events: list[EventDetail] = [
        MdfClaimApproved.occurred(
            at=now,
            event_id=new_id("evt"),
            partner_id=request.partner_id,
            request_id=request.request_id,
            round=claim.round,
            amount_spent=claim.amount_spent,
            approved_amount=paid_money,
            approved_by=review.decided_by,
        ),
        fund_event(
            MdfClaimPaid,
            final,
            now=now,
            new_id=new_id,
            request_id=request.request_id,
            amount=paid_money,
            released=rest_money,
        ),
        *released.events,
    ]
    return Change(
        request=approved,
        fund=final,
        entries=[paid_entry, *released.entries],
        events=events,
        guards=[f"settle:{request.request_id}"],
        outcome="paid",
    )


def claim_deadline(request: FundRequest, fund: Fund, *, now: datetime, new_id: NewId) -> Change:
    """No (re)submitted claim by the due date: the request lapses and its reservation is released."""
    if not awaiting_claim(request) or request.claim_due_at is None or request.granted is None:
        return Change(outcome="nothing due")
    if now < request.claim_due_at:
        return not_yet_due()
    reference = Reference(type="request", id=request.request_id)
    change = release(
        fund, request.granted.amount_minor, reference, note="No claim by the due date", now=now, new_id=new_id
    )
    change.request = request.model_copy(
        update={
            "status": "lapsed",
            "revision": request.revision + 1,
            "timeline": timeline(request, now, "lapsed", "No claim was filed by the due date; funds released"),
        }
    )
    change.guards, change.outcome = [f"settle:{request.request_id}"], "lapsed"
    return change
