"""The rewards HTTP routes (Chalice app `prm-rewards`): parse, call the service, shape the answer. No rules here.
A's routes (campaigns, a person's and an organisation's rewards, holds) are below; B's redemption routes are a
blueprint registered at the end (rewards.api_redemptions)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from rewards.api_edge import SETTINGS, agreement, app, handle_errors, post_once, request, respond
from rewards.api_redemptions import blueprint as redemption_routes
from rewards.domain.campaigns import amount_words
from rewards.domain.ledger import BUCKETS
from rewards.models.earning import (
    Account,
    CampaignBody,
    CampaignClose,
    CampaignPatch,
    Reward,
    RewardDecline,
    RewardHold,
    RewardRelease,
)
from rewards.params import page_limit
from rewards.repository.store import RewardsRepository
from rewards.service.campaigns import CampaignView, RewardLine, RewardsService
from shared.errors import FieldError, ValidationFailed
from shared.http import id_or_400, parse_body, principal_from
from shared.principal import Principal

CAMPAIGN_ID = re.compile(r"^cmp_[A-Za-z0-9]{6,40}$")
REWARD_ID = re.compile(r"^rwd_[a-f0-9]{32}$")
LISTED_STATUSES = ("pending", "on_hold", "approved", "declined")

app.register_blueprint(redemption_routes)  # B's routes: catalogue, redemptions, tax forms, payout batches, claims


@cache
def service() -> RewardsService:
    return RewardsService(
        RewardsRepository(SETTINGS.table_name),
        agreement(),
        payout_currencies=frozenset(SETTINGS.payout_minimums),
    )


def caller() -> Principal:
    """The signed-in user, from the verified token (a partner user's partner id is the token's, never the body's);
    a partner user only once they accepted the current programme agreement (403 agreement_required)."""
    return service().admit(principal_from(request()))


def optional_body(model: type[Any]) -> bool:
    """Routes with nothing to choose accept no body, `{}`, or (validated) a JSON object; True when one was sent."""
    current = request()
    if not (current.raw_body or b"").strip():
        return False
    parse_body(current, model)
    return True


# ------------------------------------------------------------------ answers
def campaign_answer(view: CampaignView, *, vendor: bool) -> dict[str, Any]:
    c = view.campaign
    answer = c.model_dump(mode="json", exclude={"revision"})
    answer["rules"] = [
        rule.model_dump(mode="json") | {"in_words": words}
        for rule, words in zip(c.rules, view.rules_in_words, strict=True)
    ]
    if not vendor:  # partners see what they can earn, not the vendor's budget bookkeeping
        for hidden in ("budget", "committed", "per_partner_cap", "created_by", "auto_approve_below"):
            answer.pop(hidden, None)
    else:
        answer["remaining"] = max(c.budget - c.committed, 0)
    return answer


def balance_answer(account: Account) -> dict[str, Any]:
    return {
        "unit": account.unit,
        "available": account.available,
        "pending": account.pending,
        "on_hold": account.on_hold,
        "approved": account.approved,
        "reserved": account.reserved,
        "paid": account.paid,
        "available_in_words": amount_words(account.available, account.unit),
    }


def history_answer(item: dict[str, Any]) -> dict[str, Any]:
    """One line of a person's history: a reward (campaign, source, status, reason, dates) or a redemption (B's).
    Every line has `at` (a reward's earned_at, a redemption's requested_at) and `status_at`."""
    if item.get("entity") == "reward":
        reward = Reward.model_validate(item)
        return {
            "type": "reward",
            "id": reward.reward_id,
            "campaign_id": reward.campaign_id,
            "campaign_name": reward.campaign_name,
            "source": reward.source.model_dump(mode="json"),
            "rule": reward.rule_words,
            "amount": reward.amount,
            "unit": reward.unit,
            "amount_in_words": amount_words(reward.amount, reward.unit),
            "status": reward.status,
            "status_reason": reward.status_reason,
            "status_at": reward.model_dump(mode="json")["status_at"],
            "at": reward.model_dump(mode="json")["earned_at"],
            "available_at": reward.model_dump(mode="json")["available_at"],
            "paid_amount": reward.paid_amount,
            "paid_at": reward.model_dump(mode="json")["paid_at"],
        }
    keep = (
        "entity",
        "status",
        "status_reason",
        "amount",
        "unit",
        "status_at",
        "kind",
        "item_id",
        "item_name",  # the catalogue item's name when it was redeemed
        "redemption_id",
    )
    line = {"type": str(item.get("entity", "record"))} | {k: item.get(k) for k in keep if k != "entity"}
    return line | {"at": item.get("requested_at")}  # every line's date is `at`: when it was earned or requested


def reward_answer(reward: Reward) -> dict[str, Any]:
    return reward.model_dump(mode="json", exclude={"revision"})


def reward_line_answer(line: RewardLine) -> dict[str, Any]:
    """A reward on vendor staff's lists: who, what for, how much, where it stands, and what happens next."""
    reward = line.reward
    dumped = reward.model_dump(mode="json")
    return {
        "reward_id": reward.reward_id,
        "partner": {"partner_id": reward.partner_id, "name": line.partner_name},
        "person_email": reward.person_email,
        "campaign_id": reward.campaign_id,
        "campaign_name": reward.campaign_name,
        "rule": reward.rule_words,
        "source": dumped["source"],
        "amount": reward.amount,
        "unit": reward.unit,
        "amount_in_words": amount_words(reward.amount, reward.unit),
        "status": reward.status,
        "status_reason": reward.status_reason,
        "status_at": dumped["status_at"],
        "earned_at": dumped["earned_at"],
        "fact_at": dumped["fact_at"],
        "available_at": dumped["available_at"],
        "paid_amount": reward.paid_amount,
        "paid_at": dumped["paid_at"],
        "approval_lapsed": reward.approval_lapsed,
        "next_step": line.next_step,
        "history": dumped["history"],
    }


