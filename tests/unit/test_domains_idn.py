"""Registrable domains of internationalised addresses (shared.domains matches punycoded labels in Unicode)."""

from __future__ import annotations

import pytest

from shared.domains import registrable_domain


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("https://www.bücher.de/shop", "xn--bcher-kva.de"),
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("https://shop.пример.рф", "xn--e1afmkfd.xn--p1ai"),  # an internationalised top-level domain
        ("a.b.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("sales.example.公司.hk", "example.xn--55qx5d.hk"),  # an internationalised rule under an ASCII one
        ("xn--zz.com", "xn--zz.com"),  # not valid punycode: matched as written
        ("a.xn--zz.xn--p1ai", "xn--zz.xn--p1ai"),
    ],
)
def test_internationalised_addresses(address: str, expected: str) -> None:
    assert registrable_domain(address) == expected


@pytest.mark.parametrize("address", ["xn--p1ai", "xn--55qx5d.hk"])
def test_internationalised_public_suffixes_are_refused(address: str) -> None:
    with pytest.raises(ValueError):
        registrable_domain(address)
