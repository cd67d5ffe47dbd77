"""Decision relay (Handler `approvals.decisions.handler`): a decided approval resumes its workflow (table stream)."""

from __future__ import annotations

from functools import cache
from typing import Any

from approvals.models import Approval
from approvals.service import DecisionRelay
from approvals.workflow import StepFunctionsCallbacks
from shared.batch import process_stream
from shared.dynamo import from_item
from shared.observability import logger, metrics, tracer


@cache
def service() -> DecisionRelay:
    return DecisionRelay(StepFunctionsCallbacks())


def record_handler(record: Any) -> str:
    change = record.raw_event.get("dynamodb", {})
    if record.raw_event.get("eventName") != "MODIFY" or not change.get("NewImage"):
        return "ignored"
    new = Approval.model_validate(from_item(change["NewImage"]))
    old = Approval.model_validate(from_item(change["OldImage"])) if change.get("OldImage") else None
    return service().relay(new, old)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_stream(event, context, record_handler)
