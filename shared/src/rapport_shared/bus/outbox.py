"""Transactional outbox: ``add`` inside the state's transaction; ``OutboxRelay`` publishes."""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable

from sqlalchemy import MetaData, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rapport_shared.bus import codec
from rapport_shared.bus.producer import EventProducer
from rapport_shared.bus.tables import OUTBOX_LANES, outbox_table
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.registry import payload_class
from rapport_shared.observability import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, get_logger

log = get_logger(__name__)


def lane_of(key: bytes | None) -> int:
    return zlib.crc32(key or b"") % OUTBOX_LANES


class Outbox:
    """Writes events into the service's outbox table, in the caller's transaction."""

    def __init__(self, schema: str, topics: TopicNames) -> None:
        self.table = outbox_table(MetaData(schema=schema))
        self._topics = topics

    def row(self, envelope: Envelope) -> dict:
        key = codec.record_key(envelope)
        return {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "topic": self._topics(payload_class(envelope.type).topic),
            "lane": lane_of(key),
            "key": key,
            "value": codec.encode(envelope),
        }

    async def add(self, session: AsyncSession | AsyncConnection, *envelopes: Envelope) -> None:
        await self.add_many(session, envelopes)

    async def add_many(self, session: AsyncSession | AsyncConnection, envelopes: Iterable[Envelope]) -> None:
        rows = [self.row(e) for e in envelopes]
        if rows:
            await session.execute(insert(self.table), rows)


class OutboxRelay:
    """Publishes committed outbox rows with the idempotent producer, then deletes them.

    Lanes are claimed with transaction-scoped advisory locks and rows with
    ``FOR UPDATE SKIP LOCKED``, so several relays can run side by side without
    reordering one customer's events. A crash after publishing and before the delete
    republishes the batch; consumers' inboxes make that harmless.
    """

    def __init__(
        self, engine: AsyncEngine, schema: str, producer: EventProducer, service: str,
        *, batch_size: int = 500, idle_poll_s: float = 0.05,
    ) -> None:
        self._engine = engine
        self._schema = schema
        self.table = outbox_table(MetaData(schema=schema))
        self._producer = producer
        self._service = service
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._stopping = asyncio.Event()

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        async with self._engine.begin() as conn:
            lanes = await self._claim_lanes(conn)
            if not lanes:
                return 0
            rows = (await conn.execute(
                select(self.table.c.id, self.table.c.topic, self.table.c.key, self.table.c.value)
                .where(self.table.c.lane.in_(lanes))
                .order_by(self.table.c.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )).all()
            if not rows:
                return 0
            await self._producer.publish_many((r.topic, r.key, r.value) for r in rows)
            await conn.execute(delete(self.table).where(self.table.c.id.in_([r.id for r in rows])))
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _claim_lanes(self, conn: AsyncConnection) -> list[int]:
        result = await conn.execute(
            text("SELECT l FROM generate_series(0, :n - 1) AS l WHERE pg_try_advisory_xact_lock(hashtext(:ns), l)"),
            {"n": OUTBOX_LANES, "ns": f"rapport.outbox.{self._schema}"},
        )
        return [row[0] for row in result]

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(self.table))).scalar_one()
        OUTBOX_BACKLOG.labels(self._service).set(count)
        return count

    async def run(self) -> None:
        """Publish until stopped; a failed batch is retried after a pause, nothing is skipped."""
        last_backlog = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                sent = await self.publish_once()
                if loop.time() - last_backlog > 5:
                    last_backlog = loop.time()
                    await self.backlog()
            except Exception as exc:  # noqa: BLE001 - the relay must outlive Kafka or DB outages
                log.warning("outbox relay batch failed; will retry", error=repr(exc))
                sent = 0
                await self._sleep(1.0)
            if sent < self._batch_size:
                await self._sleep(self._idle_poll_s)

    def stop(self) -> None:
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass
