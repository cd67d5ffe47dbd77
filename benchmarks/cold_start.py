"""Cold start of every function in template.yaml: its handler's import time next to a bare `import boto3`.

Each number is the median of fresh interpreters (`python -I`), run round-robin in one session so that machine load
affects every row alike. Each interpreter gets the function's template environment (placeholder values) plus what the
Lambda runtime sets, and a Lambda-like sys.path (the CodeUri folder and a folder holding only the `shared` package);
this is exactly what tests/infra/test_template.py uses, so the helpers are imported from there. The API's first
invocation (GET /agreements/current against an in-process moto table) is measured too, because imports deferred
out of module level are paid there. Usage: `.venv/bin/python benchmarks/cold_start.py [--runs N] [--strict]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.infra.test_template import (  # noqa: E402 - the repo root must be importable first
    LAYER_ONLY,
    REGION,
    FunctionSpec,
    function_properties,
    function_specs,
    lambda_like_command,
    make_kernel_dir,
    template,
)

TARGET_RATIO = 1.5
MIN_RUNS = 7
INVOKED_FUNCTION = "OnboardingApiFunction"
INVOKED_ROUTE = ("GET", "/agreements/current")

# Times the import of one module; then what a first request still imports (boto3, deferred by shared.aws). Only
# what the layer and the runtime ship is importable (LAYER_ONLY), as in tests/infra.
IMPORT_TIMER = (
    LAYER_ONLY
    + r"""
import time
code_dir, kernel_dir, module_name = _sys.argv[1:4]
if code_dir:
    _sys.path[:0] = [code_dir, kernel_dir]
start = time.perf_counter()
__import__(module_name)
imported = time.perf_counter() - start
start = time.perf_counter()
import boto3
deferred = time.perf_counter() - start
print(f"TIMING {imported:.6f} {deferred:.6f}")
"""
)

# Imports the API handler as Lambda's init would, then (outside the timed part) creates the table in moto with a
# separate boto3 session, so the handler's own session, client and service model are still cold; then times the
# first and the second invocation of one cheap route.
INVOKE_TIMER = (
    LAYER_ONLY
    + r"""
import json, time
code_dir, kernel_dir, module_name, attribute, setup_json = _sys.argv[1:6]
setup = json.loads(setup_json)
_sys.path[:0] = [code_dir, kernel_dir]
start = time.perf_counter()
handler = getattr(__import__(module_name, fromlist=[attribute]), attribute)
init = time.perf_counter() - start
_sys.meta_path.remove(_LayerOnly)  # moto is a test tool, not part of the deployment

import boto3
from moto import mock_aws

mock = mock_aws()
mock.start()
dynamodb = boto3.session.Session(region_name=setup["region"]).client("dynamodb")
dynamodb.create_table(TableName=setup["table_name"], **setup["table"])
dynamodb.put_item(TableName=setup["table_name"], Item=setup["item"])


class Context:
    function_name = setup["function"]
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{setup['region']}:123456789012:function:{setup['function']}"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = f"/aws/lambda/{setup['function']}"
    log_stream_name = "benchmark"

    def get_remaining_time_in_millis(self):
        return 20_000


timings = []
for _ in range(2):
    event = json.loads(setup["event"])
    start = time.perf_counter()
    response = handler(event, Context())
    timings.append(time.perf_counter() - start)
    if response.get("statusCode") != 200:
        raise SystemExit(f"unexpected response: {response}")
mock.stop()
print("TIMING " + json.dumps({"init": init, "first": timings[0], "second": timings[1]}))
"""
)


@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def median_ms(self, name: str) -> float:
        return statistics.median(self.values[name]) * 1000

    def spread_ms(self, name: str) -> str:
        return f"{min(self.values[name]) * 1000:.0f}-{max(self.values[name]) * 1000:.0f}"


def _run(code: str, args: list[str], env: dict[str, str], cwd: Path) -> str:
    run = subprocess.run(
        lambda_like_command(code, *args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("TIMING ")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark subprocess failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    return lines[-1].removeprefix("TIMING ")


def _baseline_env() -> dict[str, str]:
    return {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "TZ": ":UTC", "LANG": "en_US.UTF-8"}


def _invoke_setup(spec: FunctionSpec) -> dict[str, Any]:
    """The table the API reads, built from the template's own key schema, with one published agreement in it."""
    document = template()
    table_ref = function_properties(document)[spec.logical_id]["Environment"]["Variables"]["TABLE_NAME"]["Ref"]
    table_props = document["Resources"][table_ref]["Properties"]
    method, path = INVOKED_ROUTE
    claims = {
        "sub": "11111111-2222-4333-8444-555555555555",
        "email": "pat@partner.example.com",
        "name": "Pat Partner",
        "token_use": "id",
        "cognito:groups": "partner-user",
        "custom:partner_id": "ptn_benchmark",
    }
    headers = {"Accept": "application/json", "Host": "x.execute-api.us-east-1.amazonaws.com"}
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "benchmark",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "benchmark"},
            "authorizer": {"claims": claims},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    agreement = {
        "pk": "AGREEMENT",
        "sk": "CURRENT",
        "entity": "agreement_current",
        "version": "2026-01",
        "title": "Partner programme agreement",
        "body": "The terms every partner accepts before transacting.",
        "published_at": "2026-01-05T09:00:00.000Z",
        "published_by": "channel-admin@example.com",
    }
    return {
        "region": REGION,
        "function": spec.logical_id,
        "table_name": spec.variables["TABLE_NAME"],
        "table": {
            "AttributeDefinitions": table_props["AttributeDefinitions"],
            "KeySchema": table_props["KeySchema"],
            "BillingMode": table_props.get("BillingMode", "PAY_PER_REQUEST"),
        },
        "item": {key: {"S": value} for key, value in agreement.items()},
        "event": json.dumps(event),
    }


