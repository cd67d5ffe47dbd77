"""Step Functions adapter of the TaskCallbacks port (approvals.ports): resume the task waiting on a token, or ask
whether a task still waits on it."""

from __future__ import annotations

import json
from typing import Any

from shared.aws import client
from shared.observability import logger


class StepFunctionsCallbacks:
    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        sfn = client("stepfunctions")
        try:
            sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
            return False  # the workflow stopped waiting on this token
        return True

    def waits(self, task_token: str) -> bool:
        """SendTaskHeartbeat: accepted while the task waits (it resets nothing on a Task without HeartbeatSeconds).
        Only the answers that say the task is over count as "no"; InvalidToken says nothing about a well-formed token
        of our own workflows, so it fails open (the token is taken, as before this check)."""
        sfn = client("stepfunctions")
        try:
            sfn.send_task_heartbeat(taskToken=task_token)
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.TaskDoesNotExist):
            return False  # the execution stopped, or the Task ended or timed out
        except sfn.exceptions.InvalidToken:
            logger.warning("Step Functions called a task token invalid; taken as still waiting")
        return True
