"""Emails deals sends to partner users, as values (rendering only; the Mailer port sends them). The adapter of the
notices port (`deals.ports.DealNotices`): the portal's address and the programme's branding are configuration."""

from __future__ import annotations

from dataclasses import dataclass

from deals.models import Deal
from shared.clock import iso
from shared.mail import Email
from shared.notices import notice


@dataclass(frozen=True)
class DealEmails:
    portal_url: str

    def _email(self, deal: Deal, subject: str, lines: list[str]) -> Email:
        link = f"{self.portal_url.rstrip('/')}/#/deals/{deal.deal_id}"
        return notice(deal.registered_by, subject, lines, link, "Open the deal")

    def decided(self, deal: Deal) -> Email:
        name = deal.prospect.company_name
        if deal.status == "approved" and deal.protection_ends_at is not None:
            lines = [
                f"Your registration for {name} is approved.",
                f"It is protected for you until {iso(deal.protection_ends_at)}.",
            ]
            return self._email(deal, f"Deal registration approved: {name}", lines)
        if deal.status != "rejected":  # never read another status (won, lost, expired) as a rejection
            raise ValueError(f"no decision email for a deal that is {deal.status}")
        lines = [f"Your registration for {name} was not approved.", f"Reason: {deal.decision_reason or 'not given'}"]
        return self._email(deal, f"Deal registration not approved: {name}", lines)

    def protection_ending(self, deal: Deal, days_left: int) -> Email:
        name = deal.prospect.company_name
        lines = [
            f"The protection of your registration for {name} ends in {days_left} day{'s' if days_left != 1 else ''}"
            f" ({iso(deal.protection_ends_at) if deal.protection_ends_at else ''}).",
            "Mark it won or lost, or request an extension before then.",
        ]
        return self._email(deal, f"Protection ends in {days_left} days: {name}", lines)

    def extended(self, deal: Deal) -> Email:
        ends = iso(deal.protection_ends_at) if deal.protection_ends_at else ""
        return self._email(deal, f"Protection extended: {deal.prospect.company_name}", [f"Protection now ends {ends}."])

    def extension_refused(self, deal: Deal, reason: str) -> Email:
        name = deal.prospect.company_name
        ends = iso(deal.protection_ends_at) if deal.protection_ends_at else ""
        lines = [
            f"Your request to extend the protection of your registration for {name} was not granted.",
            f"Reason: {reason or 'not given'}",
            f"Protection ended {ends}." if deal.status == "expired" else f"Protection still ends {ends}.",
        ]
        return self._email(deal, f"Protection extension not granted: {name}", lines)
