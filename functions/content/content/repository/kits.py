"""Kits, brand profiles, logo uploads and partners' kit copies in the content table (`content.ports.Kits` and
`content.ports.Brands`). Every state change is conditional (a kit and a brand on their revision, a copy on its copy
revision, a logo upload on its status) and travels with its outbox events in one transaction. Reads are key lookups
or one index partition (keys in `content.repository.keys`); no Scan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from content.models.kits import Brand, Kit, KitCopy, LogoUpload
from content.ports import StaleKitRecord
from content.repository import keys
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item


def kit_item(kit: Kit) -> dict[str, Any]:
    pk, sk = keys.kit(kit.kit_id)
    order = keys.asset_order(kit.model_dump(mode="json")["updated_at"], kit.kit_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "kit",
        "gsi1pk": keys.ALL_KITS,
        "gsi1sk": order,
        "gsi2pk": keys.kits_with_status(kit.status),
        "gsi2sk": order,
    } | kit.model_dump(mode="json")


def copy_item(copy: KitCopy) -> dict[str, Any]:
    pk, sk = keys.kit_copy(copy.kit_id, copy.partner_id)
    return {"pk": pk, "sk": sk, "entity": "kit_copy"} | copy.model_dump(mode="json")


def brand_item(brand: Brand) -> dict[str, Any]:
    pk, sk = keys.brand(brand.partner_id)
    return {"pk": pk, "sk": sk, "entity": "brand"} | brand.model_dump(mode="json")


def logo_item(upload: LogoUpload) -> dict[str, Any]:
    pk, sk = keys.logo_upload(upload.partner_id, upload.upload_id)
    return {"pk": pk, "sk": sk, "entity": "logo_upload"} | upload.model_dump(mode="json")


def _bytes(value: Any) -> bytes | None:
    """A Binary attribute as bytes (boto3's deserialiser wraps it)."""
    if value is None:
        return None
    return bytes(getattr(value, "value", value))


class KitsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def _transact(self, operations: list[dict[str, Any]], events: Sequence[EventDetail] = ()) -> None:
        operations += [self.table.op_put(outbox_item(e)) for e in events]
        try:
            self.table.transact(operations)
        except ConditionFailed as failure:
            raise StaleKitRecord(str(failure)) from failure

    def _revision_put(self, item: dict[str, Any], previous_revision: int | None, field: str = "revision") -> Any:
        if previous_revision is None:
            return self.table.op_put(item)
        return self.table.op_put(
            item, condition=f"{field} = :previous", condition_values={":previous": previous_revision}
        )

    # ------------------------------------------------------------- kits
    def get(self, kit_id: str) -> Kit | None:
        item = self.table.get(*keys.kit(kit_id))
        return Kit.model_validate(item) if item else None

    def create(self, kit: Kit) -> None:
        self._transact([self._revision_put(kit_item(kit), None)])

    def update(self, kit: Kit, previous_revision: int) -> None:
        self._transact([self._revision_put(kit_item(kit), previous_revision)])

    def page(self, status: str | None, limit: int, cursor: str | None) -> tuple[list[Kit], str | None]:
        """Newest updated first: every kit (gsi1), or the kits in one status (gsi2: partners read `published`)."""
        if status:
            items, next_cursor = self.table.page(
                keys.kits_with_status(status),
                index=keys.GSI2,
                key_names=("gsi2pk", "gsi2sk"),
                limit=limit,
                cursor=cursor,
            )
        else:
            items, next_cursor = self.table.page(
                keys.ALL_KITS, index=keys.GSI1, key_names=("gsi1pk", "gsi1sk"), limit=limit, cursor=cursor
            )
        return [Kit.model_validate(i) for i in items], next_cursor

    # ------------------------------------------------------------- copies
    def copy(self, kit_id: str, partner_id: str) -> KitCopy | None:
        item = self.table.get(*keys.kit_copy(kit_id, partner_id))
        return KitCopy.model_validate(item) if item else None

    def save_copy(self, copy: KitCopy, previous_revision: int | None, events: Sequence[EventDetail]) -> None:
        """The partner's new copy on the copy revision it replaces (None: the first), with its event."""
        self._transact([self._revision_put(copy_item(copy), previous_revision, "copy_revision")], events)

    # ------------------------------------------------------------- brand profile and logos
    def brand(self, partner_id: str) -> Brand | None:
        item = self.table.get(*keys.brand(partner_id))
        return Brand.model_validate(item) if item else None

    def save_brand(self, brand: Brand, previous_revision: int) -> None:
        """Revision 0 is the default profile, never stored: the first save creates the item."""
        self._transact([self._revision_put(brand_item(brand), previous_revision or None)])

    def logo_upload(self, partner_id: str, upload_id: str) -> LogoUpload | None:
        item = self.table.get(*keys.logo_upload(partner_id, upload_id))
        return LogoUpload.model_validate(item) if item else None

    def logo_data(self, partner_id: str, upload_id: str) -> bytes | None:
        """The sanitised logo bytes of an accepted upload."""
        item = self.table.get(*keys.logo_upload(partner_id, upload_id))
        return _bytes(item.get("data")) if item and item.get("status") == "ready" else None

    def add_logo_upload(self, upload: LogoUpload) -> None:
        self._transact([self.table.op_put(logo_item(upload))])

    def _processed(self, upload: LogoUpload, data: bytes | None) -> dict[str, Any]:
        item = logo_item(upload) | ({"data": data} if data is not None else {})
        return self.table.op_put(
            item, condition="#s = :awaiting", condition_values={":awaiting": "awaiting_upload"}, names={"#s": "status"}
        )

    def logo_accepted(self, upload: LogoUpload, data: bytes, brand: Brand, previous_revision: int) -> None:
        """The upload ready with its sanitised bytes and the brand on its revision pointing at it, together."""
        self._transact(
            [self._processed(upload, data), self._revision_put(brand_item(brand), previous_revision or None)]
        )

    def logo_rejected(self, upload: LogoUpload) -> None:
        self._transact([self._processed(upload, None)])
