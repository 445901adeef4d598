"""Invoice rows of one import job: checked in Python, written set-wise by Postgres.

``prepare`` and ``InvoiceWriter.prebuild`` are pure CPU (no I/O), so the job runs them for the
next chunk in a thread while Postgres writes the current one. ``prebuild`` renders every row whose
customer is already known as if it were new (its COPY line and its ``InvoiceIssuedV1`` record):
that is most of a bulk load's Python work, and it then overlaps Postgres instead of waiting for
the chunk's lookup. ``write`` resolves customers, reads (and locks) the chunk's invoices the
ledger already holds in one query, keeps a prebuilt row only when the ledger does not hold its
number and its customer is still the one it was built for, decides every other row with the
domain's rules and writes new invoices, changed invoices and their events with COPY.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from rapport_shared.bus.outbox import lane_of

from rapport_ingest.adapters import bulk
from rapport_ingest.domain.errors import LedgerError
from rapport_ingest.domain.invoice_rows import InvoiceRow, invoice_row, reconcile
from rapport_ingest.domain.ledger import Balance
from rapport_ingest.domain.presets import Preset
from rapport_ingest.domain.rows import RowError
from rapport_ingest.service_layer import customers
from rapport_ingest.service_layer.bulk_events import ISSUED, UPDATED, EventBuilder, money, uuid7_strings
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

Errors = list[tuple[int, str | None, str]]


@dataclass
class Prepared:
    rows: list[InvoiceRow] = field(default_factory=list)
    errors: Errors = field(default_factory=list)
    repeats: int = 0  # rows done with nothing to write: repeats of an earlier row, a report's totals rows
    # Per row of ``rows``: (customer, insert record, COPY line, outbox record) rendered as a new invoice, or None.
    built: list[tuple | None] | None = None


def prepare(chunk: list[tuple[int, dict[str, Any] | RowError]], preset: Preset) -> Prepared:
    """Validated rows, one per invoice number; a number repeated with other content is an error."""
    out, first = Prepared(), {}
    for number, raw in chunk:
        if not isinstance(raw, RowError) and preset.name != "native" and preset.is_summary(raw):
            out.repeats += 1  # a totals row: handled, nothing to write
            continue
        result = raw if isinstance(raw, RowError) else invoice_row(number, raw, preset)
        if isinstance(result, RowError):
            out.errors.append((result.row, result.field, result.reason))
        elif isinstance(result, list):
            out.errors.extend((e.row, e.field, e.reason) for e in result)
        elif (earlier := first.get(result.number)) is None:
            first[result.number] = result
            out.rows.append(result)
        elif earlier[4:] == result[4:] and earlier[2] == result[2]:
            out.repeats += 1
        else:
            out.errors.append((number, "number", f"invoice {result.number} appears earlier in this file "
                                                 f"(row {earlier.row}) with different content"))
    return out


@dataclass(frozen=True)
class Customer:
    """What each of a customer's events needs, worked out once per job."""

    id: UUID
    id_text: str
    partition_key: str
    key: bytes
    lane: int


@dataclass
class _Chunk:
    builder: EventBuilder
    ids: Iterator[str]
    inserts: list[tuple] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the inserts in COPY text format
    updates: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def event(self, event_type: str, customer: Customer, row: InvoiceRow, invoice_id: str, open_amount: Decimal,
              status: str, version: int, paid_at: datetime | None) -> None:
        data = {"invoice_id": invoice_id, "customer_id": customer.id_text,
                "customer_external_id": row.customer_external_id, "number": row.number,
                "issue_date": row.issue_date, "due_date": row.due_date, "currency": row.currency,
                "amount_total": money(row.amount), "tax_amount": money(row.tax_amount),
                "open_amount": money(open_amount), "status": status, "po_number": row.po_number,
                "terms": row.terms, "pdf_url": row.pdf_url, "paid_at": paid_at, "version": version}
        self.events.append(self.builder.record(next(self.ids), event_type, customer.partition_key, customer.key,
                                               customer.lane, data))

    def new_invoice(self, tenant_text: str, job_text: str, customer: Customer, row: InvoiceRow) -> None:
        invoice_id = next(self.ids)
        status = "open" if row.amount > 0 else Balance(row.amount).status
        record = (invoice_id, tenant_text, customer.id_text, row.number, row.issue_date, row.due_date, row.currency,
                  row.amount, row.tax_amount, row.amount, status, row.po_number, row.terms, row.pdf_url,
                  row.lines or "[]", row.updated_at, 1, job_text)
        self.inserts.append(record)
        self.lines.append(bulk.invoice_line(record))
        self.event(ISSUED, customer, row, invoice_id, row.amount, status, 1, None)


