"""Bulk loading of facts into the read model with COPY (benchmarks, backfills, tests)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from uuid import UUID

import psycopg

from rapport_shared.db import to_sync_url

from rapport_scoring.domain.facts import InvoiceFact

_NS = uuid.UUID("6f1c2b1e-3f40-4d0e-9a52-6a1f2d0c9b11")
COLUMNS = ("invoice_id", "tenant_id", "customer_id", "number", "issue_date", "due_date", "currency",
           "amount_total", "open_amount", "status", "settled_on", "version")


def stable_id(tenant_id: UUID, key: object) -> UUID:
    """A UUID for a synthetic key, the same every time for one tenant."""
    return uuid.uuid5(_NS, f"{tenant_id}:{key}")


def _rows(tenant_id: UUID, facts: Iterable[InvoiceFact], currency_of: Callable[[object], str], ids: dict):
    for f in facts:
        amount = round(f.amount, 2)
        paid = f.settled_on is not None
        customer = ids.get(f.customer_id)
        if customer is None:
            customer = ids[f.customer_id] = stable_id(tenant_id, f.customer_id)
        yield (stable_id(tenant_id, f.invoice_id), tenant_id, customer, str(f.invoice_id),
               f.issue_date, f.due_date, currency_of(f.customer_id), amount, 0 if paid else amount,
               "paid" if paid else "open", f.settled_on, 1)


def copy_invoices(database_url: str, tenant_id: UUID, facts: Iterable[InvoiceFact], currency: str = "EUR", *,
                  currency_of: Callable[[object], str] | None = None,
                  collector_of: Callable[[object], str | None] | None = None) -> None:
    """COPY invoices (and, given a list, their customers); per-customer currency and collector optional."""
    currency_of = currency_of or (lambda _: currency)
    collector_of = collector_of or (lambda _: None)
    ids: dict = {}
    with psycopg.connect(to_sync_url(database_url).replace("+psycopg", "")) as conn:
        with conn.cursor().copy(f"COPY scoring.invoices ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in _rows(tenant_id, facts, currency_of, ids):
                copy.write_row(row)
        segments = {}
        for f in facts if isinstance(facts, list) else []:
            segments[f.customer_id] = f.segment
        with conn.cursor().copy("COPY scoring.customers (customer_id, tenant_id, name, currency, segment, collector_id) "
                                "FROM STDIN") as copy:
            for customer, segment in segments.items():
                copy.write_row((ids[customer], tenant_id, str(customer), currency_of(customer), segment,
                                collector_of(customer)))
        conn.commit()
        conn.autocommit = True
        # As autovacuum would in steady state: statistics, and a visibility map for index-only scans.
        conn.execute("VACUUM ANALYZE scoring.invoices")
