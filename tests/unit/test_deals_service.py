"""Deals' use cases on in-memory fakes of their ports (no AWS, no moto): registration and its conflicts, reviews,
decisions (automatic, first approved wins, repeats), the protection timer's messages, notices mailed once, listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deals import domain
from deals.models import (
    DealApprovalExpired,
    DealDecision,
    NewDeal,
    PartnerProjection,
    Product,
    ProductRequest,
    ProtectionEnded,
    ProtectionReminder,
    RegisterDealRequest,
    TierChange,
    Won,
    workflow_message,
)
from deals.ports import StaleDeal
from deals.service import LAPSED, DealsService, DealWorkflowService
from deals.settings import ConsumerSettings
from deals.workflow import DealWorkflowsAdapter
from shared.clock import iso
from shared.errors import Conflict, Forbidden, NotYetDue, ValidationFailed
from shared.money import Money
from shared.principal import Principal
from tests.support.events import validate
from tests.support.fakes import FakeMailer, FakeSideEffects, FakeTimers, FakeWorkflows
from tests.support.fakes_deals import FakeDealsRepository

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PROTECTION = timedelta(days=90)
EXTENSION = timedelta(days=30)
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:deal-approval"
AUTO_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:deal-auto-approval"  # Express
SETTINGS = ConsumerSettings.model_validate(
    {
        "table_name": "deals-table",
        "approval_state_machine_arn": MACHINE,
        "auto_approval_state_machine_arn": AUTO_MACHINE,
        "schedule_group": "prm-test-timers",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/scheduler",
        "workflow_queue_arn": "arn:aws:sqs:eu-west-1:123456789012:deals-workflow",
        "mail_from": "deals@example.com",
        "portal_url": "https://portal.example.com",
        "approvers_by_region": '{"EMEA": "emea@example.com", "AMER": "amer@example.com"}',
        "escalation_email": "director@example.com",
        "auto_approve_limits": '{"USD": 5000000}',
        "auto_approve_limits_by_tier": '{"silver": {"USD": 5000000}, "gold": {"USD": 10000000}}',
        "reminder_seconds": 60,
        "escalation_seconds": 60,
        "expiry_seconds": 60,
        "protection_seconds": int(PROTECTION.total_seconds()),
        "protection_reminder_offsets": "1209600,259200",
        "extension_seconds": int(EXTENSION.total_seconds()),
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    repository: FakeDealsRepository
    mailer: FakeMailer
    workflows: FakeWorkflows
    timers: FakeTimers
    clock: Clock
    api: DealsService
    queue: DealWorkflowService

    def deal(self, deal_id: str) -> Any:
        return self.repository.deals[deal_id]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    # The emails carry the programme's name from the consumer's environment, read when its module is imported.
    monkeypatch.setenv("PROGRAMME_NAME", "Example Vendor Partner Network")
    from deals.notifications import DealEmails

    repository, mailer, workflows, timers, clock = (
        FakeDealsRepository(),
        FakeMailer(),
        FakeWorkflows(express=frozenset({AUTO_MACHINE})),
        FakeTimers(),
        Clock(),
    )
    for partner_id, name, country in (
        ("prt_1", "Northwind", "GB"),
        ("prt_2", "Contoso", "US"),
        ("prt_3", "Fabrikam", "DE"),
    ):
        repository.project_partner(
            PartnerProjection(partner_id=partner_id, company_name=name, country=country, status="active", as_of=NOW)
        )
    repository.add_product(Product(sku="NET-FW-100", name="Firewall 100", family="Network"))
    queue = DealWorkflowService(
        repository=repository,
        workflows=DealWorkflowsAdapter(SETTINGS, starter=workflows, timers=timers),
        mailer=mailer,
        notices=DealEmails("https://portal.example.com"),
        effects=FakeSideEffects(),
        terms=domain.DealTerms(
            protection=PROTECTION,
            extension=EXTENSION,
            auto_approve_limits=domain.AutoApprovalLimits(
                default=SETTINGS.auto_approve_limits, by_tier=SETTINGS.auto_approve_limits_by_tier
            ),
        ),
        clock=clock,
    )
    return World(repository, mailer, workflows, timers, clock, DealsService(repository, clock=clock), queue)


def user(partner_id: str | None) -> Principal:
    groups = frozenset({"partner-admin"} if partner_id else {"vendor-admin"})
    return Principal(
        sub=f"sub-{partner_id}", email=f"seller@{partner_id}.example", name="", partner_id=partner_id, groups=groups
    )


def new_deal(company: str = "Globex Ltd", website: str = "https://www.globex.com/", amount: int = 1_000_000) -> NewDeal:
    body = {
        "prospect": {
            "company_name": company,
            "website": website,
            "country": "GB",
            "contact": {"name": "Hank", "email": "hank@globex.com", "title": "CTO"},
        },
        "products": ["NET-FW-100"],
        "estimated_value": {"amount_minor": amount, "currency": "USD"},
        "expected_close_date": "2027-01-31",
    }
    return RegisterDealRequest.model_validate(body).new_deal()


def decision(deal_id: str, outcome: str = "approved", **changes: Any) -> DealDecision:
    return DealDecision.model_validate(
        {
            "message_type": "DealDecision",
            "deal_id": deal_id,
            "purpose": "registration",
            "decision": outcome,
            "decided_by": "emea@example.com",
            "decided_at": "2026-11-26T12:00:00Z",
        }
        | changes
    )


def approved(world: World, partner_id: str = "prt_1", **deal: Any) -> str:
    registered = world.api.register(user(partner_id), new_deal(**deal))
    assert world.queue.apply_decision(decision(registered.deal_id)) == "approved"
    return registered.deal_id


# ------------------------------------------------------------------ register
def test_register_records_other_partners_open_registrations_and_refuses_a_duplicate(world: World) -> None:
    first = world.api.register(user("prt_1"), new_deal())
    second = world.api.register(user("prt_2"), new_deal("GLOBEX, Inc.", "globex.com"))
    assert [(c.deal_id, c.matched_on) for c in second.conflicts] == [(first.deal_id, ["domain", "company"])]
    assert [e.conflicts for e in world.repository.events("DealRegistered")] == [[], [first.deal_id]]
    with pytest.raises(Conflict) as again:  # the index shows the partner's open registration
        world.api.register(user("prt_1"), new_deal("Something Else", "globex.com"))
    assert again.value.code == "duplicate_registration" and again.value.errors[0].field == "prospect.website"


def test_a_racing_duplicate_is_refused_by_the_open_claim(world: World) -> None:
    world.api.register(user("prt_1"), new_deal())
    world.repository.registrations = lambda kind, key: []  # type: ignore[method-assign]  # read before it was written
    with pytest.raises(Conflict) as raced:
        world.api.register(user("prt_1"), new_deal("Globex Trading", "globex.com"))
    assert raced.value.code == "duplicate_registration" and raced.value.errors[0].field == "prospect.website"
    assert len(world.repository.deals) == 1 and len(world.repository.outbox) == 1


def test_only_active_partners_register_and_only_vendor_admins_add_products(world: World) -> None:
    with pytest.raises(Forbidden) as stranger:
        world.api.register(user("prt_unknown"), new_deal())
    assert stranger.value.code == "partner_inactive"
    with pytest.raises(Forbidden):
        world.api.add_product(user("prt_1"), ProductRequest(sku="NET-SW-48", name="Switch", family="Network"))
    added = world.api.add_product(user(None), ProductRequest(sku="NET-SW-48", name="Switch", family="Network"))
    assert [p.sku for p in world.api.products()] == ["NET-FW-100", added.sku]
    with pytest.raises(Conflict):
        world.api.add_product(user(None), ProductRequest(sku="NET-SW-48", name="Again", family="Network"))


def test_the_agreement_gate_admits_partner_users_who_accepted_the_current_version(world: World) -> None:
    assert world.api.admit(user("prt_1")) == user("prt_1")  # nothing published yet
    world.repository.publish_agreement("2027-01")
    with pytest.raises(Forbidden) as refused:
        world.api.admit(user("prt_1"))
    assert refused.value.code == "agreement_required"
    world.repository.accept_agreement("2027-01", "sub-prt_1")
    assert world.api.admit(user("prt_1")).partner_id == "prt_1"
    assert world.api.admit(user(None)).partner_id is None  # vendor staff are never gated


# ------------------------------------------------------------------ reviews
def test_a_small_deal_goes_to_automatic_approval_and_a_large_one_to_the_regions_channel_manager(world: World) -> None:
    small = world.api.register(user("prt_1"), new_deal())
    large = world.api.register(user("prt_2"), new_deal("Initech", "initech.com", amount=9_000_000))
    world.queue.review_registration(small.deal_id)
    world.queue.review_registration(large.deal_id)
    machines = {p["deal_id"]: machine for (machine, _), p in world.workflows.started.items()}
    assert machines == {small.deal_id: AUTO_MACHINE, large.deal_id: MACHINE}  # Express only for the automatic path
    assert world.workflows.started[AUTO_MACHINE, f"deal-{small.deal_id}-registration-0"] == {
        "deal_id": small.deal_id,
        "purpose": "registration",
    }
    assert world.deal(small.deal_id).status == "submitted"
    started = {p["deal_id"]: p for (machine, _), p in world.workflows.started.items() if machine == MACHINE}
    assert started[large.deal_id]["approvers"]["initial"] == [
        "amer@example.com"  # the partner's region (US), not the prospect's (GB)
    ]
    assert world.deal(large.deal_id).timeline[-1].note == "Sent to amer@example.com for review."
    partner_line = next(line for line in started[large.deal_id]["summary"] if line["label"] == "Partner")
    assert partner_line["value"] == "Contoso"  # approvers know partners by company name
    assert world.queue.review_registration(large.deal_id) == "already started"
    assert [t.status for t in world.deal(large.deal_id).timeline].count("under_review") == 1
    world.queue.apply_decision(decision(large.deal_id, "rejected", reason="No."))
    assert world.queue.review_registration(large.deal_id) == "no review: the deal is rejected"


def tier_changed(partner_id: str, tier_id: str, rank: int, at: datetime, event_id: str) -> TierChange:
    return TierChange(
        partner_id=partner_id, tier_id=tier_id, name=tier_id.title(), rank=rank, effective_at=at, event_id=event_id
    )


def review_machine(world: World, deal_id: str) -> str:
    world.queue.review_registration(deal_id)
    return next(machine for (machine, _), p in world.workflows.started.items() if p["deal_id"] == deal_id)


def test_the_partners_tier_sets_its_automatic_approval_limit(world: World) -> None:
    """USD 80,000: over the default (50,000) and silver's (50,000) limits, within gold's (100,000)."""
    deal = {"amount": 8_000_000}
    unknown = world.api.register(user("prt_1"), new_deal("Initech", "initech.com", **deal))
    assert review_machine(world, unknown.deal_id) == MACHINE  # no tier known yet: the default limits
    assert world.queue.project_tier(tier_changed("prt_2", "gold", 2, NOW, "evt_1")) == "tier gold projected"
    assert world.queue.project_tier(tier_changed("prt_3", "silver", 1, NOW, "evt_2")) == "tier silver projected"
    gold = world.api.register(user("prt_2"), new_deal("Globex", "globex.com", **deal))
    silver = world.api.register(user("prt_3"), new_deal("Umbrella", "umbrella.com", **deal))
    assert review_machine(world, gold.deal_id) == AUTO_MACHINE
    assert review_machine(world, silver.deal_id) == MACHINE
    # downgraded to a tier the settings do not list: back to the default limits
    world.queue.project_tier(tier_changed("prt_2", "registered", 0, NOW + timedelta(days=1), "evt_3"))
    again = world.api.register(user("prt_2"), new_deal("Hooli", "hooli.com", **deal))
    assert review_machine(world, again.deal_id) == MACHINE


def test_a_redelivered_or_late_tier_change_changes_nothing(world: World) -> None:
    newer = tier_changed("prt_1", "gold", 2, NOW + timedelta(days=30), "evt_b")
    older = tier_changed("prt_1", "silver", 1, NOW, "evt_a")
    assert world.queue.project_tier(newer) == "tier gold projected"
    assert world.queue.project_tier(older) == "older or repeated tier change"
    assert world.queue.project_tier(newer) == "older or repeated tier change"
    kept = world.repository.partner_tier("prt_1")
    assert kept is not None and (kept.tier_id, kept.since, kept.event_id) == ("gold", newer.effective_at, "evt_b")
    # the fake keeps the adapter's condition too: an older change that passed a stale read is refused on write
    stale = domain.project_tier(None, older)
    assert stale is not None and not world.repository.project_tier(stale)
    assert world.repository.partner_tier("prt_1") == kept


def test_the_tier_limits_setting_is_validated_at_cold_start() -> None:
    base = SETTINGS.model_dump(mode="json") | {"auto_approve_limits": '{"USD": 5000000}'}
    base["approvers_by_region"] = '{"EMEA": "emea@example.com"}'
    assert (
        ConsumerSettings.model_validate(base | {"auto_approve_limits_by_tier": "{}"}).auto_approve_limits_by_tier == {}
    )
    for bad in ('{"gold": {"usd": 1}}', '{"gold": {"USD": -1}}', '{"gold": 5}', '{"": {"USD": 1}}', "[1]", "nope"):
        with pytest.raises(ValueError):
            ConsumerSettings.model_validate(base | {"auto_approve_limits_by_tier": bad})


def test_an_extension_request_is_reviewed_once_while_it_waits(world: World) -> None:
    deal_id = approved(world)
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    started = world.queue.review_extension(deal_id, extension_number=1, justification="Board.", request_id="evt_1")
    assert started == f"arn:fake:execution:{MACHINE}:deal-{deal_id}-extension-evt_1"
    payload = world.workflows.started[MACHINE, f"deal-{deal_id}-extension-evt_1"]
    assert {"label": "Justification", "value": "Board."} in payload["summary"]  # extensions: always a person
    world.queue.apply_decision(decision(deal_id, purpose="extension"))
    assert (
        world.queue.review_extension(deal_id, extension_number=1, justification="Board.", request_id="evt_1")
        == "no extension review: that request was decided"
    )


def test_a_repeated_automatic_review_runs_the_express_workflow_again_and_approves_once(world: World) -> None:
    """Express starts are not de-duplicated by name: a redelivered review runs the automatic approval again, and its
    second decision changes nothing (docs/architecture.md, Deal registration > Workflows)."""
    small = world.api.register(user("prt_1"), new_deal())
    world.queue.review_registration(small.deal_id)
    world.queue.review_registration(small.deal_id)
    name = f"deal-{small.deal_id}-registration-0"
    assert world.workflows.runs == [(AUTO_MACHINE, name), (AUTO_MACHINE, name)]
    automatic = decision(small.deal_id, decided_by="automatic approval", automatic=True)
    assert world.queue.apply_decision(automatic) == "approved"
    approved_once, events = world.deal(small.deal_id), list(world.repository.outbox)
    assert world.queue.apply_decision(automatic) == "already decided"
    assert world.deal(small.deal_id) == approved_once and world.repository.outbox == events
    assert len(world.repository.events("DealApproved")) == 1


# ------------------------------------------------------------------ decisions
def test_automatic_is_a_typed_flag_not_who_decided(world: World) -> None:
    auto = world.api.register(user("prt_1"), new_deal())
    manual = world.api.register(user("prt_2"), new_deal("Initech", "initech.com"))
    world.queue.apply_decision(decision(auto.deal_id, decided_by="automatic approval", automatic=True))
    world.queue.apply_decision(decision(manual.deal_id, decided_by="automatic approval"))  # a person by that name
    by_deal = {e.deal_id: e for e in world.repository.events("DealApproved")}
    assert by_deal[auto.deal_id].automatic and not by_deal[manual.deal_id].automatic
    assert world.deal(auto.deal_id).timeline[-1].note.startswith("Approved automatically.")
    assert world.deal(manual.deal_id).timeline[-1].note.startswith("Approved by automatic approval.")
    assert decision("d").automatic is False  # the channel manager's path sends no `automatic`


def test_approval_protects_and_a_repeated_or_late_decision_changes_nothing(world: World) -> None:
    deal_id = approved(world)
    deal = world.deal(deal_id)
    assert deal.protection_ends_at == NOW + PROTECTION and deal.decided_by == "emea@example.com"
    assert {p.deal_id for p in world.repository.protections(deal.prospect.domain, deal.prospect.company_key)} == {
        deal_id
    }
    events = list(world.repository.outbox)
    assert world.queue.apply_decision(decision(deal_id)) == "already decided"
    assert world.queue.apply_decision(decision(deal_id, "rejected", reason="Late.")) == "already decided"
    assert world.deal(deal_id) == deal and world.repository.outbox == events


def test_a_rejection_closes_the_registration_and_frees_the_prospect(world: World) -> None:
    deal = world.api.register(user("prt_1"), new_deal())
    assert world.queue.apply_decision(decision(deal.deal_id, "rejected", reason="Not qualified.")) == "rejected"
    rejected = world.deal(deal.deal_id)
    assert rejected.status == "rejected" and rejected.decision_reason == "Not qualified."
    assert [e.reason for e in world.repository.events("DealRejected")] == ["Not qualified."]
    assert world.api.register(user("prt_1"), new_deal()).status == "submitted"  # its open claim was released


def test_first_approved_wins_and_the_loser_is_told_until_when_not_who(world: World) -> None:
    first = world.api.register(user("prt_1"), new_deal())
    second = world.api.register(user("prt_2"), new_deal("Globex Limited", "globex.com"))
    assert world.queue.apply_decision(decision(second.deal_id)) == "approved"
    assert world.queue.apply_decision(decision(first.deal_id)) == "rejected: prospect already protected"
    loser = world.deal(first.deal_id)
    assert loser.status == "rejected" and loser.decided_by == "first approved wins"
    assert loser.decision_reason is not None and "approved first (protected until 2027-02-24T12:00:00.000Z)" in (
        loser.decision_reason
    )
    assert "prt_2" not in loser.decision_reason
    holders = world.repository.protections("globex.com", "globex")
    assert {h.deal_id for h in holders} == {second.deal_id}
    check = world.api.prospect_check(user("prt_3"), "https://globex.com", None)
    assert check == {"status": "protected", "protected_until": "2027-02-24T12:00:00.000Z"}


def test_extension_decisions_and_a_lapsed_approval(world: World) -> None:
    deal_id = approved(world)
    ends = world.deal(deal_id).protection_ends_at
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    assert world.queue.apply_decision(decision(deal_id, purpose="extension")) == "extended"
    assert world.deal(deal_id).protection_ends_at == ends + EXTENSION and world.deal(deal_id).extensions_used == 1
    world.api.request_extension(user("prt_1"), deal_id, "One more month, please.", max_extensions=2)
    refused = decision(deal_id, "rejected", purpose="extension", reason="Not this time.")
    assert world.queue.apply_decision(refused) == "extension refused"
    assert not world.deal(deal_id).extension_pending and world.deal(deal_id).extensions_used == 1
    lapsing = world.api.register(user("prt_2"), new_deal("Initech", "initech.com"))
    expired = DealApprovalExpired(message_type="DealApprovalExpired", deal_id=lapsing.deal_id, purpose="registration")
    assert world.queue.approval_lapsed(expired) == "lapsed"
    assert world.deal(lapsing.deal_id).decision_reason == LAPSED
    assert world.queue.approval_lapsed(expired) == "already decided"


def refusal_notice(world: World, event: Any) -> str:
    """What deals' consumer does with a DealExtensionRefused the bus delivered."""
    return world.queue.announce_extension_refusal(
        event.deal_id, extension_number=event.extension_number, refused_at=event.occurred_at, reason=event.reason
    )


