"""Cold start of every function in template.yaml, counted as a cold Lambda pays it: handler import + first request.

A cold Lambda pays its handler's import (init) and then whatever its first request still imports, builds or
initialises: boto3 (deferred by shared.aws), Powertools utilities imported on use, pydantic models built on first use
(`defer_build`), parsers and services cached on first use. Both count towards the verdict, against a bare
`import boto3` measured the same way.

Two phases:

1. Discovery (once per function, not timed). The template's resources are provisioned into a moto server that runs
   in *this* process (so nothing it imports leaks into the function's interpreter), and each function's handler is
   invoked in a fresh Lambda-like interpreter with representative first events (an API's POST and GET routes, a
   consumer's queue message, an outbox or decision stream record), pointed at moto with `AWS_ENDPOINT_URL`. The
   interpreter records every module the invocations imported, every deferred pydantic model they built and every
   cached zero-argument initialiser of the project's code they filled.
2. Timing (round-robin, medians). In a fresh `python -I` per run, with the function's template environment, the
   runtime's variables and a Lambda-like sys.path (as tests/infra/test_template.py, whose helpers are imported here):
   `import <handler module>` is timed, then importing the discovered modules, building the discovered models and
   running the discovered initialisers. Their sum is the cold cost; the verdict is its ratio to a bare `import boto3`
   in the same round. Times are process CPU time (imports are CPU work; on a shared machine wall time mostly measures
   the other jobs); the wall-clock ratio is printed beside it. Two reference rows show what the shared kernel alone
   costs, counted the same way.

Client creation (loading botocore's service model files), network time and the request's own work are not counted:
a bare boto3 function pays them the same. Usage: `.venv/bin/python benchmarks/cold_start.py [--runs N] [--strict]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.infra.test_template import (  # noqa: E402 - the repo root must be importable first
    LAYER_ONLY,
    REGION,
    FunctionSpec,
    function_specs,
    lambda_like_command,
    lambda_opt_python,
)

TARGET_RATIO = 1.5
MIN_RUNS = 7
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Lambda stamps every invocation with a trace header; Sampled=0 keeps the X-Ray SDK from sending anything.
TRACE = {"_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=0"}
PARAMETERS = {"PortalUrl": "http://portal.test"}

# Imports the handler as Lambda's init does, then invokes it with the given events; reports the modules and the
# deferred pydantic models the invocations added (in import order), the project's cached zero-argument initialisers
# they filled (a parser built on first use, a service object), and what each invocation answered. Cached functions
# with arguments (AWS clients, the Secrets Manager read) are client creation or network: not counted, as for boto3.
DISCOVER = (
    LAYER_ONLY
    + r"""
import json
code_dir, opt_python, module_name, attribute, events_path = _sys.argv[1:6]
_sys.path[:0] = [code_dir, opt_python]
handler = getattr(__import__(module_name, fromlist=[attribute]), attribute)
events = json.loads(open(events_path).read())
before = set(_sys.modules)


def deferred_models():
    main = _sys.modules.get("pydantic.main")
    if main is None:
        return {}
    found, stack = {}, [main.BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.model_config.get("defer_build"):
                found[f"{sub.__module__}:{sub.__qualname__}"] = sub
    return found


pending = {name for name, cls in deferred_models().items() if not cls.__pydantic_complete__}
import functools, inspect, pathlib
own = {p.stem for p in pathlib.Path(code_dir).iterdir() if p.suffix == ".py" or p.is_dir()} | {"shared"}


def initialisers():
    found = {}
    for module in list(_sys.modules.values()):
        if getattr(module, "__name__", "").split(".")[0] not in own:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper) and value.__module__ == module.__name__:
                found[f"{value.__module__}:{value.__qualname__}"] = value
    return found


filled = {name for name, fn in initialisers().items() if fn.cache_info().currsize}


class Context:
    function_name = "benchmark"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:benchmark"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/benchmark"
    log_stream_name = "benchmark"

    def get_remaining_time_in_millis(self):
        return 20_000


