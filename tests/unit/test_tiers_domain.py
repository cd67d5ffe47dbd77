"""The programme's pure rules: criteria versions, evaluation and its explanations, running totals (window, awards,
removals, manual criteria), tier moves (entry tier, upgrades automatic or approved, grace periods, downgrades)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from pydantic import ValidationError

from shared.errors import Conflict, NotYetDue, ValidationFailed
from shared.money import Money
from tests.support.fakes_tiers import version_request
from tiers.domain import criteria, totals
from tiers.domain import standing as rules
from tiers.domain.rebuild import Approved, Earned, ManualSet, Onboarded, WinReversed, Won, rebuild
from tiers.models import (
    CriteriaVersion,
    GraceWarning,
    ManualMark,
    Standing,
    Totals,
    VersionRequest,
    WindowFact,
    WinRecord,
    WinReversal,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TERMS = rules.Terms(grace=timedelta(days=90), warning_offsets=(2_592_000, 604_800), window_days=365)
IDS = count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(IDS)}"


def version(
    effective_from: str = "2026-01-01", *, approval: str = "automatic", version_id: str = "v1", **gold: Any
) -> CriteriaVersion:
    request = VersionRequest.model_validate(version_request(effective_from, approval=approval, **gold))
    return criteria.new_version(request, version_id=version_id, created_by="admin@vendor.example", now=NOW)


def gold_totals(**changes: Any) -> Totals:
    base: dict[str, Any] = {
        "revenue": {"USD": 10_000_000},
        "approved_deals": 2,
        "certified": {"cert-eng": 2},
        "manual": {"business-plan": ManualMark(met=True, set_by="admin", set_at=NOW)},
    }
    return Totals(**(base | changes))


def onboarded(tier_index: int = 0, v: CriteriaVersion | None = None, **changes: Any) -> Standing:
    v = v or version()
    return Standing(
        partner_id="prt_1",
        company_name="Northwind",
        onboarded_at=NOW - timedelta(days=30),
        tier=v.ref(tier_index),
        tier_since=NOW - timedelta(days=30),
        criteria_version=v.version_id,
        **changes,
    )


# ------------------------------------------------------------------ versions
def decide(
    standing: Standing, v: CriteriaVersion, upgrade_id: str, *, approved: bool, by: str, reason: str | None = None
) -> rules.Outcome:
    """The channel team's decision on an upgrade, now."""
    return rules.decide_upgrade(
        standing,
        v,
        TERMS,
        upgrade_id=upgrade_id,
        approved=approved,
        decided_by=by,
        reason=reason,
        now=NOW,
        new_id=new_id,
    )


def test_a_version_starts_today_or_later_on_a_date_no_version_has() -> None:
    request = VersionRequest.model_validate(version_request("2026-11-25"))
    with pytest.raises(ValidationFailed) as past:
        criteria.check_new_version(request, today=NOW.date(), taken=None)
    assert past.value.errors[0].field == "effective_from"
    today = VersionRequest.model_validate(version_request("2026-11-26"))
    criteria.check_new_version(today, today=NOW.date(), taken=None)
    with pytest.raises(Conflict) as taken:
        criteria.check_new_version(today, today=NOW.date(), taken=version("2026-11-26"))
    assert taken.value.code == "version_date_taken" and taken.value.errors[0].field == "effective_from"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["tiers"][2]["criteria"].update(approved_deals=1), "tiers.2.criteria.approved_deals"),
        (lambda b: b["tiers"][3]["criteria"].update(approved_deals=1), "tiers.3.criteria.approved_deals"),
        (
            lambda b: b["tiers"][3]["criteria"]["won_revenue"][0].update(amount_minor=5_000_000),
            "tiers.3.criteria.won_revenue.0.amount_minor",
        ),
        (
            lambda b: b["tiers"][3]["criteria"].update(
                certifications=[{"certification_id": "cert-eng", "label": "certified engineer", "people": 1}]
            ),
            "tiers.3.criteria.certifications.0.people",
        ),
    ],
)
def test_what_two_tiers_both_demand_never_goes_backwards_up_the_ladder(change: Any, field: str) -> None:
    body = version_request("2027-01-01")  # Silver 2 deals; Gold USD/EUR, 2 engineers; Platinum USD more, 5 deals
    criteria.check_new_version(VersionRequest.model_validate(body), today=NOW.date(), taken=None)
    change(body)
    with pytest.raises(ValidationFailed) as backwards:
        criteria.check_new_version(VersionRequest.model_validate(body), today=NOW.date(), taken=None)
    assert [e.field for e in backwards.value.errors] == [field]


