"""Emails deals sends to partner users (rendering only; sending is shared.mail)."""

from __future__ import annotations

from deals.models import Deal
from shared.clock import iso
from shared.mail import Email, notice


def _email(deal: Deal, subject: str, lines: list[str], portal_url: str) -> Email:
    return notice(
        deal.registered_by, subject, lines, f"{portal_url.rstrip('/')}/#/deals/{deal.deal_id}", "Open the deal"
    )


def decided(deal: Deal, portal_url: str) -> Email:
    name = deal.prospect.company_name
    if deal.status == "approved" and deal.protection_ends_at is not None:
        lines = [
            f"Your registration for {name} is approved.",
            f"It is protected for you until {iso(deal.protection_ends_at)}.",
        ]
        return _email(deal, f"Deal registration approved: {name}", lines, portal_url)
    if deal.status != "rejected":  # never read another status (won, lost, expired) as a rejection
        raise ValueError(f"no decision email for a deal that is {deal.status}")
    lines = [f"Your registration for {name} was not approved.", f"Reason: {deal.decision_reason or 'not given'}"]
    return _email(deal, f"Deal registration not approved: {name}", lines, portal_url)


def protection_ending(deal: Deal, days_left: int, portal_url: str) -> Email:
    name = deal.prospect.company_name
    lines = [
        f"The protection of your registration for {name} ends in {days_left} day{'s' if days_left != 1 else ''}"
        f" ({iso(deal.protection_ends_at) if deal.protection_ends_at else ''}).",
        "Mark it won or lost, or request an extension before then.",
    ]
    return _email(deal, f"Protection ends in {days_left} days: {name}", lines, portal_url)


def extended(deal: Deal, portal_url: str) -> Email:
    ends = iso(deal.protection_ends_at) if deal.protection_ends_at else ""
    return _email(
        deal, f"Protection extended: {deal.prospect.company_name}", [f"Protection now ends {ends}."], portal_url
    )
