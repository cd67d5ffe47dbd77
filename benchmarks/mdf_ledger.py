"""MDF ledger: a balance read and a claim approval at 10 and at 10,000 ledger entries per partner fund; the cost of
a balance read must not grow with the number of entries (docs/mdf.md: the fund item keeps the running balance).

For each size a fresh in-process moto gets every resource of template.yaml through the Provisioner, with the
integration tests' parameters and environment (tests/integration/conftest.py), and the MDF API and consumer handlers
are imported with their functions' template environment. One partner's fund then gets N ledger entries: N - 7 credits
(allocations and won-deal accruals, each with its reference guard) booked with mdf.domain.ledger.book, serialised by
MdfRepository.write itself (captured, not sent) and loaded with batch_write_item; then 7 fund requests go through the
real path (RequestsService.submit, the consumer's MdfRequestDecision reserving the grant, a proof upload to S3
and ClaimsService.file_claim), so the fund holds exactly N entries. Measured, through the handlers:

- balance read: the API handler for GET /mdf/funds (an API Gateway REST proxy event with Cognito claims);
- ledger page: GET /mdf/funds/{fund_id}/ledger?limit=20 (the fund's balance, then the newest 20 entries);
- claim approval: mdf.consumers.handle_message with an MdfClaimDecision (pays 40,000 of 50,000 granted, releases the
  rest: one transaction).

For each: DynamoDB items read (GetItem's Item, Query's ScannedCount, BatchGetItem's and TransactGetItems' items) and
items written (PutItem/UpdateItem/DeleteItem, BatchWriteItem's requests, TransactWriteItems' Put/Update/Delete),
estimated capacity units from the items' sizes, the API calls made, and the median wall time, counted with botocore
event hooks on the cached shared.aws.client("dynamodb") that the code uses. moto's full-table Query and per-action
table copy in transactions are removed as in deal_registration.py (checked here against moto's own Query).
Usage: `.venv/bin/python benchmarks/mdf_ledger.py [--sizes 10,10000] [--reads 21] [--strict]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "mdf")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported
# Powertools' log_metrics warns on every API answer that added no metric (the GET routes add none).
warnings.filterwarnings("ignore", message="No application metrics to publish")

import boto3  # noqa: E402 - the environment above must be set first
import moto  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from benchmarks.deal_registration import install_moto_shortcuts, item_size_unchecked, plain_moto  # noqa: E402
from infrastructure.local import moto_patches  # noqa: E402
from infrastructure.local.provision import Provisioner  # noqa: E402
from infrastructure.local.template import Template, load_template  # noqa: E402
from mdf.domain import ledger, periods  # noqa: E402
from mdf.models import (  # noqa: E402
    ClaimBody,
    Fund,
    FundRequestBody,
    PartnerProjection,
    PeriodBody,
    Reference,
    UploadBody,
)
from mdf.repository import MdfRepository  # noqa: E402
from shared.aws import client, reset_clients  # noqa: E402
from shared.clock import iso, utc_now  # noqa: E402
from shared.dynamo import Table  # noqa: E402
from shared.http import Principal  # noqa: E402
from shared.ids import new_id  # noqa: E402
from tests.integration.conftest import TEST_PARAMETERS, Stack  # noqa: E402
from tests.support.lambda_events import LambdaContext, api_event, claims_for  # noqa: E402

SIZES = (10, 10_000)
READS = 21  # repetitions of each read
CLAIMS = 7  # claim approvals per size (each needs its own approved request with a filed claim)
LEDGER_LIMIT = 20
GRANTED, SPENT = 50_000, 40_000  # minor units: each claim pays SPENT and releases GRANTED - SPENT
ALLOCATION_EVERY = 100  # one seeded credit in 100 is a vendor allocation, the others won-deal accruals
ALLOCATION, ACCRUAL = 1_000_000, 2_500
PERIOD_ID, CURRENCY = "BENCH-Q1", "USD"
FUND_ID = periods.fund_id(PERIOD_ID, CURRENCY)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
VENDOR = Principal(
    sub="vendor-bench",
    email="mdf-admin@example.com",
    name="MDF Admin",
    partner_id=None,
    groups=frozenset({"vendor-admin"}),
)
OPERATIONS = ("balance read", "ledger page", "claim approval")
ROUTES = {
    "balance read": "GET /mdf/funds",
    "ledger page": f"GET /mdf/funds/{{fund_id}}/ledger?limit={LEDGER_LIMIT}",
    "claim approval": "consumers.handle_message(MdfClaimDecision)",
}


# --------------------------------------------------------------------------------------------- counting DynamoDB
def _number_bytes(data: str) -> int:
    digits = data.lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


# DynamoDB's size of an attribute value by its wire type (as its capacity-unit rules count it, close enough).
_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda data: len(data.encode()),
    "N": _number_bytes,
    "B": len,
    "BOOL": lambda _data: 1,
    "NULL": lambda _data: 1,
    "SS": lambda data: sum(len(s.encode()) for s in data),
    "NS": lambda data: sum(_number_bytes(n) for n in data),
    "BS": lambda data: sum(len(b) for b in data),
    "L": lambda data: 3 + sum(1 + _value_bytes(v) for v in data),
    "M": lambda data: 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in data.items()),
}


def _value_bytes(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (wire format)."""
    (kind, data), *_ = value.items()
    if kind not in _SIZES:
        raise ValueError(kind)
    return _SIZES[kind](data)


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _read_units(items: list[dict[str, Any]], consistent: bool, *, per_item: bool) -> float:
    """4 KB read units (half for an eventually consistent read); a GetItem or Query costs at least one."""
    sizes = [item_bytes(i) for i in items]
    units = sum(max(1, math.ceil(s / 4096)) for s in sizes) if per_item else max(1, math.ceil(sum(sizes) / 4096))
    return float(units) if consistent else units / 2


