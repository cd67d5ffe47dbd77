"""The programme agreement gate on the rewards routes (adapter of `rewards.ports.ProgrammeAgreement`): a partner user
acts only once they accepted the current agreement. RewardsPartnersFunction keeps the projection it reads (`AGREEMENT`
items, contracts.onboarding_agreements); B's blueprint uses the same gate."""

from __future__ import annotations

from contracts import onboarding_agreement_gate as agreements
from shared.dynamo import Table
from shared.principal import Principal


class AgreementGate:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.table, principal)
