"""In-memory fakes of MDF's ports (`mdf.ports.MdfStore`, `mdf.ports.ProofStorage`), for service tests without AWS
or moto.

The store keeps the conditions the DynamoDB adapter writes with, so the services meet the same refusals:
- a fund is written only at the `seq` and status it was read at (or only if it does not exist yet): `StaleWrite`;
- a request only at the revision after the stored one (or only if new): `StaleWrite`;
- a guarded reference (reservation, accrual, settlement...) is booked once: `AlreadyBooked`;
- a win record only if its status is still the one read (or only if new): `StaleWrite`;
- a period only if none was added since the list was read: `StaleWrite`;
and every write is all or nothing, with its events in `outbox`. Beyond what DynamoDB could check, it refuses to store
a fund with a negative `available` or `reserved` (AssertionError): no use case may ever try. `before_write` lets a
test slip another writer in between a use case's read and its write (a lost race, made deterministic).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from mdf.models import Fund, FundRequest, LedgerEntry, PartnerProjection, Period, Upload, WinAccrual
from mdf.ports import AlreadyBooked, StaleWrite, StoredObject
from shared.events import EventDetail
from shared.principal import Principal
from tests.support.fakes import keep_newer

FundKey = tuple[str, str]  # (partner id, fund id)


@dataclass
class _AgreementItems:
    """The `AGREEMENT` items, read by the kernel's gate as the adapter's table would answer them."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.items.get((pk, sk))