@pytest.mark.parametrize("value", ["2027-06-01T00:00:00Z", "2027-06-01T09:30:00", 1798761600, "20270601"])
def test_a_version_starts_on_a_date_and_a_time_is_refused_not_dropped(value: Any) -> None:
    body = version_request("2027-01-01") | {"effective_from": value}
    with pytest.raises(ValidationError) as refused:
        VersionRequest.model_validate(body)
    assert [e["loc"] for e in refused.value.errors()] == [("effective_from",)]
    assert VersionRequest.model_validate(version_request("2027-06-01")).effective_from == date(2027, 6, 1)


def test_the_entry_tier_has_no_criteria_and_every_other_tier_has_some() -> None:
    body = version_request("2027-01-01")
    body["tiers"][0]["criteria"] = {"approved_deals": 1}
    with pytest.raises(ValidationFailed) as entry:
        criteria.check_new_version(VersionRequest.model_validate(body), today=NOW.date(), taken=None)
    assert entry.value.errors[0].field == "tiers.0.criteria"
    body = version_request("2027-01-01")
    body["tiers"][1]["criteria"] = {}
    with pytest.raises(ValidationFailed) as empty:
        criteria.check_new_version(VersionRequest.model_validate(body), today=NOW.date(), taken=None)
    assert empty.value.errors[0].field == "tiers.1.criteria"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["tiers"].append(dict(b["tiers"][1])), "tiers"),  # the same tier id twice
        (lambda b: b["tiers"][2]["criteria"]["won_revenue"].append({"currency": "USD", "amount_minor": 1}), "tiers.2"),
        (lambda b: b["tiers"][2]["criteria"]["won_revenue"][0].update(amount_minor=1.5), "tiers.2"),
        (lambda b: b["tiers"][2]["criteria"]["won_revenue"][0].update(currency="XXX"), "tiers.2"),
        (lambda b: b["tiers"][1].update(tier_id="Not A Slug"), "tiers.1.tier_id"),
        (lambda b: b["tiers"][1].update(name="x" * 81), "tiers.1.name"),
        (lambda b: b["tiers"][1]["criteria"].update(approved_deals=-1), "tiers.1.criteria.approved_deals"),
        (lambda b: b.update(tiers=[b["tiers"][0]] * 11), "tiers"),
        (lambda b: b.update(upgrade_approval="sometimes"), "upgrade_approval"),
        (lambda b: b.update(partner_id="prt_1"), "partner_id"),
    ],
)
def test_a_version_body_is_bounded_and_strict(change: Any, field: str) -> None:
    body = version_request("2027-01-01")
    change(body)
    with pytest.raises(ValidationError) as refused:
        VersionRequest.model_validate(body)
    located = [".".join(str(p) for p in e["loc"]) for e in refused.value.errors()]
    assert any(loc.startswith(field) for loc in located), located


def test_the_version_in_force_is_the_latest_whose_date_has_come() -> None:
    v1, v2 = version("2026-01-01"), version("2027-01-01", version_id="v2")
    assert criteria.in_force([v1, v2], NOW) == v1
    assert criteria.in_force([v1, v2], datetime(2027, 1, 1, tzinfo=UTC)) == v2
    assert criteria.in_force([v2], NOW) is None


# ------------------------------------------------------------------ evaluation and explanations
def test_the_highest_tier_whose_every_criterion_is_met() -> None:
    v = version()
    assert criteria.qualified_index(v, Totals(), 365) == 0
    assert criteria.qualified_index(v, Totals(approved_deals=2), 365) == 1
    assert criteria.qualified_index(v, gold_totals(), 365) == 2
    # one criterion short of Gold: Silver
    assert criteria.qualified_index(v, gold_totals(certified={"cert-eng": 1}), 365) == 1
    assert criteria.qualified_index(v, gold_totals(manual={}), 365) == 1
    assert criteria.qualified_index(v, gold_totals(revenue={"USD": 100_000_000}, approved_deals=5), 365) == 3


