"""Payouts after the request: finance's decision (approve, or hold for a tax form; reject releases the money), the
tax-form threshold, releasing held payouts once a form is on file, batches of approved payouts and their CSV rows,
and marking a batch paid."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from rewards.models.redemptions import PayeeYear, PayoutBatch, PayoutRow, Redemption, StatusChange
from shared.money import Money, format_money

TAX_FORM_REQUIRED = "tax form required"
MAX_BATCH = 500  # payouts per batch: one CSV a person can check
CSV_COLUMNS = ["partner_id", "company_name", "payee_email", "currency", "total", "total_minor", "count", "payout_ids"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tax_year(now: datetime) -> int:
    return now.astimezone(UTC).year


def needs_tax_form(*, form_on_file: bool, approved_this_year: int, amount: int, threshold: int | None) -> bool:
    """A payout waits for a tax form when the organisation has none on file and the payee's payouts approved this
    calendar year, with this one, exceed the currency's threshold (no threshold for a currency: always)."""
    if form_on_file:
        return False
    return threshold is None or approved_this_year + amount > threshold


def moved(
    record: Redemption, status: str, *, reason: str | None, by: str, now: datetime, **changes: object
) -> Redemption:
    """The redemption at its next revision and status, the step appended to its history."""
    step = StatusChange(status=status, reason=reason, at=now, by=by)
    return record.model_copy(
        update={
            "status": status,
            "status_reason": reason,
            "status_at": now,
            "history": [*record.history, step],
            "revision": record.revision + 1,
        }
        | changes
    )


def approve_or_hold(
    payout: Redemption,
    year: PayeeYear,
    *,
    form_on_file: bool,
    threshold: int | None,
    by: str,
    now: datetime,
) -> tuple[Redemption, PayeeYear | None]:
    """Finance approved: the payout is approved (counted in the payee's year), or held until a tax form is on file."""
    if needs_tax_form(
        form_on_file=form_on_file, approved_this_year=year.approved_minor, amount=payout.amount, threshold=threshold
    ):
        return moved(payout, "on_hold", reason=TAX_FORM_REQUIRED, by=by, now=now), None
    return approved(payout, year, by=by, now=now)


def approved(
    payout: Redemption, year: PayeeYear, *, by: str, now: datetime, reason: str | None = None
) -> tuple[Redemption, PayeeYear]:
    counted = year.model_copy(
        update={"approved_minor": year.approved_minor + payout.amount, "revision": year.revision + 1}
    )
    return moved(payout, "approved", reason=reason, by=by, now=now, tax_year=year.year), counted


def _cell(text: str) -> str:
    """A spreadsheet must not read a name as a formula (CSV injection): such a cell is quoted as text."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def payout_rows(payouts: Iterable[Redemption], company_names: dict[str, str]) -> list[PayoutRow]:
    """One row per payee and currency, in a stable order (partner, payee, currency)."""
    grouped: dict[tuple[str, str, str], list[Redemption]] = {}
    for payout in payouts:
        grouped.setdefault((payout.partner_id, payout.person, payout.unit), []).append(payout)
    return [
        PayoutRow(
            partner_id=partner_id,
            company_name=company_names.get(partner_id, partner_id),
            person=person,
            currency=currency,
            total_minor=sum(p.amount for p in group),
            count=len(group),
            payout_ids=sorted(p.redemption_id for p in group),
        )
        for (partner_id, person, currency), group in sorted(grouped.items())
    ]


def batch_totals(rows: Iterable[PayoutRow]) -> list[Money]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, 0) + row.total_minor
    return [Money(amount_minor=amount, currency=currency) for currency, amount in sorted(totals.items())]


def batch_csv(rows: Iterable[PayoutRow]) -> str:
    """The file finance pays from: a header, then one row per payee and currency (total in words and in minor units)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        money = Money(amount_minor=row.total_minor, currency=row.currency)
        writer.writerow(
            [
                row.partner_id,
                _cell(row.company_name),
                _cell(row.person),
                row.currency,
                format_money(money).split(" ")[0],
                row.total_minor,
                row.count,
                " ".join(row.payout_ids),
            ]
        )
    return out.getvalue()


def new_batch(batch_id: str, *, by: str, now: datetime) -> PayoutBatch:
    return PayoutBatch(batch_id=batch_id, status="building", created_by=by, created_at=now)


def batch_ready(batch: PayoutBatch, payouts: list[Redemption], rows: list[PayoutRow], key: str) -> PayoutBatch:
    return batch.model_copy(
        update={
            "status": "ready",
            "payout_ids": sorted(p.redemption_id for p in payouts),
            "rows": rows,
            "totals": batch_totals(rows),
            "key": key,
            "revision": batch.revision + 1,
        }
    )


def batch_paid(batch: PayoutBatch, *, by: str, now: datetime) -> PayoutBatch:
    return batch.model_copy(update={"status": "paid", "paid_by": by, "paid_at": now, "revision": batch.revision + 1})


def batch_key(batch_id: str, now: datetime) -> str:
    return f"payout-batches/{now.astimezone(UTC):%Y/%m}/{batch_id}.csv"
