"""The skeleton's last hop on real Kafka: ingest/outreach events -> consumer -> read model -> API; actions -> relay -> ``portal``."""
from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from rapport_shared.bus import codec
from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1, InvoiceIssuedV1
from rapport_shared.contracts.outreach import MessageSentV1
from rapport_shared.contracts.task import DunningStageChangedV1
from rapport_shared.contracts.touchpoint import CustomerRef, Recipient, TouchInvoice, TouchpointDueV1
from rapport_shared.testing.kafka import TopicWatcher

from portal_testkit import NOW, Account, Processes, seed_account, sign_in

pytestmark = pytest.mark.integration
BIN = str(Path(sys.executable).parent / "rapport-portal")


@pytest.fixture
def workers(infra, portal_migrated, tmp_path):
    procs = Processes(tmp_path)
    env = infra.env(RAPPORT_RELAY_IDLE_POLL_S="0.02", PYTHONUNBUFFERED="1")
    procs.start("consumer", [BIN, "consumer"], env)
    procs.start("relay", [BIN, "relay"], env)
    yield procs
    procs.stop_all()


async def _publish(infra, acct: Account, payloads) -> list:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    sent = []
    try:
        for payload in payloads:
            envelope = make_event(payload, source="test", tenant_id=acct.tenant_id, customer_key=acct.customer_id)
            await producer.send_and_wait(infra.topic(payload.topic), codec.encode(envelope), key=codec.record_key(envelope))
            sent.append(envelope)
    finally:
        await producer.stop()
    return sent


async def _eventually(check, timeout: float = 150.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.25)


async def test_events_on_the_topics_reach_the_api_and_actions_reach_the_portal_topic(infra, client, workers):
    acct = Account(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), f"flow-{uuid.uuid4().hex[:6]}@customer.test")
    invoice_id, message_id = uuid.uuid4(), uuid.uuid4()
    issued = dict(invoice_id=invoice_id, customer_id=acct.customer_id, number="INV-K1", issue_date=date(2026, 5, 1),
                  due_date=date(2026, 6, 1), currency="EUR", amount_total=Decimal("250.00"), status="open")
    sent = await _publish(infra, acct, [
        CustomerUpsertedV1(customer_id=acct.customer_id, external_id="K1", name="Kafka Kunde AG", currency="EUR"),
        ContactUpsertedV1(contact_id=acct.contact_id, customer_id=acct.customer_id, name="Kim", email=acct.email),
        InvoiceIssuedV1(**issued, open_amount=Decimal("250.00")),
        InvoiceBalanceChangedV1(**issued, open_amount=Decimal("200.00"), cause="payment", delta=Decimal("-50.00"), version=2),
        MessageSentV1(message_id=message_id, customer_id=acct.customer_id, contact_id=acct.contact_id, channel="email",
                      provider="sink", occurred_at=NOW, invoice_ids=[invoice_id], subject="INV-K1 is overdue"),
    ])
    await _publish(infra, acct, [])  # nothing; keeps the helper honest about empty batches

    async def contact_known():
        try:
            return await sign_in(client, acct)
        except AssertionError:
            return None
    headers = await _eventually(contact_known)
    assert headers, "the contact never reached the read model:\n" + workers.log_text("consumer")[-3000:]

    async def invoice_settled():
        items = (await client.get("/v1/invoices", headers=headers)).json()["items"]
        return items if items and items[0]["open_amount"] == "200.00" else None
    items = await _eventually(invoice_settled)
    assert items and items[0]["number"] == "INV-K1"
    # The outreach topic is read on its own partitions: the message may land after the invoice's events.
    async def message_known():
        return (await client.get("/v1/communications", headers=headers)).json()["messages"] or None
    messages = await _eventually(message_known) or []
    assert [m["subject"] for m in messages] == ["INV-K1 is overdue"]

    # a redelivered event changes nothing (the inbox) and an older snapshot never wins (versions)
    await _publish(infra, acct, [InvoiceIssuedV1(**issued, open_amount=Decimal("250.00"))])
    await _publish(infra, acct, [])

    async with TopicWatcher(infra.bootstrap, infra.topic("portal")) as watcher:
        promise = await client.post("/v1/promises", json={"invoice_ids": [str(invoice_id)], "promised_date": "2026-06-25"},
                                    headers=headers)
        assert promise.status_code == 202
        [event] = await watcher.wait_for(lambda e: e.type == "rapport.portal.promise_made.v1"
                                         and e.data["request_id"] == promise.json()["request_id"], timeout=60)
    assert event.partitionkey == f"{acct.tenant_id}:{acct.customer_id}" and event.data["amount"] == "200.00"
    again = (await client.get("/v1/invoices", headers=headers)).json()["items"]
    assert again[0]["open_amount"] == "200.00" and len(sent) == 5


