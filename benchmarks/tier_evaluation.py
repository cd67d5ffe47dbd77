"""Tier evaluation: DynamoDB items read per evaluation of one partner with 10 and with 10,000 facts on record. The
figure must not grow with the partner's history (docs/tiers.md: evaluation reads running totals, never a replay).

An in-process moto gets every resource of template.yaml through the Provisioner, with the integration tests'
parameters (tests/integration/conftest.py); the tiers API and consumer handlers are imported with their functions'
template environment. A criteria version is published and, per size, a partner is onboarded through the consumer
(PartnerOnboarded), then given N facts on record: N won deals and approved registrations (half each, all in the
trailing window), counted by tiers.domain.totals and serialised by TiersRepository.save itself (captured, not sent)
and loaded with batch_write_item. Measured, through the handlers, each repeated and the median taken:

- deal won: tiers.consumers.handle_message with a DealWon bus event for a new deal (the evaluation it triggers);
- certification earned: the same with a CertificationEarned event (a new holder);
- window slide: a Reevaluation timer message after one fact left the window (what the one-time schedule delivers);
- status: the API handler for GET /programme (the partner's explained status with its newest 20 history entries).

For each: the DynamoDB items read (GetItem's Item, Query's ScannedCount, BatchGetItem's items) and written
(PutItem/UpdateItem/DeleteItem, TransactWriteItems' Put/Update/Delete), counted with botocore event hooks on the
cached shared.aws.client("dynamodb") the code uses; Powertools' idempotency record (the consumer's de-duplication
by event id) is part of each delivery and counted too. moto's full-table Query and per-action table copy in
transactions are removed as in deal_registration.py.
Usage: `.venv/bin/python benchmarks/tier_evaluation.py [--sizes 10,10000] [--repeat 5] [--strict]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "tiers")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported
warnings.filterwarnings("ignore", message="No application metrics to publish")

from benchmarks.dynamo_meter import provisioned_stack  # noqa: E402
from infrastructure.local import moto_patches  # noqa: E402
from shared.aws import client  # noqa: E402
from shared.dynamo import Table  # noqa: E402
from shared.money import Money  # noqa: E402
from shared.principal import Principal  # noqa: E402
from tests.support.factories import bus_envelope, partner_onboarded  # noqa: E402
from tests.support.lambda_events import LambdaContext, api_event, claims_for  # noqa: E402

SIZES = (10, 10_000)
REPEAT = 5
VENDOR = Principal(
    sub="vendor-bench",
    email="programme-admin@example.com",
    name="",
    partner_id=None,
    groups=frozenset({"vendor-admin"}),
)
OPERATIONS = ("deal won", "certification earned", "window slide", "status")


# --------------------------------------------------------------------------------------------- counting DynamoDB
@dataclass
class Meter:
    """Items read and written by the code's DynamoDB client since reset(), per operation name."""

    read: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)

    def attach(self, dynamodb: Any) -> None:
        dynamodb.meta.events.register("after-call.dynamodb", self._finish)

    def reset(self) -> None:
        self.read, self.written = Counter(), Counter()

    def _finish(self, parsed: dict[str, Any], model: Any, params: Any = None, **_: Any) -> None:
        name = model.name
        if "Error" in parsed:
            return
        if name == "GetItem":
            self.read[name] += 1 if parsed.get("Item") else 0
        elif name in ("Query", "Scan"):
            self.read[name] += int(parsed.get("ScannedCount", len(parsed.get("Items") or [])))
        elif name == "BatchGetItem":
            self.read[name] += sum(len(found) for found in (parsed.get("Responses") or {}).values())
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.written[name] += 1

    def request(self, model_name: str, params: dict[str, Any]) -> None:
        if model_name == "TransactWriteItems":
            self.written[model_name] += sum(1 for op in params["TransactItems"] if "ConditionCheck" not in op)

    @property
    def items_read(self) -> int:
        return sum(self.read.values())

    @property
    def items_written(self) -> int:
        return sum(self.written.values())


