"""The library's search index (B), pure: what an asset posts, under which keys, and how a page is merged.

An asset is indexed under terms: the words of its title (weight 3), its tags and product SKUs (weight 2, also as
exact filters `tag:<t>` / `sku:<s>`), the words of its description (weight 1), `type:<t>`, `lang:<l>` and `*` (every
asset: browsing without text). A word's weights add up (a word in the title and a tag weighs 5).

A posting is one item per (term, band, order): partition `IDX#<term>#<band>` where the band is the asset's minimum
tier id (`ALL` without one), so a partner's page reads only the bands it may see, never a higher tier's postings; sort
key `R#<999 - weight>#<newest>#<asset>` (relevance: heavier first, then newest) or `N#<newest>#<asset>` (newest
first), `<newest>` being the publish instant inverted so that an ascending Query meets the newest first.

A page picks ONE driving term (by relevance with text, its longest word; else a product or tag filter, else the
longest word, else the type or language filter, else `*`), reads the next postings of that term in each visible band after the cursor's sort key,
merges them by sort key (each band's first n postings hold the merged first n), and checks each candidate asset
against the other terms and the access rule. The cursor is the last sort key consumed: one string for every band."""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SortOrder = Literal["relevance", "newest"]
WILDCARD = "*"
MAX_TERM = 30  # characters of one indexed word
MAX_TERMS = 150  # terms one asset posts (title, tags, SKUs and filters first, then description words)
MAX_QUERY_WORDS = 8
INVERT = 10**13  # milliseconds since the epoch, inverted: newest sorts first in an ascending Query
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)
WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case without accents (`Présentation` -> `presentation`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The searchable words of a text in order of first appearance, de-duplicated: lower case, no accents, no stop
    words, at least 2 characters (a single digit is kept), at most MAX_TERM."""
    seen: dict[str, None] = {}
    for word in WORD.findall(normalise(text)):
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word[:MAX_TERM], None)
    return list(seen)


@dataclass(frozen=True)
class Indexable:
    """What an asset contributes to the index (from the asset record)."""

    asset_id: str
    title: str
    description: str
    tags: Sequence[str]
    product_skus: Sequence[str]
    asset_type: str
    language: str
    publish_at: datetime
    band: str


def filter_term(kind: str, value: str) -> str:
    return f"{kind}:{normalise(value).strip()[:MAX_TERM]}"


def terms_of(doc: Indexable) -> dict[str, int]:
    """Every term the asset posts, with its weight (filters and `*` weigh 0), at most MAX_TERMS."""
    weights: dict[str, int] = {
        WILDCARD: 0,
        filter_term("type", doc.asset_type): 0,
        filter_term("lang", doc.language): 0,
    }
    for tag in doc.tags:
        weights[filter_term("tag", tag)] = 0
    for sku in doc.product_skus:
        weights[filter_term("sku", sku)] = 0

    def add(word: str, weight: int) -> None:
        if word in weights or len(weights) < MAX_TERMS:
            weights[word] = weights.get(word, 0) + weight

    for word in words(doc.title):
        add(word, 3)
    for word in words(" ".join([*doc.tags, *doc.product_skus])):
        add(word, 2)
    for word in words(doc.description):
        add(word, 1)
    return weights


def newest_key(publish_at: datetime) -> str:
    return f"{INVERT - int(publish_at.timestamp() * 1000):013d}"


def posting_pk(term: str, band: str) -> str:
    return f"IDX#{term}#{band}"


def posting_sk(order: SortOrder, *, weight: int, publish_at: datetime, asset_id: str) -> str:
    newest = newest_key(publish_at)
    if order == "relevance":
        return f"R#{999 - min(weight, 999):03d}#{newest}#{asset_id}"
    return f"N#{newest}#{asset_id}"


def order_prefix(order: SortOrder) -> str:
    return "R#" if order == "relevance" else "N#"


def postings(doc: Indexable, terms: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """Every (pk, sk) the asset posts: two per term (relevance and newest) in its band."""
    found: list[tuple[str, str]] = []
    for term, weight in sorted((terms if terms is not None else terms_of(doc)).items()):
        pk = posting_pk(term, doc.band)
        for order in ("relevance", "newest"):
            found.append((pk, posting_sk(order, weight=weight, publish_at=doc.publish_at, asset_id=doc.asset_id)))
    return found


def asset_of_posting(sk: str) -> str:
    return sk.rsplit("#", 1)[-1]


# ---------------------------------------------------------------- queries
@dataclass(frozen=True)
class Query:
    """A library query, parsed: the text's words and the filters, each a term."""

    text_words: tuple[str, ...] = ()
    asset_type: str | None = None
    language: str | None = None
    product: str | None = None
    tag: str | None = None
    order: SortOrder = "relevance"

    def required_terms(self) -> list[str]:
        """Every term a result must have (the driving one included)."""
        found = list(self.text_words)
        if self.asset_type:
            found.append(filter_term("type", self.asset_type))
        if self.language:
            found.append(filter_term("lang", self.language))
        if self.product:
            found.append(filter_term("sku", self.product))
        if self.tag:
            found.append(filter_term("tag", self.tag))
        return found or [WILDCARD]

    def driving_term(self) -> str:
        """The term whose postings a page reads: the most selective we can guess without statistics (by relevance
        with text: the longest word, so that its weight orders the page)."""
        longest = max(self.text_words, key=lambda w: (len(w), w)) if self.text_words else None
        if longest and self.order == "relevance":
            return longest
        candidates = [
            filter_term("sku", self.product) if self.product else None,
            filter_term("tag", self.tag) if self.tag else None,
            longest,
            filter_term("type", self.asset_type) if self.asset_type else None,
            filter_term("lang", self.language) if self.language else None,
        ]
        return next((c for c in candidates if c), WILDCARD)


def parse_text(text: str | None) -> tuple[str, ...]:
    return tuple(words(text or "")[:MAX_QUERY_WORDS])


def matches(query: Query, asset_terms: Iterable[str]) -> bool:
    """Every word and filter of the query is among the asset's terms (AND)."""
    held = set(asset_terms)
    return all(term in held for term in query.required_terms())


def merge(bands: Iterable[Sequence[str]], limit: int) -> list[str]:
    """The first `limit` sort keys of several sorted lists (each a band's next postings), without duplicates. Exact
    when each list holds at least its band's first `limit` keys after the cursor (or all it has)."""
    merged: list[str] = []
    for key in heapq.merge(*bands):
        if not merged or merged[-1] != key:
            merged.append(key)
        if len(merged) == limit:
            break
    return merged
