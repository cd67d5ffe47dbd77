"""Rewards ledger: a person's balance read and an earning at 10 and at 10,000 ledger entries on record for that
person; the DynamoDB items either reads must not grow with the history (docs/rewards.md: the account item keeps the
running buckets, the ledger is append-only and never replayed).

An in-process moto gets every resource of template.yaml through the Provisioner, with the integration tests'
parameters (tests/integration/conftest.py); the rewards API, events and partner-projection handlers are imported with
their functions' template environment. A campaign is created through the API (a fixed amount per won deal, approved
automatically, available at once) and, per size, a partner is onboarded through the projection consumer
(PartnerOnboarded) and one of its users gets N ledger entries: won deals earned through the domain itself
(rewards.domain.earning.judge and plan_earning: earned, approved, made available = 3 entries each, and a pending
reward for the remainder), serialised by the repository's own item functions and loaded with batch_write_item, with
the campaign's and the partner's committed totals. Measured through the handlers, each repeated and the median taken:

- balance read: the API handler for GET /rewards/me (the person's balances per unit and the newest page of their
  history, `limit` 20, as the portal asks);
- earning: rewards.consumers.handle_message with a DealWon bus event for a new deal the person registered (earned,
  approved automatically and made available in one transaction, and the earner's email once).

For each: the DynamoDB items read (GetItem's Item, Query's ScannedCount, BatchGetItem's items) and written
(PutItem/UpdateItem/DeleteItem, TransactWriteItems' Put/Update/Delete), counted with botocore event hooks on the
cached shared.aws.client("dynamodb") the code uses; Powertools' idempotency record (the consumer's de-duplication by
event id) is part of each delivery and counted too. moto's full-table Query is shortened as in tier_evaluation.py.
The balance read is also split by call: the accounts (a Query of the person's account items, one per unit) must be
the same at every size, and the history page reads at most its `limit`, whatever the history's length.
Usage: `.venv/bin/python benchmarks/rewards_ledger.py [--sizes 10,10000] [--repeat 5] [--strict]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "rewards")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported
warnings.filterwarnings("ignore", message="No application metrics to publish")


from benchmarks.dynamo_meter import Meter, load, provisioned_stack, scans  # noqa: E402
from shared.aws import client  # noqa: E402
from shared.dynamo import to_item  # noqa: E402
from tests.support.factories import bus_envelope, partner_onboarded  # noqa: E402
from tests.support.lambda_events import LambdaContext, api_event, claims_for, sqs_event  # noqa: E402

SIZES = (10, 10_000)
REPEAT = 5
HISTORY_LIMIT = 20  # the page GET /rewards/me answers by default (the portal's first page)
AMOUNT = 100  # points per won deal
VENDOR = claims_for(sub="vendor-bench", email="rewards-admin@example.com", partner_id=None, groups=["vendor-admin"])
OPERATIONS = ("balance read", "earning")
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING"}  # the handlers log each request at INFO: the figures are the output


# --------------------------------------------------------------------------------------------- seeding
def seeded_items(
    table_name: str, campaign_id: str, partner_id: str, email: str, entries: int, now: datetime
) -> list[dict[str, Any]]:
    """`entries` ledger entries of one person, made by the earning domain and stored as the repository stores them:
    won deals earned, approved and made available (3 entries each), and a pending reward for each entry left over."""
    from rewards.domain.earning import DealFact, judge, plan_earning
    from rewards.domain.ledger import new_account
    from rewards.repository import keys
    from rewards.repository.earning import account_item, entry_item, reward_item
    from rewards.repository.store import RewardsRepository

    repository = RewardsRepository(table_name)
    campaign = repository.campaign(campaign_id)
    assert campaign is not None
    waiting = campaign.model_copy(update={"auto_approve_below": 0})  # the same campaign, its reward left pending
    account = new_account(partner_id, email, campaign.unit, now)
    items: list[dict[str, Any]] = []
    committed, booked, k = 0, 0, 0
    while booked < entries:
        at = now - timedelta(days=365) + timedelta(seconds=k)  # oldest first, as they were earned
        fact = DealFact(
            partner_id=partner_id,
            deal_id=f"deal_seed_{k:06d}",
            revision=1,
            amount_minor=1_000_000,
            currency="USD",
            at=at,
            products=(),
            earner=email,
        )
        applied = judge(fact, [(campaign if entries - booked >= 3 else waiting, None)]).applied
        assert len(applied) == 1, applied
        earning = plan_earning(
            applied[0],
            fact,
            account,
            new_account=booked == 0,
            refused=None,
            reversal=None,
            now=at,
            event_ids=[f"evt_seed_{k}_{n}" for n in range(4)],
        )
        account, committed, booked, k = (
            earning.account,
            committed + earning.committed,
            booked + len(earning.entries),
            k + 1,
        )
        marker_pk, marker_sk = keys.source_marker("deal", fact.deal_id, 1, earning.reward.reward_id)
        items += [reward_item(earning.reward), *(entry_item(e) for e in earning.entries)]
        items.append(
            {"pk": marker_pk, "sk": marker_sk, "entity": "source_marker", "reward_id": earning.reward.reward_id}
        )
    assert booked == entries and account.seq == entries, (booked, account.seq)
    campaign_pk, _ = keys.campaign(campaign_id)
    _, partner_sk = keys.partner_commitment(campaign_id, partner_id)
    items += [
        account_item(account),
        {
            "pk": campaign_pk,
            "sk": partner_sk,
            "entity": "partner_commitment",
            "campaign_id": campaign_id,
            "partner_id": partner_id,
            "committed": committed,
        },
    ]
    client("dynamodb").update_item(  # the campaign's running total, as each earning's transaction adds to it
        TableName=table_name,
        Key=to_item(dict(zip(("pk", "sk"), keys.campaign(campaign_id), strict=True))),
        UpdateExpression="SET committed = committed + :delta",
        ExpressionAttributeValues=to_item({":delta": committed}),
    )
    return items


# --------------------------------------------------------------------------------------------- the run


def deal_won(partner_id: str, deal_id: str, earner: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    detail = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "version": "1",
        "partner_id": partner_id,
        "deal_id": deal_id,
        "amount": {"amount_minor": 1_000_000, "currency": "USD"},
        "close_date": now.date().isoformat(),
        "registered_by": earner,
        "products": [],
        "win_revision": 1,
    }
    return bus_envelope("prm.deals", "DealWon", detail)


@dataclass
class Result:
    size: int
    seconds_to_load: float
    median: dict[str, tuple[int, int]]
    calls: dict[str, list[tuple[str, int, int]]]  # the last run's calls per operation
    history_items: int
    balance: dict[str, Any]


def measure(
    api: Any, consumers: Any, meter: Meter, claims: dict[str, str], repeat: int
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[str, int, int]]], dict[str, Any]]:
    """Each operation `repeat` times: (items read, written) per run, the last run's calls, the last balance read."""
    context = LambdaContext()
    partner_id, email = claims["custom:partner_id"], claims["email"]
    per: dict[str, list[tuple[int, int]]] = {name: [] for name in OPERATIONS}
    calls: dict[str, list[tuple[str, int, int]]] = {}
    body: dict[str, Any] = {}
    for n in range(repeat):
        meter.reset()
        answer = api.app(api_event("GET", "/rewards/me", claims=claims), context)
        assert answer["statusCode"] == 200, answer
        body = json.loads(answer["body"])
        per["balance read"].append((meter.items_read, meter.items_written))
        calls["balance read"] = list(meter.calls)

        meter.reset()
        outcome = consumers.handle_message(deal_won(partner_id, f"deal_bench_{n}", email), context)
        assert "available" in outcome, outcome  # earned, approved and made available
        per["earning"].append((meter.items_read, meter.items_written))
        calls["earning"] = list(meter.calls)
    return per, calls, body


