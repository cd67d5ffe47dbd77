"""What the training sub-domains share: ids, calendar months, the invalid-state error."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable
from datetime import datetime

from shared.errors import Conflict

NewId = Callable[[str], str]
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, as shared.ids


class InvalidState(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_state")


def stable_id(prefix: str, key: str) -> str:
    """A deterministic id of the new_id shape (prefix + 26 characters) for `key`: the same delivery, the same id."""
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:17], "big")
    chars = []
    for _ in range(26):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(chars)}"


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus (or minus) calendar months; a day the month lacks becomes its last day (31 Jan + 1 = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
