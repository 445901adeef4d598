"""The portal's own state: sessions, used links, requests, documents, audit log, plan limits."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_portal.adapters.orm import (
    audit_log, contacts, credit_notes, documents, plan_limits, rate_limits, requests, sessions, used_links,
)


async def claim_link(session: AsyncSession, nonce: str, tenant_id: UUID, contact_id: UUID,
                     now: datetime, expires_at: datetime) -> bool:
    """True the first time a link's nonce is exchanged; False if it was used before."""
    statement = (insert(used_links)
                 .values(nonce=nonce, tenant_id=tenant_id, contact_id=contact_id, used_at=now, expires_at=expires_at)
                 .on_conflict_do_nothing().returning(used_links.c.nonce))
    return (await session.execute(statement)).first() is not None


async def create_session(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(sessions).values(**row))


async def find_session(session: AsyncSession, token_hash: str, now: datetime) -> dict | None:
    s = sessions.c
    row = (await session.execute(select(sessions).where(
        s.token_hash == token_hash, s.expires_at > now, s.revoked_at.is_(None)))).mappings().first()
    return dict(row) if row else None


async def revoke_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    await session.execute(update(sessions).where(sessions.c.token_hash == token_hash).values(revoked_at=now))


async def audit(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(audit_log).values(**row))


async def audit_of(session: AsyncSession, tenant_id: UUID, customer_id: UUID, limit: int) -> list[dict]:
    a = audit_log.c
    statement = (select(audit_log).where(a.tenant_id == tenant_id, a.customer_id == customer_id)
                 .order_by(a.id.desc()).limit(limit))
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def add_request(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(requests).values(**row))


async def open_request_for_invoice(session: AsyncSession, tenant_id: UUID, customer_id: UUID,
                                   kind: str, invoice_id: UUID) -> UUID | None:
    r = requests.c
    statement = select(r.request_id).where(
        r.tenant_id == tenant_id, r.customer_id == customer_id, r.kind == kind,
        r.status.in_(("open", "pending_review", "approved")), r.invoice_ids.op("?")(str(invoice_id)))
    return (await session.execute(statement.limit(1))).scalar()


async def add_document(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(documents).values(**row))


async def documents_for(session: AsyncSession, tenant_id: UUID, customer_id: UUID, ids: list[UUID]) -> list[dict]:
    d = documents.c
    statement = select(documents).where(d.tenant_id == tenant_id, d.customer_id == customer_id, d.document_id.in_(ids))
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def attach_documents(session: AsyncSession, ids: list[UUID], request_id: UUID) -> None:
    await session.execute(update(documents).where(documents.c.document_id.in_(ids)).values(request_id=request_id))


async def reserve_credit(session: AsyncSession, tenant_id: UUID, customer_id: UUID,
                         credit_note_id: UUID, amount: Decimal) -> bool:
    """Hold ``amount`` of a credit note until the ledger applies it; False if not that much is available."""
    c = credit_notes.c
    statement = (update(credit_notes)
                 .where(and_(c.tenant_id == tenant_id, c.customer_id == customer_id, c.credit_note_id == credit_note_id,
                             c.unapplied_amount - c.pending_amount >= amount))
                 .values(pending_amount=c.pending_amount + amount).returning(c.credit_note_id))
    return (await session.execute(statement)).first() is not None


async def plan_limits_of(session: AsyncSession, tenant_id: UUID) -> dict | None:
    row = (await session.execute(select(plan_limits).where(plan_limits.c.tenant_id == tenant_id))).mappings().first()
    return dict(row) if row else None


async def set_plan_limits(session: AsyncSession, tenant_id: UUID, max_instalments: int, max_days: int) -> None:
    statement = insert(plan_limits).values(tenant_id=tenant_id, max_instalments=max_instalments, max_days=max_days)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["tenant_id"], set_={"max_instalments": max_instalments, "max_days": max_days}))


async def update_contact(session: AsyncSession, tenant_id: UUID, contact_id: UUID, changes: dict[str, Any]) -> None:
    c = contacts.c
    await session.execute(update(contacts).where(c.tenant_id == tenant_id, c.contact_id == contact_id).values(**changes))


async def count_attempt(session: AsyncSession, key: str, window_start: datetime, previous_start: datetime,
                        expires_at: datetime) -> tuple[int, int]:
    """Count one attempt in ``key``'s current window; (hits in this window, hits in the previous one).

    One atomic upsert, so concurrent workers never lose a count.
    """
    r, prev = rate_limits.c, rate_limits.alias("prev").c
    previous = select(prev.hits).where(prev.key == key, prev.window_start == previous_start).scalar_subquery()
    statement = insert(rate_limits).values(key=key, window_start=window_start, hits=1, expires_at=expires_at)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"hits": r.hits + 1}).returning(r.hits, previous)
    current, before = (await session.execute(statement)).one()
    return current, before or 0


async def forget_old_attempts(session: AsyncSession, now: datetime, batch: int = 100) -> None:
    """Drop a bounded batch of expired counters (each attempt tidies a little; no sweeper process)."""
    r = rate_limits.c
    expired = select(r.key, r.window_start).where(r.expires_at < now).limit(batch)
    await session.execute(delete(rate_limits).where(tuple_(r.key, r.window_start).in_(expired)))
