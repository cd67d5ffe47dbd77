"""The request rules every rewards route shares (rewards.api and rewards.api_redemptions import them, so the two
route files answer a malformed id or a bad `limit` the same way): a path id of the wrong shape is 400 naming the
field (it must not reach DynamoDB's key limits as a 500, and a well-formed id that names nothing is the service's
404); `limit` is an integer 1 to MAX_LIMIT (default DEFAULT_LIMIT), else 400 naming `limit`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import FieldError, ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def path_id(value: str | None, pattern: re.Pattern[str], field: str) -> str:
    """`value` when it has the shape of `field`'s ids; else 400 naming `field`."""
    if not value or not pattern.fullmatch(value):
        raise ValidationFailed(f"{field} is not valid.", [FieldError(field, "not a valid id")])
    return value


def page_limit(params: Mapping[str, str] | None, default: int = DEFAULT_LIMIT) -> int:
    """The page size a list was asked for: an integer 1 to MAX_LIMIT; else 400 naming `limit`."""
    raw = (params or {}).get("limit", str(default))
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be 1 to {MAX_LIMIT}.", [FieldError("limit", f"1 to {MAX_LIMIT}")])
    return limit
