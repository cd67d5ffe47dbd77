"""Ports every context's service may depend on (typing.Protocol), with no AWS in sight.

A context's own ports (its repository, its workflows) live in its `ports` module; these are the ones all contexts
share. The adapters that implement them against AWS are in `shared.adapters`; in-memory fakes for tests are in
`tests/support/fakes.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from shared.mail import Email


class Mailer(Protocol):
    """Sends one email; returns the provider's message id."""

    def send(self, email: Email) -> str: ...


class WorkflowStarter(Protocol):
    """Starts a Step Functions execution once per deterministic `name`; a repeated start changes nothing."""

    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str: ...


class TimerScheduler(Protocol):
    """One-time timers: at each due time, the message is put on the context's queue (deterministic names, so a
    repeated call schedules nothing new)."""

    def schedule(self, name: str, timers: list[tuple[str, dict[str, Any]]], now: datetime) -> str: ...


class SideEffectLedger(Protocol):
    """Side effects done once per entity, whatever the de-duplication records say (a replayed event mails nothing)."""

    def once(self, entity_pk: str, key: str, effect: Callable[[], str]) -> str: ...
