"""Deals and the partner's tier, handlers against moto: PartnerTierChanged projected beside the partner (in order,
whatever order it arrives in), and the automatic approval limit of the partner's tier (template parameters
DealAutoApproveLimits and DealAutoApproveLimitsByTier, at their defaults: USD 50,000 for a partner whose tier is not
listed or not known; registered USD 25,000, gold USD 100,000, platinum USD 250,000)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from deals.domain import project_tier
from deals.models import TierChange
from tests.integration.conftest import Stack
from tests.integration.test_deals import deals_functions, executions, flush, register, status_of
from tests.support.factories import bus_envelope, deal_body, partner_onboarded
from tests.support.lambda_events import LambdaContext, claims_for

USD_30K, USD_80K = 3_000_000, 8_000_000


@pytest.fixture(scope="module")
def deals(stack: Stack) -> Any:
    return deals_functions(stack)


def tier_changed(partner_id: str, tier_id: str, rank: int, effective_at: str, event_id: str | None = None) -> Any:
    """A `PartnerTierChanged` as the bus delivers it from the tiers context."""
    detail = {
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "occurred_at": effective_at,
        "version": "1",
        "partner_id": partner_id,
        "previous": None,
        "tier": {"tier_id": tier_id, "name": tier_id.title(), "rank": rank},
        "direction": "initial" if rank == 0 else "upgrade",
        "reason": "Met the criteria.",
        "criteria_version": "2026-11-01",
        "approved_by": None,
        "effective_at": effective_at,
    }
    return bus_envelope("prm.tiers", "PartnerTierChanged", detail)


def send(stack: Stack, deals: Any, *envelopes: Any) -> None:
    for envelope in envelopes:
        boto3.client("sqs").send_message(QueueUrl=stack.ref("DealsEventsQueue"), MessageBody=json.dumps(envelope))
    flush(stack, deals)


def partner(stack: Stack, deals: Any, *tiers: Any) -> dict[str, str]:
    """A partner deals knows, with the tier changes `tiers` (tier_id, rank, effective_at) delivered first: they may
    arrive before onboarding's PartnerOnboarded."""
    partner_id = f"prt_{uuid.uuid4().hex[:10]}"
    send(stack, deals, *(tier_changed(partner_id, *tier) for tier in tiers))
    envelope = partner_onboarded(partner_id)
    send(stack, deals, envelope)
    claims = claims_for(
        sub=f"sub-{partner_id}",
        email=f"seller@{envelope['detail']['domain']}",
        partner_id=partner_id,
        groups=["partner-admin"],
    )
    if stack.accept_projected_agreement("DealsTable", "DealsEventsQueue", claims):
        flush(stack, deals)
    return claims


def reviewed(stack: Stack, deals: Any, claims: dict[str, str], amount: int) -> str:
    """How a new registration of `amount` (USD minor units) was reviewed: `auto` or `manual`."""
    status, receipt = register(stack, deals, claims, deal_body(amount=amount))
    assert status == 201, receipt
    deal_id = receipt["deal_id"]
    flush(stack, deals, until=lambda: status_of(stack, deals, claims, deal_id) in {"approved", "under_review"})
    automatic = [e for e in executions(stack, "DealAutoApprovalStateMachine") if deal_id in e["name"]]
    human = [e for e in executions(stack, "DealApprovalStateMachine") if deal_id in e["name"]]
    assert len(automatic) + len(human) == 1, (automatic, human)
    return "auto" if automatic else "manual"


def test_the_partners_tier_sets_its_automatic_approval_limit(stack: Stack, deals: Any) -> None:
    untiered = partner(stack, deals)
    gold = partner(stack, deals, ("gold", 2, "2026-12-01T10:00:00.000Z"))
    registered = partner(stack, deals, ("registered", 0, "2026-12-01T10:00:00.000Z"))
    diamond = partner(stack, deals, ("diamond", 9, "2026-12-01T10:00:00.000Z"))  # a tier the settings do not list
    assert [reviewed(stack, deals, p, USD_80K) for p in (untiered, gold, registered, diamond)] == [
        "manual",
        "auto",
        "manual",
        "manual",
    ]
    assert [reviewed(stack, deals, p, USD_30K) for p in (untiered, gold, registered, diamond)] == [
        "auto",
        "auto",
        "manual",  # the entry tier's own limit is lower than the default
        "auto",
    ]


def test_tier_changes_apply_in_order_whatever_order_they_arrive_in(stack: Stack, deals: Any) -> None:
    _, consumers, _ = deals
    repository = consumers.service().repository
    # the newer upgrade arrives before the older initial tier, and both before the partner itself
    me = partner(stack, deals, ("gold", 2, "2026-12-02T10:00:00.000Z"), ("registered", 0, "2026-12-01T10:00:00.000Z"))
    partner_id = me["custom:partner_id"]
    kept = repository.partner_tier(partner_id)
    assert kept is not None and (kept.tier_id, kept.rank) == ("gold", 2)
    assert repository.partner(partner_id).company_name.startswith("Reseller")  # the profile is there too
    assert reviewed(stack, deals, me, USD_80K) == "auto"
    late = tier_changed(partner_id, "silver", 1, "2026-12-01T12:00:00.000Z")
    assert consumers.handle_message(late, LambdaContext()) == "older or repeated tier change"
    # the write's own condition refuses an older change that passed a stale read (two changes in flight at once)
    stale = project_tier(
        None, TierChange(partner_id, "silver", "Silver", 1, datetime(2026, 12, 1, 12, tzinfo=UTC), "evt_z")
    )
    assert stale is not None and not repository.project_tier(stale)
    assert repository.partner_tier(partner_id).tier_id == "gold"
    downgrade = tier_changed(partner_id, "registered", 0, "2026-12-03T10:00:00.000Z")
    assert consumers.handle_message(downgrade, LambdaContext()) == "tier registered projected"
    assert consumers.handle_message(downgrade, LambdaContext()) == "tier registered projected"  # the first answer
    assert repository.partner_tier(partner_id).tier_id == "registered"
    assert reviewed(stack, deals, me, USD_30K) == "manual"
