"""Step Functions adapter shared by the contexts: idempotent execution starts."""

from __future__ import annotations

import json
from typing import Any

from shared.aws import client


def start_execution(machine: str, name: str, payload: dict[str, Any]) -> str:
    """Start `machine` once per `name` (a deterministic id): a repeated start changes nothing."""
    sfn = client("stepfunctions")
    try:
        return str(sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"])
    except sfn.exceptions.ExecutionAlreadyExists:
        return "already started"
