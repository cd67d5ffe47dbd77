"""Rewards' DynamoDB adapters: `keys` (every key layout), `earning` (campaigns, rewards, accounts, the ledger, the
partner projection: A), `redemptions` (catalogue, redemptions, payouts, batches, tax forms, claims: B), composed into
one `RewardsRepository` in `store`. This `__init__` stays empty: the partner projection's function imports
`rewards.repository.partners` only, and a package's `__init__` is part of every import closure."""
