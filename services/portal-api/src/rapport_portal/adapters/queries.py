"""Reads of the read model, always scoped to one tenant *and* one customer (no IDOR by construction)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_portal.adapters.orm import (
    contacts, credit_notes, customers, interactions, invoices, messages, payments, requests,
)

SORTS = {
    "due_date": invoices.c.due_date, "issue_date": invoices.c.issue_date, "number": invoices.c.number,
    "amount": invoices.c.amount_total, "open_amount": invoices.c.open_amount,
}


@dataclass(frozen=True)
class Scope:
    tenant_id: UUID
    customer_id: UUID


@dataclass(frozen=True)
class InvoiceQuery:
    status: str = "all"  # all | open | overdue | paid
    search: str | None = None
    sort: str = "due_date"
    descending: bool = False
    limit: int = 50
    offset: int = 0


def _mine(table, scope: Scope):
    return and_(table.c.tenant_id == scope.tenant_id, table.c.customer_id == scope.customer_id)


async def invoice(session: AsyncSession, scope: Scope, invoice_id: UUID) -> dict | None:
    row = (await session.execute(select(invoices).where(_mine(invoices, scope), invoices.c.invoice_id == invoice_id))).mappings().first()
    return dict(row) if row else None


async def invoices_by_ids(session: AsyncSession, scope: Scope, ids: list[UUID]) -> list[dict]:
    rows = (await session.execute(select(invoices).where(_mine(invoices, scope), invoices.c.invoice_id.in_(ids)))).mappings().all()
    return [dict(r) for r in rows]


async def all_invoices(session: AsyncSession, scope: Scope) -> list[dict]:
    return [dict(r) for r in (await session.execute(select(invoices).where(_mine(invoices, scope)))).mappings().all()]


async def customer(session: AsyncSession, scope: Scope) -> dict | None:
    row = (await session.execute(select(customers).where(_mine(customers, scope)))).mappings().first()
    return dict(row) if row else None


async def contact(session: AsyncSession, scope: Scope, contact_id: UUID) -> dict | None:
    row = (await session.execute(select(contacts).where(_mine(contacts, scope), contacts.c.contact_id == contact_id))).mappings().first()
    return dict(row) if row else None


async def contact_any_customer(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> dict | None:
    c = contacts.c
    row = (await session.execute(select(contacts).where(c.tenant_id == tenant_id, c.contact_id == contact_id))).mappings().first()
    return dict(row) if row else None


async def contacts_by_email(session: AsyncSession, email: str) -> list[dict]:
    c = contacts.c
    rows = (await session.execute(select(contacts).where(c.email == email, c.active.is_(True)))).mappings().all()
    return [dict(r) for r in rows]


async def credit_notes_of(session: AsyncSession, scope: Scope, credit_note_id: UUID | None = None) -> list[dict]:
    where = [_mine(credit_notes, scope)]
    if credit_note_id:
        where.append(credit_notes.c.credit_note_id == credit_note_id)
    rows = (await session.execute(select(credit_notes).where(*where).order_by(credit_notes.c.issue_date))).mappings().all()
    return [dict(r) | {"available": r["unapplied_amount"] - r["pending_amount"]} for r in rows]


async def payments_of(session: AsyncSession, scope: Scope) -> list[dict]:
    rows = (await session.execute(select(payments).where(_mine(payments, scope)).order_by(payments.c.received_on))).mappings().all()
    return [dict(r) for r in rows]


async def messages_of(session: AsyncSession, scope: Scope, limit: int, offset: int) -> list[dict]:
    m = messages.c
    statement = select(messages).where(_mine(messages, scope)).order_by(m.status_at.desc()).limit(limit).offset(offset)
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def interactions_of(session: AsyncSession, scope: Scope, limit: int, offset: int) -> list[dict]:
    i = interactions.c
    statement = select(interactions).where(_mine(interactions, scope)).order_by(i.occurred_at.desc()).limit(limit).offset(offset)
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def requests_of(session: AsyncSession, scope: Scope, kind: str | None = None,
                      request_id: UUID | None = None) -> list[dict[str, Any]]:
    r = requests.c
    where = [_mine(requests, scope)]
    if kind:
        where.append(r.kind == kind)
    if request_id:
        where.append(r.request_id == request_id)
    rows = (await session.execute(select(requests).where(*where).order_by(r.created_at.desc()))).mappings().all()
    return [dict(x) for x in rows]