outcomes = []
for event in events:
    answer = handler(event, Context())
    if isinstance(answer, dict) and "statusCode" in answer:
        outcomes.append(f"HTTP {answer['statusCode']}")
    elif isinstance(answer, dict) and "batchItemFailures" in answer:
        outcomes.append(f"{len(event['Records']) - len(answer['batchItemFailures'])}/{len(event['Records'])} ok")
    else:
        outcomes.append(repr(answer)[:40])
modules = [name for name in list(_sys.modules) if name not in before]
built = [
    name for name, cls in deferred_models().items()
    if cls.__pydantic_complete__ and (name in pending or cls.__module__ in modules)
]
inits = [
    name for name, fn in initialisers().items()
    if name not in filled and fn.cache_info().currsize and not inspect.signature(fn.__wrapped__).parameters
]
print("DISCOVER " + json.dumps({"modules": modules, "models": built, "inits": inits, "outcomes": outcomes}))
"""
)

# Times `import <modules>` (comma-separated), then (the first request) importing the discovered modules and building
# the discovered models, in that order; in process CPU time and in wall time. Only what the layer and the runtime
# ship is importable (LAYER_ONLY), as in tests/infra.
TIMER = (
    LAYER_ONLY
    + r"""
import time
code_dir, opt_python, module_names, plan_path = _sys.argv[1:5]
if code_dir:
    _sys.path[:0] = [code_dir, opt_python]
cpu, wall = time.process_time(), time.perf_counter()
for module_name in module_names.split(","):
    __import__(module_name)
init_cpu, init_wall = time.process_time() - cpu, time.perf_counter() - wall
import importlib, json
plan = json.loads(open(plan_path).read()) if plan_path else {"modules": [], "models": []}
failed = 0
cpu, wall = time.process_time(), time.perf_counter()
for name in plan["modules"]:
    if name not in _sys.modules:
        try:
            importlib.import_module(name)
        except Exception:
            failed += 1
for name in plan["models"]:
    module, _, qualname = name.partition(":")
    model = importlib.import_module(module)
    for part in qualname.split("."):
        model = getattr(model, part)
    model.model_rebuild()
for name in plan.get("inits", []):
    module, _, qualname = name.partition(":")
    initialiser = importlib.import_module(module)
    for part in qualname.split("."):
        initialiser = getattr(initialiser, part)
    try:
        initialiser()
    except Exception:
        failed += 1
first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
print(f"TIMING {init_cpu:.6f} {first_cpu:.6f} {init_wall:.6f} {first_wall:.6f} {failed}")
"""
)

# What any function of this design pays before its own code, each with boto3 as its first request: a pydantic
# Settings model (shared.settings), then also Powertools' logger, metrics and tracer (shared.observability, which
# every handler imports). Shown for reference, not judged.
KERNEL_ROWS = {
    "(floor: pydantic)": "shared.settings",
    "(floor: + powertools)": "shared.settings,shared.observability",
}


@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def median_ms(self, name: str) -> float:
        return statistics.median(self.values[name]) * 1000

    def spread_ms(self, name: str) -> str:
        return f"{min(self.values[name]) * 1000:.0f}-{max(self.values[name]) * 1000:.0f}"


@dataclass
class Plan:
    """What one function's first requests imported and built, and how the requests were answered."""

    modules: list[str]
    models: list[str]
    inits: list[str]
    outcomes: list[str]
    path: Path


def _run(code: str, args: list[str], env: dict[str, str], cwd: Path, marker: str) -> str:
    run = subprocess.run(
        lambda_like_command(code, *args), env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith(marker + " ")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark subprocess failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-4000:]}")
    return lines[-1].removeprefix(marker + " ")


def _baseline_env() -> dict[str, str]:
    return {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "TZ": ":UTC", "LANG": "en_US.UTF-8"}


