"""Transactional outbox: ``add`` inside the state's transaction; ``OutboxRelay`` publishes."""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable

from sqlalchemy import MetaData, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rapport_shared.bus import codec
from rapport_shared.bus.producer import EventProducer, wait_all
from rapport_shared.bus.tables import OUTBOX_LANES, outbox_table
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.registry import payload_class
from rapport_shared.observability import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, get_logger

log = get_logger(__name__)


def lane_of(key: bytes | None) -> int:
    return zlib.crc32(key or b"") % OUTBOX_LANES


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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
    """Publishes committed outbox rows with the idempotent producer, deleting them in the same transaction.

    Lanes are claimed with transaction-scoped advisory locks and rows with
    ``FOR UPDATE SKIP LOCKED``, so several relays can run side by side without
    reordering one customer's events. One transaction claims up to ``batch_size`` rows in
    chunks of ``chunk_size``: each chunk is deleted and returned by one statement and
    handed to the producer without waiting, so Kafka sends one chunk while the next is
    read; the transaction commits only once every record is acknowledged. A crash before
    that commit restores the rows and republishes them; consumers' inboxes make that harmless.
    """

    def __init__(
        self, engine: AsyncEngine, schema: str, producer: EventProducer, service: str,
        *, batch_size: int = 500, idle_poll_s: float = 0.05, chunk_size: int = 1000,
    ) -> None:
        self._engine = engine
        self._schema = schema
        self.table = outbox_table(MetaData(schema=schema))
        self._producer = producer
        self._service = service
        self._batch_size = max(1, batch_size)
        self._chunk_size = max(1, min(chunk_size, self._batch_size))
        self._idle_poll_s = idle_poll_s
        self._stopping = asyncio.Event()
        outbox = f'{_quote(schema)}.outbox'
        # ``id = ANY(ARRAY(claim))``, not ``id IN (claim)``: the array is computed once and the delete
        # probes the primary key. With ``IN``, the generic plan a prepared statement settles on is a
        # hash semi-join over a sequential scan of the whole outbox for every chunk, which made
        # draining a backlog of a million rows quadratic. RETURNING promises no order: the CTE sorts.
        self._take_sql = (
            f"WITH taken AS (DELETE FROM {outbox} WHERE id = ANY(ARRAY("
            f"SELECT id FROM {outbox} WHERE lane = ANY($1::smallint[]) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED))"
            f" RETURNING id, topic, key, value) SELECT topic, key, value FROM taken ORDER BY id")

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        async with self._engine.begin() as conn:
            lanes = await self._claim_lanes(conn)
            if not lanes:
                return 0
            sent = await self._send_lanes(conn, lanes)
        if sent:
            OUTBOX_PUBLISHED.labels(self._service).inc(sent)
        return sent

    async def _send_lanes(self, conn: AsyncConnection, lanes: list[int]) -> int:
        # The asyncpg connection under SQLAlchemy's, in the transaction ``_claim_lanes`` opened:
        # its cached prepared statement and C-built records cost a fraction of a Core round trip.
        driver = (await conn.get_raw_connection()).driver_connection
        sending: list[asyncio.Future[int]] = []
        sent = 0
        try:
            while sent < self._batch_size:
                limit = min(self._chunk_size, self._batch_size - sent)
                rows = await self._take(driver, lanes, limit)
                if rows:
                    sending.append(await self._producer.enqueue_many(rows))
                    sent += len(rows)
                if len(rows) < limit:
                    break
            await wait_all(sending)
        except BaseException:
            for waiting in sending:
                waiting.cancel()  # the transaction rolls back; these rows will be sent again
            raise
        return sent

    async def _take(self, driver, lanes: list[int], limit: int) -> list:
        """Delete and return ``(topic, key, value)`` of the oldest rows of our lanes, in id order
        (commit order within a key)."""
        return await driver.fetch(self._take_sql, lanes, limit)

    async def _claim_lanes(self, conn: AsyncConnection) -> list[int]:
        # Plans are made afresh for each chunk in this transaction (``SET LOCAL``, in the same round trip): a
        # generic plan cached while the outbox was nearly empty can choose a sequential scan for the delete,
        # which, once a backlog builds up, reads every row for every chunk (``test_outbox_plans``).
        result = await conn.execute(
            text("SELECT l FROM (SELECT set_config('plan_cache_mode', 'force_custom_plan', true)) AS s(v),"
                 " generate_series(0, :n - 1) AS l WHERE pg_try_advisory_xact_lock(hashtext(:ns), l)"),
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
