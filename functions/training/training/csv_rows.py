"""CSV imports of completions (`learner_email,lms_course_id,result,completed_at[,score]`): the file checked as a whole,
then every row read into a completion or the reason it is invalid.

Decisions:
- The file is UTF-8 (a byte-order mark is allowed) and comma-separated; its first non-blank row is the header. The
  header's columns are matched case-insensitively and in any order: the four required ones, optionally `score`; any
  other column (`learner_name`, an LMS's extra export column) is ignored and named in `ignored_columns`. Not UTF-8,
  no header, a required column missing, a known column twice, or more than `max_rows` data rows: ValidationFailed
  (file-level).
- Blank rows (no cells, or only empty cells) are skipped and not counted. `row_number` is the row as a spreadsheet
  numbers it (the header is row 1; a quoted cell spanning lines is still one row).
- A bad row is a RowOutcome whose error names each bad column (`completed_at: is in the future`), never an exception.
- Cells are trimmed. A cell starting with `=`, `+`, `-` or `@` is refused (it would run as a formula when the report
  or the data is opened in a spreadsheet). Cells are at most 1,000 characters.
- `result`: passed | failed | completed (any case); `completed` means finished, not passed (as xAPI's `completed`).
- `completed_at`: an ISO date (midnight UTC) or date-time (UTC when it has no offset); later than now + 5 minutes is
  invalid. `score`: 0..100 (up to 6 decimals), empty for none; scaled to 0..1.
- `dedup_key` is `csv:` + SHA-256 of the normalised row (lower-cased email and result, the course id, completed_at
  in UTC, the scaled score), so the same row twice, in one file or another, is one completion.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import ValidationError

from shared.clock import utc_now
from shared.email import normalise_email
from shared.errors import FieldError, ValidationFailed
from training.incoming import IncomingCompletion, course_ref, field_errors, not_in_future, parse_date_or_moment

REQUIRED_COLUMNS = ("learner_email", "lms_course_id", "result", "completed_at")
OPTIONAL_COLUMNS = ("score",)
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
RESULTS = {"passed": True, "failed": False, "completed": False}
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_CELL = 1000
_SCORE = re.compile(r"^\d{1,3}(\.\d{1,6})?$", flags=re.ASCII)
T = TypeVar("T")
_EXPECTED = ",".join(REQUIRED_COLUMNS) + " (and optionally score; other columns are ignored)"


MAX_IGNORED_NAMED = 20  # ignored columns named in the report (a name cut to 40 characters)


@dataclass(frozen=True)
class RowOutcome:
    """One data row: its completion, or why it is invalid (`column: reason; column: reason`)."""

    row_number: int
    completion: IncomingCompletion | None
    error: str | None


@dataclass(frozen=True)
class CsvFile:
    """An import file read: every data row's outcome, in order, and the header's columns that were ignored."""

    rows: list[RowOutcome]
    ignored_columns: tuple[str, ...] = ()


def parse_csv(data: bytes, *, max_rows: int, now: datetime | None = None) -> list[RowOutcome]:
    """Every data row of an import file, in order (`read_csv` without the columns it ignored)."""
    return read_csv(data, max_rows=max_rows, now=now).rows


def read_csv(data: bytes, *, max_rows: int, now: datetime | None = None) -> CsvFile:
    """Every data row of an import file, in order, and the columns ignored. A problem with the file as a whole raises
    ValidationFailed; a problem with a row is that row's outcome."""
    moment = now or utc_now()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed("The file is not UTF-8 text.", [FieldError("file", "not UTF-8 text")]) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    outcomes: list[RowOutcome] = []
    try:
        for row_number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            if len(outcomes) == max_rows:
                raise ValidationFailed(
                    "The file has too many rows.", [FieldError("file", f"more than {max_rows} data rows")]
                )
            outcomes.append(_row(row_number, header, cells, moment))
    except csv.Error as error:  # e.g. a cell over the csv module's field size limit
        raise ValidationFailed(
            "The file is not a readable CSV file.", [FieldError("file", f"row {reader.line_num}: {error}")]
        ) from error
    if header is None:
        raise ValidationFailed("The file is empty.", [FieldError("header", f"a header row is required: {_EXPECTED}")])
    ignored = [name[:40] for name in dict.fromkeys(header) if name and name not in KNOWN_COLUMNS]
    return CsvFile(outcomes, tuple(ignored[:MAX_IGNORED_NAMED]))


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()
    problems = []
    if len(names) == 1 and ";" in names[0]:
        problems.append("columns must be separated by commas")
    else:
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        twice = sorted({name for name in names if name in KNOWN_COLUMNS and names.count(name) > 1})
        problems += [f"missing column {name}" for name in missing]
        problems += [f"column {name} appears twice" for name in twice]
    if problems:
        raise ValidationFailed(f"The header row must be {_EXPECTED}.", [FieldError("header", "; ".join(problems))])
    return names


def _row(row_number: int, header: list[str], cells: list[str], now: datetime) -> RowOutcome:
    cells = list(cells)
    while len(cells) > len(header) and not cells[-1].strip():
        cells.pop()  # trailing empty cells, as spreadsheets export them
    if len(cells) > len(header):
        return RowOutcome(row_number, None, f"row: has {len(cells)} cells but the header has {len(header)} columns")
    values = dict(zip(header, [cell.strip() for cell in cells], strict=False))
    errors: list[str] = []

    def cell(column: str, read: Callable[[str], T]) -> T | None:
        value = values.get(column, "")
        if not value:
            if column in REQUIRED_COLUMNS:
                errors.append(f"{column}: is required")
            return None
        if len(value) > MAX_CELL:
            errors.append(f"{column}: longer than {MAX_CELL} characters")
            return None
        if value.startswith(FORMULA_STARTS):
            errors.append(f"{column}: starts with {value[0]!r} (a spreadsheet formula); refused")
            return None
        try:
            return read(value)
        except (ValueError, OverflowError) as error:  # OverflowError: date arithmetic past datetime's range
            errors.append(f"{column}: {error}")
            return None

    email = cell("learner_email", _email)
    course_id = cell("lms_course_id", course_ref)
    result = cell("result", _result)
    completed_at = cell("completed_at", lambda value: not_in_future(parse_date_or_moment(value), now))
    score = cell("score", _score)
    if errors or email is None or course_id is None or result is None or completed_at is None:
        return RowOutcome(row_number, None, "; ".join(errors))
    normalised = "\x1f".join([email, course_id, result, completed_at.isoformat(), "" if score is None else repr(score)])
    try:
        completion = IncomingCompletion(
            source="csv",
            dedup_key="csv:" + hashlib.sha256(normalised.encode()).hexdigest(),
            learner_email=email,
            lms_course_id=course_id,
            passed=RESULTS[result],
            score_scaled=score,
            completed_at=completed_at,
        )
    except ValidationError as error:  # every cell was checked above; this only keeps the promise of no exception
        return RowOutcome(row_number, None, "; ".join(f"{e.field}: {e.message}" for e in field_errors(error)))
    return RowOutcome(row_number, completion, None)


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError as error:
        raise ValueError("not a valid email address") from error


def _result(value: str) -> str:
    if value.lower() not in RESULTS:
        raise ValueError("must be passed, failed or completed")
    return value.lower()


def _score(value: str) -> float:
    """A percentage 0..100 as a scaled score 0..1."""
    if not _SCORE.fullmatch(value) or Decimal(value) > 100:
        raise ValueError("must be a number from 0 to 100")
    return float(Decimal(value) / 100)
