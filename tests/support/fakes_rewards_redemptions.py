"""In-memory fake of the redemptions port (`rewards.ports.RedemptionsRepository`, helper B's half of rewards), for
service tests without AWS. Kept apart from the earning fakes (tests/support/fakes_rewards.py) on purpose.

It keeps the conditions the DynamoDB adapter writes with, so the services meet the same refusals:
- a redemption, claim or batch is new (revision 1) or written at the revision after the one stored;
- an account is written at the seq read (or new); ledger entries are append-only;
- a catalogue item's stock is taken only while it lasts and the item is active (`OutOfStock`);
- a payee's yearly total is written at the revision after the one stored;
- payouts join a batch only while approved and in no batch;
and every write is all or nothing, with its events in `outbox`. `fail_next_write` makes that many writes lose a
race (`StaleRedemption`), as a concurrent writer would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rewards.domain.redemptions import OutOfStock, RedemptionChange
from rewards.models.earning import Account, Campaign, LedgerEntry, PartnerAt
from rewards.models.redemptions import CatalogueItem, Claim, PayeeYear, PayoutBatch, Redemption, TaxForm, Upload
from rewards.ports import StaleRedemption
from rewards.repository.redemptions import HELD, open_list
from shared.events import EventDetail


@dataclass
class FakeRedemptionStore:
    accounts: dict[tuple[str, str, str], Account] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    catalogue: dict[str, CatalogueItem] = field(default_factory=dict)
    stored: dict[str, Redemption] = field(default_factory=dict)
    years: dict[tuple[str, str, int, str], PayeeYear] = field(default_factory=dict)
    forms: dict[str, TaxForm] = field(default_factory=dict)
    stored_batches: dict[str, PayoutBatch] = field(default_factory=dict)
    stored_uploads: dict[str, Upload] = field(default_factory=dict)
    stored_claims: dict[str, Claim] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    partners: dict[str, PartnerAt] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    outbox: list[EventDetail] = field(default_factory=list)
    fail_next_write: int = 0

    # ------------------------------------------------------------- test helpers
    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if detail_type == e.DETAIL_TYPE]

    def fund(self, partner_id: str, email: str, unit: str, available: int) -> Account:
        """Give a person an available balance (as earning would have)."""
        account = Account(partner_id=partner_id, person_email=email, unit=unit, available=available, earned=available)
        self.accounts[partner_id, email, unit] = account
        return account

    def _lose(self) -> None:
        if self.fail_next_write:
            self.fail_next_write -= 1
            raise StaleRedemption("a concurrent writer won")

    # ------------------------------------------------------------- earning side read by B
    def account(self, partner_id: str, email: str, unit: str) -> Account | None:
        return self.accounts.get((partner_id, email.lower(), unit))

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    def partner_at(self, partner_id: str, at: datetime) -> PartnerAt:
        return self.partners.get(partner_id, PartnerAt(partner_id=partner_id))

    def company_name(self, partner_id: str) -> str | None:
        return self.names.get(partner_id)

    # ------------------------------------------------------------- catalogue
    def add_item(self, item: CatalogueItem) -> None:
        assert item.item_id not in self.catalogue
        self.catalogue[item.item_id] = item

    def item(self, item_id: str) -> CatalogueItem | None:
        return self.catalogue.get(item_id)

    def items(self) -> list[CatalogueItem]:
        return list(self.catalogue.values())

    def save_item(self, item: CatalogueItem, changes: dict[str, Any], *, expected_revision: int) -> CatalogueItem:
        self._lose()
        current = self.catalogue[item.item_id]
        if current.revision != expected_revision:
            raise StaleRedemption(item.item_id)
        saved = current.model_copy(update=changes | {"revision": expected_revision + 1, "updated_at": item.updated_at})
        self.catalogue[item.item_id] = saved
        return saved

    # ------------------------------------------------------------- redemptions
    def redemption(self, redemption_id: str) -> Redemption | None:
        return self.stored.get(redemption_id)

    def redemptions_listed(self, listed: str, *, limit: int, cursor: str | None) -> tuple[list[Redemption], str | None]:
        found = sorted(
            (r for r in self.stored.values() if open_list(r) == listed), key=lambda r: (r.status_at, r.redemption_id)
        )
        start = int(cursor or 0)
        page = found[start : start + limit]
        return page, (str(start + limit) if start + limit < len(found) else None)

    def held_payouts(
        self, partner_id: str | None, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        found = sorted(
            (r for r in self.stored.values() if open_list(r) == HELD and partner_id in (None, r.partner_id)),
            key=lambda r: (r.partner_id, r.status_at, r.redemption_id),
        )
        start = int(cursor or 0)
        return found[start : start + limit], (str(start + limit) if start + limit < len(found) else None)

    def company_names(self, partner_ids: list[str]) -> dict[str, str]:
        return {p: name for p in partner_ids if (name := self.company_name(p))}

    def redemptions_of(
        self, partner_id: str, person: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        found = sorted(
            (r for r in self.stored.values() if r.partner_id == partner_id and r.person == person),
            key=lambda r: r.requested_at,
            reverse=True,
        )
        start = int(cursor or 0)
        return found[start : start + limit], (str(start + limit) if start + limit < len(found) else None)

    def write(self, change: RedemptionChange, *, expected_revision: int | None = None) -> None:
        self._lose()
        r = change.redemption
        if r is not None:
            previous = r.revision - 1 if expected_revision is None else expected_revision
            stored = self.stored.get(r.redemption_id)
            if (stored is None) != (previous == 0) or (stored is not None and stored.revision != previous):
                raise StaleRedemption(r.redemption_id)
        if change.account is not None:
            a = change.account
            stored_account = self.accounts.get((a.partner_id, a.person_email, a.unit))
            read = change.account_seq
            if (read is None and stored_account is not None) or (
                read is not None and (stored_account is None or stored_account.seq != read)
            ):
                raise StaleRedemption("account")
        if change.stock_delta and r is not None and r.item_id:
            item = self.catalogue.get(r.item_id)
            if item is None or (change.stock_delta < 0 and (item.stock < 1 or not item.active)):
                raise OutOfStock(r.item_id)
        if change.year is not None:
            y = change.year
            stored_year = self.years.get((y.partner_id, y.person, y.year, y.currency))
            if (stored_year.revision if stored_year else 0) != y.revision - 1:
                raise StaleRedemption("year")
        # all conditions hold: write everything
        if r is not None:
            self.stored[r.redemption_id] = r
        if change.account is not None:
            a = change.account
            self.accounts[a.partner_id, a.person_email, a.unit] = a
            self.entries += change.entries
        if change.stock_delta and r is not None and r.item_id:
            item = self.catalogue[r.item_id]
            self.catalogue[r.item_id] = item.model_copy(
                update={"stock": item.stock + change.stock_delta, "revision": item.revision + 1}
            )
        if change.year is not None:
            y = change.year
            self.years[y.partner_id, y.person, y.year, y.currency] = y
        self.outbox += change.events

    def payee_year(self, partner_id: str, person: str, year: int, currency: str) -> PayeeYear | None:
        return self.years.get((partner_id, person, year, currency))

    # ------------------------------------------------------------- tax forms
    def tax_form(self, partner_id: str) -> TaxForm | None:
        return self.forms.get(partner_id)

    def save_tax_form(self, form: TaxForm) -> None:
        self.forms[form.partner_id] = form

    # ------------------------------------------------------------- batches
    def batch(self, batch_id: str) -> PayoutBatch | None:
        return self.stored_batches.get(batch_id)

    def batches(self, *, limit: int, cursor: str | None) -> tuple[list[PayoutBatch], str | None]:
        found = sorted(self.stored_batches.values(), key=lambda b: b.created_at, reverse=True)
        return found[:limit], None

    def save_batch(self, batch: PayoutBatch) -> None:
        stored = self.stored_batches.get(batch.batch_id)
        if (stored.revision if stored else 0) != batch.revision - 1:
            raise StaleRedemption(batch.batch_id)
        self.stored_batches[batch.batch_id] = batch

    def claim_payouts(self, batch_id: str, payouts: list[Redemption]) -> list[Redemption]:
        claimed = []
        for payout in payouts:
            current = self.stored[payout.redemption_id]
            if current.status == "approved" and current.batch_id is None:
                batched = current.model_copy(update={"batch_id": batch_id, "revision": current.revision + 1})
                self.stored[payout.redemption_id] = batched
                claimed.append(batched)
        return claimed

    def batch_payouts(self, batch_id: str) -> list[Redemption]:
        return [r for r in self.stored.values() if r.batch_id == batch_id and r.status == "approved"]

    # ------------------------------------------------------------- claims
    def add_upload(self, upload: Upload) -> None:
        self.stored_uploads[upload.file_id] = upload

    def uploads(self, file_ids: list[str]) -> dict[str, Upload]:
        return {f: self.stored_uploads[f] for f in file_ids if f in self.stored_uploads}

    def claim(self, claim_id: str) -> Claim | None:
        return self.stored_claims.get(claim_id)

    def claims_of(self, partner_id: str, *, limit: int, cursor: str | None) -> tuple[list[Claim], str | None]:
        found = [c for c in self.stored_claims.values() if c.partner_id == partner_id]
        return sorted(found, key=lambda c: c.submitted_at, reverse=True)[:limit], None

    def save_claim(self, claim: Claim, events: Sequence[EventDetail] = ()) -> None:
        self._lose()
        stored = self.stored_claims.get(claim.claim_id)
        if (stored.revision if stored else 0) != claim.revision - 1:
            raise StaleRedemption(claim.claim_id)
        self.stored_claims[claim.claim_id] = claim
        self.outbox += events


@dataclass
class FakeStoredProof:
    size: int
    content_type: str
    head: bytes
    version_id: str | None = "v1"


@dataclass
class FakeProofStorage:
    """The rewards bucket's proof files: what a test 'uploads' is what `stored` reports."""

    objects: dict[str, FakeStoredProof] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    upload_expires_seconds: int = 600

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, object]:
        return {"url": "https://bucket.test/", "fields": {"key": key, "Content-Type": content_type}}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = FakeStoredProof(size=len(body), content_type=content_type, head=body[:512])

    def stored(self, key: str) -> FakeStoredProof | None:
        return self.objects.get(key)

    def delete(self, key: str, version_id: str | None = None) -> None:
        self.objects.pop(key, None)
        self.deleted.append(key)

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return f"https://bucket.test/{key}?download"


