"""Deal registration rules as pure functions: domain values and records in, records and events out (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.deals import (
    DealApproved,
    DealExpired,
    DealExtended,
    DealExtensionRefused,
    DealExtensionRequested,
    DealLost,
    DealRegistered,
    DealRejected,
    DealWinReversed,
    DealWon,
    Prospect,
)
from deals.models import (
    OPEN_STATUSES,
    Deal,
    NewDeal,
    PartnerProjection,
    PartnerTier,
    ProspectRecord,
    Protection,
    ProtectionEnded,
    ProtectionReminder,
    Registration,
    ReviewMode,
    Stage,
    TierChange,
    TimelineEntry,
    WinReversal,
    Won,
)
from deals.models import (
    Conflict as DealConflict,
)
from deals.prospects import company_key, domain_key
from shared.clock import iso
from shared.errors import Conflict, FieldError, Forbidden, NotFound, NotYetDue, ValidationFailed
from shared.money import format_money
from shared.principal import Principal

NewId = Callable[[str], str]


class InvalidState(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_state")


@dataclass(frozen=True)
class AutoApprovalLimits:
    """Currency -> largest estimated value (minor units) approved without a channel manager: per tier (`by_tier`, tier
    id -> limits), and `default` for a partner whose tier is not listed or not known yet. A listed tier's limits are
    complete: a currency missing from them always goes to a channel manager for that tier."""

    default: Mapping[str, int]
    by_tier: Mapping[str, Mapping[str, int]]

    def for_tier(self, tier_id: str | None) -> Mapping[str, int]:
        if tier_id is not None and tier_id in self.by_tier:
            return self.by_tier[tier_id]
        return self.default


@dataclass(frozen=True)
class DealTerms:
    """The programme's terms the workflow side applies (template parameters, through the consumer's settings)."""

    protection: timedelta  # how long an approved registration protects the prospect
    extension: timedelta  # what one granted extension adds
    auto_approve_limits: AutoApprovalLimits


def ensure_partner_user(principal: Principal) -> str:
    """The caller's partner id (the token's, never the body's): vendor staff register no deals."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users register deals.")
    return principal.partner_id


def ensure_can_register(principal: Principal, partner: PartnerProjection | None) -> str:
    """Only users of an active partner register deals; the partner id is the token's, never the body's."""
    partner_id = ensure_partner_user(principal)
    if partner is None or partner.status != "active":
        raise Forbidden("Your organisation is not an active partner.", code="partner_inactive")
    return partner_id


def ensure_manages_products(principal: Principal) -> None:
    if not principal.in_group("vendor-admin"):
        raise Forbidden("Only vendor administrators manage the product list.")


VENDOR_GROUPS = frozenset({"vendor-admin"})  # the vendor's signed-in staff (channel managers decide by signed link)


def ensure_vendor(principal: Principal, action: str) -> None:
    """Vendor staff only (a partner user, whatever their role, is refused before any deal is read)."""
    if principal.partner_id is not None or not (principal.groups & VENDOR_GROUPS):
        raise Forbidden(f"Only vendor staff {action}.")


def ensure_own(principal: Principal, deal: Deal | None) -> Deal:
    """Another partner's deal does not exist as far as this caller can tell."""
    if deal is None or (deal.partner_id != principal.partner_id and not principal.in_group("vendor-admin")):
        raise NotFound("No such deal.")
    return deal


def _is_open(registration: Registration, now: datetime) -> bool:
    if registration.status not in OPEN_STATUSES:
        return False
    return registration.protection_ends_at is None or registration.protection_ends_at > now


def prospect_keys(website: str | None, company: str | None) -> tuple[str | None, str | None]:
    """The keys a pre-check reads (domain, company), from whichever of the two the caller gave."""
    errors = []
    try:
        domain_value = domain_key(website) if website else None
    except ValueError as error:
        errors.append(FieldError("domain", str(error)))
    try:
        company_value = company_key(company) if company else None
    except ValueError as error:
        errors.append(FieldError("company_name", str(error)))
    if errors or not (website or company):
        raise ValidationFailed("Give a valid domain or company name.", errors or [FieldError("domain", "required")])
    return domain_value, company_value


