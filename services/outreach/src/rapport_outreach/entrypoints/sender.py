"""The sender worker: one active sender per deployment, guarded by a Postgres advisory lock."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from rapport_shared.bus.workers import wait_for_infra
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.observability import get_logger
from rapport_shared.runtime import install_stop_signals

from rapport_outreach import bootstrap
from rapport_outreach.config import Settings

log = get_logger(__name__)
LOCK_KEY = "rapport.outreach.sender"


async def run_sender(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=4)
    await wait_for_infra(settings, engine)
    stopping = asyncio.Event()
    install_stop_signals(stopping.set)
    deps = bootstrap.build_deps(settings)
    bootstrap.warm_up(deps)
    sender = bootstrap.build_sender(settings, make_session_factory(engine), deps)
    # Recovery marks every "sending" row uncertain, so it is only safe while no other sender runs:
    # the lock lives on this connection and dies with the process, even on kill -9.
    async with engine.connect() as lock:
        while not (await lock.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": LOCK_KEY})).scalar():
            log.info("another sender holds the lock; standing by")
            if await _pause(stopping, 5.0):
                return
        await lock.commit()
        await sender.recover()
        log.info("sender started")
        while not stopping.is_set():
            try:
                sent = await sender.run_once()
            except Exception as exc:  # noqa: BLE001 - outages of Postgres must not kill the worker
                log.warning("sender batch failed; will retry", error=repr(exc))
                sent = 0
                await _pause(stopping, 1.0)
            if sent < settings.sender_batch_size:
                await _pause(stopping, settings.sender_idle_poll_s)
    await deps.registry.aclose()
    await engine.dispose()
    log.info("sender stopped")


async def _pause(stopping: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
        return True
    except asyncio.TimeoutError:
        return False
