"""The consumer runner every service uses.

One Postgres transaction per record (state + inbox row + outbox rows), offsets committed
only after it commits, poison records dead-lettered with a reason, transient failures
(database or broker down) retried without moving the offset.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.bus import codec
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.producer import EventProducer
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.observability import (
    CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_LATENCY, bind_event_context,
    clear_event_context, get_logger,
)

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
TRANSIENT = (OperationalError, InterfaceError, OSError, ConnectionError, asyncio.TimeoutError, KafkaError)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, runner: "ConsumerRunner") -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight so its offsets are committed before another member takes over.
        async with self._runner.processing:
            await self._runner.commit_pending(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=[f"{tp.topic}:{tp.partition}" for tp in assigned])


class ConsumerRunner:
    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        topics: Sequence[str],
        session_factory: async_sessionmaker[AsyncSession],
        handler: Handler,
        inbox: Inbox,
        dead_letters: EventProducer,
        dlq_topic: str,
        service: str,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
    ) -> None:
        self._consumer = consumer
        self._topics = list(topics)
        self._sessions = session_factory
        self._handler = handler
        self._inbox = inbox
        self._dead_letters = dead_letters
        self._dlq_topic = dlq_topic
        self._service = service
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._pending: dict[TopicPartition, int] = {}
        self._stopping = asyncio.Event()
        self.processing = asyncio.Lock()
        self.handled = 0

    async def start(self) -> None:
        self._consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
        await self._consumer.start()

    def stop(self) -> None:
        """Ask the loop to finish the record in hand, commit, and return."""
        self._stopping.set()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=500, max_records=500)
                async with self.processing:
                    for tp, records in batches.items():
                        await self._process_partition(tp, records)
                    await self.commit_pending()
                await self._record_lag()
        finally:
            async with self.processing:
                await self.commit_pending()
            await self._consumer.stop()

    async def _process_partition(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        for record in records:
            if self._stopping.is_set():
                return
            await self._process(record)
            self._pending[tp] = record.offset + 1

    async def _process(self, record: ConsumerRecord) -> None:
        started = time.perf_counter()
        try:
            envelope = codec.decode(record.value)
        except PoisonMessage as exc:
            await self._dead_letter(record, str(exc))
            return
        bind_event_context(envelope.correlation_id, envelope.id, envelope.type)
        try:
            outcome = await self._handle_with_retries(record, envelope)
        finally:
            clear_event_context()
        EVENTS_CONSUMED.labels(self._service, record.topic, outcome).inc()
        HANDLER_LATENCY.labels(self._service, record.topic).observe(time.perf_counter() - started)

    async def _handle_with_retries(self, record: ConsumerRecord, envelope: Envelope) -> str:
        failures = outages = 0
        while True:
            try:
                return await self._handle_once(envelope)
            except (PoisonMessage, ValidationError) as exc:
                await self._dead_letter(record, f"{envelope.type}: {exc}")
                return "dead_lettered"
            except Exception as exc:  # noqa: BLE001 - classified below
                if is_transient(exc):
                    # An outage is not the record's fault: wait it out, never skip the record.
                    if self._stopping.is_set():
                        raise
                    outages += 1
                    log.warning("transient failure, retrying without committing", error=repr(exc))
                    await asyncio.sleep(min(5.0, self._retry_backoff_s * 2 ** min(outages, 5)))
                    continue
                failures += 1
                if failures >= self._max_attempts:
                    log.error("dead-lettering event after repeated failures", error=repr(exc))
                    await self._dead_letter(record, f"handler failed {failures} times: {type(exc).__name__}: {exc}")
                    return "dead_lettered"
                await asyncio.sleep(self._retry_backoff_s * failures)

    async def _handle_once(self, envelope: Envelope) -> str:
        async with self._sessions() as session, session.begin():
            if not await self._inbox.claim(session, envelope):
                return "duplicate"
            await self._handler(session, envelope)
        self.handled += 1
        return "handled"

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        log.warning("dead-lettering record", topic=record.topic, partition=record.partition,
                    offset=record.offset, reason=reason)
        headers = list(record.headers or ()) + [
            ("dlq_reason", reason.encode()[:4000]),
            ("dlq_service", self._service.encode()),
            ("dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("dlq_time", datetime.now(timezone.utc).isoformat().encode()),
        ]
        await self._dead_letters.publish_raw(self._dlq_topic, record.key, record.value or b"", headers)
        EVENTS_DEAD_LETTERED.labels(self._service, record.topic).inc()

    async def commit_pending(self, only: Sequence[TopicPartition] | None = None) -> None:
        offsets = {tp: o for tp, o in self._pending.items() if only is None or tp in only}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group moved on; the records will be redelivered and the inbox absorbs them.
            log.warning("offset commit refused after rebalance", error=str(exc))
        for tp in offsets:
            self._pending.pop(tp, None)

    async def _record_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            CONSUMER_LAG.labels(self._service, tp.topic, str(tp.partition)).set(max(0, highwater - position))


def make_kafka_consumer(bootstrap: str, group_id: str, *, client_id: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id or group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
    )
