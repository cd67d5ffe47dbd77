"""MDF's request bodies, records and workflow messages (pydantic), bounded and strict. Amounts are minor units."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
)

from contracts.mdf import ActivityType
from shared.clock import TimerTime, UtcDateTime
from shared.money import Money
from shared.proof_files import DocumentUploadBody, ProofFile
from shared.proof_files import Upload as ProofUpload
from shared.text import Line, Paragraphs

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PeriodId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,23}$")]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
FileId = Annotated[str, StringConstraints(pattern=r"^file_[a-z0-9]{26}$")]
Count = Annotated[int, Field(ge=0, le=10_000_000, strict=True)]
RateBp = Annotated[int, Field(ge=0, le=10_000, strict=True)]
EntryKind = Literal["allocated", "accrued", "accrual_reversed", "reserved", "released", "paid", "expired", "adjusted"]
RequestStatus = Literal[
    "submitted", "under_review", "approved", "rejected", "expired", "claimed", "paid", "claim_rejected", "lapsed"
]
ClaimStatus = Literal["submitted", "returned", "approved", "rejected"]
Decision = Literal["approved", "rejected", "returned"]
REQUEST_STATUSES: tuple[str, ...] = RequestStatus.__args__  # type: ignore[attr-defined]
REVISABLE = frozenset({"rejected", "expired"})
MAX_PROOF_FILES = 10
UploadBody = DocumentUploadBody  # a claim's proof files may be any type the kernel checks (PDF, PNG, JPEG, CSV, XLSX)


def _positive(value: Money) -> Money:
    if value.amount_minor <= 0:
        raise ValueError("must be more than zero")
    return value


PositiveMoney = Annotated[Money, AfterValidator(_positive)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


# ------------------------------------------------------------------ request bodies
class PeriodBody(Strict):
    period_id: PeriodId
    name: Annotated[Text, StringConstraints(max_length=80), Line]
    starts_on: date
    ends_on: date
    claim_window_ends_at: UtcDateTime
    accrual_rate_bp: RateBp = 0


class AccrualBody(Strict):
    accrual_rate_bp: RateBp


class AllocationBody(Strict):
    partner_id: PartnerId
    period_id: PeriodId
    amount: PositiveMoney
    note: Annotated[str, StringConstraints(max_length=500), Paragraphs] = ""


class SignedAmount(Strict):
    amount_minor: int = Field(ge=-(10**15), le=10**15, strict=True)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("amount_minor")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be zero")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        Money(amount_minor=0, currency=value)  # the same currency list as every amount
        return value


class AdjustmentBody(Strict):
    """A vendor correction of a fund's available balance: positive credits, negative debits; a reason is required."""

    partner_id: PartnerId
    period_id: PeriodId
    amount: SignedAmount
    note: Annotated[Text, StringConstraints(max_length=500), Paragraphs]


class ExpectedOutcome(Strict):
    leads: Count
    pipeline_value: Money


class FundRequestBody(Strict):
    period_id: PeriodId
    activity_type: ActivityType
    title: Annotated[Text, StringConstraints(max_length=120), Line]
    description: Annotated[Text, StringConstraints(max_length=2000), Paragraphs]
    starts_on: date
    ends_on: date
    requested: PositiveMoney
    expected_outcome: ExpectedOutcome


class ClaimResults(Strict):
    leads: Count
    attendees: Count
    invoice_number: Annotated[Text, StringConstraints(max_length=64), Line]