# --------------------------------------------------------------------------------------------- seeding
class CapturingTable(Table):
    """A shared.dynamo.Table that keeps what a transaction would write instead of sending it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def transact(self, operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            (kind, action), *_ = operation.items()
            if kind != "Put":
                raise NotImplementedError(f"seeding loads only Put items, not {kind}")
            item = action["Item"]
            self.items[item["pk"]["S"], item["sk"]["S"]] = item  # the last write of a key wins (the standing)


def seed(table_name: str, partner_id: str, facts: int, now: datetime, window_days: int) -> None:
    """`facts` won deals and approved registrations on record for the partner, through the repository's own items."""
    from tiers.domain import totals as counting
    from tiers.models import StandingChange
    from tiers.repository import TiersRepository

    live = TiersRepository(table_name)
    standing = live.standing(partner_id)
    assert standing is not None and standing.tier is not None, "onboard the partner first"
    capture = TiersRepository(table_name)
    capturing = CapturingTable(table_name)
    capture.table = capturing
    for k in range(facts):
        deal_id = f"deal_seed_{k:06d}"
        if k % 2:
            fact = counting.approval_fact(deal_id, now - timedelta(days=1, minutes=k), window_days)
        else:
            amount = Money(currency="USD", amount_minor=10_000 + k)
            fact = counting.revenue_fact(deal_id, amount, (now - timedelta(days=1 + k % 300)).date(), window_days)
        totals = counting.count_in(standing.totals, fact, now)
        assert totals is not None
        standing = standing.model_copy(update={"totals": totals, "revision": standing.revision + 1})
        capture.save(StandingChange(standing, fact=fact, counted=True))
    items = list(capturing.items.values())
    dynamodb = client("dynamodb")
    with moto_patches.item_size_unchecked():
        for offset in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[offset : offset + 25]]
            dynamodb.batch_write_item(RequestItems={table_name: batch})


def exited_fact(table_name: str, partner_id: str, now: datetime, window_days: int) -> None:
    """One more approved registration, whose window ended a second ago (its timer is about to fire)."""
    from tiers.domain import totals as counting
    from tiers.models import StandingChange
    from tiers.repository import TiersRepository

    repository = TiersRepository(table_name)
    standing = repository.standing(partner_id)
    assert standing is not None
    fact = counting.approval_fact(
        f"deal_{uuid.uuid4().hex[:10]}", now - timedelta(days=window_days, seconds=1), window_days
    )
    totals = standing.totals.model_copy(
        update={"approved_deals": standing.totals.approved_deals + 1, "next_exit": fact.exits_at}
    )
    counted = standing.model_copy(update={"totals": totals, "revision": standing.revision + 1})
    repository.save(StandingChange(counted, fact=fact, counted=True))


