"""Set-based bulk writes: COPY a chunk into a staging table, then one upsert into the ledger.

Used by the import for invoices; events for the changed rows are COPYed into the outbox
in the same transaction, so a chunk is all-or-nothing.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

STAGE = "ingest_stage_invoices"
STAGE_COLUMNS = ("row_no", "id", "customer_id", "number", "issue_date", "due_date", "currency",
                 "amount_total", "tax_amount", "po_number", "terms", "pdf_url")
OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "lane", "key", "value")

_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE} (
  row_no int, id uuid, customer_id uuid, number text, issue_date date, due_date date, currency text,
  amount_total numeric, tax_amount numeric, po_number text, terms text, pdf_url text
) ON COMMIT DELETE ROWS"""

_REJECTS = f"""
SELECT s.row_no, CASE
  WHEN i.customer_id <> s.customer_id THEN 'invoice ' || s.number || ' belongs to another customer'
  WHEN i.status = 'void' THEN 'invoice ' || s.number || ' is void'
  ELSE 'new amount ' || s.amount_total || ' is below what is already applied' END AS reason
FROM {STAGE} s JOIN ingest.invoices i ON i.tenant_id = $1 AND i.number = s.number
WHERE i.customer_id <> s.customer_id OR i.status = 'void'
   OR s.amount_total < i.paid_amount + i.credited_amount + i.written_off_amount"""

_OPEN = "(excluded.amount_total - i.paid_amount - i.credited_amount - i.written_off_amount)"
_UPSERT = f"""
INSERT INTO ingest.invoices AS i (id, tenant_id, customer_id, number, issue_date, due_date, currency,
  amount_total, tax_amount, open_amount, status, po_number, terms, pdf_url, version)
SELECT id, $1, customer_id, number, issue_date, due_date, currency, amount_total, tax_amount,
  amount_total, CASE WHEN amount_total > 0 THEN 'open' ELSE 'paid' END, po_number, terms, pdf_url, 1
FROM {STAGE}
ON CONFLICT (tenant_id, number) DO UPDATE SET
  issue_date = excluded.issue_date, due_date = excluded.due_date, currency = excluded.currency,
  amount_total = excluded.amount_total, tax_amount = excluded.tax_amount, po_number = excluded.po_number,
  terms = excluded.terms, pdf_url = excluded.pdf_url, open_amount = {_OPEN}, version = i.version + 1,
  status = CASE WHEN {_OPEN} = 0 THEN (CASE WHEN i.written_off_amount > 0 THEN 'written_off'
                WHEN i.paid_amount > 0 THEN 'paid' ELSE 'credited' END)
           WHEN {_OPEN} < excluded.amount_total THEN 'partially_paid' ELSE 'open' END
WHERE (i.issue_date, i.due_date, i.currency, i.amount_total, i.tax_amount, i.po_number, i.terms, i.pdf_url)
  IS DISTINCT FROM (excluded.issue_date, excluded.due_date, excluded.currency, excluded.amount_total,
  excluded.tax_amount, excluded.po_number, excluded.terms, excluded.pdf_url)
RETURNING i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.currency, i.amount_total,
  i.tax_amount, i.open_amount, i.status, i.po_number, i.terms, i.pdf_url, i.version, (i.xmax = 0) AS inserted"""


async def customers_by_external(conn: Any, tenant_id: UUID, external_ids: Sequence[str]) -> dict[str, UUID]:
    rows = await conn.fetch(
        "SELECT external_id, id FROM ingest.customers WHERE tenant_id = $1 AND external_id = ANY($2::text[])",
        tenant_id, list(external_ids))
    return {r["external_id"]: r["id"] for r in rows}


async def upsert_invoices(conn: Any, tenant_id: UUID, records: list[tuple]) -> tuple[list[Any], list[tuple[int, str]]]:
    """Stage ``records`` (in STAGE_COLUMNS order); returns (changed rows, rejected (row_no, reason))."""
    await conn.execute(_CREATE_STAGE)
    await conn.copy_records_to_table(STAGE, records=records, columns=STAGE_COLUMNS)
    # Temp tables get no statistics of their own; without them the joins below scan the whole ledger.
    await conn.execute(f"ANALYZE {STAGE}")
    rejected = [(r["row_no"], r["reason"]) for r in await conn.fetch(_REJECTS, tenant_id)]
    if rejected:
        await conn.execute(f"DELETE FROM {STAGE} WHERE row_no = ANY($1::int[])", [r for r, _ in rejected])
    changed = await conn.fetch(_UPSERT, tenant_id)
    await conn.execute(f"TRUNCATE {STAGE}")
    return changed, rejected


async def copy_outbox(conn: Any, records: list[tuple]) -> None:
    if records:
        await conn.copy_records_to_table("outbox", schema_name="ingest", records=records, columns=OUTBOX_COLUMNS)


async def record_progress(conn: Any, job_id: UUID, done: int, errors: list[tuple[int, str | None, str]]) -> None:
    failed = len({row for row, _, _ in errors})
    await conn.execute(
        "UPDATE ingest.import_jobs SET rows_done = rows_done + $2, rows_failed = rows_failed + $3 WHERE id = $1",
        job_id, done, failed)
    if errors:
        await conn.copy_records_to_table("import_errors", schema_name="ingest",
                                          records=[(job_id, *e) for e in errors], columns=("job_id", "row", "field", "reason"))
