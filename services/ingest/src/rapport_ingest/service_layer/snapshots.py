"""Ledger rows as event payloads and API views (one mapping, used by both)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.invoice import CreditNoteIssuedV1


def invoice_state(row: Row | Any, customer_external_id: str | None = None) -> dict[str, Any]:
    """The fields of ``InvoiceState`` (shared by issued / updated / balance-changed events)."""
    return {
        "invoice_id": row.id, "customer_id": row.customer_id, "customer_external_id": customer_external_id,
        "number": row.number, "issue_date": row.issue_date, "due_date": row.due_date,
        "currency": row.currency, "amount_total": row.amount_total, "tax_amount": row.tax_amount,
        "open_amount": row.open_amount, "status": row.status, "po_number": row.po_number,
        "terms": row.terms, "pdf_url": row.pdf_url, "paid_at": row.paid_at, "version": row.version,
    }


def customer_payload(row: Row) -> CustomerUpsertedV1:
    attrs = dict(row.attributes)
    collector = attrs.pop("collector", None) or {}
    return CustomerUpsertedV1(
        customer_id=row.id, external_id=row.external_id, name=row.name, currency=row.currency,
        version=row.version, collector_id=collector.get("id"), collector_name=collector.get("name"),
        collector_email=collector.get("email"),
        **{k: v for k, v in attrs.items() if k in CustomerUpsertedV1.model_fields and v is not None},
    )


def customer_view(row: Row) -> dict[str, Any]:
    return {
        "customer_id": str(row.id), "external_id": row.external_id, "name": row.name,
        "currency": row.currency, **row.attributes, "version": row.version,
        "updated_at": row.source_updated_at.isoformat() if row.source_updated_at else None,
    }


def contact_payload(row: Row) -> ContactUpsertedV1:
    return ContactUpsertedV1(contact_id=row.id, customer_id=row.customer_id, external_id=row.external_id,
                             version=row.version, **row.attributes)


def credit_note_payload(row: Row) -> CreditNoteIssuedV1:
    return CreditNoteIssuedV1(
        credit_note_id=row.id, customer_id=row.customer_id, number=row.number, issue_date=row.issue_date,
        currency=row.currency, amount=row.amount, unapplied_amount=row.unapplied_amount,
        reason=row.reason, version=row.version,
    )


def money(value: Any) -> str:
    return format(value, "f")