def test_revenue_is_met_in_any_listed_currency_and_other_currencies_do_not_count() -> None:
    v = version()
    assert criteria.qualified_index(v, gold_totals(revenue={"EUR": 9_000_000}), 365) == 2
    assert criteria.qualified_index(v, gold_totals(revenue={"GBP": 900_000_000}), 365) == 1
    assert criteria.qualified_index(v, gold_totals(revenue={"USD": 9_999_999, "EUR": 8_999_999}), 365) == 1


def test_missing_says_what_is_short_in_words() -> None:
    v = version()
    gold = v.tiers[2]
    short = gold_totals(revenue={"USD": 6_000_000}, certified={"cert-eng": 1}, manual={})
    found = {s.kind: s for s in criteria.statuses(gold, short, 365)}
    assert found["won_revenue"].missing == "USD 40,000.00 more won revenue in the last 12 months for Gold"
    assert (found["won_revenue"].value, found["won_revenue"].threshold) == (6_000_000, 10_000_000)
    assert found["certifications"].missing == "1 more certified engineer for Gold"
    assert found["manual"].missing == "Signed business plan (confirmed by the channel team) for Gold"
    none = criteria.statuses(gold, gold_totals(certified={}), 30)
    assert [s.missing for s in none if s.kind == "certifications"] == ["2 more certified engineers for Gold"]
    silver = criteria.statuses(v.tiers[1], Totals(approved_deals=1), 30)
    assert silver[0].missing == "1 more approved deal registration in the last 30 days for Silver"
    assert all(s.missing is None and s.met for s in criteria.statuses(gold, gold_totals(), 365))


def test_revenue_is_shown_in_the_currency_closest_to_its_threshold() -> None:
    gold = version().tiers[2]
    status = criteria.statuses(gold, gold_totals(revenue={"USD": 1_000_000, "EUR": 8_000_000}), 365)[0]
    assert (
        status.currency == "EUR" and status.missing == "EUR 10,000.00 more won revenue in the last 12 months for Gold"
    )


def test_a_held_tier_dropped_by_a_new_version_stands_at_its_rank() -> None:
    v = version()
    assert criteria.index_of(v, v.ref(2)) == 2
    gone = v.ref(3).model_copy(update={"tier_id": "diamond", "rank": 7})
    assert criteria.index_of(v, gone) == 3


# ------------------------------------------------------------------ running totals
def test_a_fact_counts_until_it_leaves_the_trailing_window() -> None:
    fact = totals.revenue_fact("deal_1", Money(currency="USD", amount_minor=500), date(2026, 11, 20), 365)
    assert fact.exits_at == datetime(2027, 11, 20, tzinfo=UTC)
    counted = totals.count_in(Totals(), fact, NOW)
    assert counted is not None and counted.revenue == {"USD": 500} and counted.next_exit == fact.exits_at
    old = totals.revenue_fact("deal_0", Money(currency="USD", amount_minor=500), date(2025, 11, 1), 365)
    assert totals.count_in(counted, old, NOW) is None  # already outside: never counted
    approval = totals.approval_fact("deal_2", NOW + timedelta(microseconds=1500), 30)
    assert approval.exits_at == NOW + timedelta(days=30)
    both = totals.count_in(counted, approval, NOW)
    assert both is not None and both.approved_deals == 1 and both.next_exit == approval.exits_at
    after = totals.count_out(both, [approval], fact.exits_at)
    assert after.approved_deals == 0 and after.revenue == {"USD": 500} and after.next_exit == fact.exits_at
    assert totals.count_out(after, [fact], None) == Totals(revenue={"USD": 0}, next_exit=None)


def _reversal(deal_id: str = "deal_1", win_revision: int = 1) -> WinReversal:
    return WinReversal(
        deal_id=deal_id,
        win_revision=win_revision,
        reason="amount was wrong",
        reversed_by="ops@vendor.example",
        reversed_at=NOW,
        previous_amount=Money(currency="USD", amount_minor=500),
    )


