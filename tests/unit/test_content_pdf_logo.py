"""The hand-written one-page PDF (content.domain.pdf) and the logo checks (content.domain.logo): PNG structure,
SVG sanitising against scripts, handlers, foreign objects, external links, CSS URLs and entity tricks."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from content.domain.logo import (
    MAX_LOGO_BYTES,
    PNG,
    SVG,
    CheckedLogo,
    RefusedLogo,
    check_logo,
)
from content.domain.pdf import PdfPage, escape_text, one_page_pdf


# ------------------------------------------------------------------ PDF
def test_the_pdf_has_a_correct_cross_reference_table() -> None:
    data = one_page_pdf(PdfPage("Launch kit", ["Body text."], ["Northwind", "https://northwind.example"], "Kit"))
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", data).group(1))  # type: ignore[union-attr]
    assert data[startxref:].startswith(b"xref\n0 8\n")
    offsets = [int(line[:10]) for line in data[startxref:].split(b"\n")[3:10]]
    for number, offset in enumerate(offsets, 1):
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+) >>\nstream\n", data).group(1))  # type: ignore[union-attr]
    stream_start = data.index(b"stream\n") + len(b"stream\n")
    assert data[stream_start + length :].startswith(b"\nendstream")


def test_partner_text_cannot_close_a_pdf_string_or_add_an_operator() -> None:
    assert escape_text("a) Tj ET (b\\") == b"a\\) Tj ET \\(b\\\\"
    assert escape_text("line\nbreak\x00\u202e") == b"line break  "
    assert escape_text("Caf\u00e9 \u2013 \u2713") == b"Caf\xe9 \x96 ?"
    data = one_page_pdf(PdfPage("x) Tj /F9 99 Tf (", ["(", ")", "\\"], ["q) ' (r"]))
    stream = data.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    # every text operand is a balanced literal string: remove them and only operators and numbers remain
    operators = re.sub(rb"\((?:\\.|[^\\()])*\)", b"", stream)
    assert b"(" not in operators and b")" not in operators
    assert b"F9" not in operators


def test_a_long_body_is_cut_to_one_page() -> None:
    data = one_page_pdf(PdfPage("Headline", ["word " * 5000], ["Contact line"]))
    assert data.count(b"/Type /Page ") == 1
    assert b"Contact line" in data
    assert b"\x85" in data  # the ellipsis (WinAnsi 0x85) where the body was cut


# `make test` installs pdfinfo (poppler-utils), so CI never skips this; a bare `pytest` elsewhere may.
@pytest.mark.skipif(
    shutil.which("pdfinfo") is None and not os.environ.get("CI"), reason="poppler's pdfinfo is not installed"
)
def test_pdfinfo_reads_one_page(tmp_path: Path) -> None:
    path = tmp_path / "kit.pdf"
    path.write_bytes(one_page_pdf(PdfPage("Northwind (Gold)", ["Hello \\ (world)"], ["a"], "Kit (1)")))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    fields = dict(re.split(r":\s+", line, maxsplit=1) for line in info.stdout.splitlines() if ":" in line)
    assert fields["Pages"] == "1"
    assert fields["Title"] == "Kit (1)"
    assert info.stderr == ""


# ------------------------------------------------------------------ PNG
def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 2, height: int = 1, *, extra: bytes = b"", ihdr: bytes | None = None) -> bytes:
    header = ihdr if ihdr is not None else struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00\xff" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_a_valid_png_passes_with_its_size_and_loses_its_text_chunks() -> None:
    comment = chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")
    verdict = check_logo(png(3, 2, extra=comment + chunk(b"pHYs", b"\x00" * 9)), PNG)
    assert isinstance(verdict, CheckedLogo)
    assert (verdict.width, verdict.height, verdict.content_type) == (3, 2, PNG)
    assert b"tEXt" not in verdict.data and b"script" not in verdict.data
    assert b"pHYs" in verdict.data
    assert verdict.data == png(3, 2, extra=chunk(b"pHYs", b"\x00" * 9))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 40, "not a PNG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG"),
        (png()[:-6], "cut short"),
        (png().replace(b"IDAT", b"IDAX", 1), "checksum"),
        (png(0, 1), "between 1 and 4096"),
        (png(5000, 1), "between 1 and 4096"),
        (png(ihdr=struct.pack(">IIBBBBB", 1, 1, 7, 6, 0, 0, 0)), "IHDR"),
        (png(ihdr=b"\x00" * 12), "IHDR"),
        (b"\x89PNG\r\n\x1a\n" + chunk(b"IDAT", b"x") + chunk(b"IEND", b""), "no IHDR"),
        (png()[: -len(chunk(b"IEND", b""))], "no end"),
        (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)) + chunk(b"IEND", b""),
            "pixel",
        ),
        (png(extra=chunk(b"ZZZZ", b"")), "unknown critical chunk"),
        (png() + b"\x00" * (MAX_LOGO_BYTES + 1), "at most 200 KB"),
    ],
)
def test_a_bad_png_is_refused_with_its_reason(data: bytes, reason: str) -> None:
    verdict = check_logo(data, PNG)
    assert isinstance(verdict, RefusedLogo)
    assert reason in verdict.reason


def test_only_png_and_svg_are_logos() -> None:
    verdict = check_logo(png(), "image/gif")
    assert isinstance(verdict, RefusedLogo) and "PNG or an SVG" in verdict.reason


# ------------------------------------------------------------------ SVG
GOOD_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient></defs>'
    b'<title>Northwind &amp; Sons</title><rect width="10" height="10" fill="url(#g)"/>'
    b'<use xlink:href="#g"/><text x="1" y="9" font-size="3">N &lt;W&gt;</text></svg>'
)


def sanitised(data: bytes) -> str:
    verdict = check_logo(data, SVG)
    assert isinstance(verdict, CheckedLogo), verdict
    return verdict.data.decode("utf-8")


def test_a_clean_svg_keeps_its_drawing() -> None:
    text = sanitised(GOOD_SVG)
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'fill="url(#g)"' in text and 'xlink:href="#g"' in text
    assert "<title>Northwind &amp; Sons</title>" in text
    assert "N &lt;W&gt;</text>" in text


MALICIOUS_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
    b"<script>alert(1)</script><script xlink:href='https://evil.example/x.js'/>"
    b'<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></body>'
    b"</foreignObject>"
    b'<a xlink:href="javascript:alert(1)"><rect width="5" height="5"/></a>'
    b'<image xlink:href="https://evil.example/track.png"/>'
    b'<use xlink:href="https://evil.example/sprite.svg#x"/><use href="data:image/svg+xml;base64,AAAA"/>'
    b'<rect width="1" height="1" fill="url(https://evil.example/p)" onclick="alert(1)" '
    b'style="background: url(javascript:alert(1))"/>'
    b'<circle r="1" style="fill: red"/><path d="M0 0" style="fill:ur\\l(x)"/>'
    b"<style>@import url(https://evil.example/x.css);</style>"
    b'<animate attributeName="href" to="javascript:alert(1)"/><set attributeName="onload" to="alert(1)"/>'
    b'<text x="1">hi<tspan onmouseover="alert(1)">there</tspan></text>'
    b"</svg>"
)


def test_a_malicious_svg_is_sanitised() -> None:
    text = sanitised(MALICIOUS_SVG)
    lowered = text.lower()
    for gone in (
        "script",
        "onload",
        "onclick",
        "onerror",
        "onmouseover",
        "foreignobject",
        "javascript",
        "evil.example",
    ):
        assert gone not in lowered, gone
    for gone in ("<style", "<animate", "<set", "<image", "<a ", "data:", "url(", "\\"):
        assert gone not in lowered, gone
    assert '<circle r="1" style="fill: red" />' in text
    assert '<text x="1">hi<tspan>there</tspan></text>' in text


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        b'<!DOCTYPE svg SYSTEM "file:///etc/passwd"><svg xmlns="http://www.w3.org/2000/svg"/>',
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            '<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
        ).encode("utf-16"),
    ],
)
def test_doctype_and_entities_are_refused_whatever_the_encoding(data: bytes) -> None:
    verdict = check_logo(data, SVG)
    assert isinstance(verdict, RefusedLogo)
    assert "DOCTYPE" in verdict.reason or "UTF-8" in verdict.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
        (b"<svg><rect/></svg>", "root element"),
        (b"<html xmlns='http://www.w3.org/1999/xhtml'/>", "root element"),
        (b"\x89PNG\r\n\x1a\n", "UTF-8"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g/>" * 5001 + b"</svg>", "at most 5000 elements"),
    ],
)
def test_a_bad_svg_is_refused_with_its_reason(data: bytes, reason: str) -> None:
    verdict = check_logo(data, SVG)
    assert isinstance(verdict, RefusedLogo)
    assert reason in verdict.reason


def test_an_svg_that_grows_past_the_limit_when_sanitised_is_refused() -> None:
    """`>` in text is escaped to `&gt;`: a logo under the upload limit could be stored four times larger."""
    head, tail = b'<svg xmlns="http://www.w3.org/2000/svg"><text>', b"</text></svg>"
    data = head + b">" * (MAX_LOGO_BYTES - len(head) - len(tail)) + tail
    assert len(data) <= MAX_LOGO_BYTES
    verdict = check_logo(data, SVG)
    assert isinstance(verdict, RefusedLogo) and "once sanitised" in verdict.reason


def test_a_use_reference_bomb_is_refused() -> None:
    """Nested groups each repeated by ten <use>s draw 10^n shapes from a few kilobytes."""
    groups = ['<g id="l0"><circle r="1"/></g>'] + [
        f'<g id="l{n}">' + "".join(f'<use href="#l{n - 1}"/>' for _ in range(10)) + "</g>" for n in range(1, 30)
    ]
    data = '<svg xmlns="http://www.w3.org/2000/svg"><defs>' + "".join(groups) + '</defs><use href="#l29"/></svg>'
    verdict = check_logo(data.encode(), SVG)
    assert isinstance(verdict, RefusedLogo) and "<use>" in verdict.reason
    few = '<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><circle r="1"/></g><use href="#a"/><use href="#a"/></svg>'
    assert not isinstance(check_logo(few.encode(), SVG), RefusedLogo)  # a logo's few references are fine
