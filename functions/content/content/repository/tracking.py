"""Download tracking's DynamoDB adapter (B, `content.ports.Tracking`): one transaction per download (the record,
the downloader marker, the asset's, version's and partner's counters, the outbox's ContentDownloaded); the counters
and lists vendor admins read (bounded: counters, never a recount); the export's records by asset (gsi1) or by day.
No Scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from content.domain.tracking import recent_key, top_key
from content.models.library import AssetStats, Download, Downloader, Export, PartnerCounts, VersionCounts
from content.repository import keys
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table, from_item, to_item, values
from shared.events import EventDetail
from shared.outbox import outbox_item


class StaleStats(Exception):
    """The asset's counters moved since they were read (another download): read again and retry."""


class TrackingRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- a download
    def stats(self, asset_id: str) -> AssetStats | None:
        item = self.table.get(*keys.stats(asset_id))
        return AssetStats.model_validate(item) if item else None

    def record(self, download: Download, before: AssetStats | None, event: EventDetail) -> None:
        """All or nothing: the record, the downloader marker, the counters (ADDed) and the event. `before` only
        places the asset on the "most downloaded" list; a download never waits on another one."""
        t = self.table
        aid, at = download.asset_id, download.downloaded_at
        field = "downloads" if download.kind == "download" else "previews"
        counts = {"downloads": before.downloads if before else 0, "previews": before.previews if before else 0}
        after = counts | {field: counts[field] + 1}
        pk, sk = keys.download(at.date().isoformat(), iso(at), download.download_id)
        record = {
            "pk": pk,
            "sk": sk,
            "entity": "download",
            "gsi1pk": keys.asset_downloads(aid),
            "gsi1sk": f"{iso(at)}#{download.download_id}",
        } | download.model_dump(mode="json")
        dpk, dsk = keys.downloader(aid, download.person_email)
        marker = Downloader(
            asset_id=aid,
            person_email=download.person_email,
            partner_id=download.partner_id,
            last_version=download.version,
            last_at=at,
        )
        spk, ssk = keys.stats(aid)
        other = "previews" if field == "downloads" else "downloads"
        # the counters are ADDed (exact, and a burst of downloads never waits on one another); the "most downloaded"
        # sort key is set from the counts read, so racing downloads may leave it a few behind until the next one
        stats_update = {
            "Update": {
                "TableName": t.name,
                "Key": to_item({"pk": spk, "sk": ssk}),
                "UpdateExpression": (
                    "ADD #count :one SET #other = if_not_exists(#other, :zero), entity = :entity, asset_id = :aid, "
                    "title = :title, last_at = :at, gsi1pk = :recent, gsi1sk = :recent_key, gsi2pk = :top, "
                    "gsi2sk = :top_key"
                ),
                "ExpressionAttributeNames": {"#count": field, "#other": other},
                "ExpressionAttributeValues": values(
                    {
                        ":one": 1,
                        ":zero": 0,
                        ":entity": "asset_stats",
                        ":aid": aid,
                        ":title": download.title,
                        ":at": iso(at),
                        ":recent": keys.STATS_RECENT,
                        ":recent_key": recent_key(at, aid),
                        ":top": keys.STATS_TOP,
                        ":top_key": top_key(after["downloads"] + after["previews"], aid),
                    }
                ),
            }
        }
        try:
            t.transact(
                [
                    t.op_put(record),
                    t.op_put(
                        {"pk": dpk, "sk": dsk, "entity": "downloader"} | marker.model_dump(mode="json"), condition=None
                    ),
                    stats_update,
                    self._count(
                        keys.version_stats(aid, download.version),
                        field,
                        {"asset_id": aid, "version": download.version, "entity": "version_stats"},
                    ),
                    self._count(
                        keys.partner_stats(aid, download.partner_id),
                        field,
                        {
                            "asset_id": aid,
                            "partner_id": download.partner_id,
                            "company_name": download.company_name or "",
                            "last_at": iso(at),
                            "entity": "partner_stats",
                        },
                    ),
                    t.op_put(outbox_item(event)),
                ]
            )
        except ConditionFailed as failure:
            raise StaleStats(aid) from failure  # only the download record's own uniqueness can fail

    def _count(self, key: tuple[str, str], field: str, fields: dict[str, Any]) -> dict[str, Any]:
        names = {f"#s{n}": name for n, name in enumerate(fields)}
        sets = ", ".join(f"#s{n} = :s{n}" for n in range(len(fields)))
        vals = {f":s{n}": value for n, value in enumerate(fields.values())}
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": to_item({"pk": key[0], "sk": key[1]}),
                "UpdateExpression": f"SET {sets} ADD #count :one",
                "ExpressionAttributeNames": names | {"#count": field},
                "ExpressionAttributeValues": values(vals | {":one": 1}),
            }
        }

    # ------------------------------------------------------------- the vendor's reads
    def version_counts(self, asset_id: str) -> list[VersionCounts]:
        pk, _ = keys.stats(asset_id)
        items = self.table.query_all(pk, sk_prefix=keys.STATS_VERSION_PREFIX)
        return sorted((VersionCounts.model_validate(i) for i in items), key=lambda v: v.version, reverse=True)

    def partner_counts(
        self, asset_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[PartnerCounts], str | None]:
        pk, _ = keys.stats(asset_id)
        items, next_cursor = self.table.page(
            pk, sk_prefix=keys.STATS_PARTNER_PREFIX, limit=limit, cursor=cursor, forward=True
        )
        return [PartnerCounts.model_validate(i) for i in items], next_cursor

    def top(self, *, sort: str, limit: int, cursor: str | None) -> tuple[list[AssetStats], str | None]:
        """Assets' counters, most downloaded (gsi2) or most recently downloaded (gsi1) first."""
        index, pk, names = (
            (keys.GSI2, keys.STATS_TOP, ("gsi2pk", "gsi2sk"))
            if sort == "downloads"
            else (keys.GSI1, keys.STATS_RECENT, ("gsi1pk", "gsi1sk"))
        )
        items, next_cursor = self.table.page(pk, index=index, key_names=names, limit=limit, cursor=cursor)
        return [AssetStats.model_validate(i) for i in items], next_cursor

    def downloads_of_asset(self, asset_id: str, frm: datetime, to: datetime, max_rows: int) -> list[Download]:
        return self._range(
            keys.asset_downloads(asset_id), iso(frm), iso(to), max_rows, index=keys.GSI1, names=("gsi1pk", "gsi1sk")
        )

    def downloads_on(self, day: str, frm: datetime, to: datetime, max_rows: int) -> list[Download]:
        return self._range(f"DOWNLOADS#{day}", iso(frm), iso(to), max_rows, index=None, names=("pk", "sk"))

    def _range(
        self, pk: str, low: str, high: str, max_rows: int, *, index: str | None, names: tuple[str, str]
    ) -> list[Download]:
        found: list[Download] = []
        start: dict[str, Any] | None = None
        while len(found) < max_rows:
            kwargs: dict[str, Any] = {
                "TableName": self.table.name,
                "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#pk": names[0], "#sk": names[1]},
                "ExpressionAttributeValues": values({":pk": pk, ":low": low, ":high": high}),
                "Limit": min(1000, max_rows - len(found) + 1),
            }
            if index:
                kwargs["IndexName"] = index
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self.table._client.query(**kwargs)
            for item in answer.get("Items", []):
                record = from_item(item)
                if record["downloaded_at"] < high:  # [from, to): the upper bound itself is out
                    found.append(Download.model_validate(record))
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return found

    # ------------------------------------------------------------- version-changed emails
    def downloaders(self, asset_id: str, *, limit: int, cursor: str | None) -> tuple[list[Downloader], str | None]:
        pk, _ = keys.stats(asset_id)
        items, next_cursor = self.table.page(
            pk, sk_prefix=keys.DOWNLOADER_PREFIX, limit=limit, cursor=cursor, forward=True
        )
        return [Downloader.model_validate(i) for i in items], next_cursor

    # ------------------------------------------------------------- exports
    def save_export(self, export: Export) -> None:
        pk, sk = keys.export(export.export_id)
        self.table.put_new({"pk": pk, "sk": sk, "entity": "export"} | export.model_dump(mode="json"))

    def export(self, export_id: str) -> Export | None:
        item = self.table.get(*keys.export(export_id))
        return Export.model_validate(item) if item else None