def test_each_win_of_a_deal_is_a_fact_of_its_own_and_the_first_keeps_its_old_name() -> None:
    usd = Money(currency="USD", amount_minor=500)
    first = totals.revenue_fact("deal_1", usd, date(2026, 11, 20), 365)
    corrected = totals.revenue_fact("deal_1", usd, date(2026, 11, 20), 365, win_revision=2)
    assert first.win_revision == 1 and first.fact_id == "deal_1"  # the name it had before wins had revisions
    assert corrected.fact_id == "deal_1#2"
    legacy = {"kind": "revenue", "deal_id": "deal_1", "exits_at": "2027-11-20T00:00:00Z", "amount": usd.model_dump()}
    assert WindowFact.model_validate(legacy) == first  # a fact stored without a revision is the first win


def test_a_reversed_win_leaves_the_totals_and_the_window_at_once() -> None:
    usd = Money(currency="USD", amount_minor=500)
    fact = totals.revenue_fact("deal_1", usd, date(2026, 11, 20), 365)
    other = totals.revenue_fact("deal_2", Money(currency="USD", amount_minor=300), date(2026, 12, 1), 365)
    counted = totals.count_in(totals.count_in(Totals(), fact, NOW) or Totals(), other, NOW)
    assert counted is not None and counted.revenue == {"USD": 800} and counted.next_exit == fact.exits_at
    recorded = WinRecord(deal_id="deal_1", fact=fact, counted=True)
    result = totals.reverse_win(counted, recorded, _reversal(), in_window=True, following=other.exits_at)
    assert result is not None
    after, record, taken_out = result
    assert after.revenue == {"USD": 300} and after.next_exit == other.exits_at  # the next exit is the other's
    assert taken_out == fact and record.reversal == _reversal() and record.fact == fact
    # a redelivery changes nothing
    assert totals.reverse_win(after, record, _reversal(), in_window=False, following=None) is None


def test_a_reversal_takes_out_only_what_is_still_counted() -> None:
    usd = Money(currency="USD", amount_minor=500)
    fact = totals.revenue_fact("deal_1", usd, date(2025, 11, 20), 365)
    held = Totals(revenue={"USD": 700}, next_exit=NOW + timedelta(days=3))
    for recorded, in_window in (
        (WinRecord(deal_id="deal_1", fact=fact, counted=True), False),  # counted once, left the window since
        (WinRecord(deal_id="deal_1", fact=fact, counted=False), False),  # outside the window when it arrived
    ):
        result = totals.reverse_win(held, recorded, _reversal(), in_window=in_window, following=None)
        assert result is not None and result[0] == held and result[2] is None and result[1].reversal is not None


def test_a_reversal_before_its_win_leaves_a_tombstone() -> None:
    result = totals.reverse_win(Totals(), None, _reversal(win_revision=2), in_window=False, following=None)
    assert result is not None
    after, tombstone, taken_out = result
    assert after == Totals() and taken_out is None
    assert tombstone.fact is None and tombstone.win_revision == 2 and tombstone.reversal is not None
    assert totals.reverse_win(after, tombstone, _reversal(win_revision=2), in_window=False, following=None) is None


def test_distinct_holders_count_once_and_renewals_and_redeliveries_change_nothing() -> None:
    base = Totals()
    earned = totals.earn(base, None, None, award_id="a1", certification_id="c", holder="ann@p.example", at=NOW)
    assert earned is not None
    t1, holding, award = earned
    assert t1.certified == {"c": 1}
    # the same award again (redelivery or renewal): nothing
    assert totals.earn(t1, holding, award, award_id="a1", certification_id="c", holder="ann@p.example", at=NOW) is None
    assert (
        totals.earn(
            t1, holding, award, award_id="a1", certification_id="c", holder="ann@p.example", at=NOW + timedelta(days=1)
        )
        is None
    )
    # a second award of the same certification for the same person: still one person
    second = totals.earn(t1, holding, None, award_id="a2", certification_id="c", holder="ann@p.example", at=NOW)
    assert second is not None and second[0].certified == {"c": 1}
    t2, holding2, award2 = second
    # the first ends: the person still holds one
    ended = totals.end(
        t2, holding2, award, award_id="a1", certification_id="c", holder="ann@p.example", at=NOW + timedelta(days=2)
    )
    assert ended is not None and ended[0].certified == {"c": 1}
    t3, holding3, award1_ended = ended
    # the first ends again (expired, then withdrawn): once only
    assert (
        totals.end(
            t3,
            holding3,
            award1_ended,
            award_id="a1",
            certification_id="c",
            holder="ann@p.example",
            at=NOW + timedelta(days=3),
        )
        is None
    )
    last = totals.end(
        t3, holding3, award2, award_id="a2", certification_id="c", holder="ann@p.example", at=NOW + timedelta(days=3)
    )
    assert last is not None and last[0].certified == {"c": 0}


