"""Partner rewards: campaigns that pay people for facts (won deals, certifications, approved claims), their ledger of
accounts, and what people redeem (catalogue items, payouts)."""
