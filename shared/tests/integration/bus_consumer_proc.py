"""A consumer process for the crash tests: ``python bus_consumer_proc.py`` with its settings in the environment.

It runs the real ``ConsumerRunner`` with a handler that writes one effect per event. Two
stalls let a test SIGKILL it at a chosen moment: ``STALL_ON=<number>`` blocks the handler
inside an open batch transaction; ``STALL_DEAD_LETTERS=1`` blocks after a batch committed,
before its dead letters (and so its offsets) went out.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter

from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, text
from sqlalchemy.dialects.postgresql import UUID

from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.consumer import ConsumerRunner, make_kafka_consumer
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.db import make_engine, make_session_factory

ENV = os.environ


def say(line: str) -> None:
    print(line, flush=True)


class StallingDeadLetters(EventProducer):
    async def publish_raws(self, records):
        say("stalling before the dead letters")
        await asyncio.Event().wait()


async def main() -> None:
    schema = ENV["PROC_SCHEMA"]
    effects = Table("effects", MetaData(schema=schema), Column("id", Integer, primary_key=True),
                    Column("event_id", UUID(as_uuid=True)), Column("note", Text))
    engine = make_engine(ENV["PROC_DATABASE_URL"], pool_size=2)
    stall_on = ENV.get("STALL_ON", "")
    per_transaction: Counter[int] = Counter()

    async def handle(session, envelope) -> None:
        number = envelope.data["number"]
        if number.startswith("poison"):
            raise PoisonMessage("this invoice can never be booked")
        await session.execute(insert(effects).values(event_id=envelope.id, note=number))
        # The top-level transaction id is the same for every savepoint of one batch.
        txid = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        per_transaction[txid] += 1
        if number == stall_on:
            say(f"stalling after {per_transaction[txid]} records of this batch")
            await asyncio.Event().wait()

    producer_class = StallingDeadLetters if ENV.get("STALL_DEAD_LETTERS") else EventProducer
    dead = producer_class(make_kafka_producer(ENV["PROC_BOOTSTRAP"]), "crash-test")
    await dead.start()
    runner = ConsumerRunner(
        consumer=make_kafka_consumer(ENV["PROC_BOOTSTRAP"], ENV["PROC_GROUP"]), topics=[ENV["PROC_TOPIC"]],
        session_factory=make_session_factory(engine), handler=handle, inbox=Inbox(schema, ENV["PROC_GROUP"]),
        dead_letters=dead, dlq_topic=ENV["PROC_DLQ"], service="crash-test", batch_size=int(ENV["PROC_BATCH"]),
        retry_backoff_s=0.05,
    )
    await runner.start()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, runner.stop)
    say("consumer running")
    await runner.run()
    await dead.stop()
    await engine.dispose()
    say("outcomes " + json.dumps(dict(runner.outcomes)))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
