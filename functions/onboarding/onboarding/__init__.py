"""Partner onboarding: applications, approval outcome, partner organisations, users and the programme agreement."""