def test_a_late_start_of_an_award_already_ended_is_ignored() -> None:
    ended = totals.end(Totals(), None, None, award_id="a1", certification_id="c", holder="bo@p.example", at=NOW)
    assert ended is not None and ended[0].certified == {}
    _, holding, award = ended
    late = totals.earn(
        Totals(), holding, award, award_id="a1", certification_id="c", holder="bo@p.example", at=NOW - timedelta(days=1)
    )
    assert late is None


def test_a_removed_person_stops_counting_at_once_and_an_older_award_does_not_bring_them_back() -> None:
    earned = totals.earn(Totals(), None, None, award_id="a1", certification_id="c", holder="cy@p.example", at=NOW)
    assert earned is not None
    counted, holding, award = earned
    removed, updated = totals.remove_person(counted, [holding], NOW + timedelta(hours=1))
    assert removed.certified == {"c": 0} and updated[0].awards == [] and updated[0].removed_at is not None
    # the withdrawal training sends afterwards decrements nothing more
    withdrawn = totals.end(
        removed,
        updated[0],
        award,
        award_id="a1",
        certification_id="c",
        holder="cy@p.example",
        at=NOW + timedelta(hours=2),
    )
    assert withdrawn is not None and withdrawn[0].certified == {"c": 0}
    replayed = totals.earn(
        removed, updated[0], None, award_id="a9", certification_id="c", holder="cy@p.example", at=NOW
    )
    assert replayed is None


def test_a_manual_criterion_set_to_what_it_is_changes_nothing() -> None:
    mark = ManualMark(met=True, note="signed", set_by="admin", set_at=NOW)
    marked = totals.set_manual(Totals(), "business-plan", mark)
    assert marked is not None and marked.manual["business-plan"].met
    assert (
        totals.set_manual(marked, "business-plan", mark.model_copy(update={"set_at": NOW + timedelta(days=1)})) is None
    )


# ------------------------------------------------------------------ tier moves
def test_onboarding_gives_the_entry_tier_once_with_one_event() -> None:
    fresh = Standing(partner_id="prt_1")
    outcome = rules.onboard(fresh, "Northwind", version(), TERMS, NOW, new_id)
    assert outcome.standing.tier is not None and outcome.standing.tier.tier_id == "registered"
    assert [(type(e).__name__, e.direction) for e in outcome.events] == [("PartnerTierChanged", "initial")]  # type: ignore[attr-defined]
    assert [h.kind for h in outcome.history] == ["initial"]
    again = rules.onboard(outcome.standing, "Northwind", version(), TERMS, NOW, new_id)
    assert not again.events and again.standing == outcome.standing


def test_facts_before_onboarding_are_counted_and_give_one_upgrade_at_onboarding() -> None:
    early = Standing(partner_id="prt_1", totals=gold_totals())
    assert not rules.evaluate(early, version(), TERMS, NOW, new_id).events  # not onboarded: no tier yet
    outcome = rules.onboard(early, "Northwind", version(), TERMS, NOW, new_id)
    moves = [(e.direction, e.tier.tier_id) for e in outcome.events]  # type: ignore[attr-defined]
    assert moves == [("initial", "registered"), ("upgrade", "gold")]


def test_automatic_upgrade_to_the_highest_tier_met_with_its_reason() -> None:
    outcome = rules.evaluate(onboarded(totals=gold_totals()), version(), TERMS, NOW, new_id)
    changed = outcome.events[0]
    assert type(changed).__name__ == "PartnerTierChanged"
    assert (changed.direction, changed.tier.tier_id, changed.previous.tier_id) == ("upgrade", "gold", "registered")  # type: ignore[attr-defined]
    assert "USD 100,000.00 won revenue" in changed.reason and changed.criteria_version == "v1"  # type: ignore[attr-defined]
    assert outcome.standing.tier == version().ref(2) and outcome.history[0].kind == "upgrade"
    assert rules.evaluate(outcome.standing, version(), TERMS, NOW, new_id).events == []  # nothing more


