"""What an uploaded claim proof must be: under its own key, of the size and type declared, and really of that type
(its first bytes are checked against the type's signature, not only the declared content type)."""

from __future__ import annotations

import re

from rewards.models.redemptions import ProofFile, Upload
from shared.errors import FieldError, ValidationFailed

PROOF_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
PROOF_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


def _megabytes(size: int) -> int:
    return size // (1024 * 1024)


def ensure_upload_size(size_bytes: int, max_bytes: int) -> None:
    if size_bytes > max_bytes:
        raise ValidationFailed(
            "The file is too large.",
            [FieldError("size_bytes", f"proof files may be at most {_megabytes(max_bytes)} MB")],
        )


def proof_key(partner_id: str, file_id: str, file_name: str) -> str:
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", file_name)).strip("._")[:100] or "file"
    return f"claims/{partner_id}/{file_id}/{safe}"


def proof_problem(upload: Upload, *, size: int, content_type: str, head: bytes, max_bytes: int) -> str | None:
    """Why an uploaded object is not acceptable proof, or None. The bytes are checked, not only the declared type."""
    if content_type != upload.content_type:
        return f"was uploaded as {content_type or 'an unknown type'}, not {upload.content_type}"
    if not 0 < size <= max_bytes:
        return f"is {size} bytes; proof files must be 1 byte to {_megabytes(max_bytes)} MB"
    signatures = PROOF_SIGNATURES.get(content_type, ())
    if not any(head.startswith(s) for s in signatures):
        return f"is not a valid {PROOF_LABELS.get(content_type, content_type)} file"
    return None


def proof_file(upload: Upload, *, size: int, version_id: str | None) -> ProofFile:
    return ProofFile(
        file_id=upload.file_id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        size_bytes=size,
        key=upload.key,
        version_id=version_id,
    )
