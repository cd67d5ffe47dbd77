"""Lambda entry point of onboarding's HTTP routes (Handler `app.app`); the routes live in onboarding.api."""

from onboarding.api import app

__all__ = ["app"]
