"""The search index's pure rules (content.domain.search): words, terms and weights, posting keys, query parsing and
the merge of the bands' postings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from content.domain.search import (
    MAX_TERMS,
    WILDCARD,
    Indexable,
    Query,
    asset_of_posting,
    matches,
    merge,
    parse_text,
    posting_pk,
    posting_sk,
    postings,
    terms_of,
    words,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def doc(**changes: object) -> Indexable:
    base: dict[str, object] = {
        "asset_id": "ast_" + "a" * 24,
        "title": "Firewall Sales Guide",
        "description": "How to sell the firewall to mid-market customers.",
        "tags": ["security", "sales-play"],
        "product_skus": ["FW-200"],
        "asset_type": "document",
        "language": "en",
        "publish_at": NOW,
        "band": "ALL",
    }
    return Indexable(**(base | changes))  # type: ignore[arg-type]


def test_words_are_lower_case_without_accents_stop_words_or_repeats() -> None:
    assert words("The Présentation: Q4 roadmap, the ROADMAP and a 5-year plan!") == [
        "presentation",
        "q4",
        "roadmap",
        "5",
        "year",
        "plan",
    ]
    assert words("x" * 50) == ["x" * 30]
    assert words("") == [] and words("a of the") == []


def test_title_outweighs_tags_and_skus_which_outweigh_the_description_and_weights_add_up() -> None:
    terms = terms_of(doc())
    assert terms["guide"] == 3  # title only
    assert terms["security"] == 2  # tag only
    assert terms["fw"] == 2 and terms["200"] == 2  # the SKU's words
    assert terms["customers"] == 1  # description only
    assert terms["firewall"] == 3 + 1  # title and description
    assert terms["sales"] == 3 + 2  # title and the tag `sales-play`
    for term in (WILDCARD, "type:document", "lang:en", "tag:security", "tag:sales-play", "sku:fw-200"):
        assert terms[term] == 0


def test_an_asset_posts_at_most_max_terms() -> None:
    long = " ".join(f"word{n}" for n in range(400))
    terms = terms_of(doc(description=long))
    assert len(terms) == MAX_TERMS
    assert "guide" in terms and "tag:security" in terms  # title and filters first, the description's tail dropped


def test_postings_sit_in_the_assets_band_and_sort_heavier_then_newer_first() -> None:
    gold = postings(doc(band="gold"))
    assert {pk for pk, _ in gold} == {posting_pk(t, "gold") for t in terms_of(doc())}
    assert len(gold) == 2 * len(terms_of(doc()))
    heavy = posting_sk("relevance", weight=5, publish_at=NOW, asset_id="ast_1")
    light_newer = posting_sk("relevance", weight=1, publish_at=NOW + timedelta(days=9), asset_id="ast_2")
    heavy_older = posting_sk("relevance", weight=5, publish_at=NOW - timedelta(days=1), asset_id="ast_3")
    assert sorted([light_newer, heavy_older, heavy]) == [heavy, heavy_older, light_newer]
    newer = posting_sk("newest", weight=0, publish_at=NOW + timedelta(seconds=1), asset_id="ast_9")
    older = posting_sk("newest", weight=9, publish_at=NOW, asset_id="ast_1")
    assert sorted([older, newer]) == [newer, older]
    assert heavy.startswith("R#") and newer.startswith("N#")
    assert asset_of_posting(heavy) == "ast_1" and asset_of_posting(newer) == "ast_9"


def test_the_driving_term_and_every_required_term() -> None:
    text = Query(text_words=parse_text("firewall guide"), tag="security", order="relevance")
    assert text.driving_term() == "firewall"  # the longest word: its weight orders the page
    assert text.required_terms() == ["firewall", "guide", "tag:security"]
    assert Query(text_words=("guide",), tag="Security", order="newest").driving_term() == "tag:security"
    assert Query(product="FW-200", tag="x").driving_term() == "sku:fw-200"
    assert Query(asset_type="video", language="de").driving_term() == "type:video"
    assert Query(language="de").driving_term() == "lang:de"
    assert Query().driving_term() == WILDCARD and Query().required_terms() == [WILDCARD]
    assert len(parse_text(" ".join(f"w{n}x" for n in range(20)))) == 8


def test_a_result_has_every_word_and_filter() -> None:
    terms = terms_of(doc())
    assert matches(Query(text_words=("firewall", "guide"), asset_type="document"), terms)
    assert not matches(Query(text_words=("firewall", "router")), terms)
    assert not matches(Query(asset_type="video"), terms)
    assert matches(Query(product="fw-200", language="en"), terms)
    assert not matches(Query(language="fr"), terms)
    assert matches(Query(), terms)


def test_the_merge_of_bands_is_the_exact_global_order_without_duplicates() -> None:
    bands = [["a1", "c3", "e5"], ["b2", "d4"], [], ["a1", "f6"]]
    assert merge(bands, 4) == ["a1", "b2", "c3", "d4"]
    assert merge(bands, 10) == ["a1", "b2", "c3", "d4", "e5", "f6"]
    assert merge([], 3) == []