def register(
    request: NewDeal,
    *,
    partner_id: str,
    registered_by: str,
    known_products: set[str],
    by_domain: list[Registration],
    by_company: list[Registration],
    now: datetime,
    new_id: NewId,
) -> tuple[Deal, DealRegistered]:
    """A new registration, with other partners' open registrations for the same prospect recorded as conflicts."""
    unknown = [
        FieldError(f"products.{i}", f"{sku} is not in the product list")
        for i, sku in enumerate(request.products)
        if sku not in known_products
    ]
    if unknown:
        raise ValidationFailed("Some products are not in the vendor's product list.", unknown)
    if request.expected_close_date <= now.date():
        raise ValidationFailed(
            "The expected close date must be in the future.", [FieldError("expected_close_date", "must be after today")]
        )
    domain, company = domain_key(request.website), company_key(request.company_name)
    matches: dict[str, DealConflict] = {}
    for key, registrations in (("domain", by_domain), ("company", by_company)):
        for registration in registrations:
            if not _is_open(registration, now):
                continue
            if registration.partner_id == partner_id:
                field = "prospect.website" if key == "domain" else "prospect.company_name"
                raise Conflict(
                    "You already have an open registration for this prospect.",
                    code="duplicate_registration",
                    errors=[FieldError(field, f"already registered by you ({registration.deal_id})")],
                )
            conflict = matches.setdefault(
                registration.deal_id,
                DealConflict(
                    deal_id=registration.deal_id,
                    matched_on=[],
                    status=registration.status,
                    protection_ends_at=registration.protection_ends_at,
                ),
            )
            conflict.matched_on.append(key)  # type: ignore[arg-type]
    prospect = ProspectRecord(
        company_name=request.company_name,
        website=request.website,
        domain=domain,
        company_key=company,
        country=request.country,
        contact=request.contact,
    )
    deal = Deal(
        deal_id=new_id("deal"),
        partner_id=partner_id,
        status="submitted",
        prospect=prospect,
        products=list(request.products),
        estimated_value=request.estimated_value,
        expected_close_date=request.expected_close_date,
        description=request.description,
        registered_by=registered_by,
        submitted_at=now,
        conflicts=list(matches.values()),
        timeline=[TimelineEntry(at=now, status="submitted", note="Registration received.")],
    )
    event = DealRegistered.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=partner_id,
        deal_id=deal.deal_id,
        prospect=event_prospect(deal),
        products=deal.products,
        estimated_value=deal.estimated_value,
        expected_close_date=deal.expected_close_date,
        registered_by=registered_by,
        conflicts=[c.deal_id for c in deal.conflicts],
    )
    return deal, event


def event_prospect(deal: Deal) -> Prospect:
    p = deal.prospect
    return Prospect(company_name=p.company_name, domain=p.domain, company_key=p.company_key, country=p.country)


def review_mode(deal: Deal, limits: AutoApprovalLimits, tier_id: str | None) -> ReviewMode:
    """Automatic approval only without conflicts and within the limit for the deal's currency of the partner's tier
    (`tier_id`: None while deals knows no tier of the partner: the default limits)."""
    limit = limits.for_tier(tier_id).get(deal.estimated_value.currency)
    if deal.conflicts or limit is None or deal.estimated_value.amount_minor > limit:
        return "manual"
    return "auto"


def tier_order(change: TierChange) -> str:
    """Where a tier change stands in the partner's history: effective time (microseconds, fixed width, so text order is
    time order), then event id to break ties. Only a change after the one kept is applied."""
    return f"{change.effective_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{change.event_id}"


def project_tier(known: PartnerTier | None, change: TierChange) -> PartnerTier | None:
    """The partner's tier after `change`, or None when it is not newer than the one kept (redelivered or late)."""
    order = tier_order(change)
    if known is not None and order <= known.tier_order:
        return None
    return PartnerTier(
        partner_id=change.partner_id,
        tier_id=change.tier_id,
        name=change.name,
        rank=change.rank,
        since=change.effective_at,
        event_id=change.event_id,
        tier_order=order,
    )


