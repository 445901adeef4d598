"""Sign-in counters in Postgres: atomic under concurrency, and expired ones are tidied away."""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rapport_portal.adapters import portal_state
from rapport_portal.adapters.orm import rate_limits
from portal_testkit import NOW

pytestmark = pytest.mark.integration
WINDOW = timedelta(minutes=1)


async def _attempt(portal, key: str) -> tuple[int, int]:
    async with portal.unit_of_work() as session:
        return await portal_state.count_attempt(session, key, NOW, NOW - WINDOW, NOW + 2 * WINDOW)


async def test_portal_concurrent_attempts_each_get_their_own_count(portal):
    key = f"ip:test-{uuid.uuid4()}"
    counts = await asyncio.gather(*(_attempt(portal, key) for _ in range(12)))
    assert sorted(current for current, _ in counts) == list(range(1, 13))  # no lost update
    async with portal.unit_of_work() as session:
        await portal_state.count_attempt(session, key, NOW + WINDOW, NOW, NOW + 3 * WINDOW)
        assert await portal_state.count_attempt(session, key, NOW + WINDOW, NOW, NOW + 3 * WINDOW) == (2, 12)


async def test_portal_expired_counters_are_deleted_by_later_attempts(portal):
    old_key, live_key = f"ip:old-{uuid.uuid4()}", f"ip:live-{uuid.uuid4()}"
    await _attempt(portal, old_key)
    await _attempt(portal, live_key)
    async with portal.unit_of_work() as session:
        await portal_state.forget_old_attempts(session, NOW + 2 * WINDOW + timedelta(seconds=1), batch=100_000)
        left = (await session.execute(select(rate_limits.c.key, func.count()).where(
            rate_limits.c.key.in_([old_key, live_key])).group_by(rate_limits.c.key))).all()
    assert left == []  # both had expired by then
    await _attempt(portal, live_key)
    async with portal.unit_of_work() as session:
        await portal_state.forget_old_attempts(session, NOW)
        kept = (await session.execute(select(rate_limits.c.hits).where(rate_limits.c.key == live_key))).scalars().all()
    assert kept == [1]  # a live counter is never touched
