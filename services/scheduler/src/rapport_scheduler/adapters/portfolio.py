"""Loading customers' portfolios for the engine and saving what it decided, in bulk (all SQL here)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm
from rapport_scheduler.domain.model import OPEN_STATUSES, Contact, Customer, Instalment, Invoice, Plan

Key = tuple[UUID, UUID]


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Key]:
    """Due timers no other ticker holds; the locks last until this transaction ends."""
    t = orm.timers
    rows = await session.execute(
        select(t.c.tenant_id, t.c.customer_id).where(t.c.due_at <= now).order_by(t.c.due_at)
        .limit(limit).with_for_update(skip_locked=True)
    )
    return [(r.tenant_id, r.customer_id) for r in rows]


async def set_timers(session: AsyncSession, wakes: dict[Key, datetime | None]) -> None:
    if not wakes:
        return
    t = orm.timers
    await session.execute(
        update(t).where(t.c.tenant_id == bindparam("k_tenant"), t.c.customer_id == bindparam("k_customer"))
        .values(due_at=bindparam("k_due")),
        [{"k_tenant": k[0], "k_customer": k[1], "k_due": due} for k, due in wakes.items()],
    )


def _customer(row: Any) -> Customer:
    return Customer(
        customer_id=row.customer_id, name=row.name, external_id=row.external_id, country=row.country,
        region=row.region, industry=row.industry, size=row.size, tags=list(row.tags or []),
        time_zone=row.time_zone, locale=row.locale, risk_band=row.risk_band, hold=row.hold,
        last_message_on=row.last_message_on, replied_at=row.replied_at, broken_promises=row.broken_promises,
        collector=row.collector, collector_email=row.collector_email,
    )


def _contact(row: Any) -> Contact:
    return Contact(row.contact_id, row.name, row.email, row.phone, row.preferred_channel, row.locale,
                   row.time_zone, row.role, row.is_primary, row.consent_email, row.consent_sms,
                   frozenset(row.opted_out or []), row.active)


def _invoice(row: Any) -> Invoice:
    return Invoice(row.invoice_id, row.number, row.issue_date, row.due_date, row.currency, row.amount_total,
                   row.open_amount, row.status, row.stage_offset, row.disputed, row.promise_until, row.plan_id,
                   row.pdf_url)


def _plan(row: Any) -> Plan:
    instalments = [Instalment(date.fromisoformat(i["due_date"]), Decimal(i["amount"]), i.get("reminded", False))
                   for i in row.instalments]
    return Plan(row.plan_id, [UUID(x) for x in row.invoice_ids], row.currency, instalments)


class Portfolio:
    def __init__(self, tenant_id: UUID, customer: Customer, policy_override: UUID | None) -> None:
        self.tenant_id = tenant_id
        self.customer = customer
        self.policy_override = policy_override
        self.invoices: list[Invoice] = []
        self.plans: list[Plan] = []


async def load(session: AsyncSession, keys: list[Key]) -> dict[Key, Portfolio]:
    if not keys:
        return {}
    c, k, i, p = orm.customers, orm.contacts, orm.invoices, orm.plans
    found: dict[Key, Portfolio] = {}
    for row in await session.execute(select(c).where(tuple_(c.c.tenant_id, c.c.customer_id).in_(keys))):
        found[(row.tenant_id, row.customer_id)] = Portfolio(row.tenant_id, _customer(row), row.policy_override)
    for row in await session.execute(select(k).where(tuple_(k.c.tenant_id, k.c.customer_id).in_(keys))):
        if (key := (row.tenant_id, row.customer_id)) in found:
            found[key].customer.contacts.append(_contact(row))
    open_invoices = select(i).where(tuple_(i.c.tenant_id, i.c.customer_id).in_(keys), i.c.status.in_(OPEN_STATUSES))
    for row in await session.execute(open_invoices.order_by(i.c.due_date, i.c.number)):
        if (key := (row.tenant_id, row.customer_id)) in found:
            found[key].invoices.append(_invoice(row))
    active_plans = select(p).where(tuple_(p.c.tenant_id, p.c.customer_id).in_(keys), p.c.status == "active")
    for row in await session.execute(active_plans):
        if (key := (row.tenant_id, row.customer_id)) in found:
            found[key].plans.append(_plan(row))
    for portfolio in found.values():
        portfolio.customer.contacts.sort(key=lambda x: (not x.is_primary, x.name))
    return found


async def executemany(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(statement, rows)


def invoice_stage_update() -> Any:
    i = orm.invoices
    return (update(i).where(i.c.tenant_id == bindparam("k_tenant"), i.c.invoice_id == bindparam("k_invoice"))
            .values(stage_offset=bindparam("k_offset"), stage=bindparam("k_stage"),
                    promise_until=bindparam("k_promise"), last_touch_at=bindparam("k_touch"),
                    policy_id=bindparam("k_policy"), policy_version=bindparam("k_version")))


def customer_update() -> Any:
    c = orm.customers
    return (update(c).where(c.c.tenant_id == bindparam("k_tenant"), c.c.customer_id == bindparam("k_customer"))
            .values(last_message_on=bindparam("k_last"), broken_promises=bindparam("k_broken"),
                    policy_id=bindparam("k_policy"), policy_version=bindparam("k_version")))


def plan_update() -> Any:
    p = orm.plans
    return (update(p).where(p.c.tenant_id == bindparam("k_tenant"), p.c.plan_id == bindparam("k_plan"))
            .values(instalments=bindparam("k_instalments")))


def plan_instalments_json(plan: Plan) -> list[dict[str, Any]]:
    return [{"due_date": i.due_date.isoformat(), "amount": format(i.amount, "f"), "reminded": i.reminded}
            for i in plan.instalments]


async def insert_rows(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(table.insert(), rows)


async def schedule_now(session: AsyncSession, keys: list[Key], now: datetime) -> None:
    await set_timers(session, {key: now for key in keys})


async def open_balance_by_customer(session: AsyncSession, tenant_id: UUID) -> dict[UUID, Decimal]:
    rows = await session.execute(text(
        "SELECT customer_id, sum(open_amount) FROM scheduler.invoices "
        "WHERE tenant_id = :t AND status IN ('open', 'partially_paid') GROUP BY customer_id"), {"t": tenant_id})
    return defaultdict(Decimal, {r[0]: r[1] for r in rows})
