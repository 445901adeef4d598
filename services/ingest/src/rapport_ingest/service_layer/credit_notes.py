"""Credit notes: issued by the ERP, applied to invoices by the ERP or at the customer's request."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Row

from rapport_ingest.domain.commands import ApplyCreditNote, IssueCreditNote
from rapport_ingest.domain.errors import Conflict, Invalid, NotFound
from rapport_ingest.service_layer.balances import move
from rapport_ingest.service_layer.customers import referenced_customer
from rapport_ingest.service_layer.invoices import invoice_or_404
from rapport_ingest.service_layer.snapshots import credit_note_payload
from rapport_shared.ids import new_id
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


async def issue_credit_note(uow: UnitOfWork, command: IssueCreditNote) -> tuple[Row, bool]:
    existing = await uow.ledger.credit_note(number=command.number)
    if existing is not None:
        if (existing.amount, existing.currency) != (command.amount, command.currency):
            raise Conflict(f"credit note {command.number} already exists with different content", field="number")
        return existing, False
    customer = await referenced_customer(uow, command.customer_external_id)
    credit_note_id = new_id()
    await uow.ledger.add_credit_note({
        "id": credit_note_id, "customer_id": customer.id, "number": command.number,
        "issue_date": command.issue_date, "currency": command.currency, "amount": command.amount,
        "unapplied_amount": command.amount, "reason": command.reason,
    })
    row = await uow.ledger.credit_note(credit_note_id=credit_note_id)
    await uow.emit(credit_note_payload(row), customer.id)
    if command.invoice_number:
        invoice = await invoice_or_404(uow, command.invoice_number, lock=True)
        row = await apply_credit_note(uow, row, invoice, None)
    return row, True


async def apply_by_number(uow: UnitOfWork, number: str, command: ApplyCreditNote) -> Row:
    note = await uow.ledger.credit_note(number=number)
    if note is None:
        raise NotFound(f"no credit note {number!r}", field="number")
    invoice = await invoice_or_404(uow, command.invoice_number, lock=True)
    return await apply_credit_note(uow, note, invoice, command.amount)


async def apply_credit_note(uow: UnitOfWork, note: Row, invoice: Row, amount: Decimal | None) -> Row:
    """Move credit onto one invoice of the same customer and currency (never converted)."""
    if invoice.customer_id != note.customer_id:
        raise Invalid("the invoice belongs to another customer", field="invoice_number")
    if invoice.currency != note.currency:
        raise Invalid(f"currency mismatch: credit note in {note.currency}, invoice in {invoice.currency}",
                      field="invoice_number")
    take = amount if amount is not None else min(note.unapplied_amount, invoice.open_amount)
    if take <= 0 or take > note.unapplied_amount:
        raise Invalid(f"{take} is more than the credit left ({note.unapplied_amount})", field="amount")
    await move(uow, invoice, "credit_note", take, cause="credit_note", rule="credit_note", credit_note_id=note.id)
    await uow.ledger.update_credit_note(note.id, {
        "unapplied_amount": note.unapplied_amount - take, "version": note.version + 1})
    updated = await uow.ledger.credit_note(credit_note_id=note.id)
    payload = credit_note_payload(updated).model_copy(update={"invoice_id": invoice.id})
    await uow.emit(payload, note.customer_id)
    return updated
