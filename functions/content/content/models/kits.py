"""Co-branded marketing kits (C): a kit (assets for a campaign and a co-brand template), the partner's brand profile
and logo uploads, and the partner's generated copy of a kit. Request bodies are Strict (unknown fields refused);
stored records ignore their keys when read back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from content.models.common import AssetId, Audience, Description, Record, Strict, Title
from shared.clock import UtcDateTime
from shared.countries import CountryCode
from shared.email import Email
from shared.text import Line, Paragraphs

KitId = Annotated[str, StringConstraints(pattern=r"^kit_[0-9a-z]{26}$")]
LogoUploadId = Annotated[str, StringConstraints(pattern=r"^logo_[0-9a-z]{26}$")]
KitKind = Literal["email", "landing_page"]
KitStatus = Literal["draft", "published"]
LogoStatus = Literal["awaiting_upload", "ready", "rejected"]
LogoType = Literal["image/png", "image/svg+xml"]

MAX_KIT_ASSETS = 20
MAX_HTML_CHARS = 100 * 1024  # the renderer also checks the UTF-8 size (domain.render.MAX_TEMPLATE_BYTES)
MAX_LOGO_BYTES = 200 * 1024

ShortLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), Line]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Line]
Headline = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), Line]
PdfBody = Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000), Paragraphs]
Html = Annotated[str, StringConstraints(min_length=1, max_length=MAX_HTML_CHARS)]
AddressLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Line]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+() .-]*$")]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^[A-Za-z0-9 -]*$")]


def _https_url(value: str) -> str:
    """A public https URL without credentials, spaces or quotes (it lands in an href)."""
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,63}(:[0-9]{1,5})?(/[^\s\"'<>`\\]*)?", value):
        raise ValueError("must be an https URL such as https://www.example.com")
    return value


Website = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_https_url)]


# ------------------------------------------------------------------ kits
class PdfTemplate(Strict):
    """The optional one-page PDF: a headline and a body, placeholders allowed except {{partner.logo}}."""

    enabled: bool = Field(default=True, strict=True)
    headline: Headline
    body: PdfBody = ""


class KitTemplate(Strict):
    """The co-brand template: an email (with its subject) or a landing page, and optionally a PDF."""

    kind: KitKind
    subject: Subject | None = None
    html: Html
    pdf: PdfTemplate | None = None

    @model_validator(mode="after")
    def _subject_for_email(self) -> KitTemplate:
        if self.kind == "email" and self.subject is None:
            raise ValueError("subject: an email template needs a subject")
        if self.kind == "landing_page" and self.subject is not None:
            raise ValueError("subject: only an email template has a subject")
        return self


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("lists an asset more than once")
    return values


AssetIds = Annotated[list[AssetId], Field(max_length=MAX_KIT_ASSETS), AfterValidator(_unique)]


class KitBody(Strict):
    """POST /content/kits (vendor admin)."""

    name: Title
    description: Description = ""
    campaign: ShortLine = ""
    asset_ids: AssetIds = Field(default_factory=list)
    audience: Audience = Field(default_factory=Audience)
    template: KitTemplate
    status: KitStatus = "draft"


class KitPatch(Strict):
    """PATCH /content/kits/{kit_id} (vendor admin): any field, on the kit's current `revision` (409 on a stale one).
    A changed template bumps `template_revision`, so every partner's copy is regenerated on its next read."""

    name: Title | None = None
    description: Description | None = None
    campaign: ShortLine | None = None
    asset_ids: AssetIds | None = None
    audience: Audience | None = None
    template: KitTemplate | None = None
    status: KitStatus | None = None
    revision: int = Field(ge=1, strict=True)


