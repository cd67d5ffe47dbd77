"""Payout use cases at the HTTP edge (`PayoutsService`): the vendor's lists of payouts (held for a tax form, approved
and waiting for a batch), tax forms on file (releasing held payouts), payout batches
(approved payouts into a CSV in the rewards bucket) and marking a batch paid. What every payout use case shares is
`PayoutUseCases`; the queue's are in `payout_lifecycle`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rewards.domain import payouts, redemptions
from rewards.domain.redemptions import RedemptionChange
from rewards.models.earning import Account
from rewards.models.redemptions import (
    PayeeYear,
    PayoutBatch,
    Redemption,
    TaxForm,
    TaxFormBody,
)
from rewards.ports import PayoutFiles, StaleRedemption
from rewards.repository.redemptions import list_key
from rewards.service.redemptions import MAX_LIST, RedemptionUseCases, require_vendor_admin, retrying
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.observability import logger
from shared.principal import Principal

BUILD_GRACE = timedelta(minutes=2)  # a batch still building after this was interrupted (a request takes seconds)
MAX_RELEASE = 1000  # held payouts of one organisation released at once (more: record the form again)
PAYOUT_LISTS = ("on_hold", "approved")


class NothingToPay(Conflict):
    def __init__(self) -> None:
        super().__init__("No approved payouts are waiting for a batch.", code="no_payouts")


@dataclass(kw_only=True)
class PayoutUseCases(RedemptionUseCases):
    tax_thresholds: dict[str, int] = field(default_factory=dict)  # per currency, minor units

    def _account(self, payout: Redemption) -> Account | None:
        return self.repository.account(payout.partner_id, payout.person, payout.unit)

    def _year(self, payout: Redemption, now: datetime) -> PayeeYear:
        year = payouts.tax_year(now)
        stored = self.repository.payee_year(payout.partner_id, payout.person, year, payout.unit)
        return redemptions.year_of(payout, stored, now)


@dataclass(kw_only=True)
class PayoutsService(PayoutUseCases):
    files: PayoutFiles
    max_batch: int = payouts.MAX_BATCH

    # ------------------------------------------------------------- payout lists (vendor admin)
    def payouts(
        self, principal: Principal, *, status: str, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], dict[str, str], str | None]:
        """Payouts `on_hold` for a missing tax form (every partner's, by partner and oldest first: whose form to
        record) or `approved` and waiting for a batch (oldest first), with the partners' company names."""
        require_vendor_admin(principal)
        if status not in PAYOUT_LISTS:
            raise ValidationFailed("Choose a list of payouts.", [FieldError("status", "one of on_hold, approved")])
        limit = max(1, min(limit, MAX_LIST))
        if status == "on_hold":
            found, more = self.repository.held_payouts(None, limit=limit, cursor=cursor)
        else:
            found, more = self.repository.redemptions_listed(list_key("payout", "approved"), limit=limit, cursor=cursor)
        return found, self.repository.company_names([p.partner_id for p in found]), more

    # ------------------------------------------------------------- tax forms (vendor admin)
    def record_tax_form(
        self, principal: Principal, partner_id: str, body: TaxFormBody
    ) -> tuple[TaxForm, list[Redemption]]:
        """The organisation's tax form is on file: its held payouts are approved (each conditionally, once)."""
        require_vendor_admin(principal)
        now = self.clock()
        form = TaxForm(
            partner_id=partner_id,
            reference=body.reference,
            received_on=body.received_on,
            recorded_by=principal.email,
            recorded_at=now,
        )
        self.repository.save_tax_form(form)
        released: list[Redemption] = []
        cursor: str | None = None
        while len(released) < MAX_RELEASE:
            held, cursor = self.repository.held_payouts(partner_id, limit=MAX_LIST, cursor=cursor)
            for payout in held:
                change = self._release(payout.redemption_id, principal.email)
                if change.redemption is not None:
                    released.append(change.redemption)
            if cursor is None:
                break
        return form, released

    def _release(self, redemption_id: str, by: str) -> RedemptionChange:
        def once() -> RedemptionChange:
            payout = self._redemption(redemption_id)
            now = self.clock()
            change = redemptions.release_hold(payout, self._year(payout, now), by=by, now=now, new_id=self.new_id)
            self.repository.write(change)
            return change

        return retrying(once)

    def tax_form(self, principal: Principal, partner_id: str) -> TaxForm | None:
        require_vendor_admin(principal)
        return self.repository.tax_form(partner_id)

    # ------------------------------------------------------------- batches (vendor admin)
    def create_batch(self, principal: Principal) -> PayoutBatch:
        """Approved payouts not in a batch yet (oldest first, at most `max_batch`) into a new batch and its CSV. A batch
        an earlier call left half built (its payouts taken, no file yet) is finished and answered first."""
        require_vendor_admin(principal)
        interrupted = self._interrupted_batch()
        if interrupted is not None:
            return self._finish(interrupted, self.repository.batch_payouts(interrupted.batch_id))
        waiting: list[Redemption] = []
        cursor: str | None = None
        while len(waiting) < self.max_batch:
            page, cursor = self.repository.redemptions_listed(
                list_key("payout", "approved"), limit=min(MAX_LIST, self.max_batch - len(waiting)), cursor=cursor
            )
            # the index is eventually consistent: the claim below re-checks each payout's state
            waiting += [p for p in page if p.status == "approved" and p.batch_id is None]
            if cursor is None:
                break
        if not waiting:
            raise NothingToPay()
        batch = payouts.new_batch(self.new_id("batch"), by=principal.email, now=self.clock())
        self.repository.save_batch(batch)
        return self._finish(batch, self.repository.claim_payouts(batch.batch_id, waiting))

    def _interrupted_batch(self) -> PayoutBatch | None:
        """The newest batches (one small page): one still building after `BUILD_GRACE` was interrupted."""
        recent, _ = self.repository.batches(limit=10, cursor=None)
        cutoff = self.clock() - BUILD_GRACE
        return next((b for b in recent if b.status == "building" and b.created_at < cutoff), None)

    def _finish(self, batch: PayoutBatch, claimed: list[Redemption]) -> PayoutBatch:
        found = self.repository.company_names([p.partner_id for p in claimed])  # one batch read, not one per payout
        names = {p.partner_id: found.get(p.partner_id, p.partner_id) for p in claimed}
        rows = payouts.payout_rows(claimed, names)
        key = payouts.batch_key(batch.batch_id, batch.created_at)
        self.files.put_csv(key, payouts.batch_csv(rows))
        ready = payouts.batch_ready(batch, claimed, rows, key)
        self.repository.save_batch(ready)
        logger.info("payout batch ready", extra={"batch_id": batch.batch_id, "payouts": len(claimed)})
        return ready

    def batch(self, principal: Principal, batch_id: str) -> tuple[PayoutBatch, str | None]:
        """The batch and a short-lived download of its CSV."""
        require_vendor_admin(principal)
        batch = self._batch(batch_id)
        url = self.files.download_url(batch.key, f"{batch.batch_id}.csv") if batch.key else None
        return batch, url

    def batches(self, principal: Principal, *, limit: int, cursor: str | None) -> tuple[list[PayoutBatch], str | None]:
        require_vendor_admin(principal)
        return self.repository.batches(limit=max(1, min(limit, MAX_LIST)), cursor=cursor)

    def _batch(self, batch_id: str) -> PayoutBatch:
        batch = self.repository.batch(batch_id)
        if batch is None:
            raise NotFound("No such payout batch.")
        return batch

    def mark_paid(self, principal: Principal, batch_id: str) -> PayoutBatch:
        """Every payout of the batch is paid (a `paid` entry and PayoutPaid each, once), then the batch. A repeat
        finishes what an interrupted call left and changes nothing else."""
        require_vendor_admin(principal)
        batch = self._batch(batch_id)
        if batch.status == "paid":
            return batch
        if batch.status != "ready":
            raise Conflict("The batch is still being built; try again in a moment.", code="batch_not_ready")
        for payout_id in batch.payout_ids:
            self._pay(payout_id, batch_id, principal.email)
        paid = payouts.batch_paid(batch, by=principal.email, now=self.clock())
        try:
            self.repository.save_batch(paid)
        except StaleRedemption:
            current = self._batch(batch_id)
            if current.status != "paid":
                raise
            return current
        return paid

    def _pay(self, payout_id: str, batch_id: str, by: str) -> RedemptionChange:
        def once() -> RedemptionChange:
            payout = self._redemption(payout_id)
            account = self._account(payout)
            if account is None:
                raise LookupError(f"the account of {payout_id} is missing")
            change = redemptions.mark_paid(payout, account, batch_id, by=by, now=self.clock(), new_id=self.new_id)
            self.repository.write(change)
            return change

        return retrying(once)
