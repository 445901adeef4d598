"""Writes of the read model, from events; snapshots carry a version and older ones never win."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Text, and_, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_portal.adapters.orm import (
    contacts, credit_notes, customers, interactions, invoices, messages, payments, requests,
)


async def _upsert_versioned(session: AsyncSession, table, keys: tuple[str, ...], row: dict[str, Any]) -> None:
    """Insert, or replace only when the incoming version is not older than the stored one."""
    statement = insert(table).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={k: statement.excluded[k] for k in row if k not in keys},
        where=table.c.version <= statement.excluded.version,
    )
    await session.execute(statement)


async def upsert_customer(session: AsyncSession, row: dict[str, Any]) -> None:
    await _upsert_versioned(session, customers, ("tenant_id", "customer_id"), row)


async def upsert_contact(session: AsyncSession, row: dict[str, Any]) -> None:
    await _upsert_versioned(session, contacts, ("tenant_id", "contact_id"), row)


async def upsert_invoice(session: AsyncSession, row: dict[str, Any]) -> None:
    await _upsert_versioned(session, invoices, ("tenant_id", "invoice_id"), row)


async def upsert_credit_note(session: AsyncSession, row: dict[str, Any]) -> None:
    await _upsert_versioned(session, credit_notes, ("tenant_id", "credit_note_id"), row)


async def consume_credit(session: AsyncSession, tenant_id: UUID, credit_note_id: UUID, applied: Decimal) -> None:
    """The ledger applied ``applied`` of a credit note: less unapplied, and less still pending."""
    c = credit_notes.c
    await session.execute(
        update(credit_notes)
        .where(and_(c.tenant_id == tenant_id, c.credit_note_id == credit_note_id))
        .values(unapplied_amount=func.greatest(c.unapplied_amount - applied, 0),
                pending_amount=func.greatest(c.pending_amount - applied, 0))
    )


async def set_dunning_stage(session: AsyncSession, tenant_id: UUID, invoice_id: UUID, stage: str, as_of: datetime,
                            last_touch_at: datetime | None = None) -> None:
    """The invoice's dunning stage as of ``as_of`` (the scheduler's time), unless a newer one is shown already:
    stage events and touchpoints come on different topics, in no order with each other. ``last_touch_at``
    None keeps the last touch shown."""
    c = invoices.c
    values: dict[str, Any] = {"dunning_stage": stage, "dunning_stage_at": as_of}
    if last_touch_at is not None:
        values["last_touch_at"] = last_touch_at
    await session.execute(
        update(invoices).where(and_(c.tenant_id == tenant_id, c.invoice_id == invoice_id,
                                    or_(c.dunning_stage_at.is_(None), c.dunning_stage_at <= as_of))).values(**values)
    )


async def record_payment(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(payments).values(**row).on_conflict_do_nothing())


async def reverse_payment(session: AsyncSession, tenant_id: UUID, payment_id: UUID, amount: Decimal, on: date) -> None:
    c = payments.c
    await session.execute(
        update(payments).where(and_(c.tenant_id == tenant_id, c.payment_id == payment_id))
        .values(reversed_amount=c.reversed_amount + amount, reversed_on=on)
    )


async def record_message(session: AsyncSession, row: dict[str, Any]) -> None:
    statement = insert(messages).values(**row)
    # An outcome (delivered, opened...) may arrive before the sent event; the sent one fills the content.
    await session.execute(statement.on_conflict_do_update(
        index_elements=["tenant_id", "message_id"],
        set_={k: func.coalesce(statement.excluded[k], messages.c[k])
              for k in ("subject", "preview", "template_key", "sent_at")}
        | {"invoice_ids": statement.excluded.invoice_ids},
    ))


async def update_message_status(
    session: AsyncSession, base_row: dict[str, Any], status: str, at: datetime,
) -> None:
    """Move a message to a later status (never back to an earlier one by a late event)."""
    statement = insert(messages).values(**base_row, status=status, status_at=at)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["tenant_id", "message_id"],
        set_={"status": status, "status_at": at},
        where=messages.c.status_at <= at,
    ))


async def add_interaction(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(interactions).values(**row).on_conflict_do_nothing())


async def update_case(
    session: AsyncSession, tenant_id: UUID, customer_id: UUID, case_id: UUID, kind: str,
    invoice_ids: list[str], status: str, note: str | None, at: datetime,
) -> bool:
    """Set a portal request's status from the scheduler's case; matched by id, else by kind + invoices."""
    r = requests.c
    scope = and_(r.tenant_id == tenant_id, r.customer_id == customer_id, r.kind == kind)
    target = (await session.execute(select(r.request_id).where(scope, r.request_id == case_id))).scalar()
    if target is None and invoice_ids:
        target = (await session.execute(
            select(r.request_id).where(scope, r.invoice_ids.op("?|")(cast([str(i) for i in invoice_ids], ARRAY(Text))))
            .order_by(r.created_at.desc()).limit(1)
        )).scalar()
    if target is None:
        return False
    await session.execute(update(requests).where(r.request_id == target)
                          .values(status=status, note=note, updated_at=at))
    return True