# --------------------------------------------------------------------------------------------- the run
def event(source: str, detail_type: str, partner_id: str, **detail: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    base = {"event_id": f"evt_{uuid.uuid4().hex}", "occurred_at": now, "version": "1", "partner_id": partner_id}
    return bus_envelope(source, detail_type, base | detail)


def run(sizes: tuple[int, ...], repeat: int) -> dict[int, dict[str, tuple[int, int]]]:
    results: dict[int, dict[str, tuple[int, int]]] = {}
    with provisioned_stack(workflows=True) as stack:
        consumers = stack.load("TiersEventsFunction", "tiers.consumers")
        api = stack.load("TiersApiFunction", "tiers.api")
        table_name = stack.ref("TiersTable")
        window_days = int(stack.env("TiersEventsFunction")["WINDOW_DAYS"])

        from tiers.models import VersionRequest

        body = {
            "effective_from": datetime.now(UTC).date().isoformat(),
            "upgrade_approval": "automatic",
            "tiers": [
                {"tier_id": "registered", "name": "Registered"},
                {"tier_id": "silver", "name": "Silver", "criteria": {"approved_deals": 10**5}},
                {
                    "tier_id": "gold",
                    "name": "Gold",
                    "criteria": {
                        "won_revenue": [{"currency": "USD", "amount_minor": 10**14}],
                        "certifications": [
                            {"certification_id": "cert-eng", "label": "certified engineer", "people": 50}
                        ],
                    },
                },
            ],
        }
        consumers.service().certification_defined("cert-eng", "Engineer", datetime.now(UTC))  # CertificationDefined
        api.service().add_version(VENDOR, VersionRequest.model_validate(body))  # as POST /programme/versions does

        meter = Meter()
        dynamodb = client("dynamodb")
        meter.attach(dynamodb)
        dynamodb.meta.events.register(
            "provide-client-params.dynamodb.TransactWriteItems",
            lambda params, **_: meter.request("TransactWriteItems", params),
        )
        context = LambdaContext()
        for size in sizes:
            onboarded = partner_onboarded()
            partner_id = onboarded["detail"]["partner_id"]
            assert "onboarded" in consumers.handle_message(onboarded, context)
            seed(table_name, partner_id, size, datetime.now(UTC), window_days)
            claims = claims_for(
                sub=f"sub-{partner_id}",
                email=f"admin@{onboarded['detail']['domain']}",
                partner_id=partner_id,
                groups=["partner-admin"],
            )
            stack.ensure_user(claims)
            per: dict[str, list[tuple[int, int]]] = {name: [] for name in OPERATIONS}
            for n in range(repeat):
                won = event(
                    "prm.deals",
                    "DealWon",
                    partner_id,
                    deal_id=f"deal_bench_{n}",
                    amount={"amount_minor": 12_345, "currency": "USD"},
                    close_date=datetime.now(UTC).date().isoformat(),
                )
                earned_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                earned = event(
                    "prm.training",
                    "CertificationEarned",
                    partner_id,
                    award_id=f"award_bench_{n}",
                    certification_id="cert-eng",
                    certification_name="Engineer",
                    holder_email=f"eng{n}@{onboarded['detail']['domain']}",
                    earned_at=earned_at,
                    expires_at="2030-01-01T00:00:00Z",
                    renewal=False,
                )
                for name, message in (("deal won", won), ("certification earned", earned)):
                    meter.reset()
                    outcome = consumers.handle_message(message, context)
                    assert "nothing changed" not in outcome, outcome
                    per[name].append((meter.items_read, meter.items_written))
                exited_fact(table_name, partner_id, datetime.now(UTC), window_days)
                due = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                meter.reset()
                outcome = consumers.handle_message(
                    {"message_type": "Reevaluation", "partner_id": partner_id, "due_at": due, "cause": "window"},
                    context,
                )
                assert outcome.startswith("1 facts left"), outcome
                per["window slide"].append((meter.items_read, meter.items_written))
                meter.reset()
                answer = api.app(api_event("GET", "/programme", claims=claims), context)
                assert answer["statusCode"] == 200, answer
                per["status"].append((meter.items_read, meter.items_written))
            results[size] = {
                name: (int(statistics.median(r for r, _ in runs)), int(statistics.median(w for _, w in runs)))
                for name, runs in per.items()
            }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--strict", action="store_true", help="exit 1 when items read differ between sizes")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    saved = dict(os.environ)
    try:
        results = run(sizes, args.repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"DynamoDB items per evaluation of one partner (median of {args.repeat}), by facts on record")
    header = f"{'operation':<22}" + "".join(f"{f'{s:,} facts: read / written':>32}" for s in sizes)
    print(header)
    for name in OPERATIONS:
        print(f"{name:<22}" + "".join(f"{f'{results[s][name][0]} / {results[s][name][1]}':>32}" for s in sizes))
    flat = {name: {results[s][name][0] for s in sizes} for name in OPERATIONS}
    grows = [name for name, reads in flat.items() if len(reads) > 1]
    print(json.dumps({"sizes": sizes, "items": {str(s): results[s] for s in sizes}, "reads_grow_with_history": grows}))
    return 1 if args.strict and grows else 0


if __name__ == "__main__":
    sys.exit(main())
