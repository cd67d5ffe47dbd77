"""The environment for AWS emulated in this process (moto's mock_aws): set before boto3 is imported."""

from __future__ import annotations

import os
from typing import Any

REGION = "us-east-1"
IN_PROCESS_AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # moto's DynamoDB streams need it in process
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray (shared.aws patches botocore for the tracer)
    "POWERTOOLS_METRICS_NAMESPACE": "PRM",
}
NOT_IN_PROCESS = ("AWS_ENDPOINT_URL", "AWS_PROFILE")  # would send clients elsewhere


def use_in_process_aws(service_name: str) -> None:
    """Point this process's AWS clients at the in-process emulator (region, dummy credentials, no endpoint)."""
    os.environ.update(IN_PROCESS_AWS_ENV | {"POWERTOOLS_SERVICE_NAME": service_name})
    for name in NOT_IN_PROCESS:
        os.environ.pop(name, None)


def monkeypatch_in_process_aws(monkeypatch: Any) -> None:
    """use_in_process_aws for one test: the same environment, put back by pytest's monkeypatch afterwards."""
    for name, value in IN_PROCESS_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in NOT_IN_PROCESS:
        monkeypatch.delenv(name, raising=False)
