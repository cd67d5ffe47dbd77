"""Step Functions definitions the tests build around one callback Task (the approvals pattern)."""

from __future__ import annotations

from typing import Any


def ask_and_wait(parameters: dict[str, Any], **task: Any) -> dict[str, Any]:
    """A workflow of one `sqs:sendMessage.waitForTaskToken` Task named Ask with these `Parameters` (QueueUrl and a
    MessageBody carrying `$$.Task.Token`); `task` adds or replaces the Task's fields (its timeout, a Catch, `End`)."""
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": parameters,
                "End": True,
            }
            | task
        },
    }
