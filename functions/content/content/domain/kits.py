"""Kit and brand rules (pure): a kit's creation and changes (its template checked, its assets known, its template
revision bumped when the template changes), the brand profile (defaults from the partner, saves on its revision, a
new logo), and a partner's copy: what it contains, when it is stale, and the event it publishes."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from content.domain import pdf, render
from content.models.kits import (
    Brand,
    BrandBody,
    Kit,
    KitBody,
    KitCopy,
    KitPatch,
    KitTemplate,
    LogoRef,
    LogoUpload,
    PartnerDefaults,
)
from contracts.content import CoBrandedKitGenerated
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.ids import new_id

HTML = "text/html; charset=utf-8"
PDF = "application/pdf"
PDF_FILE = "kit.pdf"


# ------------------------------------------------------------------ kits (vendor admin)
def _template_problems(template: KitTemplate) -> list[FieldError]:
    pdf_texts = []
    if template.pdf is not None:
        pdf_texts = [("template.pdf.headline", template.pdf.headline), ("template.pdf.body", template.pdf.body)]
    return render.template_problems(template.html, template.subject, pdf_texts)


def _asset_problems(asset_ids: list[str], known: Collection[str]) -> list[FieldError]:
    return [
        FieldError(f"asset_ids.{index}", "no such asset in the library")
        for index, asset_id in enumerate(asset_ids)
        if asset_id not in known
    ]


def _refuse(problems: list[FieldError]) -> None:
    if problems:
        raise ValidationFailed("The kit is not valid.", problems)


def new_kit(body: KitBody, kit_id: str, known_assets: Collection[str], by: str, now: datetime) -> Kit:
    """A kit as the vendor wrote it; every template and asset problem is reported at once, each naming its field."""
    _refuse(_template_problems(body.template) + _asset_problems(body.asset_ids, known_assets))
    return Kit(
        kit_id=kit_id,
        name=body.name,
        description=body.description,
        campaign=body.campaign,
        asset_ids=body.asset_ids,
        audience=body.audience,
        template=body.template,
        template_revision=1,
        status=body.status,
        created_by=by,
        created_at=now,
        updated_at=now,
        published_at=now if body.status == "published" else None,
        revision=1,
    )


def patched_kit(kit: Kit, patch: KitPatch, known_assets: Collection[str], now: datetime) -> Kit:
    """The kit with the patch applied, on its current revision (a stale one is a conflict); a template that differs
    bumps `template_revision`, so every partner's copy is regenerated on its next read."""
    if patch.revision != kit.revision:
        raise Conflict(
            "The kit was changed since you read it: reload it and apply your change again.",
            code="stale_revision",
            errors=[FieldError("revision", f"is {kit.revision} now")],
        )
    problems: list[FieldError] = []
    if patch.template is not None:
        problems += _template_problems(patch.template)
    if patch.asset_ids is not None:
        problems += _asset_problems(patch.asset_ids, known_assets)
    _refuse(problems)
    changes = patch.model_dump(exclude_none=True, exclude={"revision", "template", "audience"})
    if patch.audience is not None:
        changes["audience"] = patch.audience
    template_changed = patch.template is not None and patch.template != kit.template
    if patch.template is not None:
        changes["template"] = patch.template
    status = patch.status or kit.status
    return kit.model_copy(
        update={
            **changes,
            "template_revision": kit.template_revision + 1 if template_changed else kit.template_revision,
            "published_at": (kit.published_at or now) if status == "published" else None,
            "updated_at": now,
            "revision": kit.revision + 1,
        }
    )


def published_or_404(kit: Kit | None) -> Kit:
    """A kit a partner may be shown exists only once published (a draft answers as an unknown kit)."""
    if kit is None or kit.status != "published":
        raise NotFound("No such kit.", code="kit_not_found")
    return kit


