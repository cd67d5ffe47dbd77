"""Lambda entry point of the approval link pages (Handler `app.app`); the routes live in approvals.api."""

from approvals.api import app

__all__ = ["app"]
