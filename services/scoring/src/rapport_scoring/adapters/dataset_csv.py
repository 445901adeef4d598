"""Reads the invoice payment-history CSV (shared/data) into rows the ingest API accepts."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path


@dataclass(frozen=True)
class CsvInvoice:
    line: int
    customer: str
    issue_date: date
    due_date: date
    amount: Decimal
    settled_amount: Decimal
    paid_on: date | None

    @property
    def number(self) -> str:
        return f"CSV-{self.line:05d}"


def _day(text: str) -> date:
    return datetime.strptime(text.strip(), "%d-%b-%y").date()


def _row(line: int, record: dict[str, str]) -> CsvInvoice | None:
    try:
        amount = Decimal(record["Amount"]).quantize(Decimal("0.01"))
        settled = Decimal(record["Settled"] or "0").quantize(Decimal("0.01"))
        issue, due = _day(record["Invoice_Date"]), _day(record["Due_Date"])
        days = int(float(record["Number_of_Days_until_Payment"]))
    except (KeyError, ValueError, InvalidOperation):
        return None
    if amount <= 0 or not record["Vendor_Name"].strip():
        return None
    paid_on = issue + timedelta(days=max(days, 0)) if settled > 0 else None
    return CsvInvoice(line, record["Vendor_Name"].strip(), issue, due, amount, min(settled, amount), paid_on)


def read_invoices(path: Path) -> list[CsvInvoice]:
    """Every usable row; rows without a positive amount, a customer or parseable dates are skipped."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [_row(line, record) for line, record in enumerate(csv.DictReader(handle), start=2)]
    return [r for r in rows if r is not None]
