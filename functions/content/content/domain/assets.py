"""The library's asset rules (pure): which files an asset type takes and whether the bytes that arrived are really of
the declared type (magic bytes, checked after upload), PDF page and MP4 duration counting over streamed chunks, and
the asset lifecycle: created (draft, waiting for its first file), a new version handed out, a version processed
(ready: it becomes current, the asset is published now or by its timer; rejected: nothing visible changes), metadata
changed, published and expired on its dates. Every function returns new records and the events to publish."""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from content.models.assets import (
    ACCEPTED_TYPES,
    CSV,
    DOCX,
    JPEG,
    MP4,
    PDF,
    PNG,
    PPTX,
    TEXT,
    ZIP,
    Asset,
    AssetBody,
    AssetPatch,
    AssetTimer,
    AssetVersion,
    FileBody,
    UploadRef,
)
from contracts.content import (
    ALL_PARTNERS,
    ContentAudience,
    ContentExpired,
    ContentMetadataChanged,
    ContentPublished,
    ContentVersionReplaced,
)
from shared.errors import Conflict, FieldError, ValidationFailed
from shared.events import EventDetail
from shared.proof_files import safe_name

HEAD_BYTES = 512  # how much of an object the type check reads
ZIP_SIGNATURES = (b"PK\x03\x04",)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    PDF: (b"%PDF-",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    JPEG: (b"\xff\xd8\xff",),
    DOCX: ZIP_SIGNATURES,
    PPTX: ZIP_SIGNATURES,
    ZIP: ZIP_SIGNATURES,
}
LABELS = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", DOCX: "DOCX", PPTX: "PPTX", ZIP: "ZIP", MP4: "MP4"}
TEXT_TYPES = {CSV: "CSV", TEXT: "plain text"}


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


# ------------------------------------------------------------------ file rules
def check_file(file: FileBody, asset_type: str, max_bytes: int, *, field_prefix: str = "") -> None:
    """A file the vendor means to upload: of a type the asset takes and within the size limit (400 naming the
    field otherwise). The bytes themselves are checked after upload (`file_problem`)."""
    errors: list[FieldError] = []
    accepted = ACCEPTED_TYPES[asset_type]
    if file.content_type not in accepted:
        errors.append(FieldError(f"{field_prefix}content_type", f"a {asset_type} must be one of {', '.join(accepted)}"))
    if file.size_bytes > max_bytes:
        errors.append(FieldError(f"{field_prefix}size_bytes", f"files may be at most {megabytes(max_bytes)} MB"))
    if errors:
        raise ValidationFailed("The file cannot be uploaded.", errors)


def file_problem(*, declared_type: str, stored_type: str, size: int, max_bytes: int, head: bytes) -> str | None:
    """Why an uploaded object is not acceptable, or None: stored as the declared type, of a size within the limit,
    and its first bytes really of that type (a binary type's signature; a text type's UTF-8 text without NUL)."""
    if stored_type.split(";", maxsplit=1)[0].strip().lower() != declared_type:
        return f"was uploaded as {stored_type or 'an unknown type'}, not {declared_type}"
    if not 0 < size <= max_bytes:
        return f"is {size} bytes; files must be 1 byte to {megabytes(max_bytes)} MB"
    return content_problem(declared_type, head)


def content_problem(content_type: str, head: bytes) -> str | None:
    signatures = SIGNATURES.get(content_type)
    if signatures is not None:
        return None if head.startswith(signatures) else f"is not a valid {LABELS[content_type]} file"
    if content_type == MP4:  # ISO base media: a box size, then `ftyp`
        return None if head[4:8] == b"ftyp" else "is not a valid MP4 file"
    label = TEXT_TYPES.get(content_type)
    if label is None:
        return f"is not an accepted type ({content_type})"
    if b"\x00" in head:
        return f"is not a text ({label}) file"
    try:  # final=False: a multi-byte character cut at the end of the sample is fine, a bad byte is not
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return f"is not UTF-8 text ({label})"
    return None


_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_OVERLAP = 64


@dataclass
class FileFacts:
    """What streaming an object's bytes tells (fed chunk by chunk): PDF pages (`/Type /Page` objects, not the
    `/Pages` tree) and an MP4's duration (its `mvhd` box), counted across chunk boundaries."""

    content_type: str
    pages: int = 0
    duration_seconds: int | None = None
    _tail: bytes = field(default=b"", repr=False)
    _offset: int = field(default=0, repr=False)  # absolute offset of _tail[0]
    _counted_to: int = field(default=0, repr=False)  # absolute offset up to which matches were counted

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        if self.content_type == PDF:
            for match in _PAGE.finditer(data):
                end = self._offset + match.end()
                # a match that ends at the buffer's end may continue (`/Pages`): count it once the next byte is seen
                if match.end() < len(data) and end > self._counted_to:
                    self.pages += 1
                    self._counted_to = end
        elif self.content_type == MP4 and self.duration_seconds is None:
            self.duration_seconds = mvhd_duration(data)
        keep = min(len(data), _OVERLAP)
        self._offset += len(data) - keep
        self._tail = data[len(data) - keep :]

    def finish(self) -> None:
        if self.content_type == PDF:
            self.feed(b"\n")

    @property
    def page_count(self) -> int | None:
        return self.pages if self.content_type == PDF else None


