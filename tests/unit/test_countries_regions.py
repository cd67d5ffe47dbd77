"""Every country belongs to exactly one sales region, and the well-known ones to the expected region."""

from __future__ import annotations

import pytest

from shared.countries import AMER, APAC, COUNTRY_CODES, EMEA, region_of


def test_the_regions_partition_the_country_codes() -> None:
    assert AMER <= COUNTRY_CODES and APAC <= COUNTRY_CODES
    assert not AMER & APAC and not AMER & EMEA and not APAC & EMEA
    assert AMER | APAC | EMEA == COUNTRY_CODES


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("US", "AMER"),
        ("br", "AMER"),
        ("CA", "AMER"),
        ("DE", "EMEA"),
        ("GB", "EMEA"),
        ("ZA", "EMEA"),
        ("AE", "EMEA"),
        ("KZ", "EMEA"),
        ("JP", "APAC"),
        ("AU", "APAC"),
        ("IN", "APAC"),
        ("SG", "APAC"),
    ],
)
def test_region_of(country: str, region: str) -> None:
    assert region_of(country) == region


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="alpha-2"):
        region_of("XX")
