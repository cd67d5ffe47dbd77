"""The demo content library's seed: the files it generates are real (PDF structure and cross-reference table, PNG
chunks and CRCs, UTF-8 CSV), every upload body and the kit are what the content API accepts, the plan spreads over
the audience rules, and seeding twice uploads nothing twice."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from content.domain.render import ALLOWED
from content.models.assets import ACCEPTED_TYPES, AssetBody
from content.models.kits import KitBody
from infrastructure.local import seed_content
from infrastructure.local.seed_content import KIT_NAME, PLAN, DemoAsset, csv_document, pdf_document, png_image

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------ file checks (independent of the makers)
def pdf_problems(data: bytes) -> list[str]:
    """What is wrong with a classic (xref table) PDF's structure; its page count is checked by the caller."""
    problems: list[str] = []
    if not data.startswith(b"%PDF-1.") or not data.rstrip().endswith(b"%%EOF"):
        return ["no %PDF- header or %%EOF trailer"]
    start = int(re.findall(rb"startxref\s+(\d+)\s+%%EOF", data)[-1])
    if data[start : start + 4] != b"xref":
        return [f"startxref {start} does not point at the xref table"]
    table = data[start:].split(b"trailer", 1)[0].split(b"\n")
    first, count = (int(n) for n in table[1].split())
    entries = table[2 : 2 + count]
    if first != 0 or not entries[0].startswith(b"0000000000 65535 f"):
        problems.append("the xref table does not start with the free entry 0")
    for number, entry in enumerate(entries[1:], 1):
        offset = int(entry[:10])
        if not data[offset:].startswith(b"%d 0 obj" % number):
            problems.append(f"object {number} is not at offset {offset}")
    size = int(re.search(rb"/Size (\d+)", data[start:]).group(1))  # type: ignore[union-attr]
    if size != count:
        problems.append(f"trailer /Size {size} but {count} xref entries")
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data):
        end = match.end() + int(match.group(1))
        if data[end : end + 10] != b"\nendstream":
            problems.append(f"a stream's /Length {match.group(1).decode()} is wrong")
    if not re.search(rb"/Root 1 0 R", data[start:]):
        problems.append("no /Root in the trailer")
    return problems


def pdf_pages(data: bytes) -> tuple[int, int]:
    """(the page tree's /Count, the number of /Type /Page objects)."""
    count = int(re.search(rb"/Type /Pages .*?/Count (\d+)", data).group(1))  # type: ignore[union-attr]
    return count, len(re.findall(rb"/Type /Page\b(?!s)", data))


def png_problems(data: bytes) -> list[str]:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ["no PNG signature"]
    at, kinds, idat, problems = 8, [], b"", []
    width = height = 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            problems.append(f"bad CRC on {kind!r}")
        if kind == b"IHDR":
            width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", body)
            if (depth, colour) != (8, 2):
                problems.append("not 8-bit RGB")
        if kind == b"IDAT":
            idat += body
        kinds.append(kind)
        at += 12 + length
    if kinds[0] != b"IHDR" or kinds[-1] != b"IEND":
        problems.append(f"chunks out of order: {kinds}")
    rows = zlib.decompress(idat)
    if len(rows) != height * (1 + 3 * width):
        problems.append("the image data does not fill width x height")
    elif any(rows[y * (1 + 3 * width)] != 0 for y in range(height)):
        problems.append("a scanline has an unknown filter")
    return problems


def csv_rows(data: bytes) -> list[list[str]]:
    assert b"\x00" not in data
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


# ------------------------------------------------------------------ the makers themselves
def test_a_pdf_has_a_correct_xref_and_its_pages() -> None:
    data = pdf_document("Title (with) \\ parens", [["one"], ["two (2)"], ["three"]])
    assert pdf_problems(data) == []
    assert pdf_pages(data) == (3, 3)
    assert b"/Title (Title \\(with\\) \\\\ parens)" in data


def test_the_pdf_checker_notices_a_broken_file() -> None:
    good = pdf_document("x", [["a"]])
    shifted = good.replace(b"%PDF-1.4\n", b"%PDF-1.4\n\n", 1)  # every offset now off by one
    assert pdf_problems(shifted) == [f"startxref {good.index(b'xref')} does not point at the xref table"]
    renamed = good.replace(b"2 0 obj", b"2 0 obx", 1)
    assert any(p.startswith("object 2 is not at offset") for p in pdf_problems(renamed))
    length = re.search(rb"/Length (\d+)", good)
    assert length is not None
    shorter = b"%d" % (int(length.group(1)) - 1)
    assert len(shorter) == len(length.group(1))  # the same digit count keeps every offset right
    short = good.replace(length.group(0), b"/Length " + shorter, 1)
    assert any("/Length" in p for p in pdf_problems(short))
    with pytest.raises(ValueError):
        pdf_document("x", [])


