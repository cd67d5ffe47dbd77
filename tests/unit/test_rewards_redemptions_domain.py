"""Spending rewards, as pure rules: redeeming (payout minimums, balance, stock), fulfilment and cancellation, finance's
decision with the tax-form hold, batches and their CSV, payment, claim proofs and the claim review."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from itertools import count

import pytest

from contracts.rewards import RedemptionRequested
from rewards.domain import claims, payouts, proofs
from rewards.domain import redemptions as rules
from rewards.domain.ledger import InsufficientBalance
from rewards.models.earning import Account, Campaign, Eligibility, PartnerAt, SpiffClaim
from rewards.models.redemptions import (
    CatalogueItem,
    ClaimBody,
    ClaimDecision,
    ItemRequest,
    PayeeYear,
    PayoutRequest,
    ProofFile,
    Review,
    Upload,
)
from shared import proof_files
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.money import Money

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ids = count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(ids):026d}"


def account(available: int, unit: str = "USD", **more: int) -> Account:
    return Account(partner_id="p1", person_email="ann@example.com", unit=unit, available=available, seq=3, **more)


def payout_request(amount: int, currency: str = "USD") -> PayoutRequest:
    return PayoutRequest(kind="payout", amount=Money(amount_minor=amount, currency=currency))


def item(stock: int = 3, *, active: bool = True, cost: int = 400) -> CatalogueItem:
    return CatalogueItem(
        item_id="item_" + "a" * 26,
        name="Headphones",
        description="Noise cancelling",
        cost_points=cost,
        stock=stock,
        active=active,
        created_by="admin@vendor.example",
        created_at=NOW,
        updated_at=NOW,
    )


def payout(amount: int = 10_000, **changes: object) -> rules.Redemption:
    change = rules.redeem_payout(
        account(50_000),
        payout_request(amount),
        partner_id="p1",
        person="ann@example.com",
        minimum=1000,
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None
    return change.redemption.model_copy(update=changes)


def review(decision: str, reason: str | None = None) -> Review:
    return Review.model_validate({"decision": decision, "decided_by": "finance@vendor.example", "reason": reason})


def year(approved: int = 0) -> PayeeYear:
    return PayeeYear(partner_id="p1", person="ann@example.com", year=2026, currency="USD", approved_minor=approved)


# ------------------------------------------------------------------ redeeming
def test_a_payout_reserves_the_amount_and_asks_for_approval() -> None:
    change = rules.redeem_payout(
        account(5000),
        payout_request(3000),
        partner_id="p1",
        person="ann@example.com",
        minimum=1000,
        now=NOW,
        new_id=new_id,
    )
    assert change.account is not None and change.redemption is not None
    assert (change.account.available, change.account.reserved, change.account_seq) == (2000, 3000, 3)
    assert [e.kind for e in change.entries] == ["redeemed"]
    assert change.redemption.status == "requested" and change.redemption.kind == "payout"
    (event,) = change.events
    assert isinstance(event, RedemptionRequested) and event.amount.model_dump() == {"amount": 3000, "unit": "USD"}


@pytest.mark.parametrize(
    ("amount", "currency", "minimum", "field"),
    [(999, "USD", 1000, "amount.amount_minor"), (5000, "EUR", None, "amount.currency")],
)
def test_a_payout_below_the_minimum_or_in_a_currency_not_paid_is_refused_naming_the_field(
    amount: int, currency: str, minimum: int | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.redeem_payout(
            account(50_000, currency),
            payout_request(amount, currency),
            partner_id="p1",
            person="ann@example.com",
            minimum=minimum,
            now=NOW,
            new_id=new_id,
        )
    assert [e.field for e in refused.value.errors] == [field]


@pytest.mark.parametrize("available", [2999, -500, None])
def test_more_than_is_available_is_refused_and_a_negative_balance_blocks_redeeming(available: int | None) -> None:
    with pytest.raises(InsufficientBalance) as refused:
        rules.redeem_payout(
            None if available is None else account(available),
            payout_request(3000),
            partner_id="p1",
            person="ann@example.com",
            minimum=1000,
            now=NOW,
            new_id=new_id,
        )
    assert refused.value.errors[0].field == "amount"


def test_an_item_costs_its_points_and_takes_one_of_its_stock() -> None:
    change = rules.redeem_item(
        account(1000, "points"),
        item(),
        ItemRequest(kind="item", item_id="item_" + "a" * 26),
        partner_id="p1",
        person="ann@example.com",
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None and change.account is not None
    assert (change.redemption.unit, change.redemption.amount, change.stock_delta) == ("points", 400, -1)
    assert change.account.reserved == 400


def test_an_item_out_of_stock_is_a_conflict_naming_the_item_and_a_withdrawn_one_is_not_found() -> None:
    body = ItemRequest(kind="item", item_id="item_" + "a" * 26)
    with pytest.raises(rules.OutOfStock) as refused:
        rules.redeem_item(
            account(1000, "points"), item(0), body, partner_id="p1", person="a@b.co", now=NOW, new_id=new_id
        )
    assert refused.value.code == "out_of_stock" and refused.value.errors[0].field == "item_id"
    with pytest.raises(NotFound):
        rules.redeem_item(
            account(1000, "points"), item(active=False), body, partner_id="p1", person="a@b.co", now=NOW, new_id=new_id
        )


def test_fulfilling_spends_the_points_and_cancelling_releases_them_once() -> None:
    change = rules.redeem_item(
        account(1000, "points"),
        item(),
        ItemRequest(kind="item", item_id="item_" + "a" * 26),
        partner_id="p1",
        person="ann@example.com",
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None and change.account is not None
    done = rules.fulfil(change.redemption, change.account, by="admin@v.example", now=NOW, new_id=new_id)
    assert done.account is not None and (done.account.reserved, done.account.paid) == (0, 400)
    assert done.redemption is not None and done.redemption.status == "fulfilled"
    with pytest.raises(Conflict):
        rules.cancel(done.redemption, done.account, reason="late", by="admin@v.example", now=NOW, new_id=new_id)
    assert rules.fulfil(done.redemption, done.account, by="a", now=NOW, new_id=new_id).redemption is None
    undone = rules.cancel(
        change.redemption, change.account, reason="discontinued", by="a@v.example", now=NOW, new_id=new_id
    )
    assert undone.account is not None and (undone.account.available, undone.account.reserved) == (1000, 0)
    assert undone.stock_delta == 1 and undone.events[0].DETAIL_TYPE == "RedemptionCancelled"
    assert undone.redemption is not None and [h.status for h in undone.redemption.history] == ["requested", "cancelled"]
    assert rules.cancel(undone.redemption, account(0), reason="x", by="a", now=NOW, new_id=new_id).outcome == (
        "already cancelled"
    )


# ------------------------------------------------------------------ finance's decision and the tax form
def test_finance_approval_counts_the_payout_in_the_payees_year() -> None:
    change = rules.decide_payout(
        payout(),
        account(0, reserved=10_000),
        year(),
        review("approved"),
        form_on_file=False,
        threshold=60_000,
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None and change.redemption.status == "approved"
    assert change.year is not None and change.year.approved_minor == 10_000
    assert [e.DETAIL_TYPE for e in change.events] == ["PayoutApproved"] and change.account is None


@pytest.mark.parametrize(
    ("form", "approved_before", "threshold", "status"),
    [
        (False, 50_000, 60_000, "on_hold"),  # 50,000 + 10,001 > 60,000
        (False, 49_999, 60_000, "approved"),  # exactly at the threshold is fine
        (True, 500_000, 60_000, "approved"),  # a form on file: no limit
        (False, 0, None, "on_hold"),  # no threshold for the currency: always the form
    ],
)
def test_a_payout_over_the_yearly_threshold_without_a_tax_form_is_held(
    form: bool, approved_before: int, threshold: int | None, status: str
) -> None:
    change = rules.decide_payout(
        payout(10_001),
        None,
        year(approved_before),
        review("approved"),
        form_on_file=form,
        threshold=threshold,
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None and change.redemption.status == status
    if status == "on_hold":
        assert change.redemption.status_reason == payouts.TAX_FORM_REQUIRED and change.year is None
        assert change.events[0].DETAIL_TYPE == "PayoutHeld"


def test_rejection_releases_the_amount_with_the_reason_and_a_second_decision_changes_nothing() -> None:
    change = rules.decide_payout(
        payout(),
        account(0, reserved=10_000),
        year(),
        review("rejected", "duplicate request"),
        form_on_file=True,
        threshold=None,
        now=NOW,
        new_id=new_id,
    )
    assert change.redemption is not None and change.redemption.status == "rejected"
    assert change.redemption.status_reason == "duplicate request"
    assert change.account is not None and (change.account.available, change.account.reserved) == (10_000, 0)
    again = rules.decide_payout(
        change.redemption,
        change.account,
        year(),
        review("approved"),
        form_on_file=True,
        threshold=None,
        now=NOW,
        new_id=new_id,
    )
    assert again.redemption is None and again.outcome.startswith("stale")


def test_a_lapsed_approval_releases_the_payout() -> None:
    change = rules.payout_lapsed(payout(), account(0, reserved=10_000), now=NOW, new_id=new_id)
    assert change.redemption is not None and change.redemption.status == "expired"
    assert change.account is not None and change.account.available == 10_000


def test_a_tax_form_releases_a_held_payout_to_approved_once() -> None:
    held = payout(status="on_hold", status_reason=payouts.TAX_FORM_REQUIRED)
    change = rules.release_hold(held, year(), by="admin@v.example", now=NOW, new_id=new_id)
    assert change.redemption is not None and change.redemption.status == "approved"
    assert change.year is not None and change.year.approved_minor == 10_000
    assert rules.release_hold(change.redemption, year(), by="x", now=NOW, new_id=new_id).redemption is None


def test_paying_a_batched_payout_spends_the_reservation_once() -> None:
    batched = payout(status="approved", batch_id="batch_1")
    change = rules.mark_paid(batched, account(0, reserved=10_000), "batch_1", by="f@v.example", now=NOW, new_id=new_id)
    assert change.account is not None and (change.account.reserved, change.account.paid) == (0, 10_000)
    assert change.events[0].DETAIL_TYPE == "PayoutPaid"
    assert change.redemption is not None
    assert rules.mark_paid(change.redemption, change.account, "batch_1", by="f", now=NOW, new_id=new_id).outcome == (
        "already paid"
    )
    with pytest.raises(Conflict):
        rules.mark_paid(batched, account(0, reserved=10_000), "batch_2", by="f", now=NOW, new_id=new_id)


# ------------------------------------------------------------------ batches and their CSV
def test_the_batch_file_has_one_row_per_payee_and_currency_and_quotes_formulas() -> None:
    mine = [
        payout(1000, redemption_id="rdm_b", person="ann@example.com"),
        payout(2500, redemption_id="rdm_a", person="ann@example.com"),
        payout(1700, redemption_id="rdm_c", person="=cmd@example.com"),
        payout(1300, redemption_id="rdm_d", person="ann@example.com", unit="EUR"),
    ]
    rows = payouts.payout_rows(mine, {"p1": "+Acme Ltd"})
    assert [(r.person, r.currency, r.total_minor, r.count, r.payout_ids) for r in rows] == [
        ("=cmd@example.com", "USD", 1700, 1, ["rdm_c"]),
        ("ann@example.com", "EUR", 1300, 1, ["rdm_d"]),
        ("ann@example.com", "USD", 3500, 2, ["rdm_a", "rdm_b"]),
    ]
    table = list(csv.reader(io.StringIO(payouts.batch_csv(rows))))
    assert table[0] == payouts.CSV_COLUMNS
    assert table[1][:3] == ["p1", "'+Acme Ltd", "'=cmd@example.com"]
    assert table[3] == ["p1", "'+Acme Ltd", "ann@example.com", "USD", "35.00", "3500", "2", "rdm_a rdm_b"]
    assert [m.model_dump() for m in payouts.batch_totals(rows)] == [
        {"amount_minor": 1300, "currency": "EUR"},
        {"amount_minor": 5200, "currency": "USD"},
    ]


# ------------------------------------------------------------------ claim proofs
def upload(content_type: str) -> Upload:
    return Upload(
        file_id="file_" + "b" * 26,
        partner_id="p1",
        person="a@b.co",
        key="claims/p1/f/x",
        file_name="x",
        content_type=content_type,
        size_bytes=10,
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("declared", "stored", "head", "problem"),
    [
        ("application/pdf", "application/pdf", b"%PDF-1.7 ...", None),
        ("image/png", "image/png", b"\x89PNG\r\n\x1a\n....", None),
        ("image/jpeg", "image/jpeg", b"\xff\xd8\xff\xe0", None),
        ("application/pdf", "application/pdf", b"MZ\x90\x00 an executable", "is not a valid PDF file"),
        ("image/png", "image/jpeg", b"\xff\xd8\xff", "was uploaded as image/jpeg, not image/png"),
    ],
)
def test_a_proof_is_checked_by_its_first_bytes_not_its_declared_type(
    declared: str, stored: str, head: bytes, problem: str | None
) -> None:
    found = proof_files.proof_problem(upload(declared), size=len(head), content_type=stored, head=head, max_bytes=1000)
    assert found == problem


def test_a_proof_file_name_cannot_escape_its_key() -> None:
    assert proofs.proof_key("p1", "file_x", "../../etc/passwd") == "claims/p1/file_x/etc_passwd"


# ------------------------------------------------------------------ claims
def campaign(**changes: object) -> Campaign:
    base = Campaign(
        campaign_id="cmp_spring1",
        name="Spring SPIFF",
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 6, 30),
        unit="points",
        eligibility=Eligibility(),
        budget=100_000,
        rules=[
            SpiffClaim(kind="spiff_claim", rule_id="r1", amount=250, description="Run a demo day"),
        ],
        created_by="admin@v.example",
        created_at=NOW,
        updated_at=NOW,
    )
    return base.model_copy(update=changes)


PARTNER = PartnerAt(partner_id="p1", region="EMEA", partner_type="reseller", tier_id="gold")


def test_a_claim_needs_a_spiff_rule_of_a_running_campaign_open_to_the_partner() -> None:
    assert claims.spiff_rule(campaign(), "r1", PARTNER, NOW).amount == 250
    with pytest.raises(NotFound):
        claims.spiff_rule(None, "r1", PARTNER, NOW)
    with pytest.raises(ValidationFailed) as refused:
        claims.spiff_rule(campaign(), "r9", PARTNER, NOW)
    assert refused.value.errors[0].field == "rule_id"
    with pytest.raises(Conflict) as closed:
        claims.spiff_rule(campaign(ends_on=date(2026, 5, 31)), "r1", PARTNER, NOW)
    assert closed.value.code == "campaign_not_running"
    with pytest.raises(Conflict) as ineligible:
        claims.spiff_rule(campaign(eligibility=Eligibility(regions=["APAC"])), "r1", PARTNER, NOW)
    assert ineligible.value.code == "not_eligible"


def filed() -> claims.Claim:
    body = ClaimBody(
        campaign_id="cmp_spring1", rule_id="r1", description="Demo day with 40 guests", proof_files=["file_" + "b" * 26]
    )
    proof = ProofFile(
        file_id="file_" + "b" * 26, file_name="x.pdf", content_type="application/pdf", size_bytes=9, key="k"
    )
    return claims.file_claim(campaign(), campaign().rules[0], body, [proof], partner_id="p1", person="a@b.co", now=NOW)  # type: ignore[arg-type]


def decision(verdict: str, round_: int = 1, reason: str | None = None) -> ClaimDecision:
    return ClaimDecision(claim_id="clm_x", round=round_, review=review(verdict, reason))


def test_the_claim_id_is_the_same_for_the_same_person_and_files_whatever_their_order() -> None:
    assert claims.claim_id("p1", "a@b.co", ["f1", "f2"]) == claims.claim_id("p1", "a@b.co", ["f2", "f1"])
    assert claims.claim_id("p1", "a@b.co", ["f1"]) != claims.claim_id("p1", "b@b.co", ["f1"])


def test_an_approved_claim_earns_once_and_a_repeat_asks_again_without_changing_it() -> None:
    change = claims.decide(filed(), decision("approved"), now=NOW)
    assert change.claim is not None and change.claim.status == "approved" and change.earn and change.mail
    repeat = claims.decide(change.claim, decision("approved"), now=NOW)
    assert repeat.claim is None and repeat.earn  # earning is idempotent: a crash between the writes loses nothing
    assert claims.decide(change.claim, decision("rejected"), now=NOW).earn is False
    assert claims.decide(filed(), decision("approved", round_=2), now=NOW).outcome == "stale round"


def test_a_returned_claim_takes_more_proof_as_a_new_round_and_a_declined_one_does_not() -> None:
    returned = claims.decide(filed(), decision("returned", reason="Add the attendee list"), now=NOW).claim
    assert returned is not None and (returned.status, returned.status_reason) == ("returned", "Add the attendee list")
    again = claims.resubmit(
        returned, returned.proof_files, "With list", by="a@b.co", campaign=campaign(), partner=PARTNER, now=NOW
    )
    assert (again.status, again.round, again.description) == ("submitted", 2, "With list")
    declined = claims.decide(again, decision("rejected", round_=2, reason="Not a demo"), now=NOW).claim
    assert declined is not None and declined.status == "declined" and declined.status_reason == "Not a demo"
    with pytest.raises(Conflict):
        claims.resubmit(declined, [], None, by="a@b.co", campaign=campaign(), partner=PARTNER, now=NOW)


def test_a_claim_returned_too_often_is_declined_instead() -> None:
    claim = filed().model_copy(update={"round": claims.MAX_ROUNDS})
    change = claims.decide(claim, decision("returned", round_=claims.MAX_ROUNDS), now=NOW)
    assert change.claim is not None and change.claim.status == "declined"
