"""Spending rewards (pydantic): the catalogue, redemptions (a payout of a currency balance or a catalogue item for
points), tax forms, payout batches and their CSV rows, SPIFF claims with proof files, and the workflow messages of
the payout approval and the claim review. Amounts are integers (points, or minor units of a currency)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from rewards.models.common import Name, Reason, Record, Strict
from rewards.models.common import Text as NonBlank
from shared.clock import UtcDateTime
from shared.money import CurrencyCode, Money
from shared.proof_files import DocumentUploadBody, ProofFile
from shared.proof_files import Upload as ProofUpload
from shared.text import Line, Paragraphs

# A description that must say something (as Reason: the lengths are checked on the string, so a blank one is "at least
# 1 character", then the paragraphs are cleaned).
Text = Annotated[NonBlank, StringConstraints(max_length=2000), Paragraphs]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), Line]
ItemId = Annotated[str, StringConstraints(pattern=r"^item_[a-z0-9]{26}$")]
FileId = Annotated[str, StringConstraints(pattern=r"^file_[a-z0-9]{26}$")]
CampaignId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Points = Annotated[int, Field(ge=1, le=10**9, strict=True)]
Stock = Annotated[int, Field(ge=0, le=10**7, strict=True)]

RedemptionKind = Literal["payout", "item"]
# payout: requested -> approved | on_hold -> approved -> paid; requested -> rejected | expired (released)
# item:   requested -> fulfilled | cancelled (released)
RedemptionStatus = Literal["requested", "approved", "on_hold", "rejected", "expired", "paid", "fulfilled", "cancelled"]
ClaimStatus = Literal["submitted", "approved", "declined", "returned"]
BatchStatus = Literal["building", "ready", "paid"]
Verdict = Literal["approved", "rejected", "returned"]

MAX_PROOF_FILES = 10
UploadBody = DocumentUploadBody  # a SPIFF claim's proof (an invoice, an attendee list): PDF, PNG, JPEG, CSV, XLSX


class StatusChange(Record):
    """One step of a record's history: the status it reached, why, when and by whom."""

    status: str
    reason: str | None = None
    at: UtcDateTime
    by: str


# ------------------------------------------------------------------ catalogue
class CatalogueItemBody(Strict):
    name: Name
    description: Text
    cost_points: Points
    stock: Stock


class CatalogueItemPatch(Strict):
    name: Name | None = None
    description: Text | None = None
    cost_points: Points | None = None
    stock: Stock | None = None
    active: bool | None = Field(default=None, strict=True)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CatalogueItem(Record):
    item_id: str
    name: str
    description: str
    cost_points: int
    stock: int
    active: bool = True
    revision: int = 1
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


# ------------------------------------------------------------------ redemptions
class PayoutRequest(Strict):
    kind: Literal["payout"]
    amount: Money

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.amount_minor < 1:
            raise ValueError("a payout must be more than zero")
        return value


class ItemRequest(Strict):
    kind: Literal["item"]
    item_id: ItemId


RedemptionBody = Annotated[PayoutRequest | ItemRequest, Field(discriminator="kind")]
REDEMPTION_BODY: TypeAdapter[PayoutRequest | ItemRequest] = TypeAdapter(
    RedemptionBody, config=ConfigDict(defer_build=True)
)


class CancelBody(Strict):
    reason: Reason


class Redemption(Record):
    redemption_id: str
    partner_id: str
    person: str  # the payee (lower-case email); their own account is spent
    kind: RedemptionKind
    unit: str  # "points" (items) or the payout's currency
    amount: int  # points, or minor units of the currency
    item_id: str | None = None
    item_name: str | None = None
    status: RedemptionStatus
    status_reason: str | None = None
    status_at: UtcDateTime
    history: list[StatusChange] = []
    requested_at: UtcDateTime
    tax_year: int | None = None  # the calendar year a payout was approved in (counted toward the tax threshold)
    batch_id: str | None = None
    revision: int = 1

    @property
    def money(self) -> Money:
        return Money(amount_minor=self.amount, currency=self.unit)


# ------------------------------------------------------------------ tax forms
class TaxFormBody(Strict):
    reference: Reference
    received_on: date


class TaxForm(Record):
    partner_id: str
    reference: str
    received_on: date
    recorded_by: str
    recorded_at: UtcDateTime


class PayeeYear(Record):
    """What a payee was approved to be paid in one calendar year and currency (the tax-form threshold counts it)."""

    partner_id: str
    person: str
    year: int
    currency: str
    approved_minor: int = 0
    revision: int = 0


# ------------------------------------------------------------------ payout batches
class PayoutRow(Record):
    """One row of a batch's CSV: everything one payee is paid in one currency."""

    partner_id: str
    company_name: str
    person: str
    currency: CurrencyCode
    total_minor: int
    count: int
    payout_ids: list[str]


class PayoutBatch(Record):
    batch_id: str
    status: BatchStatus
    payout_ids: list[str] = []
    rows: list[PayoutRow] = []
    totals: list[Money] = []
    key: str | None = None
    created_by: str
    created_at: UtcDateTime
    paid_by: str | None = None
    paid_at: UtcDateTime | None = None
    revision: int = 1


# ------------------------------------------------------------------ claims (spiff_claim rules)


class Upload(ProofUpload):
    """A presigned upload handed out; a claim may name it once the file is in S3."""

    person: str


def _unique_files(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("a proof file is listed twice")
    return value


class ClaimBody(Strict):
    campaign_id: CampaignId
    rule_id: RuleId
    description: Text
    proof_files: list[FileId] = Field(min_length=1, max_length=MAX_PROOF_FILES)

    @field_validator("proof_files")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _unique_files(value)


class ResubmitBody(Strict):
    description: Text | None = None
    proof_files: list[FileId] = Field(min_length=1, max_length=MAX_PROOF_FILES)

    @field_validator("proof_files")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _unique_files(value)


class Claim(Record):
    claim_id: str
    partner_id: str
    person: str
    campaign_id: str
    campaign_name: str
    rule_id: str
    unit: str
    amount: int  # what the rule pays once approved
    description: str
    proof_files: list[ProofFile]
    status: ClaimStatus
    status_reason: str | None = None
    status_at: UtcDateTime
    round: int = 1
    submitted_at: UtcDateTime
    decided_by: str | None = None
    history: list[StatusChange] = []
    revision: int = 1


# ------------------------------------------------------------------ workflow messages
class Review(BaseModel):
    """What the approvals service hands a waiting workflow (and the workflow hands back to rewards)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    decision: Verdict
    decided_by: str
    reason: str | None = None
    decided_at: UtcDateTime | None = None


class PayoutDecision(Strict):
    message_type: Literal["RewardPayoutDecision"] = "RewardPayoutDecision"
    redemption_id: str
    review: Review


class PayoutApprovalExpired(Strict):
    message_type: Literal["RewardPayoutApprovalExpired"] = "RewardPayoutApprovalExpired"
    redemption_id: str


class ClaimDecision(Strict):
    message_type: Literal["RewardClaimDecision"] = "RewardClaimDecision"
    claim_id: str
    round: int
    review: Review


class ClaimReviewExpired(Strict):
    message_type: Literal["RewardClaimReviewExpired"] = "RewardClaimReviewExpired"
    claim_id: str
    round: int
    attempt: int = 0  # the review attempt that lapsed (a lapsed review starts again, a few times)
