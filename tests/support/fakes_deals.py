"""In-memory fake of deals' repository port (`deals.ports.DealsRepository`), for service tests without AWS or moto.

It keeps the conditions the DynamoDB adapter writes with, so the service meets the same refusals:
- one open registration per partner and prospect key (`DuplicateOpenRegistration`, until the deal is closed);
- first approved wins: a protection claim is taken only if nobody else holds an unexpired one (`ProtectionHeld`);
- optimistic locking: a deal is saved only at the revision after the one stored (`StaleDeal`);
and every write is all or nothing, with its events in `outbox`. The agreement gate is the kernel's own rule
(`contracts.onboarding_agreement_gate.require_accepted`) over the same two items the adapter's table holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from deals.models import OPEN_STATUSES, Deal, PartnerProjection, PartnerTier, Product, Protection, Registration
from deals.ports import DuplicateOpenRegistration, ProtectionHeld, StaleDeal
from shared.errors import FieldError, ValidationFailed
from shared.events import EventDetail
from shared.principal import Principal
from tests.support.fakes import keep_newer

KINDS = (("D", "domain"), ("C", "company"))


def _keys(deal: Deal) -> list[tuple[str, str]]:
    return [("D", deal.prospect.domain), ("C", deal.prospect.company_key)]


@dataclass
class _AgreementItems:
    """The `AGREEMENT` items, read by the kernel's gate as the adapter's table would answer them."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.items.get((pk, sk))


@dataclass
class FakeDealsRepository:
    deals: dict[str, Deal] = field(default_factory=dict)
    partners: dict[str, PartnerProjection] = field(default_factory=dict)
    tiers: dict[str, PartnerTier] = field(default_factory=dict)
    catalogue: dict[str, Product] = field(default_factory=dict)
    open_claims: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (partner, kind, key) -> deal
    protected: dict[tuple[str, str], Protection] = field(default_factory=dict)  # (kind, key) -> holder
    outbox: list[EventDetail] = field(default_factory=list)
    agreement: _AgreementItems = field(default_factory=_AgreementItems)
    reads: int = 0  # deals read by id (a retry reads again)

    # ------------------------------------------------------------- test set-up
    def publish_agreement(self, version: str) -> None:
        self.agreement.items[agreements.PK, "CURRENT"] = {"version": version}

    def accept_agreement(self, version: str, sub: str) -> None:
        self.agreement.items[agreements.PK, f"ACCEPTED#{version}#{sub}"] = {"sub": sub}

    def events(self, detail_type: str) -> list[EventDetail]:
        return [e for e in self.outbox if type(e).__name__ == detail_type]

    # ------------------------------------------------------------- the port
    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.agreement, principal)  # type: ignore[arg-type]

    def partner(self, partner_id: str) -> PartnerProjection | None:
        return self.partners.get(partner_id)

    def project_partner(self, partner: PartnerProjection) -> bool:
        return keep_newer(self.partners, partner.partner_id, partner, lambda p: p.as_of)

    def partner_tier(self, partner_id: str) -> PartnerTier | None:
        return self.tiers.get(partner_id)

    def project_tier(self, tier: PartnerTier) -> bool:
        return keep_newer(self.tiers, tier.partner_id, tier, lambda t: t.tier_order)

    def products(self) -> list[Product]:
        return list(self.catalogue.values())

    def products_named(self, skus: Sequence[str]) -> list[Product]:
        return [self.catalogue[sku] for sku in skus if sku in self.catalogue]

    def add_product(self, product: Product) -> bool:
        if product.sku in self.catalogue:
            return False
        self.catalogue[product.sku] = product
        return True

    def registrations(self, kind: str, key: str) -> list[Registration]:
        """Open deals under one prospect key, as the adapter's index holds them (a closed deal leaves it)."""
        return [
            Registration(
                deal_id=d.deal_id, partner_id=d.partner_id, status=d.status, protection_ends_at=d.protection_ends_at
            )
            for d in self.deals.values()
            if d.status in OPEN_STATUSES and (kind, key) in _keys(d)
        ]

    def protections(self, domain: str | None, company: str | None) -> list[Protection]:
        return [p for kind, key in (("D", domain), ("C", company)) if key and (p := self.protected.get((kind, key)))]

    def get(self, deal_id: str) -> Deal | None:
        self.reads += 1
        return self.deals.get(deal_id)

    def create(self, deal: Deal, event: EventDetail) -> None:
        for (kind, key), (_, name) in zip(_keys(deal), KINDS, strict=True):
            if (deal.partner_id, kind, key) in self.open_claims:
                raise DuplicateOpenRegistration(name)
        for kind, key in _keys(deal):
            self.open_claims[deal.partner_id, kind, key] = deal.deal_id
        self.deals[deal.deal_id] = deal
        self.outbox.append(event)

    def save(
        self,
        deal: Deal,
        events: Sequence[EventDetail] = (),
        *,
        protect: bool = False,
        release: bool = False,
        now: datetime | None = None,
    ) -> None:
        stored = self.deals.get(deal.deal_id)
        if stored is None or stored.revision != deal.revision - 1:
            raise StaleDeal(deal.deal_id)
        at = now or deal.decided_at or deal.submitted_at
        claim = protect and deal.protection_ends_at is not None
        if claim and any(
            (holder := self.protected.get(k)) and holder.deal_id != deal.deal_id and holder.protection_ends_at > at
            for k in _keys(deal)
        ):
            raise ProtectionHeld(deal.deal_id)
        # every condition held: write all of it
        if claim:
            assert deal.protection_ends_at is not None
            holder = Protection(
                deal_id=deal.deal_id, partner_id=deal.partner_id, protection_ends_at=deal.protection_ends_at
            )
            for k in _keys(deal):
                self.protected[k] = holder
        if release:
            for kind, key in _keys(deal):
                if (held := self.protected.get((kind, key))) and held.deal_id == deal.deal_id:
                    del self.protected[kind, key]
                self.open_claims.pop((deal.partner_id, kind, key), None)
        self.deals[deal.deal_id] = deal
        self.outbox.extend(events)

    def list(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Deal], str | None]:
        """Newest first; the cursor is bound to the partner and filter, as the adapter's is."""
        scope = f"{partner_id}|{status or ''}|"
        if cursor is not None and not cursor.startswith(scope):
            raise ValidationFailed("The cursor is not valid.", [FieldError("cursor", "not valid")])
        start = int(cursor.removeprefix(scope)) if cursor else 0
        mine = sorted(
            (d for d in self.deals.values() if d.partner_id == partner_id and status in (None, d.status)),
            key=lambda d: (d.submitted_at, d.deal_id),
            reverse=True,
        )
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return page, (f"{scope}{start + limit}" if more else None)
