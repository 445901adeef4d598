"""Read-back for the ERP/CRM: the ledger's state plus what the other services said."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from rapport_ingest.service_layer.snapshots import customer_view, money
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


def invoice_fields(row: Row) -> dict[str, Any]:
    return {
        "invoice_id": str(row.id), "customer_id": str(row.customer_id), "number": row.number,
        "issue_date": row.issue_date.isoformat(), "due_date": row.due_date.isoformat(), "currency": row.currency,
        "amount": money(row.amount_total), "tax_amount": money(row.tax_amount),
        "paid_amount": money(row.paid_amount), "credited_amount": money(row.credited_amount),
        "written_off_amount": money(row.written_off_amount), "open_amount": money(row.open_amount),
        "status": row.status, "po_number": row.po_number, "terms": row.terms, "pdf_url": row.pdf_url,
        "lines": row.lines, "version": row.version,
        "paid_at": row.paid_at.isoformat() if row.paid_at else None,
    }


async def invoice_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    allocations = await uow.ledger.allocations_of(invoice_id=row.id)
    pending = await uow.ledger.pending_payments_for(row.id)
    return {
        **invoice_fields(row),
        "allocations": [{"kind": a.kind, "amount": money(a.amount), "rule": a.rule,
                         "payment_id": str(a.payment_id) if a.payment_id else None,
                         "credit_note_id": str(a.credit_note_id) if a.credit_note_id else None,
                         "at": a.created_at.isoformat()} for a in allocations],
        "pending_payments": [{"checkout_session_id": p.checkout_session_id, "amount": money(p.amount),
                              "currency": p.currency} for p in pending],
        "collections": await uow.ledger.status_facts(row.id),
    }


async def customer_full_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    balances = await uow.ledger.open_balance(row.id)
    contacts = await uow.ledger.contacts_of(row.id)
    return {
        **customer_view(row),
        "open_balance": [{"currency": b.currency, "amount": money(b.open), "invoices": b.n} for b in balances],
        "contacts": [{"contact_id": str(c.id), "external_id": c.external_id, **c.attributes} for c in contacts],
        "collections": await uow.ledger.status_facts(row.id),
    }


async def payment_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    allocations = await uow.ledger.allocations_of(payment_id=row.id)
    return {
        "payment_id": str(row.id), "external_id": row.external_id,
        "customer_id": str(row.customer_id) if row.customer_id else None,
        "amount": money(row.amount), "currency": row.currency, "received_on": row.received_on.isoformat(),
        "method": row.method, "reference": row.reference, "source": row.source,
        "unapplied_amount": money(row.unapplied_amount), "refunded_amount": money(row.refunded_amount),
        "match_rule": row.match_rule, "needs_review": row.needs_review, "review_reason": row.review_reason,
        "allocations": [{"invoice_number": a.number, "invoice_id": str(a.invoice_id), "amount": money(a.amount),
                         "kind": a.kind, "rule": a.rule} for a in allocations],
    }