def measure(runs: int) -> tuple[dict[str, FunctionSpec], Samples, Samples]:
    specs = function_specs()
    imports, invocations = Samples(), Samples()
    with tempfile.TemporaryDirectory(prefix="prm-bench-") as folder:
        kernel = make_kernel_dir(Path(folder))
        api = specs[INVOKED_FUNCTION]
        setup = json.dumps(_invoke_setup(api))
        # Lambda stamps every invocation with a trace header; Sampled=0 keeps the X-Ray SDK from sending anything.
        invoke_env = api.process_env() | {"_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=0"}
        for round_number in range(runs + 1):  # round 0 warms the page cache and is not counted
            counted = round_number > 0
            baseline = _run(IMPORT_TIMER, ["", "", "boto3"], _baseline_env(), Path(folder))
            if counted:
                imports.add("boto3", float(baseline.split()[0]))
            for spec in specs.values():
                imported, deferred = _run(
                    IMPORT_TIMER, [str(spec.code_dir), str(kernel), spec.module], spec.process_env(), Path(folder)
                ).split()
                if counted:
                    imports.add(spec.logical_id, float(imported))
                    imports.add(f"{spec.logical_id}:deferred", float(deferred))
            timing = json.loads(
                _run(
                    INVOKE_TIMER,
                    [str(api.code_dir), str(kernel), api.module, api.attribute, setup],
                    invoke_env,
                    Path(folder),
                )
            )
            if counted:
                for key, value in timing.items():
                    invocations.add(key, float(value))
    return specs, imports, invocations


def report(specs: dict[str, FunctionSpec], imports: Samples, invocations: Samples, runs: int) -> int:
    """Print the table and the summary; returns the number of functions over the target."""
    baseline = imports.median_ms("boto3")
    print(
        f"Cold import, median of {runs} fresh interpreters each (python {platform.python_version()}, "
        f"{platform.machine()}, Lambda-like env and sys.path as in tests/infra); target <= {TARGET_RATIO}x bare boto3"
    )
    header = f"{'function':<28} {'handler':<30} {'import ms':>9} {'range ms':>9} {'x boto3':>7}  {'verdict':<7} {'+boto3 on 1st request ms':>24}"
    print(header)
    print("-" * len(header))
    print(
        f"{'(bare `import boto3`)':<28} {'-':<30} {baseline:>9.1f} {imports.spread_ms('boto3'):>9} {1.0:>7.2f}  {'':<7} {'-':>24}"
    )
    over = []
    for lid, spec in specs.items():
        median = imports.median_ms(lid)
        ratio = median / baseline
        verdict = "PASS" if ratio <= TARGET_RATIO else "OVER"
        if verdict == "OVER":
            over.append((lid, ratio))
        deferred = imports.median_ms(f"{lid}:deferred")
        print(
            f"{lid:<28} {spec.handler:<30} {median:>9.1f} {imports.spread_ms(lid):>9} {ratio:>7.2f}  {verdict:<7} {deferred:>24.1f}"
        )
    worst = max(((lid, imports.median_ms(lid) / baseline) for lid in specs), key=lambda item: item[1])
    print(
        f"summary: {len(specs) - len(over)}/{len(specs)} functions within {TARGET_RATIO}x bare boto3 "
        f"({baseline:.1f} ms, limit {baseline * TARGET_RATIO:.1f} ms); worst {worst[0]} at {worst[1]:.2f}x"
    )
    method, path = INVOKED_ROUTE
    api = specs[INVOKED_FUNCTION]
    first, second = invocations.median_ms("first"), invocations.median_ms("second")
    deferred = imports.median_ms(f"{INVOKED_FUNCTION}:deferred")
    print(
        f"first invocation of {INVOKED_FUNCTION} {method} {path} (in-process moto table), median of {runs}: "
        f"{first:.1f} ms (range {invocations.spread_ms('first')}), second {second:.1f} ms; init in that process "
        f"{invocations.median_ms('init'):.1f} ms"
    )
    print(
        f"  moto imports boto3 before the first call, so a real cold first request also pays the deferred "
        f"`import boto3` ({deferred:.1f} ms): about {first + deferred:.1f} ms, plus the network round trip to DynamoDB; "
        f"init + first request ~ {imports.median_ms(api.logical_id) + deferred + first:.1f} ms"
    )
    return len(over)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9, help=f"fresh interpreters per row (at least {MIN_RUNS})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any function is over the target")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    started = time.perf_counter()
    specs, imports, invocations = measure(args.runs)
    over = report(specs, imports, invocations, args.runs)
    print(f"(measured in {time.perf_counter() - started:.0f} s)")
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