def test_a_refused_or_lapsed_extension_publishes_a_refusal_that_validates_against_its_schema(world: World) -> None:
    deal_id = approved(world)
    ends = world.deal(deal_id).protection_ends_at
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    world.queue.apply_decision(decision(deal_id, "rejected", purpose="extension", reason="Not this time."))
    world.clock.now = NOW + timedelta(hours=1)
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    lapsed = DealApprovalExpired(message_type="DealApprovalExpired", deal_id=deal_id, purpose="extension")
    assert world.queue.approval_lapsed(lapsed) == "lapsed"
    assert world.queue.approval_lapsed(lapsed) == "already decided"  # a redelivery publishes nothing more
    refusals = world.repository.events("DealExtensionRefused")
    assert [(e.extension_number, e.reason, e.decided_by, e.protection_ends_at) for e in refusals] == [
        (1, "Not this time.", "emea@example.com", ends),
        (1, LAPSED, "workflow", ends),
    ]
    assert world.deal(deal_id).protection_ends_at == ends and world.deal(deal_id).extensions_used == 0
    for refusal in refusals:  # the contract: as the bus delivers it, against the checked-in schema
        validate(
            {
                "version": "0",
                "id": refusal.event_id,
                "detail-type": refusal.DETAIL_TYPE,
                "source": refusal.SOURCE,
                "time": "2026-11-26T12:00:00Z",
                "detail": refusal.to_json_dict(),
            }
        )


