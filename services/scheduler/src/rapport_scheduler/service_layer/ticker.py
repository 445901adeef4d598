"""The ticker: claim due timers (``SKIP LOCKED``, so replicas share the work) and run the engine on them."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from rapport_shared.observability import get_logger
from rapport_shared.time import Clock, SystemClock

from rapport_scheduler.adapters import batch_load
from rapport_scheduler.adapters.readmodel import DUE_CHANNEL
from rapport_scheduler.service_layer.planning import Planner

log = get_logger(__name__)
RELISTEN_S = 5.0


class Ticker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], planner: Planner, *,
                 base_clock: Clock | None = None, batch_size: int = 500, concurrency: int = 1) -> None:
        self._sessions = sessions
        self._planner = planner
        self._base_clock = base_clock or SystemClock()
        self._batch_size = batch_size
        self._concurrency = max(1, concurrency)
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self._listener: AsyncConnection | None = None
        self._listen_tried = float("-inf")  # monotonic time of the last LISTEN attempt
        self.touchpoints = 0
        self.wakeups = 0

    async def tick_once(self) -> int:
        """One batch in one transaction: claims, decisions, state, outbox and next wake-ups commit together.

        The first statement reads the clock, claims the due timers and loads their portfolios at once.
        """
        async with self._sessions() as session, session.begin():
            wall = self._base_clock.now()
            batch = await batch_load.claim_and_load(session, wall, self._batch_size)
            if batch.keys:
                now = wall + timedelta(seconds=batch.clock_offset)
                writes = await self._planner.plan_batch(session, batch, now)
                self.touchpoints += writes.touchpoints
        return len(batch.keys)

    async def drain(self) -> int:
        """Tick until nothing is due (used after time travel and by tests).

        With ``concurrency`` above 1, that many batches are in flight at once, each in its own transaction
        on its own connection (``SKIP LOCKED`` keeps their claims apart, as between replicas): one batch's
        decisions are computed while the database writes another's.
        """
        if self._concurrency == 1:
            return await self._drain_one()
        return sum(await asyncio.gather(*(self._drain_one() for _ in range(self._concurrency))))

    async def _drain_one(self) -> int:
        total = 0
        while (claimed := await self.tick_once()) > 0:
            total += claimed
        return total

    async def listen(self, engine: AsyncEngine) -> bool:
        """Wake as soon as a consumer commits a customer made due (``NOTIFY``), not at the next poll.

        Polling every ``interval_s`` stays as the fallback (time-driven wake-ups, a lost connection).
        """
        await self._close_listener()
        try:
            self._listener = await engine.connect()
            driver = (await self._listener.get_raw_connection()).driver_connection
            await driver.add_listener(DUE_CHANNEL, self._notified)
            return True
        except Exception as exc:  # noqa: BLE001 - polling still works without it
            log.warning("ticker cannot LISTEN; polling only", error=repr(exc))
            await self._close_listener()
            return False

    def _notified(self, *_args) -> None:
        self.wakeups += 1
        self._woken.set()

    async def _close_listener(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            try:  # closed for good rather than pooled: its LISTEN goes with it
                await listener.invalidate()
                await listener.close()
            except Exception:  # noqa: BLE001 - already gone
                pass

    async def _listening(self, engine: AsyncEngine | None) -> None:
        if engine is None:
            return
        if self._listener is not None:
            driver = (await self._listener.get_raw_connection()).driver_connection
            if not driver.is_closed():
                return
        if time.monotonic() - self._listen_tried < RELISTEN_S:
            return  # keep polling for a while before trying again (no warning per tick during an outage)
        self._listen_tried = time.monotonic()
        await self.listen(engine)  # first time, or the connection was lost: listen again

    async def run(self, interval_s: float, engine: AsyncEngine | None = None) -> None:
        """Drain what is due, then sleep until notified (with ``engine``), stopped, or ``interval_s`` passed."""
        try:
            while not self._stopping.is_set():
                try:
                    await self._listening(engine)
                    self._woken.clear()  # a notification that arrives while draining wakes the next round
                    await self.drain()
                except Exception as exc:  # noqa: BLE001 - a failed batch rolls back and is retried next tick
                    log.warning("ticker batch failed; will retry", error=repr(exc))
                await self._sleep(interval_s)
        finally:
            await self._close_listener()

    async def _sleep(self, interval_s: float) -> None:
        stop, woken = asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(self._woken.wait())
        try:
            await asyncio.wait((stop, woken), timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            woken.cancel()

    def stop(self) -> None:
        self._stopping.set()
