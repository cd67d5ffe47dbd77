"""Lambda entry point of MDF's HTTP routes (Handler `app.app`)."""

from mdf.api import app

__all__ = ["app"]