def test_a_refusal_notice_mails_the_partner_user_once_per_refusal(world: World) -> None:
    deal_id = approved(world)
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    world.queue.apply_decision(decision(deal_id, "rejected", purpose="extension", reason="Not this time."))
    refused = world.repository.events("DealExtensionRefused")[-1]
    assert refusal_notice(world, refused) == "message-1"
    assert refusal_notice(world, refused) == f"extension_refused:1:{iso(refused.occurred_at)}: already done"
    [mail] = world.mailer.sent
    assert mail.to == ("seller@prt_1.example",) and mail.subject == "Protection extension not granted: Globex Ltd"
    assert "Reason: Not this time." in mail.text and "Protection still ends 2027-02-24T12:00:00.000Z." in mail.text
    assert f"https://portal.example.com/#/deals/{deal_id}" in mail.text
    # asked again and refused again (lapsed): a second refusal of the same extension number is a second notice
    world.clock.now = NOW + timedelta(hours=1)
    world.api.request_extension(user("prt_1"), deal_id, "Please reconsider.", max_extensions=2)
    world.queue.approval_lapsed(
        DealApprovalExpired(message_type="DealApprovalExpired", deal_id=deal_id, purpose="extension")
    )
    assert refusal_notice(world, refused).startswith("no refusal notice")  # the first refusal is no longer current
    assert refusal_notice(world, world.repository.events("DealExtensionRefused")[-1]) == "message-2"
    assert "Reason: " + LAPSED in world.mailer.sent[-1].text


