"""S3 adapter of the import files port (`training.ports.ImportFiles`): presigned POST uploads of CSV files with
server-side limits (as MDF's proof uploads), checks of what arrived, bounded reads, and the per-row reports."""

from __future__ import annotations

import json
from typing import Any

from shared.aws import client
from training.ports import StoredFile

UPLOAD_EXPIRES_SECONDS = 600


def upload_conditions(key: str, content_type: str, max_bytes: int) -> list[Any]:
    """The POST policy: exactly this key and type, and at most `max_bytes` (S3 refuses anything else)."""
    return [{"key": key}, {"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]


def _missing(error: Any) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class ImportStore:
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

    def stored(self, key: str) -> StoredFile | None:
        s3 = self._s3
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as error:
            if _missing(error):
                return None
            raise
        return StoredFile(size=int(head.get("ContentLength", 0)), content_type=str(head.get("ContentType", "")))

    def read(self, key: str, max_bytes: int) -> bytes | None:
        s3 = self._s3
        try:
            answer = s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except s3.exceptions.ClientError as error:
            if _missing(error):
                return None
            raise
        data = bytes(answer["Body"].read(max_bytes + 1))
        if len(data) > max_bytes:
            raise ValueError(f"The file is larger than {max_bytes} bytes.")
        return data

    def write_report(self, key: str, rows: list[dict[str, Any]]) -> None:
        body = json.dumps({"rows": rows}, separators=(",", ":")).encode()
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def read_report(self, key: str) -> list[dict[str, Any]] | None:
        s3 = self._s3
        try:
            answer = s3.get_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as error:
            if _missing(error):
                return None
            raise
        return list(json.loads(answer["Body"].read())["rows"])
