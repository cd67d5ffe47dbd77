"""Content's DynamoDB adapters: `keys` (every key, one section per helper), `assets` (A), `search`, `access`,
`tracking` (B), `kits` (C)."""