# ------------------------------------------------------------------------------------------------ discovery


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _moto_stack() -> Iterator[tuple[Any, str, Callable[[str], Any]]]:
    """Every resource of template.yaml in a moto server in this process; yields (provisioner, url, client factory)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from infrastructure.local import moto_patches
    from infrastructure.local.provision import Provisioner
    from infrastructure.local.template import Template, load_template

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server logs every request otherwise
    logging.getLogger("infrastructure.local").setLevel(logging.ERROR)  # resources with no local counterpart
    port = _free_port()
    saved = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"

    def make_client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    try:
        provisioner = Provisioner(Template(load_template(ROOT / "template.yaml"), PARAMETERS), make_client, ROOT)
        provisioner.provision()
        yield provisioner, url, make_client
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = saved


def _api_event(
    method: str,
    resource: str,
    *,
    body: Any = None,
    claims: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
    raw_body: str | None = None,
) -> dict[str, Any]:
    from tests.support.lambda_events import api_event

    return api_event(
        method,
        resource,
        path_params,
        body=body,
        raw_body=raw_body,
        claims=claims,
        query=query,
        headers={"Content-Type": content_type},
    )


def _vendor_admin(client: Callable[[str], Any], pool_id: str) -> dict[str, str]:
    """Claims of a confirmed vendor admin in the pool (the edge checks that the user still exists and is enabled)."""
    from tests.support.lambda_events import claims_for

    email = "admin@vendor.example.com"
    cognito = client("cognito-idp")
    try:
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
        attributes = user["UserAttributes"]
    except cognito.exceptions.UserNotFoundException:
        created = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Benchmark-1-pass", Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="vendor-admin")
        attributes = created["User"]["Attributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    return claims_for(sub=sub, email=email, partner_id=None, groups=["vendor-admin"])


def _sqs(
    bodies: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:benchmark"
) -> dict[str, Any]:
    from tests.support.lambda_events import sqs_event

    messages = [{"MessageId": str(uuid.uuid4()), "ReceiptHandle": "r", "Body": json.dumps(b)} for b in bodies]
    return sqs_event(messages, queue_arn)


def _envelope(detail: Any) -> dict[str, Any]:
    """The EventBridge event an SQS target receives for `detail` (an EventDetail)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail.DETAIL_TYPE,
        "source": detail.SOURCE,
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail.to_json_dict(),
    }


