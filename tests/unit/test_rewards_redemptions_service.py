"""Spending rewards on fakes: redeeming one's own balance, vendor fulfilment, finance's approval with the tax-form hold,
batches and payment (idempotent), and SPIFF claims from proof upload to the reward (helper B's use cases)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from contracts.rewards import RewardClaimSubmitted
from rewards.domain import payouts
from rewards.models.earning import Campaign, Eligibility, PartnerAt, SpiffClaim
from rewards.models.redemptions import (
    CatalogueItemBody,
    CatalogueItemPatch,
    ClaimBody,
    ClaimDecision,
    ClaimReviewExpired,
    ItemRequest,
    PayoutApprovalExpired,
    PayoutDecision,
    PayoutRequest,
    Redemption,
    ResubmitBody,
    Review,
    TaxFormBody,
    UploadBody,
)
from rewards.repository.redemptions import HELD, redemption_item
from rewards.service.claim_lifecycle import ClaimLifecycle
from rewards.service.claims import ClaimsService
from rewards.service.payout_lifecycle import PayoutLifecycle
from rewards.service.payouts import PayoutsService
from rewards.service.redemptions import RedemptionsService
from shared.clock import iso
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.money import Money
from shared.principal import Principal
from tests.support.fakes import FakeMailer, FakeSideEffects
from tests.support.fakes_rewards_redemptions import (
    FakeApprovals,
    FakeEarner,
    FakePayoutFiles,
    FakeProofStorage,
    FakeRedemptionStore,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ANN = Principal(sub="u-ann", email="ann@example.com", name="Ann", partner_id="p1", groups=frozenset({"partner-user"}))
BOB = Principal(sub="u-bob", email="bob@example.com", name="Bob", partner_id="p1", groups=frozenset({"partner-admin"}))
EVE = Principal(sub="u-eve", email="eve@other.example", name="Eve", partner_id="p2", groups=frozenset({"partner-user"}))
ADMIN = Principal(
    sub="u-adm", email="admin@vendor.example", name="Admin", partner_id=None, groups=frozenset({"vendor-admin"})
)
FINANCE = Review(decision="approved", decided_by="finance@vendor.example")


class World:
    def __init__(self) -> None:
        ids = count(1)
        self.new_id = lambda prefix: f"{prefix}_{next(ids):026d}"
        self.store = FakeRedemptionStore()
        self.files = FakePayoutFiles()
        self.approvals = FakeApprovals()
        self.mailer = FakeMailer()
        self.effects = FakeSideEffects()
        self.proofs = FakeProofStorage()
        self.earner = FakeEarner()
        common = {"repository": self.store, "clock": lambda: NOW, "new_id": self.new_id}
        self.redemptions = RedemptionsService(**common, payout_minimums={"USD": 1000})  # type: ignore[arg-type]
        self.payouts = PayoutsService(**common, files=self.files, tax_thresholds={"USD": 60_000})  # type: ignore[arg-type]
        self.lifecycle = PayoutLifecycle(
            **common,  # type: ignore[arg-type]
            tax_thresholds={"USD": 60_000},
            approvals=self.approvals,
            mailer=self.mailer,
            effects=self.effects,
            portal_url="http://portal.test",
        )
        self.claims = ClaimsService(**common, proofs=self.proofs, max_bytes=10_000)  # type: ignore[arg-type]
        self.claim_lifecycle = ClaimLifecycle(
            **common,  # type: ignore[arg-type]
            reviews=self.approvals,
            earner=self.earner,
            mailer=self.mailer,
            effects=self.effects,
            portal_url="http://portal.test",
        )

    def claim_events(self, claim_id: str) -> list[RewardClaimSubmitted]:
        return [e for e in self.store.events("RewardClaimSubmitted") if e.claim_id == claim_id]

    def start_reviews(self, claim_id: str) -> list[str]:
        """The consumer's part: every RewardClaimSubmitted of the claim in the outbox delivered (again) to it."""
        return [self.claim_lifecycle.start_review(e) for e in self.claim_events(claim_id)]

    def payout(self, who: Principal, amount: int) -> str:
        redemption = self.redemptions.redeem(
            who, PayoutRequest(kind="payout", amount=Money(amount_minor=amount, currency="USD"))
        )
        (event,) = [e for e in self.store.events("RedemptionRequested") if e.redemption_id == redemption.redemption_id]
        self.lifecycle.start_approval(event)
        return redemption.redemption_id


