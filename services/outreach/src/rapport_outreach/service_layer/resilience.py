"""Per-provider protections: a token bucket for the rate limit and a circuit breaker for outages."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """At most ``rate`` sends per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def try_take(self) -> float:
        """Take a token; 0 when granted, else the seconds to wait before one is available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1 - 1e-9:  # float dust must not cost a whole wait
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        return (1 - self._tokens) / self.rate

    async def take(self) -> None:
        async with self._lock:
            while (wait := self.try_take()) > 0:
                await asyncio.sleep(wait)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``reset_s`` lets one trial through."""

    def __init__(self, threshold: int, reset_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.reset_s else "open"

    def allows(self) -> bool:
        return self.state != "open"

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold or self.state == "half_open":
            self._opened_at = self._clock()
