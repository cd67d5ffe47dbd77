"""S3 adapter of the proof storage port (`mdf.ports.ProofStorage`): presigned POST uploads with server-side limits,
checks of what arrived, short-lived downloads (the bucket work is shared.uploads')."""

from __future__ import annotations

from mdf.ports import StoredObject
from shared.uploads import UploadBucket, presigned_get


class ProofStore(UploadBucket):
    def stored(self, key: str) -> StoredObject | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""
        found = self.sniffed(key)
        if found is None:
            return None
        size, content_type, head, version_id = found
        return StoredObject(size=size, content_type=content_type, head=head, version_id=version_id)

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return presigned_get(self._s3, self.bucket, key, file_name, version_id, fallback="proof")
