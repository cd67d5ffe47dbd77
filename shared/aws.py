"""AWS clients, created lazily once per container (after any emulator is up; keeps boto3 off the import path)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """A boto3 client for `service`; the region and endpoint come from the standard AWS environment."""
    import boto3  # deferred: a cold start pays for boto3 only when a request needs AWS

    return boto3.client(service)


def reset_clients() -> None:
    """Forget cached clients (tests that restart the emulator call this)."""
    client.cache_clear()
