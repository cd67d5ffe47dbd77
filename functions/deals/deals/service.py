"""Deal registration use cases: load, apply a rule, save conditionally. Adapters are injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deals import domain
from deals.models import (
    Deal,
    DealDecision,
    PartnerProjection,
    Product,
    ProductRequest,
    RegisterDealRequest,
    Stage,
    Won,
)
from deals.prospects import company_key, domain_key
from deals.repository import DealsRepository, DuplicateOpenRegistration, ProtectionHeld, StaleDeal
from shared.clock import Clock, utc_now
from shared.dynamo import ConditionFailed
from shared.errors import Conflict, FieldError, ValidationFailed
from shared.http import Principal
from shared.ids import new_id

ATTEMPTS = 3  # optimistic-locking retries when two changes race on one deal


@dataclass
class DealsService:
    repository: DealsRepository
    clock: Clock = utc_now

    # ------------------------------------------------------------- catalogue and pre-check
    def products(self) -> list[Product]:
        return sorted(self.repository.products(), key=lambda p: p.sku)

    def add_product(self, principal: Principal, request: ProductRequest) -> Product:
        if not principal.in_group("vendor-admin"):
            from shared.errors import Forbidden

            raise Forbidden("Only vendor administrators manage the product list.")
        product = Product(sku=request.sku, name=request.name, family=request.family)
        try:
            self.repository.add_product(product)
        except ConditionFailed as failure:
            raise Conflict(f"{request.sku} already exists.", errors=[FieldError("sku", "already exists")]) from failure
        return product

    def prospect_check(self, principal: Principal, website: str | None, company: str | None) -> dict[str, str]:
        domain.ensure_can_register(principal, self.repository.partner(principal.partner_id or ""))
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
        return domain.prospect_status(self.repository.protections(domain_value, company_value), self.clock())

    # ------------------------------------------------------------- partner side
    def register(self, principal: Principal, request: RegisterDealRequest) -> Deal:
        partner_id = domain.ensure_can_register(principal, self.repository.partner(principal.partner_id or ""))
        deal, event = domain.register(
            request,
            partner_id=partner_id,
            registered_by=principal.email,
            known_products={p.sku for p in self.repository.products_named(request.products)},
            by_domain=self.repository.registrations("D", domain_key(request.prospect.website)),
            by_company=self.repository.registrations("C", company_key(request.prospect.company_name)),
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

    def _change(self, principal: Principal | None, deal_id: str, change: Any, **save: Any) -> Deal:
        """Apply `change(deal) -> (deal, events)` with optimistic locking, retrying when another change won the race."""
        for _ in range(ATTEMPTS):
            deal = self.repository.get(deal_id)
            if principal is not None:
                deal = domain.ensure_own(principal, deal)
            if deal is None:
                raise LookupError(deal_id)
            updated, events = change(deal)
            try:
                self.repository.save(updated, events, now=self.clock(), **save)
            except StaleDeal:
                continue
            return updated
        raise Conflict("The deal is changing right now; try again.")

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

    # ------------------------------------------------------------- workflow side
    def mark_under_review(self, deal_id: str, reviewer: str) -> Deal:
        return self._change(None, deal_id, lambda d: (domain.under_review(d, reviewer, self.clock()), []))

    def apply_decision(self, decision: DealDecision, *, protection: timedelta, extension: timedelta) -> str:
        """Apply a registration or extension decision once; repeats and late duplicates change nothing."""
        deal = self.repository.get(decision.deal_id)
        if deal is None:
            raise LookupError(decision.deal_id)
        now = self.clock()
        try:
            if decision.purpose == "extension":
                if decision.decision == "approved":
                    self._change(
                        None,
                        deal.deal_id,
                        lambda d: _one(
                            domain.grant_extension(
                                d, decided_by=decision.decided_by, extension=extension, now=now, new_id=new_id
                            )
                        ),
                        protect=True,
                    )
                    return "extended"
                reason = decision.reason or "Extension refused."
                self._change(None, deal.deal_id, lambda d: (domain.refuse_extension(d, reason=reason, now=now), []))
                return "extension refused"
            if decision.decision == "rejected":
                self._change(
                    None,
                    deal.deal_id,
                    lambda d: _one(
                        domain.reject(
                            d,
                            reason=decision.reason or "Rejected.",
                            decided_by=decision.decided_by,
                            now=now,
                            new_id=new_id,
                        )
                    ),
                    release=True,
                )
                return "rejected"
            automatic = decision.decided_by == "automatic approval"
            try:
                self._change(
                    None,
                    deal.deal_id,
                    lambda d: _one(
                        domain.approve(
                            d,
                            decided_by=decision.decided_by,
                            automatic=automatic,
                            protection=protection,
                            now=now,
                            new_id=new_id,
                        )
                    ),
                    protect=True,
                )
                return "approved"
            except ProtectionHeld:
                holders = self.repository.protections(deal.prospect.domain, deal.prospect.company_key)
                live = [h for h in holders if h.deal_id != deal.deal_id and h.protection_ends_at > now]
                reason = domain.protected_by_other(live[0]) if live else "Another registration was approved first."
                self._change(
                    None,
                    deal.deal_id,
                    lambda d: _one(
                        domain.reject(d, reason=reason, decided_by="first approved wins", now=now, new_id=new_id)
                    ),
                    release=True,
                )
                return "rejected: prospect already protected"
        except domain.InvalidState:
            return "already decided"

    def expire(self, deal_id: str, ended_at: datetime) -> str:
        try:
            self._change(
                None,
                deal_id,
                lambda d: _one(domain.expire(d, ended_at=ended_at, now=self.clock(), new_id=new_id)),
                release=True,
            )
        except domain.InvalidState:
            return "not expiring (closed, extended or not yet due)"
        return "expired"

    def approval_lapsed(self, deal_id: str, purpose: str) -> str:
        """Nobody decided in time: a registration is rejected as lapsed, an extension request refused."""
        now = self.clock()
        note = "Nobody decided in time; please contact your channel manager."
        try:
            if purpose == "extension":
                self._change(None, deal_id, lambda d: (domain.refuse_extension(d, reason=note, now=now), []))
            else:
                self._change(
                    None,
                    deal_id,
                    lambda d: _one(domain.reject(d, reason=note, decided_by="workflow", now=now, new_id=new_id)),
                    release=True,
                )
        except domain.InvalidState:
            return "already decided"
        return "lapsed"

    def project_partner(self, partner: PartnerProjection) -> str:
        return "projected" if self.repository.project_partner(partner) else "older or repeated event"


def _one(result: tuple[Deal, Any]) -> tuple[Deal, list[Any]]:
    deal, event = result
    return deal, [event]
