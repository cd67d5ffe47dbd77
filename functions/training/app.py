"""Lambda entry point of training's HTTP routes (Handler `app.app`); the routes live in training.api."""

from training.api import app

__all__ = ["app"]
