"""Writes of the read model the scheduler keeps from other services' events (snapshots, newest wins)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import and_, case, func, literal, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm

Session = AsyncSession


async def lock_customer(session: Session, tenant_id: UUID, customer_id: UUID) -> timedelta:
    """Take the customer's timer row lock first, in the same order as the ticker (no deadlocks).

    Returns the clock's offset read in the same statement, so a handler needs no extra round trip for "now".
    """
    t, clock = orm.timers, orm.clock
    offset = select(clock.c.offset_seconds).where(clock.c.id == 1).scalar_subquery()
    result = await session.execute(
        insert(t).values(tenant_id=tenant_id, customer_id=customer_id, due_at=None)
        .on_conflict_do_update(index_elements=[t.c.tenant_id, t.c.customer_id], set_={"due_at": t.c.due_at})
        .returning(offset)
    )
    return timedelta(seconds=result.scalar() or 0.0)


# Tickers LISTEN here: a consumer that makes a customer due notifies it (delivered when its transaction
# commits, once per transaction), so the decision does not wait for the next poll.
DUE_CHANNEL = "scheduler_due"

CLAIM_CUSTOMER = text("""
WITH clk AS (SELECT offset_seconds FROM scheduler.clock WHERE id = 1),
placeholder AS (
  INSERT INTO scheduler.customers (tenant_id, customer_id, name, version)
  VALUES (:t, :c, '(unknown customer)', 0) ON CONFLICT DO NOTHING)
INSERT INTO scheduler.timers AS m (tenant_id, customer_id, due_at, cause_id, correlation_id)
VALUES (:t, :c, CASE WHEN :due THEN CAST(:wall AS timestamptz) + make_interval(secs => (SELECT offset_seconds FROM clk)) END,
        :cause, :correlation)
ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
  due_at = CASE WHEN :due THEN excluded.due_at ELSE m.due_at END,
  cause_id = CASE WHEN :due THEN excluded.cause_id ELSE m.cause_id END,
  correlation_id = CASE WHEN :due THEN excluded.correlation_id ELSE m.correlation_id END
RETURNING (SELECT offset_seconds FROM clk), (SELECT pg_notify(:channel, '') WHERE :due)
""")


async def claim_customer(session: Session, tenant_id: UUID, customer_id: UUID, wall: datetime, due: bool,
                         cause_id: UUID, correlation_id: UUID) -> timedelta:
    """What an event needs first, in one statement: the customer's timer row lock (the ticker's order, so
    no deadlocks), a placeholder customer if the event came before it (different topics), the clock's
    offset, and — when the event can change the plan — the timer made due now with the event as cause
    (and the tickers notified)."""
    result = await session.execute(CLAIM_CUSTOMER, {"t": tenant_id, "c": customer_id, "wall": wall, "due": due,
                                                    "channel": DUE_CHANNEL,
                                                    "cause": cause_id if due else None,
                                                    "correlation": correlation_id if due else None})
    return timedelta(seconds=result.scalar() or 0.0)


async def mark_due(session: Session, tenant_id: UUID, customer_id: UUID, now: datetime,
                   cause_id: UUID | None, correlation_id: UUID | None) -> None:
    """Make the customer's timer due now; the ticker decides for every due customer in batches."""
    t = orm.timers
    await session.execute(
        update(t).where(t.c.tenant_id == tenant_id, t.c.customer_id == customer_id)
        .values(due_at=now, cause_id=cause_id, correlation_id=correlation_id))


CUSTOMER_COLUMNS = ("tenant_id", "customer_id", "name", "external_id", "country", "region", "industry", "size", "tags",
                    "time_zone", "locale", "currency", "collector", "collector_email", "account_executive",
                    "customer_success", "version")
_CUSTOMER_VALUES = {"tags": "CAST(:tags AS jsonb)",
                    # no collector in the snapshot: the first assignment rule (by priority) that matches
                    "collector": "CASE WHEN CAST(:collector AS text) IS NULL THEN (SELECT collector FROM rule) "
                                 "ELSE CAST(:collector AS text) END",
                    "collector_email": "CASE WHEN CAST(:collector AS text) IS NULL THEN (SELECT collector_email FROM rule) "
                                       "ELSE CAST(:collector_email AS text) END"}
