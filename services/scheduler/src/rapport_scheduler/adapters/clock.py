"""The scheduler's clock: wall time plus an offset stored in the database, so every process agrees."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rapport_shared.time import Clock, SystemClock

from rapport_scheduler.adapters.orm import clock as clock_table


async def read_offset(session: AsyncSession | AsyncConnection) -> timedelta:
    seconds = (await session.execute(select(clock_table.c.offset_seconds).where(clock_table.c.id == 1))).scalar()
    return timedelta(seconds=seconds or 0.0)


async def advance(session: AsyncSession | AsyncConnection, delta: timedelta) -> timedelta:
    await session.execute(
        update(clock_table).where(clock_table.c.id == 1)
        .values(offset_seconds=clock_table.c.offset_seconds + delta.total_seconds())
    )
    return await read_offset(session)


async def now(session: AsyncSession | AsyncConnection, base: Clock | None = None) -> datetime:
    """The scheduler's "now" as of this transaction: time travel included."""
    return (base or SystemClock()).now() + await read_offset(session)
