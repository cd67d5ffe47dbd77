"""The partner programme: tiers, their versioned criteria, each partner's standing and its history."""
