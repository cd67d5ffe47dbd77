"""S3 adapter of the claim proof port (`rewards.ports.ProofStorage`) in the rewards bucket: presigned POST uploads
with server-side limits, checks of what arrived (size, type, first bytes), short-lived downloads (the bucket work is
shared.uploads')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.uploads import UploadBucket, presigned_get


@dataclass(frozen=True)
class StoredProof:
    size: int
    content_type: str
    head: bytes
    version_id: str | None


def download_url(s3: Any, bucket: str, key: str, file_name: str, version_id: str | None = None) -> str:
    return presigned_get(s3, bucket, key, file_name, version_id, fallback="proof")


class ProofStore(UploadBucket):
    def stored(self, key: str) -> StoredProof | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""
        found = self.sniffed(key)
        if found is None:
            return None
        size, content_type, head, version_id = found
        return StoredProof(size=size, content_type=content_type, head=head, version_id=version_id)

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return download_url(self._s3, self.bucket, key, file_name, version_id)