def _stream(name: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    from shared.dynamo import to_item
    from tests.support.lambda_events import stream_event

    change: dict[str, Any] = {"Keys": to_item({"pk": new["pk"], "sk": new["sk"]}), "NewImage": to_item(new)}
    if old is not None:
        change["OldImage"] = to_item(old)
    change["SequenceNumber"] = str(time.time_ns())
    record = {"eventID": uuid.uuid4().hex, "eventName": name, "dynamodb": change}
    return stream_event([record], "arn:aws:dynamodb:us-east-1:123456789012:table/benchmark/stream/x")


def _partner_onboarded() -> Any:
    from contracts.onboarding import PartnerOnboarded

    now = datetime.now(UTC)
    return PartnerOnboarded.occurred(
        at=now,
        event_id=uuid.uuid4().hex,
        partner_id="ptn_" + uuid.uuid4().hex[:12],
        application_id="app_" + uuid.uuid4().hex[:12],
        company_name="Benchmark Partners Ltd",
        domain="benchmark-partners.example.com",
        country="GB",
        partner_type="reseller",
        tier="registered",
        status="active",
        primary_contact={"name": "Pat Partner", "email": "pat@benchmark-partners.example.com"},
        approved_by="approver@vendor.example.com",
        onboarded_at=now,
    )


def _outbox_items(client: Callable[[str], Any], table: str) -> list[dict[str, Any]]:
    from shared.dynamo import from_item

    items = client("dynamodb").scan(TableName=table)["Items"]  # benchmark setup only, on a table of a few items
    return [from_item(i) for i in items if i.get("entity", {}).get("S") == "outbox"]


@dataclass(frozen=True)
class Setup:
    """What a function's first events are built from: every function's environment and a client factory for moto."""

    envs: dict[str, dict[str, str]]
    client: Callable[[str], Any]

    def admin(self, lid: str) -> dict[str, str]:
        env = self.envs[lid]
        return _vendor_admin(self.client, env["USER_POOL_ID"]) if "USER_POOL_ID" in env else {}


def _onboarding_api(setup: Setup) -> list[dict[str, Any]]:
    application = {
        "company_name": "Benchmark Partners Ltd",
        "website": "https://benchmark-partners.example.com",
        "country": "GB",
        "partner_type": "reseller",
        "contact_name": "Pat Partner",
        "contact_email": "pat@benchmark-partners.example.com",
        "expected_annual_revenue": {"amount_minor": 50_000_000, "currency": "EUR"},
    }
    return [
        _api_event("POST", "/applications", body=application),
        _api_event("GET", "/agreements/current", claims=setup.admin("OnboardingApiFunction")),
    ]


def _outbox(setup: Setup) -> list[dict[str, Any]]:
    from shared.outbox import outbox_item

    return [_stream("INSERT", outbox_item(_partner_onboarded()))]


def _onboarding_events(setup: Setup) -> list[dict[str, Any]]:
    from contracts.onboarding import PartnerApplicationSubmitted

    table = setup.envs["OnboardingEventsFunction"]["TABLE_NAME"]
    submitted = [o for o in _outbox_items(setup.client, table) if o["detail_type"] == "PartnerApplicationSubmitted"]
    detail = PartnerApplicationSubmitted.model_validate_json(submitted[0]["detail"])
    return [_sqs([_envelope(detail)])]


def _partner_events(setup: Setup) -> list[dict[str, Any]]:
    return [_sqs([_envelope(_partner_onboarded())])]


def _deals_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("DealsApiFunction")
    product = {"sku": "BENCH-1", "name": "Benchmark product", "family": "Benchmarks"}
    return [
        _api_event("POST", "/products", body=product, claims=admin),
        _api_event("GET", "/products", claims=admin),
    ]


def _mdf_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("MdfApiFunction")
    today = datetime.now(UTC).date()
    period = {
        "period_id": f"{today.year + 1}-H1",
        "name": "Benchmark half",
        "starts_on": today.replace(year=today.year + 1, month=1, day=1).isoformat(),
        "ends_on": today.replace(year=today.year + 1, month=6, day=30).isoformat(),
        "claim_window_ends_at": f"{today.year + 1}-08-31T23:59:59Z",
    }
    return [
        _api_event("POST", "/mdf/periods", body=period, claims=admin),
        _api_event("GET", "/mdf/periods", claims=admin),
    ]


def _approval_requests(setup: Setup) -> list[dict[str, Any]]:
    request = {
        "approval_id": "bench-" + uuid.uuid4().hex[:12],
        "kind": "request",
        "task_token": "token-" + uuid.uuid4().hex,
        "subject": "Approve Benchmark Partners Ltd",
        "summary": [{"label": "Company", "value": "Benchmark Partners Ltd"}],
        "approvers": ["approver@vendor.example.com"],
    }
    return [_sqs([request])]


def _approvals_api(setup: Setup) -> list[dict[str, Any]]:
    from urllib.parse import unquote

    from shared.links import LinkClaim, Purpose, link_query

    env = setup.envs["ApprovalsApiFunction"]
    approval = next(
        i for i in setup.client("dynamodb").scan(TableName=env["TABLE_NAME"])["Items"] if "approval_id" in i
    )
    key = setup.client("secretsmanager").get_secret_value(SecretId=env["LINK_SECRET_ARN"])["SecretString"].encode()
    claim = LinkClaim(
        approval["approval_id"]["S"],
        "approve",
        "approver@vendor.example.com",
        int(time.time()) + 3600,
        purpose=Purpose.APPROVAL,
    )
    query = {k: unquote(v) for k, v in (pair.split("=", 1) for pair in link_query(key, claim).split("&"))}
    return [_api_event("GET", "/approvals/{approval_id}", path_params={"approval_id": claim.approval_id}, query=query)]


def _approval_decisions(setup: Setup) -> list[dict[str, Any]]:
    from shared.dynamo import from_item

    table = setup.envs["ApprovalsApiFunction"]["TABLE_NAME"]  # the decision relay only reads its stream
    items = setup.client("dynamodb").scan(TableName=table)["Items"]
    old = next(from_item(i) for i in items if "approval_id" in i)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    new = old | {
        "status": "decided",
        "decision": "approve",
        "decided_by": "approver@vendor.example.com",
        "decided_at": now,
        "updated_at": now,
    }
    return [_stream("MODIFY", new, old)]


# Representative first events of each function; they may depend on what earlier functions wrote.
def _training_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("TrainingApiFunction")
    course = {"title": "Benchmark course", "lms_course_id": "BENCH-101", "credit_hours": 2, "language": "en"}
    return [
        _api_event("POST", "/training/courses", body=course, claims=admin),
        _api_event("GET", "/training/courses", claims=admin),
    ]


def _tiers_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("TiersApiFunction")
    version = {
        "effective_from": datetime.now(UTC).date().isoformat(),
        "upgrade_approval": "automatic",
        "tiers": [{"tier_id": "registered", "name": "Registered"}],
    }
    return [
        _api_event("POST", "/programme/versions", body=version, claims=admin),
        _api_event("GET", "/programme/versions", claims=admin),
    ]


def _rewards_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("RewardsApiFunction")
    today = datetime.now(UTC).date()
    campaign = {
        "name": "Benchmark campaign",
        "starts_on": today.isoformat(),
        "ends_on": today.replace(year=today.year + 1).isoformat(),
        "unit": "points",
        "budget": 1_000_000,
        "auto_approve_below": 1_000,
        "rules": [{"kind": "deal_won_fixed", "amount": 100}],
    }
    return [
        _api_event("POST", "/rewards/campaigns", body=campaign, claims=admin),
        _api_event("GET", "/rewards/campaigns", claims=admin),
    ]


def _rewards_events(setup: Setup) -> list[dict[str, Any]]:
    from contracts.deals import DealWon
    from shared.money import Money

    now = datetime.now(UTC)
    won = DealWon.occurred(
        at=now,
        event_id=uuid.uuid4().hex,
        partner_id="ptn_" + uuid.uuid4().hex[:12],
        deal_id="deal_" + uuid.uuid4().hex[:12],
        amount=Money(amount_minor=1_000_000, currency="USD"),
        close_date=now.date(),
        registered_by="seller@benchmark.example.com",
    )
    return [_sqs([_envelope(won)])]


def _content_api(setup: Setup) -> list[dict[str, Any]]:
    admin = setup.admin("ContentApiFunction")
    asset = {
        "title": "Benchmark battlecard",
        "type": "document",
        "language": "en",
        "file": {"file_name": "card.pdf", "content_type": "application/pdf", "size_bytes": 1000},
    }
    return [
        _api_event("POST", "/content/assets", body=asset, claims=admin),
        _api_event("GET", "/content/admin/assets", claims=admin),
    ]


def _content_upload(setup: Setup) -> list[dict[str, Any]]:
    """An "Object Created" event of the content bucket (a key nobody was handed: processing deletes it)."""
    bucket = setup.envs["ContentProcessingFunction"]["CONTENT_BUCKET"]
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {"bucket": {"name": bucket}, "object": {"key": "assets/ast_bench/1/card.pdf", "size": 9}},
    }
    return [_sqs([event])]


