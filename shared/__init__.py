"""PRM shared kernel: generic building blocks every bounded context uses (no domain rules live here)."""
