import asyncio
from collections import defaultdict
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from rapport_shared.bus.outbox import Outbox, OutboxRelay
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts import make_event
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration
TENANT = uuid4()


def balance_event(customer, seq: int):
    payload = InvoiceBalanceChangedV1(
        invoice_id=uuid4(), customer_id=customer, number=f"INV-{seq}", issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1), currency="USD", amount_total=Decimal("100"), open_amount=Decimal(100 - seq % 100),
        status="partially_paid", cause="payment", delta=Decimal("-1"), version=seq,
    )
    return make_event(payload, source="/test", tenant_id=TENANT, customer_key=customer)


async def producer(infra):
    p = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await p.start()
    return p


async def test_committed_rows_are_published_and_rolled_back_rows_never(infra, scratch):
    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customer = uuid4()
    kept, dropped = balance_event(customer, 1), balance_event(customer, 2)
    async with scratch.sessions() as session, session.begin():
        await outbox.add(session, kept)
    async with scratch.sessions() as session:
        async with session.begin():
            await outbox.add(session, dropped)
            await session.rollback()
    p = await producer(infra)
    try:
        relay = OutboxRelay(scratch.engine, scratch.schema, p, "test")
        async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
            assert await relay.publish_once() == 1
            await watcher.wait_for(lambda e: e.id == kept.id)
            await asyncio.sleep(0.5)
            assert not [e for e in watcher.events if e.id == dropped.id]
        assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 0
        assert await relay.backlog() == 0
    finally:
        await p.stop()


async def test_two_relays_keep_each_customers_order_and_lose_nothing(infra, scratch):
    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customers = [uuid4() for _ in range(20)]
    sent = []
    for seq in range(1, 31):
        async with scratch.sessions() as session, session.begin():
            events = [balance_event(c, seq) for c in customers]
            await outbox.add(session, *events)
            sent += events
    p1, p2 = await producer(infra), await producer(infra)
    relays = [OutboxRelay(scratch.engine, scratch.schema, p, "test", batch_size=37) for p in (p1, p2)]
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        tasks = [asyncio.create_task(r.run()) for r in relays]
        wanted = {e.id for e in sent}
        await watcher.wait_for(lambda e: e.id in wanted, count=len(wanted), timeout=60)
        for r in relays:
            r.stop()
        await asyncio.gather(*tasks)
        await p1.stop()
        await p2.stop()
    seen = defaultdict(list)
    for e in watcher.events:
        if e.id in wanted:
            seen[e.data["customer_id"]].append(e.data["version"])
    assert len(seen) == len(customers)
    for versions in seen.values():
        assert versions == sorted(versions), "per-customer order broken"
        assert sorted(set(versions)) == list(range(1, 31))


