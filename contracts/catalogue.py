"""Every published event contract, for tooling (schema generation, catalogue, drift checks)."""

from __future__ import annotations

from contracts.content import CONTENT_EVENTS
from contracts.deals import DEAL_EVENTS
from contracts.mdf import MDF_EVENTS
from contracts.onboarding import ONBOARDING_EVENTS
from contracts.rewards import REWARD_EVENTS
from contracts.tiers import TIER_EVENTS
from contracts.training import TRAINING_EVENTS
from shared.events import EventDetail

ALL_EVENTS: tuple[type[EventDetail], ...] = (
    *ONBOARDING_EVENTS,
    *DEAL_EVENTS,
    *MDF_EVENTS,
    *TRAINING_EVENTS,
    *TIER_EVENTS,
    *REWARD_EVENTS,
    *CONTENT_EVENTS,
)
