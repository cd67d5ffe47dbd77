"""Market development funds: budgets and ledger, fund requests, claims with proof of performance, payment."""