_MANUAL = ("collector", "collector_email")  # kept when a person assigned the customer by hand
# Prebuilt, like the invoice upsert: building this construct per event cost more than running it.
UPSERT_CUSTOMER = text(
    "WITH rule AS (SELECT r.collector, r.collector_email FROM scheduler.assignment_rules r "
    "WHERE r.tenant_id = :tenant_id AND (r.region IS NULL OR r.region = CAST(:region AS text)) "
    "AND (r.size IS NULL OR r.size = CAST(:size AS text)) AND (r.industry IS NULL OR r.industry = CAST(:industry AS text)) "
    "ORDER BY r.priority DESC LIMIT 1) "
    f"INSERT INTO scheduler.customers AS c ({', '.join(CUSTOMER_COLUMNS)}) "
    f"VALUES ({', '.join(_CUSTOMER_VALUES.get(k, ':' + k) for k in CUSTOMER_COLUMNS)}) "
    "ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
    + ", ".join(f"{k} = CASE WHEN c.collector_manual THEN c.{k} ELSE excluded.{k} END" if k in _MANUAL
                else f"{k} = excluded.{k}" for k in CUSTOMER_COLUMNS[2:])
    + " WHERE c.version <= excluded.version RETURNING 1")  # an older snapshot never wins


async def upsert_customer(session: Session, row: dict[str, Any]) -> bool:
    """Newest snapshot wins, except a collector a person assigned by hand. A snapshot without a collector
    gets the one the tenant's assignment rules name (by region, size, industry; highest priority first)."""
    params = dict(row, tags=json.dumps(list(row.get("tags") or [])))
    return (await session.execute(UPSERT_CUSTOMER, params)).first() is not None


CONTACT_COLUMNS = ("tenant_id", "contact_id", "customer_id", "name", "email", "phone", "preferred_channel", "locale",
                   "time_zone", "role", "is_primary", "consent_email", "consent_sms", "opted_out", "active", "version")
UPSERT_CONTACT = text(
    f"INSERT INTO scheduler.contacts AS x ({', '.join(CONTACT_COLUMNS)}) "
    f"VALUES ({', '.join('CAST(:opted_out AS jsonb)' if k == 'opted_out' else ':' + k for k in CONTACT_COLUMNS)}) "
    "ON CONFLICT (tenant_id, contact_id) DO UPDATE SET "
    + ", ".join(f"{k} = excluded.{k}" for k in CONTACT_COLUMNS[2:])
    + " WHERE x.version <= excluded.version RETURNING 1")  # an older snapshot never wins


async def upsert_contact(session: Session, row: dict[str, Any]) -> bool:
    params = dict(row, opted_out=json.dumps(list(row.get("opted_out") or [])))
    return (await session.execute(UPSERT_CONTACT, params)).first() is not None


INVOICE_COLUMNS = ("tenant_id", "invoice_id", "customer_id", "number", "issue_date", "due_date", "currency",
                   "amount_total", "open_amount", "status", "pdf_url", "version")
# Prebuilt: the hottest statement of the consumer (one per invoice event) skips building a construct per call.
UPSERT_INVOICE = text(
    f"INSERT INTO scheduler.invoices ({', '.join(INVOICE_COLUMNS)}) VALUES ({', '.join(':' + c for c in INVOICE_COLUMNS)}) "
    "ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in INVOICE_COLUMNS[2:])
    + " WHERE scheduler.invoices.version <= excluded.version RETURNING 1")  # an older snapshot never wins


async def upsert_invoice(session: Session, row: dict[str, Any]) -> bool:
    return (await session.execute(UPSERT_INVOICE, row)).first() is not None


# The consumer's hottest event (an invoice snapshot) in ONE round trip: the customer's timer row is locked
# first (the invoice upsert reads its row from the timer upsert, so it cannot run before it: the ticker's
# lock order), a placeholder customer is made if the invoice came first, the timer is made due now with
# the event as its cause, the snapshot is upserted (newest version wins) and the clock offset comes back.
INVOICE_EVENT = f"""
WITH clk AS (SELECT offset_seconds FROM scheduler.clock WHERE id = 1),
placeholder AS (
  INSERT INTO scheduler.customers (tenant_id, customer_id, name, version)
  VALUES ($1, $2, '(unknown customer)', 0) ON CONFLICT DO NOTHING),
tmr AS (
  INSERT INTO scheduler.timers AS m (tenant_id, customer_id, due_at, cause_id, correlation_id)
  VALUES ($1, $2, CAST($3 AS timestamptz) + make_interval(secs => (SELECT offset_seconds FROM clk)), $4, $5)
  ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
    due_at = excluded.due_at, cause_id = excluded.cause_id, correlation_id = excluded.correlation_id
  RETURNING m.tenant_id, m.customer_id),
inv AS (
  INSERT INTO scheduler.invoices AS i ({', '.join(INVOICE_COLUMNS)})
  SELECT tmr.tenant_id, CAST($6 AS uuid), tmr.customer_id, CAST($7 AS text), CAST($8 AS date), CAST($9 AS date),
    CAST($10 AS text), CAST($11 AS numeric), CAST($12 AS numeric), CAST($13 AS text), CAST($14 AS text),
    CAST($15 AS int)
  FROM tmr
  ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in INVOICE_COLUMNS[2:])}
  WHERE i.version <= excluded.version  -- an older snapshot never wins
  RETURNING 1)
SELECT (SELECT offset_seconds FROM clk), (SELECT count(*) FROM inv), pg_notify('{DUE_CHANNEL}', '')
"""


