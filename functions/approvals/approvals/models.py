"""Approval requests from workflows and the approval record."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from shared.clock import UtcDateTime
from shared.email import Email
from shared.money import CurrencyCode

ApprovalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,120}$")]
Decision = Literal["approve", "reject", "return"]
Outcome = Literal["approved", "rejected", "returned"]
RequestKind = Literal["request", "reminder", "escalation"]

OUTCOMES: dict[str, Outcome] = {"approve": "approved", "reject": "rejected", "return": "returned"}
DEFAULT_DECISIONS: list[Decision] = ["approve", "reject"]
MAX_HREF = 2000


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


def _safe_href(value: Any) -> str | None:
    """An http(s) URL to show as a link; anything else is dropped (never refused: the request would lapse)."""
    if not isinstance(value, str) or not value or len(value) > MAX_HREF:
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _null_decisions(value: Any) -> Any:
    # Step Functions sends JSON null for an absent value.
    return list(DEFAULT_DECISIONS) if value is None else value


MAX_SUMMARY_LINES = 40


class SummaryLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    label: Annotated[str, _clipped(80), Field(min_length=1, max_length=80)]
    value: Annotated[str, _clipped(2000), Field(max_length=2000)]
    href: Annotated[str | None, BeforeValidator(_safe_href)] = None


class AmountSpec(BaseModel):
    """The approver may grant any amount up to `max_minor` (partial approval)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    currency: CurrencyCode
    max_minor: int = Field(ge=1, le=10**15)
    label: Annotated[str, _clipped(80), Field(min_length=1, max_length=80)]


class EarlierDecision(BaseModel):
    """A previous step of a chain (e.g. channel marketing before finance), shown to this step's approvers."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    label: Annotated[str, _clipped(80), Field(max_length=80)]
    decided_by: Annotated[str, _clipped(320), Field(max_length=320)]
    decision: Outcome
    amount_minor: int | None = Field(default=None, ge=0, le=10**15)
    reason: Annotated[str, _clipped(2000), Field(max_length=2000)] | None = None


class ApprovalRequestMessage(BaseModel):
    """What a state machine sends (sqs:sendMessage.waitForTaskToken) when it needs a human decision."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    approval_id: ApprovalId
    kind: RequestKind
    task_token: str = Field(min_length=1, max_length=4096)
    subject: Annotated[str, _clipped(200), Field(min_length=1, max_length=200)]
    summary: Annotated[list[SummaryLine], BeforeValidator(_capped_lines), Field(max_length=MAX_SUMMARY_LINES)]
    approvers: list[Email] = Field(min_length=1, max_length=10)
    decisions: Annotated[list[Decision], BeforeValidator(_null_decisions)] = Field(
        default_factory=lambda: list(DEFAULT_DECISIONS)
    )
    amount: AmountSpec | None = None
    earlier: EarlierDecision | None = None

    @field_validator("decisions")
    @classmethod
    def _approve_and_reject_once(cls, value: list[Decision]) -> list[Decision]:
        if "approve" not in value or "reject" not in value:
            raise ValueError("decisions must include approve and reject")
        if len(set(value)) != len(value):
            raise ValueError("decisions must not repeat")
        return value


class ApprovalCloseMessage(BaseModel):
    """The workflow stopped waiting (nobody decided in time): links must stop working."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    approval_id: ApprovalId
    kind: Literal["close"]


# What arrives on the approval requests queue, told apart by `kind` (request, reminder, escalation, or close).
ApprovalsQueueMessage = Annotated[ApprovalRequestMessage | ApprovalCloseMessage, Field(discriminator="kind")]


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
    # Approvers mailed about the current request's token (None on records from before it was kept; see domain).
    mailed: list[str] | None = None
    requested_at: UtcDateTime
    updated_at: UtcDateTime
    decisions: list[Decision] = Field(default_factory=lambda: list(DEFAULT_DECISIONS))
    amount: AmountSpec | None = None
    earlier: EarlierDecision | None = None
    decision: Decision | None = None
    decided_by: str | None = None
    reason: str | None = None
    amount_minor: int | None = None
    decided_at: UtcDateTime | None = None