@dataclass
class FakePayoutFiles:
    files: dict[str, str] = field(default_factory=dict)

    def put_csv(self, key: str, text: str) -> None:
        self.files[key] = text

    def download_url(self, key: str, file_name: str) -> str:
        return f"https://bucket.test/{key}?download={file_name}"


@dataclass
class FakeApprovals:
    """Payout approvals and claim reviews started, idempotent per execution name (as Step Functions' are)."""

    payouts: dict[str, tuple[int, bool]] = field(default_factory=dict)
    reviews: dict[str, Claim] = field(default_factory=dict)

    def start_payout_approval(self, payout: Redemption, year_total: int, form_on_file: bool) -> str:
        name = f"payout-{payout.redemption_id}"
        if name in self.payouts:
            return "already started"
        self.payouts[name] = (year_total, form_on_file)
        return name

    def start_claim_review(self, claim: Claim, *, attempt: int) -> str:
        name = f"claim-{claim.claim_id}-{claim.round}-{attempt}"
        if name in self.reviews:
            return "already started"
        self.reviews[name] = claim
        return name


@dataclass
class FakeEarner:
    """The earning side as the claim lifecycle sees it: one reward per claim, however often it is asked."""

    earned: dict[str, tuple[Claim, str]] = field(default_factory=dict)
    calls: int = 0

    def earn_claim(self, claim: Claim, approved_by: str, at: datetime) -> str:
        self.calls += 1
        if claim.claim_id in self.earned:
            return "duplicate: already earned"
        self.earned[claim.claim_id] = (claim, approved_by)
        return f"earned {claim.amount} {claim.unit}"
