"""moto keeps every model object it ever created; the local stack makes it keep only the ones still in use.

moto's `BaseModel.__new__` appends each new instance to its class's `instances_tracked` list (for the dashboard at
/moto-api/data.json and for S3's reset) and nothing removes it until a reset. Every DynamoDB item version, stream
record, SQS message, Step Functions execution and table is therefore kept for the life of the process. Worse,
moto's TransactWriteItems deep-copies each table it touches (items and the whole stream history) for its rollback,
and those copies are tracked too, so memory grows with the square of the writes: measured on the local stack, 100
auto-approved deals took the process from 270 MB to 8.3 GB. With `track_instances_weakly()` the lists hold weak
references: the dashboard and S3's reset still see every live object, and dead ones are freed.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

_INSTALL_LOCK = threading.Lock()


class WeakInstances:
    """Stands in for a model class's `instances_tracked` list: append, iterate and len, over live objects only."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._refs: dict[int, weakref.ref[Any]] = {}
        self._strong: list[Any] = []  # objects that cannot be weakly referenced (none of moto's models today)
        for item in items:
            self.append(item)

    def append(self, instance: Any) -> None:
        """Remember instance until it is garbage."""
        key = id(instance)
        refs = self._refs

        def forget(_ref: weakref.ref[Any]) -> None:
            refs.pop(key, None)

        try:
            refs[key] = weakref.ref(instance, forget)
        except TypeError:
            self._strong.append(instance)

    def _live(self) -> list[Any]:
        while True:
            try:
                refs = list(self._refs.values())
                break
            except RuntimeError:  # a callback removed an entry while we copied
                continue
        return [item for ref in refs if (item := ref()) is not None] + list(self._strong)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._live())

    def __len__(self) -> int:
        return len(self._live())


def track_instances_weakly() -> None:
    """Make every moto model class track its instances weakly (idempotent, process-wide)."""
    from moto.core.common_models import BaseModel

    with _INSTALL_LOCK:
        if getattr(BaseModel, "_prm_weak_tracking", False):
            return
        original = BaseModel.__new__

        def __new__(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
            tracked = cls.__dict__.get("instances_tracked")
            if not isinstance(tracked, WeakInstances):
                # The metaclass gives each class a list; moto's reset_model_data() replaces it with a new one.
                cls.instances_tracked = WeakInstances(tracked or ())
            return original(cls, *args, **kwargs)

        BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign]
        BaseModel._prm_weak_tracking = True  # type: ignore[attr-defined]


def prune_finished_threads() -> int:
    """moto's Step Functions interpreter appends every thread it starts (several per state) to a module-level list
    that nothing empties outside its test helpers; drop the finished ones (about 2 KB each). Returns how many."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    before = len(TMP_THREADS)
    # Slice assignment keeps the list object that moto's modules imported by name.
    TMP_THREADS[:] = [thread for thread in list(TMP_THREADS) if thread.is_alive()]
    return before - len(TMP_THREADS)


def run_programs_inline() -> None:
    """moto evaluates every state machine program (an execution, each Map iteration and Parallel branch) on a new
    thread and then waits for it; with no `TimeoutSeconds` on the program that waiting thread does nothing, so the
    program runs on the caller's thread instead. An execution waiting for an approver then holds 2 threads, not 3.
    Programs with a `TimeoutSeconds` keep moto's thread (it enforces the timeout)."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program

    with _INSTALL_LOCK:
        if getattr(Program, "_prm_inline", False):
            return
        threaded = Program.eval

        def eval(self: Any, env: Any) -> None:
            if self.timeout_seconds:
                threaded(self, env)
                return
            env.next_state_name = self.start_at.start_at_name
            try:
                EvalComponent.eval(self, env)
            except Exception:  # moto's thread would have died with it (and logged it): the caller goes on
                logging.getLogger(__name__).exception("a Step Functions program failed")

        Program.eval = eval  # type: ignore[method-assign]
        Program._prm_inline = True  # type: ignore[attr-defined]
