"""Deals' DynamoDB adapter of the repository port (`deals.ports.DealsRepository`): deals, prospect indexes,
protection claims, the partner projection (profile and tier), the product list and the agreement gate's projection.

Keys: `DEAL#<id>` (GSIs by partner, and by partner+status, newest first); `PROSPECT#D|C#<key>` / `DEAL#<id>`
(registrations per normalised prospect: conflict checks read one partition, whatever the table's size);
`OPEN#<partner>#D|C#<key>` (one open registration per partner and prospect, even under concurrent requests);
`PROTECTED#D|C#<key>` (the single approved, unexpired holder: first approved wins by a conditional write);
`PARTNER#<id>` / `PROFILE` and `TIER` (the partner projection: from onboarding's and from the tiers context's events).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from deals.models import OPEN_STATUSES, Deal, PartnerProjection, PartnerTier, Product, Protection, Registration
from deals.ports import DuplicateOpenRegistration, ProtectionHeld, StaleDeal
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item
from shared.principal import Principal


def _keys(deal: Deal) -> list[tuple[str, str]]:
    return [("D", deal.prospect.domain), ("C", deal.prospect.company_key)]


class DealsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.table, principal)

    # ------------------------------------------------------------- projection and catalogue
    def partner(self, partner_id: str) -> PartnerProjection | None:
        item = self.table.get(f"PARTNER#{partner_id}", "PROFILE")
        return PartnerProjection.model_validate(item) if item else None

    def project_partner(self, partner: PartnerProjection) -> bool:
        """Keep the newest view of a partner; an older or repeated event changes nothing (reordering-safe)."""
        return self.table.put_newer(
            {"pk": f"PARTNER#{partner.partner_id}", "sk": "PROFILE", "entity": "partner"}
            | partner.model_dump(mode="json"),
            order="as_of",
            value=iso(partner.as_of),
        )

    def partner_tier(self, partner_id: str) -> PartnerTier | None:
        item = self.table.get(f"PARTNER#{partner_id}", "TIER")
        return PartnerTier.model_validate(item) if item else None

    def project_tier(self, tier: PartnerTier) -> bool:
        """Keep the tier change only if it comes after the one kept (`tier_order`): redelivered or reordered changes
        change nothing."""
        return self.table.put_newer(
            {"pk": f"PARTNER#{tier.partner_id}", "sk": "TIER", "entity": "partner_tier"} | tier.model_dump(mode="json"),
            order="tier_order",
            value=tier.tier_order,
        )

    def products(self) -> list[Product]:
        return [Product.model_validate(i) for i in self.table.query_all("CATALOGUE", sk_prefix="PRODUCT#")]

    def products_named(self, skus: Sequence[str]) -> list[Product]:
        """Only the products a request names: a registration's cost does not grow with the catalogue."""
        items = self.table.get_many([("CATALOGUE", f"PRODUCT#{sku}") for sku in skus])
        return [Product.model_validate(i) for i in items]

    def add_product(self, product: Product) -> bool:
        """False when the SKU exists (nothing changes)."""
        try:
            self.table.put_new(
                {"pk": "CATALOGUE", "sk": f"PRODUCT#{product.sku}", "entity": "product"} | product.model_dump()
            )
        except ConditionFailed:
            return False
        return True

    # ------------------------------------------------------------- prospects
    def registrations(self, kind: str, key: str) -> list[Registration]:
        """Open registrations under one prospect key (closed ones leave the index), every page."""
        items = self.table.query_all(f"PROSPECT#{kind}#{key}", sk_prefix="DEAL#")
        return [Registration.model_validate(i) for i in items]

    def protections(self, domain: str | None, company: str | None) -> list[Protection]:
        found = []
        for kind, key in (("D", domain), ("C", company)):
            if key:
                item = self.table.get(f"PROTECTED#{kind}#{key}", "PROTECTED")
                if item:
                    found.append(Protection.model_validate(item))
        return found

    # ------------------------------------------------------------- deals
    def get(self, deal_id: str) -> Deal | None:
        item = self.table.get(f"DEAL#{deal_id}", "DEAL")
        return Deal.model_validate(item) if item else None

    def _deal_item(self, deal: Deal) -> dict[str, Any]:
        order = f"{iso(deal.submitted_at)}#{deal.deal_id}"
        return {
            "pk": f"DEAL#{deal.deal_id}",
            "sk": "DEAL",
            "entity": "deal",
            "gsi1pk": f"PARTNER#{deal.partner_id}",
            "gsi1sk": order,
            "gsi2pk": f"PARTNER#{deal.partner_id}#{deal.status}",
            "gsi2sk": order,
        } | deal.model_dump(mode="json")

    def _registration_ops(self, deal: Deal) -> list[dict[str, Any]]:
        """Index entries under both prospect keys while the deal is open; a closed deal leaves the index."""
        if deal.status not in OPEN_STATUSES:
            return [self.table.op_delete(f"PROSPECT#{kind}#{key}", f"DEAL#{deal.deal_id}") for kind, key in _keys(deal)]
        registration = Registration(
            deal_id=deal.deal_id,
            partner_id=deal.partner_id,
            status=deal.status,
            protection_ends_at=deal.protection_ends_at,
        )
        return [
            self.table.op_put(
                {"pk": f"PROSPECT#{kind}#{key}", "sk": f"DEAL#{deal.deal_id}", "entity": "registration"}
                | registration.model_dump(mode="json"),
                condition=None,
            )
            for kind, key in _keys(deal)
        ]

    def create(self, deal: Deal, event: EventDetail) -> None:
        t = self.table
        claims = [
            t.op_put({"pk": f"OPEN#{deal.partner_id}#{kind}#{key}", "sk": "OPEN", "deal_id": deal.deal_id})
            for kind, key in _keys(deal)
        ]
        try:
            t.transact(
                [t.op_put(self._deal_item(deal)), *claims, *self._registration_ops(deal), t.op_put(outbox_item(event))]
            )
        except ConditionFailed as failure:
            if failure.failed_at(1):
                raise DuplicateOpenRegistration("domain") from failure
            if failure.failed_at(2):
                raise DuplicateOpenRegistration("company") from failure
            raise

    def save(
        self,
        deal: Deal,
        events: Sequence[EventDetail] = (),
        *,
        protect: bool = False,
        release: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Write the deal if nobody changed it since it was read, with its events and prospect claims, all or nothing.

        protect: claim (or move the end of) the prospect's protection for this deal; ProtectionHeld if another has it.
        release: the deal is closed, so free its protection and its open-registration claims.
        """
        t = self.table
        ops = [
            t.op_put(
                self._deal_item(deal),
                condition="revision = :expected",
                condition_values={":expected": deal.revision - 1},
            )
        ]
        first_lock = len(ops)
        if protect and deal.protection_ends_at is not None:
            holder = {
                "deal_id": deal.deal_id,
                "partner_id": deal.partner_id,
                "protection_ends_at": iso(deal.protection_ends_at),
            }
            ops += [
                t.op_put(
                    {"pk": f"PROTECTED#{kind}#{key}", "sk": "PROTECTED", "entity": "protection"} | holder,
                    condition="attribute_not_exists(pk) OR protection_ends_at <= :now OR deal_id = :deal",
                    condition_values={":now": iso(now or deal.decided_at or deal.submitted_at), ":deal": deal.deal_id},
                )
                for kind, key in _keys(deal)
            ]
        first_release = len(ops)
        if release:
            # Free what this deal holds in the same transaction: a closed deal never keeps others out.
            held = [
                (kind, key)
                for kind, key in _keys(deal)
                if (claim := self.table.get(f"PROTECTED#{kind}#{key}", "PROTECTED"))
                and claim.get("deal_id") == deal.deal_id
            ]
            ops += [
                t.op_delete(
                    f"PROTECTED#{kind}#{key}",
                    "PROTECTED",
                    condition="deal_id = :deal",
                    condition_values={":deal": deal.deal_id},
                )
                for kind, key in held
            ]
            ops += [t.op_delete(f"OPEN#{deal.partner_id}#{kind}#{key}", "OPEN") for kind, key in _keys(deal)]
        released = len(ops)
        ops += self._registration_ops(deal) + [t.op_put(outbox_item(e)) for e in events]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if failure.failed_at(0):
                raise StaleDeal(deal.deal_id) from failure
            if protect and any(failure.failed_at(i) for i in range(first_lock, first_lock + 2)):
                raise ProtectionHeld(deal.deal_id) from failure
            if any(failure.failed_at(i) for i in range(first_release, released)):
                raise StaleDeal(deal.deal_id) from failure  # a lapsed claim changed hands meanwhile: read again
            raise

    def list(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Deal], str | None]:
        """One page of a partner's deals, newest first; the cursor is opaque and bound to this partner and filter."""
        items, next_cursor = self.table.partner_page(partner_id, status=status, limit=limit, cursor=cursor)
        return [Deal.model_validate(i) for i in items], next_cursor
