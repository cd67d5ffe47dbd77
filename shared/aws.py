"""AWS clients, created lazily once per container (after any emulator is up; keeps boto3 off the import path), each
with botocore's `standard` retries and explicit timeouts that fit inside the shortest Lambda timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class CallBudget:
    """How long one AWS call may take, retries included."""

    connect_timeout: float  # seconds to open the connection (in-region: milliseconds when healthy)
    read_timeout: float  # seconds to wait for the answer to one attempt
    retries: int  # attempts after the first (botocore's `max_attempts`)

    def worst_case_seconds(self) -> float:
        """Every attempt times out, and each retry waits the longest botocore's standard mode may make it wait: its
        jittered backoff (at most 2**i s before retry i+1, i from 0; 1 s scale for throttling, 50 ms otherwise) plus
        up to 5 s more when the service sends an `x-amz-retry-after` hint."""
        attempts = self.retries + 1
        backoff = sum(2**i + 5 for i in range(self.retries))
        return attempts * (self.connect_timeout + self.read_timeout) + backoff


# Worst cases: 2 x (1 + 5) + (1 + 5) = 18 s for the default (one retry), 2 x (1 + 3) + 6 = 14 s for DynamoDB and
# Secrets Manager (one retry), 1 + 2 = 3 s per Cognito call (no retry: 6 s for the live identity check's two calls);
# each under the 20 s timeout of the API, outbox and decision functions (tests/unit/test_aws_clients.py checks the
# sums against template.yaml). The caller retries beyond that: SQS redelivery, the stream's retry, the user's retry
# after a 503.
DEFAULT_BUDGET = CallBudget(connect_timeout=1, read_timeout=5, retries=1)  # SES, Step Functions, Scheduler, S3, events
BUDGETS = {
    # On every API request's path, answering in milliseconds when healthy: a stuck call fails sooner.
    "dynamodb": CallBudget(connect_timeout=1, read_timeout=3, retries=1),
    "secretsmanager": CallBudget(connect_timeout=1, read_timeout=3, retries=1),
    # The live identity check makes two calls in a row (AdminGetUser, AdminListGroupsForUser) before the route's own
    # work: one attempt each, 3 s at worst, and a 503 the portal retries rather than a check that eats the timeout.
    "cognito-idp": CallBudget(connect_timeout=1, read_timeout=2, retries=0),
}


def client_config(service: str) -> Any:
    """The botocore Config a `service` client is built with."""
    from botocore.config import Config

    budget = BUDGETS.get(service, DEFAULT_BUDGET)
    options: dict[str, Any] = {
        "connect_timeout": budget.connect_timeout,
        "read_timeout": budget.read_timeout,
        "retries": {"mode": "standard", "max_attempts": budget.retries},
    }
    if service == "s3":  # presigned URLs and POST policies must be SigV4 (the only kind newer regions accept)
        options["signature_version"] = "s3v4"
    return Config(**options)


@cache
def client(service: str) -> Any:
    """A boto3 client for `service`; the region and endpoint come from the standard AWS environment."""
    import boto3  # deferred: a cold start pays for boto3 only when a request needs AWS

    from shared.observability import tracer

    tracer.patch(["botocore"])  # idempotent; traces AWS calls without patching everything at import
    return boto3.client(service, config=client_config(service))


def reset_clients() -> None:
    """Forget cached clients (tests that restart the emulator call this)."""
    client.cache_clear()