def run(sizes: tuple[int, ...], repeat: int) -> list[Result]:
    results: list[Result] = []
    with provisioned_stack(workflows=True) as stack:
        api = stack.load("RewardsApiFunction", "rewards.api", **QUIET)
        consumers = stack.load("RewardsEventsFunction", "rewards.consumers", **QUIET)
        partners = stack.load("RewardsPartnersFunction", "rewards.partners", **QUIET)
        table_name = stack.ref("RewardsTable")
        context = LambdaContext()
        stack.ensure_user(VENDOR)
        today = datetime.now(UTC).date()
        campaign = {
            "name": "Benchmark: points per won deal",
            "starts_on": (today - timedelta(days=400)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "unit": "points",
            "budget": 10**12,
            "auto_approve_below": 10**6,
            "available_after_days": 0,
            "rules": [{"kind": "deal_won_fixed", "amount": AMOUNT}],
        }
        answer = api.app(api_event("POST", "/rewards/campaigns", body=campaign, claims=VENDOR), context)
        assert answer["statusCode"] == 201, answer
        campaign_id = json.loads(answer["body"])["campaign_id"]

        meter = Meter()
        meter.attach(client("dynamodb"))
        for size in sizes:
            onboarded = partner_onboarded(country="US")
            partner_id = onboarded["detail"]["partner_id"]
            message = {"MessageId": uuid.uuid4().hex, "ReceiptHandle": "r", "Body": json.dumps(onboarded)}
            failed = partners.handler(sqs_event([message], stack.attr("RewardsPartnersQueue", "Arn")), context)
            assert not failed["batchItemFailures"], failed
            email = f"seller@{onboarded['detail']['domain']}"
            started = time.perf_counter()
            load(table_name, seeded_items(table_name, campaign_id, partner_id, email, size, datetime.now(UTC)))
            loaded = time.perf_counter() - started
            claims = claims_for(sub=f"sub-{partner_id}", email=email, partner_id=partner_id, groups=["partner-user"])
            stack.ensure_user(claims)
            per, calls, body = measure(api, consumers, meter, claims, repeat)
            (points,) = [b for b in body["balances"] if b["unit"] == "points"]
            expected = AMOUNT * (size // 3 + repeat - 1)  # every complete seeded reward and the runs before the last
            assert points["available"] == expected, (points, expected)
            results.append(
                Result(
                    size=size,
                    seconds_to_load=loaded,
                    median={
                        name: (int(statistics.median(r for r, _ in runs)), int(statistics.median(w for _, w in runs)))
                        for name, runs in per.items()
                    },
                    calls=calls,
                    history_items=len(body["items"]),
                    balance=points,
                )
            )
    return results


def _by_call(calls: list[tuple[str, int, int]]) -> str:
    return " + ".join(
        f"{name} ({read} read{f', {written} written' if written else ''})" for name, read, written in calls
    )


def report(results: list[Result], repeat: int) -> bool:
    """Print the figures and the verdicts; True when neither operation's reads grow with the history."""
    print(f"Rewards: DynamoDB items per operation for one person (median of {repeat}), by ledger entries on record")
    for r in results:
        print(
            f"  {r.size:>6,} entries: loaded in {r.seconds_to_load:.1f} s; balance after the runs: "
            f"{r.balance['available']:,} points available, {r.balance['pending']:,} pending"
        )
    header = f"{'operation':<14}" + "".join(f"{f'{r.size:,} entries: read / written':>34}" for r in results)
    print(header)
    for name in OPERATIONS:
        print(f"{name:<14}" + "".join(f"{f'{r.median[name][0]} / {r.median[name][1]}':>34}" for r in results))
    print(
        f"  (balance read = the person's accounts, one item per unit, + the newest page of their history, at most "
        f"{HISTORY_LIMIT} records: a short history fills less than a page. The last run's calls:)"
    )
    for name in OPERATIONS:
        for r in results:
            print(f"  {name}, {r.size:,}: {_by_call(r.calls[name])}")

    ok = True
    small, large = results[0], results[-1]

    def verdict(text: str, holds: bool) -> None:
        nonlocal ok
        ok &= holds
        print(f"{text} -> {'OK' if holds else 'GROWS'}")

    versus = f"{large.size:,} vs {small.size:,} entries"
    earning = (large.median["earning"][0], small.median["earning"][0])
    verdict(f"earning, {versus}: items read {earning[0]} vs {earning[1]}", earning[0] <= earning[1])

    def split(r: Result) -> tuple[int, int]:
        """The last balance read's items: (balances, history page)."""
        history = sum(read for call, read, _ in r.calls["balance read"] if call.endswith("@gsi1"))
        return sum(read for _, read, _ in r.calls["balance read"]) - history, history

    balances = {split(r)[0] for r in results}
    page = max(split(r)[1] for r in results)
    verdict(
        f"balance read, {versus}: balances {'/'.join(map(str, sorted(balances)))} item(s) read at every size; the "
        f"history page reads {' vs '.join(str(split(r)[1]) for r in reversed(results))} (limit {HISTORY_LIMIT}, "
        f"{large.history_items} shown at {large.size:,})",
        len(balances) == 1 and page <= HISTORY_LIMIT,
    )
    scanned = [c for r in results for calls in r.calls.values() for c in scans(calls)]
    ok &= not scanned
    print(f"Scan in the measured calls: {len(scanned)}")
    print(
        json.dumps(
            {
                "sizes": [r.size for r in results],
                "items": {str(r.size): r.median for r in results},
                "reads_grow_with_history": not ok,
            }
        )
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="ledger entries, ascending")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--strict", action="store_true", help="exit 1 when items read grow with the ledger")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    saved = dict(os.environ)
    try:
        results = run(sizes, args.repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    ok = report(results, args.repeat)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