@pytest.fixture
def world() -> World:
    return World()


# ------------------------------------------------------------------ catalogue and items
def test_a_vendor_admin_keeps_the_catalogue_and_partners_see_active_items(world: World) -> None:
    body = CatalogueItemBody(name="Headphones", description="Noise cancelling", cost_points=400, stock=1)
    with pytest.raises(Forbidden):
        world.redemptions.add_item(ANN, body)
    item = world.redemptions.add_item(ADMIN, body)
    hidden = world.redemptions.add_item(ADMIN, body.model_copy(update={"name": "Old mug"}))
    world.redemptions.update_item(ADMIN, hidden.item_id, CatalogueItemPatch(active=False))
    assert [i.name for i in world.redemptions.catalogue(ANN)] == ["Headphones"]
    assert len(world.redemptions.catalogue(ADMIN)) == 2
    with pytest.raises(ValidationFailed):
        world.redemptions.update_item(ADMIN, item.item_id, CatalogueItemPatch())


def test_the_last_item_goes_to_one_person_and_the_next_is_told_it_is_out_of_stock(world: World) -> None:
    item = world.redemptions.add_item(
        ADMIN, CatalogueItemBody(name="Headphones", description="Noise cancelling", cost_points=400, stock=1)
    )
    world.store.fund("p1", "ann@example.com", "points", 1000)
    world.store.fund("p1", "bob@example.com", "points", 1000)
    mine = world.redemptions.redeem(ANN, ItemRequest(kind="item", item_id=item.item_id))
    assert world.store.catalogue[item.item_id].stock == 0
    with pytest.raises(Conflict) as refused:
        world.redemptions.redeem(BOB, ItemRequest(kind="item", item_id=item.item_id))
    assert refused.value.code == "out_of_stock" and refused.value.errors[0].field == "item_id"
    assert world.store.accounts["p1", "bob@example.com", "points"].available == 1000  # nothing booked
    done = world.redemptions.fulfil(ADMIN, mine.redemption_id)
    assert done.status == "fulfilled"
    assert world.redemptions.fulfil(ADMIN, mine.redemption_id) == done  # a repeat changes nothing
    assert world.store.accounts["p1", "ann@example.com", "points"].paid == 400
    with pytest.raises(Conflict):
        world.redemptions.cancel(ADMIN, mine.redemption_id, "too late")


def test_a_lost_race_on_the_account_is_retried_and_only_vendor_admins_settle(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 5000)
    world.store.fail_next_write = 2
    redemption = world.redemptions.redeem(
        ANN, PayoutRequest(kind="payout", amount=Money(amount_minor=2000, currency="USD"))
    )
    account = world.store.accounts["p1", "ann@example.com", "USD"]
    assert (account.available, account.reserved, len(world.store.entries)) == (3000, 2000, 1)
    with pytest.raises(Forbidden):
        world.redemptions.cancel(ANN, redemption.redemption_id, "changed my mind")
    with pytest.raises(Forbidden):
        world.redemptions.redeem(ADMIN, PayoutRequest(kind="payout", amount=Money(amount_minor=2000, currency="USD")))


def test_people_see_their_own_redemptions_admins_their_organisations_and_others_nothing(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 5000)
    redemption_id = world.payout(ANN, 2000)
    assert world.redemptions.redemption(ANN, redemption_id).redemption_id == redemption_id
    assert world.redemptions.redemption(BOB, redemption_id).person == "ann@example.com"
    with pytest.raises(NotFound):
        world.redemptions.redemption(EVE, redemption_id)
    mine, _ = world.redemptions.redemptions(ANN, kind=None, status=None, limit=10, cursor=None)
    assert [r.redemption_id for r in mine] == [redemption_id]
    waiting, _ = world.redemptions.redemptions(ADMIN, kind="payout", status="requested", limit=10, cursor=None)
    assert [r.redemption_id for r in waiting] == [redemption_id]
    with pytest.raises(ValidationFailed):
        world.redemptions.redemptions(ADMIN, kind="payout", status="paid", limit=10, cursor=None)


