"""Lambda entry point of the partner programme's HTTP routes (Handler `app.app`); the routes live in tiers.api."""

from tiers.api import app

__all__ = ["app"]
