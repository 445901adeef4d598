"""One statement that claims due timers (or takes given keys) and loads everything the engine needs.

Contacts and open invoices come back aggregated per customer as arrays of records (decoded by the
driver into typed tuples, nothing to parse), active plans as compact JSON, so a batch of any size
costs one round trip and one row per customer. The policy stamp (how many
policy rows the tenant has; policies are insert-only) lets the planner keep policies cached
until one changes.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters.portfolio import Portfolio
from rapport_scheduler.domain.model import Contact, Customer, Instalment, Invoice, Plan

Key = tuple[UUID, UUID]

CLAIMED = """
keys AS MATERIALIZED (
  SELECT t.tenant_id, t.customer_id, t.cause_id, t.correlation_id FROM scheduler.timers t
  WHERE t.due_at <= CAST(:wall AS timestamptz)
                    + make_interval(secs => (SELECT offset_seconds FROM scheduler.clock WHERE id = 1))
  ORDER BY t.due_at LIMIT :limit FOR UPDATE SKIP LOCKED)"""

GIVEN = """
keys AS MATERIALIZED (
  SELECT k.*, CAST(NULL AS uuid) AS cause_id, CAST(NULL AS uuid) AS correlation_id
  FROM unnest(CAST(:tenants AS uuid[]), CAST(:customers AS uuid[])) AS k(tenant_id, customer_id))"""

BODY = """,
stamps AS (
  SELECT p.tenant_id, count(*) AS n FROM scheduler.policies p
  WHERE p.tenant_id IN (SELECT DISTINCT tenant_id FROM keys) GROUP BY p.tenant_id)
