"""CSV import jobs: created with an upload slot, submitted once the file is there (checked), processed in chunks of
rows through the same completion use case (one work message per chunk), finished with a per-row report.

A job's cursor is `rows_processed`: the rows before it have their outcomes recorded (in chunk records, with the cursor
in the same conditional write), the rows from it have not. A work message names the row it starts from; only the
message whose start is the cursor processes rows, so a redelivered chunk changes nothing and two deliveries of one
chunk cannot both advance it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from shared.errors import FieldError, ValidationFailed
from training.domain.common import InvalidState, NewId
from training.models import ImportChunk, ImportJob, ImportRequested, ImportRow, Recorded, RowStatus

CSV_TYPE = "text/csv"
MAX_ROWS = 10_000
# Rows per work message: about six reads and one transaction each, so 500 rows take well under the consumer's 60 s
# (benchmarks/training_import.py); a chunk also stops early when the invocation's time runs low (CHUNK_RESERVE_SECONDS).
CHUNK_ROWS = 500
# Time a chunk keeps for its last row (with retries), its write, the next message and, last, the report.
CHUNK_RESERVE_SECONDS = 12.0
# A row's reason is cut to this, so a chunk record of CHUNK_ROWS rows stays far below DynamoDB's 400 KB per item.
MAX_REASON = 300
# Deliveries that may raise before the job ends failed: below the work queue's maxReceiveCount (5), so the job is
# failed (with its reason) before its message goes to the dead-letter queue, never left queued or processing.
MAX_FAILED_ATTEMPTS = 3
Delivery = Literal["done", "process", "finish", "resend", "stale"]


def new_import(file_name: str, *, by: str, now: datetime, new_id: NewId) -> ImportJob:
    import_id = new_id("imp")
    return ImportJob(
        import_id=import_id,
        file_name=file_name,
        key=f"imports/{import_id}.csv",
        status="awaiting_upload",
        created_by=by,
        created_at=now,
    )


def report_key(job: ImportJob) -> str:
    return f"reports/{job.import_id}.json"


def upload_problem(size: int | None, content_type: str, max_bytes: int) -> str | None:
    """What is wrong with the stored file (None: acceptable); `size` None means nothing was uploaded."""
    if size is None:
        return "was not uploaded"
    if size < 1:
        return "is empty"
    if size > max_bytes:
        return f"is larger than {max_bytes} bytes"
    if content_type.split(";", maxsplit=1)[0].strip().lower() != CSV_TYPE:
        return "is not text/csv"
    return None


def submitted(job: ImportJob, *, problem: str | None, now: datetime) -> ImportJob | None:
    """The job queued for processing; None when it already is (a repeated submission sends the work again)."""
    if job.status == "queued":
        return None
    if job.status != "awaiting_upload":
        raise InvalidState(f"This import is {job.status}.")
    if problem is not None:
        raise ValidationFailed(f"The file {problem}.", [FieldError("file", problem)])
    return job.model_copy(update={"status": "queued", "submitted_at": now, "revision": job.revision + 1})


def file_digest(data: bytes) -> str:
    """What a job remembers of its file when it starts, so a chunk never reads rows of another upload to the key."""
    return hashlib.sha256(data).hexdigest()


def started(job: ImportJob, *, total_rows: int, digest: str, ignored_columns: Sequence[str] = ()) -> ImportJob:
    """The job being processed from its first row, knowing how many rows its file has (and the columns it ignores)."""
    if job.status not in ("queued", "processing") or job.total_rows is not None:
        raise InvalidState(f"This import is {job.status}.")
    return job.model_copy(
        update={
            "status": "processing",
            "total_rows": total_rows,
            "rows_processed": 0,
            "file_digest": digest,
            "ignored_columns": list(ignored_columns),
            "revision": job.revision + 1,
        }
    )


def delivery(job: ImportJob, request: ImportRequested) -> Delivery:
    """What a work message does to a job: process its chunk (it starts at the cursor), finish the job (every row is
    recorded: writing the report is safe to repeat), send the next chunk's message again (it is a redelivery of the
    message that recorded the last chunk, which stopped before it sent the next one), or nothing."""
    if job.status in ("completed", "failed", "awaiting_upload"):
        return "done"
    if job.total_rows is not None and job.rows_processed >= job.total_rows:
        return "finish"
    if request.start_row == job.rows_processed:
        return "process"
    lost = job.next_sent_from != job.rows_processed
    if request.start_row < job.rows_processed and request.sent_id and request.sent_id == job.advanced_by and lost:
        return "resend"
    return "stale"


def chunk_end(job: ImportJob, start: int, chunk_rows: int) -> int:
    """The row after the last one a chunk from `start` may process."""
    assert job.total_rows is not None
    return min(start + chunk_rows, job.total_rows)


def reported(row: ImportRow) -> ImportRow:
    """The row as its chunk keeps it (the reason cut to MAX_REASON characters)."""
    if row.reason is not None and len(row.reason) > MAX_REASON:
        return row.model_copy(update={"reason": row.reason[: MAX_REASON - 1] + "\u2026"})
    return row


def chunk_recorded(
    job: ImportJob, start: int, rows: Sequence[ImportRow], *, sent_id: str
) -> tuple[ImportJob, ImportChunk]:
    """The job with its cursor after `rows` (and their counts added), and the chunk that keeps their outcomes; only
    the chunk starting at the cursor may be recorded."""
    if job.status != "processing" or job.total_rows is None or start != job.rows_processed or not rows:
        raise InvalidState("This chunk is not the import's next one.")
    end = start + len(rows)
    if end > job.total_rows:
        raise InvalidState("This chunk goes past the import's last row.")
    counts = Counter(job.counts) + Counter(row.status for row in rows)
    advanced = job.model_copy(
        update={
            "rows_processed": end,
            "counts": dict(counts),
            "advanced_by": sent_id,
            "next_sent_from": None,
            "failed_attempts": 0,
            "revision": job.revision + 1,
        }
    )
    return advanced, ImportChunk(import_id=job.import_id, start=start, rows=[reported(r) for r in rows])


def next_request(job: ImportJob, *, new_id: NewId) -> ImportRequested:
    """The work message of the job's next chunk (a new sent id: its redelivery is told from a duplicate by it)."""
    return ImportRequested(
        message_type="ImportRequested", import_id=job.import_id, start_row=job.rows_processed, sent_id=new_id("imq")
    )


