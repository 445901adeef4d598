"""SQL for the outreach API's keys (the secret's hash only; the plaintext is never stored)."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_outreach.adapters.orm import api_keys


async def add(session: AsyncSession, key_id: UUID, tenant_id: UUID, name: str, scope: str, prefix: str,
              secret_hash: str, now: datetime) -> None:
    await session.execute(insert(api_keys).values(id=key_id, tenant_id=tenant_id, name=name, scope=scope,
                                                  prefix=prefix, secret_hash=secret_hash, created_at=now))


async def by_prefix(session: AsyncSession, prefix: str):  # noqa: ANN201 - a Row or None
    return (await session.execute(select(api_keys).where(api_keys.c.prefix == prefix))).first()


async def of_tenant(session: AsyncSession, tenant_id: UUID) -> list:
    statement = select(api_keys).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.created_at)
    return list((await session.execute(statement)).all())


async def revoke(session: AsyncSession, key_id: UUID, now: datetime) -> bool:
    statement = (update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                 .values(revoked_at=now).returning(api_keys.c.id))
    return (await session.execute(statement)).first() is not None
