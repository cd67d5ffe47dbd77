"""Published event contracts (the PRM's published language): one pydantic model per detail-type.

Each context publishes its own models here so consumers in other contexts, the schema generator and the contract
tests use one definition. The JSON Schemas in events/schemas/ are generated from these models.
"""

from __future__ import annotations

from shared.contracts.deals import DEAL_EVENTS
from shared.contracts.onboarding import ONBOARDING_EVENTS
from shared.events import EventDetail

ALL_EVENTS: tuple[type[EventDetail], ...] = (*ONBOARDING_EVENTS, *DEAL_EVENTS)