async def _versions_once_in_order(watcher, wanted: set, count: int, timeout: float = 30) -> list[int]:
    """The versions of ``wanted`` events seen so far, read on until the last ``count`` are 1..count (or the time
    is up): a failed attempt may have put its first chunk on the topic before the pass that succeeded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        versions = [e.data["version"] for e in watcher.events if e.id in wanted]
        if versions[-count:] == list(range(1, count + 1)) or loop.time() > deadline:
            return versions
        await asyncio.sleep(0.1)


class FailsOnSecondChunk(EventProducer):
    """The real producer, except that the second chunk of a transaction cannot be handed over."""

    chunks = 0

    async def enqueue_many(self, records):
        self.chunks += 1
        if self.chunks == 2:
            raise ConnectionError("broker went away mid-batch")
        return await super().enqueue_many(records)


async def test_one_transaction_sends_many_chunks_in_order_and_a_failure_restores_every_row(infra, scratch):
    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customer = uuid4()
    events = [balance_event(customer, seq) for seq in range(1, 26)]
    async with scratch.sessions() as session, session.begin():
        await outbox.add(session, *events)
    failing = FailsOnSecondChunk(make_kafka_producer(infra.bootstrap), "test")
    await failing.start()
    try:
        with pytest.raises(ConnectionError):
            await OutboxRelay(scratch.engine, scratch.schema, failing, "test", batch_size=25, chunk_size=10).publish_once()
    finally:
        await failing.stop()
    assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 25  # the first chunk's delete rolled back

    p = await producer(infra)
    try:
        relay = OutboxRelay(scratch.engine, scratch.schema, p, "test", batch_size=25, chunk_size=10)
        async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
            assert await relay.publish_once() == 25
            wanted = {e.id for e in events}
            await watcher.wait_for(lambda e: e.id in wanted, count=25)
            versions = await _versions_once_in_order(watcher, wanted, 25)
        assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 0
    finally:
        await p.stop()
    # Order holds in each pass: this pass's 25 come last, in order, after at most one earlier chunk.
    assert versions[-25:] == list(range(1, 26))
    assert versions[:-25] in ([], list(range(1, 11)))
    assert sorted(set(versions)) == list(range(1, 26))


class FlushesStats(OutboxRelay):
    """The real relay; its backend also reports its table statistics when each batch commits."""

    async def _send_lanes(self, conn, lanes):
        await conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        return await super()._send_lanes(conn, lanes)


async def _blocks_touched(scratch) -> int:
    """Heap and index blocks of the outbox read so far (from shared buffers or disk)."""
    return await scratch.count(
        "SELECT heap_blks_read + heap_blks_hit + coalesce(idx_blks_read, 0) + coalesce(idx_blks_hit, 0)"
        " FROM pg_statio_all_tables WHERE schemaname = '{schema}' AND relname = 'outbox'")


async def test_outbox_plans_stay_small_when_a_backlog_builds_up_after_the_relay_started(infra, scratch):
    """A relay that started on an empty outbox must not keep a plan that reads the whole backlog per chunk.

    Its statements were prepared and run many times while the outbox held a handful of rows; then
    100,000 rows arrive at once (a bulk import). Taking ten of them must touch a few dozen blocks,
    not the hundreds a scan of the backlog's heap or of a whole index reads.
    """
    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customer = uuid4()
    p = await producer(infra)
    try:
        relay = FlushesStats(scratch.engine, scratch.schema, p, "test", batch_size=10, chunk_size=10)
        for seq in range(1, 13):  # past the point where a prepared statement switches to a generic plan
            async with scratch.sessions() as session, session.begin():
                await outbox.add(session, *(balance_event(customer, seq * 100 + i) for i in range(10)))
            assert await relay.publish_once() == 10
        async with scratch.sessions() as session, session.begin():
            await outbox.add(session, *(balance_event(customer, 5000 + i) for i in range(10)))
        async with scratch.engine.begin() as conn:  # copies of those ten, as a bulk import writes them
            await conn.exec_driver_sql(
                f'INSERT INTO "{scratch.schema}".outbox (event_id, event_type, topic, lane, key, value)'
                f" SELECT gen_random_uuid(), event_type, topic, lane, key, value"
                f' FROM "{scratch.schema}".outbox, generate_series(1, 10000)')
        assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 100_010
        await asyncio.sleep(1.2)  # this test's own writes and reads reach the statistics first
        before = await _blocks_touched(scratch)
        assert await relay.publish_once() == 10
        for _ in range(50):  # the relay's backend reports as its transaction commits; the collector is shared
            touched = await _blocks_touched(scratch) - before
            if touched > 0:
                break
            await asyncio.sleep(0.1)
        assert 0 < touched < 150, f"taking 10 rows from a 100,000-row backlog touched {touched} blocks"
    finally:
        await p.stop()


class CountsChunks(OutboxRelay):
    """The real relay, remembering the value bytes of every chunk it took."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chunk_sizes: list[int] = []

    async def _take(self, driver, lanes, limit):
        rows = await super()._take(driver, lanes, limit)
        self.chunk_sizes.append(sum(len(row[2]) for row in rows))
        return rows


