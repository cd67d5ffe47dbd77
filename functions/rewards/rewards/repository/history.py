"""A person's whole history (`GET /rewards/me`): their rewards and their redemptions, newest first, one page at a time.

The two kinds are separate gsi1sk ranges of the person's partition (keys.history_order: `REWARD#<at>#<id>`,
`REDEMPTION#<at>#<id>`), so a person's redemptions alone are one bounded Query (`GET /rewards/redemptions`). The
whole history merges the two ranges: each page reads at most `limit` items of each range (one Query each), takes the
newest `limit` of them, and the cursor remembers where each range stands (the last item taken from it, or that it is
done). Items read per page: at most 2 x limit, whatever the length of the history.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from rewards.repository import keys
from shared.dynamo import Table
from shared.errors import FieldError, ValidationFailed

KEY_NAMES = ("pk", "sk", "gsi1pk", "gsi1sk")
DONE = "done"


def _order(item: dict[str, Any]) -> tuple[str, str, str]:
    """(at, kind, id) of a history item: the order the merged history is in (newest first when reversed)."""
    kind, at, record_id = str(item["gsi1sk"]).split("#", 2)
    return at, kind, record_id


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, partition: str) -> dict[str, Any]:
    """Where each range stands: None (from the newest), DONE, or the key of the last item taken from it; a cursor that
    is not exactly that for this person is 400 naming `cursor` (DynamoDB would refuse a foreign key as a 500)."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = isinstance(state, dict) and set(state) == set(keys.HISTORY_KINDS)
        for kind, at in state.items() if valid else ():
            valid = valid and (
                at is None
                or at == DONE
                or (
                    isinstance(at, dict)
                    and set(at) == set(KEY_NAMES)
                    and all(isinstance(v, str) and 0 < len(v) <= 400 for v in at.values())
                    and at["gsi1pk"] == partition
                    and at["gsi1sk"].startswith(keys.history_range(kind))
                )
            )
    except (ValueError, UnicodeDecodeError, RecursionError):
        valid = False
    if not valid:
        raise ValidationFailed("The cursor is not valid for this list.", [FieldError("cursor", "invalid")])
    return dict(state)


def history_page(
    table: Table, partner_id: str, email: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the person's rewards and redemptions, newest first, and the cursor to the next (None at the end)."""
    partition = keys.person(partner_id, email)
    state: dict[str, Any] = _decode(cursor, partition) if cursor else dict.fromkeys(keys.HISTORY_KINDS)
    read: dict[str, tuple[list[dict[str, Any]], dict[str, Any] | None]] = {}
    for kind in keys.HISTORY_KINDS:
        if state[kind] == DONE:
            continue
        read[kind] = table.query(
            partition,
            index=keys.GSI1,
            key_names=("gsi1pk", "gsi1sk"),
            sk_prefix=keys.history_range(kind),
            limit=limit,
            forward=False,
            start_key=state[kind],
        )
    candidates = [(kind, item) for kind, (items, _) in read.items() for item in items]
    page = sorted(candidates, key=lambda c: _order(c[1]), reverse=True)[:limit]
    for kind, (items, last) in read.items():
        taken = [item for k, item in page if k == kind]
        if len(taken) == len(items):  # all it read went out: on from where the Query stopped, or done
            state[kind] = {n: last[n] for n in KEY_NAMES} if last else DONE
        elif taken:  # on from the last one that went out; the rest is read again next time
            state[kind] = {n: taken[-1][n] for n in KEY_NAMES}
    more = any(state[kind] != DONE for kind in keys.HISTORY_KINDS)
    return [item for _, item in page], (_encode(state) if more else None)
