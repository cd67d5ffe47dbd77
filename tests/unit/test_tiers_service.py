"""The programme's use cases on in-memory fakes of their ports (no AWS, no moto), with a clock that the tests move and
the timers firing when it passes them: projection of deals', training's and onboarding's events, evaluation, upgrades
(automatic and by the channel team), window slides, grace periods with warnings, emails once, versions, manual criteria,
the explained status, and a standing rebuilt from its events alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts.tiers import PartnerTierChanged, PartnerTierGracePeriodStarted, TierUpgradeRequested
from shared.errors import Conflict, Forbidden, NotFound, NotYetDue, ValidationFailed
from shared.events import EventDetail
from shared.money import Money
from shared.principal import Principal
from tests.support.events import validate
from tests.support.fakes import FakeMailer, FakeSideEffects, FakeTimers, FakeWorkflows
from tests.support.fakes_tiers import FakeTiersRepository, FakeVersionTimers, version_request
from tiers.domain import standing as rules
from tiers.domain.rebuild import (
    Approved,
    Decided,
    Earned,
    Ended,
    ManualSet,
    Onboarded,
    Removed,
    WinReversed,
    Won,
    rebuild,
)
from tiers.models import VersionRequest, VersionTakesEffect, workflow_message
from tiers.service import TiersService, TierWorkflowService
from tiers.settings import ConsumerSettings
from tiers.workflow import TierWorkflowsAdapter

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:tier-upgrade-approval"
TERMS = rules.Terms(grace=timedelta(days=90), warning_offsets=(2_592_000, 604_800), window_days=365)
SETTINGS = ConsumerSettings.model_validate(
    {
        "table_name": "tiers-table",
        "upgrade_state_machine_arn": MACHINE,
        "schedule_group": "prm-test-timers",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/scheduler",
        "workflow_queue_arn": "arn:aws:sqs:eu-west-1:123456789012:tiers-workflow",
        "mail_from": "programme@example.com",
        "portal_url": "https://portal.example.com",
        "approver_email": "channel@example.com",
        "escalation_email": "director@example.com",
        "reminder_seconds": 60,
        "escalation_seconds": 60,
        "expiry_seconds": 60,
        "grace_seconds": int(TERMS.grace.total_seconds()),
        "grace_warning_offsets": "2592000,604800",
        "window_days": 365,
    }
)
VENDOR = Principal(sub="v", email="admin@vendor.example", name="", partner_id=None, groups=frozenset({"vendor-admin"}))
USD = "USD"


def partner_user(partner_id: str = "prt_1", group: str = "partner-admin") -> Principal:
    return Principal(
        sub=f"sub-{partner_id}",
        email=f"ann@{partner_id}.example",
        name="",
        partner_id=partner_id,
        groups=frozenset({group}),
    )


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    repository: FakeTiersRepository
    mailer: FakeMailer
    workflows: FakeWorkflows
    timers: FakeTimers
    clock: Clock
    api: TiersService
    queue: TierWorkflowService
    delivered: int = 0  # outbox events handed to the consumer so far
    fired: set[str] = field(default_factory=set)

    def bus(self) -> list[str]:
        """Hand the outbox's new events to the consumer's own-event handlers, as the bus and rule would."""
        outcomes = []
        while self.delivered < len(self.repository.outbox):
            event = self.repository.outbox[self.delivered]
            self.delivered += 1
            validate(envelope(event))
            handler: Callable[[Any], str] | None = {
                TierUpgradeRequested: self.queue.start_upgrade_review,
                PartnerTierChanged: self.queue.announce_change,
                PartnerTierGracePeriodStarted: self.queue.grace_started,
            }.get(type(event))  # type: ignore[call-overload]
            if handler:
                outcomes.append(handler(event))
        return outcomes

    def handle(self, message: dict[str, Any]) -> str:
        parsed = workflow_message(message)
        method = {
            "TierUpgradeDecision": self.queue.apply_decision,
            "TierUpgradeExpired": self.queue.upgrade_lapsed,
            "Reevaluation": self.queue.reevaluate,
            "VersionTakesEffect": self.queue.version_takes_effect,
            "GraceWarning": self.queue.warn_grace,
            "GraceEnds": self.queue.end_grace,
        }[parsed.message_type]
        return method(parsed)  # type: ignore[operator]

    def advance(self, to: datetime) -> list[str]:
        """Move the clock to `to`, firing every timer due on the way at its own time, in time order."""
        outcomes = []
        while True:
            self.bus()
            due = sorted(
                (at, name)
                for name, (at, _) in self.timers.scheduled.items()
                if name not in self.fired and datetime.fromisoformat(at.replace("Z", "+00:00")) <= to
            )
            if not due:
                break
            at, name = due[0]
            self.fired.add(name)
            self.clock.now = max(self.clock.now, datetime.fromisoformat(at.replace("Z", "+00:00")))
            outcomes.append(self.handle(self.timers.scheduled[name][1]))
        self.clock.now = max(self.clock.now, to)
        self.bus()
        return outcomes

    def standing(self, partner_id: str = "prt_1") -> Any:
        return self.repository.standings[partner_id]


def envelope(event: EventDetail) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "x",
        "detail-type": event.DETAIL_TYPE,
        "source": event.SOURCE,
        "account": "123456789012",
        "time": "2026-11-26T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": event.to_json_dict(),
    }


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("PROGRAMME_NAME", "Example Vendor Partner Network")
    from tiers.notifications import TierEmails

    repository, mailer, workflows, timers, clock = (
        FakeTiersRepository(),
        FakeMailer(),
        FakeWorkflows(),
        FakeTimers(),
        Clock(),
    )
    queue = TierWorkflowService(
        repository=repository,
        workflows=TierWorkflowsAdapter(SETTINGS, starter=workflows, timers=timers),
        mailer=mailer,
        notices=TierEmails("https://portal.example.com"),
        effects=FakeSideEffects(),
        terms=TERMS,
        clock=clock,
    )
    api = TiersService(repository, terms=TERMS, timers=FakeVersionTimers(timers), clock=clock)
    queue.certification_defined("cert-eng", "Network Engineer", START)  # training's CertificationDefined
    return World(repository, mailer, workflows, timers, clock, api, queue)


def add_version(world: World, effective_from: str = "2026-11-26", **changes: Any) -> Any:
    return world.api.add_version(VENDOR, VersionRequest.model_validate(version_request(effective_from, **changes)))


def onboard(world: World, partner_id: str = "prt_1", admins: tuple[str, ...] = ("ann@prt_1.example",)) -> None:
    for email in admins:
        world.queue.user_invited(partner_id, email, "partner-admin", START)
    world.queue.user_invited(partner_id, "seller@prt_1.example", "partner-user", START)
    world.queue.onboard(partner_id, "Northwind")
    world.bus()


def usd(amount_minor: int) -> Money:
    return Money(currency=USD, amount_minor=amount_minor)


def make_gold(world: World, partner_id: str = "prt_1") -> None:
    """Gold's criteria met (revenue, two certified engineers, the business plan), then Silver's two approvals."""
    world.queue.deal_won(partner_id, "deal_w1", usd(10_000_000), START.date())
    for n in (1, 2):
        world.queue.award_changed(
            partner_id,
            earned=True,
            award_id=f"award_{n}",
            certification_id="cert-eng",
            holder=f"eng{n}@p.example",
            at=world.clock(),
        )
    world.api.set_manual(VENDOR, partner_id, "business-plan", met=True, note="Signed 2026-11")
    for n in (1, 2):
        world.queue.deal_approved(partner_id, f"deal_a{n}", world.clock())
    world.bus()


# ------------------------------------------------------------------ onboarding and facts
def test_onboarding_gives_the_entry_tier_once(world: World) -> None:
    add_version(world)
    onboard(world)
    assert world.standing().tier.tier_id == "registered"
    changed = world.repository.events("PartnerTierChanged")
    assert [(e.direction, e.previous) for e in changed] == [("initial", None)]
    assert world.queue.onboard("prt_1", "Northwind") == "onboarded: nothing changed"
    assert len(world.repository.events("PartnerTierChanged")) == 1
    assert world.mailer.sent == []  # the entry tier mails nobody


def test_each_fact_counts_once_and_an_upgrade_is_automatic_and_mailed_to_the_partner_admins_once(world: World) -> None:
    add_version(world)
    onboard(world, admins=("ann@prt_1.example", "bob@prt_1.example"))
    world.queue.user_removed("prt_1", "bob@prt_1.example", START + timedelta(minutes=1))
    world.queue.deal_approved("prt_1", "deal_a1", world.clock())
    assert world.queue.deal_approved("prt_1", "deal_a1", world.clock()) == "approval of deal_a1 already on record"
    assert world.standing().totals.approved_deals == 1
    world.queue.deal_approved("prt_1", "deal_a2", world.clock())
    world.bus()
    assert world.standing().tier.tier_id == "silver"
    upgrade = world.repository.events("PartnerTierChanged")[-1]
    assert upgrade.direction == "upgrade" and upgrade.approved_by is None
    mails = world.mailer.sent
    assert len(mails) == 1 and mails[0].to == ("ann@prt_1.example",)  # partner admins only, the removed one not
    assert "now Silver" in mails[0].subject
    # the event replayed (after its de-duplication record expired): no second email
    assert "already done" in world.queue.announce_change(upgrade)
    assert len(world.mailer.sent) == 1


def test_a_deal_won_long_ago_is_on_record_but_never_counted(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.deal_won("prt_1", "deal_old", usd(50_000_000), START.date() - timedelta(days=400))
    assert world.standing().totals.revenue == {}
    assert (
        world.queue.deal_won("prt_1", "deal_old", usd(50_000_000), START.date())
        == "revenue of deal_old already on record"
    )


def reverse(world: World, deal_id: str, win_revision: int = 1, amount: int = 10_000_000, pid: str = "prt_1") -> str:
    """Deals' DealWinReversed, as the consumer hands it over."""
    return world.queue.deal_win_reversed(
        pid,
        deal_id,
        win_revision,
        reason="The amount was wrong",
        reversed_by="ops@vendor.example",
        previous_amount=usd(amount),
        at=world.clock(),
    )


