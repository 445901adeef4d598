"""Sign-in rate limits: a sliding-window estimate over two fixed-window counters.

The counters live in Postgres so every worker shares them; this module only decides. The
estimate weighs the previous window by how much of it still overlaps the sliding window, so
a burst straddling a window boundary cannot get twice the budget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from rapport_portal.domain.errors import RateLimited

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RateLimit:
    name: str  # part of the counter key: "ip" or "email"
    limit: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        """Start of the fixed window containing ``now`` (aligned on the epoch, the same in every worker)."""
        elapsed = (now - EPOCH) // self.window
        return EPOCH + elapsed * self.window

    def check(self, now: datetime, current_hits: int, previous_hits: int) -> None:
        """Raise :class:`RateLimited` when this attempt (already counted in ``current_hits``) is one too many."""
        overlap = 1 - (now - self.window_start(now)) / self.window
        if previous_hits * overlap + current_hits <= self.limit:
            return
        raise RateLimited("too many sign-in attempts; try again later", self.retry_after(now, current_hits, previous_hits))

    def retry_after(self, now: datetime, current_hits: int, previous_hits: int) -> int:
        """Whole seconds until one more attempt would fit (if nothing else is tried meanwhile)."""
        start = self.window_start(now)
        if current_hits + 1 <= self.limit and previous_hits:
            # Room in this window once the previous window's weight has faded enough.
            free_at = start + self.window * (1 - (self.limit - current_hits - 1) / previous_hits)
        else:
            # In the next window this one becomes the previous, and must fade the same way.
            free_at = start + self.window * (2 - max(0, self.limit - 1) / max(current_hits, 1))
        return max(1, math.ceil(min((free_at - now).total_seconds(), 2 * self.window.total_seconds())))
