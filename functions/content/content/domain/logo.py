"""A partner's logo upload, checked after it arrives: a PNG must be a well-formed PNG (signature, IHDR with sane
dimensions, every chunk's CRC, IDAT, IEND last; text and metadata chunks dropped); an SVG is parsed with
xml.etree (DOCTYPE and ENTITY refused), then rebuilt from an allow-list of elements and attributes: scripts,
event handlers, foreignObject, external or script links and CSS URLs never survive. The result is the sanitised
bytes the co-branded copies embed, or the reason the upload is refused."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

PNG = "image/png"
SVG = "image/svg+xml"
LOGO_TYPES = (PNG, SVG)
MAX_LOGO_BYTES = 200 * 1024
MAX_SVG_USES = 8  # <use> references a logo may hold (a logo needs a few; nested ones multiply)
MAX_DIMENSION = 4096  # pixels, each side
MAX_SVG_ELEMENTS = 5000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# PNG chunks kept: the critical ones and those that only change how pixels look.
PNG_KEPT_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT"})
PNG_KEPT_CHUNKS |= frozenset({b"bKGD", b"pHYs"})

SVG_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "defs",
        "symbol",
        "use",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
    }
)
UNWRAPPED_ELEMENTS = frozenset({"a", "switch"})
SVG_ATTRIBUTES = frozenset(
    {
        "id",
        "class",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "dx",
        "dy",
        "width",
        "height",
        "d",
        "points",
        "pathLength",
        "viewBox",
        "preserveAspectRatio",
        "version",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-opacity",
        "opacity",
        "color",
        "clip-path",
        "clip-rule",
        "clipPathUnits",
        "mask",
        "maskUnits",
        "maskContentUnits",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "patternUnits",
        "patternContentUnits",
        "patternTransform",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "letter-spacing",
        "word-spacing",
        "text-decoration",
        "visibility",
        "display",
        "style",
    }
)
# Attributes whose value may name another element: only as a local fragment, e.g. url(#g1) or #g1.
_LOCAL_REFERENCE = re.compile(r"^\s*url\(\s*#[A-Za-z_][\w.-]*\s*\)\s*$")
_LOCAL_HREF = re.compile(r"^#[A-Za-z_][\w.-]*$")
_STYLE_REFUSED = ("url(", "expression(", "javascript:", "@import", "behavior:", "-moz-binding", "<", "\\")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")


@dataclass(frozen=True)
class CheckedLogo:
    """A logo that passed: the bytes to store and embed (sanitised), its type and, for a PNG, its size."""

    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class RefusedLogo:
    reason: str


LogoVerdict = CheckedLogo | RefusedLogo


def check_logo(data: bytes, content_type: str) -> LogoVerdict:
    """The sanitised logo, or why it is refused (the declared type must match what the bytes are)."""
    if not data:
        return RefusedLogo("the file is empty")
    if len(data) > MAX_LOGO_BYTES:
        return RefusedLogo(f"a logo must be at most {MAX_LOGO_BYTES // 1024} KB")
    if content_type == PNG:
        return check_png(data)
    if content_type == SVG:
        return sanitise_svg(data)
    return RefusedLogo("a logo must be a PNG or an SVG image")


# ------------------------------------------------------------------ PNG
class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_png(data: bytes) -> LogoVerdict:
    """A structurally valid PNG, rebuilt without its text and metadata chunks."""
    try:
        chunks = _png_chunks(data)
        width, height = _png_size(chunks[0][8:-4])
    except _Refused as refused:
        return RefusedLogo(refused.reason)
    return CheckedLogo(PNG, PNG_SIGNATURE + b"".join(chunks), width, height)


def _png_chunks(data: bytes) -> list[bytes]:
    """The chunks kept (each whole: length, type, body, CRC), every chunk's structure and checksum verified."""
    if not data.startswith(PNG_SIGNATURE):
        raise _Refused("the file is not a PNG image (its first bytes are not the PNG signature)")
    kept: list[bytes] = []
    seen: list[bytes] = []
    position = len(PNG_SIGNATURE)
    while position < len(data) and seen[-1:] != [b"IEND"]:
        (length,) = struct.unpack(">I", data[position : position + 4].rjust(4, b"\xff"))
        end = position + 12 + length
        if end > len(data):
            raise _Refused("the PNG image is cut short")
        kind, body = data[position + 4 : position + 8], data[position + 8 : end - 4]
        if not re.fullmatch(rb"[A-Za-z]{4}", kind) or zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end]):
            raise _Refused("the PNG image is damaged (a chunk's checksum does not match)")
        if not seen and kind != b"IHDR":
            raise _Refused("the PNG image has no IHDR header")
        if kind not in PNG_KEPT_CHUNKS and kind[0:1].isupper():
            raise _Refused(f"the PNG image has an unknown critical chunk {kind.decode('ascii')}")
        if kind in PNG_KEPT_CHUNKS:
            kept.append(data[position:end])
        seen.append(kind)
        position = end
    if seen[-1:] != [b"IEND"]:
        raise _Refused("the PNG image has no end (IEND)")
    if b"IDAT" not in seen:
        raise _Refused("the PNG image has no pixel data")
    return kept


def _png_size(ihdr: bytes) -> tuple[int, int]:
    if len(ihdr) != 13:
        raise _Refused("the PNG image's IHDR header is malformed")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", ihdr)
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise _Refused(f"a logo must be between 1 and {MAX_DIMENSION} pixels on each side")
    valid_depths = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
    if depth not in valid_depths.get(colour, set()) or compression or filtering or interlace not in (0, 1):
        raise _Refused("the PNG image's IHDR header is malformed")
    return width, height