async def test_packed_rows_are_opened_and_published_in_order_among_single_rows(infra, scratch):
    """What a bulk import writes (hundreds of events per row) and what the API writes (one per row), mixed."""
    from sqlalchemy import insert

    from rapport_shared.bus.outbox import PACKED, packed_rows

    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customers = [uuid4() for _ in range(3)]
    events = {c: [balance_event(c, seq) for seq in range(1, 201)] for c in customers}
    async with scratch.sessions() as session, session.begin():  # 1-10 of each: a row per event
        await outbox.add(session, *(e for c in customers for e in events[c][:10]))
    async with scratch.sessions() as session, session.begin():  # 11-190: packed, as an import chunk writes them
        rows = packed_rows([tuple(outbox.row(e).values()) for c in customers for e in events[c][10:190]], limit=8000)
        assert sum(1 for row in rows if row[1] == PACKED) >= 3
        columns = ("event_id", "event_type", "topic", "lane", "key", "value")
        await session.execute(insert(outbox.table), [dict(zip(columns, row)) for row in rows])
    async with scratch.sessions() as session, session.begin():  # 191-200: single rows again
        await outbox.add(session, *(e for c in customers for e in events[c][190:]))

    p = await producer(infra)
    try:
        relay = CountsChunks(scratch.engine, scratch.schema, p, "test", batch_size=100_000, chunk_bytes=20_000)
        async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
            assert await relay.publish_once() == 600
            wanted = {e.id for c in customers for e in events[c]}
            await watcher.wait_for(lambda e: e.id in wanted, count=600, timeout=60)
        assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 0
    finally:
        await p.stop()
    for c in customers:
        versions = [e.data["version"] for e in watcher.events if e.id in wanted and e.data["customer_id"] == str(c)]
        assert versions == list(range(1, 201)), "a customer's events came out of order or twice"
    # Chunks end at the byte budget: a chunk holds what starts within 20,000 bytes (at most one row more).
    assert len(relay.chunk_sizes) > 3
    assert all(size < 20_000 + 8_000 + 2_000 for size in relay.chunk_sizes)


async def test_a_failed_batch_of_packed_rows_restores_them_whole_and_the_retry_sends_each_event_in_order(infra, scratch):
    from sqlalchemy import insert

    from rapport_shared.bus.outbox import packed_rows

    outbox = Outbox(scratch.schema, TopicNames(infra.topic_prefix))
    customer = uuid4()
    events = [balance_event(customer, seq) for seq in range(1, 121)]
    rows = packed_rows([tuple(outbox.row(e).values()) for e in events], limit=6000)  # ~10 events per row
    columns = ("event_id", "event_type", "topic", "lane", "key", "value")
    async with scratch.sessions() as session, session.begin():
        await session.execute(insert(outbox.table), [dict(zip(columns, row)) for row in rows])
    stored = await scratch.count("SELECT count(*) FROM {schema}.outbox")
    assert 5 < stored < 30
    failing = FailsOnSecondChunk(make_kafka_producer(infra.bootstrap), "test")
    await failing.start()
    try:
        with pytest.raises(ConnectionError):
            await OutboxRelay(scratch.engine, scratch.schema, failing, "test", batch_size=1000,
                              chunk_bytes=10_000).publish_once()
    finally:
        await failing.stop()
    assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == stored  # every packed row is back

    p = await producer(infra)
    try:
        relay = OutboxRelay(scratch.engine, scratch.schema, p, "test", batch_size=1000, chunk_bytes=10_000)
        async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
            assert await relay.publish_once() == 120
            wanted = {e.id for e in events}
            await watcher.wait_for(lambda e: e.id in wanted, count=120, timeout=60)
            versions = await _versions_once_in_order(watcher, wanted, 120)
        assert await scratch.count("SELECT count(*) FROM {schema}.outbox") == 0
    finally:
        await p.stop()
    assert versions[-120:] == list(range(1, 121))
    assert sorted(set(versions)) == list(range(1, 121))
