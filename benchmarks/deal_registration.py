"""Deal registration against 1,000 and then 20,000 existing registrations: DynamoDB items read and calls per
registration, and latency, through the real DealsService and DealsRepository in an in-process moto.

For each size a fresh moto gets every resource of template.yaml (the deals table with its own key schema and GSIs).
The existing registrations are made by running the real service (register, review, decide, win, lose, expire) over a
year of simulated time against an in-memory stand-in for shared.dynamo.Table, in a second process, while this one
loads the finished items with batch_write_item: the table holds exactly the items the code writes. Then 200 new deals
are registered through DealsService.register (alternately for a new prospect and for a popular prospect that other
partners registered before), and the partner's deal list is read. Items read are the items DynamoDB read (GetItem,
Query's ScannedCount, ...), counted on the service's own cached boto3 client, apart from the number of calls. Two of
moto's costs that DynamoDB does not have (a full-table walk per Query, a table deep copy per transaction) are removed
in-process by infrastructure/local/moto_patches.py; the run checks that this changes no answer. See
benchmarks/README.md.
Usage: `.venv/bin/python benchmarks/deal_registration.py [--sizes 1000,20000] [--measured 200] [--strict]`.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import json
import multiprocessing
import os
import platform
import random
import re
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "deals")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported

import boto3  # noqa: E402 - the environment above must be set first
import moto  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from deals import domain  # noqa: E402
from deals.models import (  # noqa: E402
    DealDecision,
    NewDeal,
    PartnerProjection,
    Product,
    ProtectionEnded,
    RegisterDealRequest,
    Won,
)
from deals.ports import DuplicateOpenRegistration  # noqa: E402
from deals.prospects import company_key, domain_key  # noqa: E402
from deals.repository import DealsRepository  # noqa: E402
from deals.service import DealsService, DealWorkflowService  # noqa: E402
from infrastructure.local import moto_patches  # noqa: E402
from infrastructure.local.provision import Provisioner  # noqa: E402
from infrastructure.local.template import Template, load_template  # noqa: E402
from shared.aws import client, reset_clients  # noqa: E402
from shared.clock import utc_now  # noqa: E402
from shared.dynamo import ConditionFailed, Table, from_item  # noqa: E402
from shared.ids import new_id  # noqa: E402
from shared.money import Money  # noqa: E402
from shared.principal import Principal  # noqa: E402

SIZES = (1_000, 20_000)
MEASURED = 200
SEED_PARTNERS = 200
HISTORY = timedelta(days=365)
POPULAR_EVERY = 100  # 1% of prospects are popular: 5-20 registrations each, from different partners
CONFLICT_TARGETS = (5, 7, 9, 11, 13, 15, 17, 20)  # the first popular prospects, identical at every size
LIST_LIMIT = 20
LIST_ROUNDS = 3
SIMULATION_CHUNK = 1_000  # registrations per chunk the seeding worker hands to the loader
SEED = 20261126
PRODUCTS = [
    ("NET-FW-100", "Firewall 100", "Network security"),
    ("NET-FW-400", "Firewall 400", "Network security"),
    ("NET-FW-1000", "Firewall 1000", "Network security"),
    ("NET-SW-24", "Switch 24", "Switching"),
    ("NET-SW-48", "Switch 48", "Switching"),
    ("NET-SW-48P", "Switch 48 PoE", "Switching"),
    ("WLAN-AP-6", "Access point Wi-Fi 6", "Wireless"),
    ("WLAN-AP-7", "Access point Wi-Fi 7", "Wireless"),
    ("SEC-EDR-1Y", "Endpoint protection, 1 year", "Endpoint"),
    ("SEC-EDR-3Y", "Endpoint protection, 3 years", "Endpoint"),
    ("SUP-NBD", "Next-business-day support", "Services"),
    ("SUP-4H", "Four-hour support", "Services"),
]
COUNTRIES = ["GB", "DE", "FR", "NL", "SE", "US", "CA", "AU", "JP", "SG"]
CURRENCY = {"GB": "GBP", "US": "USD", "CA": "CAD", "AU": "AUD", "JP": "JPY", "SG": "SGD"}
# How partners write the same prospect: every spelling normalises to the same domain and company keys.
COMPANY_SPELLINGS = ["{name} Ltd", "{upper} LIMITED", "{name} Holdings", "The {name} Company", "{name}, Inc.", "{name}"]
WEBSITE_SPELLINGS = ["https://www.{slug}.com", "{slug}.com", "http://sales.{slug}.com/contact", "https://{slug}.com/"]
SYLLABLES = [c + v + e for c in "bdklmrtv" for v in "aeio" for e in "nrx"][:32]


# --------------------------------------------------------------------------------------------- counting DynamoDB
@dataclass
class Call:
    operation: str
    target: str  # what was read: the kind of partition key, or the index
    items: int
    seconds: float


@dataclass
class Reads:
    """Every call the DynamoDB client made since reset(): items DynamoDB returned, and the time inside the call."""

    calls: list[Call] = field(default_factory=list)
    _open: tuple[float, str] | None = None

    def attach(self, dynamodb: Any) -> None:
        # provide-client-params is the first event of a call and after-call the last one (errors included).
        dynamodb.meta.events.register("provide-client-params.dynamodb", self._start)
        dynamodb.meta.events.register("after-call.dynamodb", self._finish)

    def reset(self) -> None:
        self.calls = []

    @property
    def items(self) -> int:
        return sum(c.items for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        self._open = (time.perf_counter(), _target(params))

    def _finish(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self._open is None:
            return
        started, target = self._open
        self._open = None
        # A Query reads ScannedCount items (the code uses no filter, so it returns them all: Count is the same).
        items = (1 if parsed.get("Item") else 0) + parsed.get("ScannedCount", len(parsed.get("Items") or []))
        responses = parsed.get("Responses")
        if isinstance(responses, dict):  # BatchGetItem
            items += sum(len(found) for found in responses.values())
        elif isinstance(responses, list):  # TransactGetItems
            items += sum(1 for found in responses if found.get("Item"))
        self.calls.append(Call(model.name, target, items, time.perf_counter() - started))


def _target(params: dict[str, Any]) -> str:
    if params.get("IndexName"):
        return f"index {params['IndexName']}"
    key = (params.get("Key") or {}).get("pk") or (params.get("ExpressionAttributeValues") or {}).get(":pk") or {}
    text = str(key.get("S", ""))
    return "#".join(text.split("#", 2)[:2]) if text.startswith("PROSPECT#") else text.split("#", 1)[0]


# --------------------------------------------------------------------------------------------- moto shortcuts
def install_moto_shortcuts() -> None:
    """Remove costs moto has and DynamoDB does not, changing no answer (infrastructure/local/moto_patches.py).

    moto 5 answers every Query by listing and sorting all items of the table, and TransactWriteItems deep-copies the
    whole table once per action for its rollback. At 20,000 registrations that is about a second per Query and tens
    of seconds per transaction, so latency would measure moto's table size. moto_patches.apply() makes a transaction
    keep an undo record of the items it touches instead (as in the local stack), and apply_query_shortcuts() makes a
    base-table Query list only its own partition and an index Query skip its pointless first sort. `plain_moto()`
    turns the Query shortcuts off so the benchmark can check that both give the same answers.
    """
    moto_patches.apply_query_shortcuts()  # runs moto_patches.apply() first; both refuse another moto version


# While seeding: moto re-measures the whole item for every attribute it stores (400 KB limit), which is quadratic in
# a deal's attributes; the repository's items are a few KB, so the check is skipped for the load.
item_size_unchecked = moto_patches.item_size_unchecked
plain_moto = moto_patches.plain_query  # moto's own full-table Query while inside


# --------------------------------------------------------------------------------------------- seeding
class MemoryTable(Table):
    """shared.dynamo.Table over a dict, so seeding runs the real service and repository at memory speed.

    It answers as DynamoDB does for what the deals code uses: get, a Query of one whole partition by sort-key prefix,
    and transactions with the repository's condition expressions (all or nothing; ConditionFailed with one reason
    per action). It stores the items exactly as the repository serialised them, ready for batch_write_item.
    """

    CLAUSE = re.compile(r"(\w+) (=|<=|<) (:\w+)")

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.partitions: dict[str, dict[str, dict[str, Any]]] = {}
        self.plain: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        return self._plain(pk, sk) if sk in self.partitions.get(pk, {}) else None

    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [item for pk, sk in keys if (item := self.get(pk, sk)) is not None]

    def _plain(self, pk: str, sk: str) -> dict[str, Any]:
        """The item as from_item gives it, deserialised once (callers only validate it into models)."""
        plain = self.plain.get((pk, sk))
        if plain is None:
            plain = self.plain[pk, sk] = from_item(self.partitions[pk][sk])
        return plain

    def query(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        start_key: dict[str, Any] | None = None,
        index: str | None = None,
        key_names: tuple[str, str] = ("pk", "sk"),
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        if index or limit or start_key:
            raise NotImplementedError("seeding reads whole partitions of the table only")
        partition = self.partitions.get(pk, {})
        keys = sorted((sk for sk in partition if sk.startswith(sk_prefix or "")), reverse=not forward)
        return [self._plain(pk, sk) for sk in keys], None

    def put_new(self, item: dict[str, Any]) -> None:
        self.transact([self.op_put(item)])

    def transact(self, operations: list[dict[str, Any]]) -> None:
        reasons = ["None" if self._holds(op) else "ConditionalCheckFailed" for op in operations]
        if "ConditionalCheckFailed" in reasons:
            raise ConditionFailed(reasons)
        for operation in operations:
            (kind, action), *_ = operation.items()
            pk, sk = self._key(action)
            self.plain.pop((pk, sk), None)
            if kind == "Put":
                self.partitions.setdefault(pk, {})[sk] = action["Item"]
            elif kind == "Delete":
                self.partitions.get(pk, {}).pop(sk, None)
            elif kind != "ConditionCheck":
                raise NotImplementedError(kind)

    @staticmethod
    def _key(action: dict[str, Any]) -> tuple[str, str]:
        key = action.get("Item") or action["Key"]
        return key["pk"]["S"], key["sk"]["S"]

    def _holds(self, operation: dict[str, Any]) -> bool:
        (_, action), *_ = operation.items()
        condition = action.get("ConditionExpression")
        if not condition:
            return True
        if action.get("ExpressionAttributeNames"):
            raise NotImplementedError(condition)
        pk, sk = self._key(action)
        current = self.get(pk, sk)
        values = from_item(action.get("ExpressionAttributeValues") or {})
        for clause in condition.split(" OR "):
            if clause == "attribute_not_exists(pk)":
                if current is None:
                    return True
                continue
            match = self.CLAUSE.fullmatch(clause)
            if match is None:
                raise NotImplementedError(clause)
            name, operator, placeholder = match.groups()
            if current is None or name not in current:
                continue
            have, want = current[name], values[placeholder]
            if (
                (operator == "=" and have == want)
                or (operator == "<=" and have <= want)
                or (operator == "<" and have < want)
            ):
                return True
        return False


class Clock:
    """The service's clock during seeding: simulated time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Prospect:
    index: int
    name: str
    slug: str
    country: str

    def request(self, variant: int, products: list[str], amount_minor: int, close_by: datetime) -> dict[str, Any]:
        """The POST /deals body a partner sends, with this partner's spelling of the prospect."""
        company = COMPANY_SPELLINGS[variant % len(COMPANY_SPELLINGS)]
        website = WEBSITE_SPELLINGS[variant % len(WEBSITE_SPELLINGS)]
        return {
            "prospect": {
                "company_name": company.format(name=self.name, upper=self.name.upper()),
                "website": website.format(slug=self.slug),
                "country": self.country,
                "contact": {"name": "Robin Buyer", "email": f"robin.buyer@{self.slug}.com", "title": "IT Director"},
            },
            "products": products,
            "estimated_value": {"amount_minor": amount_minor, "currency": CURRENCY.get(self.country, "EUR")},
            "expected_close_date": close_by.date().isoformat(),
            "description": "Refresh of the branch network and endpoint protection.",
        }