# ------------------------------------------------------------------ payouts: approval, tax form, batch, payment
def test_a_payout_goes_from_request_to_paid_and_the_payee_is_mailed_once(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 50_000)
    world.store.forms["p1"] = world.payouts.record_tax_form(
        ADMIN, "p1", TaxFormBody(reference="W-9 2026", received_on=date(2026, 1, 5))
    )[0]
    redemption_id = world.payout(ANN, 20_000)
    assert world.approvals.payouts == {f"payout-{redemption_id}": (0, True)}
    assert world.lifecycle.decide(PayoutDecision(redemption_id=redemption_id, review=FINANCE)) == "approved"
    assert world.lifecycle.decide(PayoutDecision(redemption_id=redemption_id, review=FINANCE)).startswith("stale")

    batch = world.payouts.create_batch(ADMIN)
    assert batch.status == "ready" and batch.payout_ids == [redemption_id]
    assert batch.key is not None
    rows = list(csv.reader(io.StringIO(world.files.files[batch.key])))
    assert rows[1][2:7] == ["ann@example.com", "USD", "200.00", "20000", "1"]
    with pytest.raises(Conflict) as empty:
        world.payouts.create_batch(ADMIN)
    assert empty.value.code == "no_payouts"

    paid = world.payouts.mark_paid(ADMIN, batch.batch_id)
    assert paid.status == "paid"
    account = world.store.accounts["p1", "ann@example.com", "USD"]
    assert (account.available, account.reserved, account.paid) == (30_000, 0, 20_000)
    assert world.payouts.mark_paid(ADMIN, batch.batch_id).status == "paid"  # a repeat changes nothing
    (event,) = world.store.events("PayoutPaid")
    assert [e.kind for e in world.store.entries] == ["redeemed", "paid"]
    world.lifecycle.announce_paid(event)
    world.lifecycle.announce_paid(event)
    (mail,) = world.mailer.to("ann@example.com")
    assert "200.00 USD" in mail.subject


def test_an_interrupted_payment_is_finished_by_a_repeat(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 50_000)
    world.store.fund("p1", "bob@example.com", "USD", 50_000)
    world.store.forms["p1"] = world.payouts.record_tax_form(
        ADMIN, "p1", TaxFormBody(reference="W-9", received_on=date(2026, 1, 5))
    )[0]
    first, second = world.payout(ANN, 1000), world.payout(BOB, 2000)
    for redemption_id in (first, second):
        world.lifecycle.decide(PayoutDecision(redemption_id=redemption_id, review=FINANCE))
    batch = world.payouts.create_batch(ADMIN)
    world.payouts._pay(first, batch.batch_id, ADMIN.email)  # the first call stopped after one payout
    world.payouts.mark_paid(ADMIN, batch.batch_id)
    assert len(world.store.events("PayoutPaid")) == 2
    assert world.store.accounts["p1", "ann@example.com", "USD"].paid == 1000


def test_a_batch_left_half_built_is_finished_by_the_next_request(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 50_000)
    world.store.forms["p1"] = world.payouts.record_tax_form(
        ADMIN, "p1", TaxFormBody(reference="W-9", received_on=date(2026, 1, 5))
    )[0]
    payout_id = world.payout(ANN, 5000)
    world.lifecycle.decide(PayoutDecision(redemption_id=payout_id, review=FINANCE))
    started = world.redemptions.clock() - timedelta(minutes=5)
    broken = payouts.new_batch("batch_interrupted", by=ADMIN.email, now=started)  # crashed after taking its payouts
    world.store.save_batch(broken)
    world.store.claim_payouts(broken.batch_id, [world.store.stored[payout_id]])
    finished = world.payouts.create_batch(ADMIN)
    assert (finished.batch_id, finished.status, finished.payout_ids) == ("batch_interrupted", "ready", [payout_id])
    assert finished.key is not None and payout_id in world.files.files[finished.key]
    with pytest.raises(Conflict):
        world.payouts.create_batch(ADMIN)  # nothing else waits


