"""Browse and search (B): the indexer the consumer runs on content's own events, and a page of the library.

Indexing reads the asset back (one GetItem) whatever the event, so events arriving twice or out of order converge on
the asset as it is: a published, ready, unexpired asset posts its terms in its band; anything else posts nothing.
Stale postings (a word gone from the title, a changed band or publish date) are deleted from the stored state.

A page (see content.domain.search): the partner's visible bands from the live projection (a Silver partner never
reads a Gold band), one `Limit`ed Query per band after the cursor's sort key, the exact merge, one BatchGet of the
candidate assets, then every required term and the full access rule on each. Reads per page are bounded by
ROUNDS x bands x (limit + 1) postings plus the candidates, whatever the library's size; a page with selective
filters may come back short with a `next_cursor` (keep paging)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.domain.access import band_of, may_see, tier_name, visible_bands
from content.domain.search import (
    Indexable,
    Query,
    SortOrder,
    asset_of_posting,
    matches,
    merge,
    order_prefix,
    parse_text,
    posting_pk,
    postings,
    terms_of,
)
from content.models.assets import Asset
from content.models.library import IndexState
from content.ports import Assets, PartnerDirectory, SearchIndex
from shared.clock import utc_now
from shared.errors import FieldError, ValidationFailed
from shared.principal import Principal

ROUNDS = 3  # merges per page at most: a selective filter returns a short page and a cursor rather than reading on
MAX_LIMIT = 50


def indexable(asset: Asset) -> Indexable:
    return Indexable(
        asset_id=asset.asset_id,
        title=asset.title,
        description=asset.description,
        tags=asset.tags,
        product_skus=asset.product_skus,
        asset_type=asset.type,
        language=asset.language,
        publish_at=asset.publish_at,
        band=band_of(asset.audience),
    )


def searchable(asset: Asset | None, now: datetime) -> bool:
    """Whether the asset belongs in the index now (access checks the dates again at every read)."""
    return (
        asset is not None
        and asset.status == "ready"
        and asset.published
        and asset.current is not None
        and (asset.expires_at is None or asset.expires_at > now)
    )


@dataclass
class Indexer:
    assets: Assets
    index: SearchIndex
    clock: Callable[[], datetime] = field(default=utc_now)

    def reindex(self, asset_id: str) -> str:
        now = self.clock()
        asset = self.assets.get(asset_id)
        before = self.index.indexed(asset_id)
        old = set(postings(_doc_of(before), before.terms)) if before else set()
        if asset is None or not searchable(asset, now):
            self.index.write_postings([], sorted(old))
            if before:
                self.index.forget_indexed(asset_id)
            return f"asset {asset_id} not searchable: {len(old)} postings removed"
        doc = indexable(asset)
        terms = terms_of(doc)
        new = set(postings(doc, terms))
        self.index.add_band(doc.band)
        self.index.write_postings([(pk, sk, asset_id) for pk, sk in sorted(new - old)], sorted(old - new))
        self.index.save_indexed(
            IndexState(asset_id=asset_id, band=doc.band, publish_at=doc.publish_at, terms=terms, indexed_at=now)
        )
        return f"asset {asset_id} indexed: {len(new - old)} postings added, {len(old - new)} removed"


def _doc_of(state: IndexState) -> Indexable:
    return Indexable(
        asset_id=state.asset_id,
        title="",
        description="",
        tags=(),
        product_skus=(),
        asset_type="",
        language="",
        publish_at=state.publish_at,
        band=state.band,
    )


# ---------------------------------------------------------------- a page
def encode(term: str, order: SortOrder, sk: str) -> str:
    raw = json.dumps({"t": term, "o": order, "k": sk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, term: str, order: SortOrder) -> str:
    """The sort key to continue after; 400 naming `cursor` unless it was made for this very query."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(data, dict)
            and data.get("t") == term
            and data.get("o") == order
            and isinstance(data.get("k"), str)
            and data["k"].startswith(order_prefix(order))
            and len(data["k"]) <= 200
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        valid = False
    if not valid:
        raise ValidationFailed("The cursor is not valid for this query.", [FieldError("cursor", "invalid")])
    return str(data["k"])


@dataclass
class LibraryPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    read: int


@dataclass
class LibrarySearch:
    assets: Assets
    index: SearchIndex
    directory: PartnerDirectory
    clock: Callable[[], datetime] = field(default=utc_now)

    def page(
        self,
        principal: Principal,
        *,
        text: str | None,
        asset_type: str | None,
        language: str | None,
        product: str | None,
        tag: str | None,
        order: SortOrder,
        limit: int,
        cursor: str | None,
    ) -> LibraryPage:
        now = self.clock()
        query = Query(
            text_words=parse_text(text),
            asset_type=asset_type,
            language=language,
            product=product,
            tag=tag,
            order=order,
        )
        if text and text.strip() and not query.text_words:
            return LibraryPage([], None, 0)  # only stop words or punctuation: nothing can match
        term = query.driving_term()
        after = decode(cursor, term, order) if cursor else None
        vendor = principal.partner_id is None and principal.in_group("vendor-admin")
        ladder = self.directory.ladder_in_force(now)
        partner = None if vendor or principal.partner_id is None else self.directory.partner(principal.partner_id)
        bands = self.index.bands() if vendor else visible_bands(partner, ladder)
        read = 1 + (len(bands) if vendor else 2)  # the ladder, and the bands or the partner's two items
        items: list[dict[str, Any]] = []
        prefix = order_prefix(order)
        more = False
        for _ in range(ROUNDS):
            lists = [self.index.postings_after(posting_pk(term, band), prefix, after, limit) for band in bands]
            read += sum(len(found) for found in lists)
            merged = merge(lists, limit)
            more = any(len(found) == limit for found in lists)  # a full band may hold more after its last key
            found = self.assets.get_many([asset_of_posting(sk) for sk in merged]) if merged else {}
            read += len(found)
            for position, sk in enumerate(merged):
                if len(items) == limit:
                    more = more or position < len(merged)  # postings merged but not consumed: the next page's
                    break
                after = sk
                asset = found.get(asset_of_posting(sk))
                if asset is None or not matches(query, terms_of(indexable(asset))):
                    continue
                if not vendor and may_see(asset, partner, ladder, now) is not None:
                    continue
                items.append(card(asset, tier_name(ladder, asset.audience.min_tier_id)))
            if len(items) == limit or not more:
                break
        next_cursor = encode(term, order, after) if more and after else None
        return LibraryPage(items, next_cursor, read)


def card(asset: Asset, min_tier: str | None) -> dict[str, Any]:
    """An asset as a library list shows it (no audience internals beyond the minimum tier's name)."""
    current = asset.current
    return {
        "asset_id": asset.asset_id,
        "title": asset.title,
        "description": asset.description,
        "type": asset.type,
        "language": asset.language,
        "tags": list(asset.tags),
        "product_skus": list(asset.product_skus),
        "current": (
            {
                "number": current.number,
                "file_name": current.file_name,
                "content_type": current.content_type,
                "size_bytes": current.size_bytes,
                "pages": current.pages,
                "processed_at": current.model_dump(mode="json")["processed_at"],
            }
            if current
            else None
        ),
        "publish_at": asset.model_dump(mode="json")["publish_at"],
        "expires_at": asset.model_dump(mode="json")["expires_at"],
        "min_tier": min_tier or asset.audience.min_tier_id,
    }
