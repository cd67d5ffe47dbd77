"""Content's use cases on ports: `library`, `processing` (A); `search`, `downloads`, `partners` (B); `kits`,
`brand` (C)."""
