"""The `make dev` banner says what the data holds now: derived from the tables and the API, on every start."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.local import seed
from infrastructure.local.people import People
from infrastructure.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

TAILSPIN = next(application for application, _, _ in seed.PARTNERS if application["company_name"] == "Tailspin Toys")


def _about_tailspin(lines: list[str]) -> list[str]:
    return [line for line in lines if "Tailspin Toys" in line]


def test_the_banner_follows_the_application_through_confirmation_and_decision(local_stack: Any) -> None:
    people = People(local_stack)
    assert _about_tailspin(seed.describe(local_stack)) == []
    answer = people.api("POST", "/applications", json=TAILSPIN)
    assert answer.status_code == 201, answer.text
    application_id = answer.json()["application_id"]
    assert "awaits its applicant's email confirmation" in _about_tailspin(seed.describe(local_stack))[0]
    assert people.confirm_application(TAILSPIN["contact_email"], application_id).status_code == 200
    assert "awaits a decision" in _about_tailspin(seed.describe(local_stack))[0]
    [request] = people.wait_for_mail(people.to(seed.APPROVER, containing=application_id))
    assert people.decide(people.links(request)["reject"], reason="Not this year.").status_code == 200
    local_stack.wait_idle(timeout=20)
    [line] = _about_tailspin(seed.describe(local_stack))
    assert "was rejected" in line and "awaits" not in line


def test_a_restart_describes_the_restored_data_instead_of_repeating_the_fresh_story(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = LocalStack(port=0, moto_port=0, state_dir=tmp_path, seed=True)
    stack.restored = True
    monkeypatch.setattr(seed, "seed", lambda _stack: pytest.fail("a restart must not seed again"))
    monkeypatch.setattr(seed, "describe", lambda _stack: ["what the data says now"])
    stack._seed({"seed_lines": ["Pending: Tailspin Toys' application awaits a decision"]})
    assert stack.seed_lines == ["what the data says now"]


def test_the_mdf_claim_hint_shows_only_when_the_stack_was_not_started_for_claims(
    local_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hinted() -> bool:
        return any("MdfRequestLeadDays=0" in line for line in seed.describe(local_stack))

    parameters = local_stack.template.parameters
    monkeypatch.setitem(parameters, "MdfRequestLeadDays", "0")
    assert not hinted()  # started as the hint says: the approved webinar already ran, claims can be filed
    monkeypatch.setitem(parameters, "MdfRequestLeadDays", "14")
    assert hinted()