def test_channel_team_approval_asks_once_and_applies_the_decision() -> None:
    v = version(approval="channel_team")
    requested = rules.evaluate(onboarded(v=v, totals=gold_totals()), v, TERMS, NOW, new_id)
    assert [type(e).__name__ for e in requested.events] == ["TierUpgradeRequested"]
    pending = requested.standing.pending
    assert pending is not None and pending.proposed.tier_id == "gold" and requested.standing.tier == v.ref(0)
    assert rules.evaluate(requested.standing, v, TERMS, NOW, new_id).events == []  # one pending upgrade at a time
    approved = decide(requested.standing, v, pending.upgrade_id, approved=True, by="cm@vendor.example")
    changed = approved.events[0]
    assert changed.tier.tier_id == "gold" and changed.approved_by == "cm@vendor.example"  # type: ignore[attr-defined]
    assert approved.standing.pending is None
    with pytest.raises(rules.InvalidState):  # a repeated decision
        decide(approved.standing, v, pending.upgrade_id, approved=True, by="x")


def test_a_rejected_upgrade_keeps_the_tier_says_why_and_is_not_asked_again_for_that_version() -> None:
    v = version(approval="channel_team")
    requested = rules.evaluate(onboarded(v=v, totals=gold_totals()), v, TERMS, NOW, new_id)
    assert requested.standing.pending is not None
    rejected = decide(
        requested.standing,
        v,
        requested.standing.pending.upgrade_id,
        approved=False,
        by="cm@vendor.example",
        reason="Business plan unsigned by the CFO",
    )
    assert rejected.events == [] and rejected.standing.tier == v.ref(0)
    assert rejected.history[-1].kind == "upgrade_rejected"
    assert "cm@vendor.example" in rejected.history[-1].reason and "CFO" in rejected.history[-1].reason
    assert rules.evaluate(rejected.standing, v, TERMS, NOW, new_id).events == []
    # a new version asks again
    v2 = version(approval="channel_team", version_id="v2")
    assert [type(e).__name__ for e in rules.evaluate(rejected.standing, v2, TERMS, NOW, new_id).events] == [
        "TierUpgradeRequested"
    ]


def test_an_approval_for_a_tier_no_longer_met_changes_nothing_but_the_history() -> None:
    v = version(approval="channel_team")
    requested = rules.evaluate(onboarded(v=v, totals=gold_totals()), v, TERMS, NOW, new_id)
    assert requested.standing.pending is not None
    fallen = requested.standing.model_copy(update={"totals": gold_totals(certified={"cert-eng": 1})})
    approved = decide(fallen, v, requested.standing.pending.upgrade_id, approved=True, by="cm")
    kinds = [h.kind for h in approved.history]
    assert kinds[0] == "upgrade_withdrawn" and "1 more certified engineer" in approved.history[0].reason
    # it still qualifies for Silver: that is asked for next
    assert approved.standing.pending is not None and approved.standing.pending.proposed.tier_id == "silver"


def test_an_unanswered_request_lapses_and_says_so() -> None:
    v = version(approval="channel_team")
    requested = rules.evaluate(onboarded(v=v, totals=gold_totals()), v, TERMS, NOW, new_id)
    assert requested.standing.pending is not None
    lapsed = rules.lapse_upgrade(requested.standing, v, upgrade_id=requested.standing.pending.upgrade_id, now=NOW)
    assert lapsed.standing.pending is None and lapsed.history[-1].kind == "upgrade_lapsed"
    with pytest.raises(rules.InvalidState):
        rules.lapse_upgrade(lapsed.standing, v, upgrade_id="upg_other", now=NOW)


