"""Lambda entry point of the rewards HTTP routes (Handler `app.app`); the routes live in rewards.api."""

from rewards.api import app

__all__ = ["app"]
