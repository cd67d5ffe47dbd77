"""Files people upload straight to a context's private bucket: a presigned POST bound to one key, one content type
and a size range, the reads that check what arrived (the object version's head and first bytes), the delete of a
refused version, and short-lived presigned GETs of one object version (no domain knowledge: MDF and rewards proofs,
training imports, the content library)."""

from __future__ import annotations

from typing import Any

from shared.aws import client

UPLOAD_EXPIRES_SECONDS = 600
DOWNLOAD_EXPIRES_SECONDS = 300
SNIFF_BYTES = 512  # the first bytes read to check a file's type by its magic bytes


def object_version(version_id: str | None) -> dict[str, str]:
    """The `VersionId` parameter of an S3 call, when there is one."""
    return {"VersionId": version_id} if version_id else {}


def header_file_name(file_name: str, fallback: str = "file") -> str:
    """A file name safe inside a Content-Disposition header."""
    return "".join(c if c.isalnum() or c in " ._-()" else "_" for c in file_name)[:150] or fallback


def presigned_get(
    s3: Any,
    bucket: str,
    key: str,
    file_name: str,
    version_id: str | None = None,
    *,
    seconds: int = DOWNLOAD_EXPIRES_SECONDS,
    inline: bool = False,
    fallback: str = "file",
) -> str:
    """A presigned GET of exactly this key (and object version), for `seconds`; `inline` shows it in the browser."""
    disposition = "inline" if inline else "attachment"
    return str(
        s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": f'{disposition}; filename="{header_file_name(file_name, fallback)}"',
                **object_version(version_id),
            },
            ExpiresIn=seconds,
        )
    )


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

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        s3 = self._s3
        try:
            return dict(s3.head_object(Bucket=self.bucket, Key=key, **object_version(version_id)))
        except s3.exceptions.ClientError as error:
            if is_missing(error):
                return None
            raise

    def sniffed(
        self, key: str, version_id: str | None = None, *, limit: int = SNIFF_BYTES
    ) -> tuple[int, str, bytes, str | None] | None:
        """Size, content type, first `limit` bytes and version id of the object (its latest version, or the one
        given); None when nothing is there."""
        head = self.head(key, version_id)
        if head is None:
            return None
        size = int(head.get("ContentLength", 0))
        found = head.get("VersionId")
        found = None if found in (None, "null") else str(found)
        sample = b""
        if size:
            body = self._s3.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{limit - 1}", **object_version(found)
            )
            sample = body["Body"].read(limit)
        return size, str(head.get("ContentType", "")), sample, found

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove a refused file (its checked version itself, not just hide it behind a delete marker)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key, **object_version(version_id))
