"""Rewards' pure rules: `ledger` (accounts and entries), `campaigns`, `eligibility`, `earning` (A); `redemptions`,
`payouts`, `claims` (B). Kept empty: a package's `__init__` is in every import closure of its modules."""
