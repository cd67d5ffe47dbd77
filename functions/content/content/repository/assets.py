"""The library's part of the content table (`content.ports.Assets`): assets, their versions, the upload key map and
the outbox, each state change one conditional transaction (the asset on its revision, the version on its status).
Every read is a key lookup, a BatchGet or a partition/index Query (keys in `content.repository.keys`); no Scan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from content.models.assets import Asset, AssetVersion, UploadRef
from content.ports import StaleAsset
from content.repository import keys
from shared.dynamo import ConditionFailed, Table
from shared.events import EventDetail
from shared.outbox import outbox_item


def asset_item(asset: Asset) -> dict[str, Any]:
    pk, sk = keys.asset(asset.asset_id)
    order = keys.asset_order(asset.model_dump(mode="json")["updated_at"], asset.asset_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "asset",
        "gsi1pk": keys.assets_with_status(asset.status),
        "gsi1sk": order,
        "gsi2pk": keys.ALL_ASSETS,
        "gsi2sk": order,
    } | asset.model_dump(mode="json")


def version_item(version: AssetVersion) -> dict[str, Any]:
    pk, sk = keys.asset_version(version.asset_id, version.number)
    return {"pk": pk, "sk": sk, "entity": "asset_version"} | version.model_dump(mode="json")


def upload_item(ref: UploadRef) -> dict[str, Any]:
    pk, sk = keys.upload(ref.key)
    return {"pk": pk, "sk": sk, "entity": "upload"} | ref.model_dump(mode="json")


class AssetsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- reads
    def get(self, asset_id: str) -> Asset | None:
        item = self.table.get(*keys.asset(asset_id))
        return Asset.model_validate(item) if item else None

    def get_many(self, asset_ids: Sequence[str]) -> dict[str, Asset]:
        """Assets by id in one BatchGet per 100 (missing ones left out)."""
        unique = list(dict.fromkeys(asset_ids))
        items = self.table.get_many([keys.asset(a) for a in unique])
        return {item["asset_id"]: Asset.model_validate(item) for item in items}

    def version(self, asset_id: str, number: int) -> AssetVersion | None:
        item = self.table.get(*keys.asset_version(asset_id, number))
        return AssetVersion.model_validate(item) if item else None

    def versions(self, asset_id: str) -> list[AssetVersion]:
        """An asset's versions, newest first (one partition, bounded by the versions handed out)."""
        pk, _ = keys.asset(asset_id)
        items = self.table.query_all(pk, sk_prefix=keys.VERSION_PREFIX)
        return sorted((AssetVersion.model_validate(i) for i in items), key=lambda v: v.number, reverse=True)

    def upload_ref(self, s3_key: str) -> UploadRef | None:
        item = self.table.get(*keys.upload(s3_key))
        return UploadRef.model_validate(item) if item else None

    def page(self, status: str | None, limit: int, cursor: str | None) -> tuple[list[Asset], str | None]:
        """Vendor admins' list, newest updated first: one status partition of gsi1, or every asset on gsi2."""
        if status:
            items, next_cursor = self.table.page(
                keys.assets_with_status(status),
                index=keys.GSI1,
                key_names=("gsi1pk", "gsi1sk"),
                limit=limit,
                cursor=cursor,
            )
        else:
            items, next_cursor = self.table.page(
                keys.ALL_ASSETS, index=keys.GSI2, key_names=("gsi2pk", "gsi2sk"), limit=limit, cursor=cursor
            )
        return [Asset.model_validate(i) for i in items], next_cursor

    # ------------------------------------------------------------- writes
    def _asset_op(self, asset: Asset, previous_revision: int | None) -> dict[str, Any]:
        if previous_revision is None:
            return self.table.op_put(asset_item(asset))
        return self.table.op_put(
            asset_item(asset), condition="revision = :revision", condition_values={":revision": previous_revision}
        )

    def _write(self, operations: list[dict[str, Any]], events: Sequence[EventDetail]) -> None:
        operations += [self.table.op_put(outbox_item(e)) for e in events]
        try:
            self.table.transact(operations)
        except ConditionFailed as failure:
            raise StaleAsset(str(failure)) from failure

    def create(self, asset: Asset, version: AssetVersion, upload: UploadRef) -> None:
        """The asset, its first version and its upload key, all new."""
        self._write(
            [
                self._asset_op(asset, None),
                self.table.op_put(version_item(version)),
                self.table.op_put(upload_item(upload)),
            ],
            (),
        )

    def add_version(self, asset: Asset, previous_revision: int, version: AssetVersion, upload: UploadRef) -> None:
        self._write(
            [
                self._asset_op(asset, previous_revision),
                self.table.op_put(version_item(version)),
                self.table.op_put(upload_item(upload)),
            ],
            (),
        )

    def update(self, asset: Asset, previous_revision: int, events: Sequence[EventDetail] = ()) -> None:
        self._write([self._asset_op(asset, previous_revision)], events)

    def claim(self, version: AssetVersion) -> bool:
        """Mark the version `processing` for one object version: only from `awaiting_upload`, or again for the same
        object version (a redelivery after a crash). False when another object version or a finished one holds it."""
        pk, sk = keys.asset_version(version.asset_id, version.number)
        try:
            self.table.update(
                pk,
                sk,
                set_fields={"status": "processing", "s3_version_id": version.s3_version_id},
                condition="#s = :awaiting OR (#s = :processing AND s3_version_id = :vid)",
                condition_values={
                    ":awaiting": "awaiting_upload",
                    ":processing": "processing",
                    ":vid": version.s3_version_id,
                },
                names={"#s": "status"},
            )
        except ConditionFailed:
            return False
        return True

    def finish(
        self, asset: Asset, previous_revision: int, version: AssetVersion, events: Sequence[EventDetail] = ()
    ) -> None:
        """The processed version (ready or rejected, only from `processing` on the same object version), the asset
        on its revision and the events, in one transaction."""
        version_op = self.table.op_put(
            version_item(version),
            condition="#s = :processing AND s3_version_id = :vid",
            condition_values={":processing": "processing", ":vid": version.s3_version_id},
            names={"#s": "status"},
        )
        self._write([self._asset_op(asset, previous_revision), version_op], events)
