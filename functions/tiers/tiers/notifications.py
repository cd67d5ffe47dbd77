"""Emails the programme sends to a partner's admins, as values (rendering only; the Mailer port sends them). The
adapter of the notices port (`tiers.ports.TierNotices`): the portal's address and the programme's name are
configuration."""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import readable
from shared.mail import Email
from shared.notices import notice
from tiers.models import Grace, Standing


@dataclass(frozen=True)
class TierEmails:
    portal_url: str

    def _email(self, to: list[str], subject: str, lines: list[str]) -> Email:
        link = f"{self.portal_url.rstrip('/')}/#/programme"
        email = notice(to[0], subject, lines, link, "Open your programme status")
        return Email(to=tuple(to), subject=email.subject, html=email.html, text=email.text)

    def upgraded(self, to: list[str], standing: Standing, reason: str) -> Email:
        name = standing.tier.name if standing.tier else ""
        lines = [f"Congratulations: your organisation is now {name}.", reason]
        return self._email(to, f"Your organisation is now {name}", lines)

    def downgraded(self, to: list[str], standing: Standing, reason: str) -> Email:
        name = standing.tier.name if standing.tier else ""
        lines = [f"Your organisation's tier is now {name}.", reason, "Meeting the criteria again moves you back up."]
        return self._email(to, f"Your organisation's tier is now {name}", lines)

    def grace_started(self, to: list[str], standing: Standing, grace: Grace) -> Email:
        tier, lower = grace.tier.name, grace.would_become.name
        lines = [
            f"Your organisation no longer meets the criteria of {tier}.",
            *[f"Missing: {m}" for m in grace.missing],
            f"You keep {tier} until {readable(grace.ends_at)}; then your tier becomes {lower} unless you meet the "
            "criteria again before then.",
        ]
        return self._email(to, f"Grace period for {tier}: criteria no longer met", lines)

    def grace_warning(
        self, to: list[str], standing: Standing, grace: Grace, days_left: int, missing: list[str]
    ) -> Email:
        tier, lower = grace.tier.name, grace.would_become.name
        days = f"{days_left} day{'s' if days_left != 1 else ''}"
        lines = [
            f"Your grace period for {tier} ends in {days} ({readable(grace.ends_at)}).",
            *[f"Missing: {m}" for m in missing],
            f"Unless you meet the criteria by then, your tier becomes {lower}.",
        ]
        return self._email(to, f"{tier} grace period ends in {days}", lines)
