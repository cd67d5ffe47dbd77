"""Who acts: the signed-in user as the domain sees them (the HTTP edge builds it from verified claims)."""

from __future__ import annotations

from dataclasses import dataclass


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
