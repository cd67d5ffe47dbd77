"""Adapters kits use (`content.ports.PartnerStanding`, `content.ports.KitFiles`): B's live partner projection as
kits ask it (an audience, an asset, the brand's defaults), and the bucket with a bounded whole-object read (a logo
to check, a stored copy's HTML to preview)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from content.domain.access import audience_refusal, may_see
from content.models.assets import Asset
from content.models.common import Audience
from content.models.kits import PartnerDefaults
from content.repository.access import PartnersRepository
from content.service.partners import Gatekeeper
from content.storage import ContentFiles


class PartnerStandingAdapter:
    """B's projection, read live at each call (a demotion hides a kit at once)."""

    def __init__(self, table_name: str) -> None:
        self.directory = PartnersRepository(table_name)
        self.gate = Gatekeeper(self.directory)

    def audience_refusals(self, audiences: Sequence[Audience], partner_id: str, now: datetime) -> list[str | None]:
        if not audiences:
            return []
        partner, ladder = self.gate.standing(partner_id, now)
        return [audience_refusal(audience, partner, ladder) for audience in audiences]

    def asset_refusals(self, assets: Sequence[Asset], partner_id: str, now: datetime) -> list[str | None]:
        if not assets:
            return []
        partner, ladder = self.gate.standing(partner_id, now)
        return [may_see(asset, partner, ladder, now) for asset in assets]

    def defaults(self, partner_id: str) -> PartnerDefaults | None:
        profile = self.directory.profile(partner_id)
        if profile is None:
            return None
        return PartnerDefaults(
            company_name=profile.company_name,
            domain=profile.domain or None,
            contact_name=profile.contact_name,
            contact_email=profile.contact_email or None,
        )


class KitStorage(ContentFiles):
    """The content bucket for kits: ContentFiles plus reading a small object version whole."""

    def read(self, key: str, version_id: str | None, limit: int) -> bytes | None:
        """Up to `limit` bytes of one object version (a longer object reads as `limit` bytes: callers refuse it);
        None when it is not there."""
        s3 = self._s3
        extra = {"VersionId": version_id} if version_id else {}
        try:
            answer = s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{limit - 1}", **extra)
        except s3.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound", "InvalidArgument", "400"):
                return None
            raise
        return bytes(answer["Body"].read(limit))