def prospect(index: int, syllables: int = 3) -> Prospect:
    parts, number = [], index
    for _ in range(syllables):
        number, rest = divmod(number, len(SYLLABLES))
        parts.append(SYLLABLES[rest])
    name = "".join(parts).capitalize()
    return Prospect(index, name, name.lower(), COUNTRIES[index % len(COUNTRIES)])


def principal(partner_id: str) -> Principal:
    host = partner_id.replace("_", "-")
    return Principal(
        sub=f"user-{host}",
        email=f"sales@{host}.example.com",
        name="Sam Seller",
        partner_id=partner_id,
        groups=frozenset({"partner-user"}),
    )


def partner_projection(partner_id: str, as_of: datetime) -> PartnerProjection:
    return PartnerProjection(
        partner_id=partner_id, company_name=f"Reseller {partner_id}", country="GB", status="active", as_of=as_of
    )


@dataclass
class Plan:
    """One existing registration: who registers which prospect when, and what the reviewer and the deal do later."""

    prospect: Prospect
    variant: int
    partner_id: str
    at: datetime
    products: list[str]
    amount_minor: int
    review_after: timedelta  # a channel manager decides conflicts and large deals; others are approved automatically
    approve: bool
    outcome: str  # once approved: "won", "lost", or "expire" at the end of protection
    close_after: timedelta


