"""Where a proof file lives: under its own key below the partner's fund request. What an uploaded file must be (its
size, declared type and first bytes) is the same for every context: shared/proof_files.py."""

from __future__ import annotations

from shared.proof_files import safe_name


def proof_key(partner_id: str, request_id: str, file_id: str, file_name: str) -> str:
    return f"proofs/{partner_id}/{request_id}/{file_id}/{safe_name(file_name)}"
