"""The page size every rewards list shares (rewards.api and rewards.api_redemptions import it, so the two route
files answer a bad `limit` the same way): an integer 1 to MAX_LIMIT (default DEFAULT_LIMIT), else 400 naming `limit`.
Path ids are checked by the kernel's `shared.http.id_or_400` (400 naming the field; a well-formed id that names
nothing is the service's 404)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.http import bounded_int

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_limit(params: Mapping[str, str] | None, default: int = DEFAULT_LIMIT) -> int:
    """The page size a list was asked for: an integer 1 to MAX_LIMIT; else 400 naming `limit`."""
    return bounded_int(params, "limit", default, 1, MAX_LIMIT)