def test_a_png_has_valid_chunks_and_the_checker_notices_a_bad_crc() -> None:
    data = png_image(3, 2, lambda x, y: (x * 80, y * 120, 7))
    assert png_problems(data) == []
    broken = bytearray(data)
    broken[20] ^= 0xFF  # inside IHDR's data
    assert "bad CRC on b'IHDR'" in png_problems(bytes(broken))
    with pytest.raises(ValueError):
        png_image(0, 1, lambda x, y: (0, 0, 0))


def test_a_csv_quotes_what_needs_quoting() -> None:
    data = csv_document(["name", "note"], [["Acme, Inc.", 'said "hi"']])
    assert csv_rows(data) == [["name", "note"], ["Acme, Inc.", 'said "hi"']]


# ------------------------------------------------------------------ the plan
@pytest.mark.parametrize("item", PLAN, ids=[item.file_name for item in PLAN])
def test_every_demo_file_is_real_and_the_api_accepts_its_body(item: DemoAsset) -> None:
    data = item.make()
    assert 0 < len(data) < 64 * 1024
    if item.content_type == "application/pdf":
        assert pdf_problems(data) == []
        count, objects = pdf_pages(data)
        assert count == objects >= 1
    elif item.content_type == "image/png":
        assert png_problems(data) == []
    elif item.content_type == "text/csv":
        rows = csv_rows(data)
        assert len(rows) >= 2 and len({len(r) for r in rows}) == 1
    else:
        pytest.fail(f"no check for {item.content_type}")
    assert item.content_type in ACCEPTED_TYPES[item.type]
    body = item.body(NOW)
    parsed = AssetBody.model_validate(body)
    assert parsed.file.size_bytes == len(data)
    extension = {"application/pdf": "pdf", "image/png": "png", "text/csv": "csv"}[item.content_type]
    assert item.file_name.endswith(f".{extension}")


def test_the_plan_spreads_over_tiers_regions_dates_and_file_kinds() -> None:
    assert len(PLAN) == 12 and len({item.title for item in PLAN}) == 12
    everyone = [i for i in PLAN if not i.min_tier_id and not i.regions and not i.partner_types]
    assert len(everyone) >= 4
    assert {i.min_tier_id for i in PLAN} == {None, "silver", "gold"}
    assert len([i for i in PLAN if i.min_tier_id == "gold"]) >= 3
    # one asset for another region than the demo partners' (GB, DE: EMEA; US: AMER)
    assert [i.regions for i in PLAN if i.regions] == [("APAC",)]
    soon = [i for i in PLAN if i.expires_in_days is not None]
    assert len(soon) == 1 and 0 < soon[0].expires_in_days <= 14  # type: ignore[operator]
    expires = datetime.fromisoformat(soon[0].body(NOW)["expires_at"].replace("Z", "+00:00"))
    assert expires == NOW + timedelta(days=soon[0].expires_in_days or 0)
    assert {i.content_type for i in PLAN} == {"application/pdf", "image/png", "text/csv"}
    assert {i.language for i in PLAN} == {"en", "de"}
    assert any(i.kit and i.min_tier_id == "gold" for i in PLAN) and any(i.kit and not i.min_tier_id for i in PLAN)


def test_the_kit_uses_only_known_placeholders_and_is_a_valid_body() -> None:
    ids = ["ast_" + f"{n:024x}" for n in range(3)]
    body = seed_content.kit_body(ids)
    kit = KitBody.model_validate(body)
    assert kit.status == "published" and kit.asset_ids == ids and kit.template.pdf is not None
    used = set(re.findall(r"\{\{\s*(.*?)\s*\}\}", body["template"]["html"] + body["template"]["subject"]))
    assert used <= set(ALLOWED) and {"partner.name", "partner.logo"} <= used


