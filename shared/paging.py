"""Opaque list cursors: a DynamoDB key, encoded for clients and checked when it comes back."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.errors import FieldError, ValidationFailed


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, key_names: set[str], partition: tuple[str, str]) -> dict[str, Any]:
    """The key to continue from; a 400 naming `cursor` unless it is exactly a key of this list's partition."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (  # exactly a key of this index and partition, or DynamoDB would reject it (a 500)
            isinstance(key, dict)
            and set(key) == key_names
            and key.get(partition[0]) == partition[1]
            and all(isinstance(v, str) and 0 < len(v) <= 400 for v in key.values())
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        valid = False
    if not valid:
        raise ValidationFailed("The cursor is not valid for this list.", [FieldError("cursor", "invalid")])
    return dict(key)
