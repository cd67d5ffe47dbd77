"""Content's library and processing services on in-memory fakes: vendor admins create assets and versions (presigned
uploads bound to the version's key), processing checks what arrived once per object version (ready, published,
replaced; or rejected with the object version deleted), timers publish and expire, and partners see an asset only
when B's access rule and the dates allow (404 otherwise)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from content.models.assets import PDF, AssetBody, AssetPatch, AssetTimer, FileBody
from content.service.library import LibraryService
from content.service.processing import ProcessingService
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.principal import Principal
from tests.support.fakes_content import FakeAccess, FakeAssets, FakeFiles, FakeTimers
from tests.unit.test_content_assets_domain import PDF_BYTES

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADMIN = Principal(sub="v1", email="admin@vendor.test", name="A", partner_id=None, groups=frozenset({"vendor-admin"}))
STAFF = Principal(sub="v2", email="staff@vendor.test", name="S", partner_id=None, groups=frozenset())
ANN = Principal(sub="u1", email="ann@p1.test", name="Ann", partner_id="p1", groups=frozenset({"partner-admin"}))
BOB = Principal(sub="u2", email="bob@p2.test", name="Bob", partner_id="p2", groups=frozenset({"partner-user"}))


class World:
    def __init__(self, access: FakeAccess | None = None) -> None:
        self.now = NOW
        self.assets, self.files, self.timers = FakeAssets(), FakeFiles(), FakeTimers()
        counter = itertools.count(1)
        self.access = access if access is not None else FakeAccess()
        self.library = LibraryService(
            self.assets,
            self.files,
            self.timers,
            self.access,
            max_asset_bytes=10_000,
            clock=lambda: self.now,
            ids=lambda prefix: f"{prefix}_{next(counter)}",
            asset_ids=lambda: f"ast_{next(counter):024x}",
        )
        self.processing = ProcessingService(
            self.assets, self.files, self.timers, clock=lambda: self.now, ids=lambda p: f"{p}_{next(counter)}"
        )

    def create(self, **overrides: Any) -> str:
        data: dict[str, Any] = {
            "title": "Battlecard",
            "type": "document",
            "language": "en",
            "audience": {"min_tier_id": "gold"},
            "file": {"file_name": "card.pdf", "content_type": PDF, "size_bytes": len(PDF_BYTES)},
        } | overrides
        asset, version, upload = self.library.create(ADMIN, AssetBody.model_validate(data))
        assert upload.fields["key"] == version.s3_key
        return asset.asset_id

    def upload(self, asset_id: str, number: int, body: bytes = PDF_BYTES, content_type: str = PDF) -> str:
        version = self.assets.version(asset_id, number)
        assert version is not None
        version_id = self.files.upload(version.s3_key, body, content_type)
        return self.processing.object_created(version.s3_key, version_id)


def test_only_vendor_admins_manage_the_library() -> None:
    world = World()
    body = AssetBody.model_validate(
        {
            "title": "T",
            "type": "document",
            "language": "en",
            "file": {"file_name": "a.pdf", "content_type": PDF, "size_bytes": 1},
        }
    )
    for who in (ANN, STAFF):
        with pytest.raises(Forbidden):
            world.library.create(who, body)
        with pytest.raises(Forbidden):
            world.library.admin_page(who, None, 10, None)
    assert world.assets.assets == {}


def test_an_upload_is_bound_to_the_versions_key_type_and_the_size_limit() -> None:
    world = World()
    asset_id = world.create()
    assert world.files.posts == [(f"assets/{asset_id}/1/card.pdf", PDF, 10_000)]
    with pytest.raises(ValidationFailed) as refused:
        world.library.add_version(ADMIN, asset_id, FileBody(file_name="big.pdf", content_type=PDF, size_bytes=10_001))
    assert [e.field for e in refused.value.errors] == ["size_bytes"]


def test_a_processed_upload_makes_the_asset_ready_and_published_with_its_facts() -> None:
    world = World()
    asset_id = world.create()
    outcome = world.upload(asset_id, 1)
    assert "ready" in outcome
    asset = world.assets.get(asset_id)
    assert asset is not None and asset.status == "ready" and asset.published
    assert asset.current is not None and asset.current.pages == 3 and asset.current.size_bytes == len(PDF_BYTES)
    assert asset.current.s3_version_id == "v1" and asset.current.sha256 and len(asset.current.sha256) == 64
    [published] = world.assets.events("ContentPublished")
    assert published.asset_id == asset_id and published.version_number == 1


def test_the_same_s3_event_twice_changes_nothing() -> None:
    world = World()
    asset_id = world.create()
    version = world.assets.version(asset_id, 1)
    assert version is not None
    version_id = world.files.upload(version.s3_key, PDF_BYTES, PDF)
    world.processing.object_created(version.s3_key, version_id)
    before = (world.assets.get(asset_id), list(world.assets.outbox), world.files.digests)
    again = world.processing.object_created(version.s3_key, version_id)
    assert "already processed" in again
    assert (world.assets.get(asset_id), world.assets.outbox, world.files.digests) == before


def test_wrong_magic_bytes_reject_the_version_and_delete_the_object_version() -> None:
    world = World()
    asset_id = world.create()
    outcome = world.upload(asset_id, 1, body=b"MZ\x90\x00 not a pdf")
    assert "rejected" in outcome
    version = world.assets.version(asset_id, 1)
    assert version is not None and version.status == "rejected" and "is not a valid PDF file" in str(version.reason)
    assert world.files.deleted == [(version.s3_key, "v1")] and world.files.objects[version.s3_key] == {}
    asset = world.assets.get(asset_id)
    assert asset is not None and asset.status == "rejected" and asset.current is None
    assert world.assets.outbox == []


def test_a_second_object_under_a_used_key_is_deleted_and_changes_nothing() -> None:
    world = World()
    asset_id = world.create()
    world.upload(asset_id, 1)
    version = world.assets.version(asset_id, 1)
    assert version is not None
    again = world.files.upload(version.s3_key, b"%PDF-1.4 replaced behind our back", PDF)  # presigned POST reused
    outcome = world.processing.object_created(version.s3_key, again)
    assert "deleted" in outcome and (version.s3_key, again) in world.files.deleted
    asset = world.assets.get(asset_id)
    assert asset is not None and asset.current is not None and asset.current.s3_version_id == "v1"


def test_an_object_nobody_was_handed_out_is_deleted() -> None:
    world = World()
    version_id = world.files.upload("assets/ast_guess/1/x.pdf", PDF_BYTES, PDF)
    assert "deleted" in world.processing.object_created("assets/ast_guess/1/x.pdf", version_id)
    assert world.files.objects["assets/ast_guess/1/x.pdf"] == {}


def test_a_new_version_replaces_the_current_one_once_processed() -> None:
    world = World()
    asset_id = world.create()
    world.upload(asset_id, 1)
    version, _ = world.library.add_version(
        ADMIN, asset_id, FileBody(file_name="card.pdf", content_type=PDF, size_bytes=10, notes="Q4 prices")
    )
    assert version.number == 2
    current = world.assets.get(asset_id)
    assert current is not None and current.current_version == 1  # not before it is processed
    world.upload(asset_id, 2)
    asset = world.assets.get(asset_id)
    assert asset is not None and asset.asset_id == asset_id and asset.current_version == 2
    [replaced] = world.assets.events("ContentVersionReplaced")
    assert (replaced.version_number, replaced.previous_version_number, replaced.notes) == (2, 1, "Q4 prices")


def test_a_concurrent_change_while_processing_is_read_again() -> None:
    world = World()
    asset_id = world.create()
    world.assets.lose_next = 1  # a PATCH landed between processing's read and its write
    assert "ready" in world.upload(asset_id, 1)
    asset = world.assets.get(asset_id)
    assert asset is not None and asset.status == "ready"


def test_a_later_publish_date_is_a_timer_and_the_timer_publishes_once() -> None:
    world = World()
    asset_id = world.create(publish_at=(NOW + timedelta(days=1)).isoformat())
    world.upload(asset_id, 1)
    assert world.assets.events("ContentPublished") == []
    [message] = world.timers.messages("publish")
    timer = AssetTimer.model_validate(message)
    assert "nothing to do" in world.processing.timer(timer)  # fired early (clock skew): nothing
    world.now = NOW + timedelta(days=1)
    assert "ContentPublished" in world.processing.timer(timer)
    assert "nothing to do" in world.processing.timer(timer)
    assert len(world.assets.events("ContentPublished")) == 1


def test_patch_checks_the_revision_and_retimes_the_expiry() -> None:
    world = World()
    asset_id = world.create()
    world.upload(asset_id, 1)
    asset = world.assets.get(asset_id)
    assert asset is not None
    with pytest.raises(Conflict):
        world.library.patch(ADMIN, asset_id, AssetPatch(title="Old", revision=asset.revision - 1))
    expires = NOW + timedelta(days=3)
    changed = world.library.patch(ADMIN, asset_id, AssetPatch(expires_at=expires, revision=asset.revision))
    assert changed.expires_at == expires
    assert [m["due_at"] for m in world.timers.messages("expire")] == ["2026-12-04T09:00:00Z"]
    assert [e.DETAIL_TYPE for e in world.assets.outbox][-1] == "ContentMetadataChanged"
    world.now = expires
    assert "expired" in world.processing.timer(AssetTimer(kind="expire", asset_id=asset_id, due_at=expires))
    assert len(world.assets.events("ContentExpired")) == 1


def test_partners_see_an_asset_only_when_access_allows_and_get_404_otherwise() -> None:
    access = FakeAccess()
    world = World(access)
    asset_id = world.create(expires_at=(NOW + timedelta(days=1)).isoformat())
    with pytest.raises(NotFound):
        world.library.partner_view(ANN, asset_id)  # not processed yet
    world.upload(asset_id, 1)
    access.allowed.add((asset_id, "p1"))
    assert world.library.partner_view(ANN, asset_id).asset_id == asset_id
    with pytest.raises(NotFound):
        world.library.partner_view(BOB, asset_id)  # another partner the rule refuses
    with pytest.raises(NotFound):
        world.library.partner_view(ANN, "ast_" + "f" * 24)  # unknown: the same answer
    world.now = NOW + timedelta(days=1)
    with pytest.raises(NotFound):
        world.library.partner_view(ANN, asset_id)  # expired by date: no timer needed


def test_without_bs_access_rule_partners_are_refused() -> None:
    world = World()
    world.library.access = None
    asset_id = world.create()
    world.upload(asset_id, 1)
    with pytest.raises(NotFound):
        world.library.partner_view(ANN, asset_id)


def test_vendor_view_lists_versions_newest_first_and_the_admin_list_pages() -> None:
    world = World()
    first = world.create()
    world.upload(first, 1)
    world.library.add_version(ADMIN, first, FileBody(file_name="c.pdf", content_type=PDF, size_bytes=5))
    world.now += timedelta(minutes=1)
    second = world.create(title="Other")
    asset, versions = world.library.vendor_view(ADMIN, first)
    assert [v.number for v in versions] == [2, 1] and asset.pending_version == 2
    page, cursor = world.library.admin_page(ADMIN, None, 1, None)
    assert [a.asset_id for a in page] == [second] and cursor
    page, _ = world.library.admin_page(ADMIN, "ready", 10, None)
    assert [a.asset_id for a in page] == [first]


def test_a_minimum_tier_the_ladder_does_not_know_is_refused_naming_the_field() -> None:
    """A typo'd tier would hide the asset from every partner without a word: 400 instead, on create and on patch."""
    from shared.errors import ValidationFailed

    world = World()
    with pytest.raises(ValidationFailed) as refused:
        world.create(audience={"min_tier_id": "platinium"})
    assert [e.field for e in refused.value.errors] == ["audience.min_tier_id"]
    assert "gold" in refused.value.errors[0].message  # the tiers it could have named
    assert world.assets.outbox == []  # nothing was written
    asset_id = world.create()
    asset = world.assets.get(asset_id)
    assert asset is not None
    with pytest.raises(ValidationFailed):
        world.library.patch(
            ADMIN, asset_id, AssetPatch.model_validate({"audience": {"min_tier_id": "diamond"}, "revision": 1})
        )
    world.library.patch(
        ADMIN, asset_id, AssetPatch.model_validate({"audience": {"min_tier_id": "silver"}, "revision": asset.revision})
    )


def test_a_ready_asset_is_taken_down_at_once_once() -> None:
    from content.models.assets import TakeDown

    world = World()
    draft = world.create()
    with pytest.raises(Conflict):  # nothing to take down before its file is checked
        world.library.take_down(ADMIN, draft, TakeDown(revision=1))
    world.upload(draft, 1)
    asset = world.assets.get(draft)
    assert asset is not None and asset.status == "ready"
    taken = world.library.take_down(ADMIN, draft, TakeDown(revision=asset.revision))
    assert (taken.status, taken.expires_at) == ("expired", NOW)
    assert len(world.assets.events("ContentExpired")) == (1 if asset.published else 0)
    again = world.library.take_down(ADMIN, draft, TakeDown(revision=taken.revision))
    assert again.revision == taken.revision  # a repeat changes nothing
    with pytest.raises(Forbidden):
        world.library.take_down(
            Principal(sub="p", email="p@x.test", name="P", partner_id="p1", groups=frozenset({"partner-admin"})),
            draft,
            TakeDown(revision=taken.revision),
        )
