"""Payment rows of one import chunk: cash-applied row by row in memory, written set-wise.

Through the API a payment costs a savepoint and about seven statements (its customer's open
invoices, the payment, an allocation, an invoice update and an event per invoice it pays). Here a
chunk reads, whatever its size, which external ids the ledger holds, the customers the rows name
and all those customers' open invoices (locked, as the API locks them), then writes its payments,
allocations, changed invoices and events with one batched statement each.

The decisions are the API's own: ``cash.match_payment`` against the customer's invoices as the
earlier rows of the file left them, ``Balance.apply`` for every allocation, the same payment
values and the same events in the same order (each invoice's balance change, then the payment).
A row that fails (unknown customer, an explicit allocation that does not fit) changes nothing and
is reported; the rows after it go on. A unit of the test suite holds this path to the API's row by
row on random portfolios.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

from rapport_shared.ids import new_id

from rapport_ingest.adapters import bulk
from rapport_ingest.domain import cash_application as cash
from rapport_ingest.domain.errors import Invalid, LedgerError
from rapport_ingest.service_layer import payments
from rapport_ingest.service_layer.balances import allocation_values, balance_event, balance_of, balance_values
from rapport_ingest.service_layer.customers import unknown_customer
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

Errors = list[tuple[int, str | None, str]]

PAYMENT_COLUMNS = ("id", "tenant_id", "customer_id", "external_id", "amount", "currency", "received_on", "method",
                   "reference", "remittance_text", "source", "unapplied_amount", "match_rule", "needs_review",
                   "review_reason")
ALLOCATION_COLUMNS = ("tenant_id", "invoice_id", "payment_id", "credit_note_id", "kind", "amount", "rule", "reason")
_PAID_COLUMNS = ("id", "paid_amount", "open_amount", "status", "version", "paid_at")
_PAY_INVOICES = """
UPDATE ingest.invoices AS i SET paid_amount = u.paid, open_amount = u.open, status = u.status, version = u.version,
  paid_at = u.paid_at
FROM unnest($2::uuid[], $3::numeric[], $4::numeric[], $5::text[], $6::int[], $7::timestamptz[])
  AS u(id, paid, open, status, version, paid_at)
