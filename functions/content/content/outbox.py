"""Content's outbox publisher (Handler `content.outbox.handler`): table stream -> event bus."""

from __future__ import annotations

from shared.outbox_publisher import outbox_handler

handler = outbox_handler()
