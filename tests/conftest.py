"""Shared fixtures: one local stack (moto + template resources + functions + API) per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.local.stack import LocalStack

# As in Lambda, Powertools' environment is there before any handler module is imported: a unit test that imports
# shared.observability first must not leave the process-wide Metrics without the namespace template.yaml's Globals set.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "PRM")
os.environ.setdefault("PROGRAMME_NAME", "Example Vendor Partner Network")  # ProgrammeName's default (shared.notices)

# Workflow durations in seconds, so reminder/escalation/expiry paths finish within a test.
TEST_PARAMETERS = {
    "ApprovalReminderSeconds": "3",
    "ApprovalEscalationSeconds": "3",
    "ApprovalExpirySeconds": "4",
    # MDF activities may start today (claims need the activity to have ended); warnings seconds before the end.
    "MdfRequestLeadDays": "0",
    "MdfExpiryWarningOffsetsSeconds": "4",
    "MdfClaimReminderOffsetsSeconds": "2",
    # A removed or disabled user is refused on every route within a second (instead of a minute).
    "IdentityRecheckSeconds": "1",
    # Every test onboards from 127.0.0.1; the per-client WAF rule itself is tested in tests/infra/test_local_gateway.py.
    "ApplicationRateLimitPerClient": "100000",
    "ConfirmationRateLimitPerClient": "100000",
    "ApprovalLinkRateLimitPerClient": "100000",
    "ProofLinkRateLimitPerClient": "100000",
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