def _page(items: list[Any], scope: str, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    start = int(cursor.removeprefix(scope)) if cursor else 0
    more = start + limit < len(items)
    return items[start : start + limit], (f"{scope}{start + limit}" if more else None)


@dataclass
class FakeMdfStore:
    period_items: dict[str, Period] = field(default_factory=dict)
    version: int = 0  # periods ever added
    partner_items: dict[str, PartnerProjection] = field(default_factory=dict)
    fund_items: dict[FundKey, Fund] = field(default_factory=dict)
    entries: dict[FundKey, list[LedgerEntry]] = field(default_factory=dict)
    guards: set[tuple[str, str, str]] = field(default_factory=set)  # (partner, fund, reference)
    request_items: dict[str, FundRequest] = field(default_factory=dict)
    upload_items: dict[tuple[str, str], Upload] = field(default_factory=dict)
    win_items: dict[tuple[str, int], WinAccrual] = field(default_factory=dict)  # (deal id, win revision)
    outbox: list[EventDetail] = field(default_factory=list)
    agreement: _AgreementItems = field(default_factory=_AgreementItems)
    before_write: Callable[[], None] | None = None  # runs once, at the start of the next write
    writes: int = 0  # writes that committed

    # ------------------------------------------------------------- test set-up and inspection
    def publish_agreement(self, version: str) -> None:
        self.agreement.items[agreements.PK, "CURRENT"] = {"version": version}

    def accept_agreement(self, version: str, sub: str) -> None:
        self.agreement.items[agreements.PK, f"ACCEPTED#{version}#{sub}"] = {"sub": sub}

    def events(self, detail_type: str) -> list[EventDetail]:
        return [e for e in self.outbox if type(e).__name__ == detail_type]

    def ledger_of(self, partner_id: str, fund_id: str) -> list[LedgerEntry]:
        return list(self.entries.get((partner_id, fund_id), []))

    # ------------------------------------------------------------- periods and partners
    def require_agreement(self, principal: Principal) -> None:
        agreements.require_accepted(self.agreement, principal)  # type: ignore[arg-type]

    def periods(self) -> list[Period]:
        return list(self.period_items.values())

    def period(self, period_id: str) -> Period | None:
        return self.period_items.get(period_id)

    def periods_version(self) -> int:
        return self.version

    def add_period(self, period: Period, *, version: int) -> None:
        self._interleave()
        if period.period_id in self.period_items or self.version != version:
            raise StaleWrite()
        self.period_items[period.period_id] = period
        self.version += 1

    def set_accrual_rate(self, period_id: str, rate_bp: int) -> Period | None:
        period = self.period_items.get(period_id)
        if period is None:
            return None
        self.period_items[period_id] = period.model_copy(update={"accrual_rate_bp": rate_bp})
        return self.period_items[period_id]

    def partner(self, partner_id: str) -> PartnerProjection | None:
        return self.partner_items.get(partner_id)

    def project_partner(self, partner: PartnerProjection) -> bool:
        return keep_newer(self.partner_items, partner.partner_id, partner, lambda p: p.as_of)

    def partners(self, *, limit: int, cursor: str | None) -> tuple[list[PartnerProjection], str | None]:
        ordered = sorted(self.partner_items.values(), key=lambda p: p.partner_id)
        return _page(ordered, "partners|", limit, cursor)

    # ------------------------------------------------------------- funds and the ledger
    def fund(self, partner_id: str, fund_id: str) -> Fund | None:
        return self.fund_items.get((partner_id, fund_id))

    def funds(self, partner_id: str) -> list[Fund]:
        return [f for (owner, _), f in self.fund_items.items() if owner == partner_id]

    def ledger(
        self, partner_id: str, fund_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        newest_first = sorted(self.entries.get((partner_id, fund_id), []), key=lambda e: e.seq, reverse=True)
        return _page(newest_first, f"{partner_id}|{fund_id}|", limit, cursor)

    def win_accrual(self, deal_id: str, win_revision: int) -> WinAccrual | None:
        return self.win_items.get((deal_id, win_revision))

    # ------------------------------------------------------------- requests and uploads
    def request(self, request_id: str) -> FundRequest | None:
        return self.request_items.get(request_id)

    def requests(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[FundRequest], str | None]:
        mine = sorted(
            (r for r in self.request_items.values() if r.partner_id == partner_id and status in (None, r.status)),
            key=lambda r: r.request_id,
            reverse=True,
        )
        return _page(mine, f"{partner_id}|{status or ''}|", limit, cursor)

    def add_upload(self, upload: Upload) -> None:
        assert (upload.request_id, upload.file_id) not in self.upload_items
        self.upload_items[upload.request_id, upload.file_id] = upload

    def uploads(self, request_id: str, file_ids: list[str]) -> dict[str, Upload]:
        return {f: u for f in file_ids if (u := self.upload_items.get((request_id, f))) is not None}

    # ------------------------------------------------------------- the one write path
    def _interleave(self) -> None:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            hook()

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
        self._interleave()
        key = (fund.partner_id, fund.fund_id) if fund is not None else None
        guard_keys = [(*key, g) for g in guards] if key is not None else []
        if any(g in self.guards for g in guard_keys):
            raise AlreadyBooked()
        if key is not None:
            stored = self.fund_items.get(key)
            if fund_seq is None and stored is not None:
                raise StaleWrite()
            if fund_seq is not None and (stored is None or (stored.seq, stored.status) != (fund_seq, fund_status)):
                raise StaleWrite()
        if request is not None:
            known = self.request_items.get(request.request_id)
            if (known is not None) if request_is_new else (known is None or known.revision != request.revision - 1):
                raise StaleWrite()
        if win is not None:
            stored_win = self.win_items.get((win.deal_id, win.win_revision))
            if (stored_win.status if stored_win is not None else None) != win_status_read:
                raise StaleWrite()
        if fund is not None and key is not None:
            assert fund.available >= 0 and fund.reserved >= 0, f"a negative balance was written: {fund!r}"
            written = self.entries.setdefault(key, [])
            assert not {e.seq for e in entries} & {e.seq for e in written}, "a ledger entry was written twice"
            self.fund_items[key] = fund
            written.extend(entries)
            self.guards.update(guard_keys)
        if request is not None:
            self.request_items[request.request_id] = request
        if win is not None:
            self.win_items[win.deal_id, win.win_revision] = win
        self.outbox.extend(events)
        self.writes += 1


@dataclass
class FakeProofStorage:
    """Uploaded objects by key (what a browser's presigned POST put there), with version ids as S3's are."""

    objects: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)  # key -> (content type, body, version)
    deleted: list[tuple[str, str | None]] = field(default_factory=list)
    upload_expires_seconds: int = 600

    def put(self, key: str, content_type: str, body: bytes) -> None:
        """What the partner's browser uploads with the presigned POST."""
        self.objects[key] = (content_type, body, f"v{len(self.objects) + len(self.deleted) + 1}")

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        return {"url": "https://proofs.example.com/", "fields": {"key": key, "Content-Type": content_type}}

    def stored(self, key: str) -> StoredObject | None:
        if key not in self.objects:
            return None
        content_type, body, version = self.objects[key]
        return StoredObject(size=len(body), content_type=content_type, head=body[:512], version_id=version)

    def delete(self, key: str, version_id: str | None = None) -> None:
        self.objects.pop(key, None)
        self.deleted.append((key, version_id))

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return f"https://proofs.example.com/{key}?versionId={version_id}&name={file_name}"