def test_a_stale_refusal_notice_mails_nothing(world: World) -> None:
    deal_id = approved(world)
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    world.queue.apply_decision(decision(deal_id, "rejected", purpose="extension", reason="Not this time."))
    refused = world.repository.events("DealExtensionRefused")[-1]
    world.clock.now = NOW + timedelta(hours=1)
    world.api.request_extension(user("prt_1"), deal_id, "Please reconsider.", max_extensions=2)
    assert refusal_notice(world, refused) == "no refusal notice: the deal is approved, extensions 0"  # asked again
    world.queue.apply_decision(decision(deal_id, purpose="extension"))
    assert refusal_notice(world, refused) == "no refusal notice: the deal is approved, extensions 1"  # then extended
    won = approved(world, company="Initech", website="initech.com")
    world.api.request_extension(user("prt_1"), won, "The board meets next month.", max_extensions=2)
    world.queue.apply_decision(decision(won, "rejected", purpose="extension", reason="No."))
    world.api.mark_won(
        user("prt_1"), won, Won(amount=Money(amount_minor=900_000, currency="USD"), close_date=NOW.date())
    )
    assert refusal_notice(world, world.repository.events("DealExtensionRefused")[-1]).startswith(
        "no refusal notice: the deal is won"
    )
    assert world.mailer.sent == []