# ------------------------------------------------------------------ campaigns
@app.route("/rewards/campaigns", methods=["POST"])
@handle_errors
def create_campaign() -> Any:
    principal = caller()
    service().ensure_manages_campaigns(principal)
    body = parse_body(request(), CampaignBody)
    return post_once(
        "create_campaign",
        principal.sub,
        lambda: (201, campaign_answer(service().create_campaign(principal, body), vendor=True)),
        body_is_key=True,
    )


@app.route("/rewards/campaigns", methods=["GET"])
@handle_errors
def list_campaigns() -> Any:
    principal = caller()
    vendor = principal.in_group("vendor-admin")
    return respond(200, {"items": [campaign_answer(v, vendor=vendor) for v in service().campaigns(principal)]})


@app.route("/rewards/campaigns/{campaign_id}", methods=["GET"])
@handle_errors
def get_campaign(campaign_id: str) -> Any:
    principal = caller()
    campaign_id = id_or_400(campaign_id, CAMPAIGN_ID, "campaign_id")
    view = service().campaign(principal, campaign_id)
    return respond(200, campaign_answer(view, vendor=principal.in_group("vendor-admin")))


@app.route("/rewards/campaigns/{campaign_id}", methods=["PATCH"])
@handle_errors
def patch_campaign(campaign_id: str) -> Any:
    principal = caller()
    service().ensure_manages_campaigns(principal)
    campaign_id = id_or_400(campaign_id, CAMPAIGN_ID, "campaign_id")
    body = parse_body(request(), CampaignPatch)
    return respond(200, campaign_answer(service().patch_campaign(principal, campaign_id, body), vendor=True))


@app.route("/rewards/campaigns/{campaign_id}/close", methods=["POST"])
@handle_errors
def close_campaign(campaign_id: str) -> Any:
    principal = caller()
    service().ensure_manages_campaigns(principal)
    campaign_id = id_or_400(campaign_id, CAMPAIGN_ID, "campaign_id")
    run = lambda: (200, campaign_answer(service().close_campaign(principal, campaign_id), vendor=True))  # noqa: E731
    if not optional_body(CampaignClose):  # no body: closing is idempotent by itself (a closed one stays closed)
        return respond(*run())
    return post_once(f"close_campaign:{campaign_id}", principal.sub, run)


