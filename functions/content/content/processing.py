"""ContentProcessingFunction: what arrives in the content bucket, and the library's timers.

Two queues feed it. ContentUploadsQueue carries the bucket's S3 "Object Created" events (EventBridge, default bus):
`assets/` keys are the library's versions (content.service.processing: checked, digested, made ready or rejected),
`logos/` keys are partners' brand logos (C's content.logos.handle_logo_object); the API's own writes (`kits/`,
`exports/`) need nothing. ContentWorkflowQueue carries the publish and expiry timers' messages. S3 event ids are not
unique (moto's are constant): an object is known by (key, version id), and each handler is conditional on the state
it moves, so a repeated event changes nothing."""

from __future__ import annotations

from functools import cache
from typing import Any

from content.models.assets import AssetTimer
from content.repository import keys
from content.repository.assets import AssetsRepository
from content.service.processing import ProcessingService
from content.settings import ProcessingSettings
from content.storage import ContentFiles
from shared.adapters import SchedulerTimers
from shared.consumers import sqs_handler
from shared.observability import logger

SETTINGS = ProcessingSettings.from_env()
OBJECT_CREATED = "Object Created"


@cache
def service() -> ProcessingService:
    return ProcessingService(
        AssetsRepository(SETTINGS.table_name),
        ContentFiles(SETTINGS.content_bucket),
        SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn),
    )


def object_created(detail: dict[str, Any]) -> str:
    bucket = str((detail.get("bucket") or {}).get("name", ""))
    item = detail.get("object") or {}
    key = str(item.get("key", ""))
    version_id = item.get("version-id")
    size = int(item.get("size") or 0)
    if bucket != SETTINGS.content_bucket or not key:
        return f"not the content bucket's object ({bucket}/{key})"
    logger.append_keys(s3_key=key, s3_version_id=version_id)
    if key.startswith(keys.ASSETS_PREFIX):
        return service().object_created(key, version_id)
    if key.startswith(keys.LOGOS_PREFIX):
        # imported here: the logo checks (expat, the SVG and PNG rules, the kits' brand service) are only for logos,
        # so the library's own uploads and timers never load them on a cold start
        from content.logos import handle_logo_object

        return handle_logo_object(key, version_id, size, settings=SETTINGS)
    return f"{key}: nothing to process"


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    if body.get("source") == "aws.s3":
        if body.get("detail-type") != OBJECT_CREATED:
            return f"ignored {body.get('detail-type')}"
        return object_created(dict(body.get("detail") or {}))
    timer = AssetTimer.model_validate(body)
    return service().timer(timer)


handler = sqs_handler(handle_message)
