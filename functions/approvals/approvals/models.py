"""Approval requests from workflows and the approval record."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.clock import UtcDateTime
from shared.email import Email

ApprovalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,120}$")]
Decision = Literal["approve", "reject"]
RequestKind = Literal["request", "reminder", "escalation"]


class SummaryLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    label: str = Field(min_length=1, max_length=80)
    value: str = Field(max_length=2000)


class ApprovalRequestMessage(BaseModel):
    """What a state machine sends (sqs:sendMessage.waitForTaskToken) when it needs a human decision."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    approval_id: ApprovalId
    kind: RequestKind
    task_token: str = Field(min_length=1, max_length=4096)
    subject: str = Field(min_length=1, max_length=200)
    summary: list[SummaryLine] = Field(max_length=40)
    approvers: list[Email] = Field(min_length=1, max_length=10)


class ApprovalCloseMessage(BaseModel):
    """The workflow stopped waiting (nobody decided in time): links must stop working."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    approval_id: ApprovalId
    kind: Literal["close"]


class Approval(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    approval_id: str
    status: Literal["pending", "decided", "closed"]
    subject: str
    summary: list[SummaryLine]
    approvers: list[str]
    kind: RequestKind
    task_token: str
    token_version: int = 1
    notified: bool = False
    requested_at: UtcDateTime
    updated_at: UtcDateTime
    decision: Decision | None = None
    decided_by: str | None = None
    reason: str | None = None
    decided_at: UtcDateTime | None = None