@dataclass
class Seeded:
    size: int
    prospects: int
    popular: int
    targets: list[Prospect]
    partners: list[str]
    busiest_partner: str
    items: dict[str, int]
    statuses: Counter[str]
    outbox_past_ttl: int
    simulate_seconds: float
    load_seconds: float
    seconds: float


def plans(size: int, now: datetime, rng: random.Random) -> tuple[list[Plan], int, int, list[Prospect], list[str]]:
    """`size` registrations over the past year: most prospects once, every 100th by 5-20 different partners."""
    partners = [f"prt_s{k:04d}" for k in range(SEED_PARTNERS)]
    weights = [1 / (k + 1) for k in range(SEED_PARTNERS)]  # a few partners register most deals
    skus = [sku for sku, _, _ in PRODUCTS]
    found: list[Plan] = []
    targets: list[Prospect] = []
    index = popular = 0
    while len(found) < size:
        p = prospect(index)
        if index % POPULAR_EVERY == 0 and popular < len(CONFLICT_TARGETS):
            # A conflict target: its history comes from its own generator, so it is the same at every size.
            count, draw = CONFLICT_TARGETS[popular], random.Random(f"{SEED}-target-{index}")
            targets.append(p)
            popular += 1
        elif index % POPULAR_EVERY == 0:
            count, draw = rng.randint(5, 20), rng
            popular += 1
        else:
            count, draw = 1, rng
        count = min(count, size - len(found))
        registrants: list[str] = []
        while len(registrants) < count:
            candidate = draw.choices(partners, weights)[0]
            if candidate not in registrants:
                registrants.append(candidate)
        for variant, partner_id in enumerate(registrants):
            found.append(
                Plan(
                    prospect=p,
                    variant=variant,
                    partner_id=partner_id,
                    at=now - HISTORY * draw.random() - timedelta(hours=1),
                    products=draw.sample(skus, draw.randint(1, 3)),
                    amount_minor=draw.choice([1_500_000, 2_500_000, 4_000_000, 7_500_000, 12_000_000]),
                    review_after=timedelta(days=draw.uniform(1, 6)),
                    approve=draw.random() < 0.65,
                    outcome=draw.choices(["won", "lost", "expire"], [45, 25, 30])[0],
                    close_after=timedelta(days=draw.uniform(10, 120)),
                )
            )
        index += 1
    return found, index, popular, targets, partners


