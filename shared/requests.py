"""POST idempotency at the HTTP edge: the Idempotency-Key header (or the body itself) makes a retry replay the answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from shared.errors import FieldError, ValidationFailed
from shared.idempotency import DEFAULT_TTL_SECONDS, run_once

MAX_KEY_LENGTH = 128
BODY_KEY_TTL_SECONDS = 600  # a body without Idempotency-Key replays for minutes: retries yes, resubmissions no


def idempotency_key(headers: Any, payload: Any) -> str:
    """The client's Idempotency-Key, or a digest of the body when it sent none."""
    key = (headers or {}).get("idempotency-key")
    if key is not None:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed(
                "Idempotency-Key must be 1 to 128 characters.", [FieldError("Idempotency-Key", "1 to 128 characters")]
            )
        return f"key:{key}"
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "body:" + hashlib.sha256(canonical.encode()).hexdigest()


def replay_safe_post(
    *,
    table_name: str,
    operation: str,
    caller: str,
    headers: Any,
    payload: Any,
    run: Callable[[], tuple[int, Any]],
    lambda_context: Any = None,
    body_is_key: bool = True,
) -> tuple[int, Any]:
    """Run a POST's effect once per (operation, caller, key) and replay its (status, body) on a retry.

    body_is_key=False: only a client's Idempotency-Key makes the request replayable (for actions that may be
    repeated on purpose with the same body; their state rules already make an accidental repeat change nothing).
    """
    if not body_is_key and "idempotency-key" not in (headers or {}):
        return run()

    def perform(request: dict[str, Any]) -> dict[str, Any]:
        status, body = run()
        return {"status": status, "body": body}

    result = run_once(
        perform,
        table_name=table_name,
        key={"operation": operation, "caller": caller, "key": idempotency_key(headers, payload)},
        payload=payload,
        lambda_context=lambda_context,
        ttl_seconds=DEFAULT_TTL_SECONDS if "idempotency-key" in (headers or {}) else BODY_KEY_TTL_SECONDS,
    )
    return int(result["status"]), result["body"]
