"""Real processes on real Kafka and Postgres: consumer, relay and ticker, and 120 days of a demo company.

Events are fed straight onto the topics (as ingest would publish them); nothing of ingest is imported.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from datetime import date, datetime, time, timedelta, timezone

import holidays
import pytest

from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration
BIN = os.path.join(os.getcwd(), ".venv", "bin", "rapport-scheduler")


@pytest.fixture(scope="module")
async def processes(infra, sched_settings, tmp_path_factory):
    logs = tmp_path_factory.mktemp("scheduler-logs")
    env = infra.env(RAPPORT_SCHEDULER_TICK_S="0.1", RAPPORT_RELAY_IDLE_POLL_S="0.02", PYTHONUNBUFFERED="1")
    started = []
    for role in ("consumer", "relay", "ticker"):
        out = open(logs / f"{role}.log", "wb")
        started.append((subprocess.Popen([BIN, role], env=env, stdout=out, stderr=subprocess.STDOUT), out))
    # Start-up is slow on a loaded machine: wait for each process to say it is running.
    for role, line in (("consumer", "consumer started"), ("relay", "outbox relay started"), ("ticker", "ticker started")):
        await eventually(lambda: _logged(logs / f"{role}.log", line), timeout=240)
    yield logs
    for proc, out in started:
        proc.send_signal(signal.SIGTERM)
    for proc, out in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


@pytest.fixture(scope="module")
async def producer(infra):
    events = EventProducer(make_kafka_producer(infra.bootstrap), "scheduler-test")
    await events.start()
    yield events
    await events.stop()


async def publish(producer, infra, *envelopes):
    for envelope in envelopes:
        topic = envelope.type.split(".")[1]
        await producer.publish(infra.topic(topic), envelope)


async def eventually(check, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.1)


async def test_invoice_event_on_kafka_becomes_a_touchpoint_on_kafka(processes, producer, infra, db, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    inv, issued = company.invoice(cid, today - timedelta(days=8), "640.00")
    async with TopicWatcher(infra.bootstrap, infra.topic("touchpoint")) as watcher:
        await publish(producer, infra, *customer_events, issued)
        [touch] = await watcher.wait_for(lambda e: e.data["customer"]["customer_id"] == str(cid), timeout=60)
    assert touch.data["template_key"] == "overdue_gentle" and touch.data["total_open"] == "640.0000"
    assert [i["invoice_id"] for i in touch.data["invoices"]] == [str(inv.invoice_id)]
    # Outside the contact's send window the ticker emits it later, caused by the customer's latest event.
    assert touch.causation_id in {e.id for e in (*customer_events, issued)}
    assert touch.correlation_id in {e.correlation_id for e in (*customer_events, issued)}
    assert touch.tenant_id == company.tenant_id


def business_day_on_or_after(day: date, country: str) -> date:
    off = holidays.country_holidays(country, years=range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    return day


async def settle(db) -> None:
    """Wait until the ticker has nothing due at the scheduler's current time."""
    async def idle():
        now = await db.now()
        due = await db.rows("SELECT 1 FROM scheduler.timers WHERE due_at <= :n LIMIT 1", n=now)
        return not due
    await eventually(idle, timeout=60)


