"""MDF's DynamoDB adapter of the repository port (`mdf.ports.MdfStore`). Every change is one conditional transaction;
there is no Scan.

Keys:
- `PERIODS` / `PERIOD#<period_id>`: programme periods (a handful per year).
- `PARTNERS` / `PARTNER#<partner_id>`: the partner projection (from `PartnerOnboarded`).
- `PARTNER#<partner_id>` / `FUND#<fund_id>`: a fund's running balance and `seq`, the number of its ledger entries.
- `LEDGER#<partner_id>#<fund_id>` / `ENTRY#<seq, 10 digits>`: the append-only ledger (newest first by sort key).
- `GUARD#<partner_id>#<fund_id>#<reference>` / `GUARD`: a reference booked once (allocation, accrual, reservation,
  settlement): a redelivered event or decision cannot book twice.
- `WIN#<deal_id>` / `REVISION#<win_revision, 6 digits>`: what one win of a deal accrued, and where, or its reversal
  (a tombstone when the reversal came first): a reversal finds its accrual with one GetItem.
- `REQUEST#<request_id>` / `REQUEST` (GSIs by partner and by partner+status, newest first), with its claim inside;
  `REQUEST#<request_id>` / `UPLOAD#<file_id>`: presigned uploads handed out (expire after a day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from mdf.models import Fund, FundRequest, LedgerEntry, PartnerProjection, Period, Upload, WinAccrual
from mdf.ports import AlreadyBooked, StaleWrite
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item
from shared.principal import Principal

UPLOAD_TTL_SECONDS = 86400


def _fund_key(partner_id: str, fund_id: str) -> tuple[str, str]:
    return f"PARTNER#{partner_id}", f"FUND#{fund_id}"


def _win_key(deal_id: str, win_revision: int) -> tuple[str, str]:
    return f"WIN#{deal_id}", f"REVISION#{win_revision:06d}"


class MdfRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_agreement(self, principal: Principal) -> None:
        """The agreement gate, from this table's projection of the programme agreement (`contracts.onboarding_agreement_gate`)."""
        agreements.require_accepted(self.table, principal)

    # ------------------------------------------------------------- periods and partners
    def periods(self) -> list[Period]:
        return [Period.model_validate(i) for i in self.table.query_all("PERIODS", sk_prefix="PERIOD#")]

    def period(self, period_id: str) -> Period | None:
        item = self.table.get("PERIODS", f"PERIOD#{period_id}")
        return Period.model_validate(item) if item else None

    def periods_version(self) -> int:
        """How many periods were ever added: a period is added only if nobody added one since the list was read."""
        item = self.table.get("PERIODS", "VERSION")
        return int(item["version"]) if item else 0

    def add_period(self, period: Period, *, version: int) -> None:
        """Raises StaleWrite if the period exists or another period was added since `version` was read."""
        t = self.table
        try:
            t.transact(
                [
                    t.op_put(
                        {"pk": "PERIODS", "sk": f"PERIOD#{period.period_id}", "entity": "period"}
                        | period.model_dump(mode="json")
                    ),
                    t.op_put(
                        {"pk": "PERIODS", "sk": "VERSION", "entity": "version", "version": version + 1},
                        condition="attribute_not_exists(pk) OR version = :read",
                        condition_values={":read": version},
                    ),
                ]
            )
        except ConditionFailed as failure:
            raise StaleWrite() from failure

    def set_accrual_rate(self, period_id: str, rate_bp: int) -> Period | None:
        try:
            item = self.table.update(
                "PERIODS",
                f"PERIOD#{period_id}",
                set_fields={"accrual_rate_bp": rate_bp},
                condition="attribute_exists(pk)",
            )
        except ConditionFailed:
            return None
        return Period.model_validate(item)

    def partner(self, partner_id: str) -> PartnerProjection | None:
        item = self.table.get("PARTNERS", f"PARTNER#{partner_id}")
        return PartnerProjection.model_validate(item) if item else None

    def project_partner(self, partner: PartnerProjection) -> bool:
        """Keep the newest view of a partner; an older or repeated event changes nothing."""
        return self.table.put_newer(
            {"pk": "PARTNERS", "sk": f"PARTNER#{partner.partner_id}", "entity": "partner"}
            | partner.model_dump(mode="json"),
            order="as_of",
            value=iso(partner.as_of),
        )

    def partners(self, *, limit: int, cursor: str | None) -> tuple[list[PartnerProjection], str | None]:
        items, next_cursor = self.table.page("PARTNERS", sk_prefix="PARTNER#", limit=limit, cursor=cursor, forward=True)
        return [PartnerProjection.model_validate(i) for i in items], next_cursor

    # ------------------------------------------------------------- funds and the ledger
    def fund(self, partner_id: str, fund_id: str) -> Fund | None:
        item = self.table.get(*_fund_key(partner_id, fund_id))
        return Fund.model_validate(item) if item else None

    def funds(self, partner_id: str) -> list[Fund]:
        """A partner's funds: one per period and currency it ever received money in."""
        return [Fund.model_validate(i) for i in self.table.query_all(f"PARTNER#{partner_id}", sk_prefix="FUND#")]

    def ledger(
        self, partner_id: str, fund_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        pk = f"LEDGER#{partner_id}#{fund_id}"
        items, next_cursor = self.table.page(pk, sk_prefix="ENTRY#", limit=limit, cursor=cursor)
        return [LedgerEntry.model_validate(i) for i in items], next_cursor

    def win_accrual(self, deal_id: str, win_revision: int) -> WinAccrual | None:
        item = self.table.get(*_win_key(deal_id, win_revision))
        return WinAccrual.model_validate(item) if item else None

    # ------------------------------------------------------------- requests
    def request(self, request_id: str) -> FundRequest | None:
        item = self.table.get(f"REQUEST#{request_id}", "REQUEST")
        return FundRequest.model_validate(item) if item else None

    def requests(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[FundRequest], str | None]:
        items, next_cursor = self.table.partner_page(partner_id, status=status, limit=limit, cursor=cursor)
        return [FundRequest.model_validate(i) for i in items], next_cursor

    def add_upload(self, upload: Upload) -> None:
        self.table.put_new(
            {
                "pk": f"REQUEST#{upload.request_id}",
                "sk": f"UPLOAD#{upload.file_id}",
                "entity": "upload",
                "expires_at": int(upload.created_at.timestamp()) + UPLOAD_TTL_SECONDS,
            }
            | upload.model_dump(mode="json")
        )

    def uploads(self, request_id: str, file_ids: list[str]) -> dict[str, Upload]:
        items = self.table.get_many([(f"REQUEST#{request_id}", f"UPLOAD#{f}") for f in file_ids])
        return {i["file_id"]: Upload.model_validate(i) for i in items}

    # ------------------------------------------------------------- the one write path
    def write(
        self,
        *,
        fund: Fund | None = None,
        fund_seq: int | None = None,
        fund_status: str = "open",
        entries: Sequence[LedgerEntry] = (),
        guards: Sequence[str] = (),
        request: FundRequest | None = None,
        request_is_new: bool = False,
        win: WinAccrual | None = None,
        win_status_read: str | None = None,
        events: Sequence[EventDetail] = (),
    ) -> None:
        """Fund, ledger entries, guards, request, win record and outbox events, all or nothing.

        The fund is written only if its `seq` and status are still `fund_seq` and `fund_status` (None: it must not
        exist yet); the request only
        if its revision is the one it was read at; the win record only if its status is still `win_status_read` (None:
        it must not exist yet). StaleWrite: read again and retry. AlreadyBooked: a guard exists.
        """
        t = self.table
        ops: list[dict[str, Any]] = []
        fund_at = guard_from = guard_to = request_at = win_at = -1
        if fund is not None:
            fund_at = len(ops)
            # The fund as read: its ledger length and its status (closing changes no seq, but must not be undone).
            ops.append(
                t.op_put(
                    dict(zip(("pk", "sk"), _fund_key(fund.partner_id, fund.fund_id), strict=True))
                    | {"entity": "fund"}
                    | fund.model_dump(mode="json"),
                    condition="attribute_not_exists(pk)" if fund_seq is None else "seq = :seq AND #status = :status",
                    condition_values=None if fund_seq is None else {":seq": fund_seq, ":status": fund_status},
                    names=None if fund_seq is None else {"#status": "status"},
                )
            )
            ops += [
                t.op_put(
                    {"pk": f"LEDGER#{fund.partner_id}#{fund.fund_id}", "sk": f"ENTRY#{e.seq:010d}", "entity": "entry"}
                    | e.model_dump(mode="json")
                )
                for e in entries
            ]
            guard_from = len(ops)
            ops += [
                t.op_put({"pk": f"GUARD#{fund.partner_id}#{fund.fund_id}#{g}", "sk": "GUARD", "entity": "guard"})
                for g in guards
            ]
            guard_to = len(ops)
        if request is not None:
            request_at = len(ops)
            ops.append(
                t.op_put(
                    self._request_item(request),
                    condition="attribute_not_exists(pk)" if request_is_new else "revision = :expected",
                    condition_values=None if request_is_new else {":expected": request.revision - 1},
                )
            )
        if win is not None:
            win_at = len(ops)
            ops.append(
                t.op_put(
                    dict(zip(("pk", "sk"), _win_key(win.deal_id, win.win_revision), strict=True))
                    | {"entity": "win_accrual"}
                    | win.model_dump(mode="json"),
                    condition="attribute_not_exists(pk)" if win_status_read is None else "#status = :win_status",
                    condition_values=None if win_status_read is None else {":win_status": win_status_read},
                    names=None if win_status_read is None else {"#status": "status"},
                )
            )
        ops += [t.op_put(outbox_item(e)) for e in events]
        if not ops:
            return
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if any(failure.failed_at(i) for i in range(guard_from, guard_to)):
                raise AlreadyBooked() from failure
            if any(i >= 0 and failure.failed_at(i) for i in (fund_at, request_at, win_at)):
                raise StaleWrite() from failure
            raise

    def _request_item(self, request: FundRequest) -> dict[str, Any]:
        return {
            "pk": f"REQUEST#{request.request_id}",
            "sk": "REQUEST",
            "entity": "request",
            "gsi1pk": f"PARTNER#{request.partner_id}",
            "gsi1sk": request.request_id,
            "gsi2pk": f"PARTNER#{request.partner_id}#{request.status}",
            "gsi2sk": request.request_id,
        } | request.model_dump(mode="json")
