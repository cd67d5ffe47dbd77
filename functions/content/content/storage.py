"""S3 adapter of `content.ports.ContentFiles` (the ContentBucket: private, versioned): presigned POST uploads bound to
one key, type and size; one object version's head and first bytes; its digest and facts streamed; deletes of a
refused object version; short-lived presigned GETs of one object version; the API's own writes (kit copies,
exports). Presigned URLs are the only way bytes leave the bucket."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from content.domain.assets import HEAD_BYTES, FileFacts
from shared.uploads import UPLOAD_EXPIRES_SECONDS, UploadBucket, is_missing

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    head: bytes
    version_id: str | None


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def quoted(file_name: str, fallback: str = "file") -> str:
    """A file name safe inside a Content-Disposition header."""
    return "".join(c if c.isalnum() or c in " ._-()" else "_" for c in file_name)[:150] or fallback


class ContentFiles(UploadBucket):
    upload_expires_seconds = UPLOAD_EXPIRES_SECONDS

    def stored(self, key: str, version_id: str | None) -> StoredObject | None:
        """Size, type and first bytes of one object version; None when it is not there (deleted, never written)."""
        s3 = self._s3
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key, **_version(version_id))
        except s3.exceptions.ClientError as error:
            if is_missing(error) or error.response.get("Error", {}).get("Code") in ("400", "InvalidArgument"):
                return None
            raise
        size = int(head.get("ContentLength", 0))
        found = head.get("VersionId")
        found = None if found in (None, "null") else str(found)
        sample = b""
        if size:
            body = s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}", **_version(found))
            sample = body["Body"].read(HEAD_BYTES)
        return StoredObject(size=size, content_type=str(head.get("ContentType", "")), head=sample, version_id=found)

    def digest(self, key: str, version_id: str | None, content_type: str) -> tuple[str, int, FileFacts]:
        """SHA-256, size and facts (PDF pages, MP4 duration) of one object version, streamed in 1 MB chunks."""
        body = self._s3.get_object(Bucket=self.bucket, Key=key, **_version(version_id))["Body"]
        sha, size, facts = hashlib.sha256(), 0, FileFacts(content_type)
        for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
            sha.update(chunk)
            size += len(chunk)
            facts.feed(chunk)
        facts.finish()
        return sha.hexdigest(), size, facts

    def delete(self, key: str, version_id: str | None) -> None:
        """Remove a refused object version itself (not just hide it behind a delete marker)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key, **_version(version_id))

    def download_url(
        self, key: str, version_id: str | None, file_name: str, *, seconds: int, inline: bool = False
    ) -> str:
        """A presigned GET of exactly this key and object version, for `seconds`; `inline` for a preview."""
        disposition = "inline" if inline else "attachment"
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'{disposition}; filename="{quoted(file_name)}"',
                    **_version(version_id),
                },
                ExpiresIn=seconds,
            )
        )

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        """Write an object the API itself makes (a kit copy, an export); its version id."""
        answer: dict[str, Any] = self._s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
        )
        version = answer.get("VersionId")
        return None if version in (None, "null") else str(version)