FIRST_EVENTS: dict[str, Callable[[Setup], list[dict[str, Any]]]] = {
    "ContentApiFunction": _content_api,
    "ContentEventsFunction": _partner_events,
    "ContentProcessingFunction": _content_upload,
    "ContentOutboxFunction": _outbox,
    "RewardsApiFunction": _rewards_api,
    "RewardsEventsFunction": _rewards_events,
    "RewardsPartnersFunction": _partner_events,
    "RewardsOutboxFunction": _outbox,
    "OnboardingApiFunction": _onboarding_api,
    "OnboardingOutboxFunction": _outbox,
    "DealsOutboxFunction": _outbox,
    "MdfOutboxFunction": _outbox,
    "TrainingOutboxFunction": _outbox,
    "TiersOutboxFunction": _outbox,
    "TrainingEventsFunction": _partner_events,
    "TiersEventsFunction": _partner_events,
    "TrainingApiFunction": _training_api,
    "TiersApiFunction": _tiers_api,
    "OnboardingEventsFunction": _onboarding_events,
    "DealsEventsFunction": _partner_events,
    "MdfEventsFunction": _partner_events,
    "DealsApiFunction": _deals_api,
    "MdfApiFunction": _mdf_api,
    "ApprovalRequestsFunction": _approval_requests,
    "ApprovalsApiFunction": _approvals_api,
    "ApprovalDecisionsFunction": _approval_decisions,
}


