"""The demo seed's wait for a partner's tier: tiers learns of onboarding's work from the bus, so right after onboarding
`GET /programme` may answer 404 no_tier or 403 agreement_required for a while; other errors are real and fail at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from infrastructure.local import seed_programme


def response(status: int, body: dict[str, Any]) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body).encode()
    answer.headers["Content-Type"] = "application/json"
    return answer


def standing(tier_id: str) -> dict[str, Any]:
    return {"tier": {"tier_id": tier_id, "name": tier_id.title()}, "next": None}


def refused(code: str) -> dict[str, Any]:
    return {"code": code, "message": "...", "errors": []}


@dataclass
class ScriptedPeople:
    answers: list[requests.Response]
    asked: list[tuple[str, str]] = field(default_factory=list)

    def api(self, method: str, path: str, *, session: Any) -> requests.Response:
        self.asked.append((method, path))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed_programme.time, "sleep", lambda _: None)


def test_no_tier_and_an_acceptance_not_yet_projected_are_waited_out() -> None:
    people = ScriptedPeople(
        [
            response(404, refused("no_tier")),
            response(403, refused("agreement_required")),
            response(404, refused("no_tier")),
            response(200, standing("registered")),
        ]
    )
    found = seed_programme.wait_for_tier(people, None, "registered", timeout=5)  # type: ignore[arg-type]
    assert found["tier"]["tier_id"] == "registered" and people.asked == [("GET", "/programme")] * 4


def test_another_tier_is_waited_for_until_the_deadline() -> None:
    people = ScriptedPeople([response(200, standing("registered"))])
    with pytest.raises(TimeoutError, match="not silver: 200"):
        seed_programme.wait_for_tier(people, None, "silver", timeout=0.05)  # type: ignore[arg-type]
    assert len(people.asked) > 1


def test_no_tier_for_longer_than_the_deadline_is_a_timeout_naming_the_answer() -> None:
    people = ScriptedPeople([response(404, refused("no_tier"))])
    with pytest.raises(TimeoutError, match="404"):
        seed_programme.wait_for_tier(people, None, "registered", timeout=0.05)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code"), [(404, "not_found"), (403, "forbidden"), (401, "unauthorized"), (500, "internal_error")]
)
def test_any_other_error_fails_at_once(status: int, code: str) -> None:
    people = ScriptedPeople([response(status, refused(code)), response(200, standing("registered"))])
    with pytest.raises(requests.HTTPError):
        seed_programme.wait_for_tier(people, None, "registered", timeout=5)  # type: ignore[arg-type]
    assert len(people.asked) == 1


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        (["1 more certified engineer for Gold"], "1 more certified engineer for Gold"),
        (["a", "b", "c"], "a, b and 1 more criterion"),
        (["a", "b", "c", "d"], "a, b and 2 more criteria"),
    ],
)
def test_the_banner_names_what_is_missing_and_counts_the_rest_as_criteria(missing: list[str], said: str) -> None:
    """ "2 more certified engineers for Platinum and 1 more" read as a third engineer; the rest are other criteria."""
    now = standing("gold") | {"next": {"tier": {"name": "Platinum"}, "missing": missing}}
    [line] = seed_programme.describe(ScriptedPeople([response(200, now)]), None)  # type: ignore[arg-type]
    assert line == f"Northwind tier:  Gold; {said} (Programme page)."
