"""Co-branded kits (use cases): vendor admins create, change, publish and list kits; partners see the published kits
their live tier, region and type allow (with only the kit's assets they may see), and generate their organisation's
copy: the template filled from the brand profile, stored under `kits/<their partner id>/...`, handed out as
short-lived presigned URLs, regenerated whenever the template or the brand moved on (CoBrandedKitGenerated)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from content.domain import kits as rules
from content.models.assets import Asset
from content.models.kits import CopyFile, Kit, KitBody, KitCopy, KitPatch
from content.ports import AssetLookup, KitFiles, Kits, PartnerStanding, StaleKitRecord
from content.repository import keys
from content.service.brand import BrandService, partner_of
from shared.clock import utc_now
from shared.errors import Conflict, Forbidden, NotFound
from shared.ids import new_id
from shared.principal import Principal
from shared.retry import attempts

VENDOR_ADMIN = "vendor-admin"
MAX_PREVIEW_BYTES = 2 * 1024 * 1024  # a copy's HTML: the 100 KB template plus a 200 KB logo, base64


@dataclass(frozen=True)
class KitView:
    """A kit as its reader may see it, with the assets they may see."""

    kit: Kit
    assets: list[Asset]


@dataclass(frozen=True)
class FileLink:
    file: CopyFile
    url: str
    expires_in: int


@dataclass(frozen=True)
class CopyView:
    """A partner's copy: the record, its HTML preview and the presigned links to its stored files."""

    copy: KitCopy
    kind: str
    html: str
    links: list[FileLink]
    generated: bool  # made by this request (False: the stored copy was still fresh)


def ensure_vendor_admin(principal: Principal) -> None:
    if principal.partner_id is not None or not principal.in_group(VENDOR_ADMIN):
        raise Forbidden("Only vendor admins manage kits.")