async def test_a_touchpoint_on_kafka_shows_each_listed_invoice_stage_and_last_touch_and_older_stages_lose(
        infra, client, portal, workers):
    """The scheduler sends no stage event for an invoice a touchpoint lists; the portal learns it from the
    touchpoint. Stage events come on ``task``, touchpoints on ``touchpoint``: no order between them, so the
    scheduler's time of each fact decides and an older one arriving late is ignored."""
    acct = await seed_account(portal, invoices=2)
    headers = await sign_in(client, acct)
    first, second = acct.invoice_ids
    touched_at = datetime.now(timezone.utc).replace(microsecond=0)
    touch = TouchpointDueV1(
        touchpoint_id=uuid.uuid4(), customer=CustomerRef(customer_id=acct.customer_id, name="Acme GmbH"),
        recipient=Recipient(name="Ann Payable"), channel="email", template_key="overdue_firm", tone="firm",
        stage="d+30", step_offset_days=30, currency="EUR", total_open=Decimal("100.50"),
        invoices=[TouchInvoice(invoice_id=first, number="INV-0001", issue_date=date(2026, 5, 1), due_date=date(2026, 6, 1),
                               currency="EUR", amount_total=Decimal("100.50"), open_amount=Decimal("100.50"),
                               days_overdue=14, stage="d+7")])
    await _publish_at(infra, acct, [(touch, touched_at)])

    async def listing():
        items = (await client.get("/v1/invoices", params={"sort": "number"}, headers=headers)).json()["items"]
        return {i["id"]: i for i in items}

    async def touched():
        items = await listing()
        return items if items[str(first)]["dunning_stage"] == "d+7" else None
    items = await _eventually(touched)
    assert items, "the touchpoint never reached the read model:\n" + workers.log_text("consumer")[-3000:]
    assert datetime.fromisoformat(items[str(first)]["last_touch_at"]) == touched_at
    assert items[str(second)]["dunning_stage"] is None and items[str(second)]["last_touch_at"] is None
    detail = (await client.get(f"/v1/invoices/{first}", headers=headers)).json()
    assert detail["dunning_stage"] == "d+7" and datetime.fromisoformat(detail["last_touch_at"]) == touched_at

    # An older stage event for the first invoice arrives late; the second invoice's, after it on the same
    # partition (same key, same topic), tells when it has been consumed.
    await _publish_at(infra, acct, [
        (DunningStageChangedV1(customer_id=acct.customer_id, invoice_id=first, stage="due"), touched_at - timedelta(hours=1)),
        (DunningStageChangedV1(customer_id=acct.customer_id, invoice_id=second, stage="d+3"), touched_at)])

    async def second_staged():
        items = await listing()
        return items if items[str(second)]["dunning_stage"] == "d+3" else None
    items = await _eventually(second_staged)
    assert items and items[str(first)]["dunning_stage"] == "d+7"

    # A newer pause wins and keeps the last touch.
    await _publish_at(infra, acct, [(DunningStageChangedV1(customer_id=acct.customer_id, invoice_id=first, stage="paused",
                                                           paused_reason="dispute"), touched_at + timedelta(minutes=5))])

    async def paused():
        items = await listing()
        return items if items[str(first)]["dunning_stage"] == "dispute" else None
    items = await _eventually(paused)
    assert items and datetime.fromisoformat(items[str(first)]["last_touch_at"]) == touched_at


async def _publish_at(infra, acct: Account, timed) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for payload, at in timed:
            envelope = make_event(payload, source="scheduler", tenant_id=acct.tenant_id, customer_key=acct.customer_id,
                                  time=at)
            await producer.send_and_wait(infra.topic(payload.topic), codec.encode(envelope), key=codec.record_key(envelope))
    finally:
        await producer.stop()
