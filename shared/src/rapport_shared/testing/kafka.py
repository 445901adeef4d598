"""Read and write real Kafka topics from tests."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from rapport_shared.bus import codec
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.contracts.envelope import Envelope


class TopicWatcher:
    """Reads topics from the beginning and keeps every envelope, for assertions."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=f"watch-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest", enable_auto_commit=False,
        )
        self.events: list[Envelope] = []
        self.raw: list = []
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "TopicWatcher":
        await self._consumer.start()
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._consumer.stop()

    async def _pump(self) -> None:
        async for record in self._consumer:
            self.raw.append(record)
            try:
                self.events.append(codec.decode(record.value))
            except PoisonMessage:
                pass

    async def wait_for(
        self, predicate: Callable[[Envelope], bool], *, count: int = 1, timeout: float = 30.0
    ) -> list[Envelope]:
        """Wait until ``count`` envelopes match; fail with what was seen otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matched = [e for e in self.events if predicate(e)]
            if len(matched) >= count:
                return matched
            if loop.time() > deadline:
                seen = sorted({e.type for e in self.events})
                raise AssertionError(f"expected {count} matching events within {timeout}s, got {len(matched)}; seen types {seen}")
            await asyncio.sleep(0.05)

    async def wait_for_raw(self, predicate: Callable, *, timeout: float = 30.0) -> list:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = [r for r in self.raw if predicate(r)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching record within {timeout}s ({len(self.raw)} seen)")