def test_a_refusal_noticed_after_the_protection_ended_still_tells_the_partner_why(world: World) -> None:
    deal_id = approved(world)
    ends = world.deal(deal_id).protection_ends_at
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    lapsed = DealApprovalExpired(message_type="DealApprovalExpired", deal_id=deal_id, purpose="extension")
    world.queue.approval_lapsed(lapsed)
    world.clock.now = ends
    ended = ProtectionEnded(message_type="ProtectionEnded", deal_id=deal_id, protection_ends_at=ends)
    assert world.queue.expire(ended) == "expired"
    assert refusal_notice(world, world.repository.events("DealExtensionRefused")[-1]) == "message-1"
    assert "Protection ended 2027-02-24T12:00:00.000Z." in world.mailer.sent[-1].text


def test_a_lost_race_is_read_again_with_backoff(world: World) -> None:
    deal_id = approved(world)
    save, raced = world.repository.save, []

    def save_after_a_rival(deal: Any, *args: Any, **kwargs: Any) -> None:
        if not raced:  # another change of the same deal was written first
            raced.append(deal.revision)
            current = world.repository.deals[deal_id]
            world.repository.deals[deal_id] = current.model_copy(update={"revision": current.revision + 1})
        save(deal, *args, **kwargs)

    world.repository.save = save_after_a_rival  # type: ignore[method-assign]
    reads = world.repository.reads
    staged = world.api.set_stage(user("prt_1"), deal_id, "proposal")
    assert staged.stage == "proposal" and staged.revision == raced[0] + 1
    assert world.repository.reads - reads == 3  # the check, the first attempt, and the retry

    def always_stale(deal: Any, *args: Any, **kwargs: Any) -> None:
        raise StaleDeal(deal.deal_id)

    world.repository.save = always_stale  # type: ignore[method-assign]
    with pytest.raises(Conflict, match="changing right now"):
        world.api.mark_lost(user("prt_1"), deal_id, "Budget cut")


