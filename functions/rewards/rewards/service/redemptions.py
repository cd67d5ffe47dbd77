"""Catalogue and redemption use cases at the HTTP edge: the vendor's catalogue, a person redeeming their own balance
(a payout or an item), and a vendor admin fulfilling or cancelling. Load through the port, apply a rule from
`rewards.domain.redemptions`, write in one conditional transaction, retry a lost race."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rewards.domain import redemptions as rules
from rewards.domain.redemptions import RedemptionChange
from rewards.models.common import POINTS
from rewards.models.earning import Account
from rewards.models.redemptions import (
    CatalogueItem,
    CatalogueItemBody,
    CatalogueItemPatch,
    ItemRequest,
    PayoutRequest,
    Redemption,
)
from rewards.ports import RedemptionsRepository, StaleRedemption
from rewards.repository.redemptions import list_key
from shared.clock import Clock, utc_now
from shared.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from shared.ids import new_id
from shared.principal import Principal
from shared.retry import attempts

VENDOR_ADMIN = "vendor-admin"
ATTEMPTS = 8
MAX_LIST = 100
LISTS = {("item", "requested"), ("payout", "requested"), ("payout", "approved")}


class Busy(Conflict):
    def __init__(self) -> None:
        super().__init__("The balance is changing right now; try again.", code="conflict")


def require_vendor_admin(principal: Principal) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden("Only vendor administrators do this.")


def require_partner_user(principal: Principal) -> str:
    """The caller's partner id: from the verified token, never from the body."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users redeem rewards.")
    return principal.partner_id


def retrying(once: Callable[[], RedemptionChange]) -> RedemptionChange:
    """Run a read-decide-write step; a lost race (the account or the record moved on) reads again."""
    for _ in attempts(ATTEMPTS):
        try:
            return once()
        except StaleRedemption:
            continue
    raise Busy()


@dataclass(kw_only=True)
class RedemptionUseCases:
    repository: RedemptionsRepository
    clock: Clock = utc_now
    new_id: Callable[[str], str] = new_id

    def _redemption(self, redemption_id: str) -> Redemption:
        found = self.repository.redemption(redemption_id)
        if found is None:
            raise NotFound("No such redemption.")
        return found


@dataclass(kw_only=True)
class RedemptionsService(RedemptionUseCases):
    payout_minimums: dict[str, int] = field(default_factory=dict)  # per currency, minor units

    # ------------------------------------------------------------- catalogue (vendor admin)
    def add_item(self, principal: Principal, body: CatalogueItemBody) -> CatalogueItem:
        require_vendor_admin(principal)
        now = self.clock()
        item = CatalogueItem(
            item_id=self.new_id("item"),
            name=body.name,
            description=body.description,
            cost_points=body.cost_points,
            stock=body.stock,
            created_by=principal.email,
            created_at=now,
            updated_at=now,
        )
        self.repository.add_item(item)
        return item

    def catalogue(self, principal: Principal) -> list[CatalogueItem]:
        """Partner users see what they can redeem (active items); vendor admins see every item."""
        items = sorted(self.repository.items(), key=lambda i: (i.cost_points, i.name))
        return items if principal.in_group(VENDOR_ADMIN) else [i for i in items if i.active]

    def update_item(self, principal: Principal, item_id: str, patch: CatalogueItemPatch) -> CatalogueItem:
        require_vendor_admin(principal)
        changes = patch.changes()
        if not changes:
            raise ValidationFailed("Nothing to change.", [FieldError("body", "name at least one field to change")])
        item = self.repository.item(item_id)
        if item is None:
            raise NotFound("No such catalogue item.", code="item_not_found")
        updated = item.model_copy(update=changes | {"updated_at": self.clock()})
        try:
            return self.repository.save_item(updated, changes, expected_revision=item.revision)
        except StaleRedemption as stale:
            raise Conflict("The item changed meanwhile (perhaps redeemed); reload it.") from stale

    # ------------------------------------------------------------- redeeming (a partner user, for themselves)
    def redeem(self, principal: Principal, body: PayoutRequest | ItemRequest) -> Redemption:
        partner_id = require_partner_user(principal)
        person = principal.email

        def once() -> RedemptionChange:
            now = self.clock()
            if isinstance(body, PayoutRequest):
                currency = body.amount.currency
                account = self.repository.account(partner_id, person, currency)
                change = rules.redeem_payout(
                    account,
                    body,
                    partner_id=partner_id,
                    person=person,
                    minimum=self.payout_minimums.get(currency),
                    now=now,
                    new_id=self.new_id,
                )
            else:
                account = self.repository.account(partner_id, person, POINTS)
                item = self.repository.item(body.item_id)
                change = rules.redeem_item(
                    account, item, body, partner_id=partner_id, person=person, now=now, new_id=self.new_id
                )
            self.repository.write(change)
            return change

        change = retrying(once)
        assert change.redemption is not None
        return change.redemption

    def redemption(self, principal: Principal, redemption_id: str) -> Redemption:
        """A person's own redemption (a partner admin: their organisation's); vendor admins any."""
        found = self.repository.redemption(redemption_id)
        if found is None or not self._may_see(principal, found):
            raise NotFound("No such redemption.")
        return found

    @staticmethod
    def _may_see(principal: Principal, redemption: Redemption) -> bool:
        if principal.in_group(VENDOR_ADMIN):
            return True
        if principal.partner_id != redemption.partner_id:
            return False
        return redemption.person == principal.email or principal.in_group("partner-admin")

    def redemptions(
        self, principal: Principal, *, kind: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        """Partner users: their own, newest first. Vendor admins: an open list (items to fulfil, payouts awaiting
        finance, approved payouts not yet batched), oldest first."""
        limit = max(1, min(limit, MAX_LIST))
        if not principal.in_group(VENDOR_ADMIN):
            partner_id = require_partner_user(principal)
            return self.repository.redemptions_of(partner_id, principal.email, limit=limit, cursor=cursor)
        if (kind, status) not in LISTS:
            allowed = ", ".join(f"kind={k}&status={s}" for k, s in sorted(LISTS))
            raise ValidationFailed("Choose a list.", [FieldError("status", f"one of {allowed}")])
        assert kind is not None and status is not None
        return self.repository.redemptions_listed(list_key(kind, status), limit=limit, cursor=cursor)

    # ------------------------------------------------------------- fulfilment (vendor admin)
    def _settle(self, redemption_id: str, rule: Callable[[Redemption], RedemptionChange]) -> Redemption:
        """Apply a vendor admin's rule; a repeat of what was done already answers the redemption as it stands."""

        def once() -> RedemptionChange:
            change = rule(self._redemption(redemption_id))
            self.repository.write(change)
            return change

        change = retrying(once)
        return change.redemption or self._redemption(redemption_id)

    def _account_of(self, redemption: Redemption) -> Account:
        account = self.repository.account(redemption.partner_id, redemption.person, redemption.unit)
        if account is None:
            raise LookupError(f"the account of {redemption.redemption_id} is missing")
        return account

    def fulfil(self, principal: Principal, redemption_id: str) -> Redemption:
        require_vendor_admin(principal)
        return self._settle(
            redemption_id,
            lambda r: rules.fulfil(r, self._account_of(r), by=principal.email, now=self.clock(), new_id=self.new_id),
        )

    def cancel(self, principal: Principal, redemption_id: str, reason: str) -> Redemption:
        require_vendor_admin(principal)
        return self._settle(
            redemption_id,
            lambda r: rules.cancel(
                r, self._account_of(r), reason=reason, by=principal.email, now=self.clock(), new_id=self.new_id
            ),
        )
