"""Web addresses to registrable domains (Public Suffix List), the key PRM duplicate and conflict checks use."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


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
    domain = _suffix_list().privatesuffix(host)
    if not domain:
        raise ValueError("not a registrable domain (it is a public suffix)")
    return str(domain)
