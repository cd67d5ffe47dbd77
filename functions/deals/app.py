"""Lambda entry point of deal registration's HTTP routes (Handler `app.app`); the routes live in deals.api."""

from deals.api import app

__all__ = ["app"]
