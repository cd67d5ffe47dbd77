"""SPIFF claim use cases. At the HTTP edge (`ClaimsService`): proof uploads (presigned POST), filing a claim with
verified proof inside its campaign's window (saved with its RewardClaimSubmitted outbox item: the review starts from
that event on the queue, so the HTTP answer never depends on Step Functions), resubmitting a returned claim (a new
round, the same event), reading claims and their proof. On the queue (`ClaimLifecycle`): the reviewer's decision (approve earns the rule's reward through the
earning service, source kind "claim"; decline; return for more proof), a review that lapsed, and the claimant's email."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rewards.domain import claims, proofs
from rewards.models.redemptions import (
    Claim,
    ClaimBody,
    ProofFile,
    ResubmitBody,
    Upload,
    UploadBody,
)
from rewards.ports import ProofStorage, RedemptionsRepository, StaleRedemption
from rewards.service.redemptions import MAX_LIST, VENDOR_ADMIN, require_partner_user
from shared import proof_files
from shared.clock import Clock, utc_now
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.principal import Principal

ATTEMPTS = 8
MAX_REVIEW_ATTEMPTS = 3  # a review that keeps lapsing starts again this often, then operations must act


@dataclass(kw_only=True)
class ClaimUseCases:
    repository: RedemptionsRepository
    clock: Clock = utc_now
    new_id: Callable[[str], str] = new_id

    def _claim(self, claim_id: str) -> Claim:
        found = self.repository.claim(claim_id)
        if found is None:
            raise NotFound("No such claim.")
        return found


def _own(principal: Principal, claim: Claim | None) -> Claim:
    """Another person's claim does not exist as far as the caller can tell (a partner admin sees the organisation's)."""
    if claim is None:
        raise NotFound("No such claim.")
    if principal.in_group(VENDOR_ADMIN):
        return claim
    if claim.partner_id != principal.partner_id or not (
        claim.person == principal.email or principal.in_group("partner-admin")
    ):
        raise NotFound("No such claim.")
    return claim


@dataclass(kw_only=True)
class ClaimsService(ClaimUseCases):
    proofs: ProofStorage
    max_bytes: int

    def create_upload(self, principal: Principal, body: UploadBody) -> dict[str, object]:
        partner_id = require_partner_user(principal)
        proof_files.ensure_upload_size(body.size_bytes, self.max_bytes)
        file_id = self.new_id("file")
        key = proofs.proof_key(partner_id, file_id, body.file_name)
        self.repository.add_upload(
            Upload(
                file_id=file_id,
                partner_id=partner_id,
                person=principal.email,
                key=key,
                file_name=body.file_name,
                content_type=body.content_type,
                size_bytes=body.size_bytes,
                created_at=self.clock(),
            )
        )
        return {
            "file_id": file_id,
            "upload": self.proofs.presigned_upload(key, body.content_type, self.max_bytes),
            "expires_in": self.proofs.upload_expires_seconds,
            "max_bytes": self.max_bytes,
        }

    def _verified(self, upload: Upload | None, principal: Principal) -> ProofFile | str:
        """The accepted file, or what is wrong with it (a bad file is deleted: nothing of it stays)."""
        if upload is None or upload.partner_id != principal.partner_id or upload.person != principal.email:
            return "unknown file; upload it first"
        return proof_files.checked_upload(self.proofs, upload, max_bytes=self.max_bytes)

    def _verified_files(self, principal: Principal, file_ids: list[str], earlier: list[ProofFile]) -> list[ProofFile]:
        """Every named file must be the caller's upload, present in S3, and really of its type and size (a
        resubmission may keep files accepted before). A bad file is deleted and the claim refused; nothing is written."""
        uploads = self.repository.uploads([f for f in file_ids if f not in {e.file_id for e in earlier}])
        kept = {f.file_id: f for f in earlier}
        return proof_files.checked_files(file_ids, lambda f: kept.get(f) or self._verified(uploads.get(f), principal))

    def file_claim(self, principal: Principal, body: ClaimBody) -> Claim:
        """A claim on a SPIFF rule of a running campaign, with verified proof, saved in review ("submitted") with the
        RewardClaimSubmitted event that starts its review. The claim id is derived from who claims with which files,
        so a retry finds the same claim (whose event was written with it: nothing more to do)."""
        partner_id = require_partner_user(principal)
        now = self.clock()
        existing = self.repository.claim(claims.claim_id(partner_id, principal.email, body.proof_files))
        if existing is not None:
            return existing
        campaign = self.repository.campaign(body.campaign_id)
        rule = claims.spiff_rule(campaign, body.rule_id, self.repository.partner_at(partner_id, now), now)
        assert campaign is not None
        files = self._verified_files(principal, body.proof_files, [])
        claim = claims.file_claim(campaign, rule, body, files, partner_id=partner_id, person=principal.email, now=now)
        try:
            self.repository.save_claim(claim, [claims.submitted(claim, new_id=self.new_id)])
        except StaleRedemption:
            pass  # the same claim, filed (with its event) by a concurrent retry
        return self._claim(claim.claim_id)

    def resubmit(self, principal: Principal, claim_id: str, body: ResubmitBody) -> Claim:
        """More proof for a returned claim: a new review round, started by its RewardClaimSubmitted event. Only the
        claimant, a partner user: vendor staff are refused before the claim is read."""
        require_partner_user(principal)
        claim = _own(principal, self.repository.claim(claim_id))
        if claim.person != principal.email:
            raise NotFound("No such claim.")
        campaign = self.repository.campaign(claim.campaign_id)
        files = self._verified_files(principal, body.proof_files, claim.proof_files)
        now = self.clock()
        partner = self.repository.partner_at(claim.partner_id, now)
        again = claims.resubmit(
            claim, files, body.description, by=principal.email, campaign=campaign, partner=partner, now=now
        )
        try:
            self.repository.save_claim(again, [claims.submitted(again, new_id=self.new_id)])
        except StaleRedemption as stale:
            raise Conflict("The claim changed meanwhile; reload it.") from stale
        return again

    def claim(self, principal: Principal, claim_id: str) -> Claim:
        return _own(principal, self.repository.claim(claim_id))

    def claims_of(self, principal: Principal, *, limit: int, cursor: str | None) -> tuple[list[Claim], str | None]:
        """A partner's claims, newest first: a partner user sees their own, a partner admin the organisation's."""
        partner_id = require_partner_user(principal)
        found, more = self.repository.claims_of(partner_id, limit=max(1, min(limit, MAX_LIST)), cursor=cursor)
        if not principal.in_group("partner-admin"):
            found = [c for c in found if c.person == principal.email]
        return found, more

    def download(self, principal: Principal, claim_id: str, file_id: str) -> tuple[str, str]:
        proof = _proof(_own(principal, self.repository.claim(claim_id)), file_id)
        return self.proofs.download_url(proof.key, proof.file_name, proof.version_id), proof.file_name

    def reviewer_download(self, claim_id: str, file_id: str) -> str:
        """For a verified reviewer link (the caller checked its signature)."""
        proof = _proof(self._claim(claim_id), file_id)
        return self.proofs.download_url(proof.key, proof.file_name, proof.version_id)


def _proof(claim: Claim, file_id: str) -> ProofFile:
    files = {f.file_id: f for f in claim.proof_files}
    if file_id not in files:
        raise NotFound("No such proof file.")
    return files[file_id]