def _with(deal: Deal, now: datetime, step: str, note: str, **changes: Any) -> Deal:
    """The deal with `changes`, one more timeline entry (`step`) and the next revision."""
    entry = TimelineEntry(at=now, status=step, note=note)
    return deal.model_copy(update=changes | {"timeline": [*deal.timeline, entry], "revision": deal.revision + 1})


def under_review(deal: Deal, reviewer: str, now: datetime) -> Deal:
    if deal.status != "submitted":
        raise InvalidState(f"The deal is {deal.status}.")
    return _with(deal, now, "under_review", f"Sent to {reviewer} for review.", status="under_review")


def approve(
    deal: Deal, *, decided_by: str, automatic: bool, protection: timedelta, now: datetime, new_id: NewId
) -> tuple[Deal, DealApproved]:
    if deal.status not in ("submitted", "under_review"):
        raise InvalidState(f"The deal is {deal.status}.")
    ends = (now + protection).replace(microsecond=0)  # whole seconds: the protection timer's Wait precision
    note = "Approved automatically." if automatic else f"Approved by {decided_by}."
    approved = _with(
        deal,
        now,
        "approved",
        note + f" Protected until {iso(ends)}.",
        status="approved",
        decided_at=now,
        decided_by=decided_by,
        protection_ends_at=ends,
    )
    event = DealApproved.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        prospect=event_prospect(deal),
        estimated_value=deal.estimated_value,
        approved_by=decided_by,
        automatic=automatic,
        protection_ends_at=ends,
    )
    return approved, event


def reject(deal: Deal, *, reason: str, decided_by: str, now: datetime, new_id: NewId) -> tuple[Deal, DealRejected]:
    if deal.status not in ("submitted", "under_review"):
        raise InvalidState(f"The deal is {deal.status}.")
    rejected = _with(
        deal, now, "rejected", reason, status="rejected", decided_at=now, decided_by=decided_by, decision_reason=reason
    )
    event = DealRejected.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        reason=reason,
        decided_by=decided_by,
    )
    return rejected, event


def approved_first(deal: Deal, holders: list[Protection], now: datetime) -> str:
    """Why an approval lost the race (first approved wins): until when, never who."""
    live = [h for h in holders if h.deal_id != deal.deal_id and h.protection_ends_at > now]
    if not live:
        return "Another registration was approved first."
    return f"Another partner's registration for this prospect was approved first (protected until {iso(live[0].protection_ends_at)})."


def _require_protected(deal: Deal, now: datetime) -> None:
    if deal.status != "approved" or deal.protection_ends_at is None or deal.protection_ends_at <= now:
        raise InvalidState("Only an approved deal within its protection period can do this.")


def set_stage(deal: Deal, stage: Stage, now: datetime) -> Deal | None:
    """The deal at the new stage, or None when it is already there (a repeat changes nothing)."""
    _require_protected(deal, now)
    if deal.stage == stage:
        return None
    return _with(deal, now, "stage", f"Pipeline stage: {stage}.", stage=stage)


def _require_closable(deal: Deal, now: datetime) -> None:
    """Won or lost: an approved deal within its protection, or one whose win a vendor reversed (it was won while
    protected; its protection is not claimed again, so the correction cannot be raced away)."""
    if deal.status != "win_reversed":
        _require_protected(deal, now)


def mark_won(deal: Deal, won: Won, now: datetime, new_id: NewId) -> tuple[Deal, DealWon]:
    """The deal won; after a reversal the corrected win is the next `win_revision`."""
    _require_closable(deal, now)
    if won.close_date > now.date():
        raise ValidationFailed("The close date cannot be in the future.", [FieldError("close_date", "in the future")])
    revision = deal.win_revision + 1
    corrected = f" (correction {revision - 1})" if revision > 1 else ""
    closed = _with(
        deal,
        now,
        "won",
        f"Won: {format_money(won.amount)}, closed {won.close_date.isoformat()}{corrected}.",
        status="won",
        won=won,
        win_revision=revision,
    )
    event = DealWon.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        amount=won.amount,
        close_date=won.close_date,
        registered_by=deal.registered_by,
        products=list(deal.products),
        win_revision=revision,
        prospect_name=deal.prospect.company_name,
    )
    return closed, event