class Kit(Record):
    """`KIT#<kid>` / `KIT`: gsi1pk `KITS`, gsi1sk `<updated_at>#<kid>` (the vendor's list, newest first); a published
    kit is also on gsi2pk `KITS#published` (the partners' list)."""

    kit_id: str
    name: str
    description: str = ""
    campaign: str = ""
    asset_ids: list[str] = Field(default_factory=list)
    audience: Audience = Field(default_factory=Audience)
    template: KitTemplate
    template_revision: int = 1
    status: KitStatus = "draft"
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    published_at: UtcDateTime | None = None
    revision: int = 1


# ------------------------------------------------------------------ brand profile and logo
@dataclass(frozen=True)
class PartnerDefaults:
    """What the partner projection knows of an organisation: the brand profile's starting point."""

    company_name: str
    domain: str | None = None
    contact_name: str = ""
    contact_email: str | None = None


class BrandAddress(Strict):
    lines: list[AddressLine] = Field(default_factory=list, max_length=3)
    city: ShortLine = ""
    postcode: Postcode = ""
    country: CountryCode | None = None


class BrandBody(Strict):
    """PUT /content/brand (partner admin): the whole profile, on its current `revision` (0 before the first save)."""

    display_name: Title
    website: Website | None = None
    contact_name: ShortLine = ""
    contact_email: Email | None = None
    phone: Phone = ""
    address: BrandAddress = Field(default_factory=BrandAddress)
    revision: int = Field(ge=0, strict=True)


class LogoRef(Record):
    """The brand's current logo (its sanitised bytes live on the logo upload's item)."""

    upload_id: str
    content_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    sha256: str


class Brand(Record):
    """`BRAND#<pid>` / `BRAND`: how a partner appears in its co-branded copies. `revision` is the brand revision a
    copy records; 0 is the default profile (from the partner projection) never saved."""

    partner_id: str
    display_name: str
    website: str | None = None
    contact_name: str = ""
    contact_email: str | None = None
    phone: str = ""
    address: BrandAddress = Field(default_factory=BrandAddress)
    logo: LogoRef | None = None
    revision: int = 0
    updated_by: str | None = None
    updated_at: UtcDateTime | None = None

    def address_lines(self) -> list[str]:
        city = " ".join(part for part in (self.address.postcode, self.address.city) if part)
        return [
            *self.address.lines,
            *([city] if city else []),
            *([self.address.country] if self.address.country else []),
        ]


class LogoBody(Strict):
    """POST /content/brand/logo (partner admin): the file about to be uploaded."""

    content_type: LogoType
    size_bytes: int = Field(ge=1, le=MAX_LOGO_BYTES, strict=True)

    @field_validator("content_type", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class LogoUpload(Record):
    """`BRAND#<pid>` / `LOGO#<upload_id>`: one logo upload, waiting, accepted (its sanitised bytes stored on the item
    as `data`, read only to render) or rejected with the reason."""

    partner_id: str
    upload_id: str
    content_type: str
    size_bytes: int
    s3_key: str
    status: LogoStatus = "awaiting_upload"
    reason: str | None = None
    s3_version_id: str | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    created_by: str
    created_at: UtcDateTime
    processed_at: UtcDateTime | None = None


# ------------------------------------------------------------------ a partner's copy
class CopyBody(Strict):
    """POST /content/kits/{kit_id}/copies: an empty object (the copy is made from the kit and the caller's brand)."""


class CopyFile(Record):
    """One stored file of a copy: `kits/<pid>/<kid>/<copy_revision>/<name>`, one object version."""

    name: str
    content_type: str
    key: str
    version_id: str | None = None
    size_bytes: int


class KitCopy(Record):
    """`KIT#<kid>` / `COPY#<pid>`: the partner's latest co-branded copy, fresh while the kit's template revision and
    the partner's brand revision are the ones it records."""

    kit_id: str
    partner_id: str
    copy_revision: int
    template_revision: int
    brand_revision: int
    subject: str | None = None
    files: list[CopyFile] = Field(default_factory=list)
    generated_by: str
    generated_at: UtcDateTime