def test_without_a_tax_form_a_payout_over_the_threshold_is_held_until_the_form_is_recorded(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 100_000)
    small = world.payout(ANN, 50_000)
    world.lifecycle.decide(PayoutDecision(redemption_id=small, review=FINANCE))
    large = world.payout(ANN, 20_000)  # 50,000 + 20,000 > 60,000 this year
    assert world.approvals.payouts[f"payout-{large}"] == (50_000, False)
    assert world.lifecycle.decide(PayoutDecision(redemption_id=large, review=FINANCE)) == "on_hold"
    held = world.store.stored[large]
    assert (held.status, held.status_reason) == ("on_hold", "tax form required")
    (notice,) = world.store.events("PayoutHeld")
    world.lifecycle.announce_held(notice)
    assert "on hold" in world.mailer.to("ann@example.com")[0].subject

    world.store.names["p1"] = "Acme Ltd"
    listed, names, more = world.payouts.payouts(ADMIN, status="on_hold", limit=20, cursor=None)
    assert [p.redemption_id for p in listed] == [large] and names == {"p1": "Acme Ltd"} and more is None
    approved, _, _ = world.payouts.payouts(ADMIN, status="approved", limit=20, cursor=None)
    assert [p.redemption_id for p in approved] == [small]
    with pytest.raises(Forbidden):
        world.payouts.payouts(BOB, status="on_hold", limit=20, cursor=None)
    with pytest.raises(ValidationFailed) as bad:
        world.payouts.payouts(ADMIN, status="paid", limit=20, cursor=None)
    assert [e.field for e in bad.value.errors] == ["status"]

    batch = world.payouts.create_batch(ADMIN)
    assert batch.payout_ids == [small]  # the held one waits
    with pytest.raises(Forbidden):
        world.payouts.record_tax_form(BOB, "p1", TaxFormBody(reference="W-9", received_on=date(2026, 6, 1)))
    form, released = world.payouts.record_tax_form(
        ADMIN, "p1", TaxFormBody(reference="W-9", received_on=date(2026, 6, 1))
    )
    assert form.reference == "W-9" and [r.redemption_id for r in released] == [large]
    assert world.store.stored[large].status == "approved"
    assert world.store.years["p1", "ann@example.com", 2026, "USD"].approved_minor == 70_000
    assert world.payouts.create_batch(ADMIN).payout_ids == [large]
    assert world.payouts.payouts(ADMIN, status="on_hold", limit=20, cursor=None)[0] == []


def test_held_payouts_are_one_list_ordered_by_partner_so_one_partners_are_a_key_prefix() -> None:
    at = NOW
    held = [
        Redemption(
            redemption_id=f"rdm_{n}",
            partner_id=partner,
            person="ann@example.com",
            kind="payout",
            unit="USD",
            amount=1000,
            status="on_hold",
            status_reason="tax form required",
            status_at=at + timedelta(minutes=n),
            requested_at=at,
        )
        for n, partner in enumerate(["p2", "p1", "p2"])
    ]
    items = [redemption_item(r) for r in held]
    assert {i["gsi2pk"] for i in items} == {HELD}
    assert sorted(i["gsi2sk"] for i in items)[0].startswith("p1#")
    assert [i["gsi2sk"].startswith("p2#") for i in items] == [True, False, True]
    approved = redemption_item(held[0].model_copy(update={"status": "approved", "status_reason": None}))
    assert (approved["gsi2pk"], approved["gsi2sk"]) == ("REDEMPTIONS#payout#approved", f"{iso(at)}#rdm_0")


def test_a_rejected_or_lapsed_payout_is_available_again(world: World) -> None:
    world.store.fund("p1", "ann@example.com", "USD", 10_000)
    rejected, lapsed = world.payout(ANN, 4000), world.payout(ANN, 6000)
    world.lifecycle.decide(
        PayoutDecision(
            redemption_id=rejected,
            review=Review(decision="rejected", decided_by="f@v.example", reason="Bank details missing"),
        )
    )
    assert world.lifecycle.lapsed(PayoutApprovalExpired(redemption_id=lapsed)) == "expired"
    account = world.store.accounts["p1", "ann@example.com", "USD"]
    assert (account.available, account.reserved) == (10_000, 0)
    reasons = [e.reason for e in world.store.events("RedemptionCancelled")]
    assert reasons[0] == "Bank details missing" and "did not decide" in reasons[1]


