"""Handlers, planner and ticker against real Postgres: read model, timers, consolidation, pauses, replicas."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.portal import DisputeOpenedV1
from rapport_shared.db import make_session_factory

from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.ticker import Ticker


pytestmark = pytest.mark.integration


async def touchpoints_of(db, tenant):
    return await db.rows("SELECT customer_id, send_day, stage, template_key, invoice_ids FROM scheduler.touchpoints "
                              "WHERE tenant_id = :t ORDER BY send_day", t=tenant)


async def test_invoice_event_decides_at_once_and_consolidates(feed, db, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    a, a_event = company.invoice(cid, today - timedelta(days=10))
    b, b_event = company.invoice(cid, today - timedelta(days=8))
    await feed(*customer_events, a_event, b_event)
    sent = await touchpoints_of(db, company.tenant_id)
    # the first invoice triggered a message; the second arrived the same day and waits (one a day)
    assert len(sent) == 1 and sent[0].template_key == "overdue_gentle"
    outbox = await db.outbox(key=f"{company.tenant_id}:{cid}".encode())
    assert "rapport.touchpoint.due.v1" in {r.event_type for r in outbox}


async def test_paid_invoice_is_never_chased_and_dispute_makes_a_task(feed, db, sched_engine, sched_settings, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    paid, paid_issued = company.invoice(cid, today + timedelta(days=20))
    disputed, disputed_issued = company.invoice(cid, today + timedelta(days=20))
    await feed(*customer_events, paid_issued, disputed_issued, company.paid(paid))
    dispute = DisputeOpenedV1(request_id=disputed.invoice_id, customer_id=cid, invoice_id=disputed.invoice_id,
                              requested_at=await db.now(), reason_code="wrong_amount")
    await feed(company.event(dispute, cid))
    await _advance_and_tick(db, sched_settings, days=40)
    assert await touchpoints_of(db, company.tenant_id) == []
    tasks = await db.rows("SELECT kind FROM scheduler.tasks WHERE tenant_id = :t", t=company.tenant_id)
    assert [t.kind for t in tasks] == ["dispute"]


async def _advance_and_tick(db, settings, days: int) -> None:
    """Tick day by day through ``days`` of scheduler time, then put the shared clock back."""
    ticker = Ticker(make_session_factory(db.engine), Planner(TopicNames(settings.topic_prefix)))
    try:
        for _ in range(days):
            await db.advance(timedelta(days=1))
            await ticker.drain()
    finally:
        await db.advance(timedelta(days=-days))


async def test_two_tickers_emit_each_touchpoint_once(feed, db, sched_engine, sched_settings, company):
    today = (await db.now()).date()
    customers = [company.customer(name=f"Customer {n}") for n in range(40)]
    await feed(*(e for _, events in customers for e in events))
    for n, (cid, _) in enumerate(customers):
        async with sched_engine.begin() as conn:  # invoices appear with no decision yet: only the timers know
            from sqlalchemy import text
            await conn.execute(text(
                "INSERT INTO scheduler.invoices (tenant_id, invoice_id, customer_id, number, issue_date, due_date, currency,"
                " amount_total, open_amount, status) VALUES (:t, gen_random_uuid(), :c, :n, :d, :d, 'USD', 100, 100, 'open')"),
                {"t": company.tenant_id, "c": cid, "n": f"T-{n}", "d": today - timedelta(days=7)})
            await conn.execute(text("UPDATE scheduler.timers SET due_at = now() - interval '1 day' "
                                    "WHERE tenant_id = :t AND customer_id = :c"), {"t": company.tenant_id, "c": cid})
    sessions = make_session_factory(sched_engine)
    tickers = [Ticker(sessions, Planner(TopicNames(sched_settings.topic_prefix)), batch_size=5) for _ in range(2)]
    await asyncio.gather(*(t.drain() for t in tickers))
    sent = await touchpoints_of(db, company.tenant_id)
    assert len(sent) == 40 and len({r.customer_id for r in sent}) == 40
    assert tickers[0].touchpoints + tickers[1].touchpoints == 40
    assert tickers[0].touchpoints > 0 and tickers[1].touchpoints > 0


async def test_policy_change_replans_timers_and_touchpoints_record_the_version(feed, db, sched_settings, company):
    from datetime import datetime, timezone

    from rapport_scheduler.domain.policy import PolicySpec, Segment, Step
    from rapport_scheduler.service_layer import policy_service

    today = (await db.now()).date()
    cid, customer_events = company.customer(country="US", tz="UTC")
    await feed(*customer_events, company.invoice(cid, today + timedelta(days=20))[1])
    timer = "SELECT due_at FROM scheduler.timers WHERE customer_id = :c"
    assert (await db.rows(timer, c=cid))[0].due_at.date() == today + timedelta(days=17)  # default: 3 days before
    spec = PolicySpec(name="US early", priority=1, segment=Segment(countries=["US"]), steps=[
        Step(offset_days=-10, channel="email", template_key="pre_due_friendly"),
        Step(offset_days=0, channel="email", template_key="due_today")])
    async with make_session_factory(db.engine)() as session, session.begin():
        policy = await policy_service.create(session, company.tenant_id, spec, datetime.now(timezone.utc), "test")
    assert (await db.rows(timer, c=cid))[0].due_at.date() == today + timedelta(days=10)
    await _advance_and_tick(db, sched_settings, days=11)
    sent = await db.rows("SELECT policy_id, policy_version, template_key FROM scheduler.touchpoints WHERE customer_id = :c", c=cid)
    assert [(r.policy_id, r.policy_version, r.template_key) for r in sent] == [(policy.policy_id, 1, "pre_due_friendly")]
