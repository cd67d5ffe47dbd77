"""Lambda entry point of the content HTTP routes (Handler `app.app`); the routes live in content.api."""

from content.api import app

__all__ = ["app"]
