"""The workflow and timer messages on the rewards queue (a union on `message_type`); the consumer's dispatch table
(`rewards.consumers.MESSAGE_HANDLERS`) names the service method for each. B adds its classes to `WorkflowMessage`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, TypeAdapter

from rewards.models.earning import RewardApprovalExpired, RewardAvailableDue, RewardDecision
from rewards.models.redemptions import ClaimDecision, ClaimReviewExpired, PayoutApprovalExpired, PayoutDecision

WorkflowMessage = Annotated[
    RewardDecision
    | RewardApprovalExpired
    | RewardAvailableDue
    | PayoutDecision
    | PayoutApprovalExpired
    | ClaimDecision
    | ClaimReviewExpired,
    Field(discriminator="message_type"),
]
_MESSAGES: TypeAdapter[WorkflowMessage] = TypeAdapter(WorkflowMessage, config=ConfigDict(defer_build=True))


def workflow_message(body: dict[str, Any]) -> WorkflowMessage:
    return _MESSAGES.validate_python(body)
