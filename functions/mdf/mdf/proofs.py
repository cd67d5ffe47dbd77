"""S3 adapter of the proof storage port (`mdf.ports.ProofStorage`): presigned POST uploads with server-side limits,
checks of what arrived, short-lived downloads."""

from __future__ import annotations

from mdf.ports import StoredObject
from shared.uploads import UploadBucket

DOWNLOAD_EXPIRES_SECONDS = 300
SNIFF_BYTES = 512


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def _quoted(file_name: str) -> str:
    return "".join(c if c.isalnum() or c in " ._-()" else "_" for c in file_name)[:150] or "proof"


class ProofStore(UploadBucket):
    def stored(self, key: str) -> StoredObject | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""
        head = self.head(key)
        if head is None:
            return None
        s3 = self._s3
        size = int(head.get("ContentLength", 0))
        version = head.get("VersionId")
        version = None if version in (None, "null") else str(version)
        sample = b""
        if size:
            body = s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}", **_version(version))[
                "Body"
            ]
            sample = body.read(SNIFF_BYTES)
        return StoredObject(size=size, content_type=str(head.get("ContentType", "")), head=sample, version_id=version)

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove a refused file (its checked version too, not just hide it behind a delete marker)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key, **_version(version_id))

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{_quoted(file_name)}"',
                    **_version(version_id),
                },
                ExpiresIn=DOWNLOAD_EXPIRES_SECONDS,
            )
        )
