"""Sliding-window rate limits for sign-in, on an injected clock."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from rapport_shared.time import Clock

from rapport_portal.domain.errors import RateLimited


class SlidingWindow:
    def __init__(self, clock: Clock, limit: int, window: timedelta) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._hits: dict[str, deque[datetime]] = {}

    def hit(self, key: str) -> None:
        """Count one attempt for ``key``; raise :class:`RateLimited` past the limit."""
        now = self._clock.now()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= self._limit:
            retry = int((hits[0] + self._window - now).total_seconds()) + 1
            raise RateLimited("too many sign-in attempts; try again later", retry)
        hits.append(now)
        if len(self._hits) > 100_000:  # bound memory under a spray of keys
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self._window}