# ------------------------------------------------------------------ claims
PDF = b"%PDF-1.7\n...proof..."
CAMPAIGN = Campaign(
    campaign_id="cmp_spring1",
    name="Spring SPIFF",
    starts_on=date(2026, 5, 1),
    ends_on=date(2026, 6, 30),
    unit="points",
    eligibility=Eligibility(regions=["EMEA"]),
    budget=100_000,
    rules=[SpiffClaim(kind="spiff_claim", rule_id="r1", amount=250, description="Run a demo day")],
    created_by="admin@vendor.example",
    created_at=NOW,
    updated_at=NOW,
)


def uploaded(world: World, who: Principal, body: bytes = PDF, content_type: str = "application/pdf") -> str:
    answer = world.claims.create_upload(
        who, UploadBody(file_name="proof.pdf", content_type=content_type, size_bytes=len(body))
    )
    file_id = str(answer["file_id"])
    world.proofs.put(world.store.stored_uploads[file_id].key, body, content_type)
    return file_id


@pytest.fixture
def claiming(world: World) -> World:
    world.store.campaigns[CAMPAIGN.campaign_id] = CAMPAIGN
    world.store.partners["p1"] = PartnerAt(partner_id="p1", region="EMEA", partner_type="reseller")
    return world


def claim_body(file_ids: list[str]) -> ClaimBody:
    return ClaimBody(campaign_id="cmp_spring1", rule_id="r1", description="Demo day, 40 guests", proof_files=file_ids)


def test_a_claim_with_a_file_that_is_not_what_it_says_is_refused_and_the_file_deleted(claiming: World) -> None:
    good, bad = uploaded(claiming, ANN), uploaded(claiming, ANN, b"MZ\x90 not a pdf")
    with pytest.raises(ValidationFailed) as refused:
        claiming.claims.file_claim(ANN, claim_body([good, bad]))
    assert [e.field for e in refused.value.errors] == ["proof_files.1"]
    assert "is not a valid PDF file" in refused.value.errors[0].message
    assert claiming.proofs.deleted == [claiming.store.stored_uploads[bad].key]
    assert claiming.store.stored_claims == {} and claiming.approvals.reviews == {}
    with pytest.raises(ValidationFailed):  # another person's upload is unknown
        claiming.claims.file_claim(BOB, claim_body([good]))


def test_a_claim_outside_its_campaign_or_by_an_ineligible_partner_is_refused(claiming: World) -> None:
    claiming.store.partners["p2"] = PartnerAt(partner_id="p2", region="APAC")
    with pytest.raises(Conflict) as refused:
        claiming.claims.file_claim(EVE, claim_body([uploaded(claiming, EVE)]))
    assert refused.value.code == "not_eligible"
    claiming.store.campaigns["cmp_spring1"] = CAMPAIGN.model_copy(update={"ends_on": date(2026, 5, 31)})
    with pytest.raises(Conflict) as closed:
        claiming.claims.file_claim(ANN, claim_body([uploaded(claiming, ANN)]))
    assert closed.value.code == "campaign_not_running"


def test_a_filed_claim_is_saved_in_review_with_its_event_and_the_review_starts_from_the_event_once(
    claiming: World,
) -> None:
    file_id = uploaded(claiming, ANN)
    claim = claiming.claims.file_claim(ANN, claim_body([file_id]))
    assert claiming.approvals.reviews == {}  # the request starts no workflow: nothing there can fail the POST
    claiming.claims.file_claim(ANN, claim_body([file_id]))  # a retry writes no second event
    (event,) = claiming.claim_events(claim.claim_id)
    assert (event.partner_id, event.person_email, event.round) == ("p1", "ann@example.com", 1)
    assert (event.campaign_id, event.rule_id, event.amount.amount, event.amount.unit) == (
        "cmp_spring1",
        "r1",
        250,
        "points",
    )
    assert claiming.store.stored_claims[claim.claim_id].status == "submitted"
    assert claiming.claim_lifecycle.start_review(event) == f"claim-{claim.claim_id}-1-0"
    assert claiming.claim_lifecycle.start_review(event) == "already started"  # redelivered: one execution
    assert list(claiming.approvals.reviews) == [f"claim-{claim.claim_id}-1-0"]
    decline = ClaimDecision(
        claim_id=claim.claim_id, round=1, review=Review(decision="rejected", decided_by="r@v.example")
    )
    claiming.claim_lifecycle.decide(decline)
    assert claiming.claim_lifecycle.start_review(event) == "no review: the claim is declined"