def simulate(
    all_plans: list[Plan], partners: list[str], table_name: str, settings: dict[str, Any], now: datetime
) -> Iterator[list[dict[str, Any]]]:
    """Run a year of registrations and their workflows through the real service over a MemoryTable.

    Everything a registration touches is keyed by its prospect (prospect indexes, open and protection claims) or by
    its own deal, so prospects are independent: they are simulated in chunks, and each chunk's items are yielded
    (as the repository serialised them) and dropped. Partner profiles and products stay; they are not yielded.
    """
    memory = DealsRepository(table_name)
    table = memory.table = MemoryTable(table_name)
    clock = Clock(now - HISTORY - timedelta(days=1))
    service = DealsService(memory, clock=clock)
    limits = domain.AutoApprovalLimits(default=settings["limits"], by_tier=settings["limits_by_tier"])
    terms = domain.DealTerms(
        protection=settings["protection"], extension=settings["extension"], auto_approve_limits=limits
    )
    unused = NotReached()
    flows = DealWorkflowService(
        repository=memory, workflows=unused, mailer=unused, notices=unused, effects=unused, terms=terms, clock=clock
    )
    for partner_id in partners:
        memory.project_partner(partner_projection(partner_id, clock.now))
    for sku, name, family in PRODUCTS:
        memory.add_product(Product(sku=sku, name=name, family=family))
    kept = set(table.partitions)

    queue: list[tuple[datetime, int, str, Plan, str]] = []
    order = itertools.count()

    def later(at: datetime, step: str, plan: Plan, deal_id: str = "") -> None:
        if at < now:  # what would happen after now has not happened yet
            heapq.heappush(queue, (at, next(order), step, plan, deal_id))

    chunk: list[Plan] = []
    for number, plan in enumerate(all_plans):
        chunk.append(plan)
        if number + 1 < len(all_plans) and (
            len(chunk) < SIMULATION_CHUNK or all_plans[number + 1].prospect is plan.prospect
        ):
            continue
        for planned in chunk:
            later(planned.at, "register", planned)
        chunk = []
        while queue:
            clock.now, _, step, planned, deal_id = heapq.heappop(queue)
            _step(service, flows, memory, clock, later, step, planned, deal_id)
        done = [pk for pk in table.partitions if pk not in kept]
        yield [item for pk in done for item in table.partitions.pop(pk).values()]
        table.plain.clear()


