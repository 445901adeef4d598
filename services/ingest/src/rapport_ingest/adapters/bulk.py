"""Set-based bulk writes of invoices and their events.

New invoices and all outbox rows go in with ``COPY`` (Postgres' cheapest way in: batched heap
and index inserts, no per-row executor); changed invoices are ``COPY``ed into a staging table
and updated by one ``UPDATE ... FROM``. Everything runs in the caller's transaction, so a chunk
is all-or-nothing. Measured per row of Postgres backend CPU, this is less than half of a staged
``INSERT ... SELECT ... ON CONFLICT`` that also builds the events in SQL.
"""
from __future__ import annotations

import io
from collections.abc import Collection
from typing import Any
from uuid import UUID

import asyncpg

from rapport_shared.bus.outbox import packed_rows

INVOICE_COLUMNS = ("id", "tenant_id", "customer_id", "number", "issue_date", "due_date", "currency", "amount_total",
                   "tax_amount", "open_amount", "status", "po_number", "terms", "pdf_url", "lines",
                   "source_updated_at", "version", "import_job_id")
OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "lane", "key", "value")
STAGE = "ingest_stage_invoice_updates"
STAGE_COLUMNS = ("id", "issue_date", "due_date", "currency", "amount_total", "tax_amount", "open_amount", "status",
                 "po_number", "terms", "pdf_url", "lines", "source_updated_at")

_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE} (
  id uuid, issue_date date, due_date date, currency text, amount_total numeric, tax_amount numeric,
  open_amount numeric, status text, po_number text, terms text, pdf_url text, lines jsonb, source_updated_at timestamptz
) ON COMMIT DELETE ROWS"""

_UPDATE = f"""
UPDATE ingest.invoices AS i SET issue_date = s.issue_date, due_date = s.due_date, currency = s.currency,
  amount_total = s.amount_total, tax_amount = s.tax_amount, open_amount = s.open_amount, status = s.status,
  po_number = s.po_number, terms = s.terms, pdf_url = s.pdf_url, lines = s.lines,
  source_updated_at = coalesce(s.source_updated_at, i.source_updated_at), version = i.version + 1,
  import_job_id = $2
FROM {STAGE} s WHERE i.tenant_id = $1 AND i.id = s.id"""

# Locked so that a payment applied by the API meanwhile cannot slip under the checks of the chunk.
_EXISTING = """
SELECT id, customer_id, number, status, issue_date, due_date, currency, amount_total, tax_amount, paid_amount,
  credited_amount, written_off_amount, po_number, terms, pdf_url, lines, source_updated_at, version, paid_at,
  import_job_id
FROM ingest.invoices WHERE tenant_id = $1 AND number = ANY($2::text[]) FOR UPDATE"""


async def customers_by_external(conn: Any, tenant_id: UUID, external_ids: Collection[str]) -> dict[str, UUID]:
    rows = await conn.fetch(
        "SELECT external_id, id FROM ingest.customers WHERE tenant_id = $1 AND external_id = ANY($2::text[])",
        tenant_id, list(external_ids))
    return {r["external_id"]: r["id"] for r in rows}


async def existing_invoices(conn: Any, tenant_id: UUID, numbers: list[str]) -> dict[str, Any]:
    """The ledger's invoices among ``numbers``, by number, locked for this transaction."""
    return {r["number"]: r for r in await conn.fetch(_EXISTING, tenant_id, numbers)}


class Contended(Exception):
    """Another writer created one of the chunk's invoice numbers after the chunk looked; retry it."""


async def insert_invoices(conn: Any, records: list[tuple]) -> None:
    """New invoices (in INVOICE_COLUMNS order).

    Sent in COPY's text format: the driver's binary encoding of three Decimals and two dates
    per row cost more Python time than everything else about the row's insert."""
    await insert_invoice_lines(conn, list(map(invoice_line, records)))


async def insert_invoice_lines(conn: Any, lines: list[str]) -> None:
    """New invoices already rendered by ``invoice_line``."""
    if not lines:
        return
    data = io.BytesIO("".join(lines).encode())  # bytes alone would be taken for a path
    try:
        await conn.copy_to_table("invoices", schema_name="ingest", source=data, columns=INVOICE_COLUMNS, format="text")
    except asyncpg.UniqueViolationError as exc:
        raise Contended(str(exc)) from exc


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str | None) -> str:
    """A value in COPY's text format: NULL is \\N; backslash, tab and line breaks are escaped."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def invoice_line(r: tuple) -> str:
    """One new invoice (INVOICE_COLUMNS order) as a line of COPY's text format."""
    # Ids, dates, amounts, currency, status and version are validated values with no special characters.
    updated = "\\N" if r[15] is None else r[15].isoformat()
    return (f"{r[0]}\t{r[1]}\t{r[2]}\t{_text(r[3])}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t{r[8]}\t{r[9]}\t{r[10]}\t"
            f"{_text(r[11])}\t{_text(r[12])}\t{_text(r[13])}\t{_text(r[14])}\t{updated}\t{r[16]}\t{r[17]}\n")


async def update_invoices(conn: Any, tenant_id: UUID, job_id: UUID, records: list[tuple]) -> None:
    """Changed invoices (in STAGE_COLUMNS order), the version bumped by Postgres."""
    if not records:
        return
    await conn.execute(_CREATE_STAGE)
    await conn.copy_records_to_table(STAGE, records=records, columns=STAGE_COLUMNS)
    # Temp tables get no statistics of their own; without them the join may scan the whole ledger.
    await conn.execute(f"ANALYZE {STAGE}")
    await conn.execute(_UPDATE, tenant_id, job_id)


async def insert_events(conn: Any, records: list[tuple]) -> None:
    """A chunk's outbox records (in OUTBOX_COLUMNS order), packed a lane at a time into a few dozen rows
    (``packed_rows``): one row per event cost Postgres more to insert and the relay to delete than
    the invoice's own row."""
    if records:
        await conn.copy_records_to_table("outbox", schema_name="ingest", records=packed_rows(records),
                                         columns=OUTBOX_COLUMNS)


async def record_progress(conn: Any, job_id: UUID, done: int, errors: list[tuple[int, str | None, str]]) -> None:
    failed = len({row for row, _, _ in errors})
    await conn.execute(
        "UPDATE ingest.import_jobs SET rows_done = rows_done + $2, rows_failed = rows_failed + $3 WHERE id = $1",
        job_id, done, failed)
    if errors:
        await conn.copy_records_to_table("import_errors", schema_name="ingest",
                                          records=[(job_id, *e) for e in errors], columns=("job_id", "row", "field", "reason"))