# ------------------------------------------------------------------ SVG
def sanitise_svg(data: bytes) -> LogoVerdict:
    """The SVG rebuilt from allowed elements and attributes only (its text kept, escaped on output)."""
    root = _parsed_svg(data)
    if isinstance(root, RefusedLogo):
        return root
    clean = _clean_element(root)
    assert clean is not None  # the root is an allowed <svg>
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    text = ElementTree.tostring(clean, encoding="unicode", short_empty_elements=True).encode("utf-8")
    if len(text) > MAX_LOGO_BYTES:  # escaping can make the sanitised logo larger than the upload
        return RefusedLogo(f"the SVG logo, once sanitised, is larger than {MAX_LOGO_BYTES // 1024} KB")
    return CheckedLogo(SVG, text)


def _parsed_svg(data: bytes) -> ElementTree.Element | RefusedLogo:
    """The parsed SVG root, or why it is refused before sanitising (encoding, declarations, shape, size)."""
    try:
        lowered = data.decode("utf-8").lower()
    except UnicodeDecodeError:
        return RefusedLogo("an SVG logo must be UTF-8 text")
    if "<!doctype" in lowered or "<!entity" in lowered or _declares_dtd(data):
        return RefusedLogo("an SVG logo may not contain a DOCTYPE or ENTITY declaration")
    try:
        # xml.etree on purpose (no dependency): DOCTYPE and ENTITY are refused above, which is defusedxml's guard
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as error:
        return RefusedLogo(f"the SVG logo is not well-formed XML ({error})")
    problem = _shape_problem(root)
    return RefusedLogo(problem) if problem else root


def _shape_problem(root: ElementTree.Element) -> str | None:
    """Why a well-formed document is not a logo to keep: not SVG, too many elements, too many <use> references."""
    if root.tag != f"{{{SVG_NS}}}svg":
        return "the file is not an SVG image (its root element is not an SVG <svg>)"
    if sum(1 for _ in root.iter()) > MAX_SVG_ELEMENTS:
        return f"an SVG logo may have at most {MAX_SVG_ELEMENTS} elements"
    if sum(1 for e in root.iter() if _local_name(e.tag) == "use") > MAX_SVG_USES:
        # each <use> may repeat a group holding more <use>s: nested, a few kilobytes draw millions of shapes
        return f"an SVG logo may have at most {MAX_SVG_USES} <use> elements"
    return None


class _Declaration(Exception):
    pass


def _declares_dtd(data: bytes) -> bool:
    """Whether expat itself meets a DOCTYPE or an entity declaration (whatever encoding hides it from a byte search);
    malformed XML is left to the real parse, which reports it."""

    def refuse(*_: object) -> None:
        raise _Declaration

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except _Declaration:
        return True
    except expat.ExpatError:
        return False
    return False


def _local_name(tag: str) -> str | None:
    """The element's SVG name, None for any other namespace (or a comment / processing instruction)."""
    if not isinstance(tag, str) or not tag.startswith(f"{{{SVG_NS}}}"):
        return None
    return tag[len(SVG_NS) + 2 :]


def _clean_element(element: ElementTree.Element) -> ElementTree.Element | None:
    name = _local_name(element.tag)
    if name is None or name not in SVG_ELEMENTS:
        return None
    clean = ElementTree.Element(element.tag)
    for attribute, value in element.attrib.items():
        if kept := _clean_attribute(name, attribute, value):
            clean.set(*kept)
    is_text = name in ("text", "tspan", "title", "desc")
    if is_text:
        clean.text = element.text
    for child in _children(element):
        kept_child = _clean_element(child)
        if kept_child is not None:
            if is_text:
                kept_child.tail = child.tail
            clean.append(kept_child)
    return clean


def _children(element: ElementTree.Element) -> list[ElementTree.Element]:
    """The element's children, with a link or a switch replaced by its own children (the drawing stays, the link or
    the feature test goes)."""
    found: list[ElementTree.Element] = []
    for child in element:
        if _local_name(child.tag) in UNWRAPPED_ELEMENTS:
            found.extend(_children(child))
        else:
            found.append(child)
    return found


def _clean_attribute(element: str, attribute: str, value: str) -> tuple[str, str] | None:
    """The attribute as kept, None when it goes: links only to a local fragment, known attributes only, no script
    or CSS URL (a paint or clip reference only as url(#id))."""
    if attribute in (f"{{{XLINK_NS}}}href", "href"):
        local = element in ("use", "linearGradient", "radialGradient", "pattern") and _LOCAL_HREF.match(value.strip())
        return (attribute, value.strip()) if local else None
    if attribute == f"{{{XML_NS}}}space":
        return (attribute, value) if value in ("default", "preserve") else None
    compact = _INVISIBLE.sub("", value).lower()
    if attribute == "style":
        compact = re.sub(r"url\(#[a-z_][\w.-]*\)", "", compact)
        refused = any(marker in compact for marker in _STYLE_REFUSED)
    elif "url(" in compact:
        refused = not _LOCAL_REFERENCE.match(value)
    else:
        refused = "javascript:" in compact or "<" in value
    return None if attribute not in SVG_ATTRIBUTES or refused else (attribute, value)