def test_history_reasons_read_as_words_with_dates_and_plurals() -> None:
    one = version(approved_deals=1, certifications=[])  # Gold: revenue, 1 approved deal, the business plan
    single = gold_totals(approved_deals=1)
    reason = rules.evaluate(onboarded(v=one, totals=single), one, TERMS, NOW, new_id).history[-1].reason
    assert "1 approved deal registration;" in reason, reason
    reason = rules.evaluate(onboarded(totals=gold_totals()), version(), TERMS, NOW, new_id).history[-1].reason
    assert "2 certified engineers" in reason and " x " not in reason
    short = rules.evaluate(onboarded(2, totals=gold_totals(certified={"cert-eng": 1})), version(), TERMS, NOW, new_id)
    assert "Keeps Gold until 24 February 2027, then" in short.history[-1].reason  # NOW + 90 days, no timestamp


def test_falling_short_starts_a_grace_period_never_a_silent_downgrade() -> None:
    v = version()
    gold = onboarded(2, totals=gold_totals(certified={"cert-eng": 1}))
    started = rules.evaluate(gold, v, TERMS, NOW, new_id)
    assert [type(e).__name__ for e in started.events] == ["PartnerTierGracePeriodStarted"]
    event = started.events[0]
    assert event.would_become.tier_id == "silver" and event.missing == ["1 more certified engineer for Gold"]  # type: ignore[attr-defined]
    assert event.ends_on == (NOW + timedelta(days=90)).date()  # type: ignore[attr-defined]
    assert started.standing.tier == v.ref(2) and started.standing.grace is not None
    # falling further during the grace period: nothing new
    worse = started.standing.model_copy(update={"totals": Totals()})
    assert rules.evaluate(worse, v, TERMS, NOW + timedelta(days=1), new_id).events == []


def test_meeting_the_criteria_again_ends_the_grace_period() -> None:
    v = version()
    started = rules.evaluate(onboarded(2, totals=gold_totals(manual={})), v, TERMS, NOW, new_id)
    again = started.standing.model_copy(update={"totals": gold_totals()})
    ended = rules.evaluate(again, v, TERMS, NOW + timedelta(days=10), new_id)
    assert [(type(e).__name__, getattr(e, "outcome", None)) for e in ended.events] == [
        ("PartnerTierGracePeriodEnded", "met_again")
    ]
    assert ended.standing.grace is None and ended.standing.tier == v.ref(2)


def test_at_the_end_of_the_grace_period_the_partner_drops_to_the_tier_it_meets() -> None:
    v = version()
    started = rules.evaluate(onboarded(2, totals=gold_totals(certified={})), v, TERMS, NOW, new_id)
    grace = started.standing.grace
    assert grace is not None
    with pytest.raises(NotYetDue):
        rules.end_grace(
            started.standing, v, TERMS, grace_id=grace.grace_id, now=grace.ends_at - timedelta(seconds=1), new_id=new_id
        )
    with pytest.raises(rules.InvalidState):
        rules.end_grace(started.standing, v, TERMS, grace_id="grace_old", now=grace.ends_at, new_id=new_id)
    # meanwhile the revenue went too: two tiers down at once, one change
    fallen = started.standing.model_copy(update={"totals": Totals()})
    ended = rules.end_grace(fallen, v, TERMS, grace_id=grace.grace_id, now=grace.ends_at, new_id=new_id)
    names = [(type(e).__name__, getattr(e, "outcome", None) or getattr(e, "direction", None)) for e in ended.events]
    assert names == [("PartnerTierGracePeriodEnded", "downgraded"), ("PartnerTierChanged", "downgrade")]
    assert ended.standing.tier == v.ref(0) and ended.standing.grace is None
    assert ended.history[-1].kind == "downgrade" and "Grace period ended" in ended.history[-1].reason


def test_grace_timers_warn_before_the_end_then_end_it_skipping_past_warnings() -> None:
    v = version()
    grace = rules.evaluate(onboarded(2, totals=Totals()), v, TERMS, NOW, new_id).standing.grace
    assert grace is not None
    timer = rules.grace_timer("prt_1", grace, TERMS.warning_offsets, NOW)
    assert [(at, type(m).__name__) for at, m in timer] == [
        (grace.ends_at - timedelta(days=30), "GraceWarning"),
        (grace.ends_at - timedelta(days=7), "GraceWarning"),
        (grace.ends_at, "GraceEnds"),
    ]
    assert [m.days_left for _, m in timer if isinstance(m, GraceWarning)] == [30, 7]
    late = rules.grace_timer("prt_1", grace, TERMS.warning_offsets, grace.ends_at - timedelta(days=10))
    assert [type(m).__name__ for _, m in late] == ["GraceWarning", "GraceEnds"]


