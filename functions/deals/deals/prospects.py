"""The normalised keys a registration is judged on: registrable domain, and company name without legal form."""

from __future__ import annotations

import re
import unicodedata

from shared.domains import registrable_domain

# Legal forms dropped from the end of a company name (after punctuation is removed), longest first.
LEGAL_SUFFIXES = sorted(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "gmbh co kg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "sl",
        "srl",
        "spa",
        "bv",
        "nv",
        "ab",
        "as",
        "asa",
        "oy",
        "oyj",
        "aps",
        "kk",
        "pty",
        "pty ltd",
        "pte",
        "pte ltd",
        "pvt",
        "pvt ltd",
        "private limited",
        "sdn bhd",
        "group",
        "holdings",
        "holding",
    },
    key=lambda s: -len(s),
)


def company_key(name: str) -> str:
    """`Globex, Inc.` -> `globex`; `ACME GmbH & Co. KG` -> `acme`. Raises ValueError if nothing is left."""
    # Fold accents (Müller -> muller) but keep letters and digits of every script (Газпром, トヨタ).
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " ")
    text = " ".join("".join(c if c.isalnum() else " " for c in text).split())
    # Dotted abbreviations (`S.A.`, `B.V.`) arrive as single letters: join each run of them into one word.
    text = re.sub(r"\b[a-z](?: [a-z]\b)+", lambda m: m.group(0).replace(" ", ""), text)
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1].strip()
                changed = True
    text = re.sub(r"^the ", "", text)
    if text in LEGAL_SUFFIXES:
        text = ""
    text = text.replace(" ", "")
    if not text:
        raise ValueError("the company name has no distinctive part")
    return text


def domain_key(website: str) -> str:
    return registrable_domain(website)
