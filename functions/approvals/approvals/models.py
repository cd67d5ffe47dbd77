"""Approval requests from workflows and the approval record."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from shared.clock import UtcDateTime
from shared.email import Email

ApprovalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,120}$")]
Decision = Literal["approve", "reject"]
RequestKind = Literal["request", "reminder", "escalation"]


def _clipped(limit: int) -> Any:
    """Over-long text from a workflow is shortened, never refused: a refused request would silently lapse."""

    def clip(value: Any) -> Any:
        return value[: limit - 1] + "…" if isinstance(value, str) and len(value) > limit else value

    return BeforeValidator(clip)


def _capped_lines(value: Any) -> Any:
    if isinstance(value, list) and len(value) > MAX_SUMMARY_LINES:
        hidden = len(value) - MAX_SUMMARY_LINES + 1
        return [*value[: MAX_SUMMARY_LINES - 1], {"label": "More", "value": f"{hidden} more lines not shown"}]
    return value


MAX_SUMMARY_LINES = 40


class SummaryLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    label: Annotated[str, _clipped(80), Field(min_length=1, max_length=80)]
    value: Annotated[str, _clipped(2000), Field(max_length=2000)]


class ApprovalRequestMessage(BaseModel):
    """What a state machine sends (sqs:sendMessage.waitForTaskToken) when it needs a human decision."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    approval_id: ApprovalId
    kind: RequestKind
    task_token: str = Field(min_length=1, max_length=4096)
    subject: Annotated[str, _clipped(200), Field(min_length=1, max_length=200)]
    summary: Annotated[list[SummaryLine], BeforeValidator(_capped_lines), Field(max_length=MAX_SUMMARY_LINES)]
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