def assembled(job: ImportJob, chunks: Iterable[ImportChunk]) -> list[ImportRow]:
    """The whole report in row order from the job's chunks; InvalidState when a chunk is missing or overlaps."""
    rows: list[ImportRow] = []
    for chunk in sorted(chunks, key=lambda c: c.start):
        if chunk.start != len(rows):
            raise InvalidState(f"The import's chunk at row index {len(rows)} is missing.")
        rows += chunk.rows
    if len(rows) != job.total_rows:
        raise InvalidState(f"The import has {len(rows)} of its {job.total_rows} rows recorded.")
    return rows


def row_status(recorded: Recorded, origin: str) -> RowStatus:
    """A row's outcome; a row that this same row of this import recorded before (the job was redelivered) keeps its
    first outcome, and a row repeating another is a duplicate."""
    first = recorded.duplicate_of
    if recorded.outcome == "duplicate" and first is not None and first.origin == origin:
        return first.outcome
    return recorded.outcome


def finished(job: ImportJob, rows: Sequence[ImportRow], *, now: datetime) -> ImportJob:
    counts = Counter(row.status for row in rows)
    return job.model_copy(
        update={
            "status": "completed",
            "finished_at": now,
            "counts": dict(counts),
            "total_rows": len(rows),
            "rows_processed": len(rows),
            "revision": job.revision + 1,
        }
    )


def failed(job: ImportJob, reason: str, *, now: datetime) -> ImportJob:
    return job.model_copy(
        update={"status": "failed", "finished_at": now, "failure": reason[:500], "revision": job.revision + 1}
    )


def attempt_started(job: ImportJob, *, now: datetime) -> ImportJob:
    """The job as a delivery starts the chunk at its cursor: the attempt is counted before any row is processed, so a
    delivery that never returns (a Lambda timeout, a crash) counts too; a delivery after MAX_FAILED_ATTEMPTS that did
    not record the chunk ends the job failed instead."""
    if job.failed_attempts >= MAX_FAILED_ATTEMPTS:
        return failed(
            job,
            f"Processing stopped after {job.failed_attempts} attempts at row {job.rows_processed + 1} that did not "
            "finish (the last ended without an error: a timeout or a crash).",
            now=now,
        )
    return job.model_copy(update={"failed_attempts": job.failed_attempts + 1, "revision": job.revision + 1})


def attempt_deferred(job: ImportJob) -> ImportJob:
    """The job after a counted delivery handed its chunk back unstarted (too little time left): not a failure."""
    return job.model_copy(update={"failed_attempts": max(0, job.failed_attempts - 1), "revision": job.revision + 1})


def attempt_failed(job: ImportJob, what: str, *, now: datetime) -> ImportJob | None:
    """The job after a counted delivery raised `what` (an error's kind, never its text: that may name internals):
    failed for good when it was the MAX_FAILED_ATTEMPTS-th attempt, else None (the queue redelivers it)."""
    if job.failed_attempts < MAX_FAILED_ATTEMPTS:
        return None
    return failed(job, f"Processing stopped after {job.failed_attempts} failed attempts (last: {what}).", now=now)
