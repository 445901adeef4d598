"""POST /v1/invoices without an Idempotency-Key: the integration API's hottest call, on raw asyncpg.

Same rules as ``invoices.create_invoice`` (a number already stored with the same content answers
200 with the stored invoice, with other content 409 on ``number``; an unknown customer is 422 on
``customer_external_id``), in two statements instead of a session's seven round trips:

1. one read: the tenant's invoice of that number and the named customer's id;
2. one write: the invoice and its ``invoice.issued`` outbox row inserted by a single statement, so
   both commit or neither does, with no explicit transaction.

The event is rendered as the bulk import renders it (``bulk_events``; a unit test holds those bytes
to ``make_event``), amounts at the ledger's four decimals, correlated to itself like ``make_event``.
A second request that races to create the same number hits the unique constraint: 409, retry.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from rapport_shared.bus.outbox import lane_of

from rapport_ingest.domain.commands import CreateInvoice
from rapport_ingest.domain.errors import Conflict, Invalid
from rapport_ingest.domain.ledger import Balance
from rapport_ingest.domain.invoice_rows import InvoiceRow
from rapport_ingest.service_layer import invoices
from rapport_ingest.service_layer.bulk_events import ISSUED, EventBuilder, uuid7_strings
from rapport_ingest.service_layer.invoice_import import Customer, _Chunk
from rapport_ingest.service_layer.views import invoice_fields

APPLICATION_NAME = "rapport-ingest-post"  # of the pool's connections, as Postgres lists them
WARM_CONNECTIONS = 4  # opened at start-up: 200 req/s at ~10 ms each keeps 2-3 busy
_COLUMNS = ("id", "tenant_id", "customer_id", "number", "issue_date", "due_date", "currency", "amount_total",
            "tax_amount", "open_amount", "status", "po_number", "terms", "pdf_url", "lines", "source_updated_at")


class Record:
    """An asyncpg record read by attribute, as the view and comparison helpers read SQLAlchemy rows."""

    __slots__ = ("_record",)

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb in and out as Python values (what SQLAlchemy's JSONB type gives the same code)."""
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="text",
                              encoder=lambda v: orjson.dumps(v).decode(), decoder=json.loads)


async def warm(pool: asyncpg.Pool, poster: "InvoicePoster") -> None:
    """Prepares the lookup on each start-up connection (a read of nothing), so the first requests of a
    burst do not each pay Postgres' parse and plan and the driver's statement introspection."""
    held = [await pool.acquire() for _ in range(pool.get_min_size())]
    try:
        for conn in held:
            await conn.fetchrow(poster.lookup_sql, UUID(int=0), "", "")
    finally:
        for conn in held:
            await pool.release(conn)


class InvoicePoster:
    """Prepared SQL for one schema; ``post`` runs one request on a pooled connection."""

    def __init__(self, schema: str, topic: str) -> None:
        self._topic = topic
        q = '"' + schema.replace('"', '""') + '"'
        self.lookup_sql = self._lookup = (
            f"SELECT c.id AS ref_customer_id, i.* FROM (SELECT 1) AS one"
            f" LEFT JOIN {q}.customers c ON c.tenant_id = $1 AND c.external_id = $3"
            f" LEFT JOIN {q}.invoices i ON i.tenant_id = $1 AND i.number = $2")
        params = ", ".join(f"${n}" for n in range(1, len(_COLUMNS) + 1))
        events = ", ".join(f"${n}" for n in range(len(_COLUMNS) + 1, len(_COLUMNS) + 7))
        self._insert = (
            f"WITH invoice AS (INSERT INTO {q}.invoices ({', '.join(_COLUMNS)}) VALUES ({params}) RETURNING *),"
            f" event AS (INSERT INTO {q}.outbox (event_id, event_type, topic, lane, key, value) VALUES ({events}))"
            f" SELECT * FROM invoice")

    async def post(self, conn: asyncpg.Connection, tenant_id: UUID, command: CreateInvoice,
                   at: datetime) -> tuple[int, dict[str, Any]]:
        """(HTTP status, invoice view); domain errors are raised as ``LedgerError``s."""
        found = await conn.fetchrow(self._lookup, tenant_id, command.number, command.customer_external_id)
        if found["id"] is not None:
            existing = Record(found)
            if invoices._same(existing, command):
                return 200, invoice_fields(existing)
            raise Conflict(f"invoice {command.number} already exists with different content", field="number")
        customer_id = found["ref_customer_id"]
        if customer_id is None:
            raise Invalid(f"unknown customer {command.customer_external_id!r}", field="customer_external_id")
        values, event = self._issue(tenant_id, customer_id, command, at)
        try:
            stored = await conn.fetchrow(self._insert, *values, *event)
        except asyncpg.UniqueViolationError:
            raise Conflict("a concurrent request changed the same record; retry") from None
        return 201, invoice_fields(Record(stored))

    def _issue(self, tenant_id: UUID, customer_id: UUID, command: CreateInvoice, at: datetime) -> tuple[tuple, tuple]:
        invoice_id, event_id = uuid7_strings(2, at)
        balance = Balance(amount_total=command.amount)
        partition_key = f"{tenant_id}:{customer_id}"
        key = partition_key.encode()
        customer = Customer(customer_id, str(customer_id), partition_key, key, lane_of(key))
        # Correlated to itself, as ``make_event`` does for an event with no cause.
        chunk = _Chunk(EventBuilder(self._topic, tenant_id, UUID(event_id), at), iter((event_id,)))
        chunk.event(ISSUED, customer, _as_row(command), invoice_id, balance.open_amount, balance.status, 1, None)
        values = (UUID(invoice_id), tenant_id, customer_id, command.number, command.issue_date, command.due_date,
                  command.currency, command.amount, command.tax_amount, balance.open_amount, balance.status,
                  command.po_number, command.terms, command.pdf_url,
                  [line.model_dump(mode="json") for line in command.lines], command.updated_at)
        event_id_text, event_type, topic, lane, key_bytes, value = chunk.events[0]
        return values, (UUID(event_id_text), event_type, topic, lane, key_bytes, value)


def _as_row(command: CreateInvoice) -> InvoiceRow:
    return InvoiceRow(row=0, number=command.number, customer_external_id=command.customer_external_id,
                      customer_name=None, issue_date=command.issue_date, due_date=command.due_date,
                      currency=command.currency, amount=command.amount, tax_amount=command.tax_amount,
                      po_number=command.po_number, terms=command.terms, pdf_url=command.pdf_url, lines=None,
                      updated_at=command.updated_at)