def reverse_win(
    deal: Deal, *, reason: str, reversed_by: str, now: datetime, new_id: NewId
) -> tuple[Deal, DealWinReversed]:
    """A vendor withdraws the current win: the deal waits (`win_reversed`) for the partner to mark it won again with
    the corrected amount (or lost); the win's amount and close date stay in `win_reversal` and the timeline."""
    if deal.status != "won" or deal.won is None:
        raise Conflict(
            f"Only a won deal's win can be reversed; this deal is {deal.status}.",
            code="invalid_state",
            errors=[FieldError("status", f"is {deal.status}, not won")],
        )
    previous = deal.won
    reversal = WinReversal(
        win_revision=deal.win_revision,
        reason=reason,
        reversed_by=reversed_by,
        reversed_at=now,
        previous_amount=previous.amount,
        previous_close_date=previous.close_date,
    )
    reversed_ = _with(
        deal,
        now,
        "win_reversed",
        f"Win of {format_money(previous.amount)} reversed by {reversed_by}: {reason}",
        status="win_reversed",
        won=None,
        win_reversal=reversal,
    )
    event = DealWinReversed.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        win_revision=deal.win_revision,
        reason=reason,
        reversed_by=reversed_by,
        previous_amount=previous.amount,
    )
    return reversed_, event


def mark_lost(deal: Deal, reason: str, now: datetime, new_id: NewId) -> tuple[Deal, DealLost]:
    _require_closable(deal, now)
    closed = _with(deal, now, "lost", reason, status="lost", lost_reason=reason)
    event = DealLost.occurred(
        at=now, event_id=new_id("evt"), partner_id=deal.partner_id, deal_id=deal.deal_id, reason=reason
    )
    return closed, event


def request_extension(
    deal: Deal, justification: str, *, max_extensions: int, now: datetime, new_id: NewId
) -> tuple[Deal, DealExtensionRequested]:
    _require_protected(deal, now)
    if deal.extension_pending:
        raise InvalidState("An extension request is already waiting for a decision.")
    if deal.extensions_used >= max_extensions:
        raise InvalidState(f"This deal already had the maximum of {max_extensions} extensions.")
    pending = _with(deal, now, "extension_requested", justification, extension_pending=True)
    event = DealExtensionRequested.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        justification=justification,
        extension_number=deal.extensions_used + 1,
    )
    return pending, event


def grant_extension(
    deal: Deal, *, decided_by: str, extension: timedelta, now: datetime, new_id: NewId
) -> tuple[Deal, DealExtended]:
    if not deal.extension_pending or deal.status != "approved" or deal.protection_ends_at is None:
        raise InvalidState("No extension is waiting for a decision.")
    ends = deal.protection_ends_at + extension
    extended = _with(
        deal,
        now,
        "extension_granted",
        f"Extended by {decided_by} until {iso(ends)}.",
        extension_pending=False,
        extensions_used=deal.extensions_used + 1,
        protection_ends_at=ends,
    )
    event = DealExtended.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        protection_ends_at=ends,
        extensions_used=extended.extensions_used,
        approved_by=decided_by,
    )
    return extended, event


def refuse_extension(
    deal: Deal, *, reason: str, decided_by: str, now: datetime, new_id: NewId
) -> tuple[Deal, DealExtensionRefused]:
    """The waiting extension request is refused (or lapsed): protection keeps its end, the partner is told."""
    if not deal.extension_pending or deal.protection_ends_at is None:
        raise InvalidState("No extension is waiting for a decision.")
    refused = _with(deal, now, "extension_refused", reason, extension_pending=False)
    event = DealExtensionRefused.occurred(
        at=now,
        event_id=new_id("evt"),
        partner_id=deal.partner_id,
        deal_id=deal.deal_id,
        extension_number=deal.extensions_used + 1,
        reason=reason,
        decided_by=decided_by,
        protection_ends_at=deal.protection_ends_at,
    )
    return refused, event


