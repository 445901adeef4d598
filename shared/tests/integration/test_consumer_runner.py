import asyncio
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import insert

from rapport_shared.bus import codec
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.consumer import ConsumerRunner, make_kafka_consumer
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


def issued(note: str = "ok"):
    customer = uuid4()
    payload = InvoiceIssuedV1(
        invoice_id=uuid4(), customer_id=customer, number=note, issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1), currency="USD", amount_total=Decimal("10"), open_amount=Decimal("10"),
        status="open",
    )
    return make_event(payload, source="/test", tenant_id=uuid4(), customer_key=customer)


class Harness:
    def __init__(self, infra, scratch, group, topic: str = "invoice"):
        self.infra, self.scratch, self.group = infra, scratch, group
        self.topic = infra.topic(topic)
        self.dlq = infra.topic(f"dlq.{group}")

    async def handler(self, session, envelope):
        if envelope.data["number"] == "explode":
            raise RuntimeError("the handler cannot cope")
        await session.execute(insert(self.scratch.effects).values(event_id=envelope.id, note=envelope.data["number"]))
        if envelope.data["number"] == "poison":
            raise PoisonMessage("this invoice can never be booked")  # after a write, which must roll back

    async def runner(self, batch_size: int = 500):
        dead = EventProducer(make_kafka_producer(self.infra.bootstrap), "test")
        await dead.start()
        runner = ConsumerRunner(
            consumer=make_kafka_consumer(self.infra.bootstrap, self.infra.topic(self.group)),
            topics=[self.topic], session_factory=self.scratch.sessions, handler=self.handler,
            inbox=Inbox(self.scratch.schema, self.group), dead_letters=dead, dlq_topic=self.dlq,
            service="test", max_attempts=2, retry_backoff_s=0.01, batch_size=batch_size,
        )
        await runner.start()
        return runner, dead

    async def publish(self, *values: bytes, key: bytes = b"k"):
        p = EventProducer(make_kafka_producer(self.infra.bootstrap), "test")
        await p.start()
        for value in values:
            await p.publish_raw(self.topic, key, value)
        await p.stop()

    async def effects(self, extra: str = "") -> int:
        return await self.scratch.count("SELECT count(*) FROM {schema}.effects " + extra)


