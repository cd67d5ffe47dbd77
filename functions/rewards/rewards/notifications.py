"""Emails rewards sends to the person who earned a reward, as values (rendering only; the Mailer port sends them)."""

from __future__ import annotations

from dataclasses import dataclass

from rewards.domain.campaigns import amount_words
from rewards.models.earning import Reward
from shared.mail import Email
from shared.notices import notice


@dataclass(frozen=True)
class RewardEmails:
    portal_url: str

    def _email(self, reward: Reward, subject: str, lines: list[str]) -> Email:
        link = f"{self.portal_url.rstrip('/')}/#/rewards"
        return notice(reward.person_email, subject, lines, link, "Open your rewards")

    def earned(self, reward: Reward) -> Email:
        amount = amount_words(reward.amount, reward.unit)
        waiting = {
            "pending": "It is waiting for approval.",
            "approved": "It is approved and becomes available to redeem soon.",
            "available": "It is approved and available to redeem now.",
        }.get(reward.status, "")
        lines = [
            f"You earned {amount} in {reward.campaign_name}: {reward.source.description}.",
            reward.rule_words,
            waiting,
        ]
        return self._email(reward, f"You earned {amount}", [line for line in lines if line])

    def available(self, reward: Reward) -> Email:
        amount = amount_words(reward.amount, reward.unit)
        lines = [f"Your reward of {amount} from {reward.campaign_name} is now available to redeem."]
        return self._email(reward, f"{amount} is available to redeem", lines)

    def declined(self, reward: Reward) -> Email:
        amount = amount_words(reward.amount, reward.unit)
        lines = [
            f"Your reward of {amount} from {reward.campaign_name} ({reward.source.description}) was declined.",
            f"Reason: {reward.status_reason}",
        ]
        return self._email(reward, f"Your reward of {amount} was declined", lines)

    def reversed(self, reward: Reward) -> Email:
        amount = amount_words(reward.amount, reward.unit)
        lines = [
            f"Your reward of {amount} from {reward.campaign_name} ({reward.source.description}) was reversed.",
            f"Reason: {reward.status_reason}",
            "If you had redeemed it already, your available balance shows the difference until you earn it back.",
        ]
        return self._email(reward, f"Your reward of {amount} was reversed", lines)
