"""Claims at the HTTP edge: proof uploads, filing a claim with verified proof, and downloads."""

from __future__ import annotations

from dataclasses import dataclass

from mdf.domain import claims, proofs
from mdf.domain.access import ensure_own
from mdf.models import (
    ClaimBody,
    FundRequest,
    ProofFile,
    Upload,
    UploadBody,
)
from mdf.ports import ProofStorage
from mdf.service.base import UseCases
from shared import proof_files
from shared.errors import NotFound
from shared.ids import new_id
from shared.principal import Principal


def _proof(request: FundRequest, file_id: str) -> ProofFile:
    files = {f.file_id: f for f in (request.claim.proof_files if request.claim else [])}
    if file_id not in files:
        raise NotFound("No such proof file.")
    return files[file_id]


@dataclass(kw_only=True)
class ClaimsService(UseCases):
    proofs: ProofStorage
    max_bytes: int  # the largest proof file

    def create_upload(self, principal: Principal, request_id: str, body: UploadBody) -> dict[str, object]:
        partner_id = self._partner_of(principal)
        request = ensure_own(principal, self.repository.request(request_id))
        claims.ensure_can_claim(request, now=self.clock())
        proof_files.ensure_upload_size(body.size_bytes, self.max_bytes)
        file_id = new_id("file")
        key = proofs.proof_key(partner_id, request_id, file_id, body.file_name)
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
        return {
            "file_id": file_id,
            "upload": self.proofs.presigned_upload(key, body.content_type, self.max_bytes),
            "expires_in": self.proofs.upload_expires_seconds,
            "max_bytes": self.max_bytes,
        }

    def _verified(self, upload: Upload | None, request: FundRequest) -> ProofFile | str:
        """The accepted file, or what is wrong with it (a bad file is deleted: nothing of it stays)."""
        if upload is None or upload.partner_id != request.partner_id:
            return "unknown file; upload it first"
        return proof_files.checked_upload(self.proofs, upload, max_bytes=self.max_bytes)

    def _verified_files(self, request: FundRequest, file_ids: list[str]) -> list[ProofFile]:
        """Every named file must be this request's upload, present in S3, and really of its type and size.

        A bad file is deleted and the claim refused with a field error; nothing is written.
        """
        uploads = self.repository.uploads(request.request_id, file_ids)
        earlier = {f.file_id: f for f in (request.claim.proof_files if request.claim else [])}
        # a resubmission may keep files already accepted
        return proof_files.checked_files(file_ids, lambda f: earlier.get(f) or self._verified(uploads.get(f), request))

    def file_claim(self, principal: Principal, request_id: str, body: ClaimBody) -> FundRequest:
        self._partner_of(principal)
        request = ensure_own(principal, self.repository.request(request_id))
        claims.ensure_can_claim(request, now=self.clock())
        files = self._verified_files(request, body.proof_files)
        change = claims.file_claim(request, body, files, user=principal.email, now=self.clock(), new_id=new_id)
        return self._save_partner_change(change)

    def download(self, principal: Principal, request_id: str, file_id: str) -> tuple[str, str]:
        request = ensure_own(principal, self.repository.request(request_id))
        proof = _proof(request, file_id)
        return self.proofs.download_url(proof.key, proof.file_name, proof.version_id), proof.file_name

    def reviewer_download(self, request_id: str, file_id: str) -> str:
        """For a verified reviewer link (the caller checked the signature)."""
        request = self.repository.request(request_id)
        if request is None:
            raise NotFound("No such proof file.")
        proof = _proof(request, file_id)
        return self.proofs.download_url(proof.key, proof.file_name, proof.version_id)
