"""The search index's DynamoDB adapter (B, `content.ports.SearchIndex`): postings `IDX#<term>#<band>` (keys from
content.domain.search), what each asset posted (`ASSET#<aid>` / `INDEXED`, so stale postings are deleted on the
next indexing) and the bands in use (`IDX#BANDS` / `<band>`). Postings are written and deleted with BatchWriteItem:
puts and deletes of fixed keys, idempotent. A page reads postings with one Query per visible band, `Limit`ed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from content.models.library import IndexState
from content.repository import keys
from shared.dynamo import Table, to_item, values

BATCH = 25  # BatchWriteItem's limit


class SearchRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- writes (the consumer)
    def indexed(self, asset_id: str) -> IndexState | None:
        item = self.table.get(*keys.indexed(asset_id))
        return IndexState.model_validate(item) if item else None

    def save_indexed(self, state: IndexState) -> None:
        pk, sk = keys.indexed(state.asset_id)
        self.table._client.put_item(
            TableName=self.table.name,
            Item=to_item({"pk": pk, "sk": sk, "entity": "indexed"} | state.model_dump(mode="json")),
        )

    def forget_indexed(self, asset_id: str) -> None:
        pk, sk = keys.indexed(asset_id)
        self.table._client.delete_item(TableName=self.table.name, Key=to_item({"pk": pk, "sk": sk}))

    def write_postings(self, puts: Sequence[tuple[str, str, str]], deletes: Sequence[tuple[str, str]]) -> None:
        """Put postings (pk, sk, asset id) and delete others (pk, sk): each request idempotent, so a retried event
        converges on the same index."""
        requests: list[dict[str, Any]] = [
            {"DeleteRequest": {"Key": to_item({"pk": pk, "sk": sk})}} for pk, sk in deletes
        ] + [
            {"PutRequest": {"Item": to_item({"pk": pk, "sk": sk, "entity": "posting", "asset_id": aid})}}
            for pk, sk, aid in puts
        ]
        for offset in range(0, len(requests), BATCH):
            pending: dict[str, Any] = {self.table.name: requests[offset : offset + BATCH]}
            while pending:
                answer = self.table._client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}

    def add_band(self, band: str) -> None:
        pk, sk = keys.band(band)
        self.table._client.put_item(TableName=self.table.name, Item=to_item({"pk": pk, "sk": sk, "entity": "band"}))

    # ------------------------------------------------------------- reads (a page)
    def bands(self) -> list[str]:
        """Every band holding postings (a vendor admin's search reads them all): one small partition."""
        return [str(i["sk"]) for i in self.table.query_all(keys.BANDS)]

    def postings_after(self, pk: str, prefix: str, after: str | None, limit: int) -> list[str]:
        """The next `limit` sort keys of one posting partition with `prefix`, after `after` (exclusive)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": values({":pk": pk, ":low": after or prefix, ":high": prefix + "~"}),
            "ProjectionExpression": "sk",
            "Limit": limit + (1 if after else 0),
        }
        answer = self.table._client.query(**kwargs)
        found = [str(i["sk"]["S"]) for i in answer.get("Items", [])]
        return [sk for sk in found if sk != after][:limit]
