"""Publish raw records and read dead-letter topics from tests."""
from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from rapport_shared.bus import codec
from rapport_shared.contracts.envelope import Envelope


async def publish(bootstrap: str, topic: str, *records: tuple[bytes | None, bytes]) -> None:
    """Publish (key, value) records in order, straight onto a topic (as a misbehaving producer would)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def publish_envelopes(bootstrap: str, topic: str, *envelopes: Envelope) -> None:
    await publish(bootstrap, topic, *[(codec.record_key(e), codec.encode(e)) for e in envelopes])


async def read_all(bootstrap: str, topic: str, *, until, timeout: float = 60.0) -> list:
    """Read ``topic`` from the start until ``until(records)`` holds; fail with what was read."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"sys-read-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not until(records):
            if loop.time() > deadline:
                raise AssertionError(f"{topic}: condition not met within {timeout:.0f}s; read {len(records)} records: "
                                     f"{[(r.value[:80], dict(r.headers)) for r in records][:10]}")
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records
