"""The shapes of rewards API answers that more than one test layer relies on: the integration tests check the real
API answers exactly these keys, and the portal's static stubs (tests/browser/test_portal_rewards_static.py) are
built with exactly these keys, so a stub cannot drift from what functions/rewards/rewards/api.py answers."""

from __future__ import annotations

# `GET /rewards/me` items: every line has `at` (when it was earned or requested) and `status_at` (since when it is in
# its status); rewards.api.history_answer
HISTORY_REWARD_KEYS = frozenset(
    {
        "type",
        "id",
        "campaign_id",
        "campaign_name",
        "source",
        "rule",
        "amount",
        "unit",
        "amount_in_words",
        "status",
        "status_reason",
        "status_at",
        "at",
        "available_at",
        "paid_amount",  # how much of it spending has paid (oldest rewards first)
        "paid_at",
    }
)
HISTORY_REDEMPTION_KEYS = frozenset(
    {
        "type",
        "redemption_id",
        "kind",
        "item_id",
        "item_name",
        "amount",
        "unit",
        "status",
        "status_reason",
        "status_at",
        "at",
    }
)
