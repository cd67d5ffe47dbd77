"""A one-page, text-only PDF written by hand (no dependency): a headline, paragraphs and a contact block in
Helvetica (WinAnsi), with a correct cross-reference table. Text is escaped for PDF string literals, so a partner's
value can never end a string or inject an operator; what does not fit on the page is cut with an ellipsis."""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

PAGE_WIDTH = 595  # A4 in points
PAGE_HEIGHT = 842
MARGIN = 64
HEADLINE_SIZE = 20
BODY_SIZE = 11
LEADING = 15
HEADLINE_WRAP = 44  # characters per line: Helvetica averages about half an em per character
BODY_WRAP = 84
MAX_LINES = (PAGE_HEIGHT - 2 * MARGIN - 2 * HEADLINE_SIZE) // LEADING


@dataclass(frozen=True)
class PdfPage:
    """What one page says: a headline, body paragraphs and a footer block (the partner's contact lines)."""

    headline: str
    paragraphs: Sequence[str]
    footer: Sequence[str] = ()
    title: str = ""  # the document's Info title


def escape_text(text: str) -> bytes:
    """A PDF literal string's content: WinAnsi bytes (unknown characters become '?'), controls removed,
    backslash and parentheses escaped."""
    visible = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    raw = visible.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrapped(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width=width, break_long_words=True) or [""])
    return lines


def _lines(page: PdfPage) -> tuple[list[str], list[str]]:
    """The headline's lines and the rest (body, a blank line, the footer), cut to fit one page."""
    headline = _wrapped(page.headline, HEADLINE_WRAP)[:3]
    body: list[str] = []
    for paragraph in page.paragraphs:
        body.extend(_wrapped(paragraph, BODY_WRAP))
        body.append("")
    footer = [line for item in page.footer for line in _wrapped(item, BODY_WRAP)]
    room = MAX_LINES - len(headline) * 2
    if len(body) + len(footer) > room:
        body = body[: max(room - len(footer) - 1, 0)]
        if body:
            body[-1] = body[-1][: BODY_WRAP - 1] + "\u2026"
        footer = footer[: room - len(body)]
    return headline, body + footer


def _content(page: PdfPage) -> bytes:
    headline, rest = _lines(page)
    top = PAGE_HEIGHT - MARGIN - HEADLINE_SIZE
    ops = [b"BT", b"/F2 %d Tf %d TL %d %d Td" % (HEADLINE_SIZE, HEADLINE_SIZE + 6, MARGIN, top)]
    for index, line in enumerate(headline):
        ops.append((b"(%s) Tj" if index == 0 else b"(%s) '") % escape_text(line))
    ops.append(b"/F1 %d Tf %d TL" % (BODY_SIZE, LEADING))
    ops.append(b"0 %d Td" % -(HEADLINE_SIZE + 12))
    for index, line in enumerate(rest):
        ops.append((b"(%s) Tj" if index == 0 else b"(%s) '") % escape_text(line))
    ops.append(b"ET")
    return b"\n".join(ops)


def one_page_pdf(page: PdfPage) -> bytes:
    """The page as a complete PDF 1.4 file (Catalog, Pages, Page, two Type1 fonts, one content stream, Info)."""
    stream = _content(page)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> "
        b"/Contents 6 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (%s) /Producer (PRM content kits) >>" % escape_text(page.title[:200]),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)