def mvhd_duration(data: bytes) -> int | None:
    """An MP4's duration in whole seconds from its `mvhd` box, if the box is complete in `data`."""
    at = data.find(b"mvhd")
    if at < 0:
        return None
    body = data[at + 4 :]
    if not body:
        return None
    if body[0] == 1:  # version 1: 64-bit times
        if len(body) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", body[20:32])
    else:
        if len(body) < 20:
            return None
        timescale, duration = struct.unpack(">II", body[12:20])
    return duration // timescale if timescale else None


# ------------------------------------------------------------------ lifecycle
def due(moment: datetime) -> datetime:
    """A timer's time: to the second (what a timer message carries), never before `moment`."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


@dataclass
class Change:
    """A lifecycle step's result: the asset (and version) to write, the events to publish with them, timers."""

    asset: Asset
    version: AssetVersion | None = None
    events: list[EventDetail] = field(default_factory=list)
    timers: list[AssetTimer] = field(default_factory=list)


def _audience(asset: Asset) -> ContentAudience:
    return ContentAudience.model_validate(asset.audience.model_dump())


def _listing(asset: Asset) -> dict[str, Any]:
    """What ContentPublished and ContentMetadataChanged both say of an asset, beyond its id and title."""
    return {
        "description": asset.description,
        "asset_type": asset.type,
        "language": asset.language,
        "tags": asset.tags,
        "product_skus": asset.product_skus,
        "audience": _audience(asset),
        "publish_at": asset.publish_at,
        "expires_at": asset.expires_at,
    }


def new_version_record(
    asset_id: str, number: int, file: FileBody, actor: str, now: datetime
) -> tuple[AssetVersion, UploadRef]:
    name = safe_name(file.file_name)
    key = f"assets/{asset_id}/{number}/{name}"
    version = AssetVersion(
        asset_id=asset_id,
        number=number,
        file_name=name,
        content_type=file.content_type,
        size_bytes=file.size_bytes,
        status="awaiting_upload",
        notes=file.notes or None,
        s3_key=key,
        uploaded_by=actor,
        created_at=now,
    )
    return version, UploadRef(key=key, asset_id=asset_id, version=number, max_bytes=0)


