"""Writing a batch's decisions in one statement: a data-modifying CTE per table, fed by column arrays.

Whatever the batch size (one event's customer or 500 claimed timers) the touchpoints, invoice
stages, customers, plans, tasks, timeline, next wake-ups and outbox rows go to the server in a
single round trip; each CTE touches a different table, so they cannot step on each other.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import packed_rows

WRITE_ALL = text("""
WITH
tp AS (
  INSERT INTO scheduler.touchpoints (touchpoint_id, tenant_id, customer_id, send_day, stage, channel, template_key,
    tone, policy_id, policy_version, invoice_ids, currency, total_open, send_not_before, send_not_after, decided_at)
  SELECT u.id, u.t, u.c, u.day, u.stage, u.channel, u.template, u.tone, u.pid, u.pv, CAST(u.inv AS jsonb), u.cur,
    u.total, u.nb, u.na, CAST(:now AS timestamptz)
  FROM unnest(CAST(:tp_id AS uuid[]), CAST(:tp_t AS uuid[]), CAST(:tp_c AS uuid[]), CAST(:tp_day AS date[]),
    CAST(:tp_stage AS text[]), CAST(:tp_channel AS text[]), CAST(:tp_template AS text[]), CAST(:tp_tone AS text[]),
    CAST(:tp_pid AS uuid[]), CAST(:tp_pv AS int[]), CAST(:tp_inv AS text[]), CAST(:tp_cur AS text[]),
    CAST(:tp_total AS numeric[]), CAST(:tp_nb AS timestamptz[]), CAST(:tp_na AS timestamptz[]))
    AS u(id, t, c, day, stage, channel, template, tone, pid, pv, inv, cur, total, nb, na)
  RETURNING 1),
inv AS (
  UPDATE scheduler.invoices i
  SET stage_offset = u.off, stage = u.stage, promise_until = u.promise,
      last_touch_at = CASE WHEN u.touched THEN CAST(:now AS timestamptz) ELSE i.last_touch_at END,
      policy_id = u.pid, policy_version = u.pv
  FROM unnest(CAST(:inv_t AS uuid[]), CAST(:inv_id AS uuid[]), CAST(:inv_off AS int[]), CAST(:inv_stage AS text[]),
    CAST(:inv_promise AS date[]), CAST(:inv_touched AS boolean[]), CAST(:inv_pid AS uuid[]),
    CAST(:inv_pv AS int[])) AS u(t, id, off, stage, promise, touched, pid, pv)
  WHERE i.tenant_id = u.t AND i.invoice_id = u.id
  RETURNING 1),
cus AS (
  UPDATE scheduler.customers c
  SET last_message_on = u.last, broken_promises = u.broken, policy_id = u.pid, policy_version = u.pv
  FROM unnest(CAST(:cus_t AS uuid[]), CAST(:cus_id AS uuid[]), CAST(:cus_last AS date[]), CAST(:cus_broken AS int[]),
    CAST(:cus_pid AS uuid[]), CAST(:cus_pv AS int[])) AS u(t, id, last, broken, pid, pv)
  WHERE c.tenant_id = u.t AND c.customer_id = u.id
    AND (c.last_message_on, c.broken_promises, c.policy_id, c.policy_version)
        IS DISTINCT FROM (u.last, u.broken, u.pid, u.pv)
  RETURNING 1),
pln AS (
  UPDATE scheduler.plans p SET instalments = CAST(u.inst AS jsonb)
  FROM unnest(CAST(:pln_t AS uuid[]), CAST(:pln_id AS uuid[]), CAST(:pln_inst AS text[])) AS u(t, id, inst)
  WHERE p.tenant_id = u.t AND p.plan_id = u.id
  RETURNING 1),
tsk AS (
  INSERT INTO scheduler.tasks (task_id, tenant_id, customer_id, kind, reason, invoice_ids, status, assignee, created_at)
  SELECT u.id, u.t, u.c, u.kind, u.reason, CAST(u.inv AS jsonb), 'open', u.assignee, CAST(:now AS timestamptz)
  FROM unnest(CAST(:tsk_id AS uuid[]), CAST(:tsk_t AS uuid[]), CAST(:tsk_c AS uuid[]), CAST(:tsk_kind AS text[]),
    CAST(:tsk_reason AS text[]), CAST(:tsk_inv AS text[]), CAST(:tsk_assignee AS text[]))
    AS u(id, t, c, kind, reason, inv, assignee)
  RETURNING 1),