# ------------------------------------------------------------------ timers and notices
def test_an_approval_is_announced_once_with_its_protection_timer(world: World) -> None:
    deal_id = approved(world)
    outcome = world.queue.announce_decision(deal_id, "approved")
    assert outcome.startswith("3 of 3 timers scheduled")
    messages = world.timers.messages()
    assert [m["message_type"] for m in messages] == ["ProtectionReminder", "ProtectionReminder", "ProtectionEnded"]
    assert {m["protection_ends_at"] for m in messages} == {"2027-02-24T12:00:00Z"}  # to the second, with Z
    assert [at for at, _ in world.timers.scheduled.values()] == [
        "2027-02-10T12:00:00Z",
        "2027-02-21T12:00:00Z",
        "2027-02-24T12:00:00Z",
    ]
    assert [m.subject for m in world.mailer.sent] == ["Deal registration approved: Globex Ltd"]
    assert world.queue.announce_decision(deal_id, "approved") == "approved: already done"  # a replayed event
    assert world.queue.announce_decision(deal_id, "rejected") == "no rejection notice: the deal is approved"
    assert len(world.mailer.sent) == 1 and len(world.timers.scheduled) == 3


def test_a_replayed_notice_of_a_deal_since_won_mails_nothing(world: World) -> None:
    deal_id = approved(world)
    world.api.mark_won(
        user("prt_1"), deal_id, Won(amount=Money(amount_minor=900_000, currency="USD"), close_date=NOW.date())
    )
    assert world.queue.announce_decision(deal_id, "approved") == "no approval notice: the deal is won"
    assert world.queue.announce_extension(deal_id, 0) == "no extension notice: the deal is won, extensions 0"
    rejected = world.api.register(user("prt_2"), new_deal("Initech", "initech.com"))
    world.queue.apply_decision(decision(rejected.deal_id, "rejected", reason="Not qualified."))
    world.queue.announce_decision(rejected.deal_id, "rejected")
    world.queue.announce_decision(rejected.deal_id, "rejected")
    assert [m.subject for m in world.mailer.sent] == ["Deal registration not approved: Initech"]
    assert world.timers.scheduled == {}


