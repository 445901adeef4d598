"""Tenants and their API keys."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.ids import new_id
from rapport_shared.time import Clock

from rapport_ingest.adapters import tenancy as sql
from rapport_ingest.domain import keys
from rapport_ingest.domain.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Caller:
    tenant_id: UUID
    key_id: UUID
    scope: str

    def require(self, scope: keys.Scope) -> None:
        if not keys.allows(self.scope, scope):
            raise Forbidden(f"this API key has scope {self.scope!r}; {scope!r} is needed")


async def create_tenant(session: AsyncSession, name: str) -> tuple[UUID, str]:
    tenant_id = new_id()
    await sql.add_tenant(session, tenant_id, name)
    _, plaintext = await create_key(session, tenant_id, "initial admin key", "admin")
    return tenant_id, plaintext


async def create_key(session: AsyncSession, tenant_id: UUID, name: str, scope: keys.Scope) -> tuple[UUID, str]:
    issued = keys.issue()
    key_id = new_id()
    await sql.add_key(session, {"id": key_id, "tenant_id": tenant_id, "name": name, "scope": scope,
                                "prefix": issued.prefix, "secret_hash": issued.secret_hash})
    return key_id, issued.plaintext


@dataclass(frozen=True)
class _StoredKey:
    tenant_id: UUID
    key_id: UUID
    scope: str
    secret_hash: str
    revoked: bool


class KeyCache:
    """API-key rows by prefix for ``ttl_s`` seconds: every request needs its key, and reading it
    from Postgres each time cost a pooled connection and a round trip before any work began.

    The secret is still checked on every request. A revocation is seen at once by the process
    that made it and within ``ttl_s`` by the others.
    """

    def __init__(self, ttl_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s, self._monotonic = ttl_s, monotonic
        self._rows: dict[str, tuple[float, _StoredKey | None]] = {}

    def get(self, prefix: str) -> tuple[bool, _StoredKey | None]:
        hit = self._rows.get(prefix)
        if hit is None or hit[0] < self._monotonic():
            return False, None
        return True, hit[1]

    def put(self, prefix: str, stored: _StoredKey | None) -> None:
        if len(self._rows) > 10_000:  # bounded: stale entries of keys no longer used go first
            self._rows.clear()
        self._rows[prefix] = (self._monotonic() + self._ttl_s, stored)

    def forget(self, key_id: UUID) -> None:
        self._rows = {p: hit for p, hit in self._rows.items() if hit[1] is None or hit[1].key_id != key_id}


async def authenticate(sessions: Callable[[], AsyncSession], plaintext: str, cache: KeyCache) -> Caller | None:
    parts = keys.split(plaintext)
    if parts is None:
        return None
    cached, stored = cache.get(parts[0])
    if not cached:
        async with sessions() as session:
            row = await sql.key_by_prefix(session, parts[0])
        stored = row and _StoredKey(row.tenant_id, row.id, row.scope, row.secret_hash, row.revoked_at is not None)
        cache.put(parts[0], stored)
    if stored is None or stored.revoked or not keys.matches(parts[1], stored.secret_hash):
        return None
    return Caller(stored.tenant_id, stored.key_id, stored.scope)


async def revoke_key(session: AsyncSession, caller: Caller, key_id: UUID, clock: Clock) -> None:
    if not await sql.revoke_key(session, caller.tenant_id, key_id, clock.now()):
        raise NotFound(f"no active key {key_id}", field="key_id")
