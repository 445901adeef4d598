"""The event -> decision path against real Postgres: one statement per invoice event, placeholder customers
for events that overtake their customer, and tickers woken by NOTIFY instead of their next poll."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from rapport_shared.bus.inbox import Inbox
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.invoice import InvoiceUpdatedV1
from rapport_shared.db import make_session_factory

from rapport_scheduler.bootstrap import make_bus
from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.ticker import Ticker

pytestmark = pytest.mark.integration


async def test_invoice_before_its_customer_makes_a_placeholder_the_customer_event_fills(feed, db, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer(name="Late Arrival GmbH", country="DE", tz="Europe/Berlin")
    inv, issued = company.invoice(cid, today - timedelta(days=9))
    await feed(issued)  # the invoice topic overtook the customer topic
    placeholder = await db.rows("SELECT name, version, country FROM scheduler.customers WHERE tenant_id = :t "
                                "AND customer_id = :c", t=company.tenant_id, c=cid)
    assert [(r.name, r.version, r.country) for r in placeholder] == [("(unknown customer)", 0, None)]
    timer = await db.rows("SELECT cause_id FROM scheduler.timers WHERE tenant_id = :t AND customer_id = :c",
                          t=company.tenant_id, c=cid)
    assert len(timer) == 1
    stored = await db.rows("SELECT number, open_amount FROM scheduler.invoices WHERE tenant_id = :t AND "
                           "invoice_id = :i", t=company.tenant_id, i=inv.invoice_id)
    assert [(r.number, r.open_amount) for r in stored] == [(inv.number, Decimal("1200.0000"))]
    # no contact yet: nobody to write to, so no message
    assert await db.rows("SELECT 1 FROM scheduler.touchpoints WHERE tenant_id = :t", t=company.tenant_id) == []

    await feed(*customer_events)  # the customer (and its contact) arrive: the placeholder is filled in
    filled = await db.rows("SELECT name, version, country, time_zone FROM scheduler.customers WHERE tenant_id = :t "
                           "AND customer_id = :c", t=company.tenant_id, c=cid)
    assert [(r.name, r.version, r.country, r.time_zone) for r in filled] == [
        ("Late Arrival GmbH", 1, "DE", "Europe/Berlin")]
    sent = await db.rows("SELECT invoice_ids, template_key FROM scheduler.touchpoints WHERE tenant_id = :t",
                         t=company.tenant_id)
    assert len(sent) == 1 and sent[0].invoice_ids == [str(inv.invoice_id)]
    assert sent[0].template_key == "overdue_gentle"


async def test_an_older_invoice_snapshot_never_overwrites_a_newer_one(feed, db, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    inv, issued = company.invoice(cid, today + timedelta(days=30))
    newer = InvoiceUpdatedV1(**(inv.model_dump() | {"open_amount": Decimal("700.00"), "status": "partially_paid",
                                                    "version": 3}))
    older = InvoiceUpdatedV1(**(inv.model_dump() | {"open_amount": Decimal("900.00"), "version": 2}))
    await feed(*customer_events, issued, company.event(newer, cid), company.event(older, cid))
    row = (await db.rows("SELECT open_amount, status, version FROM scheduler.invoices WHERE tenant_id = :t AND "
                         "invoice_id = :i", t=company.tenant_id, i=inv.invoice_id))[0]
    assert (row.open_amount, row.status, row.version) == (Decimal("700.0000"), "partially_paid", 3)


async def test_a_paid_invoice_event_leaves_the_cadence_and_says_why(feed, db, company):
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    inv, issued = company.invoice(cid, today + timedelta(days=5))
    await feed(*customer_events, issued, company.paid(inv))
    row = (await db.rows("SELECT stage, status FROM scheduler.invoices WHERE tenant_id = :t AND invoice_id = :i",
                         t=company.tenant_id, i=inv.invoice_id))[0]
    assert (row.stage, row.status) == ("paid", "paid")
    stages = await db.outbox(key=f"{company.tenant_id}:{cid}".encode(), event_type="rapport.task.dunning_stage_changed.v1")
    assert any(b'"paused_reason":"paid"' in bytes(r.value) for r in stages)


async def test_a_committed_event_wakes_a_listening_ticker_long_before_its_poll(sched_settings, sched_engine, db, company):
    sessions = make_session_factory(sched_engine)
    ticker = Ticker(sessions, Planner(TopicNames(sched_settings.topic_prefix)))
    bus, inbox = make_bus(sched_settings), Inbox("scheduler", "scheduler")
    today = (await db.now()).date()
    cid, customer_events = company.customer()
    _, issued = company.invoice(cid, today - timedelta(days=8))
    async with sessions() as session, session.begin():  # the customer exists; nothing is due yet
        for envelope in customer_events:
            await inbox.claim(session, envelope)
            await bus.handle(session, envelope)
    await ticker.drain()
    runner = asyncio.create_task(ticker.run(interval_s=60.0, engine=sched_engine))  # a poll would take a minute
    try:
        await asyncio.sleep(1.0)  # the ticker drained and is asleep, listening
        decided_before = ticker.touchpoints
        started = time.monotonic()
        async with sessions() as session, session.begin():
            await inbox.claim(session, issued)
            await bus.handle(session, issued)
        while ticker.touchpoints == decided_before and time.monotonic() - started < 20:
            await asyncio.sleep(0.05)
        assert ticker.touchpoints == decided_before + 1 and ticker.wakeups >= 1
        assert time.monotonic() - started < 20  # woken by NOTIFY, not by the 60 s poll
    finally:
        ticker.stop()
        await asyncio.wait_for(runner, timeout=10)


async def test_a_failing_invoice_event_in_a_batch_is_dead_lettered_alone(sched_settings, sched_engine, db, company):
    """Through the consumer's batch processor: the batch first runs in one go, the overflowing amount fails
    in the database, the batch runs again record by record in savepoints (the driver connection is the
    same), and only that record is given up."""
    from aiokafka.structs import ConsumerRecord

    from rapport_shared.bus import codec
    from rapport_shared.bus.batch import BatchProcessor

    today = (await db.now()).date()
    cid, customer_events = company.customer()
    good = [company.invoice(cid, today + timedelta(days=d)) for d in (10, 20)]
    bad, _ = company.invoice(cid, today + timedelta(days=30))
    huge = InvoiceUpdatedV1(**(bad.model_dump() | {"amount_total": Decimal("1e17"), "open_amount": Decimal("1e17")}))
    envelopes = [*customer_events, good[0][1], company.event(huge, cid), good[1][1]]
    records = [ConsumerRecord("invoice", 0, n, 0, 0, b"k", codec.encode(e), None, 1, 1, [])
               for n, e in enumerate(envelopes)]
    processor = BatchProcessor(make_session_factory(sched_engine), make_bus(sched_settings).handle,
                               Inbox("scheduler", "scheduler"), max_attempts=2, retry_backoff_s=0.01)
    items = await processor.process(records)
    assert [i.outcome for i in items] == ["handled", "handled", "handled", "dead_lettered", "handled"]
    stored = await db.rows("SELECT invoice_id FROM scheduler.invoices WHERE tenant_id = :t", t=company.tenant_id)
    assert {r.invoice_id for r in stored} == {good[0][0].invoice_id, good[1][0].invoice_id}


async def test_customer_snapshots_take_the_highest_priority_matching_rule_and_keep_their_tags(
        sched_http, feed, db, company):
    h = company.headers
    for rule in ({"collector": "Sam", "region": "EMEA", "priority": 1},
                 {"collector": "Kim", "collector_email": "kim@ar.example", "region": "EMEA", "size": "L", "priority": 5}):
        assert (await sched_http.post("/v1/assignment-rules", json=rule, headers=h)).status_code in (200, 201)
    large, large_events = company.customer(region="EMEA", size="L", tags=["key-account", "eu"])
    small, small_events = company.customer(region="EMEA", size="S")
    elsewhere, elsewhere_events = company.customer(region="NA", size="L")
    named, named_events = company.customer(region="EMEA", size="L", collector_name="Erin")
    await feed(*large_events, *small_events, *elsewhere_events, *named_events)
    rows = {r.customer_id: r for r in await db.rows(
        "SELECT customer_id, collector, collector_email, tags FROM scheduler.customers WHERE tenant_id = :t",
        t=company.tenant_id)}
    assert (rows[large].collector, rows[large].collector_email, rows[large].tags) == (
        "Kim", "kim@ar.example", ["key-account", "eu"])
    assert (rows[small].collector, rows[small].collector_email, rows[small].tags) == ("Sam", None, [])
    assert (rows[elsewhere].collector, rows[elsewhere].collector_email) == (None, None)
    assert (rows[named].collector, rows[named].collector_email) == ("Erin", None)  # the ERP's own choice wins


async def test_a_contact_snapshot_s_opt_outs_route_the_message(feed, db, company):
    from rapport_shared.contracts.customer import ContactUpsertedV1

    today = (await db.now()).date()
    cid, (customer_event, contact_event) = company.customer()
    contact = contact_event.payload()
    opted = ContactUpsertedV1(**(contact.model_dump() | {"opted_out_channels": ["email"], "consent_sms": True,
                                                          "version": 2}))
    _, issued = company.invoice(cid, today - timedelta(days=8))
    await feed(customer_event, contact_event, company.event(opted, cid), issued)
    stored = await db.rows("SELECT opted_out, consent_sms, version FROM scheduler.contacts WHERE contact_id = :c",
                           c=contact.contact_id)
    assert [(r.opted_out, r.consent_sms, r.version) for r in stored] == [(["email"], True, 2)]
    sent = await db.rows("SELECT channel FROM scheduler.touchpoints WHERE tenant_id = :t", t=company.tenant_id)
    assert [r.channel for r in sent] == ["sms"]