def test_timer_messages_remind_then_expire_and_an_extended_deals_old_timer_is_stale(world: World) -> None:
    deal_id = approved(world)
    world.queue.announce_decision(deal_id, "approved")
    old = [workflow_message(m) for m in world.timers.messages()]  # as the queue delivers them
    reminder, ended = old[1], old[2]
    assert isinstance(reminder, ProtectionReminder) and isinstance(ended, ProtectionEnded)
    world.queue.remind(reminder)
    assert world.mailer.sent[-1].subject == "Protection ends in 3 days: Globex Ltd"
    world.api.request_extension(user("prt_1"), deal_id, "The board meets next month.", max_extensions=2)
    world.queue.apply_decision(decision(deal_id, purpose="extension"))
    world.queue.announce_extension(deal_id, 1)
    assert world.mailer.sent[-1].subject == "Protection extended: Globex Ltd"
    mails = len(world.mailer.sent)
    world.clock.now = ended.protection_ends_at
    assert world.queue.remind(reminder) == "stale reminder (closed or extended)"
    assert world.queue.expire(ended) == "not expiring (closed, extended or not yet due)"
    assert len(world.mailer.sent) == mails and world.deal(deal_id).status == "approved"
    current = workflow_message(world.timers.messages()[-1])
    assert isinstance(current, ProtectionEnded) and current.protection_ends_at == ended.protection_ends_at + EXTENSION
    with pytest.raises(NotYetDue):  # early (clock skew): the queue delivers it again
        world.queue.expire(current)
    world.clock.now = current.protection_ends_at
    assert world.queue.expire(current) == "expired"
    assert world.deal(deal_id).status == "expired" and world.repository.protections("globex.com", "globex") == []
    assert [e.protection_ended_at for e in world.repository.events("DealExpired")] == [current.protection_ends_at]


def test_workflow_messages_are_one_typed_union_serialised_as_before() -> None:
    body = {
        "message_type": "ProtectionReminder",
        "deal_id": "d",
        "protection_ends_at": "2027-02-10T12:00:00Z",
        "days_left": 3,
        "offset_seconds": 259_200,
    }
    reminder = workflow_message(body)
    assert isinstance(reminder, ProtectionReminder) and reminder.protection_ends_at == datetime(
        2027, 2, 10, 12, tzinfo=UTC
    )
    assert reminder.model_dump(mode="json") == body
    older = workflow_message({k: v for k, v in body.items() if k != "offset_seconds"})  # a timer set before the field
    assert isinstance(older, ProtectionReminder) and older.offset_seconds is None
    lapsed = workflow_message({"message_type": "DealApprovalExpired", "deal_id": "d", "purpose": "extension"})
    assert isinstance(lapsed, DealApprovalExpired)
    assert workflow_message(decision("d").model_dump(mode="json")).decided_at == NOW  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        workflow_message({"message_type": "Nonsense", "deal_id": "d"})


# ------------------------------------------------------------------ listing
def test_a_partner_lists_its_own_deals_newest_first_by_page_and_status(world: World) -> None:
    ids = []
    for number in range(3):
        world.clock.now = NOW + timedelta(minutes=number)
        ids.append(world.api.register(user("prt_1"), new_deal(f"Prospect {number}", f"prospect{number}.com")).deal_id)
    world.api.register(user("prt_2"), new_deal())
    world.queue.apply_decision(decision(ids[0]))
    page, cursor = world.api.list(user("prt_1"), None, 2, None)
    assert [d.deal_id for d in page] == ids[::-1][:2] and cursor
    rest, end = world.api.list(user("prt_1"), None, 2, cursor)
    assert [d.deal_id for d in rest] == [ids[0]] and end is None
    with pytest.raises(ValidationFailed):
        world.api.list(user("prt_2"), None, 2, cursor)  # a cursor is bound to its partner
    assert [d.deal_id for d in world.api.list(user("prt_1"), "approved", 20, None)[0]] == [ids[0]]
    assert world.api.list(user(None), None, 20, None) == ([], None)  # vendor staff have no partner list


def test_a_redelivered_protection_reminder_mails_once(world: World) -> None:
    deal_id = approved(world)
    world.queue.announce_decision(deal_id, "approved")
    reminder = next(m for m in map(workflow_message, world.timers.messages()) if isinstance(m, ProtectionReminder))
    mails = len(world.mailer.sent)
    world.queue.remind(reminder)
    world.queue.remind(reminder)  # SQS and Scheduler deliver at least once
    assert len(world.mailer.sent) == mails + 1


def test_two_reminders_that_round_to_the_same_day_are_two_emails(world: World) -> None:
    """Reminder offsets an hour apart both read "1 day" left; each configured reminder still mails once."""
    deal_id = approved(world)
    ends = world.deal(deal_id).protection_ends_at
    first, second = (
        ProtectionReminder(
            message_type="ProtectionReminder",
            deal_id=deal_id,
            protection_ends_at=ends,
            days_left=1,
            offset_seconds=offset,
        )
        for offset in (90_000, 86_400)
    )
    mails = len(world.mailer.sent)
    for reminder in (first, second, first, second):
        world.queue.remind(reminder)
    assert len(world.mailer.sent) == mails + 2


