"""API keys are looked up once per TTL; the secret is checked on every request; revocation is not cached away."""
from __future__ import annotations

from contextlib import asynccontextmanager
from types import SimpleNamespace
from uuid import uuid4

from rapport_ingest.domain import keys
from rapport_ingest.service_layer import tenancy
from rapport_ingest.service_layer.tenancy import KeyCache, authenticate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fake_store(monkeypatch, rows: dict) -> list[str]:
    lookups: list[str] = []

    async def key_by_prefix(session, prefix):
        lookups.append(prefix)
        return rows.get(prefix)

    monkeypatch.setattr(tenancy.sql, "key_by_prefix", key_by_prefix)
    return lookups


@asynccontextmanager
async def _session():
    yield None


async def test_a_key_is_read_once_per_ttl_and_its_secret_checked_every_time(monkeypatch):
    issued, tenant_id, key_id = keys.issue(), uuid4(), uuid4()
    row = SimpleNamespace(tenant_id=tenant_id, id=key_id, scope="write", secret_hash=issued.secret_hash, revoked_at=None)
    lookups = _fake_store(monkeypatch, {issued.prefix: row})
    clock = Clock()
    cache = KeyCache(ttl_s=5, monotonic=clock)
    first = await authenticate(_session, issued.plaintext, cache)
    assert (first.tenant_id, first.key_id, first.scope) == (tenant_id, key_id, "write")
    assert await authenticate(_session, issued.plaintext + "x", cache) is None  # wrong secret, same prefix
    clock.now = 4.9
    assert await authenticate(_session, issued.plaintext, cache) == first
    assert lookups == [issued.prefix]
    clock.now = 5.1
    row.revoked_at = "2026-01-01"
    assert await authenticate(_session, issued.plaintext, cache) is None
    assert lookups == [issued.prefix, issued.prefix]


async def test_forgetting_a_revoked_key_takes_effect_at_once(monkeypatch):
    issued, key_id = keys.issue(), uuid4()
    row = SimpleNamespace(tenant_id=uuid4(), id=key_id, scope="admin", secret_hash=issued.secret_hash, revoked_at=None)
    lookups = _fake_store(monkeypatch, {issued.prefix: row})
    cache = KeyCache(ttl_s=60, monotonic=Clock())
    assert await authenticate(_session, issued.plaintext, cache) is not None
    row.revoked_at = "now"
    cache.forget(key_id)
    assert await authenticate(_session, issued.plaintext, cache) is None
    assert len(lookups) == 2
