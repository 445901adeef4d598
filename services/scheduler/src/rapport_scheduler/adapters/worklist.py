"""SQL of the collector workspace: cases, tasks, timeline, tags, assignment rules, touchpoint history."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm


async def open_case(session: AsyncSession, row: dict[str, Any]) -> None:
    """A case keyed by the portal request it came from: the request delivered again opens nothing new."""
    await session.execute(insert(orm.cases).values(**row).on_conflict_do_nothing(index_elements=[orm.cases.c.case_id]))


async def close_cases(session: AsyncSession, tenant_id: UUID, customer_id: UUID, kind: str, status: str,
                      invoice_id: UUID | None = None) -> list[tuple[UUID, list[UUID]]]:
    k = orm.cases
    scope = and_(k.c.tenant_id == tenant_id, k.c.customer_id == customer_id, k.c.kind == kind, k.c.status.in_(("open", "approved")))
    if invoice_id is not None:
        scope = and_(scope, k.c.invoice_ids.contains([str(invoice_id)]))
    rows = await session.execute(update(k).where(scope).values(status=status).returning(k.c.case_id, k.c.invoice_ids))
    return [(r.case_id, [UUID(x) for x in r.invoice_ids]) for r in rows]


async def add_task(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(orm.tasks.insert().values(**row))


TIMELINE_COLUMNS = ("tenant_id", "customer_id", "at", "kind", "summary", "ref_id", "author")
# Prebuilt: a timeline line is written for many events (every message sent, reply, payment...).
ADD_TIMELINE = text(f"INSERT INTO scheduler.timeline ({', '.join(TIMELINE_COLUMNS)}) "
                    f"VALUES ({', '.join(':' + c for c in TIMELINE_COLUMNS)})")


async def add_timeline(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(ADD_TIMELINE, row)


async def open_tasks(session: AsyncSession, tenant_id: UUID, assignee: str | None = None, kind: str | None = None):
    t, c = orm.tasks, orm.customers
    query = (select(t, c.c.name.label("customer_name"), c.c.risk_band, c.c.broken_promises)
             .join(c, and_(c.c.tenant_id == t.c.tenant_id, c.c.customer_id == t.c.customer_id))
             .where(t.c.tenant_id == tenant_id, t.c.status == "open"))
    if assignee:
        query = query.where(t.c.assignee == assignee)
    if kind:
        query = query.where(t.c.kind == kind)
    return (await session.execute(query)).all()


async def balances(session: AsyncSession, tenant_id: UUID, customer_ids: list[UUID], today) -> dict[UUID, tuple[Any, int]]:
    i = orm.invoices
    rows = await session.execute(
        select(i.c.customer_id, func.sum(i.c.open_amount), func.min(i.c.due_date))
        .where(i.c.tenant_id == tenant_id, i.c.customer_id.in_(customer_ids), i.c.status.in_(("open", "partially_paid")))
        .group_by(i.c.customer_id))
    return {r[0]: (r[1], (today - r[2]).days) for r in rows}


async def get_task(session: AsyncSession, tenant_id: UUID, task_id: UUID):
    t = orm.tasks
    return (await session.execute(select(t).where(t.c.tenant_id == tenant_id, t.c.task_id == task_id).with_for_update())).first()


async def requested_plan_for(session: AsyncSession, tenant_id: UUID, customer_id: UUID,
                             invoice_ids: list[str]) -> UUID | None:
    """The requested payment plan a ``plan_review`` task is about (same customer, same invoices)."""
    p = orm.plans
    found = await session.execute(
        select(p.c.plan_id).where(p.c.tenant_id == tenant_id, p.c.customer_id == customer_id, p.c.status == "requested",
                                  p.c.invoice_ids == cast(invoice_ids, JSONB)).limit(1))
    return found.scalar()


async def close_task(session: AsyncSession, task_id: UUID, outcome: str, note: str | None, at: datetime) -> None:
    t = orm.tasks
    await session.execute(update(t).where(t.c.task_id == task_id).values(status="closed", outcome=outcome, note=note, closed_at=at))


async def close_customer_tasks(session: AsyncSession, tenant_id: UUID, customer_id: UUID, kinds: tuple[str, ...],
                               outcome: str, at: datetime) -> list[UUID]:
    t = orm.tasks
    rows = await session.execute(
        update(t).where(t.c.tenant_id == tenant_id, t.c.customer_id == customer_id, t.c.status == "open", t.c.kind.in_(kinds))
        .values(status="closed", outcome=outcome, closed_at=at).returning(t.c.task_id))
    return [r[0] for r in rows]


async def close_subject_tasks(session: AsyncSession, tenant_id: UUID, customer_id: UUID, kind: str,
                              subject_id: UUID, outcome: str, note: str | None, at: datetime,
                              unnamed_too: bool = False) -> list[UUID]:
    """Close the open ``kind`` tasks about ``subject_id`` (and, with ``unnamed_too``, those of the customer
    that name no subject: made before tasks had one)."""
    t = orm.tasks
    about = t.c.subject_id == subject_id
    if unnamed_too:
        about = about | t.c.subject_id.is_(None)
    rows = await session.execute(
        update(t).where(t.c.tenant_id == tenant_id, t.c.customer_id == customer_id, t.c.status == "open",
                        t.c.kind == kind, about)
        .values(status="closed", outcome=outcome, note=note, closed_at=at).returning(t.c.task_id))
    return [r[0] for r in rows]


# A touchpoint is its own timeline line (the ticker writes no timeline row for it: one row and two index
# entries fewer per touchpoint): "email 'overdue_firm' (firm) for INV-1, INV-2", the invoice numbers in the
# touchpoint's order. Touchpoints decided before that still have their written line (kind 'touchpoint',
# ref_id = the touchpoint) and are not listed twice. At one instant a touchpoint comes before the lines
# written with it (its tasks), as it did when it was written first.
TIMELINE = text("""
SELECT at, kind, summary, ref_id, author FROM (
  SELECT l.at, 1 AS src, l.id, l.kind, l.summary, l.ref_id, l.author
  FROM scheduler.timeline l WHERE l.tenant_id = :t AND l.customer_id = :c
  UNION ALL
  SELECT tp.decided_at, 0, 0, 'touchpoint',
    tp.channel || ' ''' || tp.template_key || ''' (' || tp.stage || ') for ' || coalesce((
      SELECT string_agg(i.number, ', ' ORDER BY e.n)
      FROM jsonb_array_elements_text(tp.invoice_ids) WITH ORDINALITY AS e(id, n)
      JOIN scheduler.invoices i ON i.tenant_id = tp.tenant_id AND i.invoice_id = CAST(e.id AS uuid)), ''),
    tp.touchpoint_id, NULL
  FROM scheduler.touchpoints tp
  WHERE tp.tenant_id = :t AND tp.customer_id = :c
    AND NOT EXISTS (SELECT 1 FROM scheduler.timeline w WHERE w.tenant_id = :t AND w.customer_id = :c
                    AND w.kind = 'touchpoint' AND w.ref_id = tp.touchpoint_id)
) lines ORDER BY at, src, id
""")


async def timeline(session: AsyncSession, tenant_id: UUID, customer_id: UUID):
    return (await session.execute(TIMELINE, {"t": tenant_id, "c": customer_id})).all()


async def get_customer(session: AsyncSession, tenant_id: UUID, customer_id: UUID):
    c = orm.customers
    return (await session.execute(select(c).where(c.c.tenant_id == tenant_id, c.c.customer_id == customer_id))).first()


async def get_invoice(session: AsyncSession, tenant_id: UUID, invoice_id: UUID):
    i = orm.invoices
    return (await session.execute(select(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id == invoice_id).with_for_update())).first()


async def set_invoice_tags(session: AsyncSession, tenant_id: UUID, invoice_id: UUID, tags: list[str]) -> None:
    i = orm.invoices
    await session.execute(update(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id == invoice_id).values(tags=tags))


async def list_invoices(session: AsyncSession, tenant_id: UUID, tag: str | None, customer_id: UUID | None):
    i = orm.invoices
    query = select(i).where(i.c.tenant_id == tenant_id)
    if tag:
        query = query.where(i.c.tags.contains([tag]))
    if customer_id:
        query = query.where(i.c.customer_id == customer_id)
    return (await session.execute(query.order_by(i.c.due_date, i.c.number).limit(1000))).all()


async def touchpoints(session: AsyncSession, tenant_id: UUID, customer_id: UUID | None):
    tp = orm.touchpoints
    query = select(tp).where(tp.c.tenant_id == tenant_id)
    if customer_id:
        query = query.where(tp.c.customer_id == customer_id)
    return (await session.execute(query.order_by(tp.c.send_day, tp.c.decided_at).limit(5000))).all()


async def add_rule(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(orm.assignment_rules.insert().values(**row))


async def rules(session: AsyncSession, tenant_id: UUID):
    r = orm.assignment_rules
    return (await session.execute(select(r).where(r.c.tenant_id == tenant_id).order_by(r.c.priority.desc()))).all()


async def assign_open_tasks(session: AsyncSession, tenant_id: UUID, customer_id: UUID, collector: str) -> None:
    t = orm.tasks
    await session.execute(update(t).where(t.c.tenant_id == tenant_id, t.c.customer_id == customer_id, t.c.status == "open")
                          .values(assignee=collector))


async def get_plan(session: AsyncSession, tenant_id: UUID, plan_id: UUID):
    p = orm.plans
    return (await session.execute(select(p).where(p.c.tenant_id == tenant_id, p.c.plan_id == plan_id).with_for_update())).first()


async def set_plan_status(session: AsyncSession, plan_id: UUID, status: str) -> None:
    await session.execute(update(orm.plans).where(orm.plans.c.plan_id == plan_id).values(status=status))
