"""Content's asset rules (pure): which files an asset type takes, the magic-byte check of what arrived, PDF pages and
MP4 duration counted over chunks, and the lifecycle: create, new version, processed (ready / rejected), publish,
replace, patch, expire."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from content.domain import assets as rules
from content.models.assets import DOCX, MP4, PDF, PNG, AssetBody, AssetPatch, AssetTimer, FileBody
from shared.errors import Conflict, ValidationFailed

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type /Catalog /Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3>>endobj\n"
    b"3 0 obj<</Type /Page /Parent 2 0 R>>endobj\n4 0 obj<</Type/Page/Parent 2 0 R>>endobj\n"
    b"5 0 obj<</Type /Page\n/Parent 2 0 R>>endobj\n%%EOF\n"
)


def mp4_bytes(timescale: int, duration: int, version: int = 0) -> bytes:
    ftyp = struct.pack(">I", 16) + b"ftypisom" + b"\x00\x00\x02\x00"
    if version == 1:
        body = b"\x01\x00\x00\x00" + b"\x00" * 16 + struct.pack(">IQ", timescale, duration)
    else:
        body = b"\x00\x00\x00\x00" + b"\x00" * 8 + struct.pack(">II", timescale, duration)
    mvhd = struct.pack(">I", 8 + len(body) + 4) + b"mvhd" + body + b"\x00" * 4
    return ftyp + struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd


def body(**overrides: Any) -> AssetBody:
    data: dict[str, Any] = {
        "title": "Launch deck",
        "description": "The launch deck.",
        "type": "presentation",
        "language": "en",
        "tags": ["launch", "launch"],
        "product_skus": ["SKU-1"],
        "audience": {"min_tier_id": "gold", "regions": ["EMEA"]},
        "file": {"file_name": "deck v1.pdf", "content_type": PDF, "size_bytes": 1000, "notes": ""},
    }
    return AssetBody.model_validate(data | overrides)


def created(**overrides: Any) -> rules.Change:
    change, _ = rules.create(body(**overrides), "ast_" + "a" * 24, "admin@vendor.test", NOW, 50 * 1024 * 1024)
    return change


def ready(change: rules.Change, at: datetime = NOW, number: int = 1) -> rules.Change:
    version = change.version or created().version
    assert version is not None
    claimed = rules.processing(version.model_copy(update={"number": number}), f"s3v{number}")
    return rules.processed(
        change.asset, claimed, sha256="ab" * 32, size=900, pages=3, duration_seconds=None, now=at, event_ids=["e1"]
    )


# ------------------------------------------------------------------ file rules
@pytest.mark.parametrize(
    ("content_type", "head", "problem"),
    [
        (PDF, PDF_BYTES, None),
        (PDF, b"\x89PNG\r\n\x1a\n....", "is not a valid PDF file"),
        (PNG, b"\x89PNG\r\n\x1a\n....", None),
        (DOCX, b"PK\x03\x04rest", None),
        (DOCX, b"%PDF-1.4", "is not a valid DOCX file"),
        (MP4, mp4_bytes(1000, 5000), None),
        (MP4, b"RIFF....AVI ", "is not a valid MP4 file"),
        ("text/csv", "name,city\nAnn,Köln\n".encode(), None),
        ("text/csv", b"a,b\x00c", "is not a text (CSV) file"),
        ("text/csv", b"a,b\xff\xfe", "is not UTF-8 text (CSV)"),
        ("text/csv", "ok é".encode()[:-1], None),  # a character cut at the end of the sample is fine
    ],
)
def test_the_first_bytes_must_be_of_the_declared_type(content_type: str, head: bytes, problem: str | None) -> None:
    found = rules.file_problem(
        declared_type=content_type, stored_type=content_type, size=len(head), max_bytes=1000, head=head
    )
    assert found == problem


def test_the_stored_type_and_the_size_are_checked_too() -> None:
    assert rules.file_problem(declared_type=PDF, stored_type=PNG, size=10, max_bytes=100, head=PDF_BYTES) == (
        "was uploaded as image/png, not application/pdf"
    )
    assert "files must be 1 byte to" in str(
        rules.file_problem(declared_type=PDF, stored_type=PDF, size=101, max_bytes=100, head=PDF_BYTES)
    )
    assert rules.file_problem(declared_type=PDF, stored_type=PDF, size=0, max_bytes=100, head=b"") is not None


def test_a_file_of_a_type_the_asset_does_not_take_or_too_large_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.create(
            body(type="video"), "ast_" + "a" * 24, "admin@vendor.test", NOW, 50 * 1024 * 1024
        )  # a PDF is no video
    assert [e.field for e in refused.value.errors] == ["file.content_type"]
    with pytest.raises(ValidationFailed) as too_large:
        rules.create(body(), "ast_" + "a" * 24, "admin@vendor.test", NOW, 999)
    assert [e.field for e in too_large.value.errors] == ["file.size_bytes"]


@pytest.mark.parametrize("chunk", [1, 3, 7, 11, 64, 1000])
def test_pdf_pages_are_counted_across_chunk_boundaries_without_the_pages_tree(chunk: int) -> None:
    facts = rules.FileFacts(PDF)
    for offset in range(0, len(PDF_BYTES), chunk):
        facts.feed(PDF_BYTES[offset : offset + chunk])
    facts.finish()
    assert facts.page_count == 3


@pytest.mark.parametrize("version", [0, 1])
def test_an_mp4_duration_comes_from_its_mvhd_box(version: int) -> None:
    data = mp4_bytes(600, 600 * 42, version)
    facts = rules.FileFacts(MP4)
    for offset in range(0, len(data), 5):
        facts.feed(data[offset : offset + 5])
    assert facts.duration_seconds == 42
    assert facts.page_count is None


# ------------------------------------------------------------------ lifecycle
def test_a_new_asset_is_a_draft_waiting_for_its_first_file_under_its_own_key() -> None:
    change, ref = rules.create(body(), "ast_" + "a" * 24, "admin@vendor.test", NOW, 1000)
    assert change.asset.status == "draft" and change.asset.current is None and change.asset.pending_version == 1
    assert change.asset.tags == ["launch"]  # repeated tags once
    assert change.asset.publish_at == NOW  # no publish date: as soon as it is processed
    assert change.version is not None and change.version.status == "awaiting_upload"
    assert change.version.s3_key == f"assets/ast_{'a' * 24}/1/deck_v1.pdf" == ref.key
    assert ref.max_bytes == 1000


def test_dates_must_fit_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        created(publish_at=NOW.isoformat(), expires_at=(NOW - timedelta(days=1)).isoformat())
    assert refused.value.errors[0].field == "expires_at"


def test_a_ready_first_version_publishes_at_once_when_its_date_has_come() -> None:
    change = ready(created(expires_at=(NOW + timedelta(days=30)).isoformat()))
    assert change.asset.status == "ready" and change.asset.published and change.asset.current_version == 1
    assert change.asset.current is not None and change.asset.current.sha256 == "ab" * 32
    [event] = change.events
    assert event.DETAIL_TYPE == "ContentPublished" and event.partner_id == "*"
    assert event.audience.min_tier_id == "gold" and event.version_number == 1
    assert [t.kind for t in change.timers] == ["expire"]


def test_a_later_publish_date_waits_for_its_timer_and_the_timer_publishes() -> None:
    later = NOW + timedelta(days=2, microseconds=500)
    change = ready(created(publish_at=later.isoformat()))
    assert change.asset.status == "ready" and not change.asset.published and change.events == []
    [timer] = change.timers
    assert timer.kind == "publish" and timer.due_at == later.replace(microsecond=0) + timedelta(seconds=1)
    assert rules.timer_due(change.asset, timer, later - timedelta(seconds=1), "e2") is None  # early: nothing
    fired = rules.timer_due(change.asset, timer, timer.due_at, "e2")
    assert fired is not None and fired.asset.published
    assert [e.DETAIL_TYPE for e in fired.events] == ["ContentPublished"]
    assert rules.timer_due(fired.asset, timer, timer.due_at, "e3") is None  # again: nothing


def test_a_rejected_first_file_leaves_the_asset_invisible_and_a_new_version_brings_it_back() -> None:
    change = created()
    assert change.version is not None
    refused = rules.rejected(change.asset, rules.processing(change.version, "s3v1"), "deck.pdf is bad", NOW)
    assert refused.asset.status == "rejected" and refused.asset.current is None and refused.events == []
    assert refused.version is not None and refused.version.status == "rejected"
    file = FileBody(file_name="deck.pdf", content_type=PDF, size_bytes=10)
    again, _ = rules.add_version(refused.asset, file, "admin@vendor.test", NOW, 1000)
    assert again.asset.status == "draft" and again.asset.pending_version == 2


def test_a_new_version_replaces_the_current_one_once_processed_keeping_the_id() -> None:
    first = ready(created())
    file = FileBody(file_name="deck.pdf", content_type=PDF, size_bytes=10, notes="New prices")
    second, ref = rules.add_version(first.asset, file, "editor@vendor.test", NOW, 1000)
    assert second.asset.current_version == 1 and second.asset.pending_version == 2  # not yet replaced
    assert ref.key.endswith("/2/deck.pdf")
    assert second.version is not None
    claimed = rules.processing(second.version, "s3v2")
    done = rules.processed(
        second.asset, claimed, sha256="cd" * 32, size=5, pages=1, duration_seconds=None, now=NOW, event_ids=["e9"]
    )
    assert done.asset.asset_id == first.asset.asset_id and done.asset.current_version == 2
    assert done.asset.pending_version is None
    [event] = done.events
    assert event.DETAIL_TYPE == "ContentVersionReplaced"
    assert (event.version_number, event.previous_version_number, event.notes) == (2, 1, "New prices")


def test_an_older_version_finishing_after_a_newer_one_does_not_become_current() -> None:
    first = ready(created())
    asset = first.asset.model_copy(update={"current_version": 3})
    assert first.version is not None
    late = rules.processed(
        asset,
        rules.processing(first.version.model_copy(update={"number": 2}), "x"),
        sha256="00" * 32,
        size=1,
        pages=None,
        duration_seconds=None,
        now=NOW,
        event_ids=["e"],
    )
    assert late.asset.current_version == 3 and late.events == []


def test_patch_on_a_stale_revision_is_a_conflict_and_a_published_asset_announces_its_metadata() -> None:
    asset = ready(created()).asset
    with pytest.raises(Conflict):
        rules.patch(asset, AssetPatch(title="New", revision=asset.revision - 1), "a@v.test", NOW, ["e"])
    change = rules.patch(
        asset, AssetPatch(title="New", tags=["x", "x"], revision=asset.revision), "a@v.test", NOW, ["e"]
    )
    assert change.asset.title == "New" and change.asset.tags == ["x"] and change.asset.revision == asset.revision + 1
    [event] = change.events
    assert event.DETAIL_TYPE == "ContentMetadataChanged" and event.title == "New" and event.changed_by == "a@v.test"


def test_patch_refuses_null_for_a_required_field_naming_it() -> None:
    asset = ready(created()).asset
    with pytest.raises(ValidationFailed) as refused:
        rules.patch(asset, AssetPatch.model_validate({"title": None, "revision": asset.revision}), "a", NOW, ["e"])
    assert refused.value.errors[0].field == "title"


def test_expiry_timer_expires_a_published_asset_once_and_a_later_expiry_brings_it_back() -> None:
    expires = NOW + timedelta(days=1)
    asset = ready(created(expires_at=expires.isoformat())).asset
    timer = AssetTimer(kind="expire", asset_id=asset.asset_id, due_at=expires)
    assert rules.timer_due(asset, timer, NOW, "e") is None
    expired = rules.timer_due(asset, timer, expires, "e")
    assert expired is not None and expired.asset.status == "expired"
    assert [e.DETAIL_TYPE for e in expired.events] == ["ContentExpired"]
    assert rules.timer_due(expired.asset, timer, expires, "e2") is None
    later = expires + timedelta(days=5)
    back = rules.patch(
        expired.asset, AssetPatch(expires_at=later, revision=expired.asset.revision), "a", expires, ["e3"]
    )
    assert back.asset.status == "ready" and [e.DETAIL_TYPE for e in back.events] == ["ContentMetadataChanged"]
    assert [(t.kind, t.due_at) for t in back.timers] == [("expire", later)]


def test_visibility_never_waits_for_a_timer() -> None:
    expires = NOW + timedelta(days=1)
    asset = ready(created(expires_at=expires.isoformat())).asset
    assert rules.visible(asset, NOW)
    assert not rules.visible(asset, expires)  # expired by date although its timer has not fired
    future = ready(created(publish_at=(NOW + timedelta(hours=1)).isoformat())).asset
    assert not rules.visible(future, NOW) and rules.visible(future, NOW + timedelta(hours=1))
    assert not rules.visible(created().asset, NOW)  # no processed file yet
