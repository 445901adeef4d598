"""Process plumbing: wait for dependencies with clear log lines, run until SIGTERM."""
from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_shared.observability import get_logger

log = get_logger(__name__)


async def check_postgres(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def check_kafka(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
    finally:
        await admin.close()


async def wait_for(name: str, where: str, check: Callable[[], Awaitable[None]], timeout_s: float) -> None:
    """Retry ``check`` with backoff until it passes; log why each time it does not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    delay = 0.5
    while True:
        try:
            await check()
            log.info(f"{name} reachable", where=where)
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if loop.time() > deadline:
                raise RuntimeError(f"{name} at {where} still unreachable after {timeout_s:.0f}s: {exc!r}") from exc
            log.warning(f"waiting for {name}", where=where, reason=f"{type(exc).__name__}: {exc}"[:300])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def install_stop_signals(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