# ------------------------------------------------------------------ people's rewards
@app.route("/rewards/me", methods=["GET"])
@handle_errors
def my_rewards() -> Any:
    principal = caller()
    params = request().query_params or {}
    mine = service().mine(principal, limit=page_limit(params), cursor=params.get("cursor") or None)
    return respond(
        200,
        {
            "balances": [balance_answer(a) for a in sorted(mine.balances, key=lambda a: a.unit)],
            "items": [history_answer(item) for item in mine.history],
            "next_cursor": mine.cursor,
            # the smallest payout per currency (minor units), so the portal states it on the redemption form
            "payout_minimums": dict(SETTINGS.payout_minimums),
        },
    )


@app.route("/rewards/organisation", methods=["GET"])
@handle_errors
def organisation_rewards() -> Any:
    accounts = service().organisation(caller())
    people = [
        {"person_email": a.person_email, "earned": a.earned, "reversed": a.reversed, "declined": a.declined}
        | balance_answer(a)
        for a in accounts
    ]
    totals: dict[str, dict[str, int]] = {}
    for a in accounts:  # every bucket of the people's accounts (earned is the sum of the others), as theirs add up
        unit = totals.setdefault(a.unit, dict.fromkeys(BUCKETS, 0))
        for name in unit:
            unit[name] += getattr(a, name)
    return respond(200, {"people": people, "totals": [{"unit": u} | t for u, t in sorted(totals.items())]})


# ------------------------------------------------------------------ vendor staff: rewards by status, holds
@app.route("/rewards/rewards", methods=["GET"])
@handle_errors
def rewards_by_status() -> Any:
    principal = caller()
    RewardsService.ensure_vendor_admin(principal, RewardsService.LIST)
    params = request().query_params or {}
    status = params.get("status", "")
    if status not in LISTED_STATUSES:
        raise ValidationFailed(
            "status must be pending, on_hold, approved or declined.",
            [FieldError("status", "one of " + ", ".join(LISTED_STATUSES))],
        )
    campaign_id = params.get("campaign_id") or None
    if campaign_id is not None:
        campaign_id = id_or_400(campaign_id, CAMPAIGN_ID, "campaign_id")
    page = service().rewards_with_status(
        principal, status, campaign_id=campaign_id, limit=page_limit(params), cursor=params.get("cursor") or None
    )
    return respond(200, {"items": [reward_line_answer(line) for line in page.lines], "next_cursor": page.cursor})


@app.route("/rewards/{reward_id}/hold", methods=["POST"])
@handle_errors
def hold_reward(reward_id: str) -> Any:
    principal = caller()
    RewardsService.ensure_vendor_admin(principal, RewardsService.HOLD)
    reward_id = id_or_400(reward_id, REWARD_ID, "reward_id")
    body = parse_body(request(), RewardHold)
    return post_once(
        f"hold:{reward_id}",
        principal.sub,
        lambda: (200, reward_answer(service().hold(principal, reward_id, body.reason))),
    )


@app.route("/rewards/{reward_id}/release", methods=["POST"])
@handle_errors
def release_reward(reward_id: str) -> Any:
    principal = caller()
    RewardsService.ensure_vendor_admin(principal, RewardsService.RELEASE)
    reward_id = id_or_400(reward_id, REWARD_ID, "reward_id")
    run = lambda: (200, reward_answer(service().release(principal, reward_id)))  # noqa: E731
    if not optional_body(RewardRelease):  # no body: a repeated release answers the pending reward as it is
        return respond(*run())
    return post_once(f"release:{reward_id}", principal.sub, run)


@app.route("/rewards/{reward_id}/decline", methods=["POST"])
@handle_errors
def decline_reward(reward_id: str) -> Any:
    principal = caller()
    RewardsService.ensure_vendor_admin(principal, RewardsService.DECLINE_HELD)
    reward_id = id_or_400(reward_id, REWARD_ID, "reward_id")
    body = parse_body(request(), RewardDecline)
    return post_once(
        f"decline:{reward_id}",
        principal.sub,
        lambda: (200, reward_answer(service().decline_held(principal, reward_id, body.reason))),
    )
