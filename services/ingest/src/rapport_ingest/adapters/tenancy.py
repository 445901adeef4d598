"""SQL of tenants and API keys (not tenant-scoped: this is where the scope comes from)."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_ingest.adapters.orm import api_keys, tenants


async def add_tenant(session: AsyncSession, tenant_id: UUID, name: str) -> None:
    await session.execute(insert(tenants).values(id=tenant_id, name=name))


async def tenant(session: AsyncSession, tenant_id: UUID) -> Row | None:
    return (await session.execute(select(tenants).where(tenants.c.id == tenant_id))).first()


async def add_key(session: AsyncSession, values: dict) -> None:
    await session.execute(insert(api_keys).values(**values))


async def key_by_prefix(session: AsyncSession, prefix: str) -> Row | None:
    return (await session.execute(select(api_keys).where(api_keys.c.prefix == prefix))).first()


async def revoke_key(session: AsyncSession, tenant_id: UUID, key_id: UUID, when) -> bool:
    result = await session.execute(update(api_keys).where(
        api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=when))
    return result.rowcount == 1
