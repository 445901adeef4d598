"""The read model's SQL: upserts from events and the histories scoring reads back."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import and_, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters.orm import allocations, customers, disputes, invoices, touches
from rapport_scoring.domain.facts import InvoiceFact, TouchFact

PAID_WITHIN_DAYS = 7


async def upsert_customer(session: AsyncSession, tenant_id: UUID, row: dict) -> None:
    values = {"tenant_id": tenant_id, **row}
    statement = insert(customers).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[customers.c.customer_id], set_={k: statement.excluded[k] for k in row},
        where=customers.c.version <= statement.excluded.version,
    ))


_INVOICE_FIELDS = ("invoice_id", "customer_id", "number", "issue_date", "due_date", "currency", "amount_total",
                   "open_amount", "status", "paid_at", "version", "settled_on")


def _invoice_upsert():
    """Built once: the consumer's hottest statement (parameters bound per call)."""
    statement = insert(invoices)
    return statement.on_conflict_do_update(
        index_elements=[invoices.c.invoice_id], set_={k: statement.excluded[k] for k in _INVOICE_FIELDS},
        where=invoices.c.version <= statement.excluded.version,
    ).returning(invoices.c.invoice_id)


_UPSERT_INVOICE = _invoice_upsert()


async def upsert_invoice(session: AsyncSession, tenant_id: UUID, row: dict) -> bool:
    """Store the snapshot unless a newer version is already there; True when stored."""
    # Only a paid invoice has a settlement date: the others skip the second statement.
    row = {**row, "settled_on": None}
    result = await session.execute(_UPSERT_INVOICE, {"tenant_id": tenant_id, **{k: row[k] for k in _INVOICE_FIELDS}})
    stored = result.first() is not None
    if stored and row["status"] == "paid":
        await refresh_settled_on(session, [row["invoice_id"]])
    return stored


async def refresh_settled_on(session: AsyncSession, invoice_ids: list[UUID]) -> None:
    """A paid invoice settled on its last payment's date (else the day ingest marked it paid)."""
    last_payment = (
        select(func.max(allocations.c.received_on))
        .where(allocations.c.invoice_id == invoices.c.invoice_id, allocations.c.reversed.is_(False))
        .scalar_subquery()
    )
    settled = func.coalesce(last_payment, func.date(func.timezone("UTC", invoices.c.paid_at)))
    await session.execute(
        update(invoices).where(invoices.c.invoice_id.in_(invoice_ids))
        .values(settled_on=case((invoices.c.status == "paid", settled), else_=None))
    )


async def add_allocations(session: AsyncSession, tenant_id: UUID, payment_id: UUID, received_on: date,
                          parts: list[tuple[UUID, object]]) -> None:
    if not parts:
        return
    rows = [{"payment_id": payment_id, "invoice_id": i, "tenant_id": tenant_id, "amount": a, "received_on": received_on}
            for i, a in parts]
    await session.execute(insert(allocations).values(rows).on_conflict_do_nothing())
    await refresh_settled_on(session, [i for i, _ in parts])


async def reverse_allocations(session: AsyncSession, payment_id: UUID) -> list[UUID]:
    result = await session.execute(
        update(allocations).where(allocations.c.payment_id == payment_id).values(reversed=True)
        .returning(allocations.c.invoice_id)
    )
    ids = [r[0] for r in result]
    if ids:
        await refresh_settled_on(session, ids)
    return ids


async def record_touch(session: AsyncSession, tenant_id: UUID, row: dict) -> None:
    statement = insert(touches).values(tenant_id=tenant_id, **row)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[touches.c.message_id], set_={"channel": statement.excluded.channel,
                                                     "sent_at": statement.excluded.sent_at},
    ))


async def mark_touch(session: AsyncSession, tenant_id: UUID, message_id: UUID, customer_id: UUID,
                     channel: str, *, replied: bool) -> None:
    """An open or reply may arrive before the send is known; keep it either way."""
    values = {"opened": True, "replied": True} if replied else {"opened": True}
    statement = insert(touches).values(message_id=message_id, tenant_id=tenant_id, customer_id=customer_id,
                                       channel=channel, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[touches.c.message_id], set_=values))


async def customer_row(session: AsyncSession, customer_id: UUID) -> dict | None:
    row = (await session.execute(select(customers).where(customers.c.customer_id == customer_id))).mappings().first()
    return dict(row) if row else None


