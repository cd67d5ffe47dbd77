"""S3 adapter of the claim proof port (`rewards.ports.ProofStorage`) in the rewards bucket: presigned POST uploads
with server-side limits, checks of what arrived (size, type, first bytes), short-lived downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.uploads import UploadBucket

DOWNLOAD_EXPIRES_SECONDS = 300
SNIFF_BYTES = 512


@dataclass(frozen=True)
class StoredProof:
    size: int
    content_type: str
    head: bytes
    version_id: str | None


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def quoted(file_name: str, fallback: str = "proof") -> str:
    """A file name safe inside a Content-Disposition header."""
    return "".join(c if c.isalnum() or c in " ._-()" else "_" for c in file_name)[:150] or fallback


def download_url(s3: Any, bucket: str, key: str, file_name: str, version_id: str | None = None) -> str:
    return str(
        s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{quoted(file_name)}"',
                **_version(version_id),
            },
            ExpiresIn=DOWNLOAD_EXPIRES_SECONDS,
        )
    )


class ProofStore(UploadBucket):
    def stored(self, key: str) -> StoredProof | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""
        head = self.head(key)
        if head is None:
            return None
        size = int(head.get("ContentLength", 0))
        version = head.get("VersionId")
        version = None if version in (None, "null") else str(version)
        sample = b""
        if size:
            body = self._s3.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}", **_version(version)
            )["Body"]
            sample = body.read(SNIFF_BYTES)
        return StoredProof(size=size, content_type=str(head.get("ContentType", "")), head=sample, version_id=version)

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove a refused file (its checked version too, not just hide it behind a delete marker)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key, **_version(version_id))

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return download_url(self._s3, self.bucket, key, file_name, version_id)
