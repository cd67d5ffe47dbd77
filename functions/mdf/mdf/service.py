"""MDF use cases: load, apply a rule from `domain`, write conditionally (retrying lost races). Adapters are injected."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.deals import DealWon
from mdf import domain
from mdf.domain import Change
from mdf.models import (
    AdjustmentBody,
    AllocationBody,
    ApprovalExpired,
    ClaimBody,
    ClaimDecision,
    Fund,
    FundRequest,
    FundRequestBody,
    LedgerEntry,
    PartnerProjection,
    Period,
    PeriodBody,
    ProofFile,
    RequestDecision,
    Upload,
    UploadBody,
)
from mdf.proofs import ProofStore
from mdf.repository import AlreadyBooked, MdfRepository, StaleWrite
from shared.clock import Clock, utc_now
from shared.dynamo import ConditionFailed
from shared.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from shared.http import Principal
from shared.ids import new_id

ATTEMPTS = 8  # optimistic retries when concurrent changes race on one fund or request


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.01 * 2**attempt))


class Busy(Conflict):
    def __init__(self) -> None:
        super().__init__("The fund is changing right now; try again.", code="conflict")


@dataclass
class MdfService:
    repository: MdfRepository
    proofs: ProofStore | None = None
    clock: Clock = utc_now

    # ------------------------------------------------------------- who is asking
    def _partner_of(self, principal: Principal) -> str:
        """A partner user of an active partner; the partner id is the token's, never the body's."""
        if principal.partner_id is None:
            raise Forbidden("Only partner users manage fund requests and claims.")
        partner = self.repository.partner(principal.partner_id)
        if partner is None or partner.status != "active":
            raise Forbidden("Your organisation is not an active partner.", code="partner_inactive")
        return principal.partner_id

    @staticmethod
    def _vendor(principal: Principal) -> None:
        if not principal.in_group("vendor-admin"):
            raise Forbidden("Only vendor administrators do this.")

    def _reader(self, principal: Principal, partner_id: str | None) -> str:
        """Whose funds a read is about: the caller's own, or for a vendor admin the partner named."""
        if principal.in_group("vendor-admin"):
            if not partner_id:
                raise ValidationFailed("Name the partner.", [FieldError("partner_id", "required for vendor staff")])
            return partner_id
        if principal.partner_id is None:
            raise Forbidden("Only partner users and vendor administrators see funds.")
        return principal.partner_id

    # ------------------------------------------------------------- periods, partners, allocations
    def periods(self) -> list[Period]:
        return sorted(self.repository.periods(), key=lambda p: (p.starts_on, p.period_id), reverse=True)

    def add_period(self, principal: Principal, body: PeriodBody) -> Period:
        self._vendor(principal)
        period = domain.new_period(body, actor=principal.email, now=self.clock())
        for _ in range(ATTEMPTS):  # periods never overlap, even when two are added at once
            version = self.repository.periods_version()
            existing = self.repository.periods()
            if any(p.period_id == period.period_id for p in existing):
                raise Conflict(f"{body.period_id} exists.", errors=[FieldError("period_id", "already exists")])
            domain.ensure_no_overlap(period, existing)
            try:
                self.repository.add_period(period, version=version)
            except ConditionFailed:
                continue
            return period
        raise Busy()

    def set_accrual_rate(self, principal: Principal, period_id: str, rate_bp: int) -> Period:
        self._vendor(principal)
        try:
            return self.repository.set_accrual_rate(period_id, rate_bp)
        except ConditionFailed as failure:
            raise NotFound("No such period.") from failure

    def partners(
        self, principal: Principal, limit: int, cursor: str | None
    ) -> tuple[list[PartnerProjection], str | None]:
        self._vendor(principal)
        return self.repository.partners(limit=limit, cursor=cursor)

    def _vendor_booking(
        self, principal: Principal, partner_id: str, period_id: str, currency: str, rule: Callable[..., Change]
    ) -> tuple[Fund, LedgerEntry]:
        """An allocation or adjustment by vendor staff: `rule(fund, period)` books it on the fund as read now."""
        self._vendor(principal)
        if self.repository.partner(partner_id) is None:
            raise ValidationFailed("Unknown partner.", [FieldError("partner_id", "no such partner")])
        period = self.repository.period(period_id)
        if period is None:
            raise ValidationFailed("Unknown programme period.", [FieldError("period_id", "no such period")])
        change = self._on_fund(partner_id, domain.fund_id(period_id, currency), lambda fund: rule(fund, period))
        assert change.fund is not None
        return change.fund, change.entries[0]

    def allocate(self, principal: Principal, body: AllocationBody) -> tuple[Fund, LedgerEntry]:
        return self._vendor_booking(
            principal,
            body.partner_id,
            body.period_id,
            body.amount.currency,
            lambda fund, period: domain.allocate(
                fund,
                period,
                partner_id=body.partner_id,
                amount=body.amount,
                note=body.note,
                actor=principal.email,
                now=self.clock(),
                new_id=new_id,
            ),
        )

    def adjust(self, principal: Principal, body: AdjustmentBody) -> tuple[Fund, LedgerEntry]:
        return self._vendor_booking(
            principal,
            body.partner_id,
            body.period_id,
            body.amount.currency,
            lambda fund, period: domain.adjust(
                fund,
                period,
                partner_id=body.partner_id,
                amount_minor=body.amount.amount_minor,
                currency=body.amount.currency,
                note=body.note,
                actor=principal.email,
                now=self.clock(),
                new_id=new_id,
            ),
        )

    def accrue(self, won: DealWon) -> str:
        period = domain.period_for(self.repository.periods(), won.close_date)
        if period is None:
            return f"not accrued: no period contains {won.close_date}"
        change = self._on_fund(
            won.partner_id,
            domain.fund_id(period.period_id, won.amount.currency),
            lambda fund: domain.accrue(fund, period, won, now=self.clock(), new_id=new_id),
        )
        return change.outcome

    # ------------------------------------------------------------- balances
    def funds(self, principal: Principal, partner_id: str | None) -> list[Fund]:
        owner = self._reader(principal, partner_id)
        return sorted(self.repository.funds(owner), key=lambda f: (f.claim_window_ends_at, f.fund_id), reverse=True)

    def fund(self, principal: Principal, partner_id: str | None, fund_id: str) -> Fund:
        owner = self._reader(principal, partner_id)
        domain.parse_fund_id(fund_id)
        fund = self.repository.fund(owner, fund_id)
        if fund is None:
            raise NotFound("No such fund.")
        return fund

    def ledger(
        self, principal: Principal, partner_id: str | None, fund_id: str, limit: int, cursor: str | None
    ) -> tuple[Fund, list[LedgerEntry], str | None]:
        fund = self.fund(principal, partner_id, fund_id)
        entries, next_cursor = self.repository.ledger(fund.partner_id, fund_id, limit=limit, cursor=cursor)
        return fund, entries, next_cursor

    # ------------------------------------------------------------- fund requests
    def _open_currencies(self, partner_id: str, period_id: str, fund: Fund | None) -> tuple[str, ...]:
        """Only read when the asked currency has no open fund, to name the ones the partner can ask in."""
        if fund is not None and fund.status == "open":
            return ()
        funds = self.repository.funds(partner_id)
        return tuple(f.currency for f in funds if f.period_id == period_id and f.status == "open")

    def submit(self, principal: Principal, body: FundRequestBody, lead_days: int) -> FundRequest:
        partner_id = self._partner_of(principal)
        change = domain.submit(
            body,
            partner_id=partner_id,
            user=principal.email,
            period=self.repository.period(body.period_id),
            fund=(fund := self.repository.fund(partner_id, domain.fund_id(body.period_id, body.requested.currency))),
            lead_days=lead_days,
            now=self.clock(),
            new_id=new_id,
            open_currencies=self._open_currencies(partner_id, body.period_id, fund),
        )
        assert change.request is not None
        self.repository.write(request=change.request, request_is_new=True, events=change.events)
        return change.request

    def revise(self, principal: Principal, request_id: str, body: FundRequestBody, lead_days: int) -> FundRequest:
        partner_id = self._partner_of(principal)
        previous = domain.ensure_own(principal, self.repository.request(request_id))
        change = domain.submit(
            body,
            partner_id=partner_id,
            user=principal.email,
            period=self.repository.period(body.period_id),
            fund=(fund := self.repository.fund(partner_id, domain.fund_id(body.period_id, body.requested.currency))),
            lead_days=lead_days,
            now=self.clock(),
            new_id=new_id,
            open_currencies=self._open_currencies(partner_id, body.period_id, fund),
            previous=previous,
        )
        assert change.request is not None
        try:
            self.repository.write(request=change.request, events=change.events)
        except StaleWrite as stale:
            raise Conflict("The request changed meanwhile; reload it.") from stale
        return change.request

    def get(self, principal: Principal, request_id: str) -> FundRequest:
        return domain.ensure_own(principal, self.repository.request(request_id))

    def list_requests(
        self, principal: Principal, partner_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[FundRequest], str | None]:
        """The caller's requests, or for a vendor admin those of the partner named."""
        owner = self._reader(principal, partner_id)
        return self.repository.requests(owner, status=status, limit=limit, cursor=cursor)

    # ------------------------------------------------------------- claims and proof files
    def _store(self) -> ProofStore:
        if self.proofs is None:
            raise RuntimeError("no proof store configured")
        return self.proofs

    def create_upload(
        self, principal: Principal, request_id: str, body: UploadBody, max_bytes: int
    ) -> dict[str, object]:
        partner_id = self._partner_of(principal)
        request = domain.ensure_own(principal, self.repository.request(request_id))
        domain.ensure_can_claim(request, now=self.clock())
        if body.size_bytes > max_bytes:
            raise ValidationFailed(
                "The file is too large.",
                [FieldError("size_bytes", f"proof files may be at most {max_bytes // (1024 * 1024)} MB")],
            )
        file_id = new_id("file")
        key = domain.proof_key(partner_id, request_id, file_id, body.file_name)
        upload = Upload(
            file_id=file_id,
            request_id=request_id,
            partner_id=partner_id,
            key=key,
            file_name=body.file_name,
            content_type=body.content_type,
            size_bytes=body.size_bytes,
            created_at=self.clock(),
        )
        self.repository.add_upload(upload)
        from mdf.proofs import UPLOAD_EXPIRES_SECONDS

        return {
            "file_id": file_id,
            "upload": self._store().presigned_upload(key, body.content_type, max_bytes),
            "expires_in": UPLOAD_EXPIRES_SECONDS,
            "max_bytes": max_bytes,
        }

    def _verified_files(self, request: FundRequest, file_ids: list[str], max_bytes: int) -> list[ProofFile]:
        """Every named file must be this request's upload, present in S3, and really of its type and size.

        A bad file is deleted and the claim refused with a field error; nothing is written.
        """
        uploads = self.repository.uploads(request.request_id, file_ids)
        earlier = {f.file_id: f for f in (request.claim.proof_files if request.claim else [])}
        files: list[ProofFile] = []
        errors: list[FieldError] = []
        for index, file_id in enumerate(file_ids):
            if file_id in earlier:  # a resubmission may keep files already accepted
                files.append(earlier[file_id])
                continue
            upload = uploads.get(file_id)
            if upload is None or upload.partner_id != request.partner_id:
                errors.append(FieldError(f"proof_files.{index}", "unknown file; upload it first"))
                continue
            stored = self._store().stored(upload.key)
            if stored is None:
                errors.append(FieldError(f"proof_files.{index}", f"{upload.file_name} was not uploaded"))
                continue
            problem = domain.proof_problem(
                upload, size=stored.size, content_type=stored.content_type, head=stored.head, max_bytes=max_bytes
            )
            if problem:
                self._store().delete(upload.key, stored.version_id)
                errors.append(FieldError(f"proof_files.{index}", f"{upload.file_name} {problem}"))
                continue
            files.append(
                ProofFile(
                    file_id=file_id,
                    file_name=upload.file_name,
                    content_type=upload.content_type,
                    size_bytes=stored.size,
                    key=upload.key,
                    version_id=stored.version_id,
                )
            )
        if errors:
            raise ValidationFailed("Some proof files are not acceptable.", errors)
        return files

    def file_claim(self, principal: Principal, request_id: str, body: ClaimBody, max_bytes: int) -> FundRequest:
        self._partner_of(principal)
        request = domain.ensure_own(principal, self.repository.request(request_id))
        domain.ensure_can_claim(request, now=self.clock())
        files = self._verified_files(request, body.proof_files, max_bytes)
        change = domain.file_claim(request, body, files, user=principal.email, now=self.clock(), new_id=new_id)
        assert change.request is not None
        try:
            self.repository.write(request=change.request, events=change.events)
        except StaleWrite as stale:
            raise Conflict("The request changed meanwhile; reload it.") from stale
        return change.request

    def _proof(self, request: FundRequest, file_id: str) -> ProofFile:
        files = {f.file_id: f for f in (request.claim.proof_files if request.claim else [])}
        if file_id not in files:
            raise NotFound("No such proof file.")
        return files[file_id]

    def download(self, principal: Principal, request_id: str, file_id: str) -> tuple[str, str]:
        request = domain.ensure_own(principal, self.repository.request(request_id))
        proof = self._proof(request, file_id)
        return self._store().download_url(proof.key, proof.file_name, proof.version_id), proof.file_name

    def reviewer_download(self, request_id: str, file_id: str) -> str:
        """For a verified reviewer link (the caller checked the signature)."""
        request = self.repository.request(request_id)
        if request is None:
            raise NotFound("No such proof file.")
        proof = self._proof(request, file_id)
        return self._store().download_url(proof.key, proof.file_name, proof.version_id)

    # ------------------------------------------------------------- workflow side
    def _retrying(self, once: Callable[[], Change]) -> Change:
        """Run a read-decide-write step; a lost race reads again, a reference booked before is a duplicate."""
        for attempt in range(ATTEMPTS):
            try:
                return once()
            except StaleWrite:
                _pause(attempt)
            except AlreadyBooked:
                return Change(outcome="duplicate")
        raise Busy()

    def _commit(self, change: Change, fund_read: Fund | None) -> Change:
        """Write what a rule decided, on condition that the fund is still as it was read."""
        if change.request is not None or change.fund is not None:
            self.repository.write(
                fund=change.fund,
                fund_seq=fund_read.seq if fund_read is not None else None,
                fund_status=fund_read.status if fund_read is not None else "open",
                entries=change.entries,
                guards=change.guards,
                request=change.request,
                events=change.events,
            )
        return change

    def _on_fund(self, partner_id: str, fund_id: str, rule: Callable[[Fund | None], Change]) -> Change:
        """Apply a ledger rule to the fund as read now."""

        def once() -> Change:
            fund = self.repository.fund(partner_id, fund_id)
            return self._commit(rule(fund), fund)

        return self._retrying(once)

    def _on_request(self, request_id: str, rule: Callable[[FundRequest, Fund | None], Change]) -> Change:
        """Apply a rule to a request and its fund together (reservation, payment, release)."""

        def once() -> Change:
            request = self.repository.request(request_id)
            if request is None:
                raise LookupError(f"request {request_id} not found")
            fund = self.repository.fund(request.partner_id, request.fund_id)
            return self._commit(rule(request, fund), fund)

        return self._retrying(once)

    def mark_under_review(self, request_id: str, decision_due_at: datetime) -> FundRequest | None:
        def rule(request: FundRequest, fund: Fund | None) -> Change:
            return Change(request=domain.under_review(request, decision_due_at=decision_due_at, now=self.clock()))

        return self._on_request(request_id, rule).request

    def decide_request(self, decision: RequestDecision, claim_due_days: int) -> Change:
        return self._on_request(
            decision.request_id,
            lambda request, fund: domain.decide_request(
                request, decision, fund, claim_due_days=claim_due_days, now=self.clock(), new_id=new_id
            ),
        )

    def request_lapsed(self, message: ApprovalExpired) -> Change:
        return self._on_request(
            message.request_id, lambda request, fund: domain.approval_lapsed(request, message, now=self.clock())
        )

    def decide_claim(self, decision: ClaimDecision) -> Change:
        def rule(request: FundRequest, fund: Fund | None) -> Change:
            if fund is None:
                raise LookupError(f"fund {request.fund_id} of {request.request_id} not found")
            return domain.decide_claim(request, decision, fund, now=self.clock(), new_id=new_id)

        return self._on_request(decision.request_id, rule)

    def claim_deadline(self, request_id: str, timer_due: str) -> Change:
        def rule(request: FundRequest, fund: Fund | None) -> Change:
            if fund is None:
                return Change(outcome="nothing due")
            if request.claim_due_at is None or domain.timer_time(request.claim_due_at) != timer_due:
                return Change(outcome="stale timer (the due date moved)")
            return domain.claim_deadline(request, fund, now=self.clock(), new_id=new_id)

        return self._on_request(request_id, rule)

    def expire_fund(self, partner_id: str, fund_id: str) -> Change:
        def rule(fund: Fund | None) -> Change:
            if fund is None:
                return Change(outcome="no such fund")
            return domain.expire_fund(fund, now=self.clock(), new_id=new_id)

        return self._on_fund(partner_id, fund_id, rule)

    def project_partner(self, partner: PartnerProjection) -> str:
        return "projected" if self.repository.project_partner(partner) else "older or repeated"
