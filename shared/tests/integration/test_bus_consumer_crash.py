"""SIGKILL a consumer mid-batch: the redelivered batch has exactly-once effect (rollback or inbox)."""
import asyncio
import json
import re
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from rapport_shared.bus import codec
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1
from rapport_shared.infra.naming import database_url_with_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PROC = Path(__file__).with_name("bus_consumer_proc.py")
N, STALL, POISON, BATCH = 150, 70, 120, 50
TENANT, CUSTOMER = uuid4(), uuid4()


def number(n: int) -> str:
    return f"poison-{n}" if n == POISON else f"n{n:03d}"


def issued(n: int):
    payload = InvoiceIssuedV1(
        invoice_id=uuid4(), customer_id=CUSTOMER, number=number(n), issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1), currency="USD", amount_total=Decimal("10"), open_amount=Decimal("10"), status="open",
    )
    return make_event(payload, source="/test", tenant_id=TENANT, customer_key=CUSTOMER)


class ConsumerProcess:
    def __init__(self, infra, scratch, tmp_path: Path, topic: str) -> None:
        self.env = infra.env(PROC_SCHEMA=scratch.schema, PROC_BOOTSTRAP=infra.bootstrap, PROC_TOPIC=topic,
                             PROC_GROUP=infra.topic(f"crash-{uuid4().hex[:6]}"), PROC_DLQ=f"{topic}.dlq",
                             PROC_BATCH=str(BATCH),
                             PROC_DATABASE_URL=database_url_with_name(infra.admin_url, infra.database))
        self.dlq = self.env["PROC_DLQ"]
        self.tmp_path, self.runs, self.popen, self.out = tmp_path, 0, None, None

    def start(self, **env: str) -> None:
        self.runs += 1
        self.out = self.tmp_path / f"consumer-{self.runs}.log"
        with self.out.open("w") as log:
            self.popen = subprocess.Popen([sys.executable, str(PROC)], env={**self.env, **env},
                                          stdout=log, stderr=subprocess.STDOUT)

    async def wait_line(self, pattern: str, timeout: float = 120.0) -> re.Match:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = re.search(pattern, self.out.read_text())
            if found:
                return found
            assert self.popen.poll() is None, f"consumer exited {self.popen.returncode}:\n{self.out.read_text()[-3000:]}"
            await asyncio.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r}:\n{self.out.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.popen.send_signal(sig)
        self.popen.wait(timeout=60)


async def make_topics(infra, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


async def end_offset(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def effects(scratch) -> int:
    return await scratch.count("SELECT count(*) FROM {schema}.effects")


async def until_effects(scratch, proc: ConsumerProcess, count: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 180
    while await effects(scratch) < count:
        assert loop.time() < deadline and proc.popen.poll() is None, proc.out.read_text()[-3000:]
        await asyncio.sleep(0.1)


async def test_sigkill_mid_batch_redelivers_the_batch_with_exactly_once_effect(infra, scratch, tmp_path):
    topic = infra.topic(f"crash{uuid4().hex[:6]}")
    proc = ConsumerProcess(infra, scratch, tmp_path, topic)
    await make_topics(infra, topic, proc.dlq)
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await producer.start()
    events = [issued(n) for n in range(N)]
    await producer.publish_many((topic, codec.record_key(e), codec.encode(e)) for e in events)
    await producer.stop()

    # 1. Killed inside an open batch transaction: the batch's records are rolled back.
    proc.start(STALL_ON=number(STALL))
    in_batch = int((await proc.wait_line(r"stalling after (\d+) records"))[1])
    proc.kill()
    committed = await effects(scratch)
    print(f"\nkilled with {in_batch} records of the batch in flight; {committed} committed before it")
    assert committed == STALL + 1 - in_batch, "only whole batches before the stalled one may have committed"

    # 2. Killed after a batch committed but before its dead letter and offsets went out.
    proc.start(STALL_DEAD_LETTERS="1")
    await proc.wait_line("stalling before the dead letters")
    proc.kill()
    committed = await effects(scratch)
    assert committed >= POISON, "the batch holding the poison record should have committed its good records"
    assert await end_offset(infra.bootstrap, proc.dlq) == 0

    # 3. A clean run: the committed batch comes again and the inbox absorbs it.
    proc.start()
    await proc.wait_line("consumer running")
    await until_effects(scratch, proc, N - 1)
    proc.kill(signal.SIGTERM)
    outcomes = json.loads((await proc.wait_line(r"outcomes (\{.*\})"))[1])
    print(f"after the kills: {outcomes}")
    assert outcomes.get("handled", 0) == N - 1 - committed
    assert outcomes.get("duplicate", 0) >= 1, "the batch committed before the kill should have been redelivered"
    assert outcomes["dead_lettered"] == 1
    assert await scratch.count("SELECT count(DISTINCT event_id) FROM {schema}.effects") == N - 1
    assert await effects(scratch) == N - 1
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == N - 1
    assert await end_offset(infra.bootstrap, proc.dlq) == 1
