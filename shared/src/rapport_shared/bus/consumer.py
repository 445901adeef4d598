"""The consumer runner every service uses.

Records are taken in batches (bounded by count and bytes). A batch is one Postgres
transaction with a savepoint per record (state + inbox row + outbox rows); poison records
roll back only their savepoint and go to the dead-letter topic; offsets are committed
only after the transaction committed and the dead letters were acknowledged. Transient
failures (database or broker down) retry the whole batch without moving the offset.
``batch_size=1`` gives the per-record mode: one transaction per record.

Offsets are committed once per fetch, after every batch cut from it committed (or at the
first batch that did not: what did commit is committed, the rest is fetched again). In
the per-record mode a fetch takes up to ``FETCH_RECORDS`` records, so one offset commit
covers many records' transactions; a crash in between redelivers records whose effects
committed, and the inbox turns them into duplicates.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
import time
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.bus.batch import (
    TRANSIENT, BatchAbandoned, BatchProcessor, Handler, Item, cut_batches, is_transient,
)
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.producer import EventProducer
from rapport_shared.observability import (
    CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_LATENCY, get_logger,
)

log = get_logger(__name__)

# Records asked of one getmany at least, whatever the batch size (the per-record mode would
# otherwise pay a fetch call and an offset commit round trip per record).
FETCH_RECORDS = 100
# The lag gauges are refreshed at most this often (a position() call per partition).
LAG_EVERY_S = 1.0

__all__ = ["ConsumerRunner", "Handler", "TRANSIENT", "is_transient", "make_kafka_consumer"]


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, runner: "ConsumerRunner") -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Let the batch in flight finish (or give up, if it is waiting out an outage), then
        # commit what did commit before another member takes the partitions over.
        self._runner.revoking = True
        try:
            async with self._runner.processing:
                await self._runner.commit_pending(revoked)
        finally:
            self._runner.revoking = False

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
        batch_size: int = 500,
        batch_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self._consumer = consumer
        self._topics = list(topics)
        self._dead_letters = dead_letters
        self._dlq_topic = dlq_topic
        self._service = service
        self._retry_backoff_s = retry_backoff_s
        self._batch_size = max(1, batch_size)
        self._batch_bytes = max(1, batch_bytes)
        self._fetch_records = max(self._batch_size, FETCH_RECORDS)
        self._lag_at = 0.0
        self._processor = BatchProcessor(session_factory, handler, inbox, max_attempts=max_attempts,
                                         retry_backoff_s=retry_backoff_s, should_abandon=self._should_abandon,
                                         hold_connection=True)
        self._pending: dict[TopicPartition, int] = {}
        self._stopping = asyncio.Event()
        self.processing = asyncio.Lock()
        self.revoking = False
        self.handled = 0
        self.batches = 0
        self.outcomes: Counter[str] = Counter()

    async def start(self) -> None:
        self._consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
        await self._consumer.start()

    def stop(self) -> None:
        """Ask the loop to finish (or abandon, during an outage) the batch in hand, commit, and return."""
        self._stopping.set()

    def _should_abandon(self) -> bool:
        return self._stopping.is_set() or self.revoking

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                fetched = await self._consumer.getmany(timeout_ms=500, max_records=self._fetch_records)
                async with self.processing:
                    await self._process_fetched(fetched)
                if time.monotonic() - self._lag_at >= LAG_EVERY_S:
                    await self._record_lag()
                    self._lag_at = time.monotonic()
        finally:
            async with self.processing:
                await self.commit_pending()
            try:
                await self._processor.close()
            finally:
                await self._consumer.stop()

    async def _process_fetched(self, fetched: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        # A rebalance may have run between the fetch and taking the lock: records of partitions
        # that are no longer ours belong to their new owner, who reads them from the committed offset.
        assigned = self._consumer.assignment()
        mine = [records for tp, records in fetched.items() if tp in assigned]
        batches = cut_batches(mine, self._batch_size, self._batch_bytes)
        try:
            for n, batch in enumerate(batches):
                if self._should_abandon() or not await self._run_batch(batch):
                    # Fetched but not handled: fetch them again (a rebalance resets positions anyway).
                    self._rewind([r for b in batches[n:] for r in b])
                    return
        finally:
            # Only batches whose transaction committed (and whose dead letters were acknowledged)
            # have pending offsets; commit them once for the whole fetch.
            await self.commit_pending()

    async def _run_batch(self, batch: list[ConsumerRecord]) -> bool:
        """Handle, dead-letter, commit offsets; False if the batch was abandoned uncommitted."""
        try:
            items = await self._processor.process(batch)
        except BatchAbandoned as exc:
            log.warning("batch abandoned before commit; its records will be delivered again", error=str(exc))
            return False
        # The transaction committed; redelivery from here on is harmless (the inbox), so the
        # dead letters only have to be acknowledged before the offsets move.
        if not await self._dead_letter_all([i for i in items if i.outcome == "dead_lettered"]):
            return False
        self._account(items)
        for record in batch:
            self._pending[TopicPartition(record.topic, record.partition)] = record.offset + 1
        return True

    async def _dead_letter_all(self, items: list[Item]) -> bool:
        outages = 0
        while items:
            try:
                await self._dead_letters.publish_raws((self._dlq_topic, *self._dead_letter(i)) for i in items)
                return True
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_transient(exc):
                    raise
                if self._should_abandon():
                    log.warning("dead letters not acknowledged; the batch will be delivered again", error=repr(exc))
                    return False
                outages += 1
                await asyncio.sleep(min(5.0, self._retry_backoff_s * 2 ** min(outages, 5)))
        return True

    def _dead_letter(self, item: Item) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
        record = item.record
        log.warning("dead-lettering record", topic=record.topic, partition=record.partition,
                    offset=record.offset, reason=item.reason)
        headers = list(record.headers or ()) + [
            ("dlq_reason", item.reason.encode()[:4000]),
            ("dlq_service", self._service.encode()),
            ("dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("dlq_time", datetime.now(timezone.utc).isoformat().encode()),
        ]
        return record.key, record.value or b"", headers

    def _account(self, items: list[Item]) -> None:
        self.batches += 1
        counts: Counter[tuple[str, str]] = Counter((i.record.topic, i.outcome) for i in items)
        for (topic, outcome), count in counts.items():
            self.outcomes[outcome] += count
            EVENTS_CONSUMED.labels(self._service, topic, outcome).inc(count)
            if outcome == "dead_lettered":
                EVENTS_DEAD_LETTERED.labels(self._service, topic).inc(count)
        self.handled += counts_of(counts, "handled")
        latency = {}
        for item in items:
            if item.envelope is not None:
                topic = item.record.topic
                child = latency.get(topic)
                if child is None:
                    child = latency[topic] = HANDLER_LATENCY.labels(self._service, topic)
                child.observe(item.seconds)

    def _rewind(self, records: list[ConsumerRecord]) -> None:
        first: dict[TopicPartition, int] = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        assigned = self._consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)

    async def commit_pending(self, only: Sequence[TopicPartition] | None = None) -> None:
        offsets = {tp: o for tp, o in self._pending.items() if only is None or tp in only}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group moved on; the records will be redelivered and the inbox absorbs them.
            log.warning("offset commit refused after rebalance", error=str(exc))
        except KafkaError as exc:
            # Kept pending: the next commit carries them (offsets only move forward).
            log.warning("offset commit failed; will retry with the next batch", error=repr(exc))
            return
        for tp, offset in offsets.items():
            if self._pending.get(tp) == offset:
                self._pending.pop(tp, None)

    async def _record_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            CONSUMER_LAG.labels(self._service, tp.topic, str(tp.partition)).set(max(0, highwater - position))


def counts_of(counts: Counter[tuple[str, str]], outcome: str) -> int:
    return sum(n for (_, o), n in counts.items() if o == outcome)


def make_kafka_consumer(
    bootstrap: str, group_id: str, *, client_id: str | None = None, max_partition_fetch_bytes: int = 1048576,
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id or group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=max_partition_fetch_bytes,
        max_poll_interval_ms=300000,
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
    )
