"""Human text: what people type into request bodies and other people then read (approvers, emails, pages).

Input rules (the types `Line` and `Paragraphs`, used by every API body field that takes human text):
- control characters (Unicode category Cc: NUL, ESC, DEL, C1 ...) are refused; `Paragraphs` allows line feeds and
  tabs (CR LF and lone CR become LF); a `Line` allows neither, nor the Unicode line and paragraph separators;
- bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: they reorder what follows, as in
  "Trojan Source" spoofing) and other invisible format characters (category Cf) are refused, except those real
  writing needs: the direction marks LRM, RLM and ALM, the zero-width (non-)joiners of Persian, Indic scripts and
  emoji, the soft hyphen, and emoji tag characters;
- zero-width space, word joiner and byte-order mark are removed (invisible, they only make equal names differ);
- lone surrogates are refused (they cannot be stored or sent as UTF-8).
Output: `for_display` neutralises any direction control still present in stored or third-party text, and
`header_safe` makes a one-line email subject (no CR, LF, NUL or other control character).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import AfterValidator

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REMOVED = frozenset("\u200b\u2060\ufeff")
ALLOWED_FORMAT = frozenset("\u00ad\u061c\u200c\u200d\u200e\u200f")
PARAGRAPH_WHITESPACE = frozenset("\n\t")
_NEWLINES = re.compile(r"\r\n?")


def _refusal(char: str) -> str | None:
    """Why this character may not be typed (None when it may)."""
    category = unicodedata.category(char)
    if char in BIDI_CONTROLS:
        return f"contains an invisible text-direction control (U+{ord(char):04X})"
    if category == "Cc":
        return f"contains a control character (U+{ord(char):04X})"
    if category == "Cs":
        return "contains an invalid character (a lone surrogate)"
    if category == "Cf" and char not in ALLOWED_FORMAT and not 0xE0020 <= ord(char) <= 0xE007F:
        return f"contains an invisible formatting character (U+{ord(char):04X})"
    return None


def _clean(value: str, *, allowed: frozenset[str]) -> str:
    text = "".join(c for c in value if c not in REMOVED)
    for char in text:
        if char in allowed:
            continue
        if reason := _refusal(char):
            raise ValueError(reason)
    return text.strip()


def clean_line(value: str) -> str:
    """One line of human text (a name, a title): no control characters at all, no line separators."""
    if any(c in value for c in "\r\n\u2028\u2029"):
        raise ValueError("must be a single line")
    text = _clean(value, allowed=frozenset())
    if value.strip() and not text:
        raise ValueError("contains only invisible characters")
    return text


def clean_paragraphs(value: str) -> str:
    """Multi-line human text (a description, a reason): line feeds and tabs allowed, other controls refused."""
    text = _clean(_NEWLINES.sub("\n", value), allowed=PARAGRAPH_WHITESPACE)
    if value.strip() and not text:
        raise ValueError("contains only invisible characters")
    return text


# Markers for a body field's Annotated[...] metadata: `name: Annotated[str, StringConstraints(max_length=120), Line]`.
Line = AfterValidator(clean_line)
Paragraphs = AfterValidator(clean_paragraphs)


def for_display(text: str) -> str:
    """Text from storage or a third party, made safe to show: direction controls and other controls removed
    (except line feeds and tabs), so nothing typed can reorder or hide what surrounds it."""
    return "".join(c for c in text if c in PARAGRAPH_WHITESPACE or (c not in REMOVED and _refusal(c) is None))


def header_safe(text: str, limit: int = 200) -> str:
    """A one-line email header value: controls (CR, LF, NUL ...) and direction controls become spaces."""
    kept = (c for c in text if c not in REMOVED)
    line = "".join(c if _refusal(c) is None and c not in "\n\t\u2028\u2029" else " " for c in kept)
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"
