"""Transactional outbox: ``add`` inside the state's transaction; ``OutboxRelay`` publishes."""
from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import Iterable, Sequence

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


# A row of this event type holds several consecutive records of one topic and lane (``pack``): a bulk
# writer's thousands of events then cost Postgres a few rows to insert and delete instead of one each.
PACKED = "rapport.outbox.packed"
PACK_BYTES = 256 * 1024  # a packed row holds records up to about this size (stored uncompressed, out of line)
_LENGTH = struct.Struct(">i")
_NO_KEY = _LENGTH.pack(-1)


def pack(records: Iterable[tuple[bytes | None, bytes]]) -> bytes:
    """``(key, value)`` records as one value: each is a signed big-endian length (-1: no key) and the key,
    then the value's length and the value."""
    length, parts = _LENGTH.pack, []
    for key, value in records:
        parts += (_NO_KEY,) if key is None else (length(len(key)), key)
        parts += (length(len(value)), value)
    return b"".join(parts)


def unpack(topic: str, data: bytes) -> list[tuple[str, bytes | None, bytes]]:
    """The ``(topic, key, value)`` records of a packed value, in their order."""
    out, at, end, length = [], 0, len(data), _LENGTH.unpack_from
    try:
        while at < end:
            size = length(data, at)[0]
            key, at = (None, at + 4) if size < 0 else (data[at + 4:at + 4 + size], at + 4 + size)
            size = length(data, at)[0]
            value, at = data[at + 4:at + 4 + size], at + 4 + size
            if at > end:
                break
            out.append((topic, key, value))
    except struct.error:
        at = end + 1
    if at != end:
        raise ValueError("packed outbox value is truncated")
    return out


def opened_rows(rows: Iterable[tuple]) -> list[tuple[str, bytes | None, bytes]]:
    """``(event_type, key, value)`` of every event in outbox rows ``(event_type, topic, key, value)`` taken in id
    order, packed rows opened in place (their events' types read from each envelope): what the relay will
    send, for tests and tools that look into an outbox."""
    out: list[tuple[str, bytes | None, bytes]] = []
    for event_type, topic, key, value in rows:
        if event_type == PACKED:
            out += ((json.loads(v)["type"], k, v) for _, k, v in unpack(topic, bytes(value)))
        else:
            out.append((event_type, key, bytes(value)))
    return out


def packed_rows(rows: Sequence[tuple], limit: int = PACK_BYTES) -> list[tuple]:
    """Outbox rows ``(event_id, event_type, topic, lane, key, value)`` as fewer rows of the same shape.

    Consecutive records of one topic and lane go into ``PACKED`` rows of about ``limit`` bytes, keeping
    their order (one key always falls in one lane); a record alone in its group stays a row of its own.
    A packed row carries its first record's event id. Rows are returned in the order they were closed,
    so a lane's rows get rising ids when inserted in this order.
    """
    out: list[tuple] = []
    open_groups: dict[tuple[str, int], tuple[list[tuple], list[int]]] = {}

    def close(group: tuple[str, int]) -> None:
        members, _ = open_groups.pop(group)
        if len(members) == 1:
            out.append(members[0])
        else:
            first = members[0]
            out.append((first[0], PACKED, first[2], first[3], None, pack((m[4], m[5]) for m in members)))

    for row in rows:
        group = (row[2], row[3])
        entry = open_groups.get(group)
        if entry is None:
            entry = open_groups[group] = ([], [0])
        entry[0].append(row)
        entry[1][0] += len(row[5]) + (len(row[4]) if row[4] else 0) + 8
        if entry[1][0] >= limit:
            close(group)
    for group in list(open_groups):
        close(group)
    return out


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
        chunk_bytes: int = 1024 * 1024,
    ) -> None:
        self._engine = engine
        self._schema = schema
        self.table = outbox_table(MetaData(schema=schema))
        self._producer = producer
        self._service = service
        self._batch_size = max(1, batch_size)
        self._chunk_size = max(1, min(chunk_size, self._batch_size))
        self._chunk_bytes = max(1, chunk_bytes)
        self._idle_poll_s = idle_poll_s
        self._stopping = asyncio.Event()
        outbox = f'{_quote(schema)}.outbox'
        # The claim locks the oldest rows of our lanes, the window keeps the longest prefix of them that starts
        # within ``chunk_bytes`` (a packed row holds hundreds of records), and one statement deletes and returns
        # that prefix. ``id = ANY(ARRAY(...))``, not ``id IN (...)``: the array is computed once and the delete
        # probes the primary key. RETURNING promises no order: the last step sorts.
        self._take_sql = (
            f"WITH claimed AS (SELECT id, octet_length(value) AS size FROM {outbox}"
            f" WHERE lane = ANY($1::smallint[]) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),"
            f" kept AS (SELECT id FROM (SELECT id, size, sum(size) OVER (ORDER BY id) AS upto FROM claimed) AS c"
            f" WHERE upto - size < $3),"
            f" taken AS (DELETE FROM {outbox} WHERE id = ANY(ARRAY(SELECT id FROM kept))"
            f" RETURNING id, topic, key, value, event_type = '{PACKED}' AS packed)"
            f" SELECT topic, key, value, packed FROM taken ORDER BY id")

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
                records, size = self._records(rows)
                if records:
                    sending.append(await self._producer.enqueue_many(records))
                    sent += len(records)
                if len(rows) < limit and size < self._chunk_bytes:
                    break  # nothing was left out of this chunk: the lanes are drained
            await wait_all(sending)
        except BaseException:
            for waiting in sending:
                waiting.cancel()  # the transaction rolls back; these rows will be sent again
            raise
        return sent

    async def _take(self, driver, lanes: list[int], limit: int) -> list:
        """Delete and return ``(topic, key, value, packed)`` of the oldest rows of our lanes, in id order
        (commit order within a key): at most ``limit`` rows, and no more than start within ``chunk_bytes``."""
        return await driver.fetch(self._take_sql, lanes, limit, self._chunk_bytes)

    @staticmethod
    def _records(rows: list) -> tuple[list, int]:
        """The records to send for the taken rows, packed rows opened in place; and the rows' value bytes."""
        size = 0
        if not any(row[3] for row in rows):
            for row in rows:
                size += len(row[2])
            return rows, size  # asyncpg records unpack as (topic, key, value, packed=False): no headers
        records: list = []
        for topic, key, value, packed in rows:
            size += len(value)
            if packed:
                records += unpack(topic, value)
            else:
                records.append((topic, key, value))
        return records, size

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
