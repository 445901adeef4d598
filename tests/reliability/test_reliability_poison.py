"""Poison records go to each consumer's dead-letter topic with a reason; the good ones after them still land."""
from __future__ import annotations

import json

import pytest

from harness import SliceDb, eventually
from harness.events import Customer
from harness.kafka import publish, publish_envelopes, read_all
from rapport_shared.bus import codec
from rapport_shared.contracts.catalogue import CONSUMERS
from rapport_shared.infra.naming import schema_of

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

INVOICE_READERS = sorted(s for s, topics in CONSUMERS.items() if "invoice" in topics)


async def test_poison_records_are_dead_lettered_and_consumers_keep_going(stack, infra):
    db = SliceDb(infra)
    customer = Customer("Poison Control Ltd")
    first = customer.upserted()
    await publish_envelopes(infra.bootstrap, infra.topic("customer"), first, customer.contact_upserted())
    for service in INVOICE_READERS:
        await eventually(lambda s=service: db.inbox_has(schema_of(s), first.id), bool, timeout=120,
                         what=f"{service} consumed the customer")

    good = customer.invoice_issued("INV-POISON-OK")
    future = json.loads(codec.encode(customer.invoice_issued("INV-FROM-THE-FUTURE")))
    future["type"] = "rapport.invoice.issued.v9"
    key = codec.record_key(good)
    # Same key, so all three share a partition and the good record comes strictly after the bad ones.
    await publish(infra.bootstrap, infra.topic("invoice"),
                  (key, b"\x00\xffnot json at all{"), (key, json.dumps(future).encode()), (key, codec.encode(good)))

    for service in INVOICE_READERS:
        await eventually(lambda s=service: db.inbox_has(schema_of(s), good.id), bool, timeout=120,
                         what=f"{service} handled the good invoice after the poison")
        dead = await read_all(infra.bootstrap, infra.topic(f"dlq.{service}"), until=lambda rs: len(_mine(rs, key)) >= 2)
        reasons = [dict(r.headers)["dlq_reason"].decode() for r in _mine(dead, key)]
        print(f"\n{service} dead letters: {reasons}")
        assert any("malformed envelope" in r for r in reasons), reasons
        assert any("unsupported version 9 of rapport.invoice.issued" in r for r in reasons), reasons
        assert all(dict(r.headers)["dlq_service"] == service.encode() for r in _mine(dead, key))
        assert not await db.inbox_has(schema_of(service), future["id"])
        assert stack.running(service, "consumer"), f"{service} consumer died on poison"
    await db.close()


def _mine(records: list, key: bytes) -> list:
    return [r for r in records if r.key == key]
