"""The partner programme's request bodies, records and workflow messages (pydantic), bounded and strict."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from contracts.tiers import TierRef
from shared.clock import TimerTime, UtcDateTime
from shared.events import EventDetail
from shared.money import CurrencyCode, Money
from shared.text import Line, Paragraphs

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]  # tier ids, manual criterion ids
CertificationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), Line]
UpgradeApproval = Literal["automatic", "channel_team"]
HistoryKind = Literal[
    "initial",
    "upgrade",
    "downgrade",
    "grace_started",
    "grace_ended",
    "upgrade_rejected",
    "upgrade_lapsed",
    "upgrade_withdrawn",
]
MAX_TIERS = 10
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_CRITERIA = 10


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"a {what} is listed twice")


# ------------------------------------------------------------------ request bodies
class RevenueThreshold(Strict):
    currency: CurrencyCode
    amount_minor: int = Field(ge=1, le=10**15, strict=True)


class CertificationThreshold(Strict):
    certification_id: CertificationId
    label: Label
    people: int = Field(ge=1, le=10_000, strict=True)


class ManualCriterionInput(Strict):
    criterion_id: Slug
    label: Label


class CriteriaInput(Strict):
    won_revenue: list[RevenueThreshold] = Field(default_factory=list, max_length=MAX_CRITERIA)
    approved_deals: int = Field(default=0, ge=0, le=100_000, strict=True)
    certifications: list[CertificationThreshold] = Field(default_factory=list, max_length=MAX_CRITERIA)
    manual: list[ManualCriterionInput] = Field(default_factory=list, max_length=MAX_CRITERIA)

    @field_validator("won_revenue")
    @classmethod
    def _one_per_currency(cls, value: list[RevenueThreshold]) -> list[RevenueThreshold]:
        _unique([v.currency for v in value], "currency")
        return value

    @field_validator("certifications")
    @classmethod
    def _one_per_certification(cls, value: list[CertificationThreshold]) -> list[CertificationThreshold]:
        _unique([v.certification_id for v in value], "certification")
        return value

    @field_validator("manual")
    @classmethod
    def _one_per_criterion(cls, value: list[ManualCriterionInput]) -> list[ManualCriterionInput]:
        _unique([v.criterion_id for v in value], "criterion")
        return value


class TierInput(Strict):
    tier_id: Slug
    name: Annotated[str, StringConstraints(min_length=1, max_length=80), Line]
    benefits: list[Annotated[str, StringConstraints(min_length=1, max_length=200), Line]] = Field(
        default_factory=list, max_length=20
    )
    criteria: CriteriaInput = Field(default_factory=CriteriaInput)


class VersionRequest(Strict):
    """A full criteria set, lowest tier first; the first tier (the entry tier) has no criteria."""

    effective_from: date
    upgrade_approval: UpgradeApproval
    tiers: list[TierInput] = Field(min_length=1, max_length=MAX_TIERS)

    @field_validator("effective_from", mode="before")
    @classmethod
    def _a_date_only(cls, value: Any) -> Any:
        # pydantic would take "2027-06-01T00:00:00Z" and silently drop its time: a version starts on a day
        if not (isinstance(value, date) and not isinstance(value, datetime)) and not (
            isinstance(value, str) and ISO_DATE.fullmatch(value)
        ):
            raise ValueError("must be a date, YYYY-MM-DD, with no time")
        return value

    @field_validator("tiers")
    @classmethod
    def _distinct_tiers(cls, value: list[TierInput]) -> list[TierInput]:
        _unique([t.tier_id for t in value], "tier_id")
        _unique([t.name.casefold() for t in value], "tier name")
        return value


class WithdrawalRequest(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]


class ManualCriterionRequest(Strict):
    met: bool = Field(strict=True)
    note: Annotated[str, StringConstraints(max_length=500), Paragraphs] = ""


# ------------------------------------------------------------------ records: the programme
class CertificationCriterion(Record):
    certification_id: str
    label: str
    people: int


class ManualCriterion(Record):
    criterion_id: str
    label: str


class Criteria(Record):
    won_revenue: list[Money] = []
    approved_deals: int = 0
    certifications: list[CertificationCriterion] = []
    manual: list[ManualCriterion] = []

    def is_empty(self) -> bool:
        return not (self.won_revenue or self.approved_deals or self.certifications or self.manual)


class Tier(Record):
    tier_id: str
    name: str
    benefits: list[str] = []
    criteria: Criteria = Criteria()


class CriteriaVersion(Record):
    """One immutable criteria set; it applies from `effective_from` (00:00 UTC) until the next version's date."""

    version_id: str
    effective_from: date
    upgrade_approval: UpgradeApproval
    tiers: list[Tier]
    created_at: UtcDateTime
    created_by: str

    def ref(self, index: int) -> TierRef:
        tier = self.tiers[index]
        return TierRef(tier_id=tier.tier_id, name=tier.name, rank=index)