def test_a_change_that_changes_nothing_is_not_saved_so_an_identical_concurrent_request_is_no_conflict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deals.service import _change

    deal_id = approved(world)
    before = world.deal(deal_id)

    def stale(*args: Any, **kwargs: Any) -> None:
        raise StaleDeal  # every save loses the race: only a change that writes nothing can succeed

    monkeypatch.setattr(world.repository, "save", stale)
    assert _change(world.repository, world.clock, deal_id, lambda d: (d, [])) == before
    with pytest.raises(Conflict):
        _change(world.repository, world.clock, deal_id, lambda d: (d.model_copy(update={"revision": 99}), []))


# ------------------------------------------------------------------ reversing a win (rewards, issue 12)
def usd(amount_minor: int) -> Won:
    return Won(amount=Money(amount_minor=amount_minor, currency="USD"), close_date=NOW.date())


def envelope(event: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event.event_id,
        "detail-type": event.DETAIL_TYPE,
        "source": event.SOURCE,
        "time": "2026-11-26T12:00:00Z",
        "detail": event.to_json_dict(),
    }


def test_a_vendor_reverses_a_win_and_the_partners_corrected_win_is_the_next_revision(world: World) -> None:
    deal_id = approved(world)
    world.api.mark_won(user("prt_1"), deal_id, usd(1_250_000))
    # meanwhile another partner registers the prospect the win released, and is approved: it keeps its protection
    other = approved(world, "prt_2", company="Globex, Inc.", website="globex.com")
    world.clock.now = NOW + timedelta(days=120)  # after the first deal's protection would have ended
    reversed_ = world.api.reverse_win(user(None), deal_id, "The amount included the support renewal.")
    assert reversed_.status == "win_reversed" and reversed_.won is None
    assert reversed_.win_reversal is not None and reversed_.win_reversal.reversed_by == "seller@None.example"
    [reversal] = world.repository.events("DealWinReversed")
    assert (reversal.deal_id, reversal.win_revision, reversal.previous_amount.amount_minor) == (deal_id, 1, 1_250_000)
    assert reversal.partner_id == "prt_1" and reversal.reason == "The amount included the support renewal."
    corrected = world.api.mark_won(user("prt_1"), deal_id, usd(1_000_000))
    assert corrected.status == "won" and corrected.win_revision == 2
    wins = world.repository.events("DealWon")
    assert [(w.win_revision, w.amount.amount_minor, w.registered_by, w.products) for w in wins] == [
        (1, 1_250_000, "seller@prt_1.example", ["NET-FW-100"]),
        (2, 1_000_000, "seller@prt_1.example", ["NET-FW-100"]),
    ]
    deal = world.deal(deal_id)
    assert {p.deal_id for p in world.repository.protections(deal.prospect.domain, deal.prospect.company_key)} == {other}
    for event in [*wins, reversal]:  # the contracts, as the bus delivers them, against the checked-in schemas
        validate(envelope(event))


def test_partners_cannot_reverse_a_win_and_a_deal_not_won_is_a_conflict_naming_its_status(world: World) -> None:
    deal_id = approved(world)
    with pytest.raises(Conflict) as not_won:
        world.api.reverse_win(user(None), deal_id, "Wrong amount.")
    assert not_won.value.code == "invalid_state" and [e.field for e in not_won.value.errors] == ["status"]
    world.api.mark_won(user("prt_1"), deal_id, usd(900_000))
    before, events = world.deal(deal_id), list(world.repository.outbox)
    for partner_id in ("prt_1", "prt_2"):
        with pytest.raises(Forbidden):
            world.api.reverse_win(user(partner_id), deal_id, "Wrong amount.")
    assert world.deal(deal_id) == before and world.repository.outbox == events
    world.api.reverse_win(user(None), deal_id, "Wrong amount.")
    with pytest.raises(Conflict):  # a repeat without its idempotency key reverses nothing more
        world.api.reverse_win(user(None), deal_id, "Wrong amount.")
    assert len(world.repository.events("DealWinReversed")) == 1


def test_a_reversed_deals_protection_timer_is_stale(world: World) -> None:
    deal_id = approved(world)
    ends = world.deal(deal_id).protection_ends_at
    world.api.mark_won(user("prt_1"), deal_id, usd(900_000))
    world.api.reverse_win(user(None), deal_id, "Wrong amount.")
    world.clock.now = ends + timedelta(seconds=1)
    timer = ProtectionEnded(message_type="ProtectionEnded", deal_id=deal_id, protection_ends_at=ends)
    reminder = ProtectionReminder(
        message_type="ProtectionReminder", deal_id=deal_id, protection_ends_at=ends, days_left=3
    )
    assert world.queue.expire(timer) == "not expiring (closed, extended or not yet due)"
    assert world.queue.remind(reminder) == "stale reminder (closed or extended)"
    assert world.deal(deal_id).status == "win_reversed"
