"""Emails training sends to certification holders and their partner's admins, as values (rendering only; the Mailer
port sends them). The adapter of the notices port (`training.ports.TrainingNotices`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from shared.clock import readable
from shared.mail import Email
from shared.notices import notice
from training.models import Award


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class TrainingEmails:
    portal_url: str

    def _link(self) -> str:
        return f"{self.portal_url.rstrip('/')}/#/training"

    def earned(self, award: Award, *, renewal: bool) -> Email:
        name = award.certification_name
        first = f"Your {name} certification is renewed." if renewal else f"You are now {name} certified."
        lines = [first, f"It is valid until {readable(award.expires_at)}."]
        subject = f"Certification renewed: {name}" if renewal else f"Certified: {name}"
        return notice(award.holder_email, subject, lines, self._link(), "Open your training")

    def expiring(self, award: Award, days_left: int) -> Email:
        name = award.certification_name
        lines = [
            f"Your {name} certification expires in {_days(days_left)} ({readable(award.expires_at)}).",
            "Pass the renewal course before then to keep it.",
        ]
        return notice(
            award.holder_email, f"{name} expires in {_days(days_left)}", lines, self._link(), "Open your training"
        )

    def expiring_for_admins(self, award: Award, days_left: int, admins: Sequence[str]) -> Email:
        name = award.certification_name
        lines = [
            f"The {name} certification of {award.holder_email} expires in {_days(days_left)} "
            f"({readable(award.expires_at)}).",
            "It counts for your organisation until then.",
        ]
        email = notice(
            admins[0],
            f"{name} of {award.holder_email} expires in {_days(days_left)}",
            lines,
            self._link(),
            "Open your organisation's certifications",
        )
        return replace(email, to=tuple(admins))

    def expired(self, award: Award) -> Email:
        name = award.certification_name
        lines = [
            f"Your {name} certification expired on {readable(award.expires_at)}.",
            "Pass the renewal course to hold it again.",
        ]
        return notice(award.holder_email, f"Certification expired: {name}", lines, self._link(), "Open your training")
