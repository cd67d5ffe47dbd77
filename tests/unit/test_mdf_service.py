"""MDF's use cases on in-memory fakes of their ports (no AWS, no moto): submission, approval reserving the grant,
racing approvals, claims paid in full or in part or returned, accrual booked once, timers that no longer apply,
notices mailed once, reviews restarted after a lapse. The workflow adapter is the real one, on fake starters and
timers, so execution names and timer names (what makes repeats change nothing) are the production ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts.deals import DealWinReversed, DealWon
from contracts.mdf import (
    MdfAccrualReversed,
    MdfFundsAccrued,
    MdfRequestApproved,
    MdfRequestRejected,
    MdfRequestSubmitted,
)
from contracts.onboarding import PartnerOnboarded
from mdf.domain.timers import claim_schedule
from mdf.models import (
    AllocationBody,
    ClaimBody,
    ClaimDeadline,
    ClaimDecision,
    ClaimReminder,
    ClaimReviewExpired,
    ClaimTimerRenewal,
    FundExpiry,
    FundExpiryWarning,
    FundRequest,
    FundRequestBody,
    FundTimerRenewal,
    Outcome,
    PartnerProjection,
    PeriodBody,
    RequestApprovalExpired,
    RequestDecision,
    UploadBody,
    workflow_message,
)
from mdf.service.claims import ClaimsService
from mdf.service.claims_lifecycle import ClaimLifecycle
from mdf.service.funds import FundsService
from mdf.service.funds_lifecycle import FundLifecycle
from mdf.service.requests import RequestsService
from mdf.service.requests_lifecycle import RequestLifecycle
from mdf.settings import ConsumerSettings
from mdf.workflow import MdfWorkflowAdapter
from shared.errors import Conflict, Forbidden, NotYetDue, ValidationFailed
from shared.money import Money
from shared.principal import Principal
from tests.support.factories import partner_onboarded
from tests.support.fakes import FakeMailer, FakeSideEffects, FakeTimers, FakeWorkflows
from tests.support.fakes_mdf import FakeMdfStore, FakeProofStorage

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AFTER_ACTIVITY = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # the day after the activity of `request_body()` ended
WINDOW_ENDS = datetime(2027, 2, 28, 0, 0, tzinfo=UTC)
PERIOD_ID, FUND_ID = "FY27-Q1", "FY27-Q1.USD"
REQUEST_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:mdf-request-approval"
CLAIM_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:mdf-claim-review"
SETTINGS = ConsumerSettings.model_validate(
    {
        "table_name": "mdf-table",
        "request_state_machine_arn": REQUEST_MACHINE,
        "claim_state_machine_arn": CLAIM_MACHINE,
        "schedule_group": "prm-test-timers",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/scheduler",
        "workflow_queue_arn": "arn:aws:sqs:eu-west-1:123456789012:mdf-workflow",
        "mail_from": "mdf@example.com",
        "portal_url": "https://portal.example.com",
        "link_base_url": "https://api.example.com",
        "link_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:links",
        "link_ttl_seconds": 86400,
        "marketing_approver": "marketing@vendor.example",
        "finance_approver": "finance@vendor.example",
        "escalation_email": "director@vendor.example",
        "finance_thresholds": '{"USD": 500000}',
        "reminder_seconds": 3600,
        "escalation_seconds": 3600,
        "expiry_seconds": 3600,
        "claim_due_days": 60,
        "expiry_warning_offsets": "2592000,604800",
        "claim_reminder_offsets": "604800",
    }
)
PARTNER = "prt_1"
VENDOR = Principal("vendor-1", "admin@vendor.example", "Vendor Admin", None, frozenset({"vendor-admin"}))
ANN = Principal("sub-ann", "ann@partner.example", "Ann", PARTNER, frozenset({"partner-admin"}))
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def usd(amount: int) -> Money:
    return Money(amount_minor=amount, currency="USD")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Mdf:
    """Every MDF use case over one set of fakes, as the two edges wire them."""

    store: FakeMdfStore = field(default_factory=FakeMdfStore)
    proofs: FakeProofStorage = field(default_factory=FakeProofStorage)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    starts: FakeWorkflows = field(default_factory=FakeWorkflows)
    timers: FakeTimers = field(default_factory=FakeTimers)
    effects: FakeSideEffects = field(default_factory=FakeSideEffects)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        base: dict[str, Any] = {"repository": self.store, "clock": self.clock}
        workflows = MdfWorkflowAdapter(SETTINGS, self.starts, self.timers, lambda: b"k" * 32)
        queue: dict[str, Any] = base | {
            "workflows": workflows,
            "mailer": self.mailer,
            "effects": self.effects,
            "portal_url": "https://portal.example.com",
        }
        self.funds = FundsService(**base)
        self.requests = RequestsService(**base, lead_days=10)
        self.claims = ClaimsService(**base, proofs=self.proofs, max_bytes=1024 * 1024)
        self.fund_life = FundLifecycle(**queue)
        self.request_life = RequestLifecycle(**queue, claim_due_days=SETTINGS.claim_due_days)
        self.claim_life = ClaimLifecycle(**queue)

    # ------------------------------------------------------------- the story so far
    def fund(self) -> Any:
        fund = self.store.fund(PARTNER, FUND_ID)
        assert fund is not None
        return fund

    def balance(self) -> tuple[int, int, int, int]:
        fund = self.fund()
        return fund.available, fund.reserved, fund.paid, fund.expired

    def kinds(self) -> list[tuple[str, int]]:
        return [(e.kind, e.amount_minor) for e in self.store.ledger_of(PARTNER, FUND_ID)]

    def request(self, request_id: str) -> FundRequest:
        request = self.store.request(request_id)
        assert request is not None
        return request

    def submit(self, amount: int) -> str:
        return self.requests.submit(ANN, request_body(amount)).request_id

    def approve(self, request_id: str, amount: int | None = None) -> str:
        self.request_life.start_review(request_id, self.request(request_id).round)
        return self.request_life.decide(decision(request_id, outcome(amount=amount)))

    def claimed(self, spent: int, *, granted: int = 400_000) -> str:
        """A request approved for `granted`, with a claim for `spent` filed after the activity, one PDF as proof."""
        request_id = self.submit(granted)
        assert self.approve(request_id) == "approved"
        self.clock.now = AFTER_ACTIVITY
        self.claims.file_claim(ANN, request_id, claim_body([self.upload(request_id)], spent))
        return request_id

    def upload(self, request_id: str, content: bytes = PDF, content_type: str = "application/pdf") -> str:
        body = UploadBody(file_name="invoice.pdf", content_type=content_type, size_bytes=len(content))
        grant = self.claims.create_upload(ANN, request_id, body)
        self.proofs.put(grant["upload"]["fields"]["key"], content_type, content)  # type: ignore[index]
        return str(grant["file_id"])


@pytest.fixture
def mdf() -> Mdf:
    """A partner MDF knows, the period FY27-Q1 (accruing 2.5%) and 10,000.00 USD allocated to the partner."""
    world = Mdf()
    world.store.project_partner(
        PartnerProjection(
            partner_id=PARTNER,
            company_name="Reseller One",
            country="GB",
            status="active",
            contact_name="Ann",
            contact_email="ann@partner.example",
            as_of=NOW,
        )
    )
    world.funds.add_period(
        VENDOR,
        PeriodBody(
            period_id=PERIOD_ID,
            name="FY27 Q1",
            starts_on=date(2026, 10, 1),
            ends_on=date(2026, 12, 31),
            claim_window_ends_at=WINDOW_ENDS,
            accrual_rate_bp=250,
        ),
    )
    world.funds.allocate(VENDOR, AllocationBody(partner_id=PARTNER, period_id=PERIOD_ID, amount=usd(1_000_000)))
    return world


def request_body(amount: int, **changes: Any) -> FundRequestBody:
    return FundRequestBody.model_validate(
        {
            "period_id": PERIOD_ID,
            "activity_type": "event",
            "title": "Winter roadshow",
            "description": "Three city breakfasts with the firewall team.",
            "starts_on": "2026-12-07",
            "ends_on": "2026-12-10",
            "requested": {"amount_minor": amount, "currency": "USD"},
            "expected_outcome": {"leads": 40, "pipeline_value": {"amount_minor": 10_000_000, "currency": "USD"}},
        }
        | changes
    )


def claim_body(file_ids: list[str], spent: int) -> ClaimBody:
    return ClaimBody.model_validate(
        {
            "amount_spent": {"amount_minor": spent, "currency": "USD"},
            "proof_files": file_ids,
            "results": {"leads": 31, "attendees": 120, "invoice_number": "INV-2026-118"},
        }
    )


def outcome(decision_: str = "approved", *, amount: int | None = None, reason: str | None = None) -> Outcome:
    return Outcome(decision=decision_, decided_by="marketing@vendor.example", amount_minor=amount, reason=reason)  # type: ignore[arg-type]


def decision(request_id: str, marketing: Outcome, round_: int = 1) -> RequestDecision:
    return RequestDecision(request_id=request_id, round=round_, marketing=marketing)


def review(request_id: str, decision_: str, *, amount: int | None = None, round_: int = 1) -> ClaimDecision:
    reason = None if decision_ == "approved" else "See notes"
    return ClaimDecision(request_id=request_id, round=round_, review=outcome(decision_, amount=amount, reason=reason))


# ------------------------------------------------------------------ who may act


def test_partner_routes_need_the_current_agreement_and_an_active_partner(mdf: Mdf) -> None:
    mdf.store.publish_agreement("2")
    with pytest.raises(Forbidden) as refused:
        mdf.requests.require_agreement(ANN)
    assert refused.value.code == "agreement_required"
    mdf.store.accept_agreement("2", ANN.sub)
    mdf.requests.require_agreement(ANN)
    mdf.requests.require_agreement(VENDOR)  # vendor staff are never gated
    with pytest.raises(Forbidden):
        mdf.requests.submit(VENDOR, request_body(1_000))
    suspended = mdf.store.partner(PARTNER).model_copy(  # type: ignore[union-attr]
        update={"status": "suspended", "as_of": NOW + timedelta(hours=1)}
    )
    assert mdf.store.project_partner(suspended)
    with pytest.raises(Forbidden) as inactive:
        mdf.requests.submit(ANN, request_body(1_000))
    assert inactive.value.code == "partner_inactive" and mdf.store.events("MdfRequestSubmitted") == []


def test_partners_are_projected_from_onboardings_events_newest_first() -> None:
    world = Mdf()
    onboarded = PartnerOnboarded.model_validate(partner_onboarded("prt_new")["detail"])
    assert world.fund_life.project_partner(onboarded) == "projected"
    assert world.fund_life.project_partner(onboarded) == "older or repeated"
    partner = world.store.partner("prt_new")
    assert partner is not None and (partner.status, partner.contact_email) == ("active", "p@prt-new.com")
    partners, cursor = world.funds.partners(VENDOR, 10, None)
    assert [p.partner_id for p in partners] == ["prt_new"] and cursor is None
    with pytest.raises(Forbidden):
        world.funds.partners(ANN, 10, None)


# ------------------------------------------------------------------ submission and approval


def test_submission_checks_the_balance_and_reserves_nothing(mdf: Mdf) -> None:
    with pytest.raises(ValidationFailed) as short:
        mdf.submit(1_000_001)
    assert [e.field for e in short.value.errors] == ["requested.amount_minor"]
    request = mdf.requests.submit(ANN, request_body(400_000))
    assert (request.status, request.round, request.partner_id, request.submitted_by) == (
        "submitted",
        1,
        PARTNER,
        ANN.email,
    )
    assert mdf.store.request(request.request_id) == request
    [event] = mdf.store.events("MdfRequestSubmitted")
    assert isinstance(event, MdfRequestSubmitted) and event.request_id == request.request_id
    assert mdf.balance() == (1_000_000, 0, 0, 0) and mdf.kinds() == [("allocated", 1_000_000)]


def test_review_starts_once_and_approval_reserves_what_was_granted(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.request_life.start_review(request_id, 1)
    assert mdf.request(request_id).status == "under_review"
    assert mdf.request(request_id).decision_due_at == NOW + timedelta(seconds=SETTINGS.reminder_seconds)
    assert mdf.request_life.start_review(request_id, 1) == "already started"  # a redelivered event
    assert mdf.request_life.start_review(request_id, 0) == "stale: the request was revised since"
    [(machine, name)] = mdf.starts.started
    assert (machine, name) == (REQUEST_MACHINE, f"mdf-{request_id}-1")

    assert mdf.request_life.decide(decision(request_id, outcome(amount=300_000))) == "approved"
    approved = mdf.request(request_id)
    assert approved.status == "approved" and approved.granted == usd(300_000)
    assert mdf.balance() == (700_000, 300_000, 0, 0)
    assert mdf.kinds() == [("allocated", 1_000_000), ("reserved", 300_000)]
    [event] = mdf.store.events("MdfRequestApproved")
    assert isinstance(event, MdfRequestApproved) and event.granted == usd(300_000)
    # the same decision delivered again books nothing
    assert mdf.request_life.decide(decision(request_id, outcome(amount=300_000))) == "stale decision"
    assert mdf.balance() == (700_000, 300_000, 0, 0) and len(mdf.kinds()) == 2


def test_racing_approvals_cannot_overbook(mdf: Mdf) -> None:
    first, second = mdf.submit(600_000), mdf.submit(600_000)  # each fits alone, not both
    for request_id in (first, second):
        mdf.request_life.start_review(request_id, 1)
    outcomes: dict[str, str] = {}
    # The second approval commits between the first one's read of the fund and its write: the first loses the race,
    # reads again, and finds the money gone.
    mdf.store.before_write = lambda: outcomes.setdefault(second, mdf.request_life.decide(decision(second, outcome())))
    outcomes[first] = mdf.request_life.decide(decision(first, outcome()))
    assert outcomes == {second: "approved", first: "insufficient_funds"}
    assert mdf.balance() == (400_000, 600_000, 0, 0)
    assert [e.seq for e in mdf.store.ledger_of(PARTNER, FUND_ID)] == [1, 2]
    assert mdf.kinds() == [("allocated", 1_000_000), ("reserved", 600_000)]
    lost = mdf.request(first)
    assert lost.status == "rejected" and "only 4,000.00 USD available" in str(lost.decision_reason)
    assert isinstance(mdf.store.events("MdfRequestRejected")[0], MdfRequestRejected)


def test_many_approvals_reserve_at_most_the_fund(mdf: Mdf) -> None:
    request_ids = [mdf.submit(200_000) for _ in range(8)]  # 5 fit
    outcomes = [mdf.approve(r) for r in request_ids]
    assert sorted(outcomes) == ["approved"] * 5 + ["insufficient_funds"] * 3
    assert mdf.balance() == (0, 1_000_000, 0, 0)


# ------------------------------------------------------------------ claims


def test_a_claim_approved_in_full_pays_the_spend_and_releases_the_rest(mdf: Mdf) -> None:
    request_id = mdf.claimed(250_000)
    assert mdf.request(request_id).status == "claimed"
    assert mdf.claim_life.start_review(request_id, 1).endswith(f"mdf-claim-{request_id}-1-0")
    payload = mdf.starts.started[CLAIM_MACHINE, f"mdf-claim-{request_id}-1-0"]
    [proof] = [line for line in payload["summary"] if line["label"] == "Proof 1"]
    assert f"/mdf/proofs/{request_id}/" in proof["href"] and "signature=" in proof["href"]
    assert mdf.claim_life.decide(review(request_id, "approved")) == "paid"
    assert mdf.balance() == (750_000, 0, 250_000, 0)
    assert mdf.kinds()[-2:] == [("paid", 250_000), ("released", 150_000)]
    assert mdf.request(request_id).status == "paid"
    assert mdf.claim_life.decide(review(request_id, "approved")) == "stale decision"  # once
    assert mdf.balance() == (750_000, 0, 250_000, 0)


def test_a_partial_approval_pays_the_approved_amount(mdf: Mdf) -> None:
    request_id = mdf.claimed(250_000)
    assert mdf.claim_life.decide(review(request_id, "approved", amount=100_000)) == "paid"
    assert mdf.balance() == (900_000, 0, 100_000, 0)
    claim = mdf.request(request_id).claim
    assert claim is not None and claim.approved_amount == usd(100_000)


def test_a_returned_claim_keeps_the_reservation_and_may_be_filed_again(mdf: Mdf) -> None:
    request_id = mdf.claimed(250_000)
    file_id = mdf.request(request_id).claim.proof_files[0].file_id  # type: ignore[union-attr]
    assert mdf.claim_life.decide(review(request_id, "returned")) == "returned"
    assert mdf.balance() == (600_000, 400_000, 0, 0)
    returned = mdf.request(request_id)
    assert returned.status == "claimed" and returned.claim is not None and returned.claim.status == "returned"
    # the partner is told once, and the new due date gets its own timer
    for _ in range(2):
        mdf.claim_life.announce_decision(request_id, "returned")
    [mail] = mdf.mailer.to(ANN.email)
    assert mail.subject.startswith("More proof needed")
    assert [m["message_type"] for m in mdf.timers.messages()] == ["MdfClaimReminder", "MdfClaimDeadline"]
    assert all(name.startswith(f"mdf-claimdue-{request_id}-1-c1-") for name in mdf.timers.scheduled)
    refiled = mdf.claims.file_claim(ANN, request_id, claim_body([file_id], 260_000))  # the accepted file kept
    assert refiled.claim is not None and (refiled.claim.round, refiled.claim.status) == (2, "submitted")
    assert mdf.claim_life.decide(review(request_id, "approved", round_=1)) == "stale decision"
    assert mdf.claim_life.decide(review(request_id, "approved", round_=2)) == "paid"
    assert mdf.balance() == (740_000, 0, 260_000, 0)


def test_a_proof_file_that_is_not_what_it_claims_is_deleted_and_nothing_is_filed(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.approve(request_id)
    mdf.clock.now = AFTER_ACTIVITY
    fake_pdf = mdf.upload(request_id, content=b"\x89PNG\r\n\x1a\n....")
    writes = mdf.store.writes
    with pytest.raises(ValidationFailed) as refused:
        mdf.claims.file_claim(ANN, request_id, claim_body([fake_pdf], 1_000))
    [error] = refused.value.errors
    assert error.field == "proof_files.0" and "is not a valid PDF file" in error.message
    assert [key for key, _ in mdf.proofs.deleted] == [mdf.store.upload_items[request_id, fake_pdf].key]
    assert mdf.store.writes == writes and mdf.request(request_id).status == "approved"


# ------------------------------------------------------------------ accrual


def test_accrual_from_a_won_deal_is_booked_once(mdf: Mdf) -> None:
    won = DealWon.occurred(
        at=NOW,
        event_id="evt_won",
        partner_id=PARTNER,
        deal_id="deal_1",
        amount=usd(999_999),
        close_date=date(2026, 11, 20),
    )
    assert mdf.fund_life.accrue(won) == "accrued"
    assert mdf.fund_life.accrue(won) == "duplicate"  # a redelivered DealWon: its guard was booked
    assert mdf.fund_life.accrue(won.model_copy(update={"event_id": "evt_again"})) == "duplicate"
    assert mdf.kinds() == [("allocated", 1_000_000), ("accrued", 24_999)]  # floor(999_999 * 2.5%)
    assert mdf.fund().accrued == 24_999 and len(mdf.store.events("MdfFundsAccrued")) == 1
    assert isinstance(mdf.store.events("MdfFundsAccrued")[0], MdfFundsAccrued)
    outside = won.model_copy(update={"deal_id": "deal_2", "close_date": date(2027, 5, 1)})
    assert mdf.fund_life.accrue(outside) == "not accrued: no period contains 2027-05-01"


def deal_won(amount: int = 1_000_000, *, revision: int = 1, event_id: str = "evt_won") -> DealWon:
    return DealWon.occurred(
        at=NOW,
        event_id=event_id,
        partner_id=PARTNER,
        deal_id="deal_1",
        amount=usd(amount),
        close_date=date(2026, 11, 20),
        win_revision=revision,
    )


def win_reversed(amount: int = 1_000_000, *, revision: int = 1, event_id: str = "evt_reversed") -> DealWinReversed:
    return DealWinReversed.occurred(
        at=NOW,
        event_id=event_id,
        partner_id=PARTNER,
        deal_id="deal_1",
        win_revision=revision,
        reason="The amount was wrong",
        reversed_by="admin@vendor.example",
        previous_amount=usd(amount),
    )


def test_a_reversed_win_takes_its_accrual_back_once_and_the_corrected_win_accrues_the_new_amount(mdf: Mdf) -> None:
    assert mdf.fund_life.accrue(deal_won(1_000_000)) == "accrued"
    assert mdf.fund_life.reverse_accrual(win_reversed()) == "reversed"
    assert mdf.fund_life.reverse_accrual(win_reversed()) == "duplicate"  # redelivered
    assert mdf.fund_life.reverse_accrual(win_reversed(event_id="evt_other")) == "duplicate"
    assert mdf.fund_life.accrue(deal_won(1_000_000)) == "duplicate"  # the reversed win, redelivered
    assert mdf.balance() == (1_000_000, 0, 0, 0)
    assert mdf.fund_life.accrue(deal_won(800_000, revision=2, event_id="evt_won_2")) == "accrued"
    assert mdf.fund_life.accrue(deal_won(800_000, revision=2, event_id="evt_won_2")) == "duplicate"
    assert mdf.kinds() == [
        ("allocated", 1_000_000),
        ("accrued", 25_000),
        ("accrual_reversed", 25_000),
        ("accrued", 20_000),
    ]
    fund = mdf.fund()
    assert (fund.available, fund.accrued, fund.accrual_reversed, fund.clawback_outstanding) == (
        1_020_000,
        45_000,
        25_000,
        0,
    )
    [event] = mdf.store.events("MdfAccrualReversed")
    assert isinstance(event, MdfAccrualReversed) and event.debited == usd(25_000) and event.deal_id == "deal_1"
    assert len(mdf.store.events("MdfFundsAccrued")) == 2


def test_a_reversal_before_its_win_ends_with_the_same_balance(mdf: Mdf) -> None:
    assert mdf.fund_life.reverse_accrual(win_reversed()) == "nothing accrued yet: the win will accrue nothing"
    assert mdf.fund_life.reverse_accrual(win_reversed()) == "duplicate"
    assert mdf.fund_life.accrue(deal_won()) == "not accrued: win 1 was reversed before it arrived"
    assert mdf.fund_life.accrue(deal_won()) == "not accrued: win 1 was reversed before it arrived"
    assert mdf.kinds() == [("allocated", 1_000_000)] and mdf.balance() == (1_000_000, 0, 0, 0)
    assert mdf.store.events("MdfAccrualReversed") == [] and mdf.store.events("MdfFundsAccrued") == []
    assert mdf.fund_life.accrue(deal_won(800_000, revision=2)) == "accrued"  # the corrected win still counts
    assert mdf.balance() == (1_020_000, 0, 0, 0)


def test_a_reversal_racing_its_win_never_loses_either(mdf: Mdf) -> None:
    """The reversal lands between the win's read and its write: the win reads again and sees the tombstone."""
    mdf.store.before_write = lambda: mdf.fund_life.reverse_accrual(win_reversed()) and None
    assert mdf.fund_life.accrue(deal_won()) == "not accrued: win 1 was reversed before it arrived"
    assert mdf.balance() == (1_000_000, 0, 0, 0)
    # and the other way round: a win lands between the reversal's read and its write
    mdf.store.before_write = lambda: mdf.fund_life.accrue(deal_won(revision=2, event_id="evt_2")) and None
    assert mdf.fund_life.reverse_accrual(win_reversed(revision=2, event_id="evt_r2")) == "reversed"
    assert mdf.balance() == (1_000_000, 0, 0, 0) and mdf.fund().accrual_reversed == 25_000