class NotReached:
    """The workflow side's other ports (workflows, mail, notices, side effects): the seeding applies the rules and the
    repository only (reviews, decisions and expiry as the consumer runs them, without its events), so any use fails."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the seeding does not use {name}")


def _step(
    service: DealsService,
    flows: DealWorkflowService,
    memory: DealsRepository,
    clock: Clock,
    later: Callable[..., None],
    step: str,
    plan: Plan,
    deal_id: str,
) -> None:
    """One thing that happens to a registration, as the API, the consumers and the workflows would call the service."""
    if step == "register":
        body = plan.prospect.request(plan.variant, plan.products, plan.amount_minor, clock.now + timedelta(days=90))
        deal = service.register(principal(plan.partner_id), RegisterDealRequest.model_validate(body).new_deal())
        tier = memory.partner_tier(deal.partner_id)  # none in the seed: every partner gets the default limits
        if domain.review_mode(deal, flows.terms.auto_approve_limits, tier.tier_id if tier else None) == "manual":
            flows.mark_under_review(deal.deal_id, "channel-manager@example.com")
            later(clock.now + plan.review_after, "decide", plan, deal.deal_id)
        else:
            later(clock.now + timedelta(minutes=1), "approve", plan, deal.deal_id)
    elif step in ("decide", "approve"):
        automatic = step == "approve"
        decision = DealDecision(
            message_type="DealDecision",
            deal_id=deal_id,
            purpose="registration",
            decision="approved" if automatic or plan.approve else "rejected",
            decided_by="automatic approval" if automatic else "channel-manager@example.com",
            automatic=automatic,
            reason=None if automatic or plan.approve else "Not a qualified opportunity.",
            decided_at=clock.now,
        )
        result = flows.apply_decision(decision)
        if result == "approved":
            ends = memory.get(deal_id).protection_ends_at  # type: ignore[union-attr]
            close = clock.now + plan.close_after
            if plan.outcome == "expire" or close >= ends:  # type: ignore[operator]
                later(ends, "expire", plan, deal_id)
            else:
                later(close, plan.outcome, plan, deal_id)
    elif step == "won":
        amount = Money(amount_minor=plan.amount_minor, currency=CURRENCY.get(plan.prospect.country, "EUR"))
        service.mark_won(principal(plan.partner_id), deal_id, Won(amount=amount, close_date=clock.now.date()))
    elif step == "lost":
        service.mark_lost(principal(plan.partner_id), deal_id, "The customer chose a competitor.")
    elif step == "expire":
        flows.expire(ProtectionEnded(message_type="ProtectionEnded", deal_id=deal_id, protection_ends_at=clock.now))


def _simulate_into(chunks: Any, *args: Any) -> None:
    """The seeding worker (a forked process): simulated chunks go to the loader, then its own run time in seconds
    (a float), or the traceback (a str) if it failed."""
    started = time.perf_counter()
    try:
        for items in simulate(*args):
            chunks.put(items)
    except BaseException:
        chunks.put(traceback.format_exc())
        raise
    chunks.put(time.perf_counter() - started)


def seed(size: int, repository: DealsRepository, dynamodb: Any, settings: dict[str, Any], now: datetime) -> Seeded:
    """The existing registrations: simulated in a second process while this one loads finished chunks into moto."""
    started = time.perf_counter()
    all_plans, prospects, popular, targets, partners = plans(size, now, random.Random(f"{SEED}-{size}"))
    as_of = now - HISTORY - timedelta(days=1)
    for partner_id in partners:
        repository.project_partner(partner_projection(partner_id, as_of))
    for sku, name, family in PRODUCTS:
        repository.add_product(Product(sku=sku, name=name, family=family))

    # Outbox items carry a TTL (expires_at, 7 days after the event); DynamoDB deletes those past it: left out.
    cutoff = int(now.timestamp())
    kinds, statuses, past_ttl, loading = Counter[str](), Counter[str](), 0, 0.0
    context = multiprocessing.get_context("fork")
    chunks = context.Queue(maxsize=4)
    chunk: Any = None
    worker = context.Process(
        target=_simulate_into, args=(chunks, all_plans, partners, repository.table.name, settings, now), daemon=True
    )
    worker.start()
    try:
        while not isinstance(chunk := chunks.get(), float):
            if isinstance(chunk, str):
                raise RuntimeError(f"the seeding worker failed:\n{chunk}")
            load_started = time.perf_counter()
            requests = []
            for item in chunk:
                if "expires_at" in item and int(item["expires_at"]["N"]) <= cutoff:
                    past_ttl += 1
                    continue
                kinds[item["pk"]["S"].split("#")[0]] += 1
                if item.get("entity", {}).get("S") == "deal":
                    statuses[item["status"]["S"]] += 1
                requests.append({"PutRequest": {"Item": item}})
            with item_size_unchecked():
                for start in range(0, len(requests), 25):
                    pending: dict[str, Any] = {repository.table.name: requests[start : start + 25]}
                    while pending:
                        pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            loading += time.perf_counter() - load_started
    finally:
        if worker.is_alive() and not isinstance(chunk, float):
            worker.terminate()  # the loader failed: stop our own worker rather than leave it blocked on the queue
        worker.join()
    busiest = Counter(plan.partner_id for plan in all_plans).most_common(1)[0][0]
    return Seeded(
        size=size,
        prospects=prospects,
        popular=popular,
        targets=targets,
        partners=partners,
        busiest_partner=busiest,
        items=dict(kinds),
        statuses=statuses,
        outbox_past_ttl=past_ttl,
        simulate_seconds=chunk,
        load_seconds=loading,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------- measuring
@dataclass
class Sample:
    kind: str
    items: int
    calls: int
    seconds: float
    dynamodb_seconds: float
    by_target: dict[str, int]
    operations: set[str]
    conflicts: int = 0


@dataclass
class Result:
    seeded: Seeded
    registrations: list[Sample]
    lists: list[Sample]
    checked: int


def measure_size(size: int, measured: int, settings: dict[str, Any]) -> Result:
    with mock_aws():
        reset_clients()
        template = Template(load_template(ROOT / "template.yaml"))
        Provisioner(template, boto3.client, ROOT).provision()
        repository = DealsRepository(template.values["DealsTable"].ref)
        service = DealsService(repository)
        now = utc_now()
        # The load's own client: no parameter validation (the items come from the repository) and not counted.
        loader = boto3.client("dynamodb", config=Config(parameter_validation=False))
        gc.disable()  # the seeded table is millions of long-lived objects: collect once, then keep them out of GC
        try:
            seeded = seed(size, repository, loader, settings, now)
        finally:
            gc.enable()
        gc.collect()
        gc.freeze()  # so a full collection during a timed call does not walk the seeded table (an in-process cost)

        reads = Reads()
        reads.attach(client("dynamodb"))  # the cached client the repository's Table uses
        requests = _requests(repository, seeded, measured, now)
        # Warm the client's service model and the code paths with reads only (nothing is written).
        service.products()
        repository.partner(seeded.partners[0])
        repository.registrations("D", "warm.example.com")
        repository.list(seeded.partners[0], status=None, limit=LIST_LIMIT, cursor=None)

        samples = []
        for kind, caller, request in requests:
            reads.reset()
            started = time.perf_counter()
            deal = service.register(caller, request)
            samples.append(_sample(kind, reads, time.perf_counter() - started, conflicts=len(deal.conflicts)))
        lists = _measure_list(repository, reads, seeded.busiest_partner)
        checked = _check_emulation(repository, seeded, requests[1])
        reset_clients()
    gc.unfreeze()
    gc.collect()
    return Result(seeded, samples, lists, checked)


def _requests(
    repository: DealsRepository, seeded: Seeded, measured: int, now: datetime
) -> list[tuple[str, Principal, NewDeal]]:
    """Even ones for a new prospect, odd ones for a conflict target; a new partner each, so none is a duplicate."""
    skus = [sku for sku, _, _ in PRODUCTS]
    found = []
    for i in range(measured):
        partner_id = f"prt_m{i:04d}"
        repository.project_partner(partner_projection(partner_id, now))
        if i % 2 == 0:
            kind, target, variant = "new prospect", prospect(i, syllables=4), 0
        else:
            kind, target, variant = "popular prospect", seeded.targets[(i // 2) % len(seeded.targets)], i
        body = target.request(variant, skus[i % 4 : i % 4 + 2], 2_500_000, now + timedelta(days=60))
        found.append((kind, principal(partner_id), RegisterDealRequest.model_validate(body).new_deal()))
    return found


def _measure_list(repository: DealsRepository, reads: Reads, partner_id: str) -> list[Sample]:
    """The partner's deal list: first page, the page after it (cursor), and one status."""
    found = []
    for _ in range(LIST_ROUNDS):
        cursor = None
        for page, status in (("page 1", None), ("page 2", None), ("status=approved", "approved")):
            reads.reset()
            started = time.perf_counter()
            _, after = repository.list(partner_id, status=status, limit=LIST_LIMIT, cursor=cursor)
            found.append(_sample(page, reads, time.perf_counter() - started))
            cursor = after if page == "page 1" else None
    return found


