"""AWS clients, created lazily once per container (after any emulator is up; keeps boto3 off the import path)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """A boto3 client for `service`; the region and endpoint come from the standard AWS environment."""
    import boto3  # deferred: a cold start pays for boto3 only when a request needs AWS

    from shared.observability import tracer

    tracer.patch(["botocore"])  # idempotent; traces AWS calls without patching everything at import
    if service == "s3":  # presigned URLs and POST policies must be SigV4 (the only kind newer regions accept)
        from botocore.config import Config

        return boto3.client(service, config=Config(signature_version="s3v4"))
    return boto3.client(service)


def reset_clients() -> None:
    """Forget cached clients (tests that restart the emulator call this)."""
    client.cache_clear()
