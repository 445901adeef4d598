"""The rendered-page cache: a body is served only under the version it was built at, within a byte budget."""
from __future__ import annotations

from rapport_portal.service_layer.response_cache import ResponseCache


def test_portal_cache_serves_only_the_version_it_was_built_at():
    cache = ResponseCache()
    cache.put(("t", "c", "page-1"), 7, b'{"total":3}')
    assert cache.get(("t", "c", "page-1"), 7) == b'{"total":3}'
    assert cache.get(("t", "c", "page-1"), 8) is None  # the customer's invoices moved on
    assert cache.get(("t", "other", "page-1"), 7) is None
    assert (cache.hits, cache.misses) == (1, 2)
    cache.put(("t", "c", "page-1"), 8, b'{"total":4}')
    assert cache.get(("t", "c", "page-1"), 8) == b'{"total":4}'


def test_portal_cache_evicts_the_least_recently_used_past_its_budget():
    cache = ResponseCache(max_bytes=30, max_entry_bytes=20)
    cache.put("a", 1, b"x" * 10)
    cache.put("b", 1, b"y" * 10)
    assert cache.get("a", 1)  # a is now the most recent
    cache.put("c", 1, b"z" * 15)  # 35 bytes > 30: b goes
    assert cache.get("b", 1) is None and cache.get("a", 1) and cache.get("c", 1)
    cache.put("huge", 1, b"h" * 21)  # larger than one entry may be: never kept
    assert cache.get("huge", 1) is None