def expire(deal: Deal, *, ended_at: datetime, now: datetime, new_id: NewId) -> tuple[Deal, DealExpired]:
    """Only the timer of the deal's current end date expires it (an extension makes older timers stale)."""
    if deal.status != "approved" or deal.protection_ends_at != ended_at:
        raise InvalidState("This deal is not at the end of its protection.")
    if ended_at > now:
        raise NotYetDue(f"protection of {deal.deal_id} ends at {iso(ended_at)}")
    expired = _with(deal, now, "expired", "Protection ended without a win, loss or extension.", status="expired")
    event = DealExpired.occurred(
        at=now, event_id=new_id("evt"), partner_id=deal.partner_id, deal_id=deal.deal_id, protection_ended_at=ended_at
    )
    return expired, event


def next_step(deal: Deal) -> tuple[str, datetime | None]:
    """What happens next and by when: the line every list shows."""
    if deal.status == "submitted":
        return "Awaiting review", None
    if deal.status == "under_review":
        return "Channel manager is reviewing", None
    if deal.status == "approved":
        if deal.extension_pending:
            return "Extension request under review", deal.protection_ends_at
        return "Close it (won or lost) or request an extension before protection ends", deal.protection_ends_at
    if deal.status == "win_reversed":
        return "Win reversed by the vendor: mark it won again with the corrected amount, or lost", None
    return "No further action", None


def prospect_status(holders: list[Protection], now: datetime) -> dict[str, str]:
    """The pre-check answer: available, or protected until a date; never who holds it."""
    live = [h for h in holders if h.protection_ends_at > now]
    if not live:
        return {"status": "available"}
    return {"status": "protected", "protected_until": iso(max(h.protection_ends_at for h in live))}


# ------------------------------------------------------------------ what the queue side acts on
def awaits_review(deal: Deal) -> bool:
    """A replayed DealRegistered of a deal decided long ago starts no review."""
    return deal.status in ("submitted", "under_review")


def extension_awaits_review(deal: Deal, extension_number: int) -> bool:
    """The extension request is still the one waiting (not decided, not a later one)."""
    return deal.extension_pending and deal.extensions_used + 1 == extension_number


def extension_is_current(deal: Deal, extensions_used: int) -> bool:
    """The deal is still approved at exactly that extension (a replayed DealExtended of a later state is not)."""
    return deal.status == "approved" and deal.extensions_used == extensions_used


def extension_refusal_is_current(deal: Deal, extension_number: int, refused_at: datetime) -> bool:
    """The deal still shows that refusal: approved (or since expired: the partner still learns why), that request was
    its last extension step (no later request or grant), refused at that moment (a request refused, asked again and
    refused again is two refusals). A deal since won or lost needs no notice."""
    steps = [entry for entry in deal.timeline if entry.status.startswith("extension_")]
    return (
        deal.status in ("approved", "expired")
        and not deal.extension_pending
        and deal.extensions_used + 1 == extension_number
        and bool(steps)
        and steps[-1].status == "extension_refused"
        and iso(steps[-1].at) == iso(refused_at)
    )


def reminder_is_current(deal: Deal, protection_ends_at: datetime) -> bool:
    """A reminder of a timer set for another end date (extended) or of a closed deal is stale."""
    return deal.status == "approved" and deal.protection_ends_at == protection_ends_at


Timer = list[tuple[datetime, ProtectionReminder | ProtectionEnded]]


def protection_timer(deal_id: str, ends: datetime, offsets: list[int], now: datetime) -> Timer:
    """The reminders before the end (skipping those already past), then the end itself, each at its time. Every
    message carries the end date it was set for, so an extended deal's older timer changes nothing."""
    timer: Timer = []
    for offset in sorted(offsets, reverse=True):
        at = ends - timedelta(seconds=offset)
        if at > now:
            days_left = max(1, round(offset / 86400))
            timer.append(
                (
                    at,
                    ProtectionReminder(
                        message_type="ProtectionReminder",
                        deal_id=deal_id,
                        protection_ends_at=ends,
                        days_left=days_left,
                        offset_seconds=offset,
                    ),
                )
            )
    timer.append((ends, ProtectionEnded(message_type="ProtectionEnded", deal_id=deal_id, protection_ends_at=ends)))
    return timer
