"""What MDF's services depend on, as typing.Protocols: the repository, MDF's workflows and timers, and proof
storage. The shared ports (Mailer, SideEffectLedger) are in `shared.ports`.

Adapters: `mdf.repository` (DynamoDB), `mdf.workflow` (Step Functions and EventBridge Scheduler), `mdf.proofs` (S3);
in-memory fakes for service tests are in `tests/support/fakes_mdf.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mdf.models import Fund, FundRequest, LedgerEntry, PartnerProjection, Period, Upload, WinAccrual
from shared.events import EventDetail
from shared.principal import Principal


class StaleWrite(Exception):
    """The fund, the request or the period list changed since it was read: read again and retry."""


class AlreadyBooked(Exception):
    """This reference was booked before (a repeated event or decision): nothing to do."""


class MdfStore(Protocol):
    """MDF's records. Every change is one conditional write (`write`, `add_period`) that raises StaleWrite when what
    it was computed from changed, and AlreadyBooked when a guarded reference was booked before."""

    def require_agreement(self, principal: Principal) -> None:
        """Partner users act only after accepting the current programme agreement (Forbidden otherwise)."""

    def periods(self) -> list[Period]: ...

    def period(self, period_id: str) -> Period | None: ...

    def periods_version(self) -> int:
        """How many periods were ever added (a period is added only if none was added since)."""

    def add_period(self, period: Period, *, version: int) -> None:
        """StaleWrite if the period exists or another was added since `version` was read."""

    def set_accrual_rate(self, period_id: str, rate_bp: int) -> Period | None:
        """The changed period; None when there is no such period."""

    def partner(self, partner_id: str) -> PartnerProjection | None: ...

    def project_partner(self, partner: PartnerProjection) -> bool:
        """Keep the newest view of a partner; False when the event was older or repeated."""

    def partners(self, *, limit: int, cursor: str | None) -> tuple[list[PartnerProjection], str | None]: ...

    def fund(self, partner_id: str, fund_id: str) -> Fund | None: ...

    def funds(self, partner_id: str) -> list[Fund]: ...

    def ledger(
        self, partner_id: str, fund_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]: ...

    def win_accrual(self, deal_id: str, win_revision: int) -> WinAccrual | None:
        """What one win of a deal accrued (or its reversal's tombstone); None when MDF recorded nothing for it."""

    def request(self, request_id: str) -> FundRequest | None: ...

    def requests(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[FundRequest], str | None]: ...

    def add_upload(self, upload: Upload) -> None: ...

    def uploads(self, request_id: str, file_ids: list[str]) -> dict[str, Upload]: ...

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
        """Fund, ledger entries, guards, request, win record and events, all or nothing. The fund only if its `seq`
        and status are still `fund_seq` and `fund_status` (None: it must not exist yet), the request only if its
        revision is the one it was read at (or, new, if it does not exist), the win record only if its status is
        still `win_status_read` (None: it must not exist): StaleWrite otherwise; AlreadyBooked if a guard exists."""


class MdfWorkflows(Protocol):
    """MDF's workflows: the request approval chain and the claim review (started once per deterministic name), and
    the fund and claim timers (one-time schedules with deterministic names: a repeat schedules nothing new)."""

    def decision_due(self, now: datetime) -> datetime:
        """When the first approver's decision is due (the reminder goes out then)."""

    def start_request_approval(
        self, request: FundRequest, fund: Fund | None, partner: PartnerProjection | None
    ) -> str: ...

    def start_claim_review(self, request: FundRequest, partner: PartnerProjection | None, *, attempt: int) -> str: ...

    def start_fund_timer(self, fund: Fund, now: datetime, *, suffix: str = "") -> str:
        """Expiry warnings, then the expiry, of an open fund (`suffix` names a renewal)."""

    def start_claim_timer(self, request: FundRequest, now: datetime, *, suffix: str = "") -> str:
        """Reminders, then the deadline, of a claim due date (`suffix` names a renewal or a returned claim's)."""


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    head: bytes
    version_id: str | None  # the version checked: a later upload to the same key is never what reviewers see


class ProofStorage(Protocol):
    """Proof files: presigned uploads with server-side limits, checks of what arrived, short-lived downloads."""

    @property
    def upload_expires_seconds(self) -> int: ...

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]: ...

    def stored(self, key: str) -> StoredObject | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""

    def delete(self, key: str, version_id: str | None = None) -> None: ...

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str: ...
