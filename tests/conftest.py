"""Shared fixtures: one local stack (moto + template resources + functions + API) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.local.stack import LocalStack

# Workflow durations in seconds, so reminder/escalation/expiry paths finish within a test.
TEST_PARAMETERS = {
    "ApprovalReminderSeconds": "3",
    "ApprovalEscalationSeconds": "3",
    "ApprovalExpirySeconds": "4",
    # MDF activities may start today (claims need the activity to have ended); warnings seconds before the end.
    "MdfRequestLeadDays": "0",
    "MdfExpiryWarningOffsetsSeconds": "4",
    "MdfClaimReminderOffsetsSeconds": "2",
}


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole PRM running locally on free ports, empty (no demo data), from a fresh temporary state directory."""
    state_dir: Path = tmp_path_factory.mktemp("local-stack")
    stack = LocalStack(
        port=0, moto_port=0, parameters=dict(TEST_PARAMETERS), state_dir=state_dir, fresh=True, seed=False
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
