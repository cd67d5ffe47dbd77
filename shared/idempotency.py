"""Idempotent operations: Powertools idempotency, persisted in the calling context's own table."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from shared.aws import client
from shared.errors import Conflict, IdempotencyKeyReused

DEFAULT_TTL_SECONDS = 24 * 3600


@cache
def _persistence(table_name: str) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr="expires_at",
        boto3_client=client("dynamodb"),
    )


def run_once(
    operation: Callable[..., dict[str, Any]],
    *,
    table_name: str,
    key: dict[str, Any],
    payload: Any,
    lambda_context: Any = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> dict[str, Any]:
    """Run `operation(request={"key", "payload"})` once per `key`; a repeat returns the first result.

    A repeat whose payload differs raises IdempotencyKeyReused; one that overlaps a run still in progress, Conflict.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=ttl_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    once = idempotent_function(
        data_keyword_argument="request", persistence_store=_persistence(table_name), config=config
    )(operation)
    try:
        return once(request={"key": key, "payload": payload})
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused() from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict(
            "The same request is already being processed; retry shortly.", code="request_in_progress"
        ) from error
