"""Foundation benchmark: what the outbox relay and the inbox consumer cost over raw aiokafka.

Runs on a fresh slice of the running infrastructure (own database and topic prefix),
prints each figure beside its reference (the raw aiokafka rate) and the ratio, and the
CPU time this process spent per event (``time.process_time``; Postgres' and Kafka's own
CPU are not in it), then cleans up. ``RAPPORT_BENCH_SCALE`` scales the record counts
(1.0: 200k produced, 100k relayed, 50k consumed by the batching runner). The relay's reference
is aiokafka's cheapest path (one record batch per partition), the one it uses itself; the
per-message ``send`` rate is printed too. The consumer phases: a handler doing one insert per
event (a round trip and a SQL construct each), the same rows through ``handle_many`` (one
statement per batch), a no-op handler, and the per-record mode (one transaction per record).

    .venv/bin/python bench/foundation_bench.py
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import Column, Integer, MetaData, Table, insert, text
from sqlalchemy.dialects.postgresql import UUID

from rapport_shared.bus import codec
from rapport_shared.bus.consumer import ConsumerRunner, make_kafka_consumer
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.outbox import Outbox, OutboxRelay, packed_rows
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.contracts import make_event
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.invoice import InvoiceIssuedV1
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.testing.infra import TestInfra, create_slice, destroy_slice

REPO = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("RAPPORT_BENCH_SCALE", "1.0"))
PRODUCE_N = max(1000, int(200_000 * SCALE))
RELAY_N = max(1000, int(100_000 * SCALE))
CONSUME_N = max(2000, int(50_000 * SCALE))
PER_RECORD_N = max(300, int(3_000 * SCALE))
SERVICE = "ingest"  # any provisioned schema will do; the bench keeps to its own tables in it
BATCH = 500
RELAY_BATCH = 5000
INBOX_MAX_S = 120.0
PARTITIONS = 6


def invoice_events(count: int) -> Iterator:
    """Envelopes shaped like the ledger's invoice events, spread over 500 customers."""
    tenant, customers = uuid4(), [uuid4() for _ in range(500)]
    for n in range(count):
        customer = customers[n % len(customers)]
        payload = InvoiceIssuedV1(
            invoice_id=uuid4(), customer_id=customer, customer_external_id=f"CUST-{n % 500:04d}",
            number=f"INV-2026-{n:06d}", issue_date=date(2026, 5, 1), due_date=date(2026, 5, 1) + timedelta(days=30),
            currency="USD", amount_total=Decimal("1234.56"), tax_amount=Decimal("0"), open_amount=Decimal("1234.56"),
            status="open", po_number=f"PO-{n}", terms="NET30",
        )
        yield make_event(payload, source="/bench", tenant_id=tenant, customer_key=customer)


async def make_topic(infra: TestInfra, logical: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(infra.topic(logical), PARTITIONS, 1)])
    finally:
        await admin.close()
    return infra.topic(logical)