def test_a_reversal_of_money_already_reserved_leaves_an_outstanding_clawback(mdf: Mdf) -> None:
    assert mdf.fund_life.accrue(deal_won()) == "accrued"  # available 1_025_000
    request_id = mdf.submit(1_020_000)
    assert mdf.approve(request_id) == "approved"  # available 5_000
    assert mdf.fund_life.reverse_accrual(win_reversed()) == "reversed with a clawback outstanding"
    fund = mdf.fund()
    assert (fund.available, fund.reserved, fund.clawback_outstanding) == (0, 1_020_000, 20_000)
    [event] = mdf.store.events("MdfAccrualReversed")
    assert isinstance(event, MdfAccrualReversed)
    assert (event.debited, event.shortfall, event.clawback_outstanding) == (usd(5_000), usd(20_000), usd(20_000))


def test_a_first_win_accrued_before_win_records_existed_is_still_booked_once(mdf: Mdf) -> None:
    assert mdf.fund_life.accrue(deal_won()) == "accrued"
    mdf.store.win_items.clear()  # as an accrual booked by the previous release: only its fund guard
    assert mdf.fund_life.accrue(deal_won(event_id="evt_replayed")) == "duplicate"
    assert mdf.kinds() == [("allocated", 1_000_000), ("accrued", 25_000)]