def _first_events(lid: str, setup: Setup) -> list[dict[str, Any]]:
    if lid not in FIRST_EVENTS:
        raise KeyError(f"no representative first event for {lid}: add one to FIRST_EVENTS")
    return FIRST_EVENTS[lid](setup)


# Functions whose first events need what an earlier function wrote come after it.
DISCOVERY_ORDER = [
    "OnboardingApiFunction",
    "OnboardingEventsFunction",
    "ApprovalRequestsFunction",
    "ApprovalsApiFunction",
    "ApprovalDecisionsFunction",
]


def discover(specs: dict[str, FunctionSpec], folder: Path, errors: dict[str, str]) -> dict[str, Plan]:
    """Each function's first requests, invoked for real; a function whose discovery fails is put in `errors`."""
    plans: dict[str, Plan] = {}
    order = [lid for lid in DISCOVERY_ORDER if lid in specs] + [lid for lid in specs if lid not in DISCOVERY_ORDER]
    with _moto_stack() as (provisioner, url, client):
        envs = {
            lid: {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
            for lid, props in provisioner.functions.items()
        }
        for lid in order:
            spec = specs[lid]
            variables = envs[lid]
            env = (
                spec.process_env()
                | variables
                | CREDENTIALS
                | TRACE
                | {
                    "AWS_ENDPOINT_URL": url,
                    "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                }
            )
            events_path = folder / f"{lid}.events.json"
            opt_python = str(spec.opt_python(folder))
            try:
                events_path.write_text(json.dumps(_first_events(lid, Setup(envs, client))))
                found = json.loads(
                    _run(
                        DISCOVER,
                        [str(spec.code_dir), opt_python, spec.module, spec.attribute, str(events_path)],
                        env,
                        folder,
                        "DISCOVER",
                    )
                )
            except Exception as error:  # reported as an ERROR row (and a failure under --strict)
                errors[lid] = str(error).strip().splitlines()[-1][:200]
                continue
            path = folder / f"{lid}.plan.json"
            path.write_text(json.dumps({key: found[key] for key in ("modules", "models", "inits")}))
            plans[lid] = Plan(found["modules"], found["models"], found["inits"], found["outcomes"], path)
    return plans


# ------------------------------------------------------------------------------------------------ timing


def measure(runs: int, only: str = "") -> tuple[dict[str, FunctionSpec], dict[str, Plan], dict[str, str], Samples]:
    every = function_specs()
    specs = {lid: spec for lid, spec in every.items() if only.lower() in lid.lower()}
    samples = Samples()
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="prm-bench-") as name:
        folder = Path(name)
        kernel = lambda_opt_python(["SharedKernelLayer"], folder / "kernel")  # the reference rows: the kernel alone
        # Every function is discovered (some first events need what another function wrote); the chosen ones timed.
        plans = {lid: plan for lid, plan in discover(every, folder, errors).items() if lid in specs}
        errors = {lid: error for lid, error in errors.items() if lid in specs}
        opt_pythons = {lid: str(specs[lid].opt_python(folder)) for lid in plans}  # built once, outside the timing
        kernel_plan = folder / "kernel.plan.json"
        kernel_plan.write_text(json.dumps({"modules": ["boto3"], "models": []}))
        for round_number in range(runs + 1):  # round 0 warms the page cache and is not counted
            counted = round_number > 0
            rows = [("boto3", ["", "", "boto3", ""], _baseline_env())]
            # In a function's runtime environment: outside Lambda the X-Ray SDK would build boto3 clients at import.
            runtime = next(iter(every.values())).process_env()
            for label, modules in KERNEL_ROWS.items():
                rows.append((label, [str(kernel), str(kernel), modules, str(kernel_plan)], runtime))
            for lid, plan in list(plans.items()):
                spec = specs[lid]
                args = [str(spec.code_dir), opt_pythons[lid], spec.module, str(plan.path)]
                rows.append((lid, args, spec.process_env()))
            for row, args, env in rows:
                try:
                    init_cpu, first_cpu, init_wall, first_wall, failed = _run(
                        TIMER, args, env, folder, "TIMING"
                    ).split()
                except RuntimeError as error:  # e.g. the template and the settings disagree: an ERROR row
                    errors[row] = str(error).strip().splitlines()[-1][:200]
                    plans.pop(row, None)
                    continue
                if int(failed):
                    raise RuntimeError(f"{row}: {failed} discovered modules or initialisers failed when replayed")
                if counted:
                    samples.add(f"{row}:init", float(init_cpu))
                    samples.add(f"{row}:first", float(first_cpu))
                    samples.add(row, float(init_cpu) + float(first_cpu))
                    samples.add(f"{row}:wall", float(init_wall) + float(first_wall))
    return specs, plans, errors, samples


def report(
    specs: dict[str, FunctionSpec], plans: dict[str, Plan], errors: dict[str, str], samples: Samples, runs: int
) -> int:
    """Print the table and the summary; returns the number of functions over the target or not measured."""
    baseline, baseline_wall = samples.median_ms("boto3"), samples.median_ms("boto3:wall")
    print(
        f"Cold start = handler import + what the first request imports, builds and initialises, in process CPU ms; median of {runs} "
        f"fresh interpreters each (python {platform.python_version()}, {platform.machine()}, Lambda-like env and "
        f"sys.path); target <= {TARGET_RATIO}x bare `import boto3`. Wall-clock ratio shown for comparison."
    )
    header = (
        f"{'function':<27} {'handler':<29} {'import':>6} {'1st req':>7} {'counted':>7} {'range':>7} "
        f"{'x boto3':>7} {'wall x':>6}  {'verdict':<7} {'mods':>4} {'models':>6} {'inits':>5}  first events answered"
    )
    print(header)
    print("-" * len(header))

    def row(name: str, handler: str, verdict: str, tail: str) -> None:
        counted = samples.median_ms(name)
        print(
            f"{name:<27} {handler:<29} {samples.median_ms(name + ':init'):>6.1f} {samples.median_ms(name + ':first'):>7.1f} "
            f"{counted:>7.1f} {samples.spread_ms(name):>7} {counted / baseline:>7.2f} "
            f"{samples.median_ms(name + ':wall') / baseline_wall:>6.2f}  {verdict:<7} {tail}"
        )

    row("boto3", "import boto3", "", "")
    for label, modules in KERNEL_ROWS.items():
        if label in samples.values:
            row(label, modules.replace("shared.", "").replace(",", " + "), "", "   -      -     -  then boto3")
    over = []
    for lid, spec in specs.items():
        if lid in errors:
            over.append(lid)
            print(f"{lid:<27} {spec.handler:<29} ERROR: {errors[lid]}")
            continue
        ratio = samples.median_ms(lid) / baseline
        verdict = "PASS" if ratio <= TARGET_RATIO else "OVER"
        if verdict == "OVER":
            over.append(lid)
        plan = plans[lid]
        tail = f"{len(plan.modules):>4} {len(plan.models):>6} {len(plan.inits):>5}  {', '.join(plan.outcomes)}"
        row(lid, spec.handler, verdict, tail)
    measured = [lid for lid in specs if lid in plans]
    worst = max(measured, key=samples.median_ms) if measured else "-"
    print(
        f"summary: {len(specs) - len(over)}/{len(specs)} functions within {TARGET_RATIO}x bare boto3 "
        f"({baseline:.1f} ms CPU, limit {baseline * TARGET_RATIO:.1f} ms, counting import + first request)"
        + (f"; worst {worst} at {samples.median_ms(worst) / baseline:.2f}x" if measured else "")
        + (f"; {len(errors)} not measured" if errors else "")
    )
    return len(over)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9, help=f"fresh interpreters per row (at least {MIN_RUNS})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any function is over the target")
    parser.add_argument("--only", default="", help="measure only functions whose logical id contains this text")
    parser.add_argument("--show-first", metavar="FUNCTION", help="also list what FUNCTION's first request imports")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    started = time.perf_counter()
    specs, plans, errors, samples = measure(args.runs, args.only)
    over = report(specs, plans, errors, samples, args.runs)
    if args.show_first in plans:
        plan = plans[args.show_first]
        print(f"{args.show_first}: first request imports {plan.modules}, builds {plan.models}, runs {plan.inits}")
    print(f"(measured in {time.perf_counter() - started:.0f} s)")
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