def _write_units(action: str, body: dict[str, Any]) -> int:
    """1 KB write units of the written item (an update or delete is counted as one unit: its item is not sent)."""
    return max(1, math.ceil(item_bytes(body["Item"]) / 1024)) if action in ("Put", "PutRequest") else 1


@dataclass
class Call:
    operation: str
    items_read: int
    items_written: int
    rcu: float
    wcu: float
    seconds: float


@dataclass
class Meter:
    """Every call the code's DynamoDB client made since reset(): items read and written, capacity, time."""

    calls: list[Call] = field(default_factory=list)
    everything: Counter[str] = field(default_factory=Counter)  # operations over the whole run, setup included
    _open: tuple[float, dict[str, Any]] | None = None

    def attach(self, dynamodb: Any) -> None:
        # provide-client-params is the first event of a call (it sees the caller's parameters), after-call the last.
        dynamodb.meta.events.register("provide-client-params.dynamodb", self._start)
        dynamodb.meta.events.register("after-call.dynamodb", self._finish)

    def reset(self) -> None:
        self.calls = []

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        self._open = (time.perf_counter(), params)

    def _finish(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self._open is None:
            return
        started, params = self._open
        self._open = None
        name = model.name
        self.everything[name] += 1
        failed = "Error" in parsed
        read: list[dict[str, Any]] = []
        written: list[tuple[str, dict[str, Any]]] = []
        rcu = 0.0
        consistent = bool(params.get("ConsistentRead"))
        if parsed.get("Item"):  # GetItem
            read = [parsed["Item"]]
            rcu = _read_units(read, consistent, per_item=True)
        elif name == "GetItem":
            rcu = 1.0 if consistent else 0.5
        elif name in ("Query", "Scan"):
            read = parsed.get("Items") or []
            rcu = _read_units(read, consistent, per_item=False)
        elif name == "BatchGetItem":
            for table, found in (parsed.get("Responses") or {}).items():
                read += found
                strong = bool((params["RequestItems"].get(table) or {}).get("ConsistentRead"))
                rcu += _read_units(found, strong, per_item=True) if found else 0
        elif name == "TransactGetItems":
            read = [r["Item"] for r in parsed.get("Responses") or [] if r.get("Item")]
            rcu = 2 * _read_units(read, True, per_item=True) if read else 0
        if not failed:
            if name == "PutItem":
                written = [("Put", params)]
            elif name in ("UpdateItem", "DeleteItem"):
                written = [(name, params)]
            elif name == "BatchWriteItem":
                written = [r for requests in params["RequestItems"].values() for rq in requests for r in rq.items()]
            elif name == "TransactWriteItems":
                written = [a for op in params["TransactItems"] for a in op.items() if a[0] != "ConditionCheck"]
        wcu = sum(_write_units(action, body) for action, body in written) * (2 if name.startswith("Transact") else 1)
        # A Query reads ScannedCount items (no filter is used, so that is the items returned too).
        items = len(read) if name not in ("Query", "Scan") else int(parsed.get("ScannedCount", len(read)))
        self.calls.append(Call(name, items, len(written), rcu, wcu, time.perf_counter() - started))


# --------------------------------------------------------------------------------------------- seeding
class CapturingTable(Table):
    """A shared.dynamo.Table that keeps what a transaction would write instead of sending it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.items: list[dict[str, Any]] = []

    def transact(self, operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            (kind, action), *_ = operation.items()
            if kind != "Put":
                raise NotImplementedError(f"seeding loads only Put items, not {kind}")
            self.items.append(action["Item"])


def seeded_items(table_name: str, partner_id: str, period: Any, credits: int, now: datetime) -> tuple[list[Any], Fund]:
    """`credits` allocations and accruals booked by mdf.domain.ledger.book, with their reference guards and the fund item,
    serialised by MdfRepository.write (the repository's own key layout), ready for batch_write_item."""
    fund = ledger.open_fund(partner_id, period, CURRENCY, now - timedelta(days=20))
    entries, guards = [], []
    for k in range(credits):
        at = fund.opened_at + timedelta(seconds=60 * k)
        if k % ALLOCATION_EVERY == 0:  # as ledger.allocate books it: a vendor allocation, guarded by its id
            reference, guard = Reference(type="allocation", id=new_id("alloc")), "allocation:{}"
            fund, entry = ledger.book(
                fund, "allocated", ALLOCATION, reference=reference, actor=VENDOR.email, note="seeded", now=at
            )
        else:  # as ledger.accrue books it: a won deal's accrual, guarded by the deal id
            reference, guard = Reference(type="deal", id=new_id("deal")), "accrual:{}"
            fund, entry = ledger.book(
                fund, "accrued", ACCRUAL, reference=reference, actor=ledger.LEDGER_ACTOR, note="seeded", now=at
            )
        entries.append(entry)
        guards.append(guard.format(reference.id))
    capture = MdfRepository(table_name)
    capture.table = CapturingTable(table_name)
    # Outbox items of the seeded history are left out: DynamoDB deletes them 7 days after their event (TTL).
    capture.write(fund=fund, fund_seq=None, entries=entries, guards=guards)
    return capture.table.items, fund


def batch_write(dynamodb: Any, table_name: str, items: list[dict[str, Any]]) -> None:
    requests = [{"PutRequest": {"Item": item}} for item in items]
    with item_size_unchecked():
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {table_name: requests[start : start + 25]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


@dataclass
class Handlers:
    api: ModuleType
    consumers: ModuleType
    bucket: str
    table: str
    sign_up: Callable[[dict[str, str]], None]  # the API refuses a token whose user is not live in the pool


def partner_claims(partner_id: str) -> dict[str, str]:
    return claims_for(
        sub=f"sub-{partner_id}",
        email=f"marketing@{partner_id.replace('_', '-')}.example.com",  # a valid address: the pool holds the user
        partner_id=partner_id,
        groups=["partner-admin"],
    )


def partner_principal(partner_id: str) -> Principal:
    claims = partner_claims(partner_id)
    return Principal(
        sub=claims["sub"],
        email=claims["email"],
        name=claims["name"],
        partner_id=partner_id,
        groups=frozenset({"partner-admin"}),
    )


def prepare_partner(h: Handlers, partner_id: str, entries: int, claims: int, now: datetime) -> tuple[list[str], float]:
    """A fund with exactly `entries` entries, `claims` of them reservations of approved requests with a filed claim
    (through the real service and consumer); returns the request ids and the seconds the load took."""
    api_service = h.api.service()
    repository = MdfRepository(h.table)  # setup and checks read and write the table as the service's adapter does
    repository.project_partner(
        PartnerProjection(
            partner_id=partner_id,
            company_name=f"Reseller {partner_id}",
            country="GB",
            status="active",
            contact_name="Morgan Marketer",
            contact_email=f"marketing@{partner_id}.example.com",
            as_of=now,
        )
    )
    period = repository.period(PERIOD_ID)
    loader = boto3.client("dynamodb", config=Config(parameter_validation=False))  # the benchmark's own: not counted
    started = time.perf_counter()
    items, fund = seeded_items(h.table, partner_id, period, entries - claims, now)
    batch_write(loader, h.table, items)
    loaded = time.perf_counter() - started
    stored = repository.fund(partner_id, FUND_ID)
    if stored != fund:
        raise AssertionError(f"the seeded fund does not read back as written: {stored!r}")

    principal = partner_principal(partner_id)
    h.sign_up(partner_claims(partner_id))
    s3 = boto3.client("s3")
    today = now.date().isoformat()
    request_ids = []
    for r in range(claims):
        body = {
            "period_id": PERIOD_ID,
            "activity_type": "webinar",
            "title": f"Zero-trust webinar {r + 1}",
            "description": "A webinar for 200 IT leaders with a live demo.",
            "starts_on": today,
            "ends_on": today,
            "requested": {"amount_minor": GRANTED, "currency": CURRENCY},
            "expected_outcome": {"leads": 40, "pipeline_value": {"amount_minor": 50_000_000, "currency": CURRENCY}},
        }
        request = api_service.requests.submit(principal, FundRequestBody.model_validate(body))
        decision = {
            "message_type": "MdfRequestDecision",
            "request_id": request.request_id,
            "round": 1,
            "marketing": _outcome("approved", GRANTED),
            "finance": None,
        }
        if (outcome := h.consumers.handle_message(decision)) != "approved":
            raise AssertionError(f"the request was not approved: {outcome}")
        upload = api_service.claims.create_upload(
            principal,
            request.request_id,
            UploadBody(file_name="invoice.pdf", content_type="application/pdf", size_bytes=len(PDF)),
        )
        s3.put_object(Bucket=h.bucket, Key=upload["upload"]["fields"]["key"], Body=PDF, ContentType="application/pdf")
        claim = {
            "amount_spent": {"amount_minor": SPENT, "currency": CURRENCY},
            "proof_files": [upload["file_id"]],
            "results": {"leads": 52, "attendees": 180, "invoice_number": f"INV-{r + 1:04d}"},
            "notes": "Recording attached.",
        }
        api_service.claims.file_claim(principal, request.request_id, ClaimBody.model_validate(claim))
        request_ids.append(request.request_id)
    stored = repository.fund(partner_id, FUND_ID)
    if stored is None or stored.seq != entries or stored.reserved != claims * GRANTED:
        raise AssertionError(f"the fund should hold {entries} entries and {claims} reservations: {stored!r}")
    return request_ids, loaded


def _outcome(decision: str, amount: int) -> dict[str, Any]:
    return {
        "decision": decision,
        "decided_by": "channel-marketing@example.com",
        "reason": None,
        "decided_at": iso(utc_now()),
        "amount_minor": amount,
    }


# --------------------------------------------------------------------------------------------- measuring
@dataclass
class Sample:
    items_read: int
    items_written: int
    calls: tuple[str, ...]
    rcu: float
    wcu: float
    seconds: float
    dynamodb_seconds: float
    by_call: tuple[tuple[str, int, int], ...]  # (operation, items read, items written) per call


@dataclass
class Result:
    size: int
    seeded: int
    load_seconds: float
    samples: dict[str, list[Sample]]
    everything: Counter[str]
    checks: list[str]


def _sample(meter: Meter, elapsed: float) -> Sample:
    return Sample(
        items_read=sum(c.items_read for c in meter.calls),
        items_written=sum(c.items_written for c in meter.calls),
        calls=tuple(c.operation for c in meter.calls),
        rcu=sum(c.rcu for c in meter.calls),
        wcu=sum(c.wcu for c in meter.calls),
        seconds=elapsed,
        dynamodb_seconds=sum(c.seconds for c in meter.calls),
        by_call=tuple((c.operation, c.items_read, c.items_written) for c in meter.calls),
    )


def _get(partner_id: str, operation: str) -> dict[str, Any]:
    """The API Gateway REST proxy event of one read, with the partner user's verified Cognito claims."""
    if operation == "balance read":
        return api_event("GET", "/mdf/funds", claims=partner_claims(partner_id))
    return api_event(
        "GET",
        "/mdf/funds/{fund_id}/ledger",
        {"fund_id": FUND_ID},
        claims=partner_claims(partner_id),
        query={"limit": str(LEDGER_LIMIT)},
    )


def _invoke(h: Handlers, event: dict[str, Any]) -> tuple[int, Any]:
    response = h.api.app(event, LambdaContext())
    return response["statusCode"], json.loads(response.get("body") or "null")


def measure_size(size: int, reads: int) -> Result:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        moto_patches.apply()
        reset_clients()
        template = Template(load_template(ROOT / "template.yaml"), TEST_PARAMETERS)
        provisioner = Provisioner(template, boto3.client, ROOT)
        provisioner.provision()
        stack = Stack(template, provisioner)
        h = Handlers(
            api=stack.load("MdfApiFunction", "mdf.api"),
            consumers=stack.load("MdfEventsFunction", "mdf.consumers"),
            bucket=stack.ref("MdfProofBucket"),
            table=stack.ref("MdfTable"),
            sign_up=stack.ensure_user,
        )
        meter = Meter()
        meter.attach(client("dynamodb"))  # the cached client every Table of the API and the consumer uses
        now = utc_now()
        today = now.date()
        h.api.service().funds.add_period(
            VENDOR,
            PeriodBody(
                period_id=PERIOD_ID,
                name="Benchmark quarter",
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=60),
                claim_window_ends_at=datetime.combine(today + timedelta(days=120), datetime.min.time(), tzinfo=UTC),
            ),
        )
        # A small partner first: every code path runs once (imports, service models, pydantic schemas) unmeasured.
        warm = "prt_warmup"
        (warm_request,), _ = prepare_partner(h, warm, 3, 1, now)
        for operation in OPERATIONS[:2]:
            _invoke(h, _get(warm, operation))
        h.consumers.handle_message(_claim_decision(warm_request))

        partner_id = f"prt_n{size}"
        gc.disable()  # the seeded items are long-lived objects: collect once, then keep them out of the collector
        try:
            request_ids, load_seconds = prepare_partner(h, partner_id, size, CLAIMS, now)
        finally:
            gc.enable()
        gc.collect()
        gc.freeze()  # so a full collection during a timed call does not walk the seeded table (an in-process cost)

        samples: dict[str, list[Sample]] = {op: [] for op in OPERATIONS}
        answers: dict[str, Any] = {}
        for _ in range(reads):
            for operation in OPERATIONS[:2]:
                event = _get(partner_id, operation)
                meter.reset()
                started = time.perf_counter()
                status, body = _invoke(h, event)
                samples[operation].append(_sample(meter, time.perf_counter() - started))
                if status != 200:
                    raise AssertionError(f"{operation}: {status} {body}")
                answers[operation] = body
        checks = _check_reads(h, partner_id, size, answers)

        for request_id in request_ids:
            message = _claim_decision(request_id)
            meter.reset()
            started = time.perf_counter()
            outcome = h.consumers.handle_message(message)
            samples["claim approval"].append(_sample(meter, time.perf_counter() - started))
            if outcome != "paid":
                raise AssertionError(f"the claim approval answered {outcome!r}")
        checks.append(_check_after_claims(h, partner_id, size))
        everything = Counter(meter.everything)
        reset_clients()
    gc.unfreeze()
    gc.collect()
    return Result(size, size - CLAIMS, load_seconds, samples, everything, checks)


def _claim_decision(request_id: str) -> dict[str, Any]:
    return {
        "message_type": "MdfClaimDecision",
        "request_id": request_id,
        "round": 1,
        "review": _outcome("approved", SPENT),
    }


def _check_reads(h: Handlers, partner_id: str, size: int, answers: dict[str, Any]) -> list[str]:
    """What the reads answered is the seeded fund; and moto's own full-table Query gives the same answers."""
    (fund,) = answers["balance read"]["items"]
    ledger = answers["ledger page"]
    if fund["entries"] != size or ledger["fund"] != fund:
        raise AssertionError(f"the balance does not show {size} entries: {fund}")
    seqs = [e["seq"] for e in ledger["items"]]
    if seqs != list(range(size, max(0, size - LEDGER_LIMIT), -1)):
        raise AssertionError(f"the ledger page is not the newest {LEDGER_LIMIT} entries: {seqs}")
    newest = ledger["items"][0]["balance"]
    if newest["available"] != fund["available"] or newest["reserved"] != fund["reserved"]:
        raise AssertionError("the newest entry's balance is not the fund's running balance")
    with plain_moto():
        for operation in OPERATIONS[:2]:
            if _invoke(h, _get(partner_id, operation)) != (200, answers[operation]):
                raise AssertionError(f"the moto Query shortcut changed the answer of the {operation}")
    return [
        f"{size:,}: the balance shows {fund['entries']:,} entries, the page entries {seqs[0]}..{seqs[-1]}, the newest "
        "entry's balance is the fund's; moto's own full-table Query gave the same two answers"
    ]


def _check_after_claims(h: Handlers, partner_id: str, size: int) -> str:
    """Each approval booked paid + released and settled its reservation: the running balance still adds up."""
    repository = MdfRepository(h.table)
    fund = repository.fund(partner_id, FUND_ID)
    seeded = size - CLAIMS
    allocations = len(range(0, seeded, ALLOCATION_EVERY))
    credits = allocations * ALLOCATION + (seeded - allocations) * ACCRUAL
    expected = {
        "seq": size + 2 * CLAIMS,
        "reserved": 0,
        "paid": CLAIMS * SPENT,
        "available": credits - CLAIMS * SPENT,
        "released": CLAIMS * (GRANTED - SPENT),
    }
    if fund is None or any(getattr(fund, name) != value for name, value in expected.items()):
        raise AssertionError(f"after the claim approvals the fund should be {expected}: {fund!r}")
    entries, _ = repository.ledger(partner_id, FUND_ID, limit=1, cursor=None)
    if entries[0].seq != fund.seq or entries[0].available_after != fund.available:
        raise AssertionError("the newest entry does not match the fund after the claim approvals")
    return (
        f"{size:,}: after {CLAIMS} claim approvals the fund holds {fund.seq:,} entries, paid {fund.paid:,}, "
        f"reserved {fund.reserved}, and its newest entry's balance is the fund's"
    )


# --------------------------------------------------------------------------------------------- report
def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _calls(samples: list[Sample]) -> str:
    (most, _), *_ = Counter(s.calls for s in samples).most_common(1)
    parts = Counter(most)
    return " + ".join(f"{n} {op}" if n > 1 else op for op, n in parts.items())


def report(results: list[Result], elapsed: float) -> bool:
    """Print the table and the verdicts; True when nothing grows with the number of entries."""
    print(
        f"MDF ledger: balance read, ledger page and claim approval vs ledger entries per fund, through the MDF API and "
        f"consumer handlers against template.yaml's MDF table in an in-process moto {moto.__version__} "
        f"(python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores)"
    )
    for r in results:
        print(
            f"  {r.size:>6,} entries: {r.seeded:,} seeded credits (allocations and accruals, with their guards) loaded "
            f"in {r.load_seconds:.1f} s + {CLAIMS} reservations of approved requests with a filed claim, made through "
            f"the service and the consumer"
        )
    print()
    header = (
        f"{'operation':<15} {'entries':>7} {'runs':>4} {'items read':>10} {'items written':>13} {'RCU est':>7} "
        f"{'WCU est':>7} {'median ms':>9} {'in DynamoDB ms':>14}  calls"
    )
    print(header)
    print("-" * (len(header) + 30))
    for operation in OPERATIONS:
        for r in results:
            rows = r.samples[operation]
            print(
                f"{operation:<15} {r.size:>7,} {len(rows):>4} {max(s.items_read for s in rows):>10} "
                f"{max(s.items_written for s in rows):>13} {max(s.rcu for s in rows):>7g} "
                f"{max(s.wcu for s in rows):>7g} {_median([s.seconds * 1000 for s in rows]):>9.2f} "
                f"{_median([s.dynamodb_seconds * 1000 for s in rows]):>14.2f}  {_calls(rows)}"
            )
    print(
        "  (items and capacity units: the largest of all runs, identical in every run here; ms: the median. RCU/WCU "
        "est.: DynamoDB's 4 KB read / 1 KB write units from the items' sizes, half for eventually consistent reads, "
        "double for transactions)"
    )
    for operation in OPERATIONS:
        print(f"  {operation}: {ROUTES[operation]}")
        for r in results:
            by_call = " + ".join(
                f"{op} ({read} read{f', {written} written' if written else ''})"
                for op, read, written in r.samples[operation][0].by_call
            )
            print(f"    {r.size:>6,}: {by_call}")
    print()

    ok = True
    small, large = results[0], results[-1]

    def verdict(text: str, holds: bool) -> None:
        nonlocal ok
        ok &= holds
        print(f"{text} -> {'OK' if holds else 'GROWS'}")

    def most(r: Result, operation: str, key: Callable[[Sample], float]) -> float:
        return max(key(s) for s in r.samples[operation])

    versus = f"{large.size:,} vs {small.size:,} entries"
    for operation in ("balance read", "claim approval"):
        read = (most(large, operation, lambda s: s.items_read), most(small, operation, lambda s: s.items_read))
        calls = (most(large, operation, lambda s: len(s.calls)), most(small, operation, lambda s: len(s.calls)))
        verdict(
            f"{operation}, {versus}: items read {read[0]:g} vs {read[1]:g}, calls {calls[0]:g} vs {calls[1]:g}",
            read[0] <= read[1] and calls[0] <= calls[1],
        )
    per_size = {
        r.size: sorted({(s.items_read, s.items_written, s.calls) for s in r.samples["claim approval"]}) for r in results
    }
    verdict(
        "claim approval, items read and written the same in every run at every size: "
        + "; ".join(
            f"{size:,}: " + " | ".join(f"{a} read, {b} written" for a, b, _ in found)
            for size, found in per_size.items()
        ),
        len({c for found in per_size.values() for c in found}) == 1,
    )
    balance = {sum(n for op, n, _ in s.by_call if op == "GetItem") for r in results for s in r.samples["ledger page"]}
    pages = max(sum(n for op, n, _ in s.by_call if op == "Query") for s in large.samples["ledger page"])
    verdict(
        f"ledger page, {versus}: the fund's balance is {'/'.join(map(str, sorted(balance)))} GetItem item(s) at every "
        f"size, the page reads {pages} entries (limit {LEDGER_LIMIT})",
        balance == {1} and pages <= LEDGER_LIMIT,
    )
    measured = sorted({op for r in results for rows in r.samples.values() for s in rows for op in s.calls})
    everything = Counter[str]()
    for r in results:
        everything.update(r.everything)
    scans = everything["Scan"] + measured.count("Scan")
    ok &= scans == 0
    print(
        f"DynamoDB operations in the measured calls: {', '.join(measured)}; over the whole run (setup included): "
        f"{', '.join(f'{op} {n}' for op, n in sorted(everything.items()))} -> {'no Scan' if not scans else 'SCAN'}"
    )
    for r in results:
        for check in r.checks:
            print(f"checked at {check}")
    ratio = {
        op: _median([s.seconds for s in large.samples[op]]) / _median([s.seconds for s in small.samples[op]])
        for op in OPERATIONS
    }
    print(
        "Note: ms is moto's in-process emulation on this machine, not AWS (no network, no service-side time): compare "
        f"the sizes with each other. Median ms {large.size:,} / {small.size:,}: "
        + ", ".join(f"{op} x{ratio[op]:.2f}" for op in OPERATIONS)
        + ". moto's Query still filters and sorts the whole ledger partition for the page (DynamoDB reads only the page "
        "from the sort-key order), so the ledger page's ms grows in moto; its items read do not."
    )
    print(
        f"RESULT: {'OK' if ok else 'GROWS'} - a balance read and a claim approval "
        f"{'read the same items' if ok else 'do not read the same items'} at {small.size:,} and {large.size:,} "
        "ledger entries"
    )
    print(f"(measured in {elapsed:.0f} s)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="ledger entries per fund, ascending")
    parser.add_argument("--reads", type=int, default=READS, help="repetitions of each read per size")
    parser.add_argument("--strict", action="store_true", help="exit 1 when items read grow with the ledger")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if sizes != sorted(sizes) or len(sizes) < 2 or sizes[0] < CLAIMS:
        parser.error(f"--sizes must be ascending, at least two, and at least {CLAIMS} (the reservations)")
    if args.reads < 1:
        parser.error("--reads must be at least 1")
    started = time.perf_counter()
    install_moto_shortcuts()
    results = [measure_size(size, args.reads) for size in sizes]
    ok = report(results, time.perf_counter() - started)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