def _sample(kind: str, reads: Reads, elapsed: float, conflicts: int = 0) -> Sample:
    by_target: Counter[str] = Counter()
    for call in reads.calls:
        by_target[f"{call.operation} {call.target}".strip()] += call.items
    operations = {call.operation for call in reads.calls}
    return Sample(kind, reads.items, len(reads.calls), elapsed, reads.seconds, dict(by_target), operations, conflicts)


def _check_emulation(repository: DealsRepository, seeded: Seeded, measured: tuple[str, Principal, NewDeal]) -> int:
    """The moto shortcuts must not change an answer: the same reads with moto's own Query, and a transaction that
    must fail as a whole. Returns the number of reads compared."""
    target = seeded.targets[0]
    reads: list[Callable[[], Any]] = [
        repository.products,
        lambda: repository.registrations("D", domain_key(target.slug + ".com")),
        lambda: repository.registrations("C", company_key(target.name)),
        lambda: repository.list(seeded.busiest_partner, status=None, limit=LIST_LIMIT, cursor=None),
    ]
    for read in reads:
        fast = read()
        with plain_moto():
            plain = read()
        if fast != plain:
            raise AssertionError(f"the moto Query shortcut changed an answer: {fast!r} != {plain!r}")

    # The same partner registers the same prospect again at the same moment: the second request has not seen the
    # first (empty conflict lists), so only the OPEN claim stops it. Nothing of it may remain.
    _, caller, request = measured
    deal, event = domain.register(
        request,
        partner_id=caller.partner_id or "",
        registered_by=caller.email,
        known_products=set(request.products),
        by_domain=[],
        by_company=[],
        now=utc_now(),
        new_id=new_id,
    )
    before = (
        repository.registrations("D", deal.prospect.domain),
        repository.registrations("C", deal.prospect.company_key),
    )
    try:
        repository.create(deal, event)
    except DuplicateOpenRegistration:
        pass
    else:
        raise AssertionError("a second open registration of one partner for one prospect was accepted")
    after = (
        repository.registrations("D", deal.prospect.domain),
        repository.registrations("C", deal.prospect.company_key),
    )
    if repository.get(deal.deal_id) is not None or after != before:
        raise AssertionError("a cancelled transaction left items behind (the moto transaction shortcut)")
    return len(reads)