# ------------------------------------------------------------------ brand profile (partner admin)
def default_brand(partner_id: str, defaults: PartnerDefaults | None) -> Brand:
    """The brand profile before the partner saves one (revision 0)."""
    if defaults is None:
        return Brand(partner_id=partner_id, display_name=partner_id)
    return Brand(
        partner_id=partner_id,
        display_name=defaults.company_name[:120] or partner_id,
        website=f"https://{defaults.domain}" if defaults.domain else None,
        contact_name=defaults.contact_name[:120],
        contact_email=defaults.contact_email,
    )


def saved_brand(current: Brand, body: BrandBody, by: str, now: datetime) -> Brand:
    """The brand as the partner admin wrote it, on the revision they read (stale: conflict); the logo is kept."""
    if body.revision != current.revision:
        raise Conflict(
            "The brand profile was changed since you read it: reload it and save again.",
            code="stale_revision",
            errors=[FieldError("revision", f"is {current.revision} now")],
        )
    return current.model_copy(
        update={
            **body.model_dump(exclude={"revision", "address"}),
            "address": body.address,
            "revision": current.revision + 1,
            "updated_by": by,
            "updated_at": now,
        }
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def with_logo(current: Brand, upload: LogoUpload, data: bytes, now: datetime) -> Brand:
    """The brand with a newly accepted logo (a new brand revision: every copy is regenerated)."""
    logo = LogoRef(
        upload_id=upload.upload_id,
        content_type=upload.content_type,
        size_bytes=len(data),
        width=upload.width,
        height=upload.height,
        sha256=sha256(data),
    )
    return current.model_copy(
        update={"logo": logo, "revision": current.revision + 1, "updated_by": upload.created_by, "updated_at": now}
    )


# ------------------------------------------------------------------ a partner's copy
def is_fresh(copy: KitCopy | None, kit: Kit, brand: Brand) -> bool:
    """Whether the stored copy was made from this template and this brand profile."""
    return copy is not None and (copy.template_revision, copy.brand_revision) == (kit.template_revision, brand.revision)


def partner_values(brand: Brand, logo: render.LogoImage | None) -> render.PartnerValues:
    return render.PartnerValues(
        name=brand.display_name,
        website=brand.website or "",
        contact_name=brand.contact_name,
        contact_email=brand.contact_email or "",
        phone=brand.phone,
        address=tuple(brand.address_lines()),
        logo=logo,
    )


@dataclass(frozen=True)
class RenderedFile:
    name: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class RenderedCopy:
    subject: str | None
    html: str
    files: list[RenderedFile]


def rendered_copy(kit: Kit, brand: Brand, logo: render.LogoImage | None) -> RenderedCopy:
    """The partner's copy of the kit: the filled HTML (named by its kind) and, when the kit has one, the PDF."""
    values = partner_values(brand, logo)
    template = kit.template
    html = render.render_html(template.html, values)
    files = [RenderedFile(f"{template.kind}.html", HTML, html.encode("utf-8"))]
    if template.pdf is not None and template.pdf.enabled:
        footer = [
            line
            for line in (
                values.name,
                values.text("partner.website"),
                " - ".join(part for part in (values.contact_name, values.contact_email, values.phone) if part),
                ", ".join(values.address),
            )
            if line
        ]
        page = pdf.PdfPage(
            headline=render.render_text(template.pdf.headline, values),
            paragraphs=render.render_text(template.pdf.body, values).split("\n\n"),
            footer=footer,
            title=f"{kit.name} - {values.name}",
        )
        files.append(RenderedFile(PDF_FILE, PDF, pdf.one_page_pdf(page)))
    subject = render.render_subject(template.subject, values) if template.subject else None
    return RenderedCopy(subject, html, files)


def next_copy_revision(previous: KitCopy | None) -> int:
    return previous.copy_revision + 1 if previous else 1


def generated(copy: KitCopy) -> CoBrandedKitGenerated:
    return CoBrandedKitGenerated.occurred(
        at=copy.generated_at,
        event_id=new_id("evt"),
        partner_id=copy.partner_id,
        kit_id=copy.kit_id,
        copy_revision=copy.copy_revision,
        template_revision=copy.template_revision,
        brand_revision=copy.brand_revision,
        files=[file.name for file in copy.files],
        generated_by=copy.generated_by,
        generated_at=copy.generated_at,
    )
