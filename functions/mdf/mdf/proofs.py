"""S3 adapter of the proof storage port (`mdf.ports.ProofStorage`): presigned POST uploads with server-side limits,
checks of what arrived, short-lived downloads."""

from __future__ import annotations

from typing import Any

from mdf.ports import StoredObject
from shared.aws import client

UPLOAD_EXPIRES_SECONDS = 600
DOWNLOAD_EXPIRES_SECONDS = 300
SNIFF_BYTES = 512


def upload_conditions(key: str, content_type: str, max_bytes: int) -> list[Any]:
    """The POST policy: exactly this key and type, and at most `max_bytes` (S3 refuses anything else)."""
    return [
        {"key": key},
        {"Content-Type": content_type},
        ["content-length-range", 1, max_bytes],
    ]


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def _quoted(file_name: str) -> str:
    return "".join(c if c.isalnum() or c in " ._-()" else "_" for c in file_name)[:150] or "proof"


class ProofStore:
    upload_expires_seconds = UPLOAD_EXPIRES_SECONDS

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def _s3(self) -> Any:
        return client("s3")

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        return dict(
            self._s3.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=upload_conditions(key, content_type, max_bytes),
                ExpiresIn=UPLOAD_EXPIRES_SECONDS,
            )
        )

    def stored(self, key: str) -> StoredObject | None:
        """Size, type and first bytes of an uploaded object; None when nothing was uploaded under `key`."""
        s3 = self._s3
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
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
