"""The skeleton's last hop on real Kafka: ingest/outreach events -> consumer -> read model -> API; actions -> relay -> ``portal``."""
from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from rapport_shared.bus import codec
from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1, InvoiceIssuedV1
from rapport_shared.contracts.outreach import MessageSentV1
from rapport_shared.testing.kafka import TopicWatcher

from portal_testkit import NOW, Account, Processes, sign_in

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
