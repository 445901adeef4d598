"""Bulk invoice rows checked by plain Python, with the pydantic command as the referee.

An import spends its time per row, so the common row -- every field present and well formed --
is checked here with a handful of cheap operations. Anything this path is unsure about (a
missing field, a bad value, a rarer shape such as invoice lines) is handed to the same
``ImportedInvoice`` model the API uses, which either accepts it or names the field and the
reason. The fast path never accepts a row the model would refuse (a property test holds it to
that), so both paths apply the same rules.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import orjson

from rapport_ingest.domain.errors import Conflict
from rapport_ingest.domain.ledger import Balance
from rapport_ingest.domain.presets import Preset
from rapport_ingest.domain.rows import ImportedInvoice, RowError, validate
from rapport_ingest.domain.values import CURRENCIES, MAX_SCALE

_ZERO = Decimal(0)


class InvoiceRow(NamedTuple):
    """One valid invoice row of an upload, ready to stage."""

    row: int
    number: str
    customer_external_id: str
    customer_name: str | None
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    tax_amount: Decimal
    po_number: str | None
    terms: str | None
    pdf_url: str | None
    lines: str | None  # JSON text of the lines, when the row has any
    updated_at: datetime | None


def invoice_row(number: int, raw: dict[str, Any], preset: Preset) -> InvoiceRow | list[RowError]:
    """The row's values, or its errors with the field each one is about."""
    mapped = raw if preset.name == "native" else preset.map_row(raw)
    fast = _fast(number, mapped)
    if fast is not None:
        return fast
    result = validate("invoices", preset, number, raw)
    return result if isinstance(result, list) else _from_command(number, result)


def _fast(number: int, raw: dict[str, Any]) -> InvoiceRow | None:
    try:
        issue, due = _day(raw["issue_date"]), _day(raw["due_date"])
        currency = raw["currency"].strip().upper()
        amount = _money(raw["amount"])
        tax = _money(raw["tax_amount"]) if raw.get("tax_amount") not in (None, "") else _ZERO
        if raw.get("lines") or raw.get("updated_at") not in (None, "") or currency not in CURRENCIES or due < issue:
            return None
        return InvoiceRow(number, _text(raw["number"], 100), _text(raw["customer_external_id"]),
                          _optional(raw.get("customer_name")), issue, due, currency, amount, tax,
                          _optional(raw.get("po_number")), _optional(raw.get("terms")),
                          _optional(raw.get("pdf_url")), None, None)
    except (KeyError, AttributeError, TypeError, ValueError, InvalidOperation):
        return None


def _day(value: Any) -> date:
    # Only the plain ISO form; other shapes the model may still accept go its way.
    if type(value) is date:
        return value
    return date.fromisoformat(value) if len(value) == 10 else _raise()


def _money(value: Any) -> Decimal:
    if type(value) is int:
        if value < 0:
            raise ValueError("negative")
        return Decimal(value)
    # Plain "123.45" only: the decimals are counted on the text (cheaper than Decimal.as_tuple);
    # exponents, separators and signs go the model's way.
    whole, _, decimals = value.partition(".")
    if len(decimals) > MAX_SCALE or not whole.isdigit() or (decimals and not decimals.isdigit()):
        raise ValueError("not a plain amount")
    return Decimal(value)


def _text(value: Any, max_length: int | None = None) -> str:
    text = value.strip()
    if not text or (max_length is not None and len(text) > max_length):
        raise ValueError("empty or too long")
    return text


def _optional(value: Any) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _raise() -> date:
    raise ValueError("not a plain ISO date")


def _from_command(number: int, command: ImportedInvoice) -> InvoiceRow:
    lines = orjson.dumps([line.model_dump(mode="json") for line in command.lines]).decode() if command.lines else None
    return InvoiceRow(number, command.number, command.customer_external_id, command.customer_name or None,
                      command.issue_date, command.due_date, command.currency, command.amount, command.tax_amount,
                      command.po_number or None, command.terms or None, command.pdf_url or None, lines,
                      command.updated_at)


def reconcile(row: InvoiceRow, customer_id: Any, stored: Mapping[str, Any], job_id: Any) -> Balance | None:
    """What an imported row does to an invoice the ledger already holds: its new balance, or
    None when there is nothing to change (same content, or an ERP update older than the ledger's).
    Raises ``Conflict`` naming why the row cannot be applied."""
    if stored["customer_id"] != customer_id:
        raise Conflict(f"invoice {row.number} belongs to another customer", field="customer_external_id")
    if stored["status"] == "void":
        raise Conflict(f"invoice {row.number} is void", field="number")
    if same_content(row, stored):
        return None
    if stored["import_job_id"] == job_id:
        raise Conflict(f"invoice {row.number} appears earlier in this file with different content", field="number")
    if row.updated_at is not None and stored["source_updated_at"] is not None \
            and row.updated_at < stored["source_updated_at"]:
        return None
    if row.currency != stored["currency"] and (stored["paid_amount"] or stored["credited_amount"]):
        raise Conflict("currency cannot change once money is applied", field="currency")
    return Balance(stored["amount_total"], stored["paid_amount"], stored["credited_amount"],
                   stored["written_off_amount"]).retotal(row.amount)


def same_content(row: InvoiceRow, stored: Mapping[str, Any]) -> bool:
    lines = stored["lines"]
    stored_lines = orjson.loads(lines) if isinstance(lines, (str, bytes)) else lines
    return (row.issue_date, row.due_date, row.currency, row.amount, row.tax_amount, row.po_number, row.terms,
            row.pdf_url) == (stored["issue_date"], stored["due_date"], stored["currency"], stored["amount_total"],
                             stored["tax_amount"], stored["po_number"], stored["terms"], stored["pdf_url"]) \
        and (orjson.loads(row.lines) if row.lines else []) == stored_lines