class Measure:
    """Wall-clock rate and this process's CPU time per item over one phase."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def figure(self, count: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return count / wall, cpu / max(count, 1) * 1e6


async def raw_produce(infra: TestInfra, topic: str, records: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    producer = make_kafka_producer(infra.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=records[0][1], key=records[0][0])  # metadata, leaders, producer id
        measure = Measure()
        for i in range(0, len(records), 10_000):
            futures = [await producer.send(topic, value=v, key=k) for k, v in records[i:i + 10_000]]
            await asyncio.gather(*futures)
        return measure.figure(len(records))
    finally:
        await producer.stop()


async def raw_produce_batched(infra: TestInfra, topic: str, records: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    """The cheapest aiokafka gets: one record batch per partition (``create_batch`` / ``send_batch``),
    partitions from the default partitioner computed once per key; what the relay now does."""
    producer = make_kafka_producer(infra.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=records[0][1], key=records[0][0])
        partitions = list(await producer.partitions_for(topic))
        partition_of: dict[bytes, int] = {}
        measure = Measure()
        for i in range(0, len(records), 10_000):
            groups: dict[int, list[tuple[bytes, bytes]]] = {}
            for key, value in records[i:i + 10_000]:
                part = partition_of.get(key)
                if part is None:
                    part = partition_of[key] = DefaultPartitioner()(key, partitions, partitions)
                groups.setdefault(part, []).append((key, value))
            futures = []
            for part, items in groups.items():
                batch = producer.create_batch()
                for key, value in items:
                    if batch.append(timestamp=None, key=key, value=value) is None:
                        futures.append(await producer.send_batch(batch, topic, partition=part))
                        batch = producer.create_batch()
                        batch.append(timestamp=None, key=key, value=value)
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=part))
            await asyncio.gather(*futures)
        return measure.figure(len(records))
    finally:
        await producer.stop()


async def fill_outbox(engine, outbox: Outbox, count: int) -> tuple[float, float]:
    sessions = make_session_factory(engine)
    events = invoice_events(count)
    measure = Measure()
    for _ in range(0, count, 2000):
        chunk = [e for _, e in zip(range(2000), events)]
        async with sessions() as session, session.begin():
            await outbox.add_many(session, chunk)
    return measure.figure(count)


async def fill_outbox_packed(engine, outbox: Outbox, count: int) -> tuple[float, float]:
    """What bulk writers do (the invoice and payment imports, the scheduler's ticker): rows of one chunk
    packed a lane at a time (``packed_rows``) and COPYed, 2,000 events per transaction."""
    events = invoice_events(count)
    measure = Measure()
    for _ in range(0, count, 2000):
        rows = [tuple(outbox.row(e).values()) for _, e in zip(range(2000), events)]
        async with engine.begin() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.copy_records_to_table("outbox", schema_name=SERVICE, records=packed_rows(rows),
                                               columns=("event_id", "event_type", "topic", "lane", "key", "value"))
    return measure.figure(count)


async def drain(infra: TestInfra, engine, relays: int, count: int) -> tuple[float, float]:
    producers = [EventProducer(make_kafka_producer(infra.bootstrap), "bench") for _ in range(relays)]
    for p in producers:
        await p.start()
    sent = 0

    async def loop(relay: OutboxRelay) -> None:
        nonlocal sent
        while sent < count:
            n = await relay.publish_once()
            sent += n
            if not n:
                await asyncio.sleep(0.005)

    try:
        measure = Measure()
        await asyncio.gather(*(loop(OutboxRelay(engine, SERVICE, p, "bench", batch_size=RELAY_BATCH)) for p in producers))
        return measure.figure(count)
    finally:
        for p in producers:
            await p.stop()


async def raw_consume(infra: TestInfra, topic: str, count: int) -> tuple[float, float]:
    # Assigned partitions, no group: the figure is fetching alone, without a group join.
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", isolation_level="read_committed")
    await consumer.start()
    seen = 0
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        measure = Measure()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
            seen += sum(len(records) for records in batches.values())
        return measure.figure(seen)
    finally:
        await consumer.stop()


class ManyInserts:
    """A handler with ``handle_many``: the optimistic pass writes a batch's effect rows in one statement."""

    def __init__(self, effects: Table) -> None:
        self._statement = insert(effects)

    async def __call__(self, session, envelope) -> None:
        await session.execute(self._statement, {"event_id": envelope.id, "n": 1})

    async def handle_many(self, session, envelopes) -> None:
        await session.execute(self._statement, [{"event_id": e.id, "n": 1} for e in envelopes])


async def inbox_consume(
    infra: TestInfra, engine, effects: Table | None, topic: str, count: int, batch: int, *, many: bool = False,
) -> tuple[float, float]:
    """The runner with the inbox; the handler inserts one row into ``effects`` (None: does nothing);
    ``many``: the same rows through ``handle_many``, one statement per batch."""
    async def one_insert(session, envelope) -> None:
        if effects is not None:
            await session.execute(insert(effects).values(event_id=envelope.id, n=1))

    handler = ManyInserts(effects) if many else one_insert

    dead_letters = EventProducer(make_kafka_producer(infra.bootstrap), "bench")
    await dead_letters.start()
    group = f"bench-inbox-{batch}-{effects is None}-{many}"
    runner = ConsumerRunner(
        consumer=make_kafka_consumer(infra.bootstrap, infra.topic(group)), topics=[topic],
        session_factory=make_session_factory(engine), handler=handler, inbox=Inbox(SERVICE, group),
        dead_letters=dead_letters, dlq_topic=TopicNames(infra.topic_prefix).dlq(SERVICE), service="bench",
        batch_size=batch,
    )
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        while runner.handled == 0:
            await asyncio.sleep(0.01)
        first, measure = runner.handled, Measure()
        # Bounded: on a saturated machine the per-record mode can be slow; the rate stands.
        while runner.handled < count and time.perf_counter() - measure.wall < INBOX_MAX_S:
            await asyncio.sleep(0.02)
        return measure.figure(runner.handled - first)
    finally:
        runner.stop()
        await task
        await dead_letters.stop()


def report(label: str, figure: tuple[float, float], reference: tuple[float, float] | None = None, ref_label: str = "") -> None:
    rate, cpu_us = figure
    line = f"  {label:<50} {rate:>9,.0f} /s  {cpu_us:>6.0f} us CPU/event"
    if reference:
        line += f"   reference {ref_label} {reference[0]:,.0f} /s ({reference[1]:.0f} us)   ratio {rate / reference[0]:.3f}"
    print(line, flush=True)


async def run(infra: TestInfra) -> None:
    engine = make_engine(infra.database_url(SERVICE), pool_size=4)
    metadata = MetaData(schema=SERVICE)
    add_bus_tables(metadata)
    # One effects table per consumer phase: both phases read the same events.
    effects, many_effects, per_record_effects = (
        Table(name, metadata, Column("event_id", UUID(as_uuid=True), primary_key=True), Column("n", Integer, nullable=False))
        for name in ("bench_effect", "bench_effect_many", "bench_effect_per_record"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    outbox = Outbox(SERVICE, TopicNames(infra.topic_prefix))
    records = [(codec.record_key(e), codec.encode(e)) for e in invoice_events(PRODUCE_N)]
    raw_topic = await make_topic(infra, "bench.raw")
    print(f"foundation bench: scale {SCALE}, {PRODUCE_N:,} produced, {RELAY_N:,} relayed, {CONSUME_N:,} consumed "
          f"in batches, {PER_RECORD_N:,} one by one; record ~{sum(len(v) for _, v in records[:100]) // 100} bytes",
          flush=True)
    produce = await raw_produce(infra, raw_topic, records)
    report("raw aiokafka produce (idempotent, acks=all)", produce)
    batched = await raw_produce_batched(infra, await make_topic(infra, "bench.raw_batched"), records)
    report("raw aiokafka send_batch per partition", batched, produce, "raw produce")
    del records
    report("outbox insert (Outbox.add_many, 2000 per transaction)", await fill_outbox(engine, outbox, RELAY_N))
    report(f"outbox relay publish, 1 relay ({RELAY_BATCH} per transaction)", await drain(infra, engine, 1, RELAY_N),
           batched, "raw send_batch")
    await fill_outbox(engine, outbox, RELAY_N)
    report("outbox relay publish, 2 relays", await drain(infra, engine, 2, RELAY_N), batched, "raw send_batch")
    report("outbox insert, packed rows (packed_rows + COPY, 2000 per tx)", await fill_outbox_packed(engine, outbox, RELAY_N))
    report("outbox relay publish of packed rows, 1 relay", await drain(infra, engine, 1, RELAY_N), batched,
           "raw send_batch")
    consume = await raw_consume(infra, raw_topic, CONSUME_N)
    report("raw aiokafka consume", consume)
    report(f"ConsumerRunner + inbox, batches of {BATCH}, one insert", await inbox_consume(infra, engine, effects, raw_topic, CONSUME_N, BATCH),
           consume, "raw consume")
    report(f"ConsumerRunner + inbox, batches of {BATCH}, handle_many",
           await inbox_consume(infra, engine, many_effects, raw_topic, CONSUME_N, BATCH, many=True), consume, "raw consume")
    report(f"ConsumerRunner + inbox, batches of {BATCH}, no-op handler",
           await inbox_consume(infra, engine, None, raw_topic, CONSUME_N, BATCH), consume, "raw consume")
    report("ConsumerRunner + inbox, per record (batch 1)",
           await inbox_consume(infra, engine, per_record_effects, raw_topic, PER_RECORD_N, 1), consume, "raw consume")
    async with engine.connect() as conn:
        written = [(await conn.execute(text(f"SELECT count(*), count(DISTINCT event_id) FROM {SERVICE}.{t.name}"))).one()
                   for t in (effects, many_effects, per_record_effects)]
    print(f"  (check: {written[0][0]:,} + {written[1][0]:,} + {written[2][0]:,} handler effects written, one per event "
          f"handled; distinct ids: {written[0][1]:,} + {written[1][1]:,} + {written[2][1]:,})", flush=True)
    await engine.dispose()


def main() -> None:
    # A SIGTERM (e.g. a timeout) still drops the slice's database and topics.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    infra = create_slice(REPO)
    try:
        asyncio.run(run(infra))
    finally:
        destroy_slice(infra)


if __name__ == "__main__":
    main()
