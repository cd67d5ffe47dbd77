"""Events published by market development funds (source `prm.mdf`). Amounts are integer minor units."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.events import EventDetail
from shared.money import Money

SOURCE = "prm.mdf"
ActivityType = Literal["event", "digital_campaign", "webinar", "print", "other"]


class Balance(BaseModel):
    """A fund's running balance right after the change the event reports."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    available: Money
    reserved: Money
    paid: Money


class _FundEvent(EventDetail):
    fund_id: str = Field(description="`<period_id>.<currency>`: one fund per partner, period and currency.")
    period_id: str
    balance: Balance


class MdfFundsAllocated(_FundEvent):
    """Vendor staff allocated funds to a partner for a programme period."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfFundsAllocated"

    allocation_id: str
    amount: Money
    allocated_by: str
    note: str


class MdfFundsAdjusted(_FundEvent):
    """Vendor staff corrected a fund's available balance (`amount_minor` may be negative), with a reason."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfFundsAdjusted"

    adjustment_id: str
    amount_minor: int = Field(description="Signed minor units: positive credits the fund, negative debits it.")
    currency: str
    adjusted_by: str
    note: str


class MdfFundsAccrued(_FundEvent):
    """A won deal credited the partner's fund with the period's accrual rate of its value."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfFundsAccrued"

    deal_id: str
    deal_amount: Money
    accrual_rate_bp: int = Field(ge=0, le=10000, description="Basis points of the deal value (100 = 1%).")
    amount: Money


class MdfAccrualReversed(_FundEvent):
    """A won deal's win was reversed (DealWinReversed): its accrual is taken back from the fund.

    `debited` came out of `available`; `from_expired` is what had expired unused (taken off the fund's expired total:
    it was never the partner's); `shortfall` is what the partner had already reserved or spent. No balance goes below
    zero: the shortfall is added to the fund's outstanding clawback for the vendor to settle, never dropped."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfAccrualReversed"

    deal_id: str
    win_revision: int = Field(ge=1)
    reason: str
    reversed_by: str
    accrued: Money = Field(description="What the reversed win had accrued.")
    debited: Money
    from_expired: Money
    shortfall: Money
    clawback_outstanding: Money = Field(description="The fund's total clawback not yet covered, after this one.")


class MdfRequestSubmitted(EventDetail):
    """A partner asked for funds for a marketing activity (first submission or a revision: `round`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfRequestSubmitted"

    request_id: str
    round: int
    fund_id: str
    period_id: str
    activity_type: ActivityType
    title: str
    starts_on: date
    ends_on: date
    requested: Money
    submitted_by: str


class MdfRequestApproved(_FundEvent):
    """The approval chain approved the request; `granted` (possibly less than asked) is now reserved."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfRequestApproved"

    request_id: str
    round: int
    requested: Money
    granted: Money
    approved_by: list[str]
    claim_due_at: UtcDateTime


class MdfRequestRejected(EventDetail):
    """The request was rejected (or could not be funded any more); nothing was reserved. It may be revised."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfRequestRejected"

    request_id: str
    round: int
    reason: str
    decided_by: str


class MdfClaimSubmitted(EventDetail):
    """The partner filed proof of performance against an approved request."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfClaimSubmitted"

    request_id: str
    round: int
    fund_id: str
    amount_spent: Money
    proof_files: int
    submitted_by: str


class MdfClaimApproved(EventDetail):
    """The claim was approved for `approved_amount` (at most what was spent and granted)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfClaimApproved"

    request_id: str
    round: int
    amount_spent: Money
    approved_amount: Money
    approved_by: str


class MdfClaimRejected(EventDetail):
    """The claim was rejected; the request's reservation was released."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfClaimRejected"

    request_id: str
    round: int
    reason: str
    decided_by: str


class MdfClaimReturned(EventDetail):
    """The reviewer asked for more proof; the partner may add files and resubmit."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfClaimReturned"

    request_id: str
    round: int
    reason: str
    decided_by: str


class MdfClaimPaid(_FundEvent):
    """Payment was recorded (`paid` ledger entry); `released` is the unspent part of the reservation."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfClaimPaid"

    request_id: str
    amount: Money
    released: Money


class MdfFundsExpired(_FundEvent):
    """Funds not used by the end of the period's claim window expired."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "MdfFundsExpired"

    amount: Money
    reason: Literal["claim_window_ended", "released_after_close"]
    claim_window_ended_at: UtcDateTime


MDF_EVENTS: tuple[type[EventDetail], ...] = (
    MdfFundsAllocated,
    MdfFundsAdjusted,
    MdfFundsAccrued,
    MdfAccrualReversed,
    MdfRequestSubmitted,
    MdfRequestApproved,
    MdfRequestRejected,
    MdfClaimSubmitted,
    MdfClaimApproved,
    MdfClaimRejected,
    MdfClaimReturned,
    MdfClaimPaid,
    MdfFundsExpired,
)
