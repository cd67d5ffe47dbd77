"""The programme agreement gate on the content routes: a partner user acts only once they accepted the current
agreement. ContentEventsFunction (B) keeps the projection it reads (`AGREEMENT` items, contracts.onboarding_agreements);
every content route (A's, B's and C's blueprints) uses this gate."""

from __future__ import annotations

from contracts import onboarding_agreement_gate as agreements
from shared.dynamo import Table
from shared.principal import Principal


class AgreementGate:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.table, principal)
