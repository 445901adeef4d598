"""The batched ticker against real Postgres: two tickers claiming in parallel never double-emit."""
from __future__ import annotations

import asyncio

import pytest

from rapport_shared.bus import codec
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.db import make_session_factory

from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.ticker import Ticker

pytestmark = pytest.mark.integration

CUSTOMERS = 120

SEED = [
    "INSERT INTO scheduler.customers (tenant_id, customer_id, name, country, time_zone, version) "
    "SELECT :t, gen_random_uuid(), 'Batch ' || g, 'US', 'UTC', 1 FROM generate_series(1, :n) g",
    "INSERT INTO scheduler.contacts (tenant_id, contact_id, customer_id, name, email, is_primary, version) "
    "SELECT tenant_id, gen_random_uuid(), customer_id, 'AP', 'ap@example.com', true, 1 "
    "FROM scheduler.customers WHERE tenant_id = :t",
    # per customer: two overdue open invoices, one paid and one disputed (neither may ever be listed)
    "INSERT INTO scheduler.invoices (tenant_id, invoice_id, customer_id, number, issue_date, due_date, currency,"
    " amount_total, open_amount, status, disputed) SELECT c.tenant_id, gen_random_uuid(), c.customer_id,"
    " 'N-' || g, CAST(:today AS date) - 40, CAST(:today AS date) - 8 - g, 'USD', 100 * g,"
    " CASE WHEN g = 3 THEN 0 ELSE 100 * g END, CASE WHEN g = 3 THEN 'paid' ELSE 'open' END, g = 4"
    " FROM scheduler.customers c CROSS JOIN generate_series(1, 4) g WHERE c.tenant_id = :t",
    "INSERT INTO scheduler.timers (tenant_id, customer_id, due_at) SELECT tenant_id, customer_id, "
    "CAST(:now AS timestamptz) - interval '1 hour' FROM scheduler.customers WHERE tenant_id = :t",
]


async def test_two_batched_tickers_claim_disjoint_batches_and_emit_once(db, sched_settings, company):
    now = await db.now()
    for statement in SEED:
        await db.execute(statement, t=company.tenant_id, n=CUSTOMERS, today=now.date(), now=now)
    topics = TopicNames(sched_settings.topic_prefix)
    sessions = make_session_factory(db.engine)
    tickers = [Ticker(sessions, Planner(topics), batch_size=16) for _ in range(2)]

    claimed = await asyncio.gather(*(t.drain() for t in tickers))

    assert sum(claimed) == CUSTOMERS and all(n > 0 for n in claimed)  # both worked, no customer twice
    sent = await db.rows("SELECT customer_id, invoice_ids, template_key FROM scheduler.touchpoints WHERE tenant_id = :t",
                         t=company.tenant_id)
    assert len(sent) == CUSTOMERS and len({r.customer_id for r in sent}) == CUSTOMERS
    listed = await db.rows("SELECT i.number, i.status, i.disputed FROM scheduler.touchpoints p "
                           "CROSS JOIN jsonb_array_elements_text(p.invoice_ids) AS x(id) JOIN scheduler.invoices i "
                           "ON i.tenant_id = p.tenant_id AND i.invoice_id = CAST(x.id AS uuid) WHERE p.tenant_id = :t",
                           t=company.tenant_id)
    assert sorted({r.number for r in listed}) == ["N-1", "N-2"] and len(listed) == 2 * CUSTOMERS
    await _assert_outbox_matches(db, company.tenant_id, {r.customer_id for r in sent})
    idle = await db.rows("SELECT count(*) AS n FROM scheduler.timers WHERE tenant_id = :t AND due_at <= :now",
                         t=company.tenant_id, now=now)
    assert idle[0].n == 0  # every claimed timer was moved to its next wake-up
    assert sum(await asyncio.gather(*(t.drain() for t in tickers))) == 0


async def _assert_outbox_matches(db, tenant, customers: set) -> None:
    rows = await db.outbox(prefix=f"{tenant}:".encode())
    due = [codec.decode(r.value) for r in rows if r.event_type == "rapport.touchpoint.due.v1"]
    assert len(due) == CUSTOMERS
    assert {e.payload().customer.customer_id for e in due} == customers
    assert all(e.tenant_id == tenant and len(e.payload().invoices) == 2 for e in due)
    # The touchpoint says each listed invoice's stage (its last touch is the event's time): no stage events.
    assert {i.stage for e in due for i in e.payload().invoices} == {"d+7"}
    assert [r for r in rows if r.event_type.endswith("dunning_stage_changed.v1")] == []
    assert len(rows) == CUSTOMERS
    staged = await db.rows("SELECT i.stage, i.last_touch_at IS NOT NULL AS touched FROM scheduler.invoices i "
                           "WHERE i.tenant_id = :t AND i.status = 'open' AND NOT i.disputed", t=tenant)
    assert len(staged) == 2 * CUSTOMERS and {(r.stage, r.touched) for r in staged} == {("d+7", True)}


async def test_one_ticker_with_batches_in_flight_emits_each_touchpoint_once(db, sched_settings, company):
    now = await db.now()
    for statement in SEED:
        await db.execute(statement, t=company.tenant_id, n=CUSTOMERS, today=now.date(), now=now)
    ticker = Ticker(make_session_factory(db.engine), Planner(TopicNames(sched_settings.topic_prefix)), batch_size=8,
                    concurrency=3)

    assert await ticker.drain() == CUSTOMERS and ticker.touchpoints == CUSTOMERS

    sent = await db.rows("SELECT customer_id FROM scheduler.touchpoints WHERE tenant_id = :t", t=company.tenant_id)
    assert len(sent) == CUSTOMERS and len({r.customer_id for r in sent}) == CUSTOMERS
    await _assert_outbox_matches(db, company.tenant_id, {r.customer_id for r in sent})
    assert await ticker.drain() == 0
