"""The library's assets (A): an asset, its versions (each one uploaded file, processed after upload), the request
bodies that create and change them, the record that maps an uploaded object key to its version, and the timer
messages that publish and expire assets on their dates."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from content.models.common import (
    AssetId,
    Audience,
    Description,
    Language,
    Notes,
    Record,
    Sku,
    Strict,
    Tag,
    Title,
)
from shared.clock import TimerTime, UtcDateTime
from shared.proof_files import FileName, plain_file_name

AssetType = Literal["document", "presentation", "video", "image", "archive"]
AssetStatus = Literal["draft", "processing", "ready", "rejected", "expired"]  # draft: waiting for its first file
VersionStatus = Literal["awaiting_upload", "processing", "ready", "rejected"]
ASSET_STATUSES: tuple[str, ...] = ("draft", "processing", "ready", "rejected", "expired")

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = "application/zip"
MP4 = "video/mp4"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"
TEXT = "text/plain"
# The content types each asset type accepts (the upload's declared type must be one; domain/assets.py checks the
# first bytes of what arrived against the type's signature after upload).
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    "document": (PDF, DOCX, CSV, TEXT),
    "presentation": (PDF, PPTX),
    "video": (MP4,),
    "image": (PNG, JPEG),
    "archive": (ZIP,),
}
MAX_FILE_BYTES = 5 * 1024**3  # a presigned POST's hard ceiling; the setting MAX_ASSET_BYTES is the real limit
ContentType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]


class FileBody(Strict):
    """One file to upload: the first version of a new asset, or a new version (POST .../versions)."""

    file_name: FileName  # kept in the object key as shared.proof_files.safe_name makes it
    content_type: ContentType  # one of ACCEPTED_TYPES[asset type] (checked by the service against the asset)
    size_bytes: int = Field(ge=1, le=MAX_FILE_BYTES, strict=True)  # <= settings.max_asset_bytes (service)
    notes: Notes = ""  # what changed in this version (emailed to people who downloaded an earlier one)

    _plain_name = field_validator("file_name")(plain_file_name)


class AssetBody(Strict):
    """POST /content/assets (vendor admin): the metadata and the first file."""

    title: Title
    description: Description = ""
    type: AssetType
    language: Language
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    product_skus: list[Sku] = Field(default_factory=list, max_length=20)
    audience: Audience = Field(default_factory=Audience)
    publish_at: UtcDateTime | None = None  # None: as soon as the first version is processed
    expires_at: UtcDateTime | None = None  # after publish_at (and in the future)
    file: FileBody
    # the file's type against the asset type and the dates: domain/assets.py (a 400 naming the field)


class AssetPatch(Strict):
    """PATCH /content/assets/{asset_id} (vendor admin): any of the metadata, on the asset's current `revision`
    (409 on a stale one). `expires_at: null` removes the expiry; the type and language never change."""

    title: Title | None = None
    description: Description | None = None
    tags: list[Tag] | None = Field(default=None, max_length=10)
    product_skus: list[Sku] | None = Field(default=None, max_length=20)
    audience: Audience | None = None
    publish_at: UtcDateTime | None = None
    expires_at: UtcDateTime | None = None
    revision: int = Field(ge=1, strict=True)


class TakeDown(Strict):
    """POST /content/assets/{asset_id}/take-down (vendor admin): expire it now, on its current `revision`."""

    revision: int = Field(ge=1, strict=True)


class AssetVersion(Record):
    """One uploaded file of an asset (`ASSET#<aid>` / `VERSION#<n:06d>`): awaiting its upload, processing, ready
    (checked: checksum, size, page count) or rejected (the object version deleted, `reason` says why)."""

    asset_id: str
    number: int
    file_name: str
    content_type: str
    size_bytes: int
    status: VersionStatus
    reason: str | None = None
    notes: str | None = None
    s3_key: str
    s3_version_id: str | None = None
    sha256: str | None = None
    pages: int | None = None  # PDF page count
    duration_seconds: int | None = None  # MP4 duration (mvhd)
    uploaded_by: str
    created_at: UtcDateTime
    processed_at: UtcDateTime | None = None


class Asset(Record):
    """A library asset (`ASSET#<aid>` / `ASSET`): its metadata, audience and dates, and its live version. The id
    never changes; a new version becomes `current` once processed (`pending_version` until then)."""

    asset_id: AssetId
    title: str
    description: str = ""
    type: AssetType
    language: str
    tags: list[str] = Field(default_factory=list)
    product_skus: list[str] = Field(default_factory=list)
    audience: Audience = Field(default_factory=Audience)
    publish_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    status: AssetStatus
    published: bool = False  # ContentPublished went out (at publish_at, once the first version was ready)
    current_version: int = 0  # 0 until the first version is ready
    current: AssetVersion | None = None  # a copy of the live version
    pending_version: int | None = None  # the newest version handed out for upload and not processed yet
    latest_version: int = 1  # the highest version number handed out
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    revision: int = 1


class UploadRef(Record):
    """`UPLOAD#<s3 key>` / `UPLOAD`: which asset and version an object key belongs to (read by processing)."""

    key: str
    asset_id: str
    version: int
    max_bytes: int


class AssetTimer(Strict):
    """A one-time timer's message (content workflow queue): publish the asset at `due_at`, or expire it."""

    kind: Literal["publish", "expire"]
    asset_id: AssetId
    due_at: TimerTime
