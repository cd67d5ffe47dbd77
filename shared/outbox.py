"""Transactional outbox: events are written with the state change and published from the table stream."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from shared.aws import client
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


def publish_outbox_record(record: dict[str, Any], *, bus_name: str, source: str) -> str | None:
    """Publish the event held by one stream record; returns the detail-type, or None for a non-outbox record."""
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("entity", {}).get("S") != "outbox":
        return None
    detail_type = image["detail_type"]["S"]
    answer = client("events").put_events(
        Entries=[
            {
                "EventBusName": bus_name,
                "Source": source,
                "DetailType": detail_type,
                "Detail": image["detail"]["S"],
                "Time": datetime.fromisoformat(image["created_at"]["S"].replace("Z", "+00:00")),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        entry = answer["Entries"][0]
        raise RuntimeError(f"EventBridge refused {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
    return detail_type
