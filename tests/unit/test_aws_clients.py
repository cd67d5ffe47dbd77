"""AWS clients (shared.aws): standard retries and explicit timeouts per client, within every function's timeout."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

from infrastructure.local.template import load_template
from shared import aws

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["dynamodb", "cognito-idp", "secretsmanager", "s3", "sesv2", "stepfunctions", "scheduler", "events"]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Any:
    """shared.aws.client as a function builds it (real botocore clients, no network), forgotten afterwards."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset_clients()
    yield aws.client
    aws.reset_clients()


@pytest.mark.parametrize(
    ("service", "connect", "read", "attempts"),
    [
        ("dynamodb", 1, 3, 2),
        ("secretsmanager", 1, 3, 2),
        ("cognito-idp", 1, 2, 1),
        ("sesv2", 1, 5, 2),
        ("stepfunctions", 1, 5, 2),
        ("scheduler", 1, 5, 2),
        ("events", 1, 5, 2),
        ("s3", 1, 5, 2),
    ],
)
def test_each_client_gets_standard_retries_and_its_timeouts(
    built: Any, service: str, connect: int, read: int, attempts: int
) -> None:
    config = built(service).meta.config
    assert (config.connect_timeout, config.read_timeout) == (connect, read)
    # botocore's own reading of `max_attempts: n`: n + 1 attempts in all, which the worst case below counts.
    assert config.retries == {"mode": "standard", "total_max_attempts": attempts}
    assert (config.signature_version == "s3v4") is (service == "s3")  # presigned S3 URLs and POST policies: SigV4


def test_a_client_is_built_once_per_container(built: Any) -> None:
    assert built("dynamodb") is built("dynamodb")


def _shortest_function_timeout() -> int:
    document = load_template(ROOT / "template.yaml")
    default = document["Globals"]["Function"]["Timeout"]
    functions = [r for r in document["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    return min(int(f["Properties"].get("Timeout", default)) for f in functions)


def test_no_client_can_outlast_the_shortest_lambda_timeout_even_if_every_attempt_times_out() -> None:
    shortest = _shortest_function_timeout()
    assert shortest == 20  # the arithmetic in shared/aws.py is written for it
    budgets = {service: aws.BUDGETS.get(service, aws.DEFAULT_BUDGET) for service in SERVICES}
    worst = {service: budget.worst_case_seconds() for service, budget in budgets.items()}
    assert worst["sesv2"] == 2 * (1 + 5) + (1 + 5) == 18
    assert worst["cognito-idp"] == 3
    # the live identity check (shared/identity.py) makes two Cognito calls in a row on a cache miss
    assert 2 * worst["cognito-idp"] + worst["dynamodb"] <= shortest
    assert max(worst.values()) <= shortest, worst


def test_the_worst_case_counts_at_least_the_longest_wait_botocore_makes_before_a_retry() -> None:
    # Throttled, with the largest jitter and a long x-amz-retry-after hint from the service.
    backoff = ExponentialBackoff(
        random=lambda: 1.0, throttling_detector=SimpleNamespace(is_throttling_error_from_context=lambda _: True)
    )
    hinted = SimpleNamespace(headers={"x-amz-retry-after": "60000"})
    for budget in {aws.DEFAULT_BUDGET, *aws.BUDGETS.values()}:
        waits = sum(
            backoff.delay_amount(SimpleNamespace(attempt_number=n, http_response=hinted))
            for n in range(1, budget.retries + 1)
        )
        attempts = (budget.retries + 1) * (budget.connect_timeout + budget.read_timeout)
        assert attempts + waits <= budget.worst_case_seconds()
