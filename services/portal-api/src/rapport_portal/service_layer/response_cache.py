"""Rendered responses kept per (customer, query, day) under the read-model version they were built at.

The version comes with the session lookup every request makes anyway, so a hit costs no extra
round trip, and a stale body is never served: any change to the customer's invoices moves the
version in the same transaction (trigger of migration 0003). The day is in the key because
"days overdue" and the overdue filter depend on it.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class ResponseCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_entry_bytes: int = 512 * 1024) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._max_entry = max_entry_bytes
        self.hits = self.misses = 0

    def get(self, key: Hashable, version: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: Hashable, version: int, body: bytes) -> None:
        if len(body) > self._max_entry:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._entries[key] = (version, body)
        self._bytes += len(body)
        while self._bytes > self._max_bytes:  # least recently used first
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted)
