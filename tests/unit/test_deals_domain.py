"""Deal registration rules without AWS: prospect keys, conflicts, review mode, protection, extensions, expiry."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from contracts.deals import DealWon
from deals import domain
from deals.models import (
    Deal,
    Protection,
    ProtectionReminder,
    RegisterDealRequest,
    Registration,
    Review,
    TierChange,
    WinReversalRequest,
    Won,
)
from deals.prospects import company_key, domain_key
from shared.clock import timer_time
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.money import Money
from shared.principal import Principal
from tests.support.events import validate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def ids(prefix: str) -> str:
    return f"{prefix}_{next(_ids)}"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Globex, Inc.", "globex"),
        ("ACME GmbH & Co. KG", "acme"),
        ("Acme S.A.", "acme"),
        ("Müller AG", "muller"),
        ("Initech L.L.C.", "initech"),
        ("Acme Widgets GmbH", "acmewidgets"),
    ],
)
def test_company_key_drops_case_punctuation_and_legal_form(name: str, key: str) -> None:
    assert company_key(name) == key


# Issue 8.5d: real company names, by jurisdiction; only the legal form goes ("group", "holding", "the" stay).
@pytest.mark.parametrize(
    ("jurisdiction", "name", "key"),
    [
        ("GB", "The Group Ltd", "thegroup"),  # was `the`: "group" is not a legal form
        ("GB", "Vodafone Group Plc", "vodafonegroup"),
        ("GB", "Deloitte LLP", "deloitte"),
        ("GB", "Tesco PLC", "tesco"),
        ("GB", "Marks and Spencer Group public limited company", "marksandspencergroup"),
        ("US", "Apple Inc.", "apple"),
        ("US", "Oracle Corporation", "oracle"),
        ("US", "Alphabet Inc", "alphabet"),
        ("US", "Hooli, LLC", "hooli"),
        ("US", "Bank of America Corp.", "bankofamerica"),
        ("DE", "Siemens Aktiengesellschaft", "siemens"),  # was `siemensaktiengesellschaft`
        ("DE", "Siemens AG", "siemens"),
        ("DE", "Robert Bosch GmbH", "robertbosch"),
        ("DE", "Robert Bosch Gesellschaft mit beschränkter Haftung", "robertbosch"),
        ("DE", "Henkel AG & Co. KGaA", "henkel"),
        ("DE", "Müller & Co. KG", "muller"),
        ("DE", "SAP SE", "sap"),
        ("FR", "Danone SA", "danone"),
        ("FR", "L'Oréal S.A.", "loreal"),
        ("FR", "Dassault Systèmes SAS", "dassaultsystemes"),
        ("FR", "Ubisoft Société anonyme", "ubisoft"),
        ("FR", "Boulangerie Paul SARL", "boulangeriepaul"),
        ("NL", "Booking.com B.V.", "bookingcom"),
        ("NL", "ASML Holding N.V.", "asmlholding"),
        ("NL", "Philips Naamloze Vennootschap", "philips"),
        ("IT", "Fiat S.p.A.", "fiat"),
        ("IT", "Luxottica S.r.l.", "luxottica"),
        ("IT", "Ferrero Società per Azioni", "ferrero"),
        ("ES", "Banco Santander, S.A.", "bancosantander"),
        ("ES", "Mercadona S.L.", "mercadona"),
        ("ES", "Inditex Sociedad Anónima", "inditex"),
        ("JP", "トヨタ自動車株式会社", "トヨタ自動車"),
        ("JP", "株式会社日立製作所", "日立製作所"),
        ("JP", "Toyota Motor Co., Ltd.", "toyotamotor"),
        ("JP", "Sony Group Corporation", "sonygroup"),
        ("JP", "Nintendo Kabushiki Kaisha", "nintendo"),
        ("JP", "Nintendo K.K.", "nintendo"),
        ("BR", "Natura Cosméticos Ltda.", "naturacosmeticos"),
        ("BR", "Petróleo Brasileiro S.A.", "petroleobrasileiro"),
        ("SE", "Volvo AB", "volvo"),
        ("SE", "AB Volvo", "volvo"),
        ("SE", "Telefonaktiebolaget LM Ericsson AB (publ)", "telefonaktiebolagetlmericsson"),
        ("SE", "Spotify Aktiebolag", "spotify"),
        ("PL", "Allegro sp. z o.o.", "allegro"),
        ("PL", "Allegro Spółka z ograniczoną odpowiedzialnością", "allegro"),
        ("PL", "Comarch Spółka Akcyjna", "comarch"),
        ("CH", "Nestlé S.A.", "nestle"),
        ("CH", "Roche Holding AG", "rocheholding"),
        ("CH", "Migros-Genossenschafts-Bund", "migrosgenossenschaftsbund"),
        ("IN", "Infosys Pvt. Ltd.", "infosys"),
        ("IN", "Tata Consultancy Services Private Limited", "tataconsultancyservices"),
        ("IN", "Wipro Limited", "wipro"),
        ("AU", "Atlassian Pty Ltd", "atlassian"),
        ("SG", "Grab Holdings Pte. Ltd.", "grabholdings"),
        ("MY", "Petronas Sdn. Bhd.", "petronas"),
        ("KR", "Samsung Electronics Co., Ltd.", "samsungelectronics"),
        ("KR", "삼성전자 주식회사", "삼성전자"),
        ("DK", "Novo Nordisk A/S", "novonordisk"),
        ("FI", "Nokia Oyj", "nokia"),
        ("NO", "Equinor ASA", "equinor"),
        ("MX", "Cemex, S.A.B. de C.V.", "cemex"),
        ("ID", "PT Telkom Indonesia", "telkomindonesia"),
        ("RU", "\u041e\u041e\u041e Ромашка", "ромашка"),  # OOO in Cyrillic
    ],
)
def test_company_key_strips_only_legal_forms(jurisdiction: str, name: str, key: str) -> None:
    assert company_key(name) == key, jurisdiction


@pytest.mark.parametrize(
    ("name", "key"),
    [  # names with no legal form keep the keys they had (stored registrations still match)
        ("Globex", "globex"),
        ("Acme Widgets", "acmewidgets"),
        ("Vodafone UK", "vodafoneuk"),  # a country code is not a legal form
        ("Müller", "muller"),
        ("Газпром", "газпром"),
        ("O'Reilly Media", "oreillymedia"),
        ("Ernst & Young", "ernstyoung"),
        ("3M", "3m"),
        ("H&M", "hm"),
    ],
)
def test_company_key_is_stable_for_names_without_a_legal_form(name: str, key: str) -> None:
    assert company_key(name) == key


@pytest.mark.parametrize("name", ["Inc.", "GmbH", "  ", "&", "Aktiengesellschaft", "株式会社"])
def test_company_key_refuses_names_with_nothing_distinctive(name: str) -> None:
    with pytest.raises(ValueError):
        company_key(name)


def test_domain_key_is_the_registrable_domain() -> None:
    assert domain_key("https://WWW.Sales.Acme.co.uk/x") == "acme.co.uk"


def request(**changes: Any) -> RegisterDealRequest:
    body = {
        "prospect": {
            "company_name": "Globex Ltd",
            "website": "globex.com",
            "country": "GB",
            "contact": {"name": "Hank", "email": "hank@globex.com", "title": "CTO"},
        },
        "products": ["NET-FW-100"],
        "estimated_value": {"amount_minor": 1_000_000, "currency": "USD"},
        "expected_close_date": "2027-01-31",
    } | changes
    return RegisterDealRequest.model_validate(body)


def register(
    *,
    by_domain: list[Registration] = (),
    by_company: list[Registration] = (),
    partner_id: str = "prt_1",
    **changes: Any,
) -> Any:  # type: ignore[assignment]
    return domain.register(
        request(**changes).new_deal(),
        partner_id=partner_id,
        registered_by="seller@p1.com",
        known_products={"NET-FW-100"},
        by_domain=list(by_domain),
        by_company=list(by_company),
        now=NOW,
        new_id=ids,
    )


def test_register_records_other_partners_open_registrations_as_conflicts() -> None:
    open_other = Registration(
        deal_id="deal_a", partner_id="prt_2", status="approved", protection_ends_at=NOW + timedelta(days=10)
    )
    lapsed = Registration(
        deal_id="deal_b", partner_id="prt_3", status="approved", protection_ends_at=NOW - timedelta(days=1)
    )
    closed = Registration(deal_id="deal_c", partner_id="prt_4", status="lost")
    deal, event = register(by_domain=[open_other, lapsed, closed], by_company=[open_other])
    assert [(c.deal_id, c.matched_on) for c in deal.conflicts] == [("deal_a", ["domain", "company"])]
    assert event.conflicts == ["deal_a"] and event.prospect.company_key == "globex"
    assert deal.timeline[0].status == "submitted"


def test_same_partner_duplicates_are_refused_outright() -> None:
    mine = Registration(deal_id="deal_m", partner_id="prt_1", status="under_review")
    with pytest.raises(Conflict) as refused:
        register(by_company=[mine])
    assert refused.value.code == "duplicate_registration" and refused.value.errors[0].field == "prospect.company_name"


def test_products_and_close_date_are_checked() -> None:
    with pytest.raises(ValidationFailed) as unknown:
        register(products=["NET-FW-100", "NOPE-1"])
    assert unknown.value.errors[0].field == "products.1"
    with pytest.raises(ValidationFailed):
        register(expected_close_date=NOW.date().isoformat())
    with pytest.raises(ValidationError):
        request(products=["NET-FW-100", "NET-FW-100"])


def test_review_mode_is_automatic_only_without_conflict_and_within_the_limit() -> None:
    limits = domain.AutoApprovalLimits(default={"USD": 5_000_000}, by_tier={})
    deal, _ = register()
    assert domain.review_mode(deal, limits, None) == "auto"
    assert (
        domain.review_mode(
            deal.model_copy(update={"estimated_value": Money(amount_minor=5_000_001, currency="USD")}), limits, None
        )
        == "manual"
    )
    assert (
        domain.review_mode(
            deal.model_copy(update={"estimated_value": Money(amount_minor=1, currency="JPY")}), limits, None
        )
        == "manual"
    )
    conflicted, _ = register(by_domain=[Registration(deal_id="x", partner_id="prt_9", status="submitted")])
    assert domain.review_mode(conflicted, limits, None) == "manual"


TIERED = domain.AutoApprovalLimits(
    default={"USD": 2_000_000, "EUR": 2_000_000},
    by_tier={"silver": {"USD": 5_000_000}, "gold": {"USD": 10_000_000}},
)


def worth(amount_minor: int, currency: str = "USD") -> Any:
    deal, _ = register()
    return deal.model_copy(update={"estimated_value": Money(amount_minor=amount_minor, currency=currency)})


def test_a_higher_tier_approves_larger_deals_automatically() -> None:
    assert [domain.review_mode(worth(8_000_000), TIERED, tier) for tier in (None, "silver", "gold")] == [
        "manual",
        "manual",
        "auto",
    ]
    assert [domain.review_mode(worth(4_000_000), TIERED, tier) for tier in (None, "silver", "gold")] == [
        "manual",
        "auto",
        "auto",
    ]
    assert domain.review_mode(worth(10_000_000), TIERED, "gold") == "auto"  # the limit itself is within it
    assert domain.review_mode(worth(10_000_001), TIERED, "gold") == "manual"


def test_a_tier_not_listed_or_not_known_yet_uses_the_default_limits() -> None:
    assert TIERED.for_tier("platinum") == TIERED.default == TIERED.for_tier(None)
    assert domain.review_mode(worth(1_500_000), TIERED, "platinum") == "auto"
    assert domain.review_mode(worth(2_500_000), TIERED, "platinum") == "manual"
    assert domain.review_mode(worth(1_500_000, "EUR"), TIERED, None) == "auto"
    # a listed tier's limits are complete: a currency it does not name goes to a channel manager
    assert domain.review_mode(worth(1, "EUR"), TIERED, "gold") == "manual"
    # no tier limits at all (the setting may be {}): everyone gets the default
    plain = domain.AutoApprovalLimits(default={"USD": 2_000_000}, by_tier={})
    assert domain.review_mode(worth(2_000_000), plain, "gold") == "auto"
    assert domain.review_mode(worth(2_000_001), plain, "gold") == "manual"


def tier_change(tier_id: str, at: datetime, event_id: str, partner_id: str = "prt_1") -> TierChange:
    return TierChange(
        partner_id=partner_id,
        tier_id=tier_id,
        name=tier_id.title(),
        rank={"registered": 0, "silver": 1, "gold": 2}[tier_id],
        effective_at=at,
        event_id=event_id,
    )


def test_tier_changes_apply_in_effective_order_then_event_id_whatever_order_they_arrive_in() -> None:
    changes = [
        tier_change("registered", NOW, "evt_a"),
        tier_change("silver", NOW + timedelta(days=30), "evt_b"),
        tier_change("gold", NOW + timedelta(days=60), "evt_c"),
        tier_change("silver", NOW + timedelta(days=60), "evt_d"),  # same instant: the later event id wins
    ]
    for arrival in itertools.permutations(changes):
        known = None
        for change in [*arrival, *arrival]:  # and every one of them redelivered
            known = domain.project_tier(known, change) or known
        assert known is not None and (known.tier_id, known.event_id) == ("silver", "evt_d")
        assert known.since == NOW + timedelta(days=60) and known.rank == 1
    first = domain.project_tier(None, changes[1])
    assert first is not None
    assert domain.project_tier(first, changes[1]) is None  # repeated
    assert domain.project_tier(first, changes[0]) is None  # older


def test_the_tier_order_is_text_ordered_like_time_across_precisions() -> None:
    early = tier_change("silver", datetime(2026, 1, 1, 9, 0, 0, 999_000, tzinfo=UTC), "evt_z")
    late = tier_change("silver", datetime(2026, 1, 1, 9, 0, 1, tzinfo=UTC), "evt_a")
    assert domain.tier_order(early) < domain.tier_order(late)
    later_tie = tier_change("silver", early.effective_at, "evt_zz")
    assert domain.tier_order(early) < domain.tier_order(later_tie)


def approved(**changes: Any) -> Any:
    deal, _ = register(**changes)
    return domain.approve(
        deal, decided_by="emea@example.com", automatic=False, protection=timedelta(days=90), now=NOW, new_id=ids
    )


def test_approval_protects_for_the_period_in_whole_seconds() -> None:
    deal, event = approved()
    assert deal.status == "approved" and deal.protection_ends_at == NOW + timedelta(days=90)
    assert event.protection_ends_at == deal.protection_ends_at and not event.automatic
    with pytest.raises(domain.InvalidState):
        domain.approve(deal, decided_by="x", automatic=True, protection=timedelta(days=1), now=NOW, new_id=ids)


def test_extensions_at_most_the_maximum_and_one_at_a_time() -> None:
    deal, _ = approved()
    for number in (1, 2):
        deal, requested = domain.request_extension(
            deal, "Board meets next month.", max_extensions=2, now=NOW, new_id=ids
        )
        assert requested.extension_number == number
        with pytest.raises(domain.InvalidState):
            domain.request_extension(deal, "again", max_extensions=2, now=NOW, new_id=ids)
        before = deal.protection_ends_at
        deal, extended = domain.grant_extension(
            deal, decided_by="emea@example.com", extension=timedelta(days=30), now=NOW, new_id=ids
        )
        assert deal.protection_ends_at == before + timedelta(days=30) and extended.extensions_used == number
    with pytest.raises(domain.InvalidState, match="maximum"):
        domain.request_extension(deal, "A third one please", max_extensions=2, now=NOW, new_id=ids)


def test_expiry_only_for_the_current_end_and_not_early() -> None:
    deal, _ = approved()
    ends = deal.protection_ends_at
    with pytest.raises(domain.NotYetDue):
        domain.expire(deal, ended_at=ends, now=ends - timedelta(seconds=1), new_id=ids)
    with pytest.raises(domain.InvalidState):  # a timer of an end date the deal no longer has (extended)
        domain.expire(deal, ended_at=ends - timedelta(days=1), now=ends, new_id=ids)
    expired, event = domain.expire(deal, ended_at=ends, now=ends, new_id=ids)
    assert expired.status == "expired" and event.protection_ended_at == ends


def test_won_lost_and_stage_need_live_protection() -> None:
    deal, _ = approved()
    assert domain.set_stage(deal, "proposal", NOW) is not None
    staged = domain.set_stage(deal, "proposal", NOW)
    assert staged is not None and domain.set_stage(staged, "proposal", NOW) is None  # a repeat changes nothing
    won, event = domain.mark_won(
        deal, Won(amount=Money(amount_minor=125_000, currency="USD"), close_date=date(2026, 11, 20)), NOW, ids
    )
    assert won.status == "won" and event.amount.amount_minor == 125_000 and "1,250.00 USD" in won.timeline[-1].note
    with pytest.raises(ValidationFailed):
        domain.mark_won(deal, Won(amount=Money(amount_minor=1, currency="USD"), close_date=date(2027, 1, 1)), NOW, ids)
    with pytest.raises(domain.InvalidState):
        domain.mark_lost(won, "late", NOW, ids)
    lapsed = deal.model_copy(update={"protection_ends_at": NOW - timedelta(seconds=1)})
    with pytest.raises(domain.InvalidState):
        domain.set_stage(lapsed, "commit", NOW)


def test_precheck_never_names_the_holder() -> None:
    holder = Protection(deal_id="deal_x", partner_id="prt_secret", protection_ends_at=NOW + timedelta(days=5))
    answer = domain.prospect_status([holder], NOW)
    assert answer == {"status": "protected", "protected_until": "2026-12-01T12:00:00.000Z"}
    assert "prt_secret" not in str(answer) and "deal_x" not in str(answer)
    assert domain.prospect_status([holder], NOW + timedelta(days=6)) == {"status": "available"}


def test_protection_reminders_skip_the_past_and_use_wait_timestamps() -> None:
    ends = NOW + timedelta(days=90)
    timer = domain.protection_timer("deal_1", ends, [1_209_600, 259_200], NOW)
    reminders = [(at, m) for at, m in timer if isinstance(m, ProtectionReminder)]
    assert [(r.days_left, r.offset_seconds, timer_time(at)) for at, r in reminders] == [
        (14, 1_209_600, "2027-02-10T12:00:00Z"),
        (3, 259_200, "2027-02-21T12:00:00Z"),
    ]
    soon = domain.protection_timer("deal_1", NOW + timedelta(days=2), [1_209_600, 259_200], NOW)
    assert [m.message_type for _, m in soon] == ["ProtectionEnded"]  # no reminder already past, only the end


def test_access_rules() -> None:
    me = Principal(sub="s", email="e@p1.com", name="", partner_id="prt_1", groups=frozenset({"partner-user"}))
    deal, _ = register()
    assert domain.ensure_own(me, deal) is deal
    other = Principal(sub="o", email="o@p2.com", name="", partner_id="prt_2", groups=frozenset({"partner-admin"}))
    with pytest.raises(NotFound):
        domain.ensure_own(other, deal)
    with pytest.raises(Forbidden) as inactive:
        domain.ensure_can_register(me, None)
    assert inactive.value.code == "partner_inactive"
    assert domain.next_step(deal) == ("Awaiting review", None)


# ------------------------------------------------------------------ what the channel manager is told (issue 8.5b)
def consumer_settings() -> Any:
    """Only what the approval input reads (built without the deployment's other settings)."""
    from deals.settings import ConsumerSettings

    return ConsumerSettings.model_construct(
        approvers_by_region={"EMEA": "emea@example.com"},
        escalation_email="director@example.com",
        reminder_seconds=1,
        escalation_seconds=1,
        expiry_seconds=1,
    )


def review_lines(holder_status: str) -> dict[str, str]:
    from deals import workflow

    holder, _ = approved(partner_id="prt_holder") if holder_status == "approved" else register(partner_id="prt_holder")
    registration = Registration(
        deal_id=holder.deal_id,
        partner_id="prt_holder",
        status=holder.status,
        protection_ends_at=holder.protection_ends_at,
    )
    rival, _ = register(partner_id="prt_rival", by_company=[registration])
    review = Review(
        deal=rival,
        purpose="registration",
        mode="manual",
        conflicting={holder.deal_id: holder},
        partner_country="GB",
        partner_names={"prt_holder": "Contoso Distribution", "prt_rival": "Northwind Traders"},
        now=NOW,
    )
    payload = workflow.approval_input(review, consumer_settings())
    return {line["label"]: line["value"] for line in payload["summary"]}


def test_the_approver_is_told_before_deciding_that_an_approved_conflict_wins() -> None:
    lines = review_lines("approved")
    notice = lines["Before you decide"]
    assert notice.startswith("Contoso Distribution already holds approved protection for this prospect until 2027-")
    assert "if you approve, this registration will be rejected automatically" in notice
    assert lines["Partner"] == "Northwind Traders"
    assert "partner Contoso Distribution," in lines["Conflict 1"]
    assert "prt_" not in " ".join(lines.values())  # partners by company name, never by id


def test_a_pending_conflict_is_announced_with_the_rule() -> None:
    notice = review_lines("submitted")["Before you decide"]
    assert "pending (Contoso Distribution)" in notice and "First approved wins" in notice


# ------------------------------------------------------------------ reversing a win (rewards, issue 12)
VENDOR = Principal(sub="v", email="channel@example.com", name="", partner_id=None, groups=frozenset({"vendor-admin"}))


def won_deal(amount_minor: int = 125_000) -> Any:
    deal, _ = approved()
    won = Won(amount=Money(amount_minor=amount_minor, currency="USD"), close_date=date(2026, 11, 20))
    return domain.mark_won(deal, won, NOW, ids)


def test_a_win_carries_who_registered_the_deal_its_products_and_its_revision() -> None:
    deal, event = won_deal()
    assert (event.registered_by, event.products, event.win_revision) == ("seller@p1.com", ["NET-FW-100"], 1)
    assert deal.win_revision == 1 and deal.win_reversal is None


def test_older_wins_parse_with_defaults_and_older_won_records_are_at_their_first_win() -> None:
    _, event = won_deal()
    old = {k: v for k, v in event.to_json_dict().items() if k not in ("registered_by", "products", "win_revision")}
    parsed = DealWon.model_validate(old)
    assert (parsed.registered_by, parsed.products, parsed.win_revision) == (None, [], 1)
    with pytest.raises(ValidationError):
        DealWon.model_validate(old | {"win_revision": 0})
    deal, _ = won_deal()
    record = deal.model_dump(mode="json")
    del record["win_revision"]
    assert Deal.model_validate(record).win_revision == 1
    assert Deal.model_validate(approved()[0].model_dump(mode="json") | {"won": None}).win_revision == 0


def test_a_win_names_its_prospect_and_matches_the_published_schema_with_or_without_it() -> None:
    deal, event = won_deal()
    assert event.prospect_name == deal.prospect.company_name
    envelope = {"id": "1", "source": DealWon.SOURCE, "detail-type": DealWon.DETAIL_TYPE, "time": "2026-11-20T00:00:00Z"}
    validate(envelope | {"detail": event.to_json_dict()})
    old = {k: v for k, v in event.to_json_dict().items() if k != "prospect_name"}
    validate(envelope | {"detail": old})  # events published before the field still match the schema
    assert DealWon.model_validate(old).prospect_name is None
    with pytest.raises(jsonschema.ValidationError):
        validate(envelope | {"detail": old | {"prospect_name": 7}})


def test_a_reversed_win_waits_for_the_corrected_win_which_is_the_next_revision() -> None:
    deal, _ = won_deal(125_000)
    later = NOW + timedelta(days=200)  # long after protection ended: the correction still goes through
    reversed_, event = domain.reverse_win(
        deal, reason="Amount was gross, not net.", reversed_by="ops@v", now=later, new_id=ids
    )
    assert reversed_.status == "win_reversed" and reversed_.won is None and reversed_.win_revision == 1
    assert reversed_.win_reversal is not None and reversed_.win_reversal.previous_amount.amount_minor == 125_000
    assert (
        reversed_.timeline[-1].status == "win_reversed" and "Amount was gross, not net." in reversed_.timeline[-1].note
    )
    assert (event.deal_id, event.win_revision, event.reason, event.reversed_by, event.previous_amount.amount_minor) == (
        deal.deal_id,
        1,
        "Amount was gross, not net.",
        "ops@v",
        125_000,
    )
    assert domain.next_step(reversed_)[0].startswith("Win reversed by the vendor")
    with pytest.raises(domain.InvalidState):  # no stage changes or extensions on a deal that was won
        domain.set_stage(reversed_, "commit", later)
    corrected, again = domain.mark_won(
        reversed_, Won(amount=Money(amount_minor=100_000, currency="USD"), close_date=date(2026, 11, 20)), later, ids
    )
    assert corrected.status == "won" and corrected.win_revision == 2 and again.win_revision == 2
    assert again.amount.amount_minor == 100_000 and "correction 1" in corrected.timeline[-1].note
    second, reversal = domain.reverse_win(corrected, reason="Cancelled.", reversed_by="ops@v", now=later, new_id=ids)
    assert reversal.win_revision == 2 and reversal.previous_amount.amount_minor == 100_000
    lost, _ = domain.mark_lost(second, "Customer cancelled.", later, ids)  # or the partner closes it as lost
    assert lost.status == "lost"


@pytest.mark.parametrize("status", ["approved", "win_reversed", "lost"])
def test_only_a_won_deal_can_be_reversed_and_the_conflict_names_the_status(status: str) -> None:
    deal, _ = won_deal()
    if status == "approved":
        deal, _ = approved()
    elif status == "win_reversed":
        deal, _ = domain.reverse_win(deal, reason="x", reversed_by="ops@v", now=NOW, new_id=ids)
    else:
        deal, _ = domain.mark_lost(approved()[0], "Budget cut.", NOW, ids)
    with pytest.raises(Conflict) as refused:
        domain.reverse_win(deal, reason="again", reversed_by="ops@v", now=NOW, new_id=ids)
    assert refused.value.code == "invalid_state" and [e.field for e in refused.value.errors] == ["status"]


def test_only_vendor_staff_reverse_a_win() -> None:
    domain.ensure_vendor(VENDOR, "reverse a won deal")
    for groups, partner_id in (({"partner-admin"}, "prt_1"), ({"partner-user"}, "prt_1"), (set(), None)):
        someone = Principal(sub="s", email="s@x", name="", partner_id=partner_id, groups=frozenset(groups))
        with pytest.raises(Forbidden):
            domain.ensure_vendor(someone, "reverse a won deal")
    assert WinReversalRequest.model_validate({"reason": " Wrong amount "}).reason == "Wrong amount"
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "amount": 1}):
        with pytest.raises(ValidationError):
            WinReversalRequest.model_validate(body)
