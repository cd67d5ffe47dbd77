"""Rewards' pydantic models: `common` (bases and value types), `earning` (campaigns, rules, rewards, accounts, ledger
entries, the partner projection), `redemptions` (catalogue, redemptions, payouts, batches, tax forms, claims) and
`messages` (the workflow-message union the consumer dispatches on).

Kept empty on purpose: the partner projection's function imports `rewards.models.earning`, and a package's
`__init__` is part of every import closure (tests/infra/test_layers.py), so nothing here may pull in contracts."""
