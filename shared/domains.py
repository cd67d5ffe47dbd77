"""Web addresses to registrable domains (Public Suffix List), the key PRM duplicate and conflict checks use."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    # Rules as written (Unicode): punycoding the list's internationalised rules too would cost a cold start ~13 ms
    # more; punycoded hosts are looked up in Unicode instead (_private_suffix).
    return PublicSuffixList(only_icann=True, accept_encoded_idn=False)


def _unicode_label(label: str) -> str:
    try:
        return label.encode("ascii").decode("idna") if label.startswith("xn--") else label
    except UnicodeError:
        return label  # not valid punycode: it can only match as written, as before


def _private_suffix(host: str) -> str | None:
    """The registrable part of an ASCII host; internationalised labels (`xn--`) are matched in Unicode."""
    labels = host.split(".")
    if not any(label.startswith("xn--") for label in labels):
        return _suffix_list().privatesuffix(host)
    found = _suffix_list().privatesuffix(".".join(_unicode_label(label) for label in labels))
    return str(found).encode("idna").decode("ascii") if found else None


def host_of(address: str) -> str:
    """The host name of a URL or bare domain: lower case, no scheme, credentials, port, path or trailing dot."""
    text = address.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return text.encode("idna").decode("ascii") if any(ord(c) > 127 for c in text) else text


def registrable_domain(address: str) -> str:
    """`https://WWW.Sales.Acme.co.uk/x` -> `acme.co.uk`. Raises ValueError for something that is not a public domain."""
    host = host_of(address)
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError("not a valid domain name")
    domain = _private_suffix(host)
    if not domain:
        raise ValueError("not a registrable domain (it is a public suffix)")
    return str(domain)