def test_a_claim_is_reviewed_approved_and_earns_its_reward_once(claiming: World) -> None:
    file_id = uploaded(claiming, ANN)
    claim = claiming.claims.file_claim(ANN, claim_body([file_id]))
    assert claim.status == "submitted" and claim.amount == 250 and claim.unit == "points"
    assert claiming.claims.file_claim(ANN, claim_body([file_id])).claim_id == claim.claim_id  # a retry: same claim
    claiming.start_reviews(claim.claim_id)
    assert list(claiming.approvals.reviews) == [f"claim-{claim.claim_id}-1-0"]

    approve = ClaimDecision(
        claim_id=claim.claim_id, round=1, review=Review(decision="approved", decided_by="r@v.example")
    )
    assert claiming.claim_lifecycle.decide(approve).startswith("approved; earned 250 points")
    claiming.claim_lifecycle.decide(approve)  # redelivered: asks the (idempotent) earning again, mails nothing new
    assert len(claiming.earner.earned) == 1 and claiming.earner.calls == 2
    (mail,) = claiming.mailer.to("ann@example.com")
    assert mail.subject == "Claim approved: Spring SPIFF"
    assert claiming.claims.claim(BOB, claim.claim_id).status == "approved"  # the partner admin sees it
    with pytest.raises(NotFound):
        claiming.claims.claim(EVE, claim.claim_id)


def test_a_returned_claim_is_resubmitted_with_more_proof_for_a_new_review(claiming: World) -> None:
    first = uploaded(claiming, ANN)
    claim = claiming.claims.file_claim(ANN, claim_body([first]))
    claiming.start_reviews(claim.claim_id)
    back = ClaimDecision(
        claim_id=claim.claim_id,
        round=1,
        review=Review(decision="returned", decided_by="r@v.example", reason="Add the guest list"),
    )
    claiming.claim_lifecycle.decide(back)
    assert claiming.store.stored_claims[claim.claim_id].status == "returned"
    assert "Add the guest list" in claiming.mailer.to("ann@example.com")[0].text
    more = uploaded(claiming, ANN)
    again = claiming.claims.resubmit(ANN, claim.claim_id, ResubmitBody(proof_files=[first, more]))
    assert (again.status, again.round, len(again.proof_files)) == ("submitted", 2, 2)
    assert [e.round for e in claiming.claim_events(claim.claim_id)] == [1, 2]
    outcomes = claiming.start_reviews(claim.claim_id)  # round 1's event, redelivered now, starts nothing
    assert outcomes[0] == "no review: the claim is in round 2, the event is of round 1"
    assert sorted(claiming.approvals.reviews) == [f"claim-{claim.claim_id}-{n}-0" for n in (1, 2)]
    decline = ClaimDecision(
        claim_id=claim.claim_id,
        round=2,
        review=Review(decision="rejected", decided_by="r@v.example", reason="Not a demo"),
    )
    claiming.claim_lifecycle.decide(decline)
    assert claiming.store.stored_claims[claim.claim_id].status == "declined" and claiming.earner.earned == {}


def test_a_lapsed_review_starts_again_a_few_times_then_needs_operations(claiming: World) -> None:
    claim = claiming.claims.file_claim(ANN, claim_body([uploaded(claiming, ANN)]))
    claiming.start_reviews(claim.claim_id)
    lapse = ClaimReviewExpired(claim_id=claim.claim_id, round=1, attempt=0)
    claiming.claim_lifecycle.lapsed(lapse)
    claiming.claim_lifecycle.lapsed(lapse.model_copy(update={"attempt": 1}))
    assert claiming.claim_lifecycle.lapsed(lapse.model_copy(update={"attempt": 2})).startswith("review abandoned")
    assert sorted(claiming.approvals.reviews) == [f"claim-{claim.claim_id}-1-{n}" for n in range(3)]