class ClaimBody(Strict):
    amount_spent: PositiveMoney
    proof_files: list[FileId] = Field(max_length=MAX_PROOF_FILES)
    results: ClaimResults
    notes: Annotated[str, StringConstraints(max_length=2000), Paragraphs] = ""

    @field_validator("proof_files")
    @classmethod
    def _at_least_one(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one proof file is required")
        if len(set(value)) != len(value):
            raise ValueError("a file is listed twice")
        return value


# ------------------------------------------------------------------ records
class Period(Record):
    period_id: str
    name: str
    starts_on: date
    ends_on: date
    claim_window_ends_at: UtcDateTime
    accrual_rate_bp: int = 0
    created_by: str = ""
    created_at: UtcDateTime | None = None


class PartnerProjection(Record):
    """What MDF knows about a partner, from onboarding's events (never from onboarding's table)."""

    partner_id: str
    company_name: str
    country: str
    status: Literal["active", "suspended"]
    contact_name: str
    contact_email: str
    as_of: UtcDateTime


class Fund(Record):
    """One partner's fund for one period and currency: the running balance, kept with the ledger's length (`seq`)."""

    partner_id: str
    period_id: str
    period_name: str
    currency: str
    claim_window_ends_at: UtcDateTime
    status: Literal["open", "closed"] = "open"
    available: int = 0
    reserved: int = 0
    paid: int = 0
    expired: int = 0
    allocated: int = 0
    accrued: int = 0
    released: int = 0
    adjusted: int = 0
    accrual_reversed: int = 0  # taken back from `available` when wins were reversed
    clawback_outstanding: int = 0  # reversed accruals `available` could not cover (already reserved or spent)
    seq: int = 0
    opened_at: UtcDateTime
    updated_at: UtcDateTime

    @property
    def fund_id(self) -> str:
        return f"{self.period_id}.{self.currency}"


class WinAccrual(Record):
    """What MDF derived from one win of a deal (`deal_id`, `win_revision`): where it accrued and how much, and whether
    the win was reversed. A reversal that arrives first leaves a tombstone (`status` reversed, nothing accrued), so a
    late DealWon of that revision accrues nothing: the final balance is the same in either order."""

    deal_id: str
    win_revision: int
    status: Literal["accrued", "reversed"]
    partner_id: str
    fund_id: str | None = None  # None: nothing accrued (the reversal came first)
    amount_minor: int = 0
    currency: str | None = None
    accrued_at: UtcDateTime | None = None
    reversed_at: UtcDateTime | None = None
    reversal_reason: str = ""
    debited_minor: int = 0  # taken from `available` by the reversal
    from_expired_minor: int = 0  # had expired unused: taken off the fund's `expired`, owed by nobody
    shortfall_minor: int = 0  # what `available` could not cover, added to the fund's `clawback_outstanding`


class Reference(Record):
    type: Literal["allocation", "adjustment", "deal", "request", "claim", "fund"]
    id: str


class LedgerEntry(Record):
    seq: int
    kind: EntryKind
    amount_minor: int
    currency: str
    at: UtcDateTime
    reference: Reference
    note: str = ""
    actor: str
    available_after: int
    reserved_after: int
    paid_after: int
    # Of an `accrual_reversed` amount: what had expired unused (taken off `expired`: it was never the partner's), and
    # what neither `available` nor `expired` could cover (spent or reserved: now outstanding). The rest left `available`.
    from_expired_minor: int = 0
    clawback_minor: int = 0


class Upload(ProofUpload):
    """A presigned upload handed out; a claim may name it once the file is in S3."""

    request_id: str


class ApprovalStep(Record):
    step: str
    decision: Decision
    by: str
    amount_minor: int | None = None
    reason: str | None = None
    at: UtcDateTime | None = None


class Claim(Record):
    status: ClaimStatus
    round: int = 1
    amount_spent: Money
    approved_amount: Money | None = None
    proof_files: list[ProofFile]
    results: ClaimResults
    notes: str = ""
    submitted_by: str
    submitted_at: UtcDateTime
    decided_at: UtcDateTime | None = None
    decided_by: str | None = None
    reason: str | None = None


class TimelineEntry(Record):
    at: UtcDateTime
    status: str
    note: str = ""


class FundRequest(Record):
    request_id: str
    partner_id: str
    period_id: str
    activity_type: ActivityType
    title: str
    description: str
    starts_on: date
    ends_on: date
    requested: Money
    expected_outcome: ExpectedOutcome
    status: RequestStatus
    round: int = 1
    granted: Money | None = None
    submitted_by: str
    submitted_at: UtcDateTime
    decision_due_at: UtcDateTime | None = None
    decided_at: UtcDateTime | None = None
    decision_reason: str | None = None
    approvals: list[ApprovalStep] = []
    claim_due_at: UtcDateTime | None = None
    claim: Claim | None = None
    timeline: list[TimelineEntry] = []
    revision: int = 1

    @property
    def fund_id(self) -> str:
        return f"{self.period_id}.{self.requested.currency}"


# ------------------------------------------------------------------ workflow messages
class Outcome(BaseModel):
    """What the approvals service hands a waiting workflow."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    decision: Decision
    decided_by: str
    reason: str | None = None
    decided_at: UtcDateTime | None = None
    amount_minor: int | None = Field(default=None, ge=1)  # approving 0 is a rejection: the approvals page refuses it


class RequestDecision(Strict):
    message_type: Literal["MdfRequestDecision"] = "MdfRequestDecision"
    request_id: str
    round: int
    marketing: Outcome
    finance: Outcome | None = None


class ClaimDecision(Strict):
    message_type: Literal["MdfClaimDecision"] = "MdfClaimDecision"
    request_id: str
    round: int
    review: Outcome


class _ApprovalExpired(Strict):
    """Nobody decided in time: the workflow closed the approval (`purpose` says which one)."""

    message_type: Literal["MdfApprovalExpired"] = "MdfApprovalExpired"
    request_id: str
    round: int
    attempt: int = 0  # a claim review that lapsed starts again: the attempt that lapsed


class RequestApprovalExpired(_ApprovalExpired):
    purpose: Literal["request"] = "request"


class ClaimReviewExpired(_ApprovalExpired):
    purpose: Literal["claim"] = "claim"


class _FundTimer(Strict):
    partner_id: str
    fund_id: str
    claim_window_ends_at: TimerTime
    days_left: int = 0


class FundExpiryWarning(_FundTimer):
    message_type: Literal["MdfFundExpiryWarning"] = "MdfFundExpiryWarning"


class FundExpiry(_FundTimer):
    message_type: Literal["MdfFundExpiry"] = "MdfFundExpiry"


class FundTimerRenewal(_FundTimer):
    """The window ends further ahead than a timer may wait: schedule the fund's timer again."""

    message_type: Literal["MdfFundTimerRenewal"] = "MdfFundTimerRenewal"


class _ClaimTimer(Strict):
    request_id: str
    claim_due_at: TimerTime
    days_left: int = 0


class ClaimReminder(_ClaimTimer):
    message_type: Literal["MdfClaimReminder"] = "MdfClaimReminder"


class ClaimDeadline(_ClaimTimer):
    message_type: Literal["MdfClaimDeadline"] = "MdfClaimDeadline"


class ClaimTimerRenewal(_ClaimTimer):
    """The due date is further ahead than a timer may wait: schedule the claim's timer again."""

    message_type: Literal["MdfClaimTimerRenewal"] = "MdfClaimTimerRenewal"


FundTimer = FundExpiryWarning | FundExpiry | FundTimerRenewal
ClaimTimer = ClaimReminder | ClaimDeadline | ClaimTimerRenewal
ApprovalExpired = Annotated[RequestApprovalExpired | ClaimReviewExpired, Field(discriminator="purpose")]
# Everything MDF's workflow queue carries besides bus events: decisions and lapses from the state machines, timers.
WorkflowMessage = Annotated[
    RequestDecision | ClaimDecision | ApprovalExpired | FundTimer | ClaimTimer, Field(discriminator="message_type")
]
_WORKFLOW_MESSAGES: TypeAdapter[WorkflowMessage] = TypeAdapter(WorkflowMessage, config=ConfigDict(defer_build=True))


def workflow_message(body: dict[str, object]) -> WorkflowMessage:
    """The message as its type (ValidationError, a ValueError, for an unknown `message_type` or a bad field)."""
    return _WORKFLOW_MESSAGES.validate_python(body)
