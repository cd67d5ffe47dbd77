"""Files people upload straight to a context's private bucket: a presigned POST bound to one key, one content type
and a size range, and the reads that check what arrived (no domain knowledge: MDF proofs and training imports)."""

from __future__ import annotations

from typing import Any

from shared.aws import client

UPLOAD_EXPIRES_SECONDS = 600


def upload_conditions(key: str, content_type: str, max_bytes: int) -> list[Any]:
    """The POST policy: exactly this key and type, and at most `max_bytes` (S3 refuses anything else)."""
    return [{"key": key}, {"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]


def is_missing(error: Any) -> bool:
    """An S3 client error that means "no such object" (HeadObject answers a bare 404)."""
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class UploadBucket:
    """One private bucket: presigned uploads into it and the object's head, None when nothing is there."""

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

    def head(self, key: str) -> dict[str, Any] | None:
        s3 = self._s3
        try:
            return dict(s3.head_object(Bucket=self.bucket, Key=key))
        except s3.exceptions.ClientError as error:
            if is_missing(error):
                return None
            raise
