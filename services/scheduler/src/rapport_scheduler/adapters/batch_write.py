"""Writing a batch's decisions with one statement per table (arrays + ``unnest``) and COPY for the outbox.

Every statement here takes column arrays, so its cost in round trips does not grow with the batch.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox

TOUCHPOINTS = text("""
INSERT INTO scheduler.touchpoints (touchpoint_id, tenant_id, customer_id, send_day, stage, channel, template_key,
  tone, policy_id, policy_version, invoice_ids, currency, total_open, send_not_before, send_not_after, decided_at)
SELECT u.id, u.t, u.c, u.day, u.stage, u.channel, u.template, u.tone, u.pid, u.pv, CAST(u.inv AS jsonb), u.cur,
  u.total, u.nb, u.na, u.at
FROM unnest(CAST(:id AS uuid[]), CAST(:t AS uuid[]), CAST(:c AS uuid[]), CAST(:day AS date[]),
  CAST(:stage AS text[]), CAST(:channel AS text[]), CAST(:template AS text[]), CAST(:tone AS text[]),
  CAST(:pid AS uuid[]), CAST(:pv AS int[]), CAST(:inv AS text[]), CAST(:cur AS text[]),
  CAST(:total AS numeric[]), CAST(:nb AS timestamptz[]), CAST(:na AS timestamptz[]), CAST(:at AS timestamptz[]))
  AS u(id, t, c, day, stage, channel, template, tone, pid, pv, inv, cur, total, nb, na, at)
""")

INVOICES = text("""
UPDATE scheduler.invoices i
SET stage_offset = u.off, stage = u.stage, promise_until = u.promise, last_touch_at = coalesce(u.touch, i.last_touch_at),
    policy_id = u.pid, policy_version = u.pv
FROM unnest(CAST(:t AS uuid[]), CAST(:id AS uuid[]), CAST(:off AS int[]), CAST(:stage AS text[]),
  CAST(:promise AS date[]), CAST(:touch AS timestamptz[]), CAST(:pid AS uuid[]), CAST(:pv AS int[]))
  AS u(t, id, off, stage, promise, touch, pid, pv)
WHERE i.tenant_id = u.t AND i.invoice_id = u.id
""")

CUSTOMERS = text("""
UPDATE scheduler.customers c
SET last_message_on = u.last, broken_promises = u.broken, policy_id = u.pid, policy_version = u.pv
FROM unnest(CAST(:t AS uuid[]), CAST(:id AS uuid[]), CAST(:last AS date[]), CAST(:broken AS int[]),
  CAST(:pid AS uuid[]), CAST(:pv AS int[])) AS u(t, id, last, broken, pid, pv)
WHERE c.tenant_id = u.t AND c.customer_id = u.id
  AND (c.last_message_on, c.broken_promises, c.policy_id, c.policy_version)
      IS DISTINCT FROM (u.last, u.broken, u.pid, u.pv)
""")

TIMERS = text("""
UPDATE scheduler.timers m SET due_at = u.due
FROM unnest(CAST(:t AS uuid[]), CAST(:id AS uuid[]), CAST(:due AS timestamptz[])) AS u(t, id, due)
WHERE m.tenant_id = u.t AND m.customer_id = u.id
""")

TASKS = text("""
INSERT INTO scheduler.tasks (task_id, tenant_id, customer_id, kind, reason, invoice_ids, status, assignee, created_at)
SELECT u.id, u.t, u.c, u.kind, u.reason, CAST(u.inv AS jsonb), 'open', u.assignee, u.at
FROM unnest(CAST(:id AS uuid[]), CAST(:t AS uuid[]), CAST(:c AS uuid[]), CAST(:kind AS text[]),
  CAST(:reason AS text[]), CAST(:inv AS text[]), CAST(:assignee AS text[]), CAST(:at AS timestamptz[]))
  AS u(id, t, c, kind, reason, inv, assignee, at)
""")

TIMELINE = text("""
INSERT INTO scheduler.timeline (tenant_id, customer_id, at, kind, summary, ref_id, author)
SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:c AS uuid[]), CAST(:at AS timestamptz[]), CAST(:kind AS text[]),
  CAST(:summary AS text[]), CAST(:ref AS uuid[]), CAST(:author AS text[]))
""")

PLANS = text("""
UPDATE scheduler.plans p SET instalments = CAST(u.inst AS jsonb)
FROM unnest(CAST(:t AS uuid[]), CAST(:id AS uuid[]), CAST(:inst AS text[])) AS u(t, id, inst)
WHERE p.tenant_id = u.t AND p.plan_id = u.id
""")

OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "lane", "key", "value")


class Columns:
    """Rows of one statement kept as one list per column (what ``unnest`` takes)."""

    def __init__(self, *names: str) -> None:
        self.data: dict[str, list[Any]] = {n: [] for n in names}

    def add(self, *values: Any) -> None:
        for column, value in zip(self.data.values(), values, strict=True):
            column.append(value)

    def __len__(self) -> int:
        return len(next(iter(self.data.values())))


def as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def run(session: AsyncSession, statement: Any, columns: Columns) -> None:
    if len(columns):
        await session.execute(statement, columns.data)


async def copy_outbox(session: AsyncSession, outbox: Outbox, records: list[tuple]) -> None:
    """COPY the batch's events (rows of ``OUTBOX_COLUMNS``) into the outbox on this transaction's connection."""
    if not records:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(
        outbox.table.name, schema_name=outbox.table.schema, columns=list(OUTBOX_COLUMNS), records=records)