-- Read by position (see ``_batch``). Records come back natively typed (no JSON text to parse, UUIDs in
-- the driver's fast type), their fields in the order of the engine's dataclasses.
SELECT k.tenant_id, k.customer_id, k.cause_id, k.correlation_id,
  coalesce(s.n, 0) AS policy_stamp, ts.quiet_start, ts.quiet_end,
  (SELECT offset_seconds FROM scheduler.clock WHERE id = 1) AS clock_offset,
  CASE WHEN c.customer_id IS NOT NULL THEN
    ROW(c.customer_id, c.name, c.external_id, c.country, c.region, c.industry, c.size, c.tags::text, c.time_zone,
        c.locale, c.risk_band, c.hold, c.last_message_on, c.replied_at, c.broken_promises, c.collector,
        c.collector_email) END AS customer_row,
  c.policy_override,
  (SELECT array_agg(ROW(x.contact_id, x.name, x.email, x.phone, x.preferred_channel, x.locale, x.time_zone,
            x.role, x.is_primary, x.consent_email, x.consent_sms, x.opted_out::text, x.active)
          ORDER BY NOT x.is_primary, x.name)
     FROM scheduler.contacts x WHERE x.tenant_id = k.tenant_id AND x.customer_id = k.customer_id) AS contacts_rows,
  (SELECT array_agg(ROW(i.invoice_id, i.number, i.issue_date, i.due_date, i.currency, i.amount_total,
            i.open_amount, i.status, i.stage_offset, i.disputed, i.promise_until, i.plan_id, i.pdf_url)
          ORDER BY i.due_date, i.number)
     FROM scheduler.invoices i WHERE i.tenant_id = k.tenant_id AND i.customer_id = k.customer_id
      AND i.status IN ('open', 'partially_paid')) AS invoices_rows,
  (SELECT json_agg(json_build_array(p.plan_id, p.invoice_ids, p.currency, p.instalments))
     FROM scheduler.plans p WHERE p.tenant_id = k.tenant_id AND p.customer_id = k.customer_id
      AND p.status = 'active')::text AS plans_json
FROM keys k
LEFT JOIN scheduler.customers c ON c.tenant_id = k.tenant_id AND c.customer_id = k.customer_id
LEFT JOIN stamps s ON s.tenant_id = k.tenant_id
LEFT JOIN scheduler.tenant_settings ts ON ts.tenant_id = k.tenant_id
"""

CLAIM_AND_LOAD = text("WITH" + CLAIMED + BODY)

# A ticker batch joins ~500 keys (column arrays, ``unnest``) to customers, invoices and timers by primary key.
# Costed as a hash join, the planner reads every row of those tables per batch (a sequential scan that also
# prunes the page versions the previous batches left, and grows with the portfolio: 28 ms of a 500-row
# batch's invoice update at 10,000 invoices, against 3 ms through the index); these joins are only ever
# key lookups, so the ticker's transaction plans them as index nested loops. Transaction-local.
INDEX_LOOKUPS = text("SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)")
LOAD_KEYS = text("WITH" + GIVEN + BODY)


class Cause(NamedTuple):
    """The event that made a customer due (what an envelope's causation needs of it)."""

    id: UUID
    correlation_id: UUID


class Batch:
    """What one statement returned: the keys (claimed or given), portfolios, causes, policy stamps, clock offset."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.causes: dict[Key, Cause] = {}
        self.portfolios: dict[Key, Portfolio] = {}
        self.stamps: dict[UUID, int] = {}
        self.quiet_hours: dict[UUID, tuple[time, time]] = {}  # tenants that set their own
        self.clock_offset: float = 0.0


async def claim_and_load(session: AsyncSession, wall: datetime, limit: int) -> Batch:
    """Lock up to ``limit`` due timers no other ticker holds (until this transaction ends) and load them.

    The rest of the transaction (this statement and the batch's write) joins by key only (``INDEX_LOOKUPS``).
    """
    await session.execute(INDEX_LOOKUPS)
    return _batch(await session.execute(CLAIM_AND_LOAD, {"wall": wall, "limit": limit}))


async def load(session: AsyncSession, keys: list[Key]) -> Batch:
    if not keys:
        return Batch()
    args = {"tenants": [k[0] for k in keys], "customers": [k[1] for k in keys]}
    return _batch(await session.execute(LOAD_KEYS, args))


def _batch(rows: Any) -> Batch:
    batch = Batch()
    keys, causes, stamps, portfolios = batch.keys, batch.causes, batch.stamps, batch.portfolios
    for (tenant, customer_id, cause, correlation, stamp, quiet_start, quiet_end, clock_offset, customer, override,
         contacts, invoices, plans) in rows:
        key = (tenant, customer_id)
        keys.append(key)
        if cause is not None:
            causes[key] = Cause(cause, correlation or cause)
        stamps[tenant] = stamp
        if quiet_start is not None:
            batch.quiet_hours[tenant] = (quiet_start, quiet_end)
        batch.clock_offset = clock_offset or 0.0
        if customer is None:
            continue  # a timer without a customer row: nothing to decide, the timer goes idle
        portfolio = Portfolio(tenant, _customer(customer), override)
        if contacts:
            portfolio.customer.contacts = [_contact(c) for c in contacts]
        if invoices:
            portfolio.invoices = [Invoice(*i) for i in invoices]
        if plans:
            portfolio.plans = [_plan(p) for p in _json(plans)]
        portfolios[key] = portfolio
    return batch


def _customer(c: tuple) -> Customer:
    tags = c[7]
    return Customer(c[0], c[1], c[2], c[3], c[4], c[5], c[6], [] if tags == "[]" else json.loads(tags), c[8], c[9],
                    c[10], c[11], c[12], c[13], c[14], c[15], c[16])


def _json(raw: str | None) -> list:
    return json.loads(raw, parse_float=Decimal) if raw else []


NO_OPT_OUTS: frozenset[str] = frozenset()


def _contact(c: tuple) -> Contact:
    opted_out = c[11]
    return Contact(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10],
                   NO_OPT_OUTS if opted_out == "[]" else frozenset(json.loads(opted_out)), c[12])


def _plan(p: list) -> Plan:
    instalments = [Instalment(date.fromisoformat(x["due_date"]), Decimal(str(x["amount"])), x.get("reminded", False))
                   for x in p[3]]
    return Plan(UUID(p[0]), [UUID(x) for x in p[1]], p[2], instalments)
