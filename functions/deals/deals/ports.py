"""What deals' services need from outside (typing.Protocols) and the failures those ports report.

The DynamoDB adapter of `DealsRepository` is `deals.repository`, the AWS adapter of `DealWorkflows` is
`deals.workflow`; both are wired in the `service()` factories of `deals.api` and `deals.consumers`. In-memory fakes
for service tests are in `tests/support/fakes_deals.py` (and the shared ports' in `tests/support/fakes.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from shared.ports import Mailer, SideEffectLedger

if TYPE_CHECKING:
    from deals.models import Deal, PartnerProjection, PartnerTier, Product, Protection, Registration, Review
    from shared.events import EventDetail
    from shared.mail import Email
    from shared.principal import Principal

__all__ = [
    "DealNotices",
    "DealWorkflows",
    "DealsRepository",
    "DuplicateOpenRegistration",
    "Mailer",
    "ProtectionHeld",
    "SideEffectLedger",
    "StaleDeal",
]


class StaleDeal(Exception):
    """The deal changed since it was read (optimistic locking): read it again and retry."""


class DuplicateOpenRegistration(Exception):
    """The partner already has an open registration of this prospect."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key  # "domain" or "company"


class ProtectionHeld(Exception):
    """Another deal holds the prospect: first approved wins."""


class DealsRepository(Protocol):
    """Deals, their prospect indexes and protection claims, the partner projection, the product list and the
    agreement gate's projection. Every write is conditional and carries its events (outbox), all or nothing."""

    def require_accepted(self, principal: Principal) -> None:
        """Forbidden (agreement_required) for a partner user who has not accepted the current agreement."""
        ...

    def partner(self, partner_id: str) -> PartnerProjection | None: ...

    def project_partner(self, partner: PartnerProjection) -> bool:
        """Keep the newest view of a partner; False when the event is older or repeated (nothing changes)."""
        ...

    def partner_tier(self, partner_id: str) -> PartnerTier | None:
        """The partner's tier as last projected; None while no PartnerTierChanged arrived."""
        ...

    def project_tier(self, tier: PartnerTier) -> bool:
        """Keep the tier if its `tier_order` is after the one kept; False when older or repeated (nothing changes)."""
        ...

    def products(self) -> list[Product]: ...

    def products_named(self, skus: Sequence[str]) -> list[Product]: ...

    def add_product(self, product: Product) -> bool:
        """False when the SKU exists (nothing changes)."""
        ...

    def registrations(self, kind: str, key: str) -> list[Registration]:
        """Open registrations under one prospect key (`D` domain or `C` company)."""
        ...

    def protections(self, domain: str | None, company: str | None) -> list[Protection]: ...

    def get(self, deal_id: str) -> Deal | None: ...

    def create(self, deal: Deal, event: EventDetail) -> None:
        """DuplicateOpenRegistration when the partner already has this prospect open."""
        ...

    def save(
        self,
        deal: Deal,
        events: Sequence[EventDetail] = (),
        *,
        protect: bool = False,
        release: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Write the deal at its next revision: StaleDeal if it changed since read; `protect` claims the prospect
        (ProtectionHeld if another deal holds it unexpired); `release` frees this deal's claims (it is closed)."""
        ...

    def list(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Deal], str | None]: ...


class DealWorkflows(Protocol):
    """The approval workflow (registration or extension) and the protection timer."""

    def reviewer(self, partner_country: str) -> str:
        """The channel manager who reviews for a partner of this country."""
        ...

    def start_review(self, review: Review) -> str:
        """Start the approval workflow once per review (a repeated start changes nothing)."""
        ...

    def start_protection_timer(self, deal: Deal, now: datetime) -> str:
        """The reminders before the deal's protection ends, then its end, as messages on deals' workflow queue."""
        ...


class DealNotices(Protocol):
    """The emails to the partner user who registered a deal, as values (the Mailer sends them)."""

    def decided(self, deal: Deal) -> Email: ...

    def protection_ending(self, deal: Deal, days_left: int) -> Email: ...

    def extended(self, deal: Deal) -> Email: ...

    def extension_refused(self, deal: Deal, reason: str) -> Email: ...
