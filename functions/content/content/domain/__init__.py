"""Content's pure rules: `assets` (A: file types, asset lifecycle); `search`, `access`, `tracking` (B); `kits`,
`render`, `pdf`, `logo` (C). Kept empty: a package's `__init__` is in every import closure of its modules."""
