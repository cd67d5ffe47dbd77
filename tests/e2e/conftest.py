"""The stories' shared fixtures: the people who use the local stack (mail, sign-in) and the bus events it published."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.local.people import People
from tests.support.events import EventCapture


@pytest.fixture(scope="module")
def people(local_stack: Any) -> People:
    return People(local_stack)


@pytest.fixture(scope="module")
def events(local_stack: Any) -> EventCapture:
    return EventCapture(local_stack)