# ------------------------------------------------------------------ seeding, against a scripted API
@dataclass
class FakeLibrary:
    """The content routes the seed calls, as a dict-backed fake; every asset is checked at once."""

    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    kits: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def api(self, method: str, path: str, *, session: Any = None, json: Any = None) -> requests.Response:
        if (method, path.split("?", maxsplit=1)[0]) == ("GET", "/content/admin/assets"):
            return answer(200, {"items": list(self.assets.values()), "next_cursor": None})
        if (method, path) == ("POST", "/content/assets"):
            self.bodies.append(json)
            asset_id = f"ast_{len(self.assets):024x}"
            self.assets[asset_id] = {"asset_id": asset_id, "title": json["title"], "status": "draft"}
            upload = {
                "url": "https://bucket.test/",
                "fields": {"key": f"assets/{asset_id}/1/{json['file']['file_name']}"},
            }
            return answer(201, {"asset": self.assets[asset_id], "upload": upload})
        if method == "GET" and path.startswith("/content/assets/"):
            asset = self.assets[path.rsplit("/", 1)[1]]
            asset["status"] = "ready"
            return answer(200, asset)
        if method == "GET" and path.startswith("/content/kits"):
            return answer(200, {"items": self.kits, "next_cursor": None})
        if (method, path) == ("POST", "/content/kits"):
            self.kits.append(json | {"kit_id": "kit_" + "0" * 26})
            return answer(201, self.kits[-1])
        raise AssertionError(f"unexpected {method} {path}")


def answer(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


class IdleStack:
    def wait_idle(self, timeout: float) -> None:
        pass


def test_seeding_uploads_each_file_once_and_publishes_one_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    library = FakeLibrary()
    stored: list[tuple[str, bytes, str]] = []

    def post_file(upload: dict[str, Any], content: bytes, name: str, content_type: str) -> requests.Response:
        stored.append((upload["fields"]["key"], content, content_type))
        return answer(204, None)

    monkeypatch.setattr(seed_content, "post_file", post_file)
    seeded = seed_content.seed(library, IdleStack(), object())  # type: ignore[arg-type]
    assert [b["title"] for b in library.bodies] == [i.title for i in PLAN]
    assert [(len(content), ctype) for _, content, ctype in stored] == [
        (b["file"]["size_bytes"], b["file"]["content_type"]) for b in library.bodies
    ]
    assert all(key.endswith(b["file"]["file_name"]) for (key, _, _), b in zip(stored, library.bodies, strict=True))
    assert set(seeded.assets) == {i.title for i in PLAN}
    assert all(a["status"] == "ready" for a in seeded.assets.values())
    [kit] = library.kits
    assert kit["name"] == KIT_NAME
    assert kit["asset_ids"] == [seeded.assets[i.title]["asset_id"] for i in PLAN if i.kit]

    again = seed_content.seed(library, IdleStack(), object())  # type: ignore[arg-type]
    assert len(library.bodies) == len(PLAN) and len(stored) == len(PLAN) and len(library.kits) == 1
    assert again.kit == kit


@dataclass
class Reader:
    """Each demo partner's library and programme as the banner reads them (by session)."""

    library: dict[str, int]
    tiers: dict[str, str]

    def api(self, method: str, path: str, *, session: Any = None) -> requests.Response:
        if path.startswith("/content/library"):
            count = self.library[session]
            return answer(200, {"items": [{"asset_id": f"a{n}"} for n in range(count)], "next_cursor": None})
        if path == "/programme":
            return answer(200, {"tier": {"tier_id": self.tiers[session].lower(), "name": self.tiers[session]}})
        raise AssertionError(f"unexpected {method} {path}")


def test_the_banner_says_what_each_partner_sees_now() -> None:
    reader = Reader(library={"nancy": 7, "hans": 5}, tiers={"nancy": "Silver", "hans": "Registered"})
    lines = seed_content.describe(reader, {"Northwind": "nancy", "Contoso": "hans", "Fabrikam": None})  # type: ignore[arg-type,dict-item]
    assert lines == [
        "Content library: 12 assets, 4 for Gold and above (no demo partner is Gold yet); Northwind (Silver) sees 7; "
        "Contoso (Registered) sees 5. Kit: Firewall 900 launch kit (Library page)."
    ]
    assert seed_content.describe(reader, {"Northwind": None}) == []  # nobody could sign in: nothing to say
    reader = Reader(library={"nancy": 11, "hans": 5}, tiers={"nancy": "Gold", "hans": "Registered"})
    lines = seed_content.describe(reader, {"Northwind": "nancy", "Contoso": "hans"})  # type: ignore[arg-type,dict-item]
    assert lines == [  # after Andrew's certification lifts Northwind to Gold, the banner no longer says nobody is
        "Content library: 12 assets, 4 for Gold and above; Northwind (Gold) sees 11; Contoso (Registered) sees 5. "
        "Kit: Firewall 900 launch kit (Library page)."
    ]
