"""S3 adapter of `content.ports.ContentFiles` (the ContentBucket: private, versioned): presigned POST uploads bound to
one key, type and size; one object version's head and first bytes; its digest and facts streamed; deletes of a
refused object version; short-lived presigned GETs of one object version; the API's own writes (kit copies,
exports). Presigned URLs are the only way bytes leave the bucket."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from content.domain.assets import HEAD_BYTES, FileFacts
from shared.uploads import UPLOAD_EXPIRES_SECONDS, UploadBucket, object_version, presigned_get

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    head: bytes
    version_id: str | None


class ContentFiles(UploadBucket):
    upload_expires_seconds = UPLOAD_EXPIRES_SECONDS

    def stored(self, key: str, version_id: str | None) -> StoredObject | None:
        """Size, type and first bytes of one object version; None when it is not there (deleted, never written, or a
        version id S3 does not know)."""
        s3 = self._s3
        try:
            found = self.sniffed(key, version_id, limit=HEAD_BYTES)
        except s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("400", "InvalidArgument"):
                return None
            raise
        if found is None:
            return None
        size, content_type, head, version = found
        return StoredObject(size=size, content_type=content_type, head=head, version_id=version)

    def digest(self, key: str, version_id: str | None, content_type: str) -> tuple[str, int, FileFacts]:
        """SHA-256, size and facts (PDF pages, MP4 duration) of one object version, streamed in 1 MB chunks."""
        body = self._s3.get_object(Bucket=self.bucket, Key=key, **object_version(version_id))["Body"]
        sha, size, facts = hashlib.sha256(), 0, FileFacts(content_type)
        for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
            sha.update(chunk)
            size += len(chunk)
            facts.feed(chunk)
        facts.finish()
        return sha.hexdigest(), size, facts

    def download_url(
        self, key: str, version_id: str | None, file_name: str, *, seconds: int, inline: bool = False
    ) -> str:
        """A presigned GET of exactly this key and object version, for `seconds`; `inline` for a preview."""
        return presigned_get(self._s3, self.bucket, key, file_name, version_id, seconds=seconds, inline=inline)

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        """Write an object the API itself makes (a kit copy, an export); its version id."""
        answer: dict[str, Any] = self._s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
        )
        version = answer.get("VersionId")
        return None if version in (None, "null") else str(version)
