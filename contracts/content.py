"""Events published by the content library (source `prm.content`): assets published, replaced by a new version,
changed or expired; downloads and previews by partner people; co-branded kit copies generated for a partner.

Library-wide events (an asset published, replaced, changed, expired) concern no one partner: their `partner_id` is
`*` (ALL_PARTNERS). An asset's `audience` says who may see it: a minimum tier id (None: every tier), regions and
partner types (an empty list: everyone on that axis)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import UtcDateTime
from shared.email import Email
from shared.events import EventDetail

SOURCE = "prm.content"
ALL_PARTNERS = "*"  # the `partner_id` of a library-wide event (as onboarding's and training's ALL_PARTNERS)

AssetType = Literal["document", "presentation", "video", "image", "archive"]


class ContentAudience(BaseModel):
    """Who may see an asset: partners at or above `min_tier_id` (None: any tier), in one of `regions` and of one of
    `partner_types` (an empty list: everyone on that axis)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    min_tier_id: str | None = Field(default=None, max_length=40)
    regions: list[Literal["AMER", "EMEA", "APAC"]] = Field(default_factory=list, max_length=3)
    partner_types: list[Literal["reseller", "distributor", "isv", "referral"]] = Field(
        default_factory=list, max_length=4
    )


class _AssetEvent(EventDetail):
    asset_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=120)


class ContentPublished(_AssetEvent):
    """An asset became visible to its audience: its first version was processed and its publish date came. The
    searchable fields are here so a consumer can index the asset without reading it back."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ContentPublished"

    version_number: int = Field(ge=1)  # the asset's live version (`version` is the envelope's schema version)
    description: str = Field(default="", max_length=2000)
    asset_type: AssetType
    language: str = Field(pattern=r"^[a-z]{2}$")
    tags: list[str] = Field(default_factory=list, max_length=10)
    product_skus: list[str] = Field(default_factory=list, max_length=20)
    audience: ContentAudience
    publish_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    published_by: str


class ContentVersionReplaced(_AssetEvent):
    """A processed new version of an asset became its current one (the asset id never changes); `notes` say what
    changed, for the people who downloaded an earlier version."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ContentVersionReplaced"

    version_number: int = Field(ge=2)  # the new current version
    previous_version_number: int = Field(ge=1)
    notes: str | None = Field(default=None, max_length=1000)
    replaced_by: str


class ContentMetadataChanged(_AssetEvent):
    """A vendor admin changed a published or pending asset's metadata (title, description, tags, SKUs, audience,
    dates): the whole new metadata, so a consumer re-indexes without reading the asset back."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ContentMetadataChanged"

    revision: int = Field(ge=1)
    status: Literal["draft", "processing", "ready", "rejected", "expired"]
    description: str = Field(default="", max_length=2000)
    asset_type: AssetType
    language: str = Field(pattern=r"^[a-z]{2}$")
    tags: list[str] = Field(default_factory=list, max_length=10)
    product_skus: list[str] = Field(default_factory=list, max_length=20)
    audience: ContentAudience
    publish_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    changed_by: str


class ContentExpired(_AssetEvent):
    """The asset's expiry date came: no partner can see or download it any more."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ContentExpired"

    expired_at: UtcDateTime


class ContentDownloaded(EventDetail):
    """A partner's person downloaded or previewed one version of an asset (`partner_id` is that partner's)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "ContentDownloaded"

    download_id: str = Field(min_length=1, max_length=64)
    asset_id: str = Field(min_length=1, max_length=64)
    version_number: int = Field(ge=1)
    person_email: Email
    kind: Literal["download", "preview"]
    downloaded_at: UtcDateTime


class CoBrandedKitGenerated(EventDetail):
    """A partner's person generated (or regenerated) the organisation's co-branded copy of a kit (`partner_id` is
    that partner's); `files` name the stored files of the copy (e.g. `email.html`, `kit.pdf`)."""

    SOURCE: ClassVar[str] = SOURCE
    DETAIL_TYPE: ClassVar[str] = "CoBrandedKitGenerated"

    kit_id: str = Field(min_length=1, max_length=64)
    copy_revision: int = Field(ge=1)
    template_revision: int = Field(ge=1)
    brand_revision: int = Field(ge=0)
    files: list[str] = Field(min_length=1, max_length=10)
    generated_by: str
    generated_at: UtcDateTime


CONTENT_EVENTS: tuple[type[EventDetail], ...] = (
    ContentPublished,
    ContentVersionReplaced,
    ContentMetadataChanged,
    ContentExpired,
    ContentDownloaded,
    CoBrandedKitGenerated,
)