async def invoice_event(session: Session, tenant_id: UUID, e: Any, wall: datetime, cause_id: UUID,
                        correlation_id: UUID) -> tuple[timedelta, bool]:
    """Record an invoice snapshot and make its customer due, in one statement; returns (clock offset, applied).

    Runs on the session's own connection and transaction, straight through the driver: this is the one
    statement per invoice event, and the ORM layer around it cost more CPU than the statement itself.
    """
    driver = await _driver(session)
    try:
        offset, applied, _ = await driver.fetchrow(
            INVOICE_EVENT, tenant_id, e.customer_id, wall, cause_id, correlation_id, e.invoice_id, e.number,
            e.issue_date, e.due_date, e.currency, e.amount_total, e.open_amount, e.status, e.pdf_url, e.version)
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise driver_error(INVOICE_EVENT, exc) from exc
    return timedelta(seconds=offset or 0.0), bool(applied)


async def _driver(session: Session) -> asyncpg.Connection:
    """The driver connection under the session's transaction, looked up once per transaction (a consumer
    batch runs hundreds of events in one)."""
    cached = session.info.get("rapport_driver")
    transaction = session.sync_session.get_transaction()
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    session.info["rapport_driver"] = (session.sync_session.get_transaction(), driver)
    return driver


def driver_error(statement: str, exc: Exception) -> DBAPIError:
    """The error SQLAlchemy would have raised for a driver error, so the consumer classifies it the same way:
    deadlocks and serialisation failures (by SQLSTATE) and lost connections retry the batch, anything else
    is the record's own failure."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, asyncpg.InterfaceError) or sqlstate[:2] in _OPERATIONAL_CLASSES:
        return OperationalError(statement, None, exc)
    return DBAPIError(statement, None, exc)


# SQLSTATE classes of an unavailable server: connection exception, insufficient resources, operator
# intervention (shutdown, crash recovery), system error.
_OPERATIONAL_CLASSES = frozenset({"08", "53", "57", "58"})


async def customer_exists(session: Session, tenant_id: UUID, customer_id: UUID) -> bool:
    c = orm.customers
    found = await session.execute(select(literal(1)).where(c.c.tenant_id == tenant_id, c.c.customer_id == customer_id))
    return found.first() is not None


async def apply_allocation(session: Session, tenant_id: UUID, invoice_id: UUID, amount: Decimal) -> None:
    i = orm.invoices
    remaining = func.greatest(i.c.open_amount - amount, 0)
    await session.execute(
        update(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id == invoice_id)
        .values(open_amount=remaining, status=case((remaining == 0, "paid"), (i.c.status == "paid", "partially_paid"), else_=i.c.status))
    )


async def update_invoices(session: Session, tenant_id: UUID, invoice_ids: list[UUID], **values: Any) -> None:
    i = orm.invoices
    if invoice_ids:
        await session.execute(update(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id.in_(invoice_ids)).values(**values))


async def update_customer(session: Session, tenant_id: UUID, customer_id: UUID, **values: Any) -> None:
    c = orm.customers
    await session.execute(update(c).where(c.c.tenant_id == tenant_id, c.c.customer_id == customer_id).values(**values))


async def suppress_channel(session: Session, tenant_id: UUID, customer_id: UUID, contact_id: UUID | None,
                           channel: str) -> None:
    """Add an opt-out to the contact (or every contact of the customer when none is named)."""
    k = orm.contacts
    scope = and_(k.c.tenant_id == tenant_id, k.c.customer_id == customer_id)
    if contact_id is not None:
        scope = and_(scope, k.c.contact_id == contact_id)
    added = func.jsonb_build_array(channel)
    await session.execute(update(k).where(scope, ~k.c.opted_out.contains(added)).values(opted_out=k.c.opted_out.op("||")(added)))


async def set_contact_preferences(session: Session, tenant_id: UUID, customer_id: UUID, contact_id: UUID | None,
                                  values: dict[str, Any]) -> None:
    k = orm.contacts
    scope = and_(k.c.tenant_id == tenant_id, k.c.customer_id == customer_id)
    if contact_id is not None:
        scope = and_(scope, k.c.contact_id == contact_id)
    await session.execute(update(k).where(scope).values(**values))
