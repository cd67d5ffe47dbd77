"""Download tracking (B), pure: the export's rows and CSV, its time window, and the counters' sort keys."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from content.models.library import Download
from shared.clock import iso
from shared.errors import FieldError, ValidationFailed

EXPORT_DEFAULT_DAYS = 30
EXPORT_MAX_DAYS = 92
EXPORT_MAX_ROWS = 10_000  # one synchronous request: a longer history is exported per asset or per window
HEADER = ["downloaded_at", "kind", "person_email", "partner_id", "company_name", "asset_id", "title", "version"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str | None) -> str:
    """A spreadsheet must not read a cell as a formula (CSV injection): such a cell is quoted as text."""
    value = text or ""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def export_window(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The export's [from, to) window: default the last 30 days up to now, at most 92 days; 400 naming the field."""
    to = end or now
    frm = start or to - timedelta(days=EXPORT_DEFAULT_DAYS)
    if to <= frm:
        raise ValidationFailed("The export window is empty.", [FieldError("to", "must be after from")])
    if to - frm > timedelta(days=EXPORT_MAX_DAYS):
        raise ValidationFailed(
            f"Export at most {EXPORT_MAX_DAYS} days at a time.",
            [FieldError("from", f"at most {EXPORT_MAX_DAYS} days before to")],
        )
    return frm, to


def days(frm: datetime, to: datetime) -> list[date]:
    """The UTC days a window touches (the download partitions to read)."""
    first, last = frm.astimezone(UTC).date(), (to - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def export_csv(rows: Iterable[Download]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                iso(row.downloaded_at),
                row.kind,
                cell(row.person_email),
                cell(row.partner_id),
                cell(row.company_name),
                row.asset_id,
                cell(row.title),
                row.version,
            ]
        )
    return out.getvalue()


def top_key(total: int, asset_id: str) -> str:
    """gsi2sk of an asset's counters: most downloaded first when read backwards."""
    return f"{total:012d}#{asset_id}"


def recent_key(at: datetime, asset_id: str) -> str:
    return f"{iso(at)}#{asset_id}"
