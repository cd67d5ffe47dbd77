"""Rewards' use cases: `campaigns` and `accounts` (the API's), `earning` (the events consumer's), `partners` (the
projection's); B's `redemptions`, `payouts`, `claims`. Kept empty (import closures of the separate functions)."""
