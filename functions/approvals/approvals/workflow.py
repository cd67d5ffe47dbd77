"""Step Functions adapter of the TaskCallbacks port (approvals.ports): resume the task waiting on a token."""

from __future__ import annotations

import json
from typing import Any

from shared.aws import client


class StepFunctionsCallbacks:
    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        sfn = client("stepfunctions")
        try:
            sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
            return False  # the workflow stopped waiting on this token
        return True