def create(body: AssetBody, asset_id: str, actor: str, now: datetime, max_bytes: int) -> tuple[Change, UploadRef]:
    """A new asset, a draft waiting for its first file (version 1)."""
    check_file(body.file, body.type, max_bytes, field_prefix="file.")
    publish_at = body.publish_at or now
    _check_dates(publish_at, body.expires_at, now, field="expires_at")
    version, ref = new_version_record(asset_id, 1, body.file, actor, now)
    asset = Asset(
        asset_id=asset_id,
        title=body.title,
        description=body.description,
        type=body.type,
        language=body.language,
        tags=list(dict.fromkeys(body.tags)),
        product_skus=list(dict.fromkeys(body.product_skus)),
        audience=body.audience,
        publish_at=publish_at,
        expires_at=body.expires_at,
        status="draft",
        pending_version=1,
        latest_version=1,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    return Change(asset=asset, version=version), ref.model_copy(update={"max_bytes": max_bytes})


def _check_dates(publish_at: datetime, expires_at: datetime | None, now: datetime, *, field: str) -> None:
    if expires_at is None:
        return
    if expires_at <= publish_at:
        raise ValidationFailed("The dates do not fit.", [FieldError(field, "must be after publish_at")])
    if expires_at <= now:
        raise ValidationFailed("The dates do not fit.", [FieldError(field, "must be in the future")])


def add_version(asset: Asset, file: FileBody, actor: str, now: datetime, max_bytes: int) -> tuple[Change, UploadRef]:
    """A new version handed out for upload; it replaces the current one only once processed (the id stays)."""
    if asset.status == "expired":
        raise Conflict("The asset has expired; change its expiry date before adding a version.", code="asset_expired")
    check_file(file, asset.type, max_bytes)
    number = asset.latest_version + 1
    version, ref = new_version_record(asset.asset_id, number, file, actor, now)
    status = "draft" if asset.status == "rejected" else asset.status  # a rejected first file: waiting again
    changed = asset.model_copy(
        update={
            "pending_version": number,
            "latest_version": number,
            "status": status,
            "updated_at": now,
            "revision": asset.revision + 1,
        }
    )
    return Change(asset=changed, version=version), ref.model_copy(update={"max_bytes": max_bytes})


def processing(version: AssetVersion, s3_version_id: str | None) -> AssetVersion:
    """The object arrived: the version is being processed (claimed for this object version)."""
    return version.model_copy(update={"status": "processing", "s3_version_id": s3_version_id})


def rejected(asset: Asset, version: AssetVersion, reason: str, now: datetime) -> Change:
    """The file was not acceptable (its object version is deleted): the version is rejected with the reason. The
    asset stays as it was; a first file rejected makes a draft `rejected` until a new version is uploaded."""
    done = version.model_copy(update={"status": "rejected", "reason": reason, "processed_at": now})
    update: dict[str, object] = {"updated_at": now, "revision": asset.revision + 1}
    if asset.pending_version == version.number:
        update["pending_version"] = None
        if asset.current_version == 0:
            update["status"] = "rejected"
    return Change(asset=asset.model_copy(update=update), version=done)


def processed(
    asset: Asset,
    version: AssetVersion,
    *,
    sha256: str,
    size: int,
    pages: int | None,
    duration_seconds: int | None,
    now: datetime,
    event_ids: list[str],
) -> Change:
    """The file is what it claims to be: the version is ready. A version newer than the current one becomes current
    (ContentVersionReplaced once the asset was published); a first version makes the asset ready, published now
    when its publish date has come (ContentPublished) or by a timer at publish_at; the expiry gets its timer."""
    done = version.model_copy(
        update={
            "status": "ready",
            "reason": None,
            "sha256": sha256,
            "size_bytes": size,
            "pages": pages,
            "duration_seconds": duration_seconds,
            "processed_at": now,
        }
    )
    update: dict[str, object] = {"updated_at": now, "revision": asset.revision + 1}
    if asset.pending_version == version.number:
        update["pending_version"] = None
    change = Change(asset=asset, version=done)
    if version.number <= asset.current_version:  # an older upload finished after a newer one: kept, not current
        change.asset = asset.model_copy(update=update)
        return change
    previous = asset.current_version
    update |= {"current_version": version.number, "current": done}
    if asset.status in ("draft", "rejected", "processing"):
        update["status"] = "ready"
    change.asset = asset.model_copy(update=update)
    ids = iter(event_ids)
    if asset.published and previous and asset.status != "expired":
        change.events.append(
            ContentVersionReplaced.occurred(
                at=now,
                event_id=next(ids),
                partner_id=ALL_PARTNERS,
                asset_id=asset.asset_id,
                title=asset.title,
                version_number=version.number,
                previous_version_number=previous,
                notes=version.notes,
                replaced_by=version.uploaded_by,
            )
        )
    elif not asset.published:
        _publish_or_schedule(change, now, next(ids))
    return change


def _publish_or_schedule(change: Change, now: datetime, event_id: str) -> None:
    asset = change.asset
    if asset.status != "ready" or asset.current is None or asset.published:
        return
    if asset.expires_at is not None and asset.expires_at <= now:
        change.asset = asset.model_copy(update={"status": "expired"})
        return
    if asset.publish_at <= now:
        change.asset = asset.model_copy(update={"published": True})
        change.events.append(published_event(change.asset, now, event_id))
    else:
        change.timers.append(AssetTimer(kind="publish", asset_id=asset.asset_id, due_at=due(asset.publish_at)))
    if asset.expires_at is not None:
        change.timers.append(AssetTimer(kind="expire", asset_id=asset.asset_id, due_at=due(asset.expires_at)))


def published_event(asset: Asset, now: datetime, event_id: str) -> ContentPublished:
    assert asset.current is not None
    return ContentPublished.occurred(
        at=now,
        event_id=event_id,
        partner_id=ALL_PARTNERS,
        asset_id=asset.asset_id,
        title=asset.title,
        version_number=asset.current_version,
        **_listing(asset),
        published_by=asset.created_by,
    )


def patch(asset: Asset, body: AssetPatch, actor: str, now: datetime, event_ids: list[str]) -> Change:
    """Changed metadata on the current revision (409 on a stale one). A published asset announces the new metadata
    (ContentMetadataChanged); a changed publish date of a ready, unpublished asset publishes it now or re-times it;
    a changed expiry re-times it, and an expired asset given a later expiry is ready again."""
    if body.revision != asset.revision:
        raise Conflict(
            "The asset was changed since you read it; reload it and try again.",
            code="stale_revision",
            errors=[FieldError("revision", f"is {asset.revision} now")],
        )
    sent = body.model_fields_set - {"revision"}
    update: dict[str, object] = {name: getattr(body, name) for name in sent}
    for name in ("title", "publish_at", "tags", "product_skus", "audience", "description"):
        if name in update and update[name] is None:
            raise ValidationFailed("A field cannot be removed.", [FieldError(name, "may not be null")])
    if "tags" in update:
        update["tags"] = list(dict.fromkeys(body.tags or []))
    if "product_skus" in update:
        update["product_skus"] = list(dict.fromkeys(body.product_skus or []))
    publish_at = body.publish_at if "publish_at" in sent and body.publish_at else asset.publish_at
    expires_at = body.expires_at if "expires_at" in sent else asset.expires_at
    if "publish_at" in sent or "expires_at" in sent:
        _check_dates(publish_at, expires_at, now, field="expires_at" if "expires_at" in sent else "publish_at")
    if asset.status == "expired" and "expires_at" in sent and asset.current is not None:
        update["status"] = "ready"  # a later expiry (checked to be in the future) brings it back
    update |= {"updated_at": now, "revision": asset.revision + 1}
    change = Change(asset=asset.model_copy(update=update))
    ids = iter(event_ids)
    changed = change.asset
    if changed.published:
        change.events.append(metadata_event(changed, actor, now, next(ids)))
    elif changed.status == "ready" and ("publish_at" in sent or "expires_at" in sent or asset.status == "expired"):
        _publish_or_schedule(change, now, next(ids))
        return change
    if changed.published and changed.status == "ready" and "expires_at" in sent and changed.expires_at is not None:
        change.timers.append(AssetTimer(kind="expire", asset_id=changed.asset_id, due_at=due(changed.expires_at)))
    return change


def metadata_event(asset: Asset, actor: str, now: datetime, event_id: str) -> ContentMetadataChanged:
    return ContentMetadataChanged.occurred(
        at=now,
        event_id=event_id,
        partner_id=ALL_PARTNERS,
        asset_id=asset.asset_id,
        title=asset.title,
        revision=asset.revision,
        status=asset.status,
        **_listing(asset),
        changed_by=actor,
    )


def take_down(asset: Asset, revision: int, now: datetime, event_id: str) -> Change:
    """A vendor admin takes the asset down at once: it expires now (ContentExpired when it was published, so search
    drops it); a later expiry set by PATCH brings it back. Taking down an expired asset again changes nothing."""
    if revision != asset.revision:
        raise Conflict(
            "The asset was changed since you read it; reload it and try again.",
            code="stale_revision",
            errors=[FieldError("revision", f"is {asset.revision} now")],
        )
    if asset.status == "expired":
        return Change(asset=asset)
    if asset.status != "ready":
        raise Conflict(f"The asset is {asset.status}; only a ready asset can be taken down.", code="not_ready")
    taken = asset.model_copy(update={"expires_at": now})
    change = timer_due(taken, AssetTimer(kind="expire", asset_id=asset.asset_id, due_at=now), now, event_id)
    assert change is not None  # expires_at == now: the expiry is due
    return change


def timer_due(asset: Asset, timer: AssetTimer, now: datetime, event_id: str) -> Change | None:
    """A timer fired: publish a ready asset whose publish date has come, or expire one whose expiry has come. A
    timer for a date since changed, or a step already taken, changes nothing (None)."""
    if timer.kind == "publish":
        if asset.published or asset.status != "ready" or asset.publish_at > now:
            return None
        change = Change(asset=asset.model_copy(update={"updated_at": now, "revision": asset.revision + 1}))
        if asset.expires_at is not None and asset.expires_at <= now:
            change.asset = change.asset.model_copy(update={"status": "expired"})
            return change
        change.asset = change.asset.model_copy(update={"published": True})
        change.events.append(published_event(change.asset, now, event_id))
        return change
    if asset.expires_at is None or asset.expires_at > now or asset.status == "expired":
        return None
    expired = asset.model_copy(update={"status": "expired", "updated_at": now, "revision": asset.revision + 1})
    change = Change(asset=expired)
    if asset.published:
        change.events.append(
            ContentExpired.occurred(
                at=now,
                event_id=event_id,
                partner_id=ALL_PARTNERS,
                asset_id=asset.asset_id,
                title=asset.title,
                expired_at=asset.expires_at,
            )
        )
    return change


def visible(asset: Asset, now: datetime) -> bool:
    """Whether the asset's bytes may be shown to anyone but vendor admins at `now` (dates checked at every read,
    never waiting for a timer): ready, with a current version, publish_at <= now < expires_at."""
    return (
        asset.status == "ready"
        and asset.current is not None
        and asset.publish_at <= now
        and (asset.expires_at is None or now < asset.expires_at)
    )