def test_a_reversed_win_leaves_the_totals_at_once_starts_a_grace_period_and_its_exit_timer_does_nothing(
    world: World,
) -> None:
    add_version(world)
    onboard(world)
    make_gold(world)
    assert world.standing().tier.tier_id == "gold" and world.standing().totals.revenue == {USD: 10_000_000}
    revenue_exit = world.standing().totals.next_exit
    assert revenue_exit == datetime(2027, 11, 26, tzinfo=UTC)  # the win leaves first; the approvals at noon
    outcome = reverse(world, "deal_w1")
    assert outcome == "revenue of deal_w1 (win 1) reversed: tier gold (PartnerTierGracePeriodStarted)"
    standing = world.standing()
    assert standing.tier.tier_id == "gold" and standing.grace is not None  # never a silent downgrade
    assert standing.totals.revenue == {USD: 0}
    assert standing.totals.next_exit == START + timedelta(days=365)  # the approvals' exit is the next one now
    assert world.repository.in_window.keys() == {("prt_1", "approval", "deal_a1"), ("prt_1", "approval", "deal_a2")}
    world.bus()
    assert "Grace period for Gold" in world.mailer.sent[-1].subject
    # redeliveries change nothing: the reversal, and the reversed win itself
    revision = standing.revision
    assert reverse(world, "deal_w1") == "reversal of revenue of deal_w1 (win 1) already on record"
    assert world.queue.deal_won("prt_1", "deal_w1", usd(10_000_000), START.date()) == (
        "revenue of deal_w1 already on record (reversed since)"
    )
    assert world.standing().revision == revision and world.standing().totals.revenue == {USD: 0}
    # the corrected win counts (a fact of its own), and Gold is met again
    later = START.date() + timedelta(days=3)
    assert world.queue.deal_won("prt_1", "deal_w1", usd(12_000_000), later, win_revision=2) == (
        "revenue of deal_w1 (win 2): tier gold (PartnerTierGracePeriodEnded)"
    )
    assert world.standing().grace is None and world.standing().totals.revenue == {USD: 12_000_000}
    # the reversed win's exit passes: nothing leaves (its timer finds nothing), the corrected win still counts
    outcomes = world.advance(revenue_exit + timedelta(hours=1))
    assert "0 facts left the window: nothing changed" in outcomes
    assert world.standing().totals.revenue == {USD: 12_000_000} and world.standing().totals.approved_deals == 2
    assert world.standing().tier.tier_id == "gold" and world.standing().grace is None


