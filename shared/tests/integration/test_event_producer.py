"""EventProducer.enqueue_many builds one record batch per partition: it must place and order
records exactly as one ``send`` per record would."""
import asyncio
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner, murmur2

from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


async def own_topic(infra, partitions: int = 6) -> str:
    """A topic of this test alone: the catalogue's topics are read from the start by other tests."""
    name = infra.topic(f"producer-test-{uuid4().hex[:8]}")
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def wait_raw(watcher: TopicWatcher, wanted, count: int, timeout: float = 30.0) -> list:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        matched = [r for r in watcher.raw if wanted(r)]
        if len(matched) >= count or loop.time() > deadline:
            return matched
        await asyncio.sleep(0.05)


async def test_batched_records_land_on_the_partition_send_picks_and_keep_each_keys_order(infra):
    topic, run = await own_topic(infra), uuid4().hex
    keys = [f"{uuid4()}:{uuid4()}".encode() for _ in range(40)]
    records = [(topic, keys[i % len(keys)], f"{run}:{i}".encode()) for i in range(600)]
    batched = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await batched.start()
    plain = make_kafka_producer(infra.bootstrap)
    await plain.start()
    try:
        async with TopicWatcher(infra.bootstrap, topic) as watcher:
            # Two calls (as the relay's chunks are), acknowledged together.
            first = await batched.enqueue_many(records[:250])
            second = await batched.enqueue_many(records[250:])
            assert await first == 250 and await second == 350
            # The reference: the same keys through plain ``send`` (the producer's own partitioner).
            sent = [await plain.send_and_wait(topic, key=k, value=f"{run}:plain".encode()) for k in keys]
            ours = await wait_raw(watcher, lambda r: r.value.startswith(f"{run}:".encode())
                                  and not r.value.endswith(b"plain"), 600)
    finally:
        await batched.stop()
        await plain.stop()
    assert len(ours) == 600
    by_send = {k: meta.partition for k, meta in zip(keys, sent)}
    assert len(set(by_send.values())) > 1, "40 keys over 6 partitions should not all hash alike"
    for record in ours:
        assert record.partition == by_send[record.key]
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % 6
    for key in keys:
        sequence = [int(r.value.split(b":")[1]) for r in ours if r.key == key]
        assert sequence == sorted(sequence) and len(sequence) == 15, "per-key order broken"


async def test_a_partition_larger_than_one_batch_is_split_in_order_and_headers_travel(infra):
    topic, run = await own_topic(infra), uuid4().hex
    small = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True, acks="all",
                             linger_ms=5, max_batch_size=16 * 1024)
    producer = EventProducer(small, "test")
    await producer.start()
    key = f"{uuid4()}:{uuid4()}".encode()
    payload = b"x" * 1000
    records = [(topic, key, f"{run}:{i}:".encode() + payload, [("n", str(i).encode())]) for i in range(120)]
    try:
        async with TopicWatcher(infra.bootstrap, topic) as watcher:
            assert await (await producer.enqueue_many(records)) == 120  # ~120 KB: at least 8 batches
            ours = await wait_raw(watcher, lambda r: r.value.startswith(f"{run}:".encode()), 120)
    finally:
        await producer.stop()
    assert [int(r.value.split(b":")[1]) for r in ours] == list(range(120))
    assert [dict(r.headers)["n"] for r in ours] == [str(i).encode() for i in range(120)]
    assert {r.partition for r in ours} == {DefaultPartitioner()(key, list(range(6)), list(range(6)))}


async def test_records_without_a_key_are_spread_and_all_delivered(infra):
    topic, run = await own_topic(infra), uuid4().hex
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await producer.start()
    try:
        async with TopicWatcher(infra.bootstrap, topic) as watcher:
            assert await producer.publish_many((topic, None, f"{run}:{i}".encode()) for i in range(60)) == 60
            ours = await wait_raw(watcher, lambda r: r.value.startswith(f"{run}:".encode()), 60)
    finally:
        await producer.stop()
    assert sorted(int(r.value.split(b":")[1]) for r in ours) == list(range(60))
    assert all(r.key is None for r in ours)
