"""One database transaction for a batch of consumed records, one savepoint per record.

A record that can never succeed (undecodable, unknown version, ``PoisonMessage``, a payload
that fails validation, or a handler that keeps failing) rolls back only its own savepoint
and is marked for the dead-letter topic; the others commit together. A transient failure
(database or broker unreachable, deadlock) rolls the whole batch back and retries it, so
the caller never moves an offset past work that did not commit.

Savepoints are paid for only when needed: a batch first runs without them, its inbox
claims in one statement. If any record fails, that attempt is rolled back whole and the
batch runs again the careful way, each record in its own savepoint with its own claim.
A savepoint costs two round trips per record (SAVEPOINT, RELEASE), more than a typical
handler's own work, and poison records are rare.

A handler may also offer ``handle_many(session, envelopes)``: the same effect as calling
the handler for each envelope in order, in fewer statements (one multi-row insert instead
of a round trip per event). The optimistic pass hands it the batch's new events at once;
the careful pass (and a batch of one) still calls the handler record by record, so a
failing record is isolated exactly as before.

With ``hold_connection`` (what ``ConsumerRunner`` uses) the processor keeps one pooled
connection between transactions instead of checking one out per batch: no pool
checkout and pre-ping round trip per transaction, which the per-record mode paid per
record. Any transient failure discards that connection (the retry checks out a fresh,
pre-pinged one), as does a pause longer than ``IDLE_RECHECK_S``; ``close()`` gives it back.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from rapport_shared.bus import codec
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.inbox import Inbox
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.observability import bind_event_context, clear_event_context, get_logger

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
ManyHandler = Callable[[AsyncSession, list[Envelope]], Awaitable[None]]
TRANSIENT = (OperationalError, InterfaceError, OSError, ConnectionError, asyncio.TimeoutError, KafkaError)
# Deadlock and serialization failures: another transaction won; the whole batch can simply run again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
# A held connection unused for longer than this goes back to the pool (and is pre-pinged on checkout).
IDLE_RECHECK_S = 30.0


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
    return isinstance(exc, TRANSIENT)


class _RecordFailed(Exception):
    """A record failed while the batch ran without savepoints."""


class BatchAbandoned(Exception):
    """The batch was given up (stop or rebalance during an outage); nothing of it committed."""


@dataclass
class Item:
    """One record of a batch and what became of it."""

    record: ConsumerRecord
    envelope: Envelope | None = None
    outcome: str = "pending"  # handled | duplicate | dead_lettered
    reason: str = ""
    seconds: float = 0.0

    def dead(self, reason: str) -> None:
        self.outcome, self.reason = "dead_lettered", reason


def cut_batches(
    partitions: Iterable[Sequence[ConsumerRecord]], max_records: int, max_bytes: int
) -> list[list[ConsumerRecord]]:
    """Partition after partition (each keeps its order), cut at ``max_records`` or ``max_bytes``.

    A record larger than ``max_bytes`` still forms a batch of its own.
    """
    batches: list[list[ConsumerRecord]] = []
    batch: list[ConsumerRecord] = []
    size = 0
    for records in partitions:
        for record in records:
            weight = len(record.value or b"") + len(record.key or b"")
            if batch and (len(batch) >= max_records or size + weight > max_bytes):
                batches.append(batch)
                batch, size = [], 0
            batch.append(record)
            size += weight
    if batch:
        batches.append(batch)
    return batches


def decode(record: ConsumerRecord) -> Item:
    try:
        return Item(record, codec.decode(record.value))
    except PoisonMessage as exc:
        item = Item(record)
        item.dead(str(exc))
        return item


class BatchProcessor:
    """Runs ``handler`` for every decodable record of a batch inside one transaction."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], handler: Handler, inbox: Inbox, *,
        max_attempts: int = 3, retry_backoff_s: float = 0.2, should_abandon: Callable[[], bool] = lambda: False,
        optimistic: bool = True, hold_connection: bool = False,
    ) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        # Only a session factory bound to one engine can be handed a connection of that engine.
        self._engine: AsyncEngine | None = bind if hold_connection and isinstance(bind, AsyncEngine) else None
        self._held: AsyncConnection | None = None
        self._held_used = 0.0
        self._handler = handler
        self._many: ManyHandler | None = getattr(handler, "handle_many", None)
        self._inbox = inbox
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._should_abandon = should_abandon
        self._optimistic = optimistic

    async def process(self, records: Sequence[ConsumerRecord]) -> list[Item]:
        """Handle the batch; returns its items once the transaction committed."""
        items = [decode(r) for r in records]
        outages = 0
        while True:
            try:
                await self._transaction(items)
                return items
            except Exception as exc:  # noqa: BLE001 - classified below
                await self._release(discard=True)  # whatever went wrong, the next attempt starts on a fresh connection
                if not is_transient(exc):
                    raise
                _reset(items)
                # An outage is not the records' fault: wait it out, never skip them.
                if self._should_abandon():
                    raise BatchAbandoned(repr(exc)) from exc
                outages += 1
                log.warning("transient failure, retrying the batch without committing", error=repr(exc),
                            records=len(items))
                await asyncio.sleep(min(5.0, self._retry_backoff_s * 2 ** min(outages, 5)))

    async def close(self) -> None:
        """Give the held connection (if any) back to the pool."""
        await self._release(discard=False)

    async def _session(self) -> AsyncSession:
        if self._engine is None:
            return self._sessions()
        now = time.monotonic()
        if self._held is not None and (self._held.closed or self._held.invalidated
                                       or now - self._held_used > IDLE_RECHECK_S):
            await self._release(discard=False)
        if self._held is None:
            self._held = await self._engine.connect()
        self._held_used = now
        # Not in a transaction between batches: the session begins one on it and ends it.
        return self._sessions(bind=self._held)

    async def _release(self, *, discard: bool) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if discard and not held.closed and not held.invalidated:
                await held.invalidate()
            await held.close()
        except Exception as exc:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
            log.info("held connection dropped", error=repr(exc))

    async def _transaction(self, items: list[Item]) -> None:
        if self._optimistic and await self._without_savepoints(items):
            return
        async with await self._session() as session, session.begin():
            for item in items:
                if item.envelope is not None:
                    await self._one(session, item)

    async def _without_savepoints(self, items: list[Item]) -> bool:
        """The whole batch in one go; False (and nothing committed) if any record failed."""
        live = [i for i in items if i.envelope is not None]
        try:
            async with await self._session() as session, session.begin():
                claimed = await self._inbox.claim_many(session, [i.envelope for i in live])
                fresh = []
                for item in live:
                    if item.envelope.id in claimed:
                        claimed.discard(item.envelope.id)  # a second copy in the same batch is a duplicate
                        fresh.append(item)
                    else:
                        item.outcome = "duplicate"
                if self._many is not None and len(fresh) > 1:
                    await self._unguarded_many(session, fresh)
                else:
                    for item in fresh:
                        await self._unguarded(session, item)
            return True
        except _RecordFailed:
            _reset(items)
            return False

    async def _unguarded(self, session: AsyncSession, item: Item) -> None:
        envelope = item.envelope
        bind_event_context(envelope.correlation_id, envelope.id, envelope.type)
        try:
            await self._run_unguarded(session, [item], lambda: self._handler(session, envelope),
                                   "record failed in a batch without savepoints; running the batch with them")
        finally:
            clear_event_context()

    async def _unguarded_many(self, session: AsyncSession, items: list[Item]) -> None:
        await self._run_unguarded(session, items, lambda: self._many(session, [i.envelope for i in items]),
                               "batch handler failed; running the batch record by record with savepoints")

    async def _run_unguarded(self, session: AsyncSession, items: list[Item], call, failure: str) -> None:
        """``call()`` handles ``items`` without a savepoint; a failure that is not transient sends the whole
        batch to the guarded pass (``_RecordFailed``). Time is shared out over the items."""
        started = time.perf_counter()
        try:
            await call()
            if session.new or session.dirty or session.deleted:
                await session.flush()  # before the identity map is cleared below, nothing pending may be lost
            for item in items:
                item.outcome = "handled"
        except Exception as exc:  # noqa: BLE001 - classified below
            if is_transient(exc):
                raise
            log.info(failure, error=repr(exc))
            raise _RecordFailed() from exc
        finally:
            session.expunge_all()
            share = (time.perf_counter() - started) / len(items)
            for item in items:
                item.seconds = share

    async def _one(self, session: AsyncSession, item: Item) -> None:
        envelope = item.envelope
        bind_event_context(envelope.correlation_id, envelope.id, envelope.type)
        started = time.perf_counter()
        try:
            await self._attempts(session, item)
        finally:
            # A fresh identity map per record, as if each had its own session.
            session.expunge_all()
            await _reuse_savepoint_name(session)
            item.seconds = time.perf_counter() - started
            clear_event_context()

    async def _attempts(self, session: AsyncSession, item: Item) -> None:
        failures = 0
        while True:
            try:
                async with session.begin_nested():
                    if not await self._inbox.claim(session, item.envelope):
                        item.outcome = "duplicate"
                        return
                    await self._handler(session, item.envelope)
                item.outcome = "handled"
                return
            except (PoisonMessage, ValidationError) as exc:
                item.dead(f"{item.envelope.type}: {exc}")
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                if is_transient(exc):
                    raise
                failures += 1
                if failures >= self._max_attempts:
                    log.error("dead-lettering event after repeated failures", error=repr(exc))
                    item.dead(f"handler failed {failures} times: {type(exc).__name__}: {exc}")
                    return
                await asyncio.sleep(self._retry_backoff_s * failures)


async def _reuse_savepoint_name(session: AsyncSession) -> None:
    """Let the next record's savepoint reuse this one's name (it was released or rolled back).

    SQLAlchemy numbers savepoints per connection (sa_savepoint_1, _2, ...). Each new name
    is a new statement to the asyncpg driver: a prepare round trip for SAVEPOINT and RELEASE,
    and a statement cache churned until it evicts the handlers' own prepared statements.
    """
    connection = (await session.connection()).sync_connection
    if hasattr(connection, "_Connection__savepoint_seq"):
        connection._Connection__savepoint_seq = 0


def _reset(items: list[Item]) -> None:
    """The transaction rolled back: every decodable record is undone and will run again."""
    for item in items:
        if item.envelope is not None:
            item.outcome, item.reason = "pending", ""