def test_a_reversal_before_its_win_makes_the_late_win_count_nothing(world: World) -> None:
    add_version(world)
    onboard(world)
    assert reverse(world, "deal_x", amount=20_000_000) == "revenue of deal_x (win 1) reversed: tier registered"
    assert world.repository.wins["prt_1", "deal_x"].fact is None  # the tombstone
    late = world.queue.deal_won("prt_1", "deal_x", usd(20_000_000), START.date())
    assert late == "revenue of deal_x counts nothing: win 1 was reversed before it arrived"
    assert world.standing().totals.revenue == {} and world.repository.in_window == {}
    assert reverse(world, "deal_x") == "reversal of revenue of deal_x (win 1) already on record"
    # the corrected win arrives and counts
    world.queue.deal_won("prt_1", "deal_x", usd(15_000_000), START.date(), win_revision=2)
    assert world.standing().totals.revenue == {USD: 15_000_000}
    # and a reversal of win 2 delivered before win 1's: each takes out only its own revenue
    world.queue.deal_won("prt_1", "deal_y", usd(1_000), START.date())
    reverse(world, "deal_y", win_revision=2)
    assert world.standing().totals.revenue == {USD: 15_001_000}


def test_a_reversal_after_the_revenue_left_the_window_takes_nothing_out(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.deal_won("prt_1", "deal_1", usd(5_000_000), START.date() - timedelta(days=300))
    world.queue.deal_won("prt_1", "deal_2", usd(3_000_000), START.date())
    world.queue.deal_won("prt_1", "deal_old", usd(7_000_000), START.date() - timedelta(days=400))  # never counted
    world.advance(START + timedelta(days=70))  # deal_1 left the window
    assert world.standing().totals.revenue == {USD: 3_000_000}
    for deal in ("deal_1", "deal_old"):
        assert "reversed" in reverse(world, deal)
        assert world.standing().totals.revenue == {USD: 3_000_000}
    assert reverse(world, "deal_2") == "revenue of deal_2 (win 1) reversed: tier registered"
    assert world.standing().totals.revenue == {USD: 0} and world.standing().totals.next_exit is None


def test_revenue_in_a_currency_without_a_criterion_counts_for_nothing(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.deal_won("prt_1", "deal_gbp", Money(currency="GBP", amount_minor=900_000_000), START.date())
    status = world.api.status(partner_user())
    assert status.next is not None and status.next.name == "Silver"
    assert world.standing().totals.revenue == {"GBP": 900_000_000}
    gold = world.api._view(status.version, 2, world.standing())  # type: ignore[arg-type]
    revenue = next(c for c in gold.criteria if c.kind == "won_revenue")
    assert not revenue.met and revenue.value == 0


def test_certified_people_are_distinct_holders_and_a_removed_person_stops_counting(world: World) -> None:
    add_version(world)
    onboard(world)

    def award(award_id: str, holder: str, *, earned: bool = True, days: int = 0) -> None:
        world.queue.award_changed(
            "prt_1",
            earned=earned,
            award_id=award_id,
            certification_id="cert-eng",
            holder=holder,
            at=START + timedelta(days=days),
        )

    award("aw1", "eng@p.example")
    award("aw1", "eng@p.example", days=1)
    award("aw2", "eng2@p.example")
    assert world.standing().totals.certified == {"cert-eng": 2}
    award("aw2", "eng2@p.example", earned=False, days=2)
    award("aw2", "eng2@p.example", earned=False, days=3)
    assert world.standing().totals.certified == {"cert-eng": 1}
    world.queue.user_removed("prt_1", "eng@p.example", START + timedelta(days=4))
    assert world.standing().totals.certified == {"cert-eng": 0}
    assert (
        world.queue.user_removed("prt_1", "eng@p.example", START + timedelta(days=4)) == "user removed: nothing changed"
    )
    assert world.standing().totals.certified == {"cert-eng": 0}
    world.queue.user_invited("prt_1", "eng@p.example", "partner-user", START + timedelta(days=5))  # invited again
    assert world.queue.user_removed("prt_1", "eng@p.example", START + timedelta(days=4)).startswith("older event")
    assert world.repository.users["prt_1", "eng@p.example"].active


def test_a_removal_that_failed_half_way_is_completed_when_delivered_again(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.award_changed(
        "prt_1", earned=True, award_id="aw1", certification_id="cert-eng", holder="eng@p.example", at=START
    )
    world.repository.fail_next_save = 10  # the user is marked removed, then the standing's write keeps losing
    with pytest.raises(Conflict):
        world.queue.user_removed("prt_1", "eng@p.example", START + timedelta(days=1))
    assert world.standing().totals.certified == {"cert-eng": 1}
    world.repository.fail_next_save = 0
    world.queue.user_removed("prt_1", "eng@p.example", START + timedelta(days=1))  # the queue delivers it again
    assert world.standing().totals.certified == {"cert-eng": 0}


# ------------------------------------------------------------------ the channel team approves
def test_channel_team_upgrade_goes_through_the_approval_workflow_once(world: World) -> None:
    add_version(world, approval="channel_team")
    onboard(world)
    make_gold(world)
    standing = world.standing()
    assert standing.tier.tier_id == "registered" and standing.pending.proposed.tier_id == "gold"
    assert len(world.repository.events("TierUpgradeRequested")) == 1
    (machine, name), payload = next(iter(world.workflows.started.items()))
    assert machine == MACHINE and name == f"tier-{standing.pending.upgrade_id}"
    assert payload["approvers"] == {
        "initial": ["channel@example.com"],
        "escalation": ["channel@example.com", "director@example.com"],
    }
    lines = {line["label"]: line["value"] for line in payload["summary"]}
    assert lines["Partner"] == "Northwind" and lines["Proposed tier"] == "Gold"
    assert lines["Won revenue"].startswith("USD 100,000.00 of USD 100,000.00: met")
    assert lines["certified engineer"] == "2 of 2: met"
    # the request replayed: no second execution
    request = world.repository.events("TierUpgradeRequested")[0]
    assert world.queue.start_upgrade_review(request) == "already started"
    decision = {
        "message_type": "TierUpgradeDecision",
        "partner_id": "prt_1",
        "upgrade_id": standing.pending.upgrade_id,
        "decision": "approved",
        "decided_by": "channel@example.com",
        "reason": None,
        "decided_at": "2026-11-26T13:00:00Z",
    }
    assert world.handle(decision).startswith("upgrade approved: tier gold")
    assert world.handle(decision) == "already decided"
    world.bus()
    changed = world.repository.events("PartnerTierChanged")[-1]
    assert changed.tier.tier_id == "gold" and changed.approved_by == "channel@example.com"
    assert world.queue.start_upgrade_review(request) == "no review: that upgrade request was decided"


def test_a_rejection_keeps_the_tier_and_the_history_says_who_and_why(world: World) -> None:
    add_version(world, approval="channel_team")
    onboard(world)
    make_gold(world)
    upgrade_id = world.standing().pending.upgrade_id
    world.handle(
        {
            "message_type": "TierUpgradeDecision",
            "partner_id": "prt_1",
            "upgrade_id": upgrade_id,
            "decision": "rejected",
            "decided_by": "channel@example.com",
            "reason": "Plan not countersigned",
            "decided_at": "2026-11-26T13:00:00Z",
        }
    )
    status = world.api.status(partner_user())
    assert status.standing.tier.tier_id == "registered" and status.standing.pending is None
    assert status.history[0].kind == "upgrade_rejected" and "Plan not countersigned" in status.history[0].reason
    # more facts do not ask again for Gold under this version
    world.queue.deal_approved("prt_1", "deal_a3", world.clock())
    assert len(world.repository.events("TierUpgradeRequested")) == 1
    world.handle({"message_type": "TierUpgradeExpired", "partner_id": "prt_1", "upgrade_id": upgrade_id})
    assert world.standing().history_seq == status.standing.history_seq  # a late lapse of a decided request: nothing


# ------------------------------------------------------------------ time: the window slides, grace periods
def test_window_slide_grace_period_warnings_and_downgrade_through_the_timers(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.deal_approved("prt_1", "deal_a1", START)
    world.queue.deal_approved("prt_1", "deal_a2", START + timedelta(days=10))
    world.bus()
    assert world.standing().tier.tier_id == "silver"
    assert world.standing().totals.next_exit == START + timedelta(days=365)
    # the first approval leaves the window exactly a year later: the grace period starts then, not before
    before = START + timedelta(days=365) - timedelta(seconds=1)
    world.advance(before)
    assert world.standing().grace is None and world.standing().totals.approved_deals == 2
    with pytest.raises(NotYetDue):
        world.queue.reevaluate(
            workflow_message(
                {
                    "message_type": "Reevaluation",
                    "partner_id": "prt_1",
                    "due_at": "2027-11-26T12:00:00Z",
                    "cause": "window",
                }
            )  # type: ignore[arg-type]
        )
    world.advance(START + timedelta(days=365))
    grace = world.standing().grace
    assert grace is not None and world.standing().tier.tier_id == "silver"
    assert grace.would_become.tier_id == "registered" and grace.ends_at == START + timedelta(days=365 + 90)
    assert grace.missing == ["1 more approved deal registration in the last 12 months for Silver"]
    started = world.mailer.sent[-1]
    assert "Grace period for Silver" in started.subject and "Missing: 1 more approved deal" in started.text
    # warnings 30 and 7 days before the end, once each
    world.advance(grace.ends_at - timedelta(days=7))
    warnings = [m.subject for m in world.mailer.sent if "grace period ends in" in m.subject]
    assert warnings == ["Silver grace period ends in 30 days", "Silver grace period ends in 7 days"]
    world.advance(grace.ends_at)
    standing = world.standing()
    assert standing.tier.tier_id == "registered" and standing.grace is None
    downgrade = world.repository.events("PartnerTierChanged")[-1]
    assert downgrade.direction == "downgrade" and "Grace period ended" in downgrade.reason
    assert [e.outcome for e in world.repository.events("PartnerTierGracePeriodEnded")] == ["downgraded"]
    assert world.mailer.sent[-1].subject == "Your organisation's tier is now Registered"


def test_meeting_the_criteria_again_ends_the_grace_period_and_its_timers_change_nothing(world: World) -> None:
    add_version(world)
    onboard(world)
    world.queue.deal_approved("prt_1", "deal_a1", START)
    world.queue.deal_approved("prt_1", "deal_a2", START + timedelta(days=10))
    world.advance(START + timedelta(days=365, hours=1))
    grace = world.standing().grace
    assert grace is not None
    world.queue.deal_approved("prt_1", "deal_a3", world.clock())
    world.queue.deal_approved("prt_1", "deal_a4", world.clock())  # two, so the next exit leaves Silver met
    assert world.standing().grace is None
    assert [e.outcome for e in world.repository.events("PartnerTierGracePeriodEnded")] == ["met_again"]
    mails = len(world.mailer.sent)
    world.advance(grace.ends_at + timedelta(days=1))
    assert world.standing().tier.tier_id == "silver"  # the old timer's end changed nothing
    assert len(world.mailer.sent) == mails  # and its warnings mailed nothing


def test_a_new_version_takes_effect_on_its_date_without_any_event(world: World) -> None:
    add_version(world)
    onboard(world)
    make_gold(world)
    assert world.standing().tier.tier_id == "gold"
    stricter = version_request("2027-01-01")
    stricter["tiers"][2]["criteria"]["certifications"][0]["people"] = 3
    world.api.add_version(VENDOR, VersionRequest.model_validate(stricter))  # sets its timer: no event is needed
    assert world.timers.scheduled["tiers-version-v2-first-0"][0] == "2027-01-01T00:00:00Z"
    world.queue.deal_lost("prt_1", "deal_x")  # evaluations after the announcement set nothing more
    world.queue.deal_lost("prt_1", "deal_y")
    assert [n for n in world.timers.scheduled if n.startswith("tiers-version-v2")] == ["tiers-version-v2-first-0"]
    world.advance(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert world.standing().grace is None and world.standing().criteria_version == "v1"
    world.advance(datetime(2027, 1, 1, tzinfo=UTC))
    grace = world.standing().grace
    assert grace is not None and grace.criteria_version == "v2"
    assert grace.missing == ["1 more certified engineer for Gold"]
    # history keeps what v1 decided
    assert [h.criteria_version for h in world.repository.entries["prt_1"]][:2] == ["v1", "v1"]


def test_partners_who_joined_before_the_first_version_get_its_entry_tier_without_events_of_their_own(
    world: World,
) -> None:
    for partner_id in ("prt_a", "prt_b", "prt_c"):
        world.queue.onboard(partner_id, "Early")
    assert all(world.standing(p).tier is None for p in ("prt_a", "prt_b", "prt_c"))  # no programme yet
    add_version(world)  # in force today: its timer is due at once, with no event from any partner
    assert world.timers.scheduled["tiers-version-v1-first-0"][0] == "2026-11-26T12:00:00Z"
    world.advance(world.clock() + timedelta(seconds=1))
    assert {world.standing(p).tier.tier_id for p in ("prt_a", "prt_b", "prt_c")} == {"registered"}
    assert len(world.repository.events("PartnerTierChanged")) == 3


def test_every_partner_is_evaluated_when_a_version_takes_effect_a_page_at_a_time(world: World) -> None:
    add_version(world)
    partners = [f"prt_{n:02d}" for n in range(30)]
    for partner_id in partners:  # Silver each
        world.queue.onboard(partner_id, "P")
        for deal in ("a", "b"):
            world.queue.deal_approved(partner_id, f"{partner_id}-{deal}", world.clock())
    stricter = version_request("2027-01-01")
    stricter["tiers"][1]["criteria"]["approved_deals"] = 3
    world.api.add_version(VENDOR, VersionRequest.model_validate(stricter))  # and its fan-out timer
    world.advance(datetime(2027, 1, 1, tzinfo=UTC))
    assert {world.standing(p).criteria_version for p in partners} == {"v2"}
    assert all(world.standing(p).grace is not None for p in partners)
    pages = sorted(n for n in world.fired if n.startswith("tiers-version-v2"))
    assert pages == ["tiers-version-v2-first-0", "tiers-version-v2-prt_24-0"]


# ------------------------------------------------------------------ the API
def test_a_version_naming_a_certification_training_never_defined_is_a_400_naming_the_field(world: World) -> None:
    typo = {"certifications": [{"certification_id": "cert-engg", "label": "certified engineer", "people": 2}]}
    with pytest.raises(ValidationFailed) as unknown:
        add_version(world, "2026-12-01", **typo)
    assert [e.field for e in unknown.value.errors] == ["tiers.2.criteria.certifications.0.certification_id"]
    assert world.api.versions(VENDOR) == []
    assert world.queue.certification_defined("cert-engg", "Engineer (new)", START + timedelta(minutes=1)) == (
        "certification cert-engg known"
    )
    assert world.queue.certification_defined("cert-engg", "Engineer (old)", START) == "older or repeated event"
    assert add_version(world, "2026-12-01", **typo).version_id == "v1"


def test_versions_are_the_vendor_admins_sequential_and_immutable(world: World) -> None:
    with pytest.raises(Forbidden):
        world.api.add_version(partner_user(), VersionRequest.model_validate(version_request("2026-12-01")))
    with pytest.raises(Forbidden):
        world.api.versions(partner_user())
    first, second = add_version(world, "2026-12-01"), add_version(world, "2027-01-01")
    assert (first.version_id, second.version_id) == ("v1", "v2")
    with pytest.raises(Conflict) as taken:
        add_version(world, "2027-01-01", approved_deals=9)  # one version per date
    assert taken.value.code == "version_date_taken"
    with pytest.raises(ValidationFailed):
        add_version(world, "2026-11-25")  # the past: what applied is never rewritten
    assert [v.version_id for v in world.api.versions(VENDOR)] == ["v1", "v2"]
    assert world.api.tiers_in_force() == (None, first)


def test_an_announced_version_does_not_block_an_earlier_one_and_is_withdrawn_before_it_applies(world: World) -> None:
    add_version(world)  # v1, in force today
    onboard(world)
    stricter = version_request("2027-01-01")
    stricter["tiers"][1]["criteria"]["approved_deals"] = 3
    world.api.add_version(VENDOR, VersionRequest.model_validate(stricter))  # v2, announced
    tomorrow = add_version(world, "2026-11-27")  # effective tomorrow, before v2: allowed
    assert tomorrow.version_id == "v3"
    assert [v.version_id for v in world.api.versions(VENDOR)] == ["v1", "v3", "v2"]
    with pytest.raises(Forbidden):
        world.api.withdraw_version(partner_user(), "v2", "typo")
    with pytest.raises(Conflict) as in_force:
        world.api.withdraw_version(VENDOR, "v1", "too late")
    assert in_force.value.code == "version_in_force"
    with pytest.raises(NotFound):
        world.api.withdraw_version(VENDOR, "v9", "none")
    assert "tiers-version-v2-first-0" in world.timers.scheduled
    v2_timer = world.timers.scheduled["tiers-version-v2-first-0"]
    withdrawal = world.api.withdraw_version(VENDOR, "v2", "Silver needs 2 deals, not 3")
    assert "tiers-version-v2-first-0" not in world.timers.scheduled  # its fan-out timer is deleted with it
    assert world.api.withdraw_version(VENDOR, "v2", "again") == withdrawal  # a retry answers the record
    assert [v.version_id for v in world.api.versions(VENDOR)] == ["v1", "v3"]
    assert [(w.version.version_id, w.reason) for w in world.api.withdrawals(VENDOR)] == [
        ("v2", "Silver needs 2 deals, not 3")
    ]
    corrected = add_version(world, "2027-01-01")  # its date is free again; ids stay sequential
    assert corrected.version_id == "v4"
    outcomes = world.advance(datetime(2027, 1, 1, tzinfo=UTC))  # v4's timer fires; v2's is gone
    assert not any("v2" in outcome for outcome in outcomes), outcomes
    assert "version v4: 1 partners evaluated" in outcomes
    # had the deletion failed (the write and the deletion are two steps), v2's timer would fire and evaluate nobody
    assert world.queue.version_takes_effect(VersionTakesEffect.model_validate(v2_timer[1])) == (
        "version v2 was withdrawn: nothing to evaluate"
    )
    assert world.standing().criteria_version == "v4"
    assert all(h.criteria_version != "v2" for h in world.repository.entries["prt_1"])


class SchedulerDown(Exception):
    pass


def test_a_retried_post_completes_the_timer_of_a_version_written_before_a_crash(world: World) -> None:
    """The version write and its timer are two steps: the first attempt wrote, then failed to schedule (and recorded
    nothing); the author's retry of the same criteria returns the same version and sets its one timer. Once the timer
    is recorded, nothing is left to complete."""
    real = world.timers.schedule

    def down(name: str, timers: list[tuple[str, dict[str, Any]]], now: datetime) -> str:
        raise SchedulerDown(name)

    world.timers.schedule = down  # type: ignore[method-assign]
    with pytest.raises(SchedulerDown):
        add_version(world, "2027-01-01")
    assert [v.version_id for v in world.repository.versions()] == ["v1"] and not world.repository.announced
    world.timers.schedule = real  # type: ignore[method-assign]
    with pytest.raises(Conflict):  # another admin's criteria for a taken date are still refused
        world.api.add_version(
            Principal(sub="w", email="other@vendor.example", name="", partner_id=None, groups=VENDOR.groups),
            VersionRequest.model_validate(version_request("2027-01-01")),
        )
    with pytest.raises(Conflict):  # and so are the author's own different criteria for that date
        add_version(world, "2027-01-01", approved_deals=9)
    assert world.timers.scheduled == {}
    again = add_version(world, "2027-01-01")
    assert again.version_id == "v1" and [v.version_id for v in world.repository.versions()] == ["v1"]
    assert list(world.timers.scheduled) == ["tiers-version-v1-first-0"]
    assert world.timers.scheduled["tiers-version-v1-first-0"][0] == "2027-01-01T00:00:00Z"
    assert world.repository.announced == {"v1"}
    with pytest.raises(Conflict):  # complete now: the same criteria again are a new request for a taken date
        add_version(world, "2027-01-01")
    assert len(world.timers.scheduled) == 1 and len(world.repository.versions()) == 1


def test_a_version_takes_effect_for_partners_with_no_activity_at_all(world: World) -> None:
    add_version(world)
    onboard(world)
    make_gold(world)
    world.advance(world.clock() + timedelta(seconds=1))
    stricter = version_request("2027-01-01")
    stricter["tiers"][2]["criteria"]["certifications"][0]["people"] = 3
    world.api.add_version(VENDOR, VersionRequest.model_validate(stricter))
    saved = world.standing().revision
    world.advance(datetime(2027, 1, 1, tzinfo=UTC))  # nothing but the timer the API set
    assert world.standing().revision > saved
    assert world.standing().grace is not None and world.standing().grace.criteria_version == "v2"


def test_a_partner_user_acts_only_after_accepting_the_current_agreement(world: World) -> None:
    user = partner_user()
    assert world.api.admit(user) is user  # no agreement published yet: nothing to accept
    world.repository.agreement = "2026-11"
    with pytest.raises(Forbidden) as refused:
        world.api.admit(user)
    assert refused.value.code == "agreement_required"
    assert world.api.admit(VENDOR) is VENDOR  # vendor staff are never gated
    world.repository.acceptances.add(("2026-10", user.sub))  # an older version accepted is not enough
    with pytest.raises(Forbidden):
        world.api.admit(user)
    world.repository.acceptances.add(("2026-11", user.sub))
    assert world.api.admit(user) is user


def test_versions_added_concurrently_get_distinct_ids(world: World) -> None:
    add_version(world, "2026-12-01")
    real = world.repository.add_version
    calls = {"n": 0}

    def racing(version: Any, *, expected_count: int, events: Any = ()) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # another admin's version lands first
            real(version.model_copy(update={"version_id": "v2", "effective_from": date(2026, 12, 2)}), expected_count=1)
        real(version, expected_count=expected_count, events=events)

    world.repository.add_version = racing  # type: ignore[method-assign]
    added = add_version(world, "2026-12-20")
    assert added.version_id == "v3"
    # only the written version's ladder is published (the losing attempt's event went nowhere)
    assert [e.version_id for e in world.repository.events("TierProgrammeVersionAdded")] == ["v1", "v3"]


def test_manual_criteria_are_the_vendor_admins_and_evaluate_at_once(world: World) -> None:
    add_version(world)
    onboard(world)
    with pytest.raises(Forbidden):
        world.api.set_manual(partner_user(), "prt_1", "business-plan", met=True, note="")
    with pytest.raises(NotFound):
        world.api.set_manual(VENDOR, "prt_1", "no-such-criterion", met=True, note="")
    with pytest.raises(NotFound):
        world.api.set_manual(VENDOR, "prt_unknown", "business-plan", met=True, note="")
    make_gold(world)
    assert world.standing().tier.tier_id == "gold"
    world.api.set_manual(VENDOR, "prt_1", "business-plan", met=False, note="Plan withdrawn")
    world.bus()
    assert world.standing().grace is not None
    assert world.timers.messages()[-1]["message_type"] == "GraceEnds"  # the consumer timed the API's grace period


def test_the_explained_status_is_the_partners_own(world: World) -> None:
    add_version(world)
    onboard(world)
    onboard(world, "prt_2", admins=())
    world.queue.deal_won("prt_1", "deal_w1", usd(6_000_000), START.date())
    world.queue.deal_approved("prt_1", "deal_a1", START)
    world.queue.deal_approved("prt_1", "deal_a2", START)
    world.queue.award_changed(
        "prt_1", earned=True, award_id="aw1", certification_id="cert-eng", holder="e@p.example", at=START
    )
    status = world.api.status(partner_user())
    assert status.current is not None and status.current.name == "Silver" and status.current.met
    assert status.next is not None and status.next.name == "Gold"
    assert [c.missing for c in status.next.criteria if c.missing] == [
        "USD 40,000.00 more won revenue in the last 12 months for Gold",
        "1 more certified engineer for Gold",
        "Signed business plan (confirmed by the channel team) for Gold",
    ]
    assert [h.kind for h in status.history] == ["upgrade", "initial"]  # newest first
    with pytest.raises(NotFound):
        world.api.status(partner_user("prt_2"), "prt_1")
    assert world.api.status(VENDOR, "prt_1").current == status.current
    with pytest.raises(NotFound):
        world.api.status(VENDOR, "prt_nobody")
    with pytest.raises(Forbidden):
        world.api.status(VENDOR)
    with pytest.raises(NotFound) as not_yet:  # tiers has not heard of this partner's onboarding yet
        world.api.status(partner_user("prt_3"))
    assert not_yet.value.code == "no_tier"


def test_a_lost_race_is_retried_and_a_lasting_one_is_a_conflict(world: World) -> None:
    add_version(world)
    onboard(world)
    world.repository.fail_next_save = 2
    world.queue.deal_approved("prt_1", "deal_a1", START)
    assert world.standing().totals.approved_deals == 1
    world.repository.fail_next_save = 10
    with pytest.raises(Conflict):
        world.queue.deal_approved("prt_1", "deal_a2", START)


def test_evaluation_reads_the_same_items_whatever_the_history(world: World) -> None:
    add_version(world)
    onboard(world)
    per_evaluation = []
    for size in (10, 1000):
        pid = f"prt_{size}"
        world.queue.onboard(pid, "Big")
        for n in range(size):
            world.queue.deal_won(pid, f"deal_{size}_{n}", usd(100), START.date())
        world.repository.reads = 0
        world.queue.deal_won(pid, f"deal_{size}_last", usd(100), START.date())
        per_evaluation.append(world.repository.reads)
    assert per_evaluation[0] == per_evaluation[1] <= 3


def test_a_reversal_reads_the_same_items_whatever_the_history(world: World) -> None:
    add_version(world)
    per_reversal = []
    for size in (10, 1000):
        pid = f"prt_{size}"
        world.queue.onboard(pid, "Big")
        for n in range(size):
            world.queue.deal_won(pid, f"deal_{size}_{n}", usd(100), START.date() + timedelta(days=n % 7))
        world.repository.reads = 0
        reverse(world, f"deal_{size}_0", amount=100, pid=pid)  # the next exit: the one after it is read too
        per_reversal.append(world.repository.reads)
        assert world.repository.standings[pid].totals.revenue == {USD: 100 * (size - 1)}
    assert per_reversal[0] == per_reversal[1] <= 7


# ------------------------------------------------------------------ the same facts, the same tier
def comparable(standing: Any) -> dict[str, Any]:
    """A standing as the rebuild must find it (ids are drawn anew, the revision counts writes)."""
    data = standing.model_dump(mode="json", exclude={"revision"})
    for key in ("pending", "grace"):
        if data[key]:
            data[key].pop("upgrade_id", None)
            data[key].pop("grace_id", None)
    return data


def entries(history: list[Any]) -> list[tuple[Any, ...]]:
    return [(h.seq, h.at, h.kind, h.tier, h.previous, h.reason, h.criteria_version, h.by) for h in history]


def test_reversals_and_corrected_wins_rebuild_the_standing_the_service_kept_at_every_step(world: World) -> None:
    """Gold rests on one deal's revenue: its win is reversed (a grace period), won again, reversed again; another
    deal's reversal arrives before its win (which counts nothing) and its corrected win restores Gold. After every
    step, and as time alone moves on (the grace period ends, the window slides), the standing rebuilt from the facts
    so far equals the one the service kept."""
    add_version(world)
    versions = world.repository.versions()
    q, day = world.queue, timedelta(days=1)
    facts: list[tuple[datetime, Any]] = []

    def step(offset: timedelta, fact: Any, run: Callable[[], Any]) -> None:
        world.advance(START + offset)
        run()
        world.bus()
        facts.append((world.clock(), fact))
        check(world.clock())

    def check(until: datetime) -> None:
        rebuilt = rebuild("prt_1", facts, versions, TERMS, until=until)
        assert comparable(rebuilt.standing) == comparable(world.standing()), until
        assert entries(rebuilt.history) == entries(world.repository.entries["prt_1"])

    def won(deal: str, amount: int, revision: int = 1) -> tuple[Any, Callable[[], Any]]:
        close = START.date()
        return Won(deal, usd(amount), close, revision), lambda: q.deal_won("prt_1", deal, usd(amount), close, revision)

    def reversed_(deal: str, amount: int, revision: int = 1) -> tuple[Any, Callable[[], Any]]:
        fact = WinReversed(deal, revision, usd(amount), "The amount was wrong", "ops@vendor.example")
        return fact, lambda: reverse(world, deal, revision, amount)

    step(0 * day, Onboarded("Northwind"), lambda: q.onboard("prt_1", "Northwind"))
    for n in (1, 2):
        step(0 * day, Approved(f"deal_a{n}"), lambda n=n: q.deal_approved("prt_1", f"deal_a{n}", world.clock()))
        step(
            0 * day,
            Earned(f"aw{n}", "cert-eng", f"e{n}@p.example"),
            lambda n=n: q.award_changed(
                "prt_1",
                earned=True,
                award_id=f"aw{n}",
                certification_id="cert-eng",
                holder=f"e{n}@p.example",
                at=world.clock(),
            ),
        )
    step(
        0 * day,
        ManualSet("business-plan", True, "signed", VENDOR.email),
        lambda: world.api.set_manual(VENDOR, "prt_1", "business-plan", met=True, note="signed"),
    )
    step(1 * day, *won("deal_w", 10_000_000))
    assert world.standing().tier.tier_id == "gold"
    step(2 * day, *reversed_("deal_w", 10_000_000))
    assert world.standing().grace is not None
    step(3 * day, *won("deal_w", 11_000_000, 2))
    assert world.standing().grace is None
    step(4 * day, *reversed_("deal_w", 11_000_000, 2))
    step(5 * day, *reversed_("deal_z", 10_000_000))  # before its win
    step(6 * day, *won("deal_z", 10_000_000))  # counts nothing
    assert world.standing().grace is not None and world.standing().totals.revenue == {USD: 0}
    step(7 * day, *won("deal_z", 10_000_000, 2))  # the corrected win: Gold met again
    assert world.standing().grace is None and world.standing().totals.revenue == {USD: 10_000_000}
    step(8 * day, *reversed_("deal_z", 10_000_000, 2))  # and reversed: the grace period runs out this time
    for later in (100 * day, 366 * day, 500 * day):
        world.advance(START + later)
        check(START + later)
    assert [h.kind for h in world.repository.entries["prt_1"]].count("grace_started") >= 3
    assert world.standing().tier.tier_id == "registered"


def test_a_standing_rebuilt_from_its_events_alone_equals_the_one_the_service_kept(world: World) -> None:
    add_version(world, approval="channel_team")
    stricter = version_request("2027-06-01", approval="channel_team")
    stricter["tiers"][1]["criteria"]["approved_deals"] = 3
    world.api.add_version(VENDOR, VersionRequest.model_validate(stricter))
    versions = world.repository.versions()
    day = timedelta(days=1)
    script: list[tuple[datetime, Any, Callable[[], Any]]] = []

    def at(offset: timedelta, fact: Any, run: Callable[[], Any]) -> None:
        script.append((START + offset, fact, run))

    q = world.queue
    at(0 * day, Onboarded("Northwind"), lambda: q.onboard("prt_1", "Northwind"))
    at(1 * day, Approved("deal_1"), lambda: q.deal_approved("prt_1", "deal_1", world.clock()))
    at(2 * day, Approved("deal_2"), lambda: q.deal_approved("prt_1", "deal_2", world.clock()))
    at(
        3 * day,
        Won("deal_1", usd(12_000_000), date(2026, 11, 29)),
        lambda: q.deal_won("prt_1", "deal_1", usd(12_000_000), date(2026, 11, 29)),
    )
    for n in (1, 2):
        at(
            (3 + n) * day,
            Earned(f"aw{n}", "cert-eng", f"e{n}@p.example"),
            lambda n=n: q.award_changed(
                "prt_1",
                earned=True,
                award_id=f"aw{n}",
                certification_id="cert-eng",
                holder=f"e{n}@p.example",
                at=world.clock(),
            ),
        )
    at(
        6 * day,
        Earned("aw1", "cert-eng", "e1@p.example"),
        lambda: q.award_changed(
            "prt_1", earned=True, award_id="aw1", certification_id="cert-eng", holder="e1@p.example", at=world.clock()
        ),
    )  # a renewal
    at(
        7 * day,
        ManualSet("business-plan", True, "signed", VENDOR.email),
        lambda: world.api.set_manual(VENDOR, "prt_1", "business-plan", met=True, note="signed"),
    )

    def decide(approved: bool) -> Callable[[], Any]:
        def run() -> Any:
            pending = world.standing().pending
            return world.handle(
                {
                    "message_type": "TierUpgradeDecision",
                    "partner_id": "prt_1",
                    "upgrade_id": pending.upgrade_id,
                    "decision": "approved" if approved else "rejected",
                    "decided_by": "channel@example.com",
                    "reason": "ok",
                    "decided_at": "2026-12-01T00:00:00Z",
                }
            )

        return run

    at(8 * day, Decided(True, "channel@example.com", "ok"), decide(True))  # Silver approved; Gold asked next
    at(9 * day, Decided(False, "channel@example.com", "ok"), decide(False))  # Gold rejected
    at(
        40 * day,
        Ended("aw2", "cert-eng", "e2@p.example"),
        lambda: q.award_changed(
            "prt_1", earned=False, award_id="aw2", certification_id="cert-eng", holder="e2@p.example", at=world.clock()
        ),
    )
    at(60 * day, Removed("e1@p.example"), lambda: q.user_removed("prt_1", "e1@p.example", world.clock()))
    at(100 * day, Approved("deal_3"), lambda: q.deal_approved("prt_1", "deal_3", world.clock()))
    # a win reversed and won again for a corrected amount; another reversed before its win arrived
    at(
        110 * day,
        Won("deal_3", usd(3_000_000), date(2027, 3, 1)),
        lambda: q.deal_won("prt_1", "deal_3", usd(3_000_000), date(2027, 3, 1)),
    )
    at(
        115 * day,
        WinReversed("deal_3", 1, usd(3_000_000), "The amount was wrong", "ops@vendor.example"),
        lambda: reverse(world, "deal_3", amount=3_000_000),
    )
    at(
        116 * day,
        Won("deal_3", usd(2_000_000), date(2027, 3, 1), win_revision=2),
        lambda: q.deal_won("prt_1", "deal_3", usd(2_000_000), date(2027, 3, 1), win_revision=2),
    )
    at(
        120 * day,
        WinReversed("deal_4", 1, usd(4_000_000), "The amount was wrong", "ops@vendor.example"),
        lambda: reverse(world, "deal_4", amount=4_000_000),
    )
    at(
        121 * day,
        Won("deal_4", usd(4_000_000), date(2027, 3, 20)),
        lambda: q.deal_won("prt_1", "deal_4", usd(4_000_000), date(2027, 3, 20)),
    )
    # then time alone: the grace period ends, version v2 arrives, the window slides past every deal

    facts = []
    for moment, fact, run in script:
        world.advance(moment)
        run()
        world.bus()
        facts.append((moment, fact))
    until = START + timedelta(days=800)
    world.advance(until)

    rebuilt = rebuild("prt_1", facts, versions, TERMS, until=until)
    kept = world.standing()
    assert comparable(rebuilt.standing) == comparable(kept)
    assert entries(rebuilt.history) == entries(world.repository.entries["prt_1"])
    kinds = [h.kind for h in rebuilt.history]
    assert kinds == ["initial", "upgrade", "upgrade_rejected", "grace_started", "downgrade"]
    assert rebuilt.history[-2].criteria_version == "v2"  # judged by the version in force then
    assert kept.tier.tier_id == "registered" and kept.totals.approved_deals == 0 and kept.totals.revenue == {USD: 0}


# ------------------------------------------------------------------ the vendor admin's partner list
def test_the_programme_partners_are_listed_with_their_tier_a_page_at_a_time_for_vendor_admins_only(
    world: World,
) -> None:
    add_version(world)
    for partner_id in ("prt_3", "prt_1", "prt_2"):
        onboard(world, partner_id)
    world.queue.deal_approved("prt_2", "deal_a1", world.clock())
    world.queue.deal_approved("prt_2", "deal_a2", world.clock())
    world.bus()
    with pytest.raises(Forbidden):
        world.api.partners(partner_user("prt_1"), limit=10, cursor=None)
    first, cursor = world.api.partners(VENDOR, limit=2, cursor=None)
    assert [(s.partner_id, s.company_name, s.tier and s.tier.tier_id) for s in first] == [
        ("prt_1", "Northwind", "registered"),
        ("prt_2", "Northwind", "silver"),
    ]
    rest, end = world.api.partners(VENDOR, limit=2, cursor=cursor)
    assert [s.partner_id for s in rest] == ["prt_3"] and end is None
    with pytest.raises(ValidationFailed) as bad:
        world.api.partners(VENDOR, limit=2, cursor="connections|2")
    assert bad.value.errors[0].field == "cursor"


def test_adding_and_withdrawing_a_version_publish_the_ladder_with_the_write(world: World) -> None:
    """Other contexts (content's tier gating) keep the ladder from these events: each goes to the outbox with its
    version's write, the tiers in rank order, programme-wide."""
    first = add_version(world)
    added = world.repository.events("TierProgrammeVersionAdded")
    assert [(e.version_id, e.effective_from, e.partner_id) for e in added] == [("v1", first.effective_from, "*")]
    assert [(t.tier_id, t.rank) for t in added[0].tiers] == [(t.tier_id, i) for i, t in enumerate(first.tiers)]
    later = add_version(world, "2027-01-01")
    world.api.withdraw_version(VENDOR, later.version_id, "typo")
    world.api.withdraw_version(VENDOR, later.version_id, "again")  # a retry answers the record: no second event
    withdrawn = world.repository.events("TierProgrammeVersionWithdrawn")
    assert [(e.version_id, e.effective_from) for e in withdrawn] == [("v2", later.effective_from)]
    assert len(world.repository.events("TierProgrammeVersionAdded")) == 2
