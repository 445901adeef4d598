"""Through real Kafka: ledger events in, a score event out on ``score``, silence when nothing changed."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts.invoice import InvoiceUpdatedV1
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


async def _handled(sessions, event_id, timeout: float = 180) -> None:
    for _ in range(int(timeout / 0.2)):
        async with sessions() as session:
            found = (await session.execute(text("SELECT 1 FROM scoring.inbox WHERE event_id = :id"), {"id": event_id})).first()
        if found:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"scoring never handled event {event_id}")


async def _outbox_drained(sessions, timeout: float = 120) -> None:
    for _ in range(int(timeout / 0.2)):
        async with sessions() as session:
            if (await session.execute(text("SELECT count(*) FROM scoring.outbox"))).scalar_one() == 0:
                return
        await asyncio.sleep(0.2)
    raise AssertionError("the relay did not drain scoring's outbox")


async def test_invoice_and_payment_events_produce_a_score_event_and_nothing_more(infra, scoring_services, sessions, ledger):
    # Stopped at the end: other tests read scoring's outbox, which a running relay would drain.
    workers = [scoring_services.start("consumer"), scoring_services.start("relay")]
    today = date.today()
    cust, inv, pay = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    issue, due = today - timedelta(days=50), today - timedelta(days=20)
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "test-ingest")
    await producer.start()
    try:
        async with TopicWatcher(infra.bootstrap, infra.topic("score")) as watcher:
            await producer.publish(infra.topic("customer"), ledger.customer(cust))
            await producer.publish(infra.topic("invoice"), ledger.invoice(cust, inv, issue, due, "900.00"))
            await producer.publish(infra.topic("payment"), ledger.payment(cust, pay, inv, "900.00", today - timedelta(days=2)))
            await producer.publish(infra.topic("invoice"), ledger.paid(cust, inv, issue, due, "900.00", pay))
            mine = lambda e: e.tenant_id == ledger.tenant_id  # noqa: E731
            customer_scored = await watcher.wait_for(
                lambda e: mine(e) and e.type == "rapport.score.customer_scored.v1"
                and e.payload().average_days_to_pay is not None, timeout=300)
            settled = customer_scored[-1].payload()
            assert settled.average_days_to_pay == 48.0 and settled.delinquency == "one_time"  # paid 28 days late
            await _outbox_drained(sessions)
            await asyncio.sleep(1.0)
            seen = len([e for e in watcher.events if mine(e)])
            # The ERP re-sends the settled invoice with a new reference: no prediction moves.
            resend = ledger.invoice(cust, inv, issue, due, "900.00", "0", "paid", InvoiceUpdatedV1, po_number="PO-1")
            await producer.publish(infra.topic("invoice"), resend)
            await _handled(sessions, resend.id)
            await _outbox_drained(sessions)
            await asyncio.sleep(2.0)
            assert len([e for e in watcher.events if mine(e)]) == seen
    finally:
        await producer.stop()
        scoring_services.stop(workers)
