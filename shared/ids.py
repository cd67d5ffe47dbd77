"""Identifiers: prefixed, sortable by creation time, unguessable."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A ULID-like id: 48-bit millisecond time then 80 random bits, e.g. `app_01jd...`."""
    return f"{prefix}_{_encode(int(time.time() * 1000), 10)}{_encode(secrets.randbits(80), 16)}"
