"""The programme-agreement gate outside onboarding: a projection of the current version and of user acceptances.

This module holds the gate and its projection writes, with no event model, so an API function that only checks the
gate imports no contract; `contracts.onboarding_agreements` adds the consumer's event handlers that keep it.

Onboarding owns the agreement; deals, MDF, training and tiers learn of it from `ProgrammeAgreementPublished` and
`PartnerAgreementAccepted` into their own table (`AGREEMENT` / `CURRENT` and `AGREEMENT` / `ACCEPTED#<version>#<sub>`),
so a partner user who has not accepted the current version is refused on their routes as on onboarding's.
"""

from __future__ import annotations

from datetime import datetime

from shared.clock import iso
from shared.dynamo import ConditionFailed, Table
from shared.errors import Forbidden
from shared.principal import Principal

PK = "AGREEMENT"


def project_published(table: Table, version: str, published_at: datetime) -> bool:
    """Keep the newest published version; an older or repeated event changes nothing (reordering-safe)."""
    try:
        table.transact(
            [
                table.op_put(
                    {
                        "pk": PK,
                        "sk": "CURRENT",
                        "entity": "agreement",
                        "version": version,
                        "published_at": iso(published_at),
                    },
                    condition="attribute_not_exists(pk) OR published_at < :at",
                    condition_values={":at": iso(published_at)},
                )
            ]
        )
    except ConditionFailed:
        return False
    return True


def project_acceptance(table: Table, *, version: str, user_id: str, partner_id: str, accepted_at: datetime) -> None:
    """Record that this user accepted this version (idempotent: a repeat writes the same item)."""
    table.transact(
        [
            table.op_put(
                {
                    "pk": PK,
                    "sk": f"ACCEPTED#{version}#{user_id}",
                    "entity": "agreement_acceptance",
                    "partner_id": partner_id,
                    "accepted_at": iso(accepted_at),
                },
                condition=None,
            )
        ]
    )


def require_accepted(table: Table, principal: Principal) -> None:
    """Partner users act only after accepting the current agreement (403 agreement_required); vendor staff never."""
    if principal.partner_id is None:
        return
    current = table.get(PK, "CURRENT")
    if current is None or table.get(PK, f"ACCEPTED#{current['version']}#{principal.sub}") is not None:
        return
    raise Forbidden("Accept the current programme agreement first.", code="agreement_required")


class AgreementGate:
    """The gate over a context's own table, for API functions that check it outside a repository (content, rewards:
    the adapter of their `ProgrammeAgreement` port)."""

    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_accepted(self, principal: Principal) -> None:
        require_accepted(self.table, principal)
