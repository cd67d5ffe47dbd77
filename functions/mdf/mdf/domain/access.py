"""Who may see and do what in MDF: partner users their own organisation's, vendor administrators everything."""

from __future__ import annotations

from mdf.models import FundRequest
from shared.errors import FieldError, Forbidden, NotFound, ValidationFailed
from shared.principal import Principal

VENDOR_ADMIN = "vendor-admin"


def require_vendor(principal: Principal) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden("Only vendor administrators do this.")


def require_partner_user(principal: Principal) -> str:
    """The caller's partner id (from the verified token, never the body)."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users manage fund requests and claims.")
    return principal.partner_id


def owner_read(principal: Principal, partner_id: str | None) -> str:
    """Whose funds a read is about: the caller's own, or for a vendor admin the partner named."""
    if principal.in_group(VENDOR_ADMIN):
        if not partner_id:
            raise ValidationFailed("Name the partner.", [FieldError("partner_id", "required for vendor staff")])
        return partner_id
    if principal.partner_id is None:
        raise Forbidden("Only partner users and vendor administrators see funds.")
    return principal.partner_id


def ensure_own(principal: Principal, request: FundRequest | None) -> FundRequest:
    """Another partner's request does not exist as far as this caller can tell."""
    if request is None or (request.partner_id != principal.partner_id and not principal.in_group(VENDOR_ADMIN)):
        raise NotFound("No such fund request.")
    return request
