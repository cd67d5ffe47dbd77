"""S3 adapter of the import files port (`training.ports.ImportFiles`): presigned POST uploads of CSV files with
server-side limits (as MDF's proof uploads), checks of what arrived, bounded reads, and the per-row reports."""

from __future__ import annotations

import json
from typing import Any

from shared.uploads import UploadBucket, is_missing
from training.ports import StoredFile


class ImportStore(UploadBucket):
    def stored(self, key: str) -> StoredFile | None:
        head = self.head(key)
        if head is None:
            return None
        return StoredFile(size=int(head.get("ContentLength", 0)), content_type=str(head.get("ContentType", "")))

    def read(self, key: str, max_bytes: int) -> bytes | None:
        s3 = self._s3
        try:
            answer = s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except s3.exceptions.ClientError as error:
            if is_missing(error):
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
            if is_missing(error):
                return None
            raise
        return list(json.loads(answer["Body"].read())["rows"])
