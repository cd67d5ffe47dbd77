"""Who may do what in training: vendor admins run the catalogue, connections, imports and the review list; a partner
user sees their own record; a partner admin their organisation's certified people (partner id from the token)."""

from __future__ import annotations

from shared.errors import Forbidden
from shared.principal import Principal

VENDOR_ADMIN = "vendor-admin"
PARTNER_ADMIN = "partner-admin"


def ensure_vendor_admin(principal: Principal) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden("Only vendor administrators can do this.")


def ensure_partner_user(principal: Principal) -> str:
    """The caller's partner (from the verified token, never from the request)."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users have a training record.")
    return principal.partner_id


def ensure_partner_admin(principal: Principal) -> str:
    partner_id = ensure_partner_user(principal)
    if not principal.in_group(PARTNER_ADMIN):
        raise Forbidden("Only your organisation's administrators see its certified people.")
    return partner_id
