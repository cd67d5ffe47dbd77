"""The partner's brand profile (use cases): read it (defaults from the partner projection until a partner admin saves
one), save it on its revision, hand out a presigned logo upload, and process an uploaded logo (the bucket's object
event): checked and sanitised (domain.logo), stored on its upload record, then the brand's new revision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from content.domain import kits as rules
from content.domain.logo import MAX_LOGO_BYTES, CheckedLogo, check_logo
from content.domain.render import LogoImage
from content.models.kits import Brand, BrandBody, LogoBody, LogoUpload
from content.ports import Brands, KitFiles, PartnerStanding, StaleKitRecord
from content.repository import keys
from shared.clock import utc_now
from shared.errors import Conflict, Forbidden, NotFound
from shared.ids import new_id
from shared.principal import Principal
from shared.retry import attempts

PARTNER_ADMIN = "partner-admin"
PARTNER_USER = "partner-user"


@dataclass(frozen=True)
class LogoUploadGrant:
    upload: LogoUpload
    url: str
    fields: dict[str, str]
    expires_in: int


def partner_of(principal: Principal) -> str:
    """The caller's own partner id (from the verified token); vendor staff have no brand."""
    if principal.partner_id is None:
        raise Forbidden("Only partner users have a brand profile and co-branded copies.", code="partners_only")
    return principal.partner_id


def ensure_partner_admin(principal: Principal) -> str:
    partner_id = partner_of(principal)
    if not principal.in_group(PARTNER_ADMIN):
        raise Forbidden("Only your organisation's admins change its brand profile.", code="partner_admin_only")
    return partner_id


@dataclass
class BrandService:
    brands: Brands
    files: KitFiles
    standing: PartnerStanding
    upload_expires_in: int = 600
    clock: Callable[[], datetime] = field(default=utc_now)

    # ------------------------------------------------------------- reads
    def current(self, partner_id: str) -> Brand:
        """The saved brand, or the default one from the partner projection (revision 0)."""
        return self.brands.brand(partner_id) or rules.default_brand(partner_id, self.standing.defaults(partner_id))

    def logo(self, brand: Brand) -> LogoImage | None:
        """The brand's sanitised logo, to embed."""
        if brand.logo is None:
            return None
        data = self.brands.logo_data(brand.partner_id, brand.logo.upload_id)
        return LogoImage(brand.logo.content_type, data) if data else None

    def view(self, principal: Principal) -> tuple[Brand, LogoImage | None]:
        brand = self.current(partner_of(principal))
        return brand, self.logo(brand)

    def logo_upload(self, principal: Principal, upload_id: str) -> LogoUpload:
        """One of the caller's own organisation's logo uploads (another partner's is unknown)."""
        upload = self.brands.logo_upload(partner_of(principal), upload_id)
        if upload is None:
            raise NotFound("No such logo upload.", code="logo_upload_not_found")
        return upload

    # ------------------------------------------------------------- partner admin writes
    def save(self, principal: Principal, body: BrandBody) -> Brand:
        partner_id = ensure_partner_admin(principal)
        current = self.current(partner_id)
        brand = rules.saved_brand(current, body, principal.email, self.clock())
        try:
            self.brands.save_brand(brand, current.revision)
        except StaleKitRecord as lost:
            raise Conflict(
                "The brand profile was changed since you read it: reload it and save again.", code="stale_revision"
            ) from lost
        return brand

    def start_logo(self, principal: Principal, body: LogoBody) -> LogoUploadGrant:
        """A logo upload record (awaiting its file) and the presigned POST for exactly its key, type and size."""
        partner_id = ensure_partner_admin(principal)
        upload_id = new_id("logo")
        key = keys.logo_object_key(partner_id, upload_id)
        upload = LogoUpload(
            partner_id=partner_id,
            upload_id=upload_id,
            content_type=body.content_type,
            size_bytes=body.size_bytes,
            s3_key=key,
            created_by=principal.email,
            created_at=self.clock(),
        )
        self.brands.add_logo_upload(upload)
        post = self.files.presigned_upload(key, body.content_type, MAX_LOGO_BYTES)
        return LogoUploadGrant(upload, str(post["url"]), dict(post["fields"]), self.upload_expires_in)

    # ------------------------------------------------------------- processing (the bucket's object event)
    def process_logo(self, key: str, version_id: str | None) -> str:
        """Check one uploaded logo object version; idempotent (only an upload still awaiting its file changes)."""
        parsed = keys.parse_logo_object_key(key)
        if parsed is None:
            return f"ignored {key}: not a logo upload key"
        partner_id, upload_id = parsed
        upload = self.brands.logo_upload(partner_id, upload_id)
        if upload is None:
            self.files.delete(key, version_id)  # no upload was handed out for this key: nothing may stay
            return f"deleted {key}: no logo upload {upload_id} for partner {partner_id}"
        if upload.status != "awaiting_upload":
            return f"logo {upload_id} already {upload.status}"
        data = self.files.read(key, version_id, MAX_LOGO_BYTES + 1)
        if data is None:
            return f"logo {upload_id}: the object version is gone"
        verdict = check_logo(data, upload.content_type)
        if isinstance(verdict, CheckedLogo):
            return self._accept(upload, version_id, verdict)
        return self._reject(upload, version_id, verdict.reason)

    def _reject(self, upload: LogoUpload, version_id: str | None, reason: str) -> str:
        """The upload rejected with its reason and the object version deleted (nothing refused stays stored)."""
        rejected = upload.model_copy(
            update={"status": "rejected", "reason": reason, "s3_version_id": version_id, "processed_at": self.clock()}
        )
        try:
            self.brands.logo_rejected(rejected)
        except StaleKitRecord:
            return f"logo {upload.upload_id} was processed meanwhile"
        self.files.delete(upload.s3_key, version_id)
        return f"logo {upload.upload_id} rejected: {reason}"

    def _accept(self, upload: LogoUpload, version_id: str | None, logo: CheckedLogo) -> str:
        """The sanitised logo stored on its upload and the brand's new revision pointing at it, in one write."""
        now = self.clock()
        ready = upload.model_copy(
            update={
                "status": "ready",
                "s3_version_id": version_id,
                "sha256": rules.sha256(logo.data),
                "width": logo.width,
                "height": logo.height,
                "processed_at": now,
            }
        )
        for _ in attempts(4):
            brand = self.current(upload.partner_id)
            try:
                self.brands.logo_accepted(
                    ready, logo.data, rules.with_logo(brand, ready, logo.data, now), brand.revision
                )
            except StaleKitRecord:
                latest = self.brands.logo_upload(upload.partner_id, upload.upload_id)
                if latest is None or latest.status != "awaiting_upload":
                    return f"logo {upload.upload_id} was processed meanwhile"
                continue  # the brand moved on (a save): apply the logo to its new revision
            return f"logo {upload.upload_id} accepted (brand revision {brand.revision + 1})"
        raise Conflict(f"logo {upload.upload_id}: the brand kept changing; retried later", code="brand_busy")
