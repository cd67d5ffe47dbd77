"""Transactional outbox: events are written with the state change and published from the table stream.

This module is the writing side; the stream side (shared.outbox_publisher) forwards stored JSON and needs no models.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shared.clock import iso
from shared.events import EventDetail

OUTBOX_RETENTION = timedelta(days=7)


def outbox_item(detail: EventDetail) -> dict[str, Any]:
    """The table item that carries one event; written in the same transaction as the state it describes."""
    return {
        "pk": f"OUTBOX#{detail.event_id}",
        "sk": "OUTBOX",
        "entity": "outbox",
        "detail_type": detail.DETAIL_TYPE,
        "detail": json.dumps(detail.to_json_dict(), separators=(",", ":")),
        "created_at": iso(detail.occurred_at),
        "expires_at": int((detail.occurred_at + OUTBOX_RETENTION).timestamp()),
    }