tl AS (
  INSERT INTO scheduler.timeline (tenant_id, customer_id, at, kind, summary, ref_id, author)
  SELECT u.t, u.c, CAST(:now AS timestamptz), u.kind, u.summary, u.ref, NULL
  FROM unnest(CAST(:tl_t AS uuid[]), CAST(:tl_c AS uuid[]), CAST(:tl_kind AS text[]), CAST(:tl_summary AS text[]),
    CAST(:tl_ref AS uuid[])) AS u(t, c, kind, summary, ref)
  RETURNING 1),
tmr AS (
  UPDATE scheduler.timers m SET due_at = u.due, cause_id = NULL, correlation_id = NULL
  FROM unnest(CAST(:tmr_t AS uuid[]), CAST(:tmr_id AS uuid[]), CAST(:tmr_due AS timestamptz[])) AS u(t, id, due)
  WHERE m.tenant_id = u.t AND m.customer_id = u.id
  RETURNING 1),
obx AS (
  INSERT INTO scheduler.outbox (event_id, event_type, topic, lane, key, value)
  SELECT * FROM unnest(CAST(:obx_id AS uuid[]), CAST(:obx_type AS text[]), CAST(:obx_topic AS text[]),
    CAST(:obx_lane AS smallint[]), CAST(:obx_key AS bytea[]), CAST(:obx_value AS bytea[]))
  RETURNING 1)
SELECT (SELECT count(*) FROM tp), (SELECT count(*) FROM tmr), (SELECT count(*) FROM obx)
""")

COLUMNS = {
    "tp": ("id", "t", "c", "day", "stage", "channel", "template", "tone", "pid", "pv", "inv", "cur", "total", "nb",
           "na"),
    "inv": ("t", "id", "off", "stage", "promise", "touched", "pid", "pv"),
    "cus": ("t", "id", "last", "broken", "pid", "pv"),
    "pln": ("t", "id", "inst"),
    "tsk": ("id", "t", "c", "kind", "reason", "inv", "assignee"),
    "tl": ("t", "c", "kind", "summary", "ref"),
    "tmr": ("t", "id", "due"),
    "obx": ("id", "type", "topic", "lane", "key", "value"),
}


class Rows:
    """The rows of every table a batch writes; ``params`` turns them into one list per column (what
    ``unnest`` takes). Rows are appended as tuples and transposed once, in C."""

    def __init__(self) -> None:
        self._rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}

    def add(self, table: str, *values: Any) -> None:
        self._rows[table].append(values)

    def table(self, table: str) -> list[tuple]:
        """The row list itself, for hot loops that append tuples directly."""
        return self._rows[table]

    def count(self, table: str) -> int:
        return len(self._rows[table])

    def params(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for table, names in COLUMNS.items():
            rows = self._rows[table]
            for row in rows:
                if len(row) != len(names):
                    raise ValueError(f"{table} row has {len(row)} values, expected {len(names)}")
            columns = list(zip(*rows)) if rows else [()] * len(names)
            for name, column in zip(names, columns):
                out[f"{table}_{name}"] = list(column)
        return out


def as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def write_all(session: AsyncSession, rows: Rows, now: datetime) -> tuple[int, int, int]:
    """One round trip; returns (touchpoints inserted, timers moved, outbox rows). Every row of a batch is
    decided, touched and written at ``now`` (one parameter, not a column of equal timestamps)."""
    events = rows.table("obx")
    if len(events) > 1:
        # A batch's events packed a lane at a time (``packed_rows``): a few dozen outbox rows for Postgres to
        # insert and the relay to delete instead of one per touchpoint; the relay opens them in order.
        events[:] = packed_rows(events)
    result = await session.execute(WRITE_ALL, rows.params() | {"now": now})
    return tuple(result.one())
