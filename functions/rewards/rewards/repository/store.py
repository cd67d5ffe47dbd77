"""The rewards repository the services use: the earning store (A) and the redemptions store (B) over one table."""

from __future__ import annotations

from rewards.repository.earning import EarningStore
from rewards.repository.redemptions import RedemptionStore


class RewardsRepository(EarningStore, RedemptionStore):
    """Every rewards port on one DynamoDB table (`rewards.repository.keys`)."""
