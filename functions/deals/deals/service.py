"""Deal registration use cases on ports: load, apply a domain rule, save conditionally; mail and start workflows.

`DealsService` is what the API calls (partners and vendor staff); `DealWorkflowService` what deals' queue runs
(reviews and their decisions, protection timers and notices, the partner projection). Both depend on the Protocols
of `deals.ports` only; the adapters are wired in the `service()` factories of `deals.api` and `deals.consumers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from deals import domain
from deals.models import (
    Deal,
    DealApprovalExpired,
    DealDecision,
    NewDeal,
    PartnerProjection,
    Product,
    ProductRequest,
    ProtectionEnded,
    ProtectionReminder,
    Purpose,
    Review,
    ReviewMode,
    Stage,
    TierChange,
    Won,
)
from deals.ports import DuplicateOpenRegistration, ProtectionHeld, StaleDeal
from deals.prospects import company_key, domain_key
from shared.clock import Clock, iso, utc_now
from shared.errors import Conflict, FieldError
from shared.ids import new_id
from shared.retry import attempts

if TYPE_CHECKING:
    from deals.ports import DealNotices, DealsRepository, DealWorkflows, Mailer, SideEffectLedger
    from shared.events import EventDetail
    from shared.mail import Email
    from shared.principal import Principal

ATTEMPTS = 3  # optimistic-locking attempts when two changes race on one deal
Change = Callable[[Deal], tuple[Deal, Sequence["EventDetail"]]]


def _load(repository: DealsRepository, deal_id: str) -> Deal:
    deal = repository.get(deal_id)
    if deal is None:
        raise LookupError(f"deal {deal_id} not found")
    return deal


def _change(
    repository: DealsRepository,
    clock: Clock,
    deal_id: str,
    change: Change,
    *,
    principal: Principal | None = None,
    protect: bool = False,
    release: bool = False,
) -> Deal:
    """Apply `change(deal) -> (deal, events)` with optimistic locking, retrying (jittered) when another change won the
    race; `principal` limits it to the caller's own deals; `protect`/`release` as in the repository's `save`."""
    for _ in attempts(ATTEMPTS):
        deal = (
            _load(repository, deal_id) if principal is None else domain.ensure_own(principal, repository.get(deal_id))
        )
        updated, events = change(deal)
        if updated == deal and not events:
            return deal  # nothing to change (a concurrent identical request got there first): not a conflict
        try:
            repository.save(updated, events, now=clock(), protect=protect, release=release)
        except StaleDeal:
            continue
        return updated
    raise Conflict("The deal is changing right now; try again.")


def _one(result: tuple[Deal, EventDetail]) -> tuple[Deal, list[EventDetail]]:
    deal, event = result
    return deal, [event]


@dataclass
class DealsService:
    """The API's use cases: the product list, the pre-check, registering and working one's own deals."""

    repository: DealsRepository
    clock: Clock = utc_now

    def admit(self, principal: Principal) -> Principal:
        """A partner user acts only once they accepted the current programme agreement (agreement_required)."""
        self.repository.require_accepted(principal)
        return principal

    # ------------------------------------------------------------- catalogue and pre-check
    def products(self) -> list[Product]:
        return sorted(self.repository.products(), key=lambda p: p.sku)

    def add_product(self, principal: Principal, request: ProductRequest) -> Product:
        domain.ensure_manages_products(principal)
        product = Product(sku=request.sku, name=request.name, family=request.family)
        if not self.repository.add_product(product):
            raise Conflict(f"{request.sku} already exists.", errors=[FieldError("sku", "already exists")])
        return product

    def _registering_partner(self, principal: Principal) -> str:
        return domain.ensure_can_register(principal, self.repository.partner(principal.partner_id or ""))

    def prospect_check(self, principal: Principal, website: str | None, company: str | None) -> dict[str, str]:
        self._registering_partner(principal)
        domain_value, company_value = domain.prospect_keys(website, company)
        return domain.prospect_status(self.repository.protections(domain_value, company_value), self.clock())

    # ------------------------------------------------------------- a partner's deals
    def register(self, principal: Principal, request: NewDeal) -> Deal:
        partner_id = self._registering_partner(principal)
        deal, event = domain.register(
            request,
            partner_id=partner_id,
            registered_by=principal.email,
            known_products={p.sku for p in self.repository.products_named(request.products)},
            by_domain=self.repository.registrations("D", domain_key(request.website)),
            by_company=self.repository.registrations("C", company_key(request.company_name)),
            now=self.clock(),
            new_id=new_id,
        )
        try:
            self.repository.create(deal, event)
        except DuplicateOpenRegistration as duplicate:
            field = "prospect.website" if duplicate.key == "domain" else "prospect.company_name"
            raise Conflict(
                "You already have an open registration for this prospect.",
                code="duplicate_registration",
                errors=[FieldError(field, "already registered by you")],
            ) from duplicate
        return deal

    def get(self, principal: Principal, deal_id: str) -> Deal:
        return domain.ensure_own(principal, self.repository.get(deal_id))

    def list(
        self, principal: Principal, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Deal], str | None]:
        if principal.partner_id is None:
            return [], None
        return self.repository.list(principal.partner_id, status=status, limit=limit, cursor=cursor)

    def _change(self, principal: Principal, deal_id: str, change: Change, *, release: bool = False) -> Deal:
        return _change(self.repository, self.clock, deal_id, change, principal=principal, release=release)

    def set_stage(self, principal: Principal, deal_id: str, stage: Stage) -> Deal:
        current = domain.ensure_own(principal, self.repository.get(deal_id))
        if domain.set_stage(current, stage, self.clock()) is None:
            return current  # already at that stage: nothing changes
        return self._change(principal, deal_id, lambda d: (domain.set_stage(d, stage, self.clock()) or d, []))

    def mark_won(self, principal: Principal, deal_id: str, won: Won) -> Deal:
        return self._change(
            principal, deal_id, lambda d: _one(domain.mark_won(d, won, self.clock(), new_id)), release=True
        )

    def mark_lost(self, principal: Principal, deal_id: str, reason: str) -> Deal:
        return self._change(
            principal, deal_id, lambda d: _one(domain.mark_lost(d, reason, self.clock(), new_id)), release=True
        )

    def reverse_win(self, principal: Principal, deal_id: str, reason: str) -> Deal:
        """Vendor staff withdraw the deal's current win (DealWinReversed, in the deal's conditional write); the
        partner marks it won again with the corrected amount. Partners are refused before the deal is read."""
        domain.ensure_vendor(principal, "reverse a won deal")
        return self._change(
            principal,
            deal_id,
            lambda d: _one(
                domain.reverse_win(d, reason=reason, reversed_by=principal.email, now=self.clock(), new_id=new_id)
            ),
        )

    def request_extension(self, principal: Principal, deal_id: str, justification: str, max_extensions: int) -> Deal:
        return self._change(
            principal,
            deal_id,
            lambda d: _one(
                domain.request_extension(
                    d, justification, max_extensions=max_extensions, now=self.clock(), new_id=new_id
                )
            ),
        )


LAPSED = "Nobody decided in time; please contact your channel manager."


@dataclass
class DealWorkflowService:
    """What deals' queue runs: reviews and their decisions, protection timers and notices, the partner projection.

    Side effects check the deal's current state and record themselves beside it (`effects`): the bus archive can
    replay an event after the de-duplication records expired (DealApproved of a deal since won must not mail)."""

    repository: DealsRepository
    workflows: DealWorkflows
    mailer: Mailer
    notices: DealNotices
    effects: SideEffectLedger
    terms: domain.DealTerms
    clock: Clock = utc_now

    def project_partner(self, partner: PartnerProjection) -> str:
        return "projected" if self.repository.project_partner(partner) else "older or repeated event"

    def project_tier(self, change: TierChange) -> str:
        """The partner's tier, which sets its automatic approval limits; older or repeated changes change nothing."""
        tier = domain.project_tier(self.repository.partner_tier(change.partner_id), change)
        if tier is None or not self.repository.project_tier(tier):
            return "older or repeated tier change"
        return f"tier {tier.tier_id} projected"

    def _change(self, deal_id: str, change: Change, *, protect: bool = False, release: bool = False) -> Deal:
        return _change(self.repository, self.clock, deal_id, change, protect=protect, release=release)

    # ------------------------------------------------------------- reviews
    def _review(
        self, deal: Deal, purpose: Purpose, mode: ReviewMode, *, note: str = "", request_id: str = "0"
    ) -> Review:
        """What the channel manager of the partner's region sees: the deal and each conflict's evidence."""
        partner = self.repository.partner(deal.partner_id)
        conflicting = {c.deal_id: d for c in deal.conflicts if (d := self.repository.get(c.deal_id))}
        partner_ids = {deal.partner_id} | {d.partner_id for d in conflicting.values()}
        names = {p: known.company_name for p in partner_ids if (known := self.repository.partner(p))}
        return Review(
            deal=deal,
            purpose=purpose,
            mode=mode,
            partner_country=partner.country if partner else deal.prospect.country,
            now=self.clock(),
            conflicting=conflicting,
            partner_names=names,
            note=note,
            request_id=request_id,
        )

    def review_registration(self, deal_id: str) -> str:
        """Start the approval workflow: automatic, or a channel manager (the deal is then under review)."""
        deal = _load(self.repository, deal_id)
        if not domain.awaits_review(deal):
            return f"no review: the deal is {deal.status}"
        tier = self.repository.partner_tier(deal.partner_id)
        mode = domain.review_mode(deal, self.terms.auto_approve_limits, tier.tier_id if tier else None)
        review = self._review(deal, "registration", mode)
        if review.mode == "manual" and deal.status == "submitted":
            reviewer = self.workflows.reviewer(review.partner_country)
            review = replace(review, deal=self.mark_under_review(deal.deal_id, reviewer))
        return self.workflows.start_review(review)

    def review_extension(self, deal_id: str, *, extension_number: int, justification: str, request_id: str) -> str:
        deal = _load(self.repository, deal_id)
        if not domain.extension_awaits_review(deal, extension_number):
            return "no extension review: that request was decided"
        review = self._review(deal, "extension", "manual", note=justification, request_id=request_id)
        return self.workflows.start_review(review)

    def mark_under_review(self, deal_id: str, reviewer: str) -> Deal:
        return self._change(deal_id, lambda d: (domain.under_review(d, reviewer, self.clock()), []))

    # ------------------------------------------------------------- decisions
    def apply_decision(self, decision: DealDecision) -> str:
        """Apply a registration or extension decision once; repeats and late duplicates change nothing."""
        apply = {
            ("registration", "approved"): self._approve,
            ("registration", "rejected"): self._reject,
            ("extension", "approved"): self._extend,
            ("extension", "rejected"): self._refuse_extension,
        }[decision.purpose, decision.decision]
        try:
            return apply(decision, self.clock())
        except domain.InvalidState:
            return "already decided"

    def _approve(self, decision: DealDecision, now: datetime) -> str:
        try:
            self._change(
                decision.deal_id,
                lambda d: _one(
                    domain.approve(
                        d,
                        decided_by=decision.decided_by,
                        automatic=decision.automatic,
                        protection=self.terms.protection,
                        now=now,
                        new_id=new_id,
                    )
                ),
                protect=True,
            )
        except ProtectionHeld:
            deal = _load(self.repository, decision.deal_id)
            holders = self.repository.protections(deal.prospect.domain, deal.prospect.company_key)
            self._close_unapproved(deal.deal_id, domain.approved_first(deal, holders, now), "first approved wins", now)
            return "rejected: prospect already protected"
        return "approved"

    def _reject(self, decision: DealDecision, now: datetime) -> str:
        self._close_unapproved(decision.deal_id, decision.reason or "Rejected.", decision.decided_by, now)
        return "rejected"

    def _close_unapproved(self, deal_id: str, reason: str, decided_by: str, now: datetime) -> Deal:
        return self._change(
            deal_id,
            lambda d: _one(domain.reject(d, reason=reason, decided_by=decided_by, now=now, new_id=new_id)),
            release=True,
        )

    def _extend(self, decision: DealDecision, now: datetime) -> str:
        extension = self.terms.extension
        self._change(
            decision.deal_id,
            lambda d: _one(
                domain.grant_extension(d, decided_by=decision.decided_by, extension=extension, now=now, new_id=new_id)
            ),
            protect=True,
        )
        return "extended"

    def _refuse_extension(self, decision: DealDecision, now: datetime) -> str:
        self._refuse(decision.deal_id, decision.reason or "Extension refused.", decision.decided_by, now)
        return "extension refused"

    def _refuse(self, deal_id: str, reason: str, decided_by: str, now: datetime) -> Deal:
        """Refused or lapsed: the deal and its DealExtensionRefused (the partner's notice) in one write."""
        return self._change(
            deal_id,
            lambda d: _one(domain.refuse_extension(d, reason=reason, decided_by=decided_by, now=now, new_id=new_id)),
        )

    def approval_lapsed(self, lapsed: DealApprovalExpired) -> str:
        """Nobody decided in time: a registration is rejected as lapsed, an extension request refused."""
        now = self.clock()
        try:
            if lapsed.purpose == "extension":
                self._refuse(lapsed.deal_id, LAPSED, "workflow", now)
            else:
                self._close_unapproved(lapsed.deal_id, LAPSED, "workflow", now)
        except domain.InvalidState:
            return "already decided"
        return "lapsed"

    # ------------------------------------------------------------- notices and the protection timer
    def _once(self, deal: Deal, key: str, email: Email, *, start_timer: bool = False) -> str:
        """Mail (and start the protection timer) once per deal and key, whatever replays the event."""

        def effect() -> str:
            timer = self.workflows.start_protection_timer(deal, self.clock()) if start_timer else None
            sent = self.mailer.send(email)
            return timer or sent

        return self.effects.once(f"DEAL#{deal.deal_id}", key, effect)

    def announce_decision(self, deal_id: str, decision: Literal["approved", "rejected"]) -> str:
        """Tell the partner user the decision (and start the timer of an approval), if the deal is still so."""
        deal = _load(self.repository, deal_id)
        if deal.status != decision:
            notice = "approval" if decision == "approved" else "rejection"
            return f"no {notice} notice: the deal is {deal.status}"
        email = self.notices.decided(deal)
        return self._once(deal, decision, email, start_timer=decision == "approved")

    def announce_extension(self, deal_id: str, extensions_used: int) -> str:
        deal = _load(self.repository, deal_id)
        if not domain.extension_is_current(deal, extensions_used):
            return f"no extension notice: the deal is {deal.status}, extensions {deal.extensions_used}"
        email = self.notices.extended(deal)
        return self._once(deal, f"extended:{extensions_used}", email, start_timer=True)

    def announce_extension_refusal(
        self, deal_id: str, *, extension_number: int, refused_at: datetime, reason: str
    ) -> str:
        """Tell the partner user an extension was not granted, once per refusal, if the deal still shows it."""
        deal = _load(self.repository, deal_id)
        if not domain.extension_refusal_is_current(deal, extension_number, refused_at):
            return f"no refusal notice: the deal is {deal.status}, extensions {deal.extensions_used}"
        email = self.notices.extension_refused(deal, reason)
        return self._once(deal, f"extension_refused:{extension_number}:{iso(refused_at)}", email)

    def remind(self, reminder: ProtectionReminder) -> str:
        deal = _load(self.repository, reminder.deal_id)
        if not domain.reminder_is_current(deal, reminder.protection_ends_at):
            return "stale reminder (closed or extended)"
        # timers deliver at least once: one reminder per protection end date and offset, whatever is redelivered
        which = f"{reminder.offset_seconds}s" if reminder.offset_seconds is not None else str(reminder.days_left)
        key = f"reminder:{reminder.protection_ends_at.isoformat()}:{which}"
        return self._once(deal, key, self.notices.protection_ending(deal, reminder.days_left))

    def expire(self, ended: ProtectionEnded) -> str:
        """Only the timer of the deal's current end date expires it; one that arrives early is retried (NotYetDue)."""
        try:
            self._change(
                ended.deal_id,
                lambda d: _one(domain.expire(d, ended_at=ended.protection_ends_at, now=self.clock(), new_id=new_id)),
                release=True,
            )
        except domain.InvalidState:
            return "not expiring (closed, extended or not yet due)"
        return "expired"
