"""The consumer side of the programme-agreement gate: the event handlers that keep a context's projection of the
current agreement and of user acceptances (`contracts.onboarding_agreement_gate` holds the gate itself).

Onboarding owns the agreement; deals, MDF, training and tiers learn of it from `ProgrammeAgreementPublished` and
`PartnerAgreementAccepted` into their own table, so a partner user who has not accepted the current version is refused
on their routes as on onboarding's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.onboarding import PartnerAgreementAccepted, ProgrammeAgreementPublished
from contracts.onboarding_agreement_gate import project_acceptance, project_published
from shared.dynamo import Table


def handlers(table: Table) -> dict[str, tuple[type[Any], Callable[[Any], str]]]:
    """The consumer's event handlers that keep this projection (merge them into the context's own)."""

    def published(event: ProgrammeAgreementPublished) -> str:
        newest = project_published(table, event.agreement_version, event.published_at)
        return f"agreement {event.agreement_version} " + ("is current" if newest else "is older than the current one")

    def accepted(event: PartnerAgreementAccepted) -> str:
        project_acceptance(
            table,
            version=event.agreement_version,
            user_id=event.user_id,
            partner_id=event.partner_id,
            accepted_at=event.accepted_at,
        )
        return f"agreement {event.agreement_version} accepted"

    return {
        ProgrammeAgreementPublished.DETAIL_TYPE: (ProgrammeAgreementPublished, published),
        PartnerAgreementAccepted.DETAIL_TYPE: (PartnerAgreementAccepted, accepted),
    }