# --------------------------------------------------------------------------------------------- report
def _ms(values: list[float], q: float = 0.5) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _median(values: Iterator[float] | list[float]) -> float:
    return statistics.median(list(values))


def report(results: list[Result], measured: int, elapsed: float) -> bool:
    """Print the tables and the verdicts; returns True when items read per registration do not grow."""
    print(
        f"Deal registration vs table size: DealsService.register and DealsRepository.list against template.yaml's "
        f"deals table in an in-process moto {moto.__version__} (python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores)"
    )
    for result in results:
        s = result.seeded
        items = ", ".join(f"{count:,} {kind}" for kind, count in sorted(s.items.items()))
        statuses = ", ".join(f"{count:,} {status}" for status, count in s.statuses.most_common())
        print(
            f"  {s.size:>6,} existing registrations: {s.prospects:,} prospects ({s.popular} with 5-20 registrations "
            f"from different partners; {len(s.targets)} of them, {sum(CONFLICT_TARGETS)} registrations, are the "
            f"same at every size and receive the conflicting registrations), {len(s.partners)} partners"
        )
        print(f"         deals: {statuses}")
        print(
            f"         items loaded: {items} (+{s.outbox_past_ttl:,} outbox items past their 7-day TTL left out); "
            f"seeded in {s.seconds:.1f} s (simulation {s.simulate_seconds:.1f} s in a second process, "
            f"batch_write_item {s.load_seconds:.1f} s alongside)"
        )
    print()
    print(f"Registering {measured} deals per size (a new partner each; alternately a new and a popular prospect)")
    header = (
        f"{'size':>7} {'prospect':<17} {'regs':>4} {'items read med':>14} {'max':>4} {'calls med':>9} "
        f"{'latency ms med':>14} {'p95':>6} {'in DynamoDB ms med':>18} {'own code ms med':>15} {'conflicts med':>13}"
    )
    print(header)
    print("-" * len(header))
    kinds = ["new prospect", "popular prospect"]
    for result in results:
        for kind in kinds:
            rows = [r for r in result.registrations if r.kind == kind]
            print(
                f"{result.seeded.size:>7,} {kind:<17} {len(rows):>4} {_median(r.items for r in rows):>14g} "
                f"{max(r.items for r in rows):>4} {_median(r.calls for r in rows):>9g} "
                f"{_ms([r.seconds for r in rows]):>14.1f} {_ms([r.seconds for r in rows], 0.95):>6.1f} "
                f"{_ms([r.dynamodb_seconds for r in rows]):>18.1f} "
                f"{_ms([r.seconds - r.dynamodb_seconds for r in rows]):>15.1f} "
                f"{_median(r.conflicts for r in rows):>13g}"
            )
    for result in results:
        for kind in kinds:
            rows = [r for r in result.registrations if r.kind == kind]
            parts = Counter[str]()
            for row in rows:
                parts.update(row.by_target)
            reads = " + ".join(f"{target} {count / len(rows):.1f}" for target, count in parts.items() if count)
            print(f"  {result.seeded.size:>6,} {kind}: items read, mean per registration = {reads}")
    print()
    print(
        f"Partner deal list (DealsRepository.list, limit {LIST_LIMIT}, the busiest seeded partner), {LIST_ROUNDS} rounds"
    )
    header = (
        f"{'size':>7} {'page':<17} {'items read med':>14} {'max':>4} {'calls med':>9} {'latency ms med':>14} "
        f"{'in DynamoDB ms med':>18}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for page in ("page 1", "page 2", "status=approved"):
            rows = [r for r in result.lists if r.kind == page]
            print(
                f"{result.seeded.size:>7,} {page:<17} {_median(r.items for r in rows):>14g} "
                f"{max(r.items for r in rows):>4} {_median(r.calls for r in rows):>9g} "
                f"{_ms([r.seconds for r in rows]):>14.1f} {_ms([r.dynamodb_seconds for r in rows]):>18.1f}"
            )
    print()
    ok = True
    small, large = results[0], results[-1]
    for kind in kinds:
        before = [r.items for r in small.registrations if r.kind == kind]
        after = [r.items for r in large.registrations if r.kind == kind]
        holds = _median(after) <= _median(before) and max(after) <= max(before)
        ok &= holds
        print(
            f"items read per registration, {kind}, {large.seeded.size:,} vs {small.seeded.size:,}: "
            f"median {_median(after):g} vs {_median(before):g}, max {max(after)} vs {max(before)} "
            f"-> {'OK' if holds else 'GROWS'}"
        )
    before_list, after_list = max(r.items for r in small.lists), max(r.items for r in large.lists)
    holds = after_list <= LIST_LIMIT and before_list <= LIST_LIMIT
    ok &= holds
    print(
        f"items read per list page, {large.seeded.size:,} vs {small.seeded.size:,}: max {after_list} vs "
        f"{before_list} (limit {LIST_LIMIT}) -> {'OK' if holds else 'GROWS'}"
    )
    operations = sorted(
        {op for result in results for row in result.registrations + result.lists for op in row.operations}
    )
    ok &= "Scan" not in operations
    print(f"DynamoDB operations used: {', '.join(operations)} ({'no Scan' if 'Scan' not in operations else 'SCAN'})")
    print(
        f"moto shortcuts checked: {sum(r.checked for r in results)} reads gave the same answers with moto's own "
        f"full-table Query; at each size a racing duplicate registration was refused by its OPEN claim and its "
        f"cancelled transaction left no item"
    )
    print(
        "Note: latency is moto's in-process emulation on this machine, not AWS (no network, no service-side time):"
        " compare the sizes with each other, not with DynamoDB. 'in DynamoDB' is the time inside the boto3 calls"
        " (botocore + moto), 'own code' the rest (pydantic, rules, serialisation). moto has no index structure: a GSI"
        " Query walks every item of the table, so the list's latency grows with the table in moto although DynamoDB"
        " reads only the index partition."
    )
    print(
        f"RESULT: {'OK' if ok else 'GROWS'} - DynamoDB items read per registration and per list page "
        f"{'do not grow' if ok else 'grow'} from {small.seeded.size:,} to {large.seeded.size:,} existing registrations"
    )
    print(f"(measured in {elapsed:.0f} s)")
    return ok


def _settings() -> dict[str, Any]:
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    return {
        "limits": json.loads(parameters["DealAutoApproveLimits"]["Default"]),
        "limits_by_tier": json.loads(parameters["DealAutoApproveLimitsByTier"]["Default"]),
        "protection": timedelta(seconds=int(parameters["DealProtectionSeconds"]["Default"])),
        "extension": timedelta(seconds=int(parameters["DealExtensionSeconds"]["Default"])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="existing registrations, ascending")
    parser.add_argument("--measured", type=int, default=MEASURED, help="registrations measured per size (even)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when items read grow with the table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if sizes != sorted(sizes) or sizes[0] < sum(CONFLICT_TARGETS) + POPULAR_EVERY * len(CONFLICT_TARGETS):
        parser.error("--sizes must be ascending and large enough to hold the popular prospects")
    if args.measured < 2 or args.measured % 2:
        parser.error("--measured must be even and at least 2")
    started = time.perf_counter()
    install_moto_shortcuts()
    settings = _settings()
    results = [measure_size(size, args.measured, settings) for size in sizes]
    ok = report(results, args.measured, time.perf_counter() - started)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