# ------------------------------------------------------------------ timers


def test_claim_timers_for_a_due_date_that_moved_change_nothing(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.approve(request_id)
    due = mdf.request(request_id).claim_due_at
    assert due is not None
    moved = due - timedelta(days=3)
    assert mdf.claim_life.remind(request_id, moved, 7) == "stale timer (the due date moved)"
    assert mdf.claim_life.renew_timer(request_id, moved) == "stale timer (the due date moved)"
    mdf.clock.now = due + timedelta(seconds=1)
    assert mdf.claim_life.deadline(request_id, moved) == "stale timer (the due date moved)"
    assert mdf.mailer.sent == [] and mdf.timers.scheduled == {} and mdf.request(request_id).status == "approved"
    assert mdf.balance() == (600_000, 400_000, 0, 0)
    # the timer for the current due date: early it is retried, at its time the reservation is released once
    mdf.clock.now = due - timedelta(seconds=1)
    with pytest.raises(NotYetDue):
        mdf.claim_life.deadline(request_id, due)
    mdf.clock.now = due
    assert mdf.claim_life.deadline(request_id, due) == "lapsed"
    assert mdf.claim_life.deadline(request_id, due) == "nothing due"
    assert mdf.balance() == (1_000_000, 0, 0, 0) and mdf.request(request_id).status == "lapsed"
    assert mdf.claim_life.remind(request_id, due, 7) == "claim already filed"  # nothing left to claim


def test_a_claim_reminder_is_mailed_while_the_claim_is_due(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.approve(request_id)
    request = mdf.request(request_id)
    [reminder, deadline] = [t.message for t in claim_schedule(request, SETTINGS.claim_reminder_offsets, NOW)]
    assert isinstance(reminder, ClaimReminder) and isinstance(deadline, ClaimDeadline)
    mdf.claim_life.remind(request_id, reminder.claim_due_at, reminder.days_left)
    mdf.claim_life.remind(request_id, reminder.claim_due_at, reminder.days_left)  # timers deliver at least once
    [mail] = mdf.mailer.to(ANN.email)
    assert mail.subject == "MDF claim due in 7 days: Winter roadshow"


def test_fund_expiry_waits_for_the_window_and_warns_only_about_money_left(mdf: Mdf) -> None:
    assert mdf.fund_life.warn_expiry(PARTNER, FUND_ID, 7).startswith("message-")
    mdf.fund_life.warn_expiry(PARTNER, FUND_ID, 7)  # a redelivered warning mails nothing more
    assert len(mdf.mailer.to("ann@partner.example")) == 1
    with pytest.raises(NotYetDue):
        mdf.fund_life.expire_fund(PARTNER, FUND_ID)
    mdf.clock.now = WINDOW_ENDS
    assert mdf.fund_life.expire_fund(PARTNER, FUND_ID) == "expired"
    assert mdf.fund_life.expire_fund(PARTNER, FUND_ID) == "already closed"
    assert mdf.balance() == (0, 0, 0, 1_000_000)
    assert mdf.fund_life.warn_expiry(PARTNER, FUND_ID, 1) == "no warning needed"
    assert mdf.fund_life.start_expiry_timer(PARTNER, FUND_ID) == "no timer: the fund is closed"


def test_a_fund_timer_starts_once_per_fund(mdf: Mdf) -> None:
    first = mdf.fund_life.start_expiry_timer(PARTNER, FUND_ID)
    again = mdf.fund_life.start_expiry_timer(PARTNER, FUND_ID)  # a second credit, or a replayed event
    assert first.startswith("3 of 3") and again.startswith("0 of 3")
    kinds = [m["message_type"] for m in mdf.timers.messages()]
    assert kinds == ["MdfFundExpiryWarning", "MdfFundExpiryWarning", "MdfFundExpiry"]


def test_every_workflow_message_parses_to_its_own_type() -> None:
    timer = {"partner_id": PARTNER, "fund_id": FUND_ID, "claim_window_ends_at": "2027-02-28T00:00:00Z"}
    claim_timer = {"request_id": "mdfreq_1", "claim_due_at": "2027-02-08T23:59:59Z"}
    cases = [
        (
            {"message_type": "MdfRequestDecision", "request_id": "r", "round": 1, "marketing": outcome()},
            RequestDecision,
        ),
        ({"message_type": "MdfClaimDecision", "request_id": "r", "round": 1, "review": outcome()}, ClaimDecision),
        (
            {"message_type": "MdfApprovalExpired", "request_id": "r", "round": 1, "purpose": "request"},
            RequestApprovalExpired,
        ),
        (
            {"message_type": "MdfApprovalExpired", "request_id": "r", "round": 2, "purpose": "claim", "attempt": 1},
            ClaimReviewExpired,
        ),
        ({"message_type": "MdfFundExpiryWarning", **timer, "days_left": 7}, FundExpiryWarning),
        ({"message_type": "MdfFundExpiry", **timer}, FundExpiry),
        ({"message_type": "MdfFundTimerRenewal", **timer}, FundTimerRenewal),
        ({"message_type": "MdfClaimReminder", **claim_timer, "days_left": 7}, ClaimReminder),
        ({"message_type": "MdfClaimDeadline", **claim_timer}, ClaimDeadline),
        ({"message_type": "MdfClaimTimerRenewal", **claim_timer}, ClaimTimerRenewal),
    ]
    for case, kind in cases:
        body = {k: v.model_dump(mode="json") if isinstance(v, Outcome) else v for k, v in case.items()}
        message = workflow_message(body)
        assert type(message) is kind
        assert message.model_dump(mode="json", exclude_defaults=False) | body == message.model_dump(mode="json")
    for bad in ({"message_type": "MdfSomethingElse"}, {**claim_timer, "message_type": "MdfClaimReminder", "x": 1}):
        with pytest.raises(ValueError):
            workflow_message(bad)


# ------------------------------------------------------------------ notices, lapses, restarted reviews


def test_the_partner_is_told_of_a_decision_once(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.approve(request_id)
    assert mdf.request_life.announce_rejection(request_id, 1).startswith("stale")
    for _ in range(3):  # the event delivered again, or replayed from the archive
        mdf.request_life.announce_approval(request_id, 1)
    [mail] = mdf.mailer.to(ANN.email)
    assert mail.subject == "MDF request approved: Winter roadshow"
    assert [m["message_type"] for m in mdf.timers.messages()] == ["MdfClaimReminder", "MdfClaimDeadline"]
    assert mdf.request_life.announce_approval(request_id, 2).startswith("no approval notice")


def test_a_lapsed_request_expires_and_the_partner_is_told(mdf: Mdf) -> None:
    request_id = mdf.submit(400_000)
    mdf.request_life.start_review(request_id, 1)
    lapse = RequestApprovalExpired(request_id=request_id, round=1)
    assert mdf.request_life.lapse(lapse) == "expired"
    assert mdf.request_life.lapse(lapse) == "stale"
    assert mdf.request(request_id).status == "expired"
    [mail] = mdf.mailer.to(ANN.email)
    assert mail.subject == "MDF request not approved: Winter roadshow"


def test_a_lapse_notice_lost_to_a_mail_failure_goes_out_on_the_redelivery_once(
    mdf: Mdf, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = mdf.submit(400_000)
    mdf.request_life.start_review(request_id, 1)
    lapse = RequestApprovalExpired(request_id=request_id, round=1)

    def down(email: Any) -> str:
        raise ConnectionError("SES did not answer")

    with monkeypatch.context() as patched:
        patched.setattr(mdf.mailer, "send", down)
        with pytest.raises(ConnectionError):  # the message fails: SQS delivers it again
            mdf.request_life.lapse(lapse)
    assert mdf.request(request_id).status == "expired"  # saved before the mail failed
    mdf.request_life.lapse(lapse)
    mdf.request_life.lapse(lapse)
    [mail] = mdf.mailer.to(ANN.email)
    assert mail.subject == "MDF request not approved: Winter roadshow"


def test_a_lapsed_claim_review_starts_again_a_few_times_then_needs_operations(mdf: Mdf) -> None:
    request_id = mdf.claimed(250_000)
    mdf.claim_life.start_review(request_id, 1)
    for attempt in (0, 1):
        mdf.claim_life.restart_review(ClaimReviewExpired(request_id=request_id, round=1, attempt=attempt))
    assert mdf.claim_life.restart_review(ClaimReviewExpired(request_id=request_id, round=1, attempt=2)) == (
        "review abandoned: needs operations"
    )
    assert sorted(name for machine, name in mdf.starts.started if machine == CLAIM_MACHINE) == [
        f"mdf-claim-{request_id}-1-{attempt}" for attempt in range(3)
    ]
    mdf.claim_life.decide(review(request_id, "rejected"))
    assert mdf.claim_life.restart_review(ClaimReviewExpired(request_id=request_id, round=1, attempt=0)) == (
        "claim no longer waiting"
    )
    assert mdf.balance() == (1_000_000, 0, 0, 0)


# ------------------------------------------------------------------ periods


def test_periods_added_at_once_never_overlap(mdf: Mdf) -> None:
    def body(period_id: str, starts_on: date) -> PeriodBody:
        return PeriodBody(
            period_id=period_id,
            name=period_id,
            starts_on=starts_on,
            ends_on=date(2027, 3, 31),
            claim_window_ends_at=datetime(2027, 6, 30, tzinfo=UTC),
        )

    # Another vendor admin adds FY27-Q2 between this one's read of the periods and its write: it reads them again.
    mdf.store.before_write = lambda: mdf.funds.add_period(VENDOR, body("FY27-Q2", date(2027, 1, 1)))
    with pytest.raises(Conflict) as refused:
        mdf.funds.add_period(VENDOR, body("FY27-X", date(2027, 1, 15)))
    assert [e.field for e in refused.value.errors] == ["starts_on"]
    assert [p.period_id for p in mdf.funds.periods()] == ["FY27-Q2", PERIOD_ID]


def test_an_allocation_whose_reference_was_booked_already_is_a_conflict_not_a_500(
    mdf: Mdf, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mdf.ports import AlreadyBooked

    def booked(*args: Any, **kwargs: Any) -> None:
        raise AlreadyBooked  # e.g. a retried call whose first attempt had committed

    balance = mdf.balance()
    monkeypatch.setattr(mdf.store, "write", booked)
    with pytest.raises(Conflict) as refused:
        mdf.funds.allocate(VENDOR, AllocationBody(partner_id=PARTNER, period_id=PERIOD_ID, amount=usd(5_000)))
    assert refused.value.code == "already_booked" and mdf.balance() == balance