def test_the_same_facts_rebuild_the_same_standing() -> None:
    v = version("2026-01-01")
    usd = Money(currency="USD", amount_minor=10_000_000)
    facts = [
        (NOW, Onboarded("Northwind")),
        (NOW + timedelta(days=1), Approved("deal_1")),
        (NOW + timedelta(days=2), Approved("deal_2")),
        (NOW + timedelta(days=3), Won("deal_1", usd, date(2026, 11, 28))),
        (NOW + timedelta(days=4), Earned("a1", "cert-eng", "ann@p.example")),
    ]
    first = rebuild("prt_1", facts, [v], TERMS, until=NOW + timedelta(days=5))
    second = rebuild("prt_1", list(reversed(facts)), [v], TERMS, until=NOW + timedelta(days=5))
    assert first.standing == second.standing and first.history == second.history
    assert first.standing.tier is not None and first.standing.tier.tier_id == "silver"
    # a year later both approvals left the window: a grace period, then the drop back to Registered
    later = rebuild("prt_1", facts, [v], TERMS, until=NOW + timedelta(days=500))
    assert [h.kind for h in later.history][-3:] == ["upgrade", "grace_started", "downgrade"]
    assert later.standing.tier is not None and later.standing.tier.tier_id == "registered"


def test_reversals_and_corrected_wins_rebuild_the_same_standing_in_any_order() -> None:
    """Gold's revenue comes from one deal; its win is reversed (a grace period, never a silent downgrade) and won
    again for the corrected amount (met again): a reversal delivered before its win gives the same standing."""
    v = version("2026-01-01")
    usd = Money(currency="USD", amount_minor=10_000_000)
    setup = [
        (NOW, Onboarded("Northwind")),
        (NOW + timedelta(days=1), Approved("deal_1")),
        (NOW + timedelta(days=1), Approved("deal_2")),
        (NOW + timedelta(days=1), Earned("a1", "cert-eng", "ann@p.example")),
        (NOW + timedelta(days=1), Earned("a2", "cert-eng", "bob@p.example")),
    ]
    plan = v.tiers[2].criteria.manual[0].criterion_id
    setup.append((NOW + timedelta(days=1), ManualSet(plan, True, "signed", "admin@vendor.example")))
    won = (NOW + timedelta(days=2), Won("deal_9", usd, date(2026, 11, 28)))
    reversed_ = (NOW + timedelta(days=3), WinReversed("deal_9", 1, usd, "amount was wrong", "ops@vendor.example"))
    corrected = (NOW + timedelta(days=4), Won("deal_9", usd, date(2026, 11, 28), win_revision=2))
    until = NOW + timedelta(days=5)

    in_order = rebuild("prt_1", [*setup, won, reversed_], [v], TERMS, until=until)
    assert in_order.standing.tier is not None and in_order.standing.tier.tier_id == "gold"
    assert in_order.standing.grace is not None and in_order.standing.totals.revenue == {"USD": 0}
    assert [h.kind for h in in_order.history][-2:] == ["upgrade", "grace_started"]
    # the reversal delivered before its win: the late win counts nothing (Gold was never reached)
    early = (won[0] - timedelta(hours=1), reversed_[1])
    tombstoned = rebuild("prt_1", [*setup, early, won], [v], TERMS, until=until)
    assert tombstoned.standing.totals.revenue.get("USD", 0) == 0
    assert tombstoned.standing.tier is not None and tombstoned.standing.tier.tier_id == "silver"
    # the corrected win counts, and ends the grace period
    again = rebuild("prt_1", [*setup, won, reversed_, corrected], [v], TERMS, until=until)
    assert again.standing.grace is None and again.standing.totals.revenue == {"USD": 10_000_000}
    assert again.history[-1].kind == "grace_ended"
    # a repeated fact (a redelivery) changes nothing
    repeated = rebuild("prt_1", [*setup, won, won, reversed_, reversed_, corrected], [v], TERMS, until=until)
    assert repeated.standing == again.standing and repeated.history == again.history