async def customer_invoices(session: AsyncSession, tenant_id: UUID, customer_id: UUID) -> list[dict]:
    result = await session.execute(
        select(invoices).where(invoices.c.tenant_id == tenant_id, invoices.c.customer_id == customer_id)
    )
    return [dict(r) for r in result.mappings()]


def invoice_fact(row: dict, segment: str = "default") -> InvoiceFact:
    return InvoiceFact(row["invoice_id"], row["customer_id"], row["issue_date"], row["due_date"],
                       float(row["amount_total"]), row["settled_on"], segment,
                       row.get("disputed_on"), row.get("dispute_resolved_on"))


DISPUTE_ENDS = ("resolved", "rejected", "approved", "cancelled", "completed")


async def open_dispute(session: AsyncSession, tenant_id: UUID, dispute_id: UUID, customer_id: UUID,
                       invoice_id: UUID, opened_on: date) -> None:
    statement = insert(disputes).values(dispute_id=dispute_id, tenant_id=tenant_id, customer_id=customer_id,
                                        invoice_id=invoice_id, opened_on=opened_on)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[disputes.c.dispute_id],
        set_={"invoice_id": statement.excluded.invoice_id, "opened_on": statement.excluded.opened_on}))


async def resolve_dispute(session: AsyncSession, tenant_id: UUID, dispute_id: UUID, customer_id: UUID,
                          invoice_ids: list[UUID], resolved_on: date) -> list[UUID]:
    """End the dispute (kept even when its opening has not arrived yet); returns its invoices."""
    statement = insert(disputes).values(dispute_id=dispute_id, tenant_id=tenant_id, customer_id=customer_id,
                                        invoice_id=invoice_ids[0] if invoice_ids else None, resolved_on=resolved_on)
    result = await session.execute(statement.on_conflict_do_update(
        index_elements=[disputes.c.dispute_id], set_={"resolved_on": statement.excluded.resolved_on},
    ).returning(disputes.c.invoice_id))
    return [i for i in result.scalars() if i is not None]


def dispute_summary(tenant_id, customer_id=None):
    """Per invoice: the first dispute's opening and, when all its disputes ended, the last resolution.

    ``tenant_id`` / ``customer_id`` are values or bind parameters (a prebuilt statement).
    """
    condition = and_(disputes.c.tenant_id == tenant_id, disputes.c.opened_on.is_not(None),
                     disputes.c.invoice_id.is_not(None))
    if customer_id is not None:
        condition = and_(condition, disputes.c.customer_id == customer_id)
    return (
        select(disputes.c.invoice_id, func.min(disputes.c.opened_on).label("disputed_on"),
               case((func.bool_and(disputes.c.resolved_on.is_not(None)), func.max(disputes.c.resolved_on)),
                    else_=None).label("dispute_resolved_on"))
        .where(condition).group_by(disputes.c.invoice_id).subquery("dispute_summary")
    )


_TOUCHES_SQL = """
SELECT t.customer_id, t.sent_at, t.channel, t.opened, t.replied,
       EXISTS (SELECT 1 FROM {schema}.allocations a JOIN {schema}.invoices i ON i.invoice_id = a.invoice_id
               WHERE i.customer_id = t.customer_id AND NOT a.reversed
                 AND a.received_on BETWEEN (t.sent_at AT TIME ZONE 'UTC')::date
                                       AND (t.sent_at AT TIME ZONE 'UTC')::date + {days}) AS paid_after
FROM {schema}.touches t
WHERE t.tenant_id = :tenant AND t.sent_at IS NOT NULL {filter}
ORDER BY t.sent_at DESC LIMIT :limit
"""


async def touch_facts(session: AsyncSession, tenant_id: UUID, customer_id: UUID | None, limit: int = 5000) -> list[TouchFact]:
    """Touches with engagement = opened, clicked, replied, or paid within a week of the touch."""
    sql = _TOUCHES_SQL.format(schema=touches.schema, days=PAID_WITHIN_DAYS,
                              filter="AND t.customer_id = :customer" if customer_id else "")
    params = {"tenant": tenant_id, "limit": limit, **({"customer": customer_id} if customer_id else {})}
    result = await session.execute(text(sql), params)
    return [TouchFact(r.customer_id, r.sent_at.date(), r.channel, r.sent_at.hour,
                      bool(r.opened or r.replied or r.paid_after), bool(r.replied)) for r in result]


