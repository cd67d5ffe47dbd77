"""Who acts: the signed-in user as the domain sees them (the HTTP edge builds it from verified claims)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Principal:
    """The signed-in user: a partner user (with the partner id from the verified token) or vendor staff."""

    sub: str
    email: str
    name: str
    partner_id: str | None
    groups: frozenset[str]

    def in_group(self, group: str) -> bool:
        return group in self.groups


def claimed_groups(raw: Any) -> frozenset[str]:
    """The groups a token's `cognito:groups` claim names: API Gateway flattens list claims into strings ("a,b",
    "[a b]" or "[a, b]"); a decoded token keeps the list."""
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    text = str(raw or "").strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)
