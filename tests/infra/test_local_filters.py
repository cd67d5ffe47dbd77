"""Lambda FilterCriteria matching in the local event source mappings (EventBridge-style content filtering)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infrastructure.local.filters import matches, parse_filter_criteria, record_matches
from infrastructure.local.template import Template, load_template

REPO = Path(__file__).resolve().parents[2]


def stream_record(name: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {
        "Keys": {"pk": {"S": "k"}},
        "SequenceNumber": "1",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}


OUTBOX = '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}'
DECISION = (
    '{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["decided"]}},'
    ' "OldImage": {"status": {"S": ["pending"]}}}}'
)


def test_every_filter_in_the_template_parses() -> None:
    template = Template(load_template(REPO / "template.yaml"))
    for logical_id in template.resources_of_type("AWS::Serverless::Function"):
        for event in (template.properties(logical_id).get("Events") or {}).values():
            criteria = (event.get("Properties") or {}).get("FilterCriteria")
            if criteria:
                assert parse_filter_criteria(criteria), logical_id


def test_outbox_style_filter_takes_only_inserted_outbox_items() -> None:
    filters = parse_filter_criteria({"Filters": [{"Pattern": OUTBOX}]})
    assert record_matches(filters, stream_record("INSERT", new={"entity": {"S": "outbox"}}))
    assert not record_matches(filters, stream_record("INSERT", new={"entity": {"S": "application"}}))
    assert not record_matches(filters, stream_record("MODIFY", new={"entity": {"S": "outbox"}}))
    assert not record_matches(filters, stream_record("REMOVE", old={"entity": {"S": "outbox"}}))
    assert not record_matches(filters, stream_record("INSERT", new={"other": {"S": "outbox"}}))


def test_decision_filter_needs_the_pending_to_decided_transition() -> None:
    filters = parse_filter_criteria({"Filters": [{"Pattern": DECISION}]})
    decided = {"status": {"S": "decided"}}
    pending = {"status": {"S": "pending"}}
    assert record_matches(filters, stream_record("MODIFY", new=decided, old=pending))
    assert not record_matches(filters, stream_record("MODIFY", new=decided, old=decided))
    assert not record_matches(filters, stream_record("MODIFY", new=pending, old=pending))
    assert not record_matches(filters, stream_record("INSERT", new=decided))


def test_no_filters_let_everything_through_and_several_filters_are_alternatives() -> None:
    assert record_matches([], {"anything": 1})
    filters = [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]
    assert record_matches(filters, {"eventName": "REMOVE"})
    assert not record_matches(filters, {"eventName": "MODIFY"})


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"prefix": "prm."}, "prm.deals", True),
        ({"prefix": "prm."}, "aws.events", False),
        ({"prefix": {"equals-ignore-case": "PRM."}}, "prm.deals", True),
        ({"suffix": ".png"}, "logo.png", True),
        ({"equals-ignore-case": "GB"}, "gb", True),
        ({"anything-but": ["rejected", "expired"]}, "approved", True),
        ({"anything-but": ["rejected", "expired"]}, "rejected", False),
        ({"anything-but": {"prefix": "test-"}}, "test-1", False),
        ({"numeric": [">", 0, "<=", 5]}, 5, True),
        ({"numeric": [">", 0, "<=", 5]}, 6, False),
        ({"numeric": [">", 0]}, "5", False),  # DynamoDB "N" values are strings: no numeric match, as in AWS
        ({"wildcard": "prm-*-events"}, "prm-dev-events", True),
        ("exact", "exact", True),
        ("exact", "Exact", False),
        (5, 5.0, True),
        (True, True, True),
        (True, "true", False),
        (None, None, True),
    ],
)
def test_operators(rule: Any, value: Any, expected: bool) -> None:
    assert matches({"field": [rule]}, {"field": value}) is expected


def test_exists_nested_keys_arrays_and_or() -> None:
    assert matches({"detail": {"partner_id": [{"exists": True}]}}, {"detail": {"partner_id": "p"}})
    assert not matches({"detail": {"partner_id": [{"exists": True}]}}, {"detail": {}})
    assert matches({"detail": {"partner_id": [{"exists": False}]}}, {"detail": {}})
    assert matches({"detail": {"partner_id": [{"exists": False}]}}, {})
    assert not matches({"detail": {"status": ["x"]}}, {"detail": "not an object"})
    assert matches({"tags": ["b"]}, {"tags": ["a", "b"]})  # an array matches when any element does
    pattern = {"$or": [{"kind": ["deal"]}, {"amount": [{"numeric": [">=", 100]}]}]}
    assert matches(pattern, {"kind": "deal"})
    assert matches(pattern, {"kind": "mdf", "amount": 150})
    assert not matches(pattern, {"kind": "mdf", "amount": 5})


def test_sqs_bodies_are_filtered_as_json_when_they_are_json() -> None:
    filters = parse_filter_criteria({"Filters": [{"Pattern": json.dumps({"body": {"detail-type": ["DealApproved"]}})}]})
    assert record_matches(filters, {"body": json.dumps({"detail-type": "DealApproved"})})
    assert not record_matches(filters, {"body": json.dumps({"detail-type": "DealRejected"})})
    plain = parse_filter_criteria({"Filters": [{"Pattern": json.dumps({"body": [{"prefix": "hello"}]})}]})
    assert record_matches(plain, {"body": "hello world"})


def test_malformed_patterns_are_reported() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        parse_filter_criteria({"Filters": [{"Pattern": "[1]"}]})
    with pytest.raises(ValueError, match="lists or objects"):
        matches({"field": "scalar"}, {"field": "scalar"})
