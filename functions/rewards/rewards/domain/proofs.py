"""Where a claim proof lives: under its own key below the partner's claims. What an uploaded file must be (its size,
declared type and first bytes) is the same for every context: shared/proof_files.py."""

from __future__ import annotations

from shared.proof_files import safe_name


def proof_key(partner_id: str, file_id: str, file_name: str) -> str:
    return f"claims/{partner_id}/{file_id}/{safe_name(file_name)}"
