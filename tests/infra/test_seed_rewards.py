"""The demo's rewards seed: its campaigns and catalogue are bodies the rewards API accepts, its wins tell the story it
promises under the rewards domain's own rules (one approved at once, one waiting for the approver, one to decline,
a payout Nancy can afford without a tax form), a second seeding reuses what exists, and the banner line reads the
Rewards page's data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from infrastructure.local import seed_rewards
from infrastructure.local.template import load_template
from rewards.domain.campaigns import rule_words
from rewards.domain.earning import DealFact, judge
from rewards.domain.eligibility import start_of
from rewards.models.earning import Campaign, CampaignBody
from rewards.models.redemptions import CatalogueItemBody

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
CERTIFICATION = "crt_demo"


def response(status: int, body: Any) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body).encode()
    answer.headers["Content-Type"] = "application/json"
    return answer


@dataclass
class ScriptedPeople:
    """Answers GETs from `listed`; records every POST and answers it 201 with the body and an id."""

    listed: dict[str, list[dict[str, Any]]]
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def api(self, method: str, path: str, *, session: Any, json: Any = None) -> requests.Response:
        if method == "GET":
            return response(200, {"items": self.listed.get(path.split("?", maxsplit=1)[0], [])})
        self.posted.append((path, json))
        return response(201, json | {"campaign_id": "cmp_new", "item_id": "item_new"})


def stored(body: dict[str, Any]) -> Campaign:
    """A demo campaign as the rewards API stores it (rule ids r1, r2 ...), open."""
    parsed = CampaignBody.model_validate(body)
    rules = [rule.model_copy(update={"rule_id": f"r{n}"}) for n, rule in enumerate(parsed.rules, start=1)]
    return Campaign.model_validate(
        parsed.model_dump()
        | {
            "rules": [r.model_dump() for r in rules],
            "campaign_id": "cmp_demo",
            "status": "open",
            "committed": 0,
            "created_by": "channel.admin@example.com",
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }
    )


def earned(campaign: Campaign, amount_minor: int, products: list[str]) -> list[int]:
    fact = DealFact(
        partner_id="prt_northwind",
        deal_id="deal_demo",
        revision=1,
        amount_minor=amount_minor,
        currency="USD",
        at=start_of(TODAY),
        products=tuple(products),
        earner=seed_rewards.NANCY,
    )
    return [applied.amount for applied in judge(fact, [(campaign, None)]).applied]


def parameter(name: str) -> dict[str, int]:
    return dict(json.loads(load_template(ROOT / "template.yaml")["Parameters"][name]["Default"]))


def test_the_demo_definitions_are_bodies_the_rewards_api_accepts_with_rules_in_plain_words() -> None:
    fast = CampaignBody.model_validate(seed_rewards.fast_start(TODAY))
    sase = CampaignBody.model_validate(seed_rewards.sase_points(TODAY, CERTIFICATION))
    assert fast.starts_on <= TODAY <= fast.ends_on and sase.starts_on <= TODAY <= sase.ends_on
    assert "rounded down" in rule_words(fast.rules[0], fast.unit)
    assert [r.kind for r in sase.rules] == ["deal_won_per_sku", "certification_earned", "spiff_claim"]
    for item in seed_rewards.CATALOGUE:
        CatalogueItemBody.model_validate(item)


def test_the_demo_wins_earn_what_the_story_says_under_the_domain_rules() -> None:
    fast = stored(seed_rewards.fast_start(TODAY))
    sase = stored(seed_rewards.sase_points(TODAY, CERTIFICATION))
    auto = fast.auto_approve_below
    globex = earned(fast, seed_rewards.GLOBEX_WON, ["NET-FW-100"])
    hooli = earned(fast, seed_rewards.HOOLI[2], seed_rewards.HOOLI[3])
    umbrella = earned(fast, seed_rewards.UMBRELLA[2], seed_rewards.UMBRELLA[3])
    soylent = earned(fast, seed_rewards.SOYLENT[2], seed_rewards.SOYLENT[3])
    assert globex == [18_000] and hooli == [15_000]
    assert globex[0] < auto and hooli[0] < auto  # approved and available at once
    assert umbrella[0] >= auto and soylent[0] >= auto  # one stays pending, the other is declined by the approver
    assert earned(sase, seed_rewards.HOOLI[2], seed_rewards.HOOLI[3]) == [2_500] < [sase.auto_approve_below]
    assert earned(sase, seed_rewards.GLOBEX_WON, ["NET-FW-100"]) == []  # no SASE in it
    budget_use = globex[0] + hooli[0] + umbrella[0] + soylent[0]
    assert fast.per_partner_cap is not None and budget_use <= fast.per_partner_cap <= fast.budget
    minimum, threshold = parameter("RewardPayoutMinimums")["USD"], parameter("RewardTaxFormThresholds")["USD"]
    assert minimum <= seed_rewards.PAYOUT <= globex[0] and threshold >= seed_rewards.PAYOUT  # paid without a tax form


def test_a_second_seeding_reuses_the_open_campaign_and_the_item_and_makes_what_is_missing() -> None:
    body = seed_rewards.fast_start(TODAY)
    people = ScriptedPeople(
        {
            "/rewards/campaigns": [
                {"name": body["name"], "status": "closed", "campaign_id": "cmp_old"},
                {"name": body["name"], "status": "open", "campaign_id": "cmp_open"},
            ],
            "/rewards/catalogue": [dict(seed_rewards.CATALOGUE[0], item_id="item_there")],
        }
    )
    assert seed_rewards.ensure_campaign(people, None, body)["campaign_id"] == "cmp_open"  # type: ignore[arg-type]
    assert seed_rewards.ensure_item(people, None, seed_rewards.CATALOGUE[0])["item_id"] == "item_there"  # type: ignore[arg-type]
    assert people.posted == []
    campaigns = seed_rewards.define(people, None, CERTIFICATION)  # type: ignore[arg-type]
    assert [path for path, _ in people.posted] == ["/rewards/campaigns", "/rewards/catalogue"]
    assert [c["campaign_id"] for c in campaigns] == ["cmp_open", "cmp_new"]


def test_only_a_closed_campaign_of_the_name_makes_a_new_one() -> None:
    body = seed_rewards.fast_start(TODAY)
    people = ScriptedPeople({"/rewards/campaigns": [{"name": body["name"], "status": "closed", "campaign_id": "x"}]})
    assert seed_rewards.ensure_campaign(people, None, body)["campaign_id"] == "cmp_new"  # type: ignore[arg-type]
    assert people.posted == [("/rewards/campaigns", body)]


@dataclass
class OneAnswer:
    answer: requests.Response

    def api(self, method: str, path: str, *, session: Any) -> requests.Response:
        return self.answer


def line(status: str, unit: str = "USD", **more: Any) -> dict[str, Any]:
    return {"type": "reward", "status": status, "unit": unit, "source": {"id": "deal_x"}, "campaign_id": "c"} | more


def test_the_banner_line_reads_balances_paid_declined_and_who_approves_the_pending_one() -> None:
    rewards = {
        "balances": [
            {"unit": "USD", "available": 18_000, "pending": 24_000, "on_hold": 0, "paid": 15_000},
            {"unit": "points", "available": 2_500, "pending": 0, "on_hold": 0, "paid": 0},
        ],
        "items": [line("pending"), line("declined"), line("available"), {"type": "redemption", "status": "paid"}],
    }
    [banner] = seed_rewards.describe(OneAnswer(response(200, rewards)), None)  # type: ignore[arg-type]
    assert banner == (
        "Nancy's rewards: 180.00 USD available, 240.00 USD pending; 2,500 points available; 150.00 USD paid; "
        "1 declined (reason on the page); channel-programme@example.com approves the pending one in the mail viewer "
        "(Rewards page)."
    )


@pytest.mark.parametrize("answer", [response(403, {"code": "forbidden"}), response(200, {"balances": [], "items": []})])
def test_no_banner_line_without_rewards(answer: requests.Response) -> None:
    assert seed_rewards.describe(OneAnswer(answer), None) == []  # type: ignore[arg-type]
