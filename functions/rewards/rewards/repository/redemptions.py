"""DynamoDB adapter of the redemptions port (`rewards.ports.RedemptionsRepository`): the catalogue, redemptions,
tax forms and payees' yearly totals, payout batches, claim uploads and claims.

Keys (beside the earning ones in `keys`):
  CATALOGUE / ITEM#<item_id>               a catalogue item (stock taken with a conditional ADD)
  REDEMPTION#<id> / REDEMPTION             a redemption; gsi1 = the person's history (keys.person, shared with
                                           rewards; its own range REDEMPTION#<requested_at>#<id>); gsi2 = the open list it is on, by status (sparse):
                                           REDEMPTIONS#item#requested, REDEMPTIONS#payout#requested,
                                           REDEMPTIONS#payout#approved (not batched yet), BATCH#<batch_id>
                                           (approved, in a batch): gsi2sk <status_at>#<id>; PAYOUTS#on_hold
                                           (waiting for a tax form, every partner's): gsi2sk
                                           <partner_id>#<status_at>#<id>, so one partner's are a prefix
  TAX#<pid> / FORM                         the organisation's tax form on file
  TAX#<pid> / YEAR#<year>#<currency>#<email>  what a payee was approved to be paid that year (the threshold)
  BATCH#<id> / BATCH                       a payout batch; gsi1pk BATCHES, gsi1sk <created_at>#<id>
  UPLOAD#<file_id> / UPLOAD                a claim proof upload handed out (expires_at: gone a day later, TTL)
  CLAIM#<id> / CLAIM                       a claim; gsi2pk CLAIMS#<pid>, gsi2sk <submitted_at>#<id>
Every read is a key lookup or a partition Query; no Scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewards.domain.redemptions import OutOfStock, RedemptionChange
from rewards.models.redemptions import (
    CatalogueItem,
    Claim,
    PayeeYear,
    PayoutBatch,
    Redemption,
    TaxForm,
    Upload,
)
from rewards.ports import StaleRedemption
from rewards.repository import keys
from rewards.repository.earning import account_item, entry_item
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item

CATALOGUE = "CATALOGUE"
HELD = "PAYOUTS#on_hold"  # payouts waiting for their organisation's tax form
BATCHES = "BATCHES"
MAX_PAGE = 100
UPLOAD_TTL_ATTRIBUTE = "expires_at"  # RewardsTable's TimeToLiveSpecification (template.yaml)
UPLOAD_TTL_SECONDS = 86400  # a claim names its uploads within a day of asking for them


def redemption_key(redemption_id: str) -> tuple[str, str]:
    return f"REDEMPTION#{redemption_id}", "REDEMPTION"


def open_list(redemption: Redemption) -> str | None:
    """The gsi2 partition of the open list a redemption is on (None once it is settled)."""
    r = redemption
    if r.kind == "item":
        return "REDEMPTIONS#item#requested" if r.status == "requested" else None
    if r.status == "requested":
        return "REDEMPTIONS#payout#requested"
    if r.status == "on_hold":
        return HELD
    if r.status == "approved":
        return f"BATCH#{r.batch_id}" if r.batch_id else "REDEMPTIONS#payout#approved"
    return None


def list_key(kind: str, status: str) -> str:
    return f"REDEMPTIONS#{kind}#{status}"


def list_order(redemption: Redemption) -> str:
    """The gsi2 sort key on its open list: by the time it got there; held payouts by partner first."""
    at = f"{iso(redemption.status_at)}#{redemption.redemption_id}"
    return f"{redemption.partner_id}#{at}" if open_list(redemption) == HELD else at


def batch_list(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def year_key(year: PayeeYear | Redemption, number: int | None = None) -> tuple[str, str]:
    if isinstance(year, PayeeYear):
        return f"TAX#{year.partner_id}", f"YEAR#{year.year}#{year.currency}#{year.person}"
    return f"TAX#{year.partner_id}", f"YEAR#{number}#{year.unit}#{year.person}"


def redemption_item(redemption: Redemption) -> dict[str, Any]:
    pk, sk = redemption_key(redemption.redemption_id)
    item: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "entity": "redemption",
        "gsi1pk": keys.person(redemption.partner_id, redemption.person),
        "gsi1sk": keys.history_order(redemption.requested_at, "REDEMPTION", redemption.redemption_id),
    } | redemption.model_dump(mode="json")
    listed = open_list(redemption)
    if listed:
        item |= {"gsi2pk": listed, "gsi2sk": list_order(redemption)}
    return item


class RedemptionStore:
    """A mixin of `rewards.repository.store.RewardsRepository` (which sets `self.table`)."""

    table: Table

    # ------------------------------------------------------------- catalogue
    def add_item(self, item: CatalogueItem) -> None:
        self.table.put_new(
            {"pk": CATALOGUE, "sk": f"ITEM#{item.item_id}", "entity": "catalogue_item"} | item.model_dump(mode="json")
        )

    def item(self, item_id: str) -> CatalogueItem | None:
        found = self.table.get(CATALOGUE, f"ITEM#{item_id}")
        return CatalogueItem.model_validate(found) if found else None

    def items(self) -> list[CatalogueItem]:
        """The catalogue (one partition, a few hundred items at most)."""
        return [CatalogueItem.model_validate(i) for i in self.table.query_all(CATALOGUE, sk_prefix="ITEM#")]

    def save_item(self, item: CatalogueItem, changes: dict[str, Any], *, expected_revision: int) -> CatalogueItem:
        """Set the changed fields (stock included: an admin's count) on condition that nobody changed it since."""
        try:
            stored = self.table.update(
                CATALOGUE,
                f"ITEM#{item.item_id}",
                set_fields=changes | {"revision": expected_revision + 1, "updated_at": iso(item.updated_at)},
                condition="revision = :expected",
                condition_values={":expected": expected_revision},
            )
        except ConditionFailed as failure:
            raise StaleRedemption(item.item_id) from failure
        return CatalogueItem.model_validate(stored)

    # ------------------------------------------------------------- redemptions
    def redemption(self, redemption_id: str) -> Redemption | None:
        found = self.table.get(*redemption_key(redemption_id))
        return Redemption.model_validate(found) if found else None

    def redemptions_listed(self, listed: str, *, limit: int, cursor: str | None) -> tuple[list[Redemption], str | None]:
        items, more = self.table.page(
            listed, index=keys.GSI2, key_names=("gsi2pk", "gsi2sk"), limit=limit, cursor=cursor, forward=True
        )
        return [Redemption.model_validate(i) for i in items], more

    def held_payouts(
        self, partner_id: str | None, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        """Payouts held for a tax form, by partner then oldest first: every partner's, or one partner's (a prefix)."""
        items, more = self.table.page(
            HELD,
            index=keys.GSI2,
            key_names=("gsi2pk", "gsi2sk"),
            sk_prefix=f"{partner_id}#" if partner_id else None,
            limit=limit,
            cursor=cursor,
            forward=True,
        )
        return [Redemption.model_validate(i) for i in items], more

    def company_names(self, partner_ids: list[str]) -> dict[str, str]:
        """Partners' company names from the partner projection (those that record one), in one batch read."""
        found = self.table.get_many([keys.profile(p) for p in dict.fromkeys(partner_ids)])
        return {str(i["partner_id"]): str(i["company_name"]) for i in found if i.get("company_name")}

    def redemptions_of(
        self, partner_id: str, person: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        """A person's redemptions, newest first: one Query of their own range of the person's history partition
        (gsi1sk REDEMPTION#...), however many rewards the person has."""
        items, more = self.table.page(
            keys.person(partner_id, person),
            index=keys.GSI1,
            key_names=("gsi1pk", "gsi1sk"),
            sk_prefix=keys.history_range("REDEMPTION"),
            limit=limit,
            cursor=cursor,
        )
        return [Redemption.model_validate(i) for i in items], more

    def write(self, change: RedemptionChange, *, expected_revision: int | None = None) -> None:
        """The redemption (new, or at the revision read), the account at the seq read with its entries, the item's
        stock, the payee's year and the outbox: all or nothing. OutOfStock when the stock ran out meanwhile;
        StaleRedemption when anything else moved on (read again and retry)."""
        t = self.table
        ops: list[dict[str, Any]] = []
        stock_at: int | None = None
        redemption = change.redemption
        if redemption is not None:
            previous = redemption.revision - 1 if expected_revision is None else expected_revision
            ops.append(
                t.op_put(
                    redemption_item(redemption),
                    condition="attribute_not_exists(pk)" if previous == 0 else "revision = :expected",
                    condition_values=None if previous == 0 else {":expected": previous},
                )
            )
        if change.account is not None:
            seq = change.account_seq
            ops.append(
                t.op_put(
                    account_item(change.account),
                    condition="attribute_not_exists(pk)" if seq is None else "seq = :seq",
                    condition_values=None if seq is None else {":seq": seq},
                )
            )
            ops += [t.op_put(entry_item(e)) for e in change.entries]
        if change.stock_delta and redemption is not None and redemption.item_id:
            stock_at = len(ops)
            taking = change.stock_delta < 0
            ops.append(
                {
                    "Update": {
                        "TableName": t.name,
                        "Key": {"pk": {"S": CATALOGUE}, "sk": {"S": f"ITEM#{redemption.item_id}"}},
                        "UpdateExpression": "ADD stock :delta, revision :one",
                        "ConditionExpression": "stock >= :one AND active = :true" if taking else "attribute_exists(pk)",
                        "ExpressionAttributeValues": {
                            ":delta": {"N": str(change.stock_delta)},
                            ":one": {"N": "1"},
                            **({":true": {"BOOL": True}} if taking else {}),
                        },
                    }
                }
            )
        if change.year is not None:
            year = change.year
            pk, sk = year_key(year)
            ops.append(
                t.op_put(
                    {"pk": pk, "sk": sk, "entity": "payee_year"} | year.model_dump(mode="json"),
                    condition="attribute_not_exists(pk)" if year.revision == 1 else "revision = :expected",
                    condition_values=None if year.revision == 1 else {":expected": year.revision - 1},
                )
            )
        ops += [t.op_put(outbox_item(e)) for e in change.events]
        if not ops:
            return
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if stock_at is not None and failure.failed_at(stock_at) and redemption is not None and redemption.item_id:
                raise OutOfStock(redemption.item_id) from failure
            raise StaleRedemption(redemption.redemption_id if redemption else "") from failure

    def payee_year(self, partner_id: str, person: str, year: int, currency: str) -> PayeeYear | None:
        found = self.table.get(f"TAX#{partner_id}", f"YEAR#{year}#{currency}#{person}")
        return PayeeYear.model_validate(found) if found else None

    # ------------------------------------------------------------- tax forms
    def tax_form(self, partner_id: str) -> TaxForm | None:
        found = self.table.get(f"TAX#{partner_id}", "FORM")
        return TaxForm.model_validate(found) if found else None

    def save_tax_form(self, form: TaxForm) -> None:
        self.table.transact(
            [
                self.table.op_put(
                    {"pk": f"TAX#{form.partner_id}", "sk": "FORM", "entity": "tax_form"} | form.model_dump(mode="json"),
                    condition=None,
                )
            ]
        )

    # ------------------------------------------------------------- payout batches
    def batch(self, batch_id: str) -> PayoutBatch | None:
        found = self.table.get(f"BATCH#{batch_id}", "BATCH")
        return PayoutBatch.model_validate(found) if found else None

    def batches(self, *, limit: int, cursor: str | None) -> tuple[list[PayoutBatch], str | None]:
        items, more = self.table.page(
            BATCHES, index=keys.GSI1, key_names=("gsi1pk", "gsi1sk"), limit=limit, cursor=cursor
        )
        return [PayoutBatch.model_validate(i) for i in items], more

    def save_batch(self, batch: PayoutBatch) -> None:
        """New (revision 1) or on condition that it is still at the revision before."""
        item = {
            "pk": f"BATCH#{batch.batch_id}",
            "sk": "BATCH",
            "entity": "payout_batch",
            "gsi1pk": BATCHES,
            "gsi1sk": f"{iso(batch.created_at)}#{batch.batch_id}",
        } | batch.model_dump(mode="json")
        first = batch.revision == 1
        try:
            self.table.transact(
                [
                    self.table.op_put(
                        item,
                        condition="attribute_not_exists(pk)" if first else "revision = :expected",
                        condition_values=None if first else {":expected": batch.revision - 1},
                    )
                ]
            )
        except ConditionFailed as failure:
            raise StaleRedemption(batch.batch_id) from failure

    def claim_payouts(self, batch_id: str, payouts: list[Redemption]) -> list[Redemption]:
        """Put approved, unbatched payouts into the batch (each conditionally: still approved and in no batch), in
        transactions of up to 25; the ones another batch took meanwhile are left out. Returns those claimed."""
        claimed: list[Redemption] = []
        for start in range(0, len(payouts), 25):
            chunk = payouts[start : start + 25]
            while chunk:
                batched = [p.model_copy(update={"batch_id": batch_id, "revision": p.revision + 1}) for p in chunk]
                ops = [
                    self.table.op_put(
                        redemption_item(p),
                        condition="revision = :expected AND #status = :approved AND attribute_not_exists(batch_id)",
                        condition_values={":expected": p.revision - 1, ":approved": "approved"},
                        names={"#status": "status"},
                    )
                    for p in batched
                ]
                try:
                    self.table.transact(ops)
                except ConditionFailed as failure:
                    lost = {chunk[i].redemption_id for i in range(len(chunk)) if failure.failed_at(i)}
                    if not lost:
                        raise
                    fresh = [self.redemption(p.redemption_id) for p in chunk if p.redemption_id not in lost]
                    chunk = [p for p in fresh if p is not None and p.status == "approved" and p.batch_id is None]
                    continue
                claimed += batched
                break
        return claimed

    def batch_payouts(self, batch_id: str) -> list[Redemption]:
        """Every payout of a batch still waiting to be paid (its gsi2 partition; at most a batch's worth)."""
        found: list[Redemption] = []
        cursor: str | None = None
        while True:
            page, cursor = self.redemptions_listed(batch_list(batch_id), limit=MAX_PAGE, cursor=cursor)
            found += page
            if cursor is None:
                return found

    # ------------------------------------------------------------- claims and their uploads
    def add_upload(self, upload: Upload) -> None:
        self.table.put_new(
            {
                "pk": f"UPLOAD#{upload.file_id}",
                "sk": "UPLOAD",
                "entity": "claim_upload",
                # the table's TTL attribute: an upload no claim named within a day goes away by itself
                UPLOAD_TTL_ATTRIBUTE: int(upload.created_at.timestamp()) + UPLOAD_TTL_SECONDS,
            }
            | upload.model_dump(mode="json")
        )

    def uploads(self, file_ids: list[str]) -> dict[str, Upload]:
        found = self.table.get_many([(f"UPLOAD#{f}", "UPLOAD") for f in file_ids])
        return {str(i["file_id"]): Upload.model_validate(i) for i in found}

    def claim(self, claim_id: str) -> Claim | None:
        found = self.table.get(f"CLAIM#{claim_id}", "CLAIM")
        return Claim.model_validate(found) if found else None

    def claims_of(self, partner_id: str, *, limit: int, cursor: str | None) -> tuple[list[Claim], str | None]:
        items, more = self.table.page(
            f"CLAIMS#{partner_id}", index=keys.GSI2, key_names=("gsi2pk", "gsi2sk"), limit=limit, cursor=cursor
        )
        return [Claim.model_validate(i) for i in items], more

    def save_claim(self, claim: Claim, events: Sequence[EventDetail] = ()) -> None:
        """New (revision 1: StaleRedemption if it exists) or on condition that it is still at the revision before,
        with its events' outbox items in the same transaction."""
        item = {
            "pk": f"CLAIM#{claim.claim_id}",
            "sk": "CLAIM",
            "entity": "claim",
            "gsi2pk": f"CLAIMS#{claim.partner_id}",
            "gsi2sk": f"{iso(claim.submitted_at)}#{claim.claim_id}",
        } | claim.model_dump(mode="json")
        first = claim.revision == 1
        try:
            self.table.transact(
                [
                    self.table.op_put(
                        item,
                        condition="attribute_not_exists(pk)" if first else "revision = :expected",
                        condition_values=None if first else {":expected": claim.revision - 1},
                    ),
                    *(self.table.op_put(outbox_item(e)) for e in events),
                ]
            )
        except ConditionFailed as failure:
            raise StaleRedemption(claim.claim_id) from failure