class Withdrawal(Record):
    """A version withdrawn before it took effect, kept for the record (it never applied; its timers do nothing)."""

    version: CriteriaVersion
    reason: str
    withdrawn_by: str
    withdrawn_at: UtcDateTime


# ------------------------------------------------------------------ records: a partner's standing
class ManualMark(Record):
    met: bool
    note: str = ""
    set_by: str
    set_at: UtcDateTime


class Totals(Record):
    """The running totals evaluation reads (never a replay): in-window won revenue per currency and approved
    registrations, distinct certified people per certification, manual criteria; `next_exit` is when the earliest
    in-window fact leaves the trailing window."""

    revenue: dict[str, int] = {}
    approved_deals: int = 0
    certified: dict[str, int] = {}
    manual: dict[str, ManualMark] = {}
    next_exit: UtcDateTime | None = None


class PendingUpgrade(Record):
    upgrade_id: str
    proposed: TierRef
    criteria_version: str
    requested_at: UtcDateTime


class Grace(Record):
    grace_id: str
    tier: TierRef
    would_become: TierRef
    missing: list[str]
    criteria_version: str
    started_at: UtcDateTime
    ends_at: UtcDateTime


class Declined(Record):
    """An upgrade the channel team refused (or let lapse): not asked again for that tier under that version."""

    tier_id: str
    criteria_version: str


class Standing(Record):
    partner_id: str
    company_name: str = ""
    onboarded_at: UtcDateTime | None = None
    totals: Totals = Totals()
    tier: TierRef | None = None
    tier_since: UtcDateTime | None = None
    criteria_version: str | None = None
    pending: PendingUpgrade | None = None
    grace: Grace | None = None
    declined: Declined | None = None
    revision: int = 0
    history_seq: int = 0


class HistoryEntry(Record):
    seq: int
    at: UtcDateTime
    kind: HistoryKind
    tier: TierRef
    previous: TierRef | None = None
    reason: str
    criteria_version: str
    by: str | None = None


class WindowFact(Record):
    """One fact counted in the trailing window until `exits_at`: a won deal's revenue (one per win of the deal:
    `win_revision`, 1 for facts recorded before wins had revisions), or an approved registration (always 1)."""

    kind: Literal["revenue", "approval"]
    deal_id: str
    exits_at: UtcDateTime
    amount: Money | None = None
    win_revision: int = Field(default=1, ge=1)

    @property
    def fact_id(self) -> str:
        """The fact's name among the partner's: the deal, and the win after the first (the first keeps the name it
        had before wins had revisions, so a redelivered first win still finds its record)."""
        return win_fact_id(self.deal_id, self.win_revision)


def win_fact_id(deal_id: str, win_revision: int) -> str:
    return deal_id if win_revision == 1 else f"{deal_id}#{win_revision}"


class WinReversal(Record):
    """A vendor withdrew one win of a deal (`DealWinReversed`): its revenue no longer counts."""

    deal_id: str
    win_revision: int = Field(ge=1)
    reason: str
    reversed_by: str
    reversed_at: UtcDateTime
    previous_amount: Money


