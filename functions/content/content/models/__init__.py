"""Content's models: `common` (bases, value types), `assets` (A); `kits` (C). B's models live beside its modules."""