@dataclass
class KitsService:
    kits: Kits
    brand: BrandService
    files: KitFiles
    standing: PartnerStanding
    assets: AssetLookup
    url_seconds: int = 300
    clock: Callable[[], datetime] = field(default=utc_now)

    # ------------------------------------------------------------- vendor admins
    def _known_assets(self, asset_ids: list[str]) -> set[str]:
        return set(self.assets.get_many(asset_ids)) if asset_ids else set()

    def create(self, principal: Principal, body: KitBody) -> Kit:
        ensure_vendor_admin(principal)
        kit = rules.new_kit(body, new_id("kit"), self._known_assets(body.asset_ids), principal.email, self.clock())
        self.kits.create(kit)
        return kit

    def patch(self, principal: Principal, kit_id: str, body: KitPatch) -> Kit:
        ensure_vendor_admin(principal)
        kit = self.kits.get(kit_id)
        if kit is None:
            raise NotFound("No such kit.", code="kit_not_found")
        changed = rules.patched_kit(kit, body, self._known_assets(body.asset_ids or []), self.clock())
        try:
            self.kits.update(changed, kit.revision)
        except StaleKitRecord as lost:
            raise Conflict(
                "The kit was changed since you read it: reload it and apply your change again.", code="stale_revision"
            ) from lost
        return changed

    # ------------------------------------------------------------- reads (vendor admins: all; partners: allowed)
    def _visible_kit(self, kit_id: str, partner_id: str, now: datetime) -> Kit:
        """A published kit whose audience admits the partner now (anything else answers as an unknown kit)."""
        kit = rules.published_or_404(self.kits.get(kit_id))
        if self.standing.audience_refusals([kit.audience], partner_id, now) != [None]:
            raise NotFound("No such kit.", code="kit_not_found")
        return kit

    def get(self, principal: Principal, kit_id: str) -> KitView:
        if principal.partner_id is None:
            ensure_vendor_admin(principal)
            kit = self.kits.get(kit_id)
            if kit is None:
                raise NotFound("No such kit.", code="kit_not_found")
            found = self.assets.get_many(kit.asset_ids) if kit.asset_ids else {}
            return KitView(kit, [found[a] for a in kit.asset_ids if a in found])
        now = self.clock()
        kit = self._visible_kit(kit_id, principal.partner_id, now)
        return KitView(kit, self._visible_assets(kit, principal.partner_id, now))

    def _visible_assets(self, kit: Kit, partner_id: str, now: datetime) -> list[Asset]:
        found = self.assets.get_many(kit.asset_ids) if kit.asset_ids else {}
        assets = [found[a] for a in kit.asset_ids if a in found]
        refusals = self.standing.asset_refusals(assets, partner_id, now)
        return [asset for asset, refusal in zip(assets, refusals, strict=True) if refusal is None]

    def page(
        self, principal: Principal, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Kit], str | None]:
        """Vendor admins: every kit (or one status), newest first. Partners: one page of published kits, those
        their audience admits (a page may hold fewer than `limit`; the cursor goes on)."""
        if principal.partner_id is None:
            ensure_vendor_admin(principal)
            return self.kits.page(status, limit, cursor)
        now = self.clock()
        kits, next_cursor = self.kits.page("published", limit, cursor)
        refusals = self.standing.audience_refusals([k.audience for k in kits], principal.partner_id, now)
        return [k for k, refusal in zip(kits, refusals, strict=True) if refusal is None], next_cursor

    # ------------------------------------------------------------- a partner's copy
    def generate(self, principal: Principal, kit_id: str) -> CopyView:
        """The organisation's copy, made now unless the stored one is still fresh."""
        return self._fresh_copy(principal, kit_id, create=True)

    def stored_copy(self, principal: Principal, kit_id: str) -> CopyView:
        """The organisation's stored copy, regenerated first if the template or the brand moved on (404 before the
        first generation)."""
        return self._fresh_copy(principal, kit_id, create=False)

    def _fresh_copy(self, principal: Principal, kit_id: str, *, create: bool) -> CopyView:
        partner_id = partner_of(principal)
        now = self.clock()
        kit = self._visible_kit(kit_id, partner_id, now)
        previous = self.kits.copy(kit_id, partner_id)
        if previous is None and not create:
            raise NotFound("Your organisation has no copy of this kit yet: generate it first.", code="copy_not_found")
        for _ in attempts(4):
            brand = self.brand.current(partner_id)
            if previous is not None and rules.is_fresh(previous, kit, brand):
                return self._stored_view(previous, kit)
            rendered = rules.rendered_copy(kit, brand, self.brand.logo(brand))
            revision = rules.next_copy_revision(previous)
            stored = []
            for file in rendered.files:
                key = keys.kit_copy_object_key(partner_id, kit_id, revision, file.name)
                version_id = self.files.put(key, file.body, file.content_type)
                stored.append(
                    CopyFile(
                        name=file.name,
                        content_type=file.content_type,
                        key=key,
                        version_id=version_id,
                        size_bytes=len(file.body),
                    )
                )
            copy = KitCopy(
                kit_id=kit_id,
                partner_id=partner_id,
                copy_revision=revision,
                template_revision=kit.template_revision,
                brand_revision=brand.revision,
                subject=rendered.subject,
                files=stored,
                generated_by=principal.email,
                generated_at=now,
            )
            try:
                self.kits.save_copy(copy, previous.copy_revision if previous else None, [rules.generated(copy)])
            except StaleKitRecord:
                previous = self.kits.copy(kit_id, partner_id)  # a concurrent generation won: use it if fresh
                continue
            return CopyView(copy, kit.template.kind, rendered.html, self._links(copy), generated=True)
        raise Conflict("Your organisation's copy is being generated right now: try again.", code="copy_busy")

    def _links(self, copy: KitCopy) -> list[FileLink]:
        return [
            FileLink(
                file,
                self.files.download_url(file.key, file.version_id, file.name, seconds=self.url_seconds),
                self.url_seconds,
            )
            for file in copy.files
        ]

    def _stored_view(self, copy: KitCopy, kit: Kit) -> CopyView:
        html_file = next((f for f in copy.files if f.name.endswith(".html")), None)
        data = self.files.read(html_file.key, html_file.version_id, MAX_PREVIEW_BYTES) if html_file else None
        return CopyView(copy, kit.template.kind, (data or b"").decode("utf-8", "replace"), self._links(copy), False)
