"""Proof files attached to a claim, whatever the context: what an uploaded file must be (of the size and type declared,
and really of that type: its first bytes are checked against the type's signature, not only the declared content
type), the file name kept in its object key, and the record of an accepted file. No context rules: each context says
which types it takes and where its keys live; no AWS: the objects are read through the `ProofObjects` port."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Collection
from typing import Annotated, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.clock import UtcDateTime
from shared.errors import FieldError, ValidationFailed
from shared.text import Line

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Binary types are recognised by their first bytes; text types must be UTF-8 text without NUL bytes.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    XLSX: (b"PK\x03\x04",),
}
LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", XLSX: "XLSX"}
TEXT_LABELS = {"text/csv": "CSV"}
# Every type checked here, with the file name endings a portal offers for it.
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/csv": (".csv",),
    XLSX: (".xlsx",),
}

# A file name as a request body gives it: one line, a name and not a path (see `plain_file_name`).
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Line]


class Uploaded(Protocol):
    """What a context keeps of a presigned upload it handed out (its own record has more)."""

    @property
    def file_id(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def key(self) -> str: ...


class StoredObject(Protocol):
    """What arrived under an upload's key: its size, type, first bytes and version."""

    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def head(self) -> bytes: ...
    @property
    def version_id(self) -> str | None: ...


class ProofObjects(Protocol):
    def stored(self, key: str) -> StoredObject | None: ...
    def delete(self, key: str, version_id: str | None = None) -> None: ...


class Upload(BaseModel):
    """A presigned upload handed out; a claim may name it once the file is in S3. A context's subclass adds whose
    it is (a person, a fund request)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    file_id: str
    partner_id: str
    key: str
    file_name: str
    content_type: str
    size_bytes: int
    created_at: UtcDateTime


class ProofFile(BaseModel):
    """An accepted file as a claim keeps it: the checked size and object version."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    file_id: str
    file_name: str
    content_type: str
    size_bytes: int
    key: str
    version_id: str | None = None  # the object version that was checked (the bucket is versioned)


def _megabytes(size: int) -> int:
    return size // (1024 * 1024)


def plain_file_name(value: str) -> str:
    """A request body's file name validator: a file name, never a path."""
    if any(c in value for c in "/\\\x00") or value in (".", ".."):
        raise ValueError("a file name, not a path")
    return value


class UploadBody(BaseModel):
    """A request for a presigned upload slot. A context's subclass names the content types it accepts
    (`accepted_types`) and how to say them (`accepted_words`, e.g. "PDF, PNG or JPEG")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    accepted_types: ClassVar[Collection[str]] = ()
    accepted_words: ClassVar[str] = ""

    file_name: FileName
    content_type: str
    size_bytes: Annotated[int, Field(ge=1, strict=True)]

    _plain_name = field_validator("file_name")(plain_file_name)

    @field_validator("content_type")
    @classmethod
    def _accepted_type(cls, value: str) -> str:
        if value not in cls.accepted_types:
            raise ValueError(f"proof files must be {cls.accepted_words}")
        return value


class DocumentUploadBody(UploadBody):
    """An upload slot for any type checked here (a context that takes them all: MDF claims, rewards claims)."""

    accepted_types = DOCUMENT_TYPES
    accepted_words = "PDF, PNG, JPEG, CSV or XLSX"


def ensure_upload_size(size_bytes: int, max_bytes: int) -> None:
    if size_bytes > max_bytes:
        raise ValidationFailed(
            "The file is too large.",
            [FieldError("size_bytes", f"proof files may be at most {_megabytes(max_bytes)} MB")],
        )


def safe_name(file_name: str) -> str:
    """The file name as the last segment of an object key: plain characters, no dot runs, at most 100."""
    return re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", file_name)).strip("._")[:100] or "file"


def proof_problem(upload: Uploaded, *, size: int, content_type: str, head: bytes, max_bytes: int) -> str | None:
    """Why an uploaded object is not acceptable proof, or None. The bytes are checked, not only the declared type."""
    if content_type != upload.content_type:
        return f"was uploaded as {content_type or 'an unknown type'}, not {upload.content_type}"
    if not 0 < size <= max_bytes:
        return f"is {size} bytes; proof files must be 1 byte to {_megabytes(max_bytes)} MB"
    return _content_problem(content_type, head)


def _content_problem(content_type: str, head: bytes) -> str | None:
    """Whether the first bytes are really of the type: a binary type's signature, a text type's UTF-8 text."""
    signatures = SIGNATURES.get(content_type)
    if signatures is not None:
        return None if any(head.startswith(s) for s in signatures) else f"is not a valid {LABELS[content_type]} file"
    label = TEXT_LABELS.get(content_type)
    if label is None:
        return f"is not a valid {content_type} file"
    if b"\x00" in head:
        return f"is not a text ({label}) file"
    try:  # final=False: a multi-byte character cut at the end of the sample is fine, a bad byte is not
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return f"is not UTF-8 text ({label})"
    return None


def proof_file(upload: Uploaded, *, size: int, version_id: str | None) -> ProofFile:
    return ProofFile(
        file_id=upload.file_id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        size_bytes=size,
        key=upload.key,
        version_id=version_id,
    )


def checked_upload(objects: ProofObjects, upload: Uploaded, *, max_bytes: int) -> ProofFile | str:
    """The accepted file, or what is wrong with it (a bad file is deleted: nothing of it stays)."""
    stored = objects.stored(upload.key)
    if stored is None:
        return f"{upload.file_name} was not uploaded"
    problem = proof_problem(
        upload, size=stored.size, content_type=stored.content_type, head=stored.head, max_bytes=max_bytes
    )
    if problem:
        objects.delete(upload.key, stored.version_id)
        return f"{upload.file_name} {problem}"
    return proof_file(upload, size=stored.size, version_id=stored.version_id)


def checked_files(file_ids: list[str], check: Callable[[str], ProofFile | str]) -> list[ProofFile]:
    """Every named file, accepted by `check` (the file, or what is wrong with it); otherwise the claim is refused
    with a field error per bad file (`proof_files.<n>`)."""
    files: list[ProofFile] = []
    errors: list[FieldError] = []
    for index, file_id in enumerate(file_ids):
        found = check(file_id)
        if isinstance(found, str):
            errors.append(FieldError(f"proof_files.{index}", found))
        else:
            files.append(found)
    if errors:
        raise ValidationFailed("Some proof files are not acceptable.", errors)
    return files
