"""Content's access, search, downloads and tracking services (B) on fakes: the partner projection, the indexer, a
library page (bands, cursor, bounded reads), downloads (404 for what a partner may not see, current version only,
once per record with its event and counters), the vendor's counters and export, and version-changed emails."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from content.models.assets import Asset, AssetVersion
from content.models.common import Audience
from content.models.library import DownloadBody, ExportBody
from content.notifications import NotifyPage, VersionEmails, VersionNotifier
from content.service.downloads import DownloadsService
from content.service.partners import Gatekeeper, PartnerAccess, PartnerProjectionService
from content.service.search import Indexer, LibrarySearch, decode, encode
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.principal import Principal
from tests.support.fakes import FakeMailer, FakeSideEffects
from tests.support.fakes_content import FakeAssets, FakeFiles
from tests.support.fakes_content_access import FakePartnerDirectory, FakeQueue, FakeSearchIndex, FakeTracking

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
VENDOR = Principal(
    sub="v", email="content-admin@example.com", name="Val", partner_id=None, groups=frozenset({"vendor-admin"})
)
STAFF = Principal(sub="s", email="staff@example.com", name="Sam", partner_id=None, groups=frozenset())
_ids = itertools.count(1)


def person(partner_id: str, name: str = "pat") -> Principal:
    return Principal(
        sub=f"sub-{partner_id}-{name}",
        email=f"{name}@{partner_id.replace('_', '-')}.example",
        name=name.title(),
        partner_id=partner_id,
        groups=frozenset({"partner-user"}),
    )


@dataclass
class World:
    now: datetime = NOW
    assets: FakeAssets = field(default_factory=FakeAssets)
    files: FakeFiles = field(default_factory=FakeFiles)
    directory: FakePartnerDirectory = field(default_factory=FakePartnerDirectory)
    index: FakeSearchIndex = field(default_factory=FakeSearchIndex)
    tracking: FakeTracking = field(default_factory=FakeTracking)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    effects: FakeSideEffects = field(default_factory=FakeSideEffects)
    queue: FakeQueue = field(default_factory=FakeQueue)
    page_size: int = 100

    def clock(self) -> datetime:
        return self.now

    @property
    def projection(self) -> PartnerProjectionService:
        return PartnerProjectionService(self.directory)

    @property
    def indexer(self) -> Indexer:
        return Indexer(self.assets, self.index, clock=self.clock)

    @property
    def search(self) -> LibrarySearch:
        return LibrarySearch(self.assets, self.index, self.directory, clock=self.clock)

    @property
    def downloads(self) -> DownloadsService:
        gate = Gatekeeper(self.directory, clock=self.clock)
        return DownloadsService(self.assets, self.files, gate, self.tracking, url_seconds=300, clock=self.clock)

    @property
    def notifier(self) -> VersionNotifier:
        return VersionNotifier(
            self.assets,
            self.tracking,
            self.directory,
            self.mailer,
            self.effects,
            VersionEmails("https://portal.test"),
            self.queue,
            page_size=self.page_size,
            clock=self.clock,
        )

    def partner(self, partner_id: str, tier: str, *, country: str = "GB", kind: str = "reseller") -> Principal:
        self.projection.onboarded(
            partner_id=partner_id,
            company_name=f"Company {partner_id}",
            domain=f"{partner_id}.example",
            country=country,
            partner_type=kind,
            contact_name="Pat",
            contact_email=f"pat@{partner_id}.example",
            onboarded_at=NOW - timedelta(days=30),
        )
        self.projection.tier_changed(
            partner_id=partner_id,
            tier_id=tier,
            tier_name=tier.title(),
            effective_at=NOW - timedelta(days=1),
            event_id="e",
        )
        return person(partner_id)

    def asset(self, title: str, *, audience: Audience | None = None, **changes: Any) -> Asset:
        asset_id = f"ast_{next(_ids):024x}"
        version = AssetVersion(
            asset_id=asset_id,
            number=1,
            file_name="guide.pdf",
            content_type="application/pdf",
            size_bytes=10,
            status="ready",
            notes="first",
            s3_key=f"assets/{asset_id}/1/guide.pdf",
            s3_version_id="s3v1",
            uploaded_by="content-admin@example.com",
            created_at=NOW - timedelta(days=3),
            processed_at=NOW - timedelta(days=3),
        )
        fields: dict[str, Any] = {
            "asset_id": asset_id,
            "title": title,
            "description": "Position the firewall with mid-market customers.",
            "type": "document",
            "language": "en",
            "tags": ["launch"],
            "product_skus": ["FW-200"],
            "audience": audience or Audience(),
            "publish_at": NOW - timedelta(days=2, seconds=next(_ids)),
            "status": "ready",
            "published": True,
            "current_version": 1,
            "current": version,
            "created_by": "content-admin@example.com",
            "created_at": NOW - timedelta(days=3),
            "updated_at": NOW - timedelta(days=3),
        } | changes
        asset = Asset.model_validate(fields)
        self.assets.assets[asset_id] = asset
        self.assets.stored_versions[(asset_id, 1)] = version
        self.indexer.reindex(asset_id)
        return asset

    def ids(self, who: Principal, **query: Any) -> list[str]:
        return [i["asset_id"] for i in self.page(who, **query).items]

    def page(self, who: Principal, **query: Any) -> Any:
        args: dict[str, Any] = {
            "text": None,
            "asset_type": None,
            "language": None,
            "product": None,
            "tag": None,
            "order": "relevance",
            "limit": 20,
            "cursor": None,
        } | query
        return self.search.page(who, **args)


@pytest.fixture
def world() -> World:
    w = World()
    w.projection.ladder_added(
        version_id="v1",
        effective_from=date(2026, 1, 1),
        tiers=[("registered", "Registered", 0), ("silver", "Silver", 1), ("gold", "Gold", 2)],
    )
    return w


# ------------------------------------------------------------------ the projection
def test_the_projection_keeps_the_newest_profile_and_tier_and_a_withdrawn_ladder_stays_out(world: World) -> None:
    gold = world.partner("prt_a", "gold", country="us")
    view = world.directory.partner("prt_a")
    assert (view.region, view.partner_type, view.tier_id, view.status) == ("AMER", "reseller", "gold", "active")
    assert "(older: kept)" in world.projection.tier_changed(
        partner_id="prt_a", tier_id="silver", tier_name="Silver", effective_at=NOW - timedelta(days=9), event_id="x"
    )
    assert world.directory.partner("prt_a").tier_id == "gold"
    world.projection.tier_changed(
        partner_id="prt_a", tier_id="silver", tier_name="Silver", effective_at=NOW, event_id="y"
    )
    assert world.directory.partner("prt_a").tier_id == "silver"
    # a later ladder applies from its date; a withdrawn one never does, even when the withdrawal arrives first
    world.projection.ladder_withdrawn(version_id="v3", effective_from=date(2026, 6, 1))
    assert "already known" in world.projection.ladder_added(
        version_id="v3", effective_from=date(2026, 6, 1), tiers=[("gold", "Gold", 0)]
    )
    world.projection.ladder_added(
        version_id="v2", effective_from=date(2027, 1, 1), tiers=[("silver", "Silver", 0), ("gold", "Gold", 1)]
    )
    ladder = world.directory.ladder_in_force(NOW)
    assert ladder is not None and ladder.version_id == "v1"
    later = world.directory.ladder_in_force(datetime(2027, 1, 2, tzinfo=UTC))
    assert later is not None and later.version_id == "v2"
    assert gold.partner_id == "prt_a"


def test_partner_access_is_the_rule_read_live_for_a_route_of_a(world: World) -> None:
    world.partner("prt_g", "gold")
    asset = world.asset("Gold deck", audience=Audience(min_tier_id="gold"))
    access = PartnerAccess.__new__(PartnerAccess)
    access.gate = Gatekeeper(world.directory, clock=world.clock)
    assert access.may_see(asset, "prt_g", NOW) is None
    world.projection.tier_changed(
        partner_id="prt_g", tier_id="silver", tier_name="Silver", effective_at=NOW, event_id="d"
    )
    assert access.may_see(asset, "prt_g", NOW) == "tier silver below gold"  # a demotion revokes at once
    assert access.may_see(asset, "prt_unknown", NOW) == "partner unknown to the content projection"


# ------------------------------------------------------------------ the index
def test_indexing_replaces_stale_postings_and_removes_what_is_no_longer_searchable(world: World) -> None:
    asset = world.asset("Firewall guide")
    assert world.index.count() > 0 and world.index.partitions["IDX#firewall#ALL"]
    world.assets.assets[asset.asset_id] = asset.model_copy(
        update={"title": "Router guide", "audience": Audience(min_tier_id="gold")}
    )
    world.indexer.reindex(asset.asset_id)
    assert not world.index.partitions.get("IDX#firewall#ALL")  # the old word and the old band are gone
    assert world.index.partitions["IDX#router#gold"] and world.index.partitions["IDX#guide#gold"]
    assert not world.index.partitions.get("IDX#guide#ALL")
    assert all(not keys for pk, keys in world.index.partitions.items() if pk.endswith("#ALL"))  # the band moved
    assert all(sk.startswith("R#998#") for sk in world.index.partitions["IDX#firewall#gold"] if sk[0] == "R")
    assert "0 postings added, 0 removed" in world.indexer.reindex(asset.asset_id)  # a repeat changes nothing
    world.assets.assets[asset.asset_id] = world.assets.assets[asset.asset_id].model_copy(update={"status": "expired"})
    world.indexer.reindex(asset.asset_id)
    assert world.index.count() == 0 and asset.asset_id not in world.index.states
    assert "0 postings removed" in world.indexer.reindex("ast_" + "f" * 24)  # an unknown asset: nothing to do


def test_an_unpublished_or_past_expiry_asset_posts_nothing(world: World) -> None:
    world.asset("Later", published=False)
    world.asset("Gone", expires_at=NOW)
    assert world.index.count() == 0


# ------------------------------------------------------------------ a page
def test_a_silver_partner_reads_only_its_bands_and_never_a_gold_posting(world: World) -> None:
    silver = world.partner("prt_s", "silver")
    gold_asset = world.asset("Firewall gold playbook", audience=Audience(min_tier_id="gold"))
    open_asset = world.asset("Firewall datasheet")
    world.index.queried.clear()
    assert world.ids(silver, text="firewall") == [open_asset.asset_id]
    assert set(world.index.queried) == {"IDX#firewall#ALL", "IDX#firewall#registered", "IDX#firewall#silver"}
    gold = world.partner("prt_g", "gold")
    assert set(world.ids(gold, text="firewall")) == {gold_asset.asset_id, open_asset.asset_id}
    assert set(world.ids(VENDOR, text="firewall")) == {gold_asset.asset_id, open_asset.asset_id}
    with pytest.raises(Forbidden):
        world.downloads.stats(STAFF, sort="downloads", limit=5, cursor=None)


def test_relevance_puts_title_matches_first_and_newest_the_latest_published(world: World) -> None:
    who = world.partner("prt_g", "gold")
    in_description = world.asset("Branch office", description="A firewall for small branches.")
    in_title = world.asset("Firewall sizing", description="Sizing.")
    assert world.ids(who, text="firewall") == [in_title.asset_id, in_description.asset_id]
    newest = world.ids(who, order="newest")
    by_date = sorted(world.assets.assets.values(), key=lambda a: a.publish_at, reverse=True)
    assert newest == [a.asset_id for a in by_date]


def test_filters_and_every_word_must_match(world: World) -> None:
    who = world.partner("prt_g", "gold")
    video = world.asset("Firewall demo", type="video", tags=["demo"], language="de", product_skus=["FW-900"])
    doc = world.asset("Firewall handbook")
    assert world.ids(who, asset_type="video") == [video.asset_id]
    assert world.ids(who, language="de") == [video.asset_id]
    assert world.ids(who, product="fw-900") == [video.asset_id]
    assert world.ids(who, tag="demo", text="firewall") == [video.asset_id]
    assert world.ids(who, text="firewall handbook") == [doc.asset_id]
    assert world.ids(who, text="firewall zebra") == []
    assert world.ids(who, text="the of") == []  # only stop words: nothing can match


def test_pages_follow_the_cursor_and_each_reads_a_bounded_number_of_postings(world: World) -> None:
    who = world.partner("prt_g", "gold")
    made = [world.asset(f"Guide {n}") for n in range(23)]
    seen: list[str] = []
    cursor = None
    reads = []
    while True:
        page = world.page(who, limit=5, cursor=cursor, order="newest")
        seen += [i["asset_id"] for i in page.items]
        reads.append(page.read)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(a.asset_id for a in made) and len(seen) == len(set(seen))
    bands = 4  # ALL, registered, silver, gold
    assert max(reads) <= 3 + bands * 5 + 5, reads  # projection reads + postings per band + candidates
    with pytest.raises(ValidationFailed) as bad:
        world.page(who, limit=5, cursor=encode("*", "newest", "N#1"), text="guide")  # another query's cursor
    assert bad.value.errors[0].field == "cursor"
    with pytest.raises(ValidationFailed):
        decode("%%%", "*", "newest")


def test_a_selective_filter_gives_a_short_page_with_a_cursor_rather_than_reading_on(world: World) -> None:
    who = world.partner("prt_g", "gold")
    for n in range(40):
        world.asset(f"Guide {n}", language="en")
    rare = world.asset("Guide fr", language="fr")
    page = world.page(who, limit=5, order="newest", text="guide", language="fr")
    assert page.read <= 3 + 4 * 5 * 3 + 5 * 3  # at most ROUNDS merges
    found = list(page.items)
    cursor = page.next_cursor
    while cursor and not found:
        page = world.page(who, limit=5, order="newest", text="guide", language="fr", cursor=cursor)
        found += page.items
        cursor = page.next_cursor
    assert [i["asset_id"] for i in found] == [rare.asset_id]


# ------------------------------------------------------------------ downloads
def test_a_partner_downloads_only_the_current_version_of_what_it_may_see(world: World) -> None:
    gold, silver = world.partner("prt_g", "gold"), world.partner("prt_s", "silver")
    asset = world.asset("Gold deck", audience=Audience(min_tier_id="gold"))
    answer = world.downloads.download(gold, asset.asset_id, DownloadBody(kind="preview"))
    assert answer["version"] == 1 and "inline=True" in answer["url"] and "versionId=s3v1" in answer["url"]
    for who, body in [
        (silver, DownloadBody()),
        (gold, DownloadBody(version=2)),
        (person("prt_nobody"), DownloadBody()),
    ]:
        with pytest.raises(NotFound):
            world.downloads.download(who, asset.asset_id, body)
    with pytest.raises(NotFound):
        world.downloads.download(gold, "ast_" + "0" * 24, DownloadBody())
    with pytest.raises(Forbidden):
        world.downloads.download(STAFF, asset.asset_id, DownloadBody())
    assert len(world.tracking.downloads) == 1 and world.tracking.outbox[0].DETAIL_TYPE == "ContentDownloaded"


def test_a_download_is_recorded_with_its_event_and_counters_and_retries_a_counter_race(world: World) -> None:
    gold = world.partner("prt_g", "gold")
    asset = world.asset("Deck")
    world.tracking.race_next = 2
    world.downloads.download(gold, asset.asset_id, DownloadBody())
    world.downloads.download(gold, asset.asset_id, DownloadBody(kind="preview"))
    event = world.tracking.outbox[0]
    assert (event.partner_id, event.asset_id, event.version_number, event.kind) == (
        "prt_g",
        asset.asset_id,
        1,
        "download",
    )
    _, totals, versions, partners, _ = world.downloads.summary(VENDOR, asset.asset_id, limit=10, cursor=None)
    assert totals is not None and (totals.downloads, totals.previews) == (1, 1)
    assert [(v.version, v.downloads, v.previews) for v in versions] == [(1, 1, 1)]
    assert [(p.partner_id, p.company_name) for p in partners] == [("prt_g", "Company prt_g")]
    world.tracking.race_next = 10
    with pytest.raises(Conflict):
        world.downloads.download(gold, asset.asset_id, DownloadBody())
    with pytest.raises(Forbidden):
        world.downloads.summary(gold, asset.asset_id, limit=10, cursor=None)


def test_a_vendor_admin_fetches_any_ready_version_untracked(world: World) -> None:
    asset = world.asset("Deck")
    answer = world.downloads.download(VENDOR, asset.asset_id, DownloadBody(version=1))
    assert answer["download_id"] is None and world.tracking.downloads == []
    with pytest.raises(NotFound):
        world.downloads.download(VENDOR, asset.asset_id, DownloadBody(version=7))


def test_the_export_is_a_csv_of_the_window_safe_for_spreadsheets(world: World) -> None:
    gold = world.partner("prt_g", "gold")
    asset = world.asset("=HYPERLINK(1)")
    world.downloads.download(gold, asset.asset_id, DownloadBody())
    world.now += timedelta(seconds=1)  # the window is [from, to): to defaults to now
    export, url = world.downloads.export(VENDOR, ExportBody.model_validate({"asset_id": asset.asset_id}))
    assert export.rows == 1 and not export.truncated and export.key in url
    body, _ = world.files.objects[export.key][export.version_id or ""]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows[0]["title"] == "'=HYPERLINK(1)" and rows[0]["person_email"] == gold.email
    everything, _ = world.downloads.export(VENDOR, ExportBody())
    assert everything.rows == 1
    for body_data, field_name in [
        ({"from": "2026-01-01T00:00:00Z", "to": "2025-12-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"}, "from"),
    ]:
        with pytest.raises(ValidationFailed) as bad:
            world.downloads.export(VENDOR, ExportBody.model_validate(body_data))
        assert bad.value.errors[0].field == field_name
    with pytest.raises(NotFound):
        world.downloads.export(VENDOR, ExportBody.model_validate({"asset_id": "ast_" + "0" * 24}))
    assert world.downloads.export_of(VENDOR, export.export_id)[0] == export
    with pytest.raises(NotFound):
        world.downloads.export_of(VENDOR, "exp_missing")
    with pytest.raises(Forbidden):
        world.downloads.export(gold, ExportBody())


# ------------------------------------------------------------------ version-changed emails
def test_earlier_downloaders_who_may_still_see_the_asset_are_told_once(world: World) -> None:
    gold, silver = world.partner("prt_g", "gold"), world.partner("prt_s", "silver")
    asset = world.asset("Deck", audience=Audience(min_tier_id="silver"))
    world.downloads.download(gold, asset.asset_id, DownloadBody())
    world.downloads.download(silver, asset.asset_id, DownloadBody())
    assert "nothing" in world.notifier.notify("ast_" + "0" * 24)
    v2 = asset.current.model_copy(update={"number": 2, "notes": "New prices for Q1"})  # type: ignore[union-attr]
    world.assets.assets[asset.asset_id] = asset.model_copy(update={"current_version": 2, "current": v2})
    world.projection.tier_changed(  # Silver is demoted below the asset's minimum: no mail for them
        partner_id="prt_s", tier_id="registered", tier_name="Registered", effective_at=NOW, event_id="d"
    )
    assert "1 people told" in world.notifier.notify(asset.asset_id)
    world.notifier.notify(asset.asset_id)  # a repeat of the event mails nobody again
    mails = world.mailer.to(gold.email)
    assert len(mails) == 1 and "New prices for Q1" in mails[0].text and asset.asset_id in mails[0].text
    assert world.mailer.to(silver.email) == []
    world.downloads.download(gold, asset.asset_id, DownloadBody())  # now on version 2: nothing more to tell
    assert "0 people told" in world.notifier.notify(asset.asset_id)


def test_many_downloaders_are_told_a_page_per_delivery_through_the_consumers_own_queue(world: World) -> None:
    world.page_size = 2
    asset = world.asset("Deck")
    people = [world.partner(f"prt_{n}", "gold") for n in range(5)]
    for who in people:
        world.downloads.download(who, asset.asset_id, DownloadBody())
    v2 = asset.current.model_copy(update={"number": 2, "notes": "Fixed a typo"})  # type: ignore[union-attr]
    world.assets.assets[asset.asset_id] = asset.model_copy(update={"current_version": 2, "current": v2})
    outcome = world.notifier.notify(asset.asset_id)
    assert "2 people told" in outcome and "next page queued" in outcome and len(world.mailer.sent) == 2
    while world.queue.sent:
        message = world.queue.sent.pop(0)
        page = NotifyPage.model_validate(message)
        world.notifier.notify(page.asset_id, version=page.version, cursor=page.cursor)
        world.notifier.notify(page.asset_id, version=page.version, cursor=page.cursor)  # a redelivery: no new mail
    assert sorted(e.to[0] for e in world.mailer.sent) == sorted(p.email for p in people)
    stale = world.notifier.notify(asset.asset_id, version=3, cursor="x")  # a page for a version no longer current
    assert "no longer current" in stale and len(world.mailer.sent) == 5
