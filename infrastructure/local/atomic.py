"""DynamoDB in moto made atomic as in AWS: one operation at a time, and a cancelled transaction leaves no trace.

1. moto checks a condition and then writes in separate steps, so two threads (the moto server's request threads, or
   test threads in-process) can both pass a condition that only one should. Serialising moto's DynamoDB actions
   gives the local stack and the tests the guarantee the code relies on in AWS, and no more: callers still race.
2. moto 5.2.5 applies a transaction's items one by one and, when one fails, restores a copy of each table; but the
   records the applied items added to the table's stream stay on the live shard that stream readers hold, so a
   cancelled transaction would publish events for changes that never happened (and later records would reuse
   their sequence numbers). After a failed transaction the shard is cut back to what it held before.
3. moto's rollback copy is the whole table (every item and the whole stream history), made for each action of every
   transaction: its cost grows with the table, so registrations slowed down and memory churned as the demo data
   grew. Instead, each transaction keeps an undo record of the items it touches (moto reads each one before it
   writes it) and puts exactly those back when it fails.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
_UNDO = threading.local()  # per thread: a stack of {(table, hash key, range key): item before, or None}


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


def _undo_stack() -> list[dict[tuple[str, Any, Any], Any]]:
    stack: list[dict[tuple[str, Any, Any], Any]] | None = getattr(_UNDO, "stack", None)
    if stack is None:
        stack = _UNDO.stack = []
    return stack


def _transactions_copy_only_what_they_touch() -> None:
    """Replace moto's whole-table rollback copies with an undo record of the items a transaction touches."""
    import copy
    from types import SimpleNamespace

    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        # transact_write_items' "backup" of each table: keep the live table (the undo record restores its items).
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    backend_module.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    original_get_item = DynamoDBBackend.get_item

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        found = original_get_item(self, table_name, keys, *args, **kwargs)
        stack = _undo_stack()
        if stack:  # inside a transaction, which reads every item before it changes it: remember it as it was
            table = self.get_table(table_name)
            hash_key, range_key = self.get_keys_value(table, keys)
            stack[-1].setdefault((table_name, hash_key, range_key), copy.deepcopy(found))
        return found

    DynamoDBBackend.get_item = get_item  # type: ignore[method-assign]


def _undo(backend: Any, record: dict[tuple[str, Any, Any], Any]) -> None:
    for (table_name, hash_key, range_key), before in reversed(list(record.items())):
        table = backend.get_table(table_name)
        if table.range_key_attr is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
            continue
        items = table.items[hash_key]
        if before is None:
            items.pop(range_key, None)
            if not items:
                table.items.pop(hash_key, None)
        else:
            items[range_key] = before


def _transactions_leave_no_stream_records() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _transactions_copy_only_what_they_touch()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        shards = {}
        for name, table in self.tables.items():
            shard = getattr(table, "stream_shard", None)
            if shard is not None:
                shards[name] = (shard, len(shard.items))
        stack = _undo_stack()
        stack.append({})
        try:
            return original(self, transact_items)
        except Exception:
            _undo(self, stack[-1])
            for name, (shard, length) in shards.items():
                del shard.items[length:]  # the records of writes the rollback undid
                restored = self.tables.get(name)
                if restored is not None and restored is not shard.table:
                    shard.table = restored  # readers keep their shard; the restored table writes to it again
                    restored.stream_shard = shard
            raise
        finally:
            stack.pop()

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
