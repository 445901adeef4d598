"""Invoices from the ERP (PUT upsert, POST create) and adjustments (write-off, void)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row

from rapport_shared.contracts.invoice import InvoiceIssuedV1, InvoiceUpdatedV1
from rapport_shared.ids import new_id

from rapport_ingest.domain.commands import Adjust, CreateInvoice, UpsertInvoice
from rapport_ingest.domain.errors import Conflict, Invalid, NotFound
from rapport_ingest.domain.ledger import Balance
from rapport_ingest.service_layer.balances import balance_of, move, save_balance
from rapport_ingest.service_layer.customers import referenced_customer
from rapport_ingest.service_layer.snapshots import invoice_state
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


@dataclass
class InvoiceResult:
    row: Row
    created: bool
    applied: bool


def _terms(command: UpsertInvoice) -> dict[str, Any]:
    return {
        "issue_date": command.issue_date, "due_date": command.due_date, "currency": command.currency,
        "tax_amount": command.tax_amount, "po_number": command.po_number, "terms": command.terms,
        "pdf_url": command.pdf_url, "lines": [line.model_dump(mode="json") for line in command.lines],
        "source_updated_at": command.updated_at,
    }


async def upsert_invoice(uow: UnitOfWork, number: str, command: UpsertInvoice) -> InvoiceResult:
    customer = await referenced_customer(uow, command.customer_external_id)
    existing = await uow.ledger.invoice_by_number(number, lock=True)
    if existing is None:
        return InvoiceResult(await _issue(uow, number, customer, command), created=True, applied=True)
    if existing.customer_id != customer.id:
        raise Conflict(f"invoice {number} belongs to another customer", field="customer_external_id")
    stale = existing.source_updated_at and command.updated_at and command.updated_at < existing.source_updated_at
    if stale or _same(existing, command):
        return InvoiceResult(existing, created=False, applied=False)
    return InvoiceResult(await _change(uow, existing, customer, command), created=False, applied=True)


async def create_invoice(uow: UnitOfWork, command: CreateInvoice) -> InvoiceResult:
    """POST: a second submission of the same number must carry the same content."""
    existing = await uow.ledger.invoice_by_number(command.number)
    if existing is not None:
        if _same(existing, command):
            return InvoiceResult(existing, created=False, applied=False)
        raise Conflict(f"invoice {command.number} already exists with different content", field="number")
    customer = await referenced_customer(uow, command.customer_external_id)
    return InvoiceResult(await _issue(uow, command.number, customer, command), created=True, applied=True)


async def _issue(uow: UnitOfWork, number: str, customer: Row, command: UpsertInvoice) -> Row:
    balance = Balance(amount_total=command.amount)
    invoice_id = new_id()
    row = await uow.ledger.add_invoice({
        "id": invoice_id, "customer_id": customer.id, "number": number, "amount_total": command.amount,
        "open_amount": balance.open_amount, "status": balance.status, **_terms(command),
    })
    await uow.emit(InvoiceIssuedV1(**invoice_state(row, customer.external_id)), customer.id)
    return row


async def _change(uow: UnitOfWork, existing: Row, customer: Row, command: UpsertInvoice) -> Row:
    if command.currency != existing.currency and (existing.paid_amount or existing.credited_amount):
        raise Conflict("currency cannot change once money is applied", field="currency")
    balance = balance_of(existing).retotal(command.amount)
    await uow.ledger.update_invoice(existing.id, {
        **_terms(command), "amount_total": balance.amount_total, "open_amount": balance.open_amount,
        "status": balance.status, "version": existing.version + 1,
    })
    row = await uow.ledger.invoice_by_id(existing.id)
    await uow.emit(InvoiceUpdatedV1(**invoice_state(row, customer.external_id)), customer.id)
    return row


def _same(row: Row, command: UpsertInvoice) -> bool:
    stored = {
        "issue_date": row.issue_date, "due_date": row.due_date, "currency": row.currency,
        "amount": row.amount_total, "tax_amount": row.tax_amount, "po_number": row.po_number,
        "terms": row.terms, "pdf_url": row.pdf_url, "lines": row.lines,
    }
    incoming = {**{k: v for k, v in _terms(command).items() if k != "source_updated_at"}, "amount": command.amount}
    return stored == incoming


async def invoice_or_404(uow: UnitOfWork, number: str, *, lock: bool = False) -> Row:
    row = await uow.ledger.invoice_by_number(number, lock=lock)
    if row is None:
        raise NotFound(f"no invoice {number!r}", field="number")
    return row


async def adjust_invoice(uow: UnitOfWork, number: str, command: Adjust) -> Row:
    row = await invoice_or_404(uow, number, lock=True)
    reason = command.reason
    if command.kind == "void":
        balance = balance_of(row).void()
        await uow.ledger.add_adjustment({"id": new_id(), "invoice_id": row.id, "kind": "void",
                                         "amount": row.open_amount, "reason": reason})
        return await save_balance(uow, row, balance, cause="void")
    amount = command.amount if command.amount is not None else row.open_amount
    if amount <= 0:
        raise Invalid("nothing open to write off", field="amount")
    await uow.ledger.add_adjustment({"id": new_id(), "invoice_id": row.id, "kind": "write_off",
                                     "amount": amount, "reason": reason})
    return await move(uow, row, "write_off", amount, cause="write_off", reason=reason)
