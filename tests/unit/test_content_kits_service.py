"""Kits and the brand profile on fakes (content.service.kits, content.service.brand, content.domain.kits): the kit
lifecycle, who may see and change what, a partner's copy (fresh by template and brand revision, regenerated when
either moves on, stored under the caller's own partner prefix), and logo processing."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from content.domain import kits as rules
from content.models.assets import Asset
from content.models.common import Audience
from content.models.kits import BrandBody, KitBody, KitPatch, LogoBody, PartnerDefaults
from content.repository import keys
from content.service.brand import BrandService
from content.service.kits import KitsService
from contracts.content import CoBrandedKitGenerated
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.principal import Principal
from tests.support.fakes_content_kits import FakeAssetLookup, FakeKitFiles, FakeKitsStore, FakeStanding

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ADMIN = Principal(sub="v1", email="admin@vendor.com", name="A", partner_id=None, groups=frozenset({"vendor-admin"}))
ANN = Principal(sub="u1", email="ann@p1.com", name="Ann", partner_id="p1", groups=frozenset({"partner-user"}))
BOSS = Principal(sub="u2", email="boss@p1.com", name="Boss", partner_id="p1", groups=frozenset({"partner-admin"}))
EVE = Principal(sub="u3", email="eve@p2.com", name="Eve", partner_id="p2", groups=frozenset({"partner-admin"}))
SILVER = Principal(sub="u4", email="sam@p3.com", name="Sam", partner_id="p3", groups=frozenset({"partner-user"}))
GOLD_ASSET = "ast_" + "a" * 24
SILVER_ASSET = "ast_" + "b" * 24
HIDDEN_ASSET = "ast_" + "c" * 24

TEMPLATE = {
    "kind": "email",
    "subject": "Launch news from {{partner.name}}",
    "html": "<html><body>{{partner.logo}}<h1>{{partner.name}}</h1><a href='{{partner.website}}'>site</a></body></html>",
    "pdf": {"headline": "Launch with {{partner.name}}", "body": "Call {{partner.contact_name}}."},
}


def asset(asset_id: str, min_tier: str | None) -> Asset:
    return Asset.model_validate(
        {
            "asset_id": asset_id,
            "title": f"Asset {asset_id[-1]}",
            "type": "document",
            "language": "en",
            "audience": {"min_tier_id": min_tier},
            "publish_at": NOW,
            "status": "ready",
            "created_by": "admin@vendor.com",
            "created_at": NOW,
            "updated_at": NOW,
        }
    )


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class World:
    def __init__(self) -> None:
        self.now = NOW
        self.store = FakeKitsStore()
        self.files = FakeKitFiles()
        self.standing = FakeStanding(
            ranks={"p1": 2, "p2": 2, "p3": 1},
            defaults_by_partner={
                "p1": PartnerDefaults("Northwind Traders", "northwind.example", "Nina North", "nina@northwind.example")
            },
            hidden_assets={HIDDEN_ASSET},
        )
        self.assets = FakeAssetLookup(
            {a.asset_id: a for a in (asset(GOLD_ASSET, "gold"), asset(SILVER_ASSET, None), asset(HIDDEN_ASSET, None))}
        )
        self.brand = BrandService(self.store, self.files, self.standing, clock=lambda: self.now)
        self.kits = KitsService(
            self.store, self.brand, self.files, self.standing, self.assets, url_seconds=300, clock=lambda: self.now
        )

    def kit(self, **changes: object) -> str:
        body = {
            "name": "Q1 launch",
            "campaign": "Launch",
            "asset_ids": [GOLD_ASSET, SILVER_ASSET, HIDDEN_ASSET],
            "template": TEMPLATE,
            "status": "published",
        } | changes
        return self.kits.create(ADMIN, KitBody.model_validate(body)).kit_id

    def upload_logo(self, data: bytes, content_type: str = "image/png", who: Principal = BOSS) -> str:
        grant = self.brand.start_logo(who, LogoBody(content_type=content_type, size_bytes=len(data)))  # type: ignore[arg-type]
        version = self.files.put(grant.upload.s3_key, data, content_type)
        self.brand.process_logo(grant.upload.s3_key, version)
        return grant.upload.upload_id


@pytest.fixture
def world() -> World:
    return World()


# ------------------------------------------------------------------ kits (vendor)
def test_a_vendor_admin_creates_and_publishes_a_kit(world: World) -> None:
    kit_id = world.kit(status="draft")
    kit = world.store.kits[kit_id]
    assert re.fullmatch(r"kit_[0-9a-z]{26}", kit_id)
    assert (kit.status, kit.template_revision, kit.revision, kit.published_at) == ("draft", 1, 1, None)
    world.now += timedelta(minutes=1)
    published = world.kits.patch(ADMIN, kit_id, KitPatch(status="published", revision=1))
    assert (published.status, published.revision, published.template_revision) == ("published", 2, 1)
    assert published.published_at == world.now


def test_only_vendor_admins_write_kits(world: World) -> None:
    kit_id = world.kit()
    with pytest.raises(Forbidden):
        world.kits.create(BOSS, KitBody.model_validate({"name": "x", "template": TEMPLATE}))
    with pytest.raises(Forbidden):
        world.kits.patch(ANN, kit_id, KitPatch(name="mine", revision=1))


def test_unknown_assets_and_placeholders_are_refused_naming_each_field(world: World) -> None:
    template = TEMPLATE | {"html": "<p>{{partner.ceo}}</p>", "subject": "{{partner.logo}}"}
    with pytest.raises(ValidationFailed) as refused:
        world.kit(asset_ids=[SILVER_ASSET, "ast_" + "f" * 24], template=template)
    assert [e.field for e in refused.value.errors] == ["template.html", "template.subject", "asset_ids.1"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": TEMPLATE | {"subject": None}}, "template"),
        ({"template": TEMPLATE | {"kind": "fax"}}, "template.kind"),
        ({"asset_ids": [SILVER_ASSET, SILVER_ASSET]}, "asset_ids"),
        ({"asset_ids": ["ast_" + f"{n:024x}" for n in range(21)]}, "asset_ids"),
        ({"template": TEMPLATE | {"html": "x" * (100 * 1024 + 1)}}, "template.html"),
        ({"name": ""}, "name"),
        ({"audience": {"min_tier_id": "Gold!"}}, "audience.min_tier_id"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_bad_kit_bodies_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        KitBody.model_validate({"name": "Kit", "template": TEMPLATE} | body)
    assert any(".".join(str(p) for p in error["loc"]).startswith(field) for error in refused.value.errors())


def test_a_stale_patch_is_a_conflict(world: World) -> None:
    kit_id = world.kit()
    world.kits.patch(ADMIN, kit_id, KitPatch(name="Renamed", revision=1))
    with pytest.raises(Conflict) as stale:
        world.kits.patch(ADMIN, kit_id, KitPatch(name="Again", revision=1))
    assert stale.value.errors[0].field == "revision"


def test_only_a_changed_template_bumps_the_template_revision(world: World) -> None:
    kit_id = world.kit()
    same = world.kits.patch(ADMIN, kit_id, KitPatch.model_validate({"template": TEMPLATE, "revision": 1}))
    assert same.template_revision == 1
    changed = world.kits.patch(
        ADMIN, kit_id, KitPatch.model_validate({"template": TEMPLATE | {"subject": "New"}, "revision": 2})
    )
    assert changed.template_revision == 2


# ------------------------------------------------------------------ kits (partners)
def test_partners_see_published_kits_their_tier_allows_with_only_the_assets_they_may_see(world: World) -> None:
    gold_kit = world.kit(audience={"min_tier_id": "gold"})
    open_kit = world.kit()
    draft = world.kit(status="draft")
    view = world.kits.get(ANN, gold_kit)
    assert [a.asset_id for a in view.assets] == [GOLD_ASSET, SILVER_ASSET]
    assert [a.asset_id for a in world.kits.get(SILVER, open_kit).assets] == [SILVER_ASSET]
    for who, kit_id in ((SILVER, gold_kit), (ANN, draft), (ANN, "kit_" + "0" * 26)):
        with pytest.raises(NotFound):
            world.kits.get(who, kit_id)
    listed, _ = world.kits.page(SILVER, None, 25, None)
    assert [k.kit_id for k in listed] == [open_kit]
    assert {k.kit_id for k in world.kits.page(ADMIN, None, 25, None)[0]} == {gold_kit, open_kit, draft}


def test_a_demoted_partner_loses_the_kit_at_once(world: World) -> None:
    kit_id = world.kit(audience={"min_tier_id": "gold"})
    world.kits.generate(ANN, kit_id)
    world.standing.ranks["p1"] = 1
    with pytest.raises(NotFound):
        world.kits.stored_copy(ANN, kit_id)
    with pytest.raises(NotFound):
        world.kits.generate(ANN, kit_id)


# ------------------------------------------------------------------ brand
def test_the_brand_starts_from_the_partner_projection(world: World) -> None:
    brand, logo = world.brand.view(ANN)
    assert (brand.display_name, brand.website, brand.contact_name, brand.revision) == (
        "Northwind Traders",
        "https://northwind.example",
        "Nina North",
        0,
    )
    assert logo is None
    with pytest.raises(Forbidden):
        world.brand.view(ADMIN)


def brand_body(revision: int, **changes: object) -> BrandBody:
    body = {
        "display_name": "Northwind & Sons",
        "website": "https://northwind.example/partners",
        "contact_name": "Ana Ruiz",
        "contact_email": "Ana@Northwind.example",
        "phone": "+44 20 7946 0000",
        "address": {"lines": ["1 High St"], "city": "London", "postcode": "N1 9GU", "country": "gb"},
        "revision": revision,
    } | changes
    return BrandBody.model_validate(body)


def test_a_partner_admin_saves_the_brand_on_its_revision(world: World) -> None:
    saved = world.brand.save(BOSS, brand_body(0))
    assert (saved.revision, saved.contact_email, saved.address.country) == (1, "ana@northwind.example", "GB")
    assert saved.address_lines() == ["1 High St", "N1 9GU London", "GB"]
    with pytest.raises(Conflict):
        world.brand.save(BOSS, brand_body(0))
    with pytest.raises(Forbidden):
        world.brand.save(ANN, brand_body(1))
    assert world.brand.save(BOSS, brand_body(1, phone="")).revision == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"website": "http://northwind.example"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": 'https://x.example/"><script>'}, "website"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"phone": "<script>"}, "phone"),
        ({"display_name": "a\u202eb"}, "display_name"),
        ({"display_name": "line\nbreak"}, "display_name"),
        ({"address": {"country": "XX"}}, "address.country"),
        ({"address": {"lines": ["a", "b", "c", "d"]}}, "address.lines"),
        ({"address": {"postcode": "<b>"}}, "address.postcode"),
        ({"partner_id": "p2"}, "partner_id"),
    ],
)
def test_bad_brand_fields_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        brand_body(0, **changes)
    assert any(".".join(str(p) for p in error["loc"]).startswith(field) for error in refused.value.errors())


def test_a_png_logo_is_accepted_and_bumps_the_brand_revision(world: World) -> None:
    upload_id = world.upload_logo(png(3, 2))
    upload = world.brand.logo_upload(BOSS, upload_id)
    assert (upload.status, upload.width, upload.height) == ("ready", 3, 2)
    brand, logo = world.brand.view(ANN)
    assert brand.revision == 1 and brand.logo is not None and brand.logo.upload_id == upload_id
    assert logo is not None and logo.data == png(3, 2)
    # the event arrives again: nothing changes
    assert "already ready" in world.brand.process_logo(upload.s3_key, upload.s3_version_id)
    assert world.brand.current("p1").revision == 1


def test_a_fake_png_is_rejected_and_its_object_version_deleted(world: World) -> None:
    upload_id = world.upload_logo(b"GIF89a not a png at all")
    upload = world.brand.logo_upload(BOSS, upload_id)
    assert upload.status == "rejected" and "PNG signature" in (upload.reason or "")
    assert world.files.deleted == [(upload.s3_key, upload.s3_version_id)]
    assert world.brand.current("p1").logo is None


def test_a_malicious_svg_is_stored_sanitised(world: World) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script>'
        b'<rect width="4" height="4" fill="#c00"/></svg>'
    )
    upload_id = world.upload_logo(svg, "image/svg+xml")
    _, logo = world.brand.view(ANN)
    assert logo is not None and logo.content_type == "image/svg+xml"
    assert b"script" not in logo.data and b"onload" not in logo.data and b"<rect" in logo.data
    assert world.brand.logo_upload(BOSS, upload_id).status == "ready"


def test_logo_uploads_belong_to_the_callers_partner(world: World) -> None:
    upload_id = world.upload_logo(png())
    with pytest.raises(NotFound):
        world.brand.logo_upload(EVE, upload_id)
    with pytest.raises(Forbidden):
        world.brand.start_logo(ANN, LogoBody(content_type="image/png", size_bytes=10))


def test_an_object_under_logos_with_no_upload_record_is_deleted(world: World) -> None:
    key = keys.logo_object_key("p1", "logo_" + "0" * 26)
    version = world.files.put(key, png(), "image/png")
    assert "deleted" in world.brand.process_logo(key, version)
    assert world.files.deleted == [(key, version)]
    assert "ignored" in world.brand.process_logo("logos/p1", "v9")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "image/gif", "size_bytes": 10}, "content_type"),
        ({"content_type": "image/png", "size_bytes": 204801}, "size_bytes"),
    ],
)
def test_bad_logo_requests_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LogoBody.model_validate(body)
    assert refused.value.errors()[0]["loc"] == (field,)


# ------------------------------------------------------------------ copies
def test_a_partner_user_generates_the_copy_with_its_escaped_name_and_logo(world: World) -> None:
    world.brand.save(BOSS, brand_body(0, display_name='Evil "><script>alert(1)</script>'))
    world.upload_logo(png())
    kit_id = world.kit()
    view = world.kits.generate(ANN, kit_id)
    assert view.generated and view.copy.copy_revision == 1
    assert "<h1>Evil &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in view.html
    assert "<script" not in view.html
    assert 'src="data:image/png;base64,' in view.html
    assert view.copy.subject == 'Launch news from Evil "><script>alert(1)</script>'  # a header: text, not markup
    assert [f.name for f in view.copy.files] == ["email.html", "kit.pdf"]
    for link in view.links:
        assert link.file.key.startswith(f"kits/p1/{kit_id}/1/")
        assert link.expires_in == 300
    pdf = world.files.read(view.copy.files[1].key, view.copy.files[1].version_id, 10**6)
    assert pdf is not None and pdf.startswith(b"%PDF-1.4") and b"Launch with Evil" in pdf
    [event] = world.store.events
    assert isinstance(event, CoBrandedKitGenerated)
    assert (event.partner_id, event.kit_id, event.copy_revision, event.template_revision, event.brand_revision) == (
        "p1",
        kit_id,
        1,
        1,
        2,
    )
    assert event.files == ["email.html", "kit.pdf"]


def test_a_fresh_copy_is_not_generated_again(world: World) -> None:
    kit_id = world.kit()
    world.kits.generate(ANN, kit_id)
    again = world.kits.generate(BOSS, kit_id)
    assert not again.generated and again.copy.copy_revision == 1
    assert "<h1>Northwind Traders</h1>" in again.html
    stored = world.kits.stored_copy(ANN, kit_id)
    assert not stored.generated and stored.html == again.html
    assert len(world.store.events) == 1


def test_a_template_or_brand_change_regenerates_the_copy_on_read(world: World) -> None:
    kit_id = world.kit()
    world.kits.generate(ANN, kit_id)
    world.kits.patch(
        ADMIN,
        kit_id,
        KitPatch.model_validate({"template": TEMPLATE | {"html": "<p>New {{partner.name}}</p>"}, "revision": 1}),
    )
    after_template = world.kits.stored_copy(ANN, kit_id)
    assert after_template.generated and after_template.copy.copy_revision == 2
    assert after_template.html == "<p>New Northwind Traders</p>"
    world.brand.save(BOSS, brand_body(0, display_name="Northwind Renamed"))
    after_brand = world.kits.stored_copy(ANN, kit_id)
    assert after_brand.copy.copy_revision == 3 and after_brand.copy.brand_revision == 1
    assert after_brand.html == "<p>New Northwind Renamed</p>"
    world.upload_logo(png())
    assert world.kits.stored_copy(ANN, kit_id).copy.copy_revision == 4
    assert [e.copy_revision for e in world.store.events] == [1, 2, 3, 4]  # type: ignore[attr-defined]


def test_no_copy_before_the_first_generation_and_none_for_vendors(world: World) -> None:
    kit_id = world.kit()
    with pytest.raises(NotFound) as missing:
        world.kits.stored_copy(ANN, kit_id)
    assert missing.value.code == "copy_not_found"
    with pytest.raises(Forbidden):
        world.kits.generate(ADMIN, kit_id)


def test_each_partner_has_its_own_copy_under_its_own_prefix(world: World) -> None:
    kit_id = world.kit()
    mine = world.kits.generate(ANN, kit_id)
    theirs = world.kits.generate(EVE, kit_id)
    assert mine.copy.files[0].key.startswith("kits/p1/") and theirs.copy.files[0].key.startswith("kits/p2/")
    assert "Northwind" in mine.html and "Northwind" not in theirs.html  # p2 has no profile: its id is its name
    assert world.kits.stored_copy(EVE, kit_id).copy.partner_id == "p2"


def test_a_lost_race_uses_the_winners_fresh_copy(world: World) -> None:
    kit_id = world.kit()
    original = world.store.save_copy

    def race(copy, previous_revision, events):  # type: ignore[no-untyped-def]
        world.store.save_copy = original  # type: ignore[method-assign]
        original(copy.model_copy(update={"generated_by": "other@p1.com"}), previous_revision, events)
        original(copy, previous_revision, events)  # the second write loses: the copy revision moved on

    world.store.save_copy = race  # type: ignore[method-assign]
    view = world.kits.generate(ANN, kit_id)
    assert not view.generated and view.copy.generated_by == "other@p1.com"


def test_copy_freshness_rule() -> None:
    world = World()
    kit = world.store.kits[world.kit()]
    brand = world.brand.current("p1")
    assert not rules.is_fresh(None, kit, brand)
    copy = world.kits.generate(ANN, kit.kit_id).copy
    assert rules.is_fresh(copy, kit, brand)
    assert not rules.is_fresh(copy, kit.model_copy(update={"template_revision": 2}), brand)
    assert not rules.is_fresh(copy, kit, brand.model_copy(update={"revision": 1}))


def test_defaults_without_a_profile_use_the_partner_id() -> None:
    brand = rules.default_brand("p9", None)
    assert (brand.display_name, brand.website, brand.revision) == ("p9", None, 0)
    audience = Audience()
    assert audience.min_tier_id is None


def test_a_partner_page_reads_its_standing_once(world: World) -> None:
    for _ in range(5):
        world.kit()
    world.standing.reads = 0
    listed, _ = world.kits.page(ANN, None, 25, None)
    assert len(listed) == 5 and world.standing.reads == 1
    world.standing.reads = 0
    world.kits.get(ANN, listed[0].kit_id)
    assert world.standing.reads == 2  # the kit's audience, then its assets (one read each)