async def run_until(runner, condition, timeout=30.0):
    task = asyncio.create_task(runner.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not await condition():
            assert loop.time() < deadline, "condition not reached"
            assert not task.done(), f"runner died: {task.exception() if task.done() else ''}"
            await asyncio.sleep(0.05)
    finally:
        runner.stop()
        await task


async def _create_topic(infra, name):
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        if name not in await admin.list_topics():
            await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def test_same_event_twice_has_one_effect_and_offsets_survive_restart(infra, scratch):
    h = Harness(infra, scratch, f"g{uuid4().hex[:6]}")
    event = issued("twice")
    await h.publish(codec.encode(event), codec.encode(event))
    runner, dead = await h.runner()
    await run_until(runner, lambda: _at_least(h, 1))
    await asyncio.sleep(0.3)
    await dead.stop()
    assert await h.effects() == 1
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 1

    # A new member of the same group starts after the committed offset: nothing is handled again.
    again, dead = await h.runner()
    await h.publish(codec.encode(issued("later")))
    await run_until(again, lambda: _at_least(h, 2))
    await dead.stop()
    assert again.handled == 1
    assert await h.effects() == 2


async def _at_least(h, n):
    return await h.effects() >= n


async def _fine_handled(h):
    return await h.effects("WHERE note = 'fine'") == 1


async def test_poison_and_failing_records_are_dead_lettered_and_the_consumer_keeps_going(infra, scratch):
    h = Harness(infra, scratch, f"g{uuid4().hex[:6]}")
    await _create_topic(infra, h.dlq)
    bad_version = codec.encode(issued()).replace(b"rapport.invoice.issued.v1", b"rapport.invoice.issued.v7")
    await h.publish(b"{not json", bad_version, codec.encode(issued("explode")), codec.encode(issued("fine")))
    runner, dead = await h.runner()
    async with TopicWatcher(infra.bootstrap, h.dlq) as dlq:
        await run_until(runner, lambda: _fine_handled(h))
        records = await dlq.wait_for_raw(lambda r: True, timeout=10)
        deadline = asyncio.get_running_loop().time() + 10
        while len(dlq.raw) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        reasons = [dict(r.headers)["dlq_reason"].decode() for r in dlq.raw]
    await dead.stop()
    assert records
    assert len(reasons) == 3
    assert reasons[0].startswith("malformed envelope")
    assert "unsupported version 7 of rapport.invoice.issued" in reasons[1]
    assert "handler failed 2 times: RuntimeError: the handler cannot cope" in reasons[2]
    assert await h.effects("WHERE note = 'fine'") == 1


async def _dlq_end(infra, topic):
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


@pytest.mark.parametrize("batch_size", [500, 1])
async def test_poison_in_the_middle_of_a_batch_leaves_the_others_committed_exactly_once(infra, scratch, batch_size):
    # A topic of its own: earlier tests' records on the shared one would be read from the start too.
    h = Harness(infra, scratch, f"g{uuid4().hex[:6]}", topic=f"mid{uuid4().hex[:6]}")
    await _create_topic(infra, h.topic)
    await _create_topic(infra, h.dlq)
    good = [issued(f"good-{n}") for n in range(11)]
    await h.publish(*(codec.encode(e) for e in good[:5]), codec.encode(issued("poison")),
                    *(codec.encode(e) for e in good[5:10]), b"{garbage", codec.encode(good[10]), codec.encode(good[3]))
    runner, dead = await h.runner(batch_size)
    commits = []
    commit = runner._consumer.commit

    async def counted_commit(offsets=None):
        commits.append(dict(offsets or {}))
        await commit(offsets)

    runner._consumer.commit = counted_commit

    async def all_seen() -> bool:
        # Eleven effects can exist before the last record (a redelivered duplicate) is read, one
        # record at a time; wait for the runner to have seen it too.
        return await _at_least(h, 11) and sum(runner.outcomes.values()) >= 14

    await run_until(runner, all_seen)
    await dead.stop()
    assert runner.outcomes == {"handled": 11, "dead_lettered": 2, "duplicate": 1}
    assert await _dlq_end(infra, h.dlq) == 2  # acknowledged before the offsets moved
    assert await h.effects() == 11
    assert await h.effects("WHERE note = 'poison'") == 0
    assert await scratch.count("SELECT count(DISTINCT event_id) FROM {schema}.inbox") == 11
    if batch_size > 1:
        assert runner.batches < 14, "the records should have been taken in batches"
    else:
        assert runner.batches == 14  # one transaction per record
        # ... but the offsets of a fetch are committed together, after its records' transactions.
        assert 0 < len(commits) < runner.batches
    assert list(commits[-1].values()) == [14]

    # The offsets were committed: the next member of the group sees only what comes after.
    again, dead = await h.runner(batch_size)
    await h.publish(codec.encode(issued("later")))
    await run_until(again, lambda: _at_least(h, 12))
    await dead.stop()
    assert again.outcomes == {"handled": 1}


async def test_a_rebalance_mid_batch_loses_nothing_and_handles_nothing_twice(infra, scratch):
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    h = Harness(infra, scratch, f"g{uuid4().hex[:6]}", topic=f"reb{uuid4().hex[:6]}")
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(h.topic, 4, 1)])
    await admin.close()
    events = [issued(f"reb-{n}") for n in range(400)]
    p = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await p.start()
    await p.publish_many((h.topic, codec.record_key(e), codec.encode(e)) for e in events)
    await p.stop()

    slow = h.handler

    async def handler(session, envelope):
        await asyncio.sleep(0.005)  # batches long enough for the second member to join mid-way
        await slow(session, envelope)

    h.handler = handler
    first, dead_1 = await h.runner(batch_size=50)
    task_1 = asyncio.create_task(first.run())
    await _until(lambda: _at_least(h, 50))
    second, dead_2 = await h.runner(batch_size=50)
    task_2 = asyncio.create_task(second.run())
    await _until(lambda: _at_least(h, len(events)), timeout=120)
    for runner in (first, second):
        runner.stop()
    await asyncio.gather(task_1, task_2)
    await dead_1.stop()
    await dead_2.stop()
    print(f"\nhandled: first member {first.outcomes}, second member {second.outcomes}")
    assert await h.effects() == len(events)
    assert await scratch.count("SELECT count(DISTINCT event_id) FROM {schema}.effects") == len(events)
    # Anything fetched but not committed before the rebalance came again as a duplicate, never as a second effect.
    assert first.outcomes["handled"] + second.outcomes["handled"] == len(events)


async def _until(condition, timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)