async def test_120_days_of_cadence_for_a_demo_company(processes, producer, infra, db, company):
    now = await db.now()
    # Start on a Monday just after midnight UTC, so each day's decisions fall before that day's window closes
    # and the weekday pattern of the assertions does not depend on the day the test runs.
    monday = now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7)
    await db.advance(datetime.combine(monday, time(0, 30), timezone.utc) - now)
    start = (await db.now()).date()
    steady, events_a = company.customer(name="Steady GmbH", country="DE", tz="Europe/Berlin")
    payer, events_b = company.customer(name="Prompt Payer Inc", country="US")
    silent, events_c = company.customer(name="Silent Ltd", country="GB", tz="Europe/London")
    a1, a1_issued = company.invoice(steady, start + timedelta(days=12), "1000.00", "EUR", "A-1")
    a2, a2_issued = company.invoice(steady, start + timedelta(days=12), "500.00", "EUR", "A-2")
    b1, b1_issued = company.invoice(payer, start + timedelta(days=3), "800.00", "USD", "B-1")
    c1, c1_issued = company.invoice(silent, start + timedelta(days=4), "7000.00", "GBP", "C-1")
    async with TopicWatcher(infra.bootstrap, infra.topic("touchpoint"), infra.topic("task")) as watcher:
        await publish(producer, infra, *events_a, *events_b, *events_c, a1_issued, a2_issued, b1_issued, c1_issued)
        await eventually(lambda: _count(db, company, "SELECT 1 FROM scheduler.invoices WHERE tenant_id = :t", 4))
        for day in range(1, 121):
            await db.advance(timedelta(days=1))
            if day == 4:  # B-1 (due Thursday) paid on Friday
                await publish(producer, infra, company.paid(b1))
                await eventually(lambda: _count(db, company, "SELECT 1 FROM scheduler.invoices WHERE tenant_id = :t AND status = 'paid'", 1))
            await settle(db)
        rows = await db.rows("SELECT customer_id, send_day, stage, template_key, invoice_ids, channel "
                             "FROM scheduler.touchpoints WHERE tenant_id = :t ORDER BY send_day", t=company.tenant_id)
        await watcher.wait_for(lambda e: e.type == "rapport.touchpoint.due.v1" and e.tenant_id == company.tenant_id,
                               count=len(rows), timeout=60)
        await asyncio.sleep(1)
        on_kafka = [e for e in watcher.events if e.type == "rapport.touchpoint.due.v1" and e.tenant_id == company.tenant_id]
        tasks = [e for e in watcher.events if e.type == "rapport.task.created.v1" and e.tenant_id == company.tenant_id]
    assert len(on_kafka) == len(rows)  # each decided touchpoint published exactly once
    assert all(e.data["policy_id"] and e.data["policy_version"] == 1 for e in on_kafka)

    by_customer = {cid: [r for r in rows if r.customer_id == cid] for cid in (steady, payer, silent)}
    # Steady: both invoices in every message, the skeleton cadence on business days in Germany
    a_days = [business_day_on_or_after(start + timedelta(days=12 + k), "DE") for k in (-3, 0, 7, 30, 60)]
    a_rows = [r for r in by_customer[steady] if r.stage in ("d-3", "due", "d+7", "d+30", "d+60")]
    assert [r.send_day for r in a_rows] == a_days
    assert [r.template_key for r in a_rows] == ["pre_due_friendly", "due_today", "overdue_gentle", "overdue_firm", "final_notice"]
    assert all(sorted(r.invoice_ids) == sorted([str(a1.invoice_id), str(a2.invoice_id)]) for r in by_customer[steady])
    # Prompt payer: reminded before and on the due date, never after paying
    assert [r.stage for r in by_customer[payer]] == ["d-3", "due"]
    assert all(r.send_day <= start + timedelta(days=4) for r in by_customer[payer])
    # Silent: the whole cadence, then the internal step, agency hand-off and non-responder follow-ups
    c_stages = [r.stage for r in by_customer[silent]]
    assert c_stages[:5] == ["d-3", "due", "d+7", "d+30", "d+60"] and "d+90" in c_stages and "non_responder" in c_stages
    follow_ups = [r.send_day for r in by_customer[silent] if r.stage == "non_responder"]
    assert all((b - a).days >= 2 for a, b in zip(follow_ups, follow_ups[1:]))
    # never two messages to one customer on one day, never on a weekend
    for cid, sent in by_customer.items():
        assert len({r.send_day for r in sent}) == len(sent)
        assert all(r.send_day.weekday() < 5 for r in sent)
    kinds = {(e.data["customer_id"], e.data["kind"]) for e in tasks}
    assert (str(silent), "call") in kinds and (str(steady), "call") in kinds
    assert not any(cid == str(payer) for cid, _ in kinds)


async def _logged(path, line: str) -> bool:
    return line in path.read_text(errors="replace")


async def _count(db, company, sql: str, expected: int) -> bool:
    return len(await db.rows(sql, t=company.tenant_id)) >= expected
