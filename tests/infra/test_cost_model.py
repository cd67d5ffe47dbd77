"""The cost model's arithmetic (infrastructure/local/metering.py, benchmarks/cost.py): DynamoDB units from item sizes,
64 KB chunks, Lambda GB-seconds, Step Functions transitions, and the request classification of the meter."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from infrastructure.local.metering import (
    attribute_value_size,
    chunks_64kb,
    classify,
    eventbridge_entry_size,
    index_write_units,
    item_size,
    read_units,
    write_units,
)

ROOT = Path(__file__).resolve().parents[2]


def _cost_module() -> Any:
    spec = importlib.util.spec_from_file_location("prm_cost_benchmark", ROOT / "benchmarks" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cost = _cost_module()


# ------------------------------------------------------------------ DynamoDB item sizes
def test_item_size_counts_names_and_values_by_dynamodbs_rules() -> None:
    assert item_size({"pk": {"S": "APPLICATION#1"}}) == 2 + 13
    assert item_size({"café": {"S": "é"}}) == 5 + 2  # UTF-8 bytes, names included
    assert attribute_value_size({"N": "12345"}) == 4  # 5 significant digits: ceil(5/2) + 1
    assert attribute_value_size({"N": "-0.50"}) == 2
    assert attribute_value_size({"BOOL": True}) == 1 and attribute_value_size({"NULL": True}) == 1
    # maps and lists: 3 bytes, plus 1 per element (and the keys of a map)
    assert attribute_value_size({"M": {"a": {"S": "xy"}}}) == 3 + 1 + 1 + 2
    assert attribute_value_size({"L": [{"S": "x"}, {"N": "1"}]}) == 3 + (1 + 1) + (1 + 2)
    assert attribute_value_size({"SS": ["ab", "c"]}) == 3
    assert item_size(None) == 0


def test_write_units_are_per_started_kb_of_the_larger_image_and_double_in_transactions() -> None:
    assert write_units(0, 1) == 1
    assert write_units(0, 1024) == 1
    assert write_units(0, 1025) == 2
    assert write_units(3000, 500) == 3  # an update that shrinks an item pays for the old one
    assert write_units(0, 0) == 1  # a delete of nothing, a failed condition: still one unit
    assert write_units(0, 1025, transactional=True) == 4
    assert write_units(100, 0, transactional=True) == 2


def test_read_units_round_per_item_for_gets_and_over_the_sum_for_queries() -> None:
    assert read_units([100], consistent=True) == 1
    assert read_units([100], consistent=False) == 0.5
    assert read_units([4096, 4097], consistent=True) == 1 + 2
    assert read_units([0], consistent=True) == 1  # a missing item still costs the minimum
    assert read_units([1000] * 10, consistent=True, per_item=False) == 3  # 10,000 bytes: 3 x 4 KB
    assert read_units([1000] * 10, consistent=False, per_item=False) == 1.5
    assert read_units([], consistent=True, per_item=False) == 1
    assert read_units([5000], consistent=False, transactional=True) == 4


def test_index_writes_follow_the_items_presence_and_key_in_the_index() -> None:
    index = {"name": "by-partner", "keys": ["gsi1pk", "gsi1sk"], "table_keys": ["pk", "sk"], "projection": {}}
    base = {"pk": {"S": "DEAL#1"}, "sk": {"S": "DEAL"}}
    indexed = base | {"gsi1pk": {"S": "PARTNER#p"}, "gsi1sk": {"S": "2026"}, "status": {"S": "submitted"}}
    assert index_write_units(None, base, index) == 0  # never in the index
    assert index_write_units(None, indexed, index) == 1  # enters
    assert index_write_units(indexed, None, index) == 1  # leaves
    assert index_write_units(indexed, indexed, index) == 0  # unchanged projection
    changed = indexed | {"status": {"S": "approved"}}
    assert index_write_units(indexed, changed, index) == 1
    moved = indexed | {"gsi1sk": {"S": "2027"}}
    assert index_write_units(indexed, moved, index) == 2  # key changed: delete + put
    big = indexed | {"notes": {"S": "x" * 1500}}  # about 1.6 KB
    assert index_write_units(None, big, index) == 2
    keys_only = index | {"projection": {"ProjectionType": "KEYS_ONLY"}}
    assert index_write_units(None, big, keys_only) == 1  # only the keys are projected
    assert index_write_units(indexed, changed, keys_only) == 0


# ------------------------------------------------------------------ 64 KB chunks, events
def test_sqs_and_eventbridge_bill_per_started_64_kb() -> None:
    assert chunks_64kb(0) == 1
    assert chunks_64kb(65536) == 1
    assert chunks_64kb(65537) == 2
    assert chunks_64kb(256 * 1024) == 4
    entry = {"Source": "prm.deals", "DetailType": "DealApproved", "Detail": json.dumps({"a": "b"})}
    assert eventbridge_entry_size(entry) == len("prm.deals") + len("DealApproved") + len('{"a": "b"}')


# ------------------------------------------------------------------ Lambda, Step Functions
def test_lambda_gb_seconds_round_each_invocation_up_to_the_millisecond() -> None:
    assert cost.gb_seconds([0.2], 512) == pytest.approx(0.001 * 0.5)
    assert cost.gb_seconds([10.0, 10.01], 512) == pytest.approx((10 + 11) / 1000 * 0.5)
    assert cost.gb_seconds([100.0], 1024) == pytest.approx(0.1)


def test_step_functions_transitions_are_the_states_entered() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "ChoiceStateEntered"},
        {"type": "ChoiceStateExited"},
        {"type": "TaskStateEntered"},
        {"type": "TaskScheduled"},
        {"type": "TaskSubmitted"},
        {"type": "TaskSucceeded"},
        {"type": "TaskStateExited"},
        {"type": "PassStateEntered"},
        {"type": "PassStateExited"},
        {"type": "SucceedStateEntered"},
        {"type": "ExecutionSucceeded"},
    ]
    assert cost.state_transitions(history) == 4


def test_express_workflows_bill_requests_and_duration_per_started_100_ms_in_64_mb_chunks() -> None:
    assert cost.express_gb_seconds([1.0]) == pytest.approx(0.1 * 64 / 1024)
    assert cost.express_gb_seconds([100.0, 100.1]) == pytest.approx(0.3 * 64 / 1024)
    assert cost.express_gb_seconds([250.0], memory_mb=65) == pytest.approx(0.3 * 128 / 1024)  # two 64 MB chunks
    express = {
        "state_machine": "prm-dev-deal-auto-approval",
        "type": "EXPRESS",
        "status": "SUCCEEDED",
        "transitions": 1,
        "events": 6,
        "duration_ms": 12.5,
    }
    lines = {item: (quantity, key) for item, quantity, key, _ in cost.step_functions_lines([express])}
    assert lines["Standard state transitions"] == (0, "stepfunctions_standard_transition")  # no transitions billed
    assert lines["Express requests (executions started)"] == (1, "stepfunctions_express_request")
    [seconds] = [quantity for item, (quantity, _) in lines.items() if item.startswith("Express GB-seconds")]
    assert seconds == pytest.approx(0.1 * 64 / 1024)
    prices = cost.load_prices()
    assert cost.unit_price(prices, "stepfunctions_express_request") == pytest.approx(1 / 1_000_000)
    assert cost.unit_price(prices, "stepfunctions_express_gb_second") == pytest.approx(
        0.06 / 3600, rel=1e-5
    )  # per GB-hour
    # Executions recorded before Express existed carry no type: Standard.
    assert (
        dict((i, q) for i, q, _, _ in cost.step_functions_lines([{"transitions": 3}]))["Standard state transitions"]
        == 3
    )


# ------------------------------------------------------------------ classification of moto calls
@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "expected"),
    [
        (
            "POST",
            "/",
            "",
            {"x-amz-target": "DynamoDB_20120810.TransactWriteItems"},
            b"{}",
            ("dynamodb", "TransactWriteItems"),
        ),
        (
            "POST",
            "/",
            "",
            {"x-amz-target": "DynamoDBStreams_20120810.GetRecords"},
            b"{}",
            ("dynamodbstreams", "GetRecords"),
        ),
        ("POST", "/", "", {"x-amz-target": "AmazonSQS.ReceiveMessage"}, b"{}", ("sqs", "ReceiveMessage")),
        ("POST", "/", "", {"x-amz-target": "AWSEvents.PutEvents"}, b"{}", ("events", "PutEvents")),
        (
            "POST",
            "/schedules/deal-1",
            "",
            {"authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/scheduler/aws4_request, X"},
            b"{}",
            ("scheduler", "CreateSchedule"),
        ),
        (
            "POST",
            "/v2/email/outbound-emails",
            "",
            {"authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ses/aws4_request, X"},
            b"{}",
            ("sesv2", "SendEmail"),
        ),
        (
            "POST",
            "/proofs-bucket",
            "",
            {"content-type": "multipart/form-data; boundary=x"},
            b"--x",
            ("s3", "PostObject"),
        ),
        (
            "GET",
            "/proofs-bucket/proofs/a.pdf",
            "X-Amz-Credential=testing%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
            {},
            b"",
            ("s3", "GetObject"),
        ),
        (
            "HEAD",
            "/proofs-bucket/proofs/a.pdf",
            "",
            {"authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, X"},
            b"",
            ("s3", "HeadObject"),
        ),
        ("GET", "/us-east-1_abc/.well-known/jwks.json", "", {}, b"", ("cognito-idp", "JWKS")),
    ],
)
def test_the_meter_names_service_and_action_as_the_sdks_send_them(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, expected: tuple[str, str]
) -> None:
    assert classify(method, path, query, headers, body) == expected


# ------------------------------------------------------------------ pricing a measurement
def _scenario(**changes: Any) -> dict[str, Any]:
    return {
        "description": "x",
        "api_requests": 2,
        "api_by_route": {},
        "invocations_ms": {"DealsApiFunction": [10.2, 20.0]},
        "cold_starts": {},
        "calls": {
            "dynamodb TransactWriteItems [prm]": {"calls": 1, "wru": 6, "index_wru": 2, "request_bytes": 0},
            "dynamodb GetItem [prm]": {"calls": 2, "rru": 2.0, "request_bytes": 0},
            "events PutEvents [prm]": {"calls": 1, "events": 3, "event_chunks": 3, "event_bytes": 900},
            "sqs SendMessage [prm]": {"calls": 1, "messages": 1, "chunks": 1},
            "sqs ReceiveMessage [stack]": {"calls": 2, "messages": 4, "chunks": 2},
            "sqs DeleteMessageBatch [stack]": {"calls": 2, "messages": 4},
            "sesv2 SendEmail [prm]": {"calls": 1, "recipients": 2},
        },
        "sqs_messages_received": 4,
        "scheduler_fired": 1,
        "timers_pending": [],
        "executions": [{"state_machine": "m", "status": "SUCCEEDED", "transitions": 4, "events": 10}],
        "log_bytes": {},
        "emf_metrics": [],
    } | changes


def test_a_measurement_is_priced_per_item_with_emails_apart() -> None:
    prices = cost.load_prices()
    facts = {"function_memory_mb": {"DealsApiFunction": 512}, "access_log_line_bytes": 0}
    items = {(i["service"], i["item"]): i for i in cost.line_items(_scenario(), facts, prices)}
    assert items[("DynamoDB", "write request units (tables)")]["quantity"] == 6
    assert items[("DynamoDB", "write request units (global secondary indexes)")]["quantity"] == 2
    # sends 1 + receives 2 + deletes 2 + EventBridge's deliveries (4 received, 1 sent through the API) 3
    sqs = next(i for i in items.values() if i["service"] == "SQS")
    assert sqs["quantity"] == 8
    transitions = items[("Step Functions", "Standard state transitions")]
    assert transitions["usd"] == pytest.approx(4 * 25 / 1_000_000)
    total, emails, _ = cost.totals(list(items.values()))
    assert emails == pytest.approx(2 * 0.10 / 1000)
    assert total == pytest.approx(sum(i["usd"] for i in items.values() if not i["apart"]))


def test_the_published_table_is_rendered_from_the_committed_measurement() -> None:
    """docs/cost.md and README.md's figures drift when the measurement, the prices or the model change without
    re-rendering."""
    assert cost.main(["--check"]) == 0


def test_a_hand_edited_readme_figure_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = tmp_path / "README.md"
    text = cost.README.read_text()
    figures = text.split(cost.README_BEGIN)[1].split(cost.README_END)[0]
    assert "| story |" in figures
    readme.write_text(text.replace(figures, figures.replace("|", "| 9", 1)))
    monkeypatch.setattr(cost, "README", readme)
    assert cost.main(["--check"]) == 1
    readme.write_text(text.replace(cost.README_BEGIN, ""))
    with pytest.raises(SystemExit, match="lacks the markers"):
        cost.main(["--check"])


def test_timers_after_the_run_are_priced_each_as_one_firing_and_named_by_their_consumer() -> None:
    prices = cost.load_prices()
    facts = {"function_memory_mb": {}, "access_log_line_bytes": 0}
    scenario = _scenario(
        invocations_ms={"TrainingEventsFunction": [40.0, 60.0, 200.0]},
        timers_pending=[("TrainingEventsFunction", 4)],
    )
    [timers] = [i for i in cost.line_items(scenario, facts, prices) if i["service"] == "Timers after the run"]
    assert timers["quantity"] == 4 and timers["how"] == "estimated"
    assert "certification expiry reminders and expiry" in timers["item"] and "(60 ms)" in timers["item"]
    one = (
        cost.unit_price(prices, "scheduler_invocation")
        + 3 * cost.unit_price(prices, "sqs_request")
        + cost.unit_price(prices, "lambda_request")
        + cost.gb_seconds([60.0], 512) * cost.unit_price(prices, "lambda_gb_second_arm64")
        + 0.5 * cost.unit_price(prices, "dynamodb_read_request_unit")
        + cost.unit_price(prices, "xray_trace_recorded")
        + 2048 / 1024**3 * cost.unit_price(prices, "cloudwatch_logs_ingested_gb")
    )
    assert timers["usd"] == pytest.approx(4 * one)
    assert not [i for i in cost.line_items(_scenario(), facts, prices) if i["service"] == "Timers after the run"]


def test_every_scenario_is_in_the_committed_measurement() -> None:
    """A scenario added to the benchmark is published only once it has been measured (`make bench`)."""
    results = json.loads(cost.RESULTS.read_text())
    assert list(results["scenarios"]) == list(cost.SCENARIOS)
    assert all(results["scenarios"][name]["description"] == text for name, text in cost.SCENARIOS.items())
