"""Lambda event filtering (FilterCriteria): EventBridge-style content patterns applied to SQS and stream records."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()


def parse_filter_criteria(criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a FilterCriteria block (each Pattern is a JSON string in the template)."""
    patterns: list[dict[str, Any]] = []
    for entry in (criteria or {}).get("Filters") or []:
        pattern = entry.get("Pattern")
        parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(parsed, dict):
            raise ValueError(f"filter pattern must be a JSON object: {pattern!r}")
        patterns.append(parsed)
    return patterns


def record_matches(patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether a record passes the filters: no filters means everything passes, otherwise any one pattern must match."""
    if not patterns:
        return True
    subject = dict(record)
    body = subject.get("body")
    if isinstance(body, str):
        # Lambda filters an SQS message's body as JSON when it is JSON, else as a plain string.
        try:
            subject["body"] = json.loads(body)
        except ValueError:
            pass
    return any(matches(pattern, subject) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether an event matches an EventBridge content pattern."""
    if not isinstance(event, Mapping):
        event = {}
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in expected):
                return False
            continue
        actual = event.get(key, _MISSING)
        if isinstance(expected, Mapping):
            if not matches(expected, actual if isinstance(actual, Mapping) else {}):
                return False
        elif isinstance(expected, list):
            if not _field_matches(expected, actual):
                return False
        else:
            raise ValueError(f"pattern values must be lists or objects, got {expected!r} for {key}")
    return True


def _field_matches(rules: list[Any], actual: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    for rule in rules:
        if isinstance(rule, Mapping) and "exists" in rule:
            if bool(rule["exists"]) == (actual is not _MISSING):
                return True
            continue
        if actual is _MISSING:
            continue
        if any(_value_matches(rule, value) for value in values):
            return True
    return False


def _value_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _equal(rule, value)
    (operator, argument), *_ = rule.items()
    test = _OPERATORS.get(operator)
    if test is None:
        raise ValueError(f"unsupported filter operator {operator!r}")
    return test(argument, value)


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        return not _value_matches(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(item, value) for item in excluded)


def _string_test(argument: Any, value: Any, test: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, Mapping) and "equals-ignore-case" in argument:
        return bool(test(value.casefold(), str(argument["equals-ignore-case"]).casefold()))
    return bool(test(value, str(argument)))


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return bool(expected == value)


_NUMERIC_TESTS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(conditions: list[Any], value: Any) -> bool:
    # Like AWS, only JSON numbers compare: DynamoDB's {"N": "5"} is a string and never matches numerically.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    pairs = zip(conditions[0::2], conditions[1::2], strict=True)
    return all(_NUMERIC_TESTS[operator](float(value), float(bound)) for operator, bound in pairs)


# Content-filter operator -> test(argument, value).
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda argument, value: _string_test(argument, value, str.startswith),
    "suffix": lambda argument, value: _string_test(argument, value, str.endswith),
    "equals-ignore-case": lambda argument, value: (
        isinstance(value, str) and value.casefold() == str(argument).casefold()
    ),
    "wildcard": lambda argument, value: (
        isinstance(value, str) and fnmatch.fnmatchcase(value, str(argument).replace("[", "[[]"))
    ),
    "anything-but": _anything_but,
    "numeric": _numeric,
}
