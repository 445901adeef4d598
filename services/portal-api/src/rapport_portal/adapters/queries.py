"""Reads of the read model, always scoped to one tenant *and* one customer (no IDOR by construction)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_portal.adapters.orm import (
    contacts, credit_notes, customers, interactions, invoices, messages, payments, requests,
)

SORTS = {
    "due_date": invoices.c.due_date, "issue_date": invoices.c.issue_date, "number": invoices.c.number,
    "amount": invoices.c.amount_total, "open_amount": invoices.c.open_amount,
}
_LIST_COLUMNS = [c for c in invoices.c if c.name not in ("tenant_id", "customer_id", "version")]


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


def _status_filter(status: str):
    c = invoices.c
    open_ = and_(c.status.in_(("open", "partially_paid")), c.open_amount > 0)
    overdue = and_(open_, c.due_date < bindparam("today"))
    return {"open": open_, "overdue": overdue, "paid": c.status == "paid"}.get(status)


@lru_cache(maxsize=128)
def _list_statement(status: str, searching: bool, sort: str, descending: bool):
    """Built once per shape, with bound parameters: building a Core statement costs more than running it."""
    c = invoices.c
    where = [c.tenant_id == bindparam("tenant_id"), c.customer_id == bindparam("customer_id")]
    if (condition := _status_filter(status)) is not None:
        where.append(condition)
    if searching:
        where.append(or_(c.number.ilike(bindparam("pattern")), c.po_number.ilike(bindparam("pattern"))))
    order = SORTS[sort].desc() if descending else SORTS[sort].asc()
    page = (select(*_LIST_COLUMNS, func.count().over().label("total")).where(*where)
            .order_by(order, c.invoice_id).limit(bindparam("limit")).offset(bindparam("offset")))
    return page, select(func.count()).select_from(invoices).where(*where)


async def list_invoices(session: AsyncSession, scope: Scope, q: InvoiceQuery, today: date) -> tuple[list, int]:
    """One page and the total in one round trip; rows stay read-only mappings (no copy on the hot path)."""
    page, count = _list_statement(q.status, bool(q.search), q.sort, q.descending)
    params = {"tenant_id": scope.tenant_id, "customer_id": scope.customer_id, "limit": q.limit, "offset": q.offset}
    if q.status == "overdue":
        params["today"] = today
    if q.search:
        params["pattern"] = "%" + q.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = (await session.execute(page, params)).mappings().all()
    if rows:
        return rows, rows[0]["total"]
    return rows, (await session.execute(count, {k: v for k, v in params.items() if k not in ("limit", "offset")})).scalar_one()


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
