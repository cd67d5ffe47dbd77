"""Decision relay (Handler `approvals.decisions.handler`): a decided approval resumes its workflow (table stream)."""

from __future__ import annotations

import json
from typing import Any

from approvals import domain
from approvals.models import Approval
from shared.aws import client
from shared.batch import process_stream
from shared.dynamo import from_item
from shared.observability import logger, metrics, tracer


def record_handler(record: Any) -> str:
    change = record.raw_event.get("dynamodb", {})
    if record.raw_event.get("eventName") != "MODIFY" or not change.get("NewImage"):
        return "ignored"
    new = Approval.model_validate(from_item(change["NewImage"]))
    old = from_item(change.get("OldImage") or {})
    if new.status != "decided" or (old.get("status") == "decided" and old.get("task_token") == new.task_token):
        return "nothing to resume"
    sfn = client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=new.task_token, output=json.dumps(domain.workflow_output(new)))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        # The workflow stopped waiting on this token (a reminder replaced it); the new token is relayed when it lands.
        logger.warning("task token no longer waiting", extra={"approval_id": new.approval_id})
        return "token superseded"
    return "resumed"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_stream(event, context, record_handler)
