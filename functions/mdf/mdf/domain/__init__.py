"""MDF's rules as pure functions, one module per sub-domain (no I/O; import from the module that holds the rule).

- `common`: what every rule returns (`Change`) and the errors they raise;
- `access`: who may see and do what;
- `periods`: programme periods and fund identities;
- `ledger`: the running balance and its entries (allocation, adjustment, accrual, release, expiry);
- `requests`: fund requests and their approval chain;
- `claims`: claims with proof of performance, their review and deadline;
- `proofs`: what an uploaded proof file must be;
- `timers`: when the fund and claim timers fire, and whether a timer still applies.
"""
