"""Poll until a condition holds, failing with the last thing seen (no fixed sleeps in tests)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float = 60.0,
    interval: float = 0.25, what: str = "condition",
) -> T:
    """Call ``probe`` until ``accept(result)``; on timeout fail showing the last result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while True:
        try:
            last = await probe()
            if accept(last):
                return last
        except Exception as exc:  # noqa: BLE001 - a failing probe is just "not yet"
            last = exc
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s; last seen: {last!r}"[:3000])
        await asyncio.sleep(interval)