class WinRecord(Record):
    """Tiers' record of one win of a deal (deal_id, win_revision): the revenue fact it brought and whether that was
    counted, and its reversal. A reversal that arrives before its win leaves a record without a fact (a tombstone),
    so the late DealWon counts nothing: the totals are the same in either order."""

    deal_id: str
    win_revision: int = Field(default=1, ge=1)
    fact: WindowFact | None = None
    counted: bool = False  # the fact was in the window when recorded (it may have left it since)
    reversal: WinReversal | None = None


class Holding(Record):
    """One person's active awards of one certification for the partner: the person counts once while any is held."""

    certification_id: str
    holder: str
    awards: list[str] = []
    as_of: UtcDateTime
    removed_at: UtcDateTime | None = None


class Award(Record):
    award_id: str
    certification_id: str
    holder: str
    active: bool
    as_of: UtcDateTime


class PartnerUser(Record):
    email: str
    role: Literal["partner-admin", "partner-user"]
    active: bool
    as_of: UtcDateTime


# ------------------------------------------------------------------ workflow messages (tiers' workflow queue)
class TierUpgradeDecision(Strict):
    """From the upgrade approval state machine: a channel team member's decision by email link."""

    message_type: Literal["TierUpgradeDecision"]
    partner_id: str
    upgrade_id: str
    decision: Literal["approved", "rejected"]
    decided_by: str
    reason: str | None = None
    decided_at: UtcDateTime


class TierUpgradeExpired(Strict):
    message_type: Literal["TierUpgradeExpired"]
    partner_id: str
    upgrade_id: str


class Reevaluation(Strict):
    """A timer: facts leave the partner's trailing window."""

    message_type: Literal["Reevaluation"]
    partner_id: str
    due_at: TimerTime
    cause: Literal["window"]


class VersionTakesEffect(Strict):
    """A timer: a criteria version takes effect; every partner is evaluated, one page after another (`after`: the
    last partner id of the previous page)."""

    message_type: Literal["VersionTakesEffect"]
    version_id: str
    due_at: TimerTime
    after: str | None = None


class GraceWarning(Strict):
    message_type: Literal["GraceWarning"]
    partner_id: str
    grace_id: str
    ends_at: TimerTime
    due_at: TimerTime  # when this warning was set for: each warning is mailed once
    days_left: int


class GraceEnds(Strict):
    message_type: Literal["GraceEnds"]
    partner_id: str
    grace_id: str
    ends_at: TimerTime


WorkflowMessage = Annotated[
    TierUpgradeDecision | TierUpgradeExpired | Reevaluation | VersionTakesEffect | GraceWarning | GraceEnds,
    Field(discriminator="message_type"),
]
_WORKFLOW_MESSAGES: TypeAdapter[WorkflowMessage] = TypeAdapter(WorkflowMessage, config=ConfigDict(defer_build=True))


def workflow_message(body: dict[str, Any]) -> WorkflowMessage:
    """The message a workflow or timer put on tiers' queue, by its `message_type`."""
    return _WORKFLOW_MESSAGES.validate_python(body)


# ------------------------------------------------------------------ what one conditional write holds
@dataclass
class StandingChange:
    """One partner's change, written all or nothing: the standing at its next revision with its events (outbox) and
    history entries, and the fact items that change with it (a window fact counted or gone, awards, holdings)."""

    standing: Standing
    events: Sequence[EventDetail] = ()
    history: Sequence[HistoryEntry] = ()
    fact: WindowFact | None = None  # a new fact: recorded once (DuplicateFact on a repeat), in the window if counted
    counted: bool = False  # the new fact is in the window (it has a window entry until it exits)
    exited: Sequence[WindowFact] = ()  # window entries to remove: these facts left the window (or were reversed)
    reversal: WinRecord | None = None  # a win reversed (or its tombstone): recorded once, with the fact it withdraws
    holdings: Sequence[Holding] = ()
    awards: Sequence[Award] = ()
    enrol: bool = False  # the partner joins the programme's partner list (the version fan-out pages through it)
