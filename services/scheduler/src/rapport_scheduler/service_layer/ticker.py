"""The ticker: claim due timers (``SKIP LOCKED``, so replicas share the work) and run the engine on them."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.observability import get_logger
from rapport_shared.time import Clock, SystemClock

from rapport_scheduler.adapters import batch_load
from rapport_scheduler.service_layer.planning import Planner

log = get_logger(__name__)


class Ticker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], planner: Planner, *,
                 base_clock: Clock | None = None, batch_size: int = 500) -> None:
        self._sessions = sessions
        self._planner = planner
        self._base_clock = base_clock or SystemClock()
        self._batch_size = batch_size
        self._stopping = asyncio.Event()
        self.touchpoints = 0

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
        """Tick until nothing is due (used after time travel and by tests)."""
        total = 0
        while (claimed := await self.tick_once()) > 0:
            total += claimed
        return total

    async def run(self, interval_s: float) -> None:
        while not self._stopping.is_set():
            try:
                await self.drain()
            except Exception as exc:  # noqa: BLE001 - a failed batch rolls back and is retried next tick
                log.warning("ticker batch failed; will retry", error=repr(exc))
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=interval_s)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping.set()