WHERE i.tenant_id = $1 AND i.id = u.id"""


async def import_payments(uow: UnitOfWork, commands: list[tuple[int, Any]], errors: Errors) -> int:
    """Rows done (``None`` commands are a report's totals rows: done, nothing to write); failures go to ``errors``."""
    rows = [(number, command) for number, command in commands if command is not None]
    done = len(commands) - len(rows)
    if not rows:
        return done
    ledger = uow.ledger
    known = await ledger.payments_by_external([c.external_id for _, c in rows])
    named = await ledger.customers_by_external(list({c.customer_external_id for _, c in rows if c.customer_external_id}))
    policy = await ledger.cash_application_policy()
    book = _Book(await _open_invoices(uow, [c.id for c in named.values()]))
    now = uow.clock.now()
    for number, command in rows:
        if command.external_id in known:
            done += 1  # recorded before (by an earlier chunk, job or row): a repeat changes nothing
            continue
        try:
            book.record(uow.tenant_id, command, named, policy, now)
        except LedgerError as exc:
            errors.append((number, exc.field, exc.reason))
            continue
        known.add(command.external_id)
        done += 1
    await book.write(uow)
    return done


_OPEN_INVOICES = """
SELECT id, customer_id, number, issue_date, due_date, currency, amount_total, tax_amount, paid_amount,
  credited_amount, written_off_amount, open_amount, status, po_number, terms, pdf_url, paid_at, version
FROM ingest.invoices
WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND open_amount > 0 AND status <> 'void'
ORDER BY customer_id, due_date, number
FOR UPDATE"""


async def _open_invoices(uow: UnitOfWork, customer_ids: list[UUID]) -> list[dict[str, Any]]:
    """Every open invoice of these customers, locked (a customer at a time in id order, so two imports
    lock in the same order), as ``LedgerRepository.open_invoices`` selects them. Through the driver: a
    chunk may name thousands of customers with hundreds of open invoices each."""
    if not customer_ids:
        return []
    driver = (await (await uow.session.connection()).get_raw_connection()).driver_connection
    return [dict(record) for record in await driver.fetch(_OPEN_INVOICES, uow.tenant_id, customer_ids)]


class _Book:
    """The chunk's invoices as its payments leave them, and everything to write at the end."""

    def __init__(self, open_rows: list[dict[str, Any]]) -> None:
        self.invoices = {row["id"]: row for row in open_rows}
        self.by_customer: dict[UUID, list[dict[str, Any]]] = {}
        for row in open_rows:
            self.by_customer.setdefault(row["customer_id"], []).append(row)
        # What cash application sees of each invoice, made again only when a payment changes it.
        self.opened = {row["id"]: _open(row) for row in open_rows}
        self.payments: list[dict[str, Any]] = []
        self.allocations: list[dict[str, Any]] = []
        self.events: list[tuple[Any, UUID]] = []
        self.changed: set[UUID] = set()

    def record(self, tenant_id: UUID, command: Any, named: dict[str, Any], policy: cash.Policy, now: Any) -> None:
        """Apply one payment, or raise before changing anything."""
        customer = named.get(command.customer_external_id) if command.customer_external_id else None
        if command.customer_external_id and customer is None:
            raise unknown_customer(command.customer_external_id)
        if customer is None:
            raise Invalid("a payment needs the customer it came from", field="customer_external_id")
        opened = self.opened
        candidates = [opened[row["id"]] for row in self.by_customer.get(customer.id, ())
                      if row["open_amount"] > 0 and row["status"] != "void"]
        incoming = payments.incoming_of(command)
        match = cash.match_payment(incoming, candidates, policy)
        payment_id = new_id()
        staged: dict[UUID, dict[str, Any]] = {}  # new states, kept only once the whole payment fits
        moves = []
        for invoice, amount in match.allocations:
            row = SimpleNamespace(**(staged.get(invoice.invoice_id) or self.invoices[invoice.invoice_id]))
            balance = balance_of(row).apply("payment", amount)
            new = {**vars(row), **balance_values(row, balance, now)}
            staged[invoice.invoice_id] = new
            moves.append((SimpleNamespace(**new), amount, balance.open_amount - row.open_amount))
        values = payments.payment_values(command, payment_id, customer.id, "import", incoming, match)
        # Nothing above raised: the payment happens.
        for invoice_id, new in staged.items():
            self.invoices[invoice_id].update(new)
            self.opened[invoice_id] = _open(new)
            self.changed.add(invoice_id)
        self.payments.append({"tenant_id": tenant_id, **values})
        for new, amount, delta in moves:
            self.allocations.append({"tenant_id": tenant_id, **allocation_values(
                new.id, "payment", amount, rule=match.rule, payment_id=payment_id)})
            self.events.append((balance_event(new, cause="payment", delta=delta, payment_id=payment_id),
                                new.customer_id))
        self.events.append((payments.received_event(values, match), customer.id))

    async def write(self, uow: UnitOfWork) -> None:
        """Everything the chunk's payments did, with the driver: COPY for new rows, one statement for the
        invoices, the events packed into the outbox as the invoice import writes them."""
        driver = (await (await uow.session.connection()).get_raw_connection()).driver_connection
        if self.payments:
            await driver.copy_records_to_table("payments", schema_name="ingest", columns=PAYMENT_COLUMNS,
                                               records=[tuple(p[c] for c in PAYMENT_COLUMNS) for p in self.payments])
        if self.allocations:
            await driver.copy_records_to_table("allocations", schema_name="ingest", columns=ALLOCATION_COLUMNS,
                                               records=[tuple(a[c] for c in ALLOCATION_COLUMNS) for a in self.allocations])
        if self.changed:
            rows = [self.invoices[i] for i in self.changed]
            await driver.execute(_PAY_INVOICES, uow.tenant_id, *([row[c] for row in rows] for c in _PAID_COLUMNS))
        if self.events:
            await bulk.insert_events(driver, uow.outbox_rows(uow.envelopes(self.events)))


def _open(row: dict[str, Any]) -> cash.OpenInvoice:
    return cash.OpenInvoice(row["id"], row["number"], row["currency"], row["open_amount"], row["due_date"])
