"""Tenants and their API keys."""
from __future__ import annotations

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


async def authenticate(session: AsyncSession, plaintext: str) -> Caller | None:
    parts = keys.split(plaintext)
    if parts is None:
        return None
    row = await sql.key_by_prefix(session, parts[0])
    if row is None or row.revoked_at is not None or not keys.matches(parts[1], row.secret_hash):
        return None
    return Caller(row.tenant_id, row.id, row.scope)


async def revoke_key(session: AsyncSession, caller: Caller, key_id: UUID, clock: Clock) -> None:
    if not await sql.revoke_key(session, caller.tenant_id, key_id, clock.now()):
        raise NotFound(f"no active key {key_id}", field="key_id")