async def tenant_invoice_facts(session: AsyncSession, tenant_id: UUID, currency: str | None = None) -> list[InvoiceFact]:
    """Every invoice of a tenant with its customer's segment (training and forecasting)."""
    condition = invoices.c.tenant_id == tenant_id
    if currency:
        condition = and_(condition, invoices.c.currency == currency)
    summary = dispute_summary(tenant_id)
    result = await session.execute(
        select(invoices.c.invoice_id, invoices.c.customer_id, invoices.c.issue_date, invoices.c.due_date,
               invoices.c.amount_total, invoices.c.settled_on, func.coalesce(customers.c.segment, "default"),
               summary.c.disputed_on, summary.c.dispute_resolved_on)
        .select_from(invoices.outerjoin(customers, customers.c.customer_id == invoices.c.customer_id)
                     .outerjoin(summary, summary.c.invoice_id == invoices.c.invoice_id))
        .where(condition)
    )
    return [InvoiceFact(r[0], r[1], r[2], r[3], float(r[4]), r[5], r[6], r[7], r[8]) for r in result]


_COLUMNS_SQL = """
SELECT i.customer_id, coalesce(c.segment, 'default') AS segment,
       (i.issue_date - DATE '0001-01-01') + 1 AS issue,
       (i.due_date - DATE '0001-01-01') + 1 AS due,
       CASE WHEN i.settled_on IS NOT NULL THEN (greatest(i.settled_on, i.issue_date) - DATE '0001-01-01') + 1 END AS settled,
       round(i.amount_total * 100)::bigint AS cents,
       CASE WHEN d.disputed_on IS NOT NULL THEN (greatest(d.disputed_on, i.issue_date) - DATE '0001-01-01') + 1 END
         AS disputed,
       CASE WHEN d.disputed_on IS NOT NULL AND d.dispute_resolved_on IS NOT NULL
            THEN (greatest(d.dispute_resolved_on, d.disputed_on, i.issue_date) - DATE '0001-01-01') + 1 END AS resolved
FROM scoring.invoices i
LEFT JOIN scoring.customers c ON c.customer_id = i.customer_id
LEFT JOIN (SELECT invoice_id, min(opened_on) AS disputed_on,
                  CASE WHEN bool_and(resolved_on IS NOT NULL) THEN max(resolved_on) END AS dispute_resolved_on
           FROM scoring.disputes WHERE tenant_id = $1 AND opened_on IS NOT NULL AND invoice_id IS NOT NULL
           GROUP BY invoice_id) d ON d.invoice_id = i.invoice_id
WHERE i.tenant_id = $1 AND ($2::text IS NULL OR i.currency = $2::text)
"""


async def tenant_invoice_columns(session: AsyncSession, tenant_id: UUID, currency: str | None = None):
    """Every invoice of a tenant as ``InvoiceColumns`` (training): days as ordinals computed by Postgres,
    read through the driver, and no object per invoice (a million ``InvoiceFact`` cost ~10 s of CPU).
    The same clamps as ``InvoiceFact``: settled, disputed and resolved never before their predecessor."""
    import numpy as np

    from rapport_scoring.domain.feature_matrix import NEVER, InvoiceColumns

    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    records = await driver.fetch(_COLUMNS_SQL, tenant_id, currency)
    n = len(records)
    customers: dict = {}
    segments: dict[str, int] = {}

    def column(k: int) -> np.ndarray:
        return np.fromiter((NEVER if r[k] is None else r[k] for r in records), np.int64, n)

    return InvoiceColumns(
        customer=np.fromiter((customers.setdefault(r[0], len(customers)) for r in records), np.int64, n),
        segment=np.fromiter((segments.setdefault(r[1], len(segments)) for r in records), np.int64, n),
        segments=list(segments), issue=column(2), due=column(3), settled=column(4), cents=column(5),
        disputed=column(6), resolved=column(7), customer_index=customers,
    )


async def count_invoices(session: AsyncSession, tenant_id: UUID, *, settled_only: bool = False) -> int:
    condition = invoices.c.tenant_id == tenant_id
    if settled_only:
        condition = and_(condition, invoices.c.settled_on.is_not(None))
    return (await session.execute(select(func.count()).where(condition))).scalar_one()


async def count_allocated_payments(session: AsyncSession, tenant_id: UUID) -> int:
    return (await session.execute(
        select(func.count(func.distinct(allocations.c.payment_id))).where(allocations.c.tenant_id == tenant_id)
    )).scalar_one()


async def tenants(session: AsyncSession) -> list[UUID]:
    return [r[0] for r in await session.execute(select(invoices.c.tenant_id).distinct())]
