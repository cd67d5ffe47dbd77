"""The portal offers exactly the country codes the API accepts: `COUNTRIES` in portal/js/reference.js (the
application, deal and brand forms' country lists) against `shared.countries.COUNTRY_CODES`."""

from __future__ import annotations

import re
from pathlib import Path

from shared.countries import COUNTRY_CODES

REFERENCE = Path(__file__).resolve().parents[2] / "portal" / "js" / "reference.js"
ENTRY = re.compile(r"\[\s*'([^'\\]*)'\s*,\s*'((?:[^'\\]|\\.)*)'\s*\]")


def portal_countries() -> list[tuple[str, str]]:
    """The [code, name] pairs of the `COUNTRIES` array literal, in source order."""
    source = REFERENCE.read_text(encoding="utf-8")
    block = re.search(r"export const COUNTRIES = \[(.*?)\n\]", source, re.DOTALL)
    assert block, "COUNTRIES not found in portal/js/reference.js"
    body = block.group(1)
    entries = ENTRY.findall(body)
    # nothing in the literal that is not an entry (a code the pattern missed would go unchecked)
    assert ENTRY.sub("", body).replace(",", "").split() == [], "COUNTRIES holds something other than [code, name]"
    return [(code, name.replace("\\'", "'")) for code, name in entries]


def test_the_portal_offers_every_country_code_the_api_accepts_and_no_other() -> None:
    codes = [code for code, _ in portal_countries()]
    assert len(codes) == len(set(codes)), sorted({c for c in codes if codes.count(c) > 1})
    assert set(codes) - COUNTRY_CODES == set(), "the portal offers codes the API refuses"
    assert COUNTRY_CODES - set(codes) == set(), "the API accepts codes the portal does not offer"


def test_every_country_has_a_distinct_readable_name() -> None:
    names = [name for _, name in portal_countries()]
    assert all(name.strip() and not re.fullmatch(r"[A-Z]{2}", name) for name in names)
    assert len(set(names)) == len(names)
