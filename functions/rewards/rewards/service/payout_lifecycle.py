"""Payouts on the queue (`PayoutLifecycle`): starting finance's approval when a payout is requested, applying its
decision (approve, or hold for a tax form; reject releases the amount) or its lapse, and telling the payee (once)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.rewards import PayoutHeld, PayoutPaid, RedemptionRequested
from rewards.domain import redemptions
from rewards.domain.redemptions import RedemptionChange
from rewards.models.redemptions import PayoutApprovalExpired, PayoutDecision
from rewards.notifications_redemptions import payout_held, payout_paid
from rewards.ports import Mailer, PayoutApprovals, SideEffectLedger
from rewards.service.payouts import PayoutUseCases
from rewards.service.redemptions import retrying


@dataclass(kw_only=True)
class PayoutLifecycle(PayoutUseCases):
    """On the queue: finance's approval workflow, its decision and lapse, and the payee's emails (once each)."""

    approvals: PayoutApprovals
    mailer: Mailer
    effects: SideEffectLedger
    portal_url: str

    def start_approval(self, event: RedemptionRequested) -> str:
        if event.kind != "payout":
            return "an item redemption: a vendor admin fulfils it"
        payout = self._redemption(event.redemption_id)
        if payout.status != "requested":
            return f"no approval: the payout is {payout.status}"
        now = self.clock()
        year = self._year(payout, now)
        form = self.repository.tax_form(payout.partner_id) is not None
        return self.approvals.start_payout_approval(payout, year.approved_minor, form)

    def decide(self, message: PayoutDecision) -> str:
        def once() -> RedemptionChange:
            payout = self._redemption(message.redemption_id)
            now = self.clock()
            change = redemptions.decide_payout(
                payout,
                self._account(payout),
                self._year(payout, now),
                message.review,
                form_on_file=self.repository.tax_form(payout.partner_id) is not None,
                threshold=self.tax_thresholds.get(payout.unit),
                now=now,
                new_id=self.new_id,
            )
            self.repository.write(change)
            return change

        return retrying(once).outcome

    def lapsed(self, message: PayoutApprovalExpired) -> str:
        def once() -> RedemptionChange:
            payout = self._redemption(message.redemption_id)
            change = redemptions.payout_lapsed(payout, self._account(payout), now=self.clock(), new_id=self.new_id)
            self.repository.write(change)
            return change

        return retrying(once).outcome

    def announce_paid(self, event: PayoutPaid) -> str:
        key = f"payout-paid:{event.redemption_id}"
        mail = payout_paid(event, self.portal_url)
        return self.effects.once(f"REDEMPTION#{event.redemption_id}", key, lambda: self.mailer.send(mail))

    def announce_held(self, event: PayoutHeld) -> str:
        key = f"payout-held:{event.redemption_id}"
        mail = payout_held(event, self.portal_url)
        return self.effects.once(f"REDEMPTION#{event.redemption_id}", key, lambda: self.mailer.send(mail))
