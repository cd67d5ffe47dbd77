"""In-memory fakes of the shared ports (shared.ports), for service tests that run as unit tests: no AWS, no moto.

Each fake records what the service asked of it, so a test asserts on outcomes (mail sent, workflow started, timer
scheduled) rather than on calls. Context-specific fakes (a context's repository) live beside these in
`tests/support/fakes_<context>.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from shared.mail import Email

K = TypeVar("K")
V = TypeVar("V")


def keep_newer(store: dict[K, V], key: K, value: V, order: Callable[[V], Any]) -> bool:
    """Table.put_newer in memory: keep `value` unless the one stored is as new or newer by `order`."""
    known = store.get(key)
    if known is not None and order(known) >= order(value):
        return False
    store[key] = value
    return True


@dataclass
class FakeMailer:
    sent: list[Email] = field(default_factory=list)

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"message-{len(self.sent)}"

    def to(self, address: str) -> list[Email]:
        return [e for e in self.sent if address in e.to]


@dataclass
class FakeWorkflows:
    """Starts are idempotent per (machine, name), as Step Functions' are for a Standard workflow; a machine in
    `express` runs again at every start, as an Express workflow does (its executions are not de-duplicated by name)."""

    express: frozenset[str] = frozenset()
    started: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: list[tuple[str, str]] = field(default_factory=list)  # every execution that ran, Express repeats included

    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str:
        if (machine, name) in self.started and machine not in self.express:
            return "already started"
        self.started[machine, name] = payload
        self.runs.append((machine, name))
        return f"arn:fake:execution:{machine}:{name}"


@dataclass
class FakeTimers:
    """Schedules by deterministic name, as EventBridge Scheduler's create_schedule does (a repeat is a conflict)."""

    scheduled: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def schedule(self, name: str, timers: list[tuple[str, dict[str, Any]]], now: datetime) -> str:
        created = 0
        for index, timer in enumerate(timers):
            if f"{name}-{index}" not in self.scheduled:
                self.scheduled[f"{name}-{index}"] = timer
                created += 1
        return f"{created} of {len(timers)} timers scheduled ({name})"

    def messages(self) -> list[dict[str, Any]]:
        return [message for _, message in self.scheduled.values()]


@dataclass
class FakeSideEffects:
    done: set[tuple[str, str]] = field(default_factory=set)

    def once(self, entity_pk: str, key: str, effect: Callable[[], str]) -> str:
        if (entity_pk, key) in self.done:
            return f"{key}: already done"
        outcome = effect()
        self.done.add((entity_pk, key))
        return outcome