class InvoiceWriter:
    """Writes prepared chunks of one job; remembers the job's customers between chunks."""

    def __init__(self, tenant_id: UUID, job_id: UUID, topic: str) -> None:
        self._tenant_id, self._job_id, self._topic = tenant_id, job_id, topic
        # Ids go to COPY as text: the driver encodes text in C, a UUID object through Python.
        self._tenant_text, self._job_text = str(tenant_id), str(job_id)
        self._customers: dict[str, Customer] = {}
        # Off while the ledger already holds most numbers (a re-import): prebuilt rows would be thrown away.
        # None: off for the whole job (RAPPORT_INGEST_IMPORT_PREBUILD=false).
        self.prebuilding: bool | None = True

    def prebuild(self, prepared: Prepared, at: datetime) -> Prepared:
        """Renders each row whose customer this job already knows as a new invoice (no I/O: safe in a
        thread while the event loop writes the previous chunk). ``write`` checks every one again."""
        chunk = _Chunk(EventBuilder(self._topic, self._tenant_id, self._job_id, at),
                       iter(uuid7_strings(2 * len(prepared.rows), at)))
        built: list[tuple | None] = []
        if not self.prebuilding:
            return prepared
        customers = self._customers
        for row in prepared.rows:
            customer = customers.get(row.customer_external_id)
            if customer is None:
                built.append(None)
                continue
            chunk.new_invoice(self._tenant_text, self._job_text, customer, row)
            built.append((customer, chunk.inserts[-1], chunk.lines[-1], chunk.events[-1]))
        prepared.built = built
        return prepared

    async def write(self, driver: Any, uow: UnitOfWork, prepared: Prepared, at: datetime) -> tuple[int, Errors]:
        """(rows done, errors) of the chunk, written in the caller's transaction."""
        errors = list(prepared.errors)
        await self._resolve(driver, uow, prepared.rows, errors)
        built = prepared.built or [None] * len(prepared.rows)
        pairs = [(r, b) for r, b in zip(prepared.rows, built) if r.customer_external_id in self._customers]
        existing = await bulk.existing_invoices(driver, self._tenant_id, [r.number for r, _ in pairs])
        if self.prebuilding is not None:  # None: switched off for the whole job
            self.prebuilding = 2 * len(existing) <= len(pairs)
        customers = self._customers
        usable = [b is not None and r.number not in existing
                  and (b[0] is (c := customers[r.customer_external_id]) or b[0] == c) for r, b in pairs]
        chunk = _Chunk(EventBuilder(self._topic, self._tenant_id, self._job_id, at),
                       iter(uuid7_strings(2 * usable.count(False), at)))
        for (row, prebuilt), use in zip(pairs, usable):
            try:
                if use:
                    chunk.inserts.append(prebuilt[1])
                    chunk.lines.append(prebuilt[2])
                    chunk.events.append(prebuilt[3])
                elif (stored := existing.get(row.number)) is not None:
                    self._change(chunk, row, stored)
                else:  # not built, or built for a customer a rolled-back chunk had created
                    self._issue(chunk, row)
            except LedgerError as exc:
                errors.append((row.row, exc.field, exc.reason))
        await bulk.insert_invoice_lines(driver, chunk.lines)
        await bulk.update_invoices(driver, self._tenant_id, self._job_id, chunk.updates)
        await bulk.insert_events(driver, chunk.events)
        return len(prepared.rows) - (len(errors) - len(prepared.errors)) + prepared.repeats, errors

    def _issue(self, chunk: _Chunk, row: InvoiceRow) -> None:
        chunk.new_invoice(self._tenant_text, self._job_text, self._customers[row.customer_external_id], row)

    def _change(self, chunk: _Chunk, row: InvoiceRow, stored: Any) -> None:
        customer = self._customers[row.customer_external_id]
        balance = reconcile(row, customer.id, stored, self._job_id)
        if balance is None:
            return
        chunk.updates.append((stored["id"], row.issue_date, row.due_date, row.currency, row.amount, row.tax_amount,
                              balance.open_amount, balance.status, row.po_number, row.terms, row.pdf_url,
                              row.lines or "[]", row.updated_at))
        chunk.event(UPDATED, customer, row, str(stored["id"]), balance.open_amount, balance.status,
                    stored["version"] + 1, stored["paid_at"])

    async def _resolve(self, driver: Any, uow: UnitOfWork, rows: list[InvoiceRow], errors: Errors) -> None:
        """Known customers by external id; unknown ones are created when the row names them."""
        missing = {r.customer_external_id for r in rows} - self._customers.keys()
        if not missing:
            return
        for external_id, customer_id in (await bulk.customers_by_external(driver, self._tenant_id, missing)).items():
            self._remember(external_id, customer_id)
        for row in rows:
            if row.customer_external_id in self._customers:
                continue
            if not row.customer_name:
                errors.append((row.row, "customer_external_id", f"unknown customer {row.customer_external_id!r}"))
                continue
            created = await customers.ensure_customer(uow, row.customer_external_id, row.customer_name, row.currency)
            self._remember(row.customer_external_id, created.id)
        await uow.session.flush()

    def _remember(self, external_id: str, customer_id: UUID) -> None:
        partition_key = f"{self._tenant_id}:{customer_id}"
        key = partition_key.encode()
        self._customers[external_id] = Customer(customer_id, str(customer_id), partition_key, key, lane_of(key))

    def forget_customers(self) -> None:
        """After a rolled-back chunk the customers it created are gone too."""
        self._customers.clear()
