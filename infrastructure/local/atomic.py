"""DynamoDB in moto, one operation at a time: AWS makes every conditional write and transaction atomic; moto does not.

moto checks a condition and then writes in separate steps, so two threads (the moto server's request threads, or
test threads in-process) can both pass a condition that only one should. Serialising moto's DynamoDB actions gives
the local stack and the tests the guarantee the code relies on in AWS, and no more: callers still race and lose.
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
