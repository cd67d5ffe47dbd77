"""Content's settings per function, validated from environment variables at cold start. A wrote the classes; B and
C add their fields under a comment with their letter (under the shared lock for the template's variables)."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.email import Email
from shared.settings import ApiSettings as EdgeSettings
from shared.settings import QueueArn, Settings, TableName, Timers

MEGABYTE = 1024 * 1024


class ApiSettings(EdgeSettings, Timers):
    """ContentApiFunction: the library's vendor routes (A), browse, search, downloads, tracking (B), kits and brand
    (C). A changed publish or expiry date schedules its timer on the workflow queue."""

    content_bucket: str = Field(min_length=3)
    max_asset_bytes: int = Field(default=50 * MEGABYTE, ge=1024, le=5 * 1024 * MEGABYTE)
    download_url_seconds: int = Field(default=300, ge=30, le=3600)
    workflow_queue_arn: QueueArn  # the publish and expiry timers' messages go there
    # B:
    # C:


class ProcessingSettings(Timers):
    """ContentProcessingFunction: uploaded objects (S3 "Object Created" events from the uploads queue: assets/ keys
    here, logos/ keys to C's content.logos) and the publish and expiry timers (the workflow queue)."""

    table_name: TableName
    content_bucket: str = Field(min_length=3)
    workflow_queue_arn: QueueArn
    # C:


class ConsumerSettings(Settings):
    """ContentEventsFunction (B): the partner, tier, ladder and agreement projections; the search index from
    content's own events; version-changed emails."""

    table_name: TableName
    # B: version-changed emails (MAIL_FROM, PORTAL_URL), a page of downloaders per delivery (EVENTS_QUEUE_URL)
    mail_from: Email
    portal_url: HttpUrl
    events_queue_url: str = Field(pattern=r"^https?://")
