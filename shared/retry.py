"""Optimistic retries with jittered backoff: when two writers race on one item, the loser waits a random, growing
moment before it reads again, so that racing retries spread out instead of colliding again at once."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

BASE_SECONDS = 0.02
CAP_SECONDS = 0.5


def attempts(
    count: int,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> Iterator[int]:
    """Yield attempt numbers 0..count-1, sleeping before each retry ("full jitter": a random time up to
    min(cap, base * 2**attempt)). The caller breaks out on success and handles running out after the loop."""
    for attempt in range(count):
        if attempt:
            sleep(rng() * min(cap, base * 2**attempt))
        yield attempt
