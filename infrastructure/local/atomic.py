"""DynamoDB in moto made atomic as in AWS: one operation at a time, and a cancelled transaction leaves no trace.

1. moto checks a condition and then writes in separate steps, so two threads (the moto server's request threads, or
   test threads in-process) can both pass a condition that only one should. Serialising moto's DynamoDB actions
   gives the local stack and the tests the guarantee the code relies on in AWS, and no more: callers still race.
2. moto 5.2.5 applies a transaction's items one by one and, when one fails, restores a copy of each table; but the
   records the applied items added to the table's stream stay on the live shard that stream readers hold, so a
   cancelled transaction would publish events for changes that never happened (and later records would reuse
   their sequence numbers). After a failed transaction the shard is cut back to what it held before.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()


def serialise_dynamodb() -> None:
    """Wrap moto's DynamoDB action dispatch in a process-wide lock (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_prm_atomic", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._prm_atomic = True  # type: ignore[attr-defined]
    _transactions_leave_no_stream_records()


def _transactions_leave_no_stream_records() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        shards = {}
        for name, table in self.tables.items():
            shard = getattr(table, "stream_shard", None)
            if shard is not None:
                shards[name] = (shard, len(shard.items))
        try:
            return original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                del shard.items[length:]  # the records of writes the rollback undid
                restored = self.tables.get(name)
                if restored is not None and restored is not shard.table:
                    shard.table = restored  # readers keep their shard; the restored table writes to it again
                    restored.stream_shard = shard
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
