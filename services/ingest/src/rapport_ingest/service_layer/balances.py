"""Every change of an invoice's balance goes through here: row, allocation, event, together."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Row

from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1

from rapport_ingest.domain.ledger import Balance
from rapport_ingest.service_layer.snapshots import invoice_state
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


def balance_of(row: Row) -> Balance:
    return Balance(amount_total=row.amount_total, paid=row.paid_amount, credited=row.credited_amount,
                   written_off=row.written_off_amount, voided=row.status == "void")


def balance_values(row: Row | Any, balance: Balance, now: datetime) -> dict[str, Any]:
    """The invoice columns a new balance sets: amounts, status, the version bumped, and ``paid_at`` set when
    the invoice becomes paid (kept while it stays paid, cleared when it no longer is)."""
    return {
        "amount_total": balance.amount_total, "paid_amount": balance.paid, "credited_amount": balance.credited,
        "written_off_amount": balance.written_off, "open_amount": balance.open_amount,
        "status": balance.status, "version": row.version + 1,
        "paid_at": now if balance.status == "paid" and row.status != "paid" else
        (row.paid_at if balance.status == "paid" else None),
    }


def allocation_values(invoice_id: UUID, kind: str, amount: Decimal, *, rule: str | None = None,
                      reason: str | None = None, payment_id: UUID | None = None,
                      credit_note_id: UUID | None = None) -> dict[str, Any]:
    """The auditable row of money of ``kind`` moved onto an invoice (or, negative, off it)."""
    return {"invoice_id": invoice_id, "payment_id": payment_id, "credit_note_id": credit_note_id,
            "kind": kind if amount > 0 else f"{kind}_reversal", "amount": amount, "rule": rule, "reason": reason}


def balance_event(updated: Row | Any, *, cause: str, delta: Decimal, payment_id: UUID | None = None,
                  credit_note_id: UUID | None = None) -> InvoiceBalanceChangedV1:
    return InvoiceBalanceChangedV1(**invoice_state(updated), cause=cause, delta=delta, payment_id=payment_id,
                                   credit_note_id=credit_note_id)


async def save_balance(
    uow: UnitOfWork, row: Row, balance: Balance, *, cause: str, payment_id: UUID | None = None,
    credit_note_id: UUID | None = None,
) -> Row:
    """Store the new balance, bump the version and emit the invoice's new balance and status."""
    updated = await uow.ledger.update_invoice_returning(row.id, balance_values(row, balance, uow.clock.now()))
    await uow.emit(balance_event(updated, cause=cause, delta=balance.open_amount - row.open_amount,
                                 payment_id=payment_id, credit_note_id=credit_note_id), row.customer_id)
    return updated


async def move(
    uow: UnitOfWork, row: Row, kind: str, amount: Decimal, *, cause: str, rule: str | None = None,
    reason: str | None = None, payment_id: UUID | None = None, credit_note_id: UUID | None = None,
) -> Row:
    """Apply (or with a negative amount, undo) money of one ``kind`` on an invoice, auditably."""
    balance = balance_of(row).apply(kind, amount)
    await uow.ledger.add_allocation(allocation_values(row.id, kind, amount, rule=rule, reason=reason,
                                                      payment_id=payment_id, credit_note_id=credit_note_id))
    return await save_balance(uow, row, balance, cause=cause, payment_id=payment_id, credit_note_id=credit_note_id)
