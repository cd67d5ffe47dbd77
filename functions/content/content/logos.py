"""Logo uploads arriving in the bucket (`logos/<pid>/<upload_id>`): A's processing dispatcher calls
`handle_logo_object` for each "Object Created" event under the prefix; the brand service checks and sanitises the
object version, stores it on its upload record and bumps the brand revision (idempotent on the upload's status)."""

from __future__ import annotations

from functools import cache

from content.repository.kits import KitsRepository
from content.service.brand import BrandService
from content.settings import ProcessingSettings
from content.standing import KitStorage, PartnerStandingAdapter


@cache
def brand_service(table_name: str, bucket: str) -> BrandService:
    return BrandService(KitsRepository(table_name), KitStorage(bucket), PartnerStandingAdapter(table_name))


def handle_logo_object(key: str, version_id: str | None, size: int, *, settings: ProcessingSettings) -> str:
    """What became of one uploaded logo object version (for the log); raises to have the message retried."""
    outcome = brand_service(settings.table_name, settings.content_bucket).process_logo(key, version_id)
    return f"{outcome} ({size} bytes)"
