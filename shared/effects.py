"""Side effects done once per entity, whatever the de-duplication records say: an archived event replayed a day
later must not mail, reset or start anything again. A conditional item in the entity's partition records each.

The DynamoDB adapter of shared.ports.SideEffectLedger, and the one way every context records that a side effect
(an email, an invitation, a timer) was done: `EFFECT#<key>` items in the entity's partition."""

from __future__ import annotations

from collections.abc import Callable

from shared.clock import iso, utc_now
from shared.dynamo import ConditionFailed, Table


class SideEffects:
    """`once(entity_pk, key, effect)`: run `effect` unless `key` is recorded for the entity, then record it."""

    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def done(self, entity_pk: str, key: str) -> bool:
        return self.table.get(entity_pk, f"EFFECT#{key}") is not None

    def record(self, entity_pk: str, key: str) -> bool:
        """Record that the effect happened; False if it had been recorded already."""
        try:
            self.table.put_new({"pk": entity_pk, "sk": f"EFFECT#{key}", "entity": "effect", "done_at": iso(utc_now())})
        except ConditionFailed:
            return False
        return True

    def once(self, entity_pk: str, key: str, effect: Callable[[], str]) -> str:
        # Checked before and recorded after: a crash in between repeats the effect (at least once), never loses it.
        if self.done(entity_pk, key):
            return f"{key}: already done"
        outcome = effect()
        self.record(entity_pk, key)
        return outcome
